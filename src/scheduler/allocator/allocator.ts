import type { Agent } from '../agents/agent.js';
import type { OfferFilters } from '../filters/offer-filters.js';
import { NO_PORTS, type PortSet } from '../resources/ports.js';
import {
  addInto,
  isAllocatable,
  minOf,
  NO_SCALARS,
  plus,
  subtractInto,
  zeroScalars,
  type Scalars,
} from '../resources/scalars.js';
import { DrfSorter, type RoleQuota, type SorterNode } from '../sorter/drf-sorter.js';
import { addDeficitInto, limitHeadroomInto } from './quota.js';

/** What the allocator needs of a framework. */
export interface AllocatorFramework {
  readonly filters: OfferFilters;
}

/**
 * Told of each allocation decision: these resources of `agent` now belong to
 * `client`. Plain arguments, not an object: a pass makes one call per agent.
 */
export type AllocationSink<F> = (
  client: SorterNode<F>,
  agent: Agent,
  unreserved: Scalars,
  reserved: Scalars,
  ports: PortSet,
) => void;

const UNLIMITED: Readonly<Scalars> = Object.freeze({
  milliCpus: Infinity,
  memoryMiB: Infinity,
  gpus: Infinity,
  diskGiB: Infinity,
});

/**
 * The allocator: decides which framework gets each agent's free resources.
 *
 * - Frameworks are ordered by hierarchical weighted DRF (see {@link DrfSorter}).
 * - An agent's free resources go to one framework per offer (per role pool: a
 *   reservation for another role can go to that role's framework in the same pass).
 * - Reserved resources go only to frameworks in exactly the reserving role.
 * - Quota: a role's `limit` caps what it can hold (reservations count); roles below
 *   their `guarantee` are served first on every agent, and other roles get unreserved
 *   resources only while what stays free still covers every unmet guarantee
 *   (Mesos's "headroom").
 * - Offer filters (declines with `refuseSeconds`) are honoured.
 *
 * A pass looks only at agents with something free (kept in a set as resources come
 * and go), so a full cluster costs nothing to re-examine; with F frameworks a pass
 * costs about O(free agents × log F).
 */
export class Allocator<F extends AllocatorFramework> {
  readonly sorter = new DrfSorter<F>();
  #agents = new Set<Agent>();
  /**
   * Agents that may have something to offer: a superset of those whose `offerable`
   * flag is set (each listed once, `listed` marks it). Flags flip on every hold and
   * release; the list is only appended to, and compacted at each pass.
   */
  #candidates: Agent[] = [];
  #offerableCount = 0;
  #total: Scalars = zeroScalars();
  /** Free unreserved resources on active agents: what guarantees can still draw on. */
  #freeUnreserved: Scalars = zeroScalars();
  #min: Scalars;
  #quotaRoles = new Set<SorterNode<F>>();
  // Per-pass quota state.
  #deficits: SorterNode<F>[] = [];
  #onDeficitPath = new Set<SorterNode<F>>();
  #required: Scalars = zeroScalars();
  #scratch: Scalars = zeroScalars();
  // What the last successful #pick chose besides the client (no object per decision).
  #pickedUnreserved: Scalars = NO_SCALARS;
  #pickedReserved: Scalars = NO_SCALARS;
  #pickedPorts: PortSet = NO_PORTS;

  constructor(options: { minAllocatable: Scalars }) {
    this.#min = options.minAllocatable;
  }

  get total(): Readonly<Scalars> {
    return this.#total;
  }

  /** Agents with something to offer right now. */
  get availableAgents(): number {
    return this.#offerableCount;
  }

  addAgent(agent: Agent): void {
    this.#agents.add(agent);
    agent.registered = true;
    addInto(this.#total, agent.total);
    this.sorter.setTotal(this.#total);
    for (const [role, pool] of agent.reservations) {
      this.sorter.addReserved(role, pool.total, 1);
      this.sorter.addReservedAlloc(role, pool.allocated, 1);
    }
    if (agent.active) addInto(this.#freeUnreserved, agent.freeUnreservedInto(this.#scratch));
    this.#refresh(agent);
  }

  /** Forgets an agent; release what its offers and tasks held first. */
  removeAgent(agent: Agent): void {
    if (!this.#agents.delete(agent)) return;
    agent.registered = false;
    this.#setOfferable(agent, false);
    subtractInto(this.#total, agent.total);
    this.sorter.setTotal(this.#total);
    for (const [role, pool] of agent.reservations) {
      this.sorter.addReserved(role, pool.total, -1);
      this.sorter.addReservedAlloc(role, pool.allocated, -1);
    }
    if (agent.active) subtractInto(this.#freeUnreserved, agent.freeUnreservedInto(this.#scratch));
  }

  /**
   * Runs `change` (which may alter the agent's status or totals) with the allocator's
   * cluster-wide sums kept right.
   */
  updateAgent(agent: Agent, change: () => void): void {
    const wasActive = agent.active;
    if (wasActive) subtractInto(this.#freeUnreserved, agent.freeUnreservedInto(this.#scratch));
    subtractInto(this.#total, agent.total);
    for (const [role, pool] of agent.reservations) {
      this.sorter.addReserved(role, pool.total, -1);
      this.sorter.addReservedAlloc(role, pool.allocated, -1);
    }
    try {
      change();
    } finally {
      addInto(this.#total, agent.total);
      this.sorter.setTotal(this.#total);
      for (const [role, pool] of agent.reservations) {
        this.sorter.addReserved(role, pool.total, 1);
        this.sorter.addReservedAlloc(role, pool.allocated, 1);
      }
      if (agent.active) addInto(this.#freeUnreserved, agent.freeUnreservedInto(this.#scratch));
      this.#refresh(agent);
    }
  }

  setRole(path: string, weight: number, quota: RoleQuota | undefined): void {
    const node = this.sorter.role(path);
    this.sorter.setWeight(path, weight);
    node.quota = quota;
    if (quota === undefined || (!quota.hasGuarantee && !quota.hasLimit))
      this.#quotaRoles.delete(node);
    else this.#quotaRoles.add(node);
  }

  /** Marks resources as held (by an offer) and charges them to `client`. */
  hold(
    client: SorterNode<F>,
    agent: Agent,
    unreserved: Scalars,
    reserved: Scalars,
    ports: PortSet,
  ): void {
    agent.hold(client.name, unreserved, reserved, ports);
    const hasReserved =
      reserved !== NO_SCALARS &&
      (reserved.milliCpus || reserved.memoryMiB || reserved.gpus || reserved.diskGiB);
    this.sorter.allocate(client, hasReserved ? plus(unreserved, reserved) : unreserved);
    if (hasReserved) this.sorter.addReservedAlloc(client.name, reserved, 1);
    if (agent.active) subtractInto(this.#freeUnreserved, unreserved);
    this.#refresh(agent);
  }

  /** Returns resources an offer or task held; they are free at once. */
  release(
    client: SorterNode<F>,
    agent: Agent,
    unreserved: Scalars,
    reserved: Scalars,
    ports: PortSet,
  ): void {
    if (!agent.registered) {
      // The agent already left: only the framework's share needs correcting.
      this.sorter.unallocate(client, plus(unreserved, reserved));
      return;
    }
    agent.release(client.name, unreserved, reserved, ports);
    const hasReserved =
      reserved !== NO_SCALARS &&
      (reserved.milliCpus || reserved.memoryMiB || reserved.gpus || reserved.diskGiB);
    this.sorter.unallocate(client, hasReserved ? plus(unreserved, reserved) : unreserved);
    if (hasReserved) this.sorter.addReservedAlloc(client.name, reserved, -1);
    if (agent.active) addInto(this.#freeUnreserved, unreserved);
    this.#refresh(agent);
  }

  /** A `reserve` operation on resources `client` holds on `agent`. */
  reserve(client: SorterNode<F>, agent: Agent, amount: Scalars): void {
    agent.reserve(client.name, amount);
    this.sorter.addReserved(client.name, amount, 1);
    this.sorter.addReservedAlloc(client.name, amount, 1);
  }

  /** An `unreserve` operation on resources `client` holds on `agent`. */
  unreserve(client: SorterNode<F>, agent: Agent, amount: Scalars): void {
    agent.unreserve(client.name, amount);
    this.sorter.addReserved(client.name, amount, -1);
    this.sorter.addReservedAlloc(client.name, amount, -1);
  }

  /**
   * One allocation pass at time `now`: every agent with free resources is offered,
   * in DRF order, to the first framework that may take it. Each decision is already
   * booked (held) when `emit` sees it. Returns the number of decisions.
   */
  allocate(now: number, emit: AllocationSink<F>): number {
    this.sorter.ensureSorted();
    const quotas = this.#prepareQuota();
    let made = 0;
    const list = this.#candidates;
    this.#candidates = [];
    for (const agent of list) agent.listed = false;
    try {
      for (const agent of list) {
        if (!agent.offerable) continue;
        for (let round = 0; round <= agent.reservations.size; round++) {
          let client: SorterNode<F> | undefined;
          if (quotas) client = this.#pick(agent, now, 'guarantee');
          client ??= this.#pick(agent, now, 'general');
          if (client === undefined) break;
          const unreserved = this.#pickedUnreserved;
          const reserved = this.#pickedReserved;
          const ports = this.#pickedPorts;
          this.hold(client, agent, unreserved, reserved, ports);
          if (quotas) this.#updateDeficits();
          emit(client, agent, unreserved, reserved, ports);
          made++;
          if (!agent.offerable) break;
        }
      }
    } finally {
      // Whatever is still offerable (filtered, capped, nobody wanted it, or not reached
      // because emit threw) stays a candidate for the next pass.
      for (const agent of list)
        if (agent.offerable && !agent.listed) {
          agent.listed = true;
          this.#candidates.push(agent);
        }
    }
    return made;
  }

  /** True when the agent has anything allocatable (free unreserved or reserved). */
  #refresh(agent: Agent): void {
    if (!agent.active || !agent.registered) {
      this.#setOfferable(agent, false);
      return;
    }
    let has = isAllocatable(agent.freeUnreservedInto(this.#scratch), this.#min);
    if (!has)
      for (const pool of agent.reservations.values()) {
        const t = pool.total;
        const a = pool.allocated;
        this.#scratch.milliCpus = t.milliCpus - a.milliCpus;
        this.#scratch.memoryMiB = t.memoryMiB - a.memoryMiB;
        if (isAllocatable(this.#scratch, this.#min)) {
          has = true;
          break;
        }
      }
    this.#setOfferable(agent, has);
  }

  #setOfferable(agent: Agent, offerable: boolean): void {
    if (agent.offerable === offerable) return;
    agent.offerable = offerable;
    this.#offerableCount += offerable ? 1 : -1;
    if (offerable && !agent.listed) {
      agent.listed = true;
      this.#candidates.push(agent);
    }
  }

  /** Finds the deficit roles for this pass; false when no quota needs attention. */
  #prepareQuota(): boolean {
    this.#deficits = [];
    this.#onDeficitPath.clear();
    if (this.#quotaRoles.size === 0) return false;
    for (const node of this.#quotaRoles) {
      if (!node.quota?.hasGuarantee) continue;
      let nested = false;
      for (let p = node.parent; p !== undefined; p = p.parent)
        if (p.quota?.hasGuarantee) nested = true;
      // NOTE: a nested guarantee lives inside its parent's, so only topmost ones count.
      if (!nested) this.#deficits.push(node);
    }
    this.#updateDeficits();
    for (const d of this.#deficits)
      for (let p: SorterNode<F> | undefined = d; p !== undefined; p = p.parent)
        this.#onDeficitPath.add(p);
    return true;
  }

  #updateDeficits(): void {
    const required = zeroScalars();
    const consumed = this.#scratch;
    for (const node of this.#deficits)
      addDeficitInto(required, node.quota!.guarantee, node.consumedInto(consumed));
    this.#required = required;
  }

  #inDeficit(node: SorterNode<F>): boolean {
    for (let p: SorterNode<F> | undefined = node; p !== undefined; p = p.parent) {
      if (p.quota?.hasGuarantee && this.#deficits.includes(p)) {
        const consumed = p.consumedInto(zeroScalars());
        return addDeficitInto(zeroScalars(), p.quota.guarantee, consumed);
      }
    }
    return false;
  }

  #free: Scalars = zeroScalars();

  /** The client to offer `agent` to (the rest of the decision in `#picked…`), if any. */
  #pick(agent: Agent, now: number, mode: 'guarantee' | 'general'): SorterNode<F> | undefined {
    const free = agent.freeUnreservedInto(this.#free);
    return this.#dfs(this.sorter.root, agent, free, UNLIMITED, now, mode, false);
  }

  #dfs(
    node: SorterNode<F>,
    agent: Agent,
    free: Scalars,
    cap: Readonly<Scalars>,
    now: number,
    mode: 'guarantee' | 'general',
    insideDeficit: boolean,
  ): SorterNode<F> | undefined {
    const children = node.children;
    for (let i = 0; i < children.length; i++) {
      const child = children[i]!;
      if (child.activeClients === 0) continue;
      if (child.kind === 'role') {
        let inside = insideDeficit;
        if (mode === 'guarantee' && !inside) {
          if (!this.#onDeficitPath.has(child)) continue;
          if (this.#deficits.includes(child)) {
            if (!this.#inDeficit(child)) continue;
            inside = true;
          }
        }
        let childCap = cap;
        const q = child.quota;
        if (q?.hasLimit)
          childCap = minOf(
            cap,
            limitHeadroomInto(zeroScalars(), q.limit, child.consumedInto(zeroScalars())),
          );
        if (!this.#worthVisiting(child, agent, free, childCap)) continue;
        const found = this.#dfs(child, agent, free, childCap, now, mode, inside);
        if (found !== undefined) return found;
        continue;
      }
      if (child.kind === 'group') {
        const found = this.#pickInGroup(child, agent, free, cap, now, mode, insideDeficit);
        if (found !== undefined) return found;
        continue;
      }
      // A client directly under a role never happens: clients live in groups.
    }
    return undefined;
  }

  /** Prunes role subtrees that could not take anything from this agent. */
  #worthVisiting(
    role: SorterNode<F>,
    agent: Agent,
    free: Scalars,
    cap: Readonly<Scalars>,
  ): boolean {
    if (isAllocatable(cap === UNLIMITED ? free : minOf(free, cap), this.#min)) return true;
    if (agent.reservations.size === 0) return false;
    const prefix = `${role.name}/`;
    for (const r of agent.reservations.keys())
      if (r === role.name || r.startsWith(prefix)) return true;
    return false;
  }

  #pickInGroup(
    group: SorterNode<F>,
    agent: Agent,
    free: Scalars,
    cap: Readonly<Scalars>,
    now: number,
    mode: 'guarantee' | 'general',
    insideDeficit: boolean,
  ): SorterNode<F> | undefined {
    const role = group.name;
    const reserved =
      agent.reservations.size === 0 ? NO_SCALARS : (agent.freeReserved(role) ?? NO_SCALARS);
    let unreserved: Scalars =
      cap === UNLIMITED
        ? {
            milliCpus: free.milliCpus,
            memoryMiB: free.memoryMiB,
            gpus: free.gpus,
            diskGiB: free.diskGiB,
          }
        : minOf(free, cap);
    if (!isAllocatable(unreserved, this.#min)) unreserved = NO_SCALARS;
    else if (mode === 'general' && !insideDeficit && !this.#headroomAllows(unreserved))
      unreserved = NO_SCALARS;
    const ports = unreserved === NO_SCALARS ? NO_PORTS : agent.freePorts;
    let sum: Scalars = unreserved;
    if (reserved !== NO_SCALARS) {
      sum = plus(unreserved, reserved);
      if (!isAllocatable(sum, this.#min)) return undefined;
    } else if (unreserved === NO_SCALARS) return undefined;
    const clients = group.children;
    for (let i = 0; i < clients.length; i++) {
      const client = clients[i]!;
      if (client.activeClients === 0) continue;
      const filters = client.payload!.filters;
      if (filters.size > 0 && filters.blocks(client.name, agent.seq, sum, ports, now)) continue;
      this.#pickedUnreserved = unreserved;
      this.#pickedReserved = reserved;
      this.#pickedPorts = ports;
      return client;
    }
    return undefined;
  }

  /** Giving `unreserved` away still leaves every unmet guarantee coverable. */
  #headroomAllows(unreserved: Readonly<Scalars>): boolean {
    const r = this.#required;
    if (r.milliCpus === 0 && r.memoryMiB === 0 && r.gpus === 0 && r.diskGiB === 0) return true;
    const f = this.#freeUnreserved;
    return (
      (r.milliCpus === 0 || f.milliCpus - unreserved.milliCpus >= r.milliCpus) &&
      (r.memoryMiB === 0 || f.memoryMiB - unreserved.memoryMiB >= r.memoryMiB) &&
      (r.gpus === 0 || f.gpus - unreserved.gpus >= r.gpus) &&
      (r.diskGiB === 0 || f.diskGiB - unreserved.diskGiB >= r.diskGiB)
    );
  }
}
