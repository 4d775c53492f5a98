import { z } from 'zod';
import {
  Conflict,
  NotFound,
  ValidationError,
  parse,
  systemClock,
  type Clock,
  type Resources,
} from '../core/index.js';
import { Agent } from './agents/agent.js';
import { agentInfoOf, agentViewOf, type AgentInfo } from './agents/agent-info.js';
import {
  AgentSpecSchema,
  AgentUpdateSchema,
  DrainOptionsSchema,
  type AgentSpecInput,
  type AgentUpdateInput,
  type DrainOptionsInput,
} from './agents/agent-schemas.js';
import { Allocator } from './allocator/allocator.js';
import { roleQuotaOf } from './allocator/quota.js';
import type { DemandItem } from './demand.js';
import type { Executor, ExecutorReport, TaskLaunch } from './executors/executor.js';
import {
  FrameworkHandle,
  type AcceptResult,
  type FrameworkOps,
} from './frameworks/framework-handle.js';
import { FrameworkRecord } from './frameworks/framework-record.js';
import {
  DemandInputSchema,
  FrameworkSpecSchema,
  type FrameworkSpec,
  type FrameworkSpecInput,
  type Operation,
  type TaskTemplate,
  type TrustedOperation,
} from './frameworks/framework-schemas.js';
import { attributeValue as attributeValueOf, type AgentView } from './jobs/constraints.js';
import {
  OfferBook,
  OfferRecord,
  offerId,
  type InverseOffer,
  type Offer,
  type RescindReason,
} from './offers/offer.js';
import {
  NO_PORTS,
  addPorts,
  containsPorts,
  lowestPorts,
  portSetOf,
  subtractPorts,
  toRanges,
  type PortSet,
} from './resources/ports.js';
import { RoleSchema } from './resources/resource-schemas.js';
import {
  copyScalars,
  fitsIn,
  minOf,
  minus,
  NO_SCALARS,
  plus,
  resourcesOf,
  scalarsOf,
  subtractInto,
  addInto,
  zeroScalars,
  toMilliCpus,
  type Scalars,
} from './resources/scalars.js';
import {
  RoleConfigSchema,
  SchedulerOptionsSchema,
  type RoleConfigInput,
  type SchedulerOptionsInput,
} from './scheduler-schemas.js';
import type { SorterNode } from './sorter/drf-sorter.js';
import { TaskRecord, type TaskInfo, type TaskOwner, type TaskStatus } from './tasks/task.js';
import { canTransition, isTerminal, type TaskReason, type TaskState } from './tasks/task-state.js';

type SchedAgent = Agent<TaskRecord<FrameworkRecord>, OfferRecord<FrameworkRecord>>;
type Task = TaskRecord<FrameworkRecord>;
type Client = SorterNode<FrameworkRecord>;

/** Removed frameworks whose ids are remembered (and refused); older ones are forgotten. */
const REMEMBERED_REMOVED = 10_000;

/** A framework as the snapshot shows it. */
export interface FrameworkInfo {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly string[];
  readonly status: 'connected' | 'disconnected' | 'removed';
  readonly suppressedRoles: readonly string[];
  /** Offered plus used, per role. */
  readonly allocated: Readonly<Record<string, Resources>>;
  /** Weighted dominant share within its role, per role. */
  readonly shares: Readonly<Record<string, number>>;
  readonly offers: number;
  /** Tasks not yet terminal. */
  readonly tasks: number;
}

/** A role as the snapshot shows it. */
export interface RoleInfo {
  readonly role: string;
  readonly weight: number;
  /** Weighted dominant share of the role's subtree. */
  readonly share: number;
  readonly allocated: Resources;
  readonly reserved: Resources;
  readonly quota: { readonly guarantee: Resources; readonly limit: Partial<Resources> } | undefined;
}

/** Everything the scheduler holds, for status pages and tests. */
export interface SchedulerSnapshot {
  readonly now: number;
  readonly agents: readonly AgentInfo[];
  readonly frameworks: readonly FrameworkInfo[];
  readonly offers: readonly Offer[];
  readonly tasks: readonly TaskInfo[];
  readonly roles: readonly RoleInfo[];
}

/** What one allocation pass did. */
export interface PassResult {
  readonly offers: number;
}

interface Pool {
  unreserved: Scalars;
  reserved: Scalars;
  ports: PortSet;
}

const DemandListSchema = z.array(DemandInputSchema);

/**
 * kumo's resource-offer scheduler, in the Mesos mould: agents contribute resources,
 * the allocator offers them to frameworks by weighted DRF, frameworks launch tasks on
 * what they accept, executors run the tasks.
 *
 * Everything runs on the injected clock; every call is synchronous and leaves the
 * state consistent, and events reach frameworks on a microtask afterwards.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * const scheduler = new Scheduler({ clock, executor: new InstantExecutor({ clock }) });
 * scheduler.addAgent({ id: 'a1', resources: { cpus: 8, memoryMiB: 32768, ports: [[31000, 32000]] } });
 * const fw = scheduler.registerFramework({
 *   name: 'hello',
 *   on: { offers: (offers) => fw.accept([offers[0]!.id], [{ type: 'launch', tasks: [{ id: 't1', resources: { cpus: 1, memoryMiB: 128 } }] }]) },
 * });
 * await clock.advance(0); // the allocation pass runs; the framework launches t1
 * ```
 */
export class Scheduler {
  readonly #clock: Clock;
  readonly #executorOption: Executor | ((agent: AgentInfo) => Executor);
  readonly #executors = new Map<SchedAgent, Executor>();
  readonly #allocator: Allocator<FrameworkRecord>;
  readonly #agents = new Map<string, SchedAgent>();
  readonly #frameworks = new Map<string, FrameworkRecord>();
  /**
   * Ids of the last {@link REMEMBERED_REMOVED} removed frameworks, oldest first: a
   * registration with one is refused (as Mesos refuses completed frameworks). Bounded,
   * so a long-lived scheduler does not grow with every framework it ever had.
   */
  readonly #removedFrameworks = new Set<string>();
  readonly #offers = new OfferBook<FrameworkRecord>();
  readonly #ops: FrameworkOps;
  readonly #taskOwner: TaskOwner<FrameworkRecord> = { onReport: (t, r) => this.#onReport(t, r) };
  readonly #intervalMs: number;
  readonly #offerTimeoutMs: number;
  readonly #ackRetryMs: number;
  readonly #onCallbackError: ((error: unknown, frameworkId: string) => void) | undefined;
  #agentSeq = 0;
  #frameworkSeq = 0;
  #offerSeq = 0;
  #updateSeq = 0;
  #inverseSeq = 0;
  #passTimer: { at: number; cancel: () => void } | undefined;
  #expiryTimer: { at: number; cancel: () => void } | undefined;
  #ackTimer: (() => void) | undefined;
  readonly #drainTimers = new Map<SchedAgent, () => void>();
  readonly #drainWaiters = new Map<
    SchedAgent,
    { resolve: () => void; reject: (e: unknown) => void }[]
  >();
  readonly #attributeCache = new Map<string, ReadonlySet<string>>();
  #closed = false;

  constructor(options: SchedulerOptionsInput) {
    const o = parse(SchedulerOptionsSchema, options, 'scheduler options');
    this.#clock = o.clock ?? systemClock;
    this.#executorOption = o.executor;
    this.#intervalMs = o.allocationIntervalMs;
    this.#offerTimeoutMs = o.offerTimeoutMs;
    this.#ackRetryMs = o.ackRetryMs;
    this.#onCallbackError = o.onCallbackError;
    this.#allocator = new Allocator<FrameworkRecord>({
      minAllocatable: minAllocatable(o.minAllocatable),
    });
    for (const [role, config] of Object.entries(o.roles)) this.#applyRole(role, config);
    this.#ops = this.#makeOps();
  }

  /** The clock everything here runs on. */
  get clock(): Clock {
    return this.#clock;
  }

  // ───────────────────────────── agents ─────────────────────────────

  /**
   * Adds an agent; its resources are offered on the next pass (one is triggered).
   * Throws `Conflict` when an agent with the same id is registered.
   */
  addAgent(spec: AgentSpecInput): AgentInfo {
    this.#open();
    const s = parse(AgentSpecSchema, spec, 'agent', 'agent');
    if (this.#agents.has(s.id)) throw new Conflict(`agent ${s.id} is already registered`);
    const agent: SchedAgent = new Agent(s, this.#agentSeq++);
    this.#agents.set(s.id, agent);
    this.#executorFor(agent);
    this.#allocator.addAgent(agent);
    this.#topologyChanged();
    this.#requestPass();
    return agentInfoOf(agent);
  }

  /**
   * Changes an agent's hostname, attributes or resources. Outstanding offers on it are
   * rescinded. Throws `Conflict` when running tasks would no longer fit.
   */
  updateAgent(id: string, update: AgentUpdateInput): AgentInfo {
    this.#open();
    const agent = this.#agent(id);
    const u = parse(AgentUpdateSchema, update, 'agent update', 'update');
    if (u.resources !== undefined) {
      const total = scalarsOf(u.resources);
      const ports = portSetOf(u.resources.ports);
      const usedUnreserved = zeroScalars();
      let usedPorts: PortSet = NO_PORTS;
      for (const t of agent.tasks) {
        addInto(usedUnreserved, t.unreserved);
        usedPorts = addPorts(usedPorts, t.ports);
      }
      const reserved = zeroScalars();
      for (const pool of agent.reservations.values()) addInto(reserved, pool.total);
      const unreservedTotal = minus(total, reserved);
      if (!fitsIn(usedUnreserved, unreservedTotal) || !fitsIn(zeroScalars(), unreservedTotal))
        throw new Conflict(
          `agent ${id}: the new resources cannot hold its reservations and running tasks`,
        );
      if (!containsPorts(ports, usedPorts))
        throw new Conflict(`agent ${id}: the new port ranges drop ports its tasks use`);
      for (const o of [...agent.offers]) this.#rescind(o, 'agent-updated');
      this.#allocator.updateAgent(agent, () => {
        agent.total = total;
        agent.unreservedTotal = unreservedTotal;
        agent.totalPorts = ports;
        agent.freePorts = subtractPorts(ports, usedPorts);
        agent.version++;
      });
    }
    if (u.hostname !== undefined) agent.hostname = u.hostname;
    if (u.attributes !== undefined) agent.attributes = u.attributes;
    this.#topologyChanged();
    this.#requestPass();
    return agentInfoOf(agent);
  }

  /**
   * Puts an agent into maintenance: no new offers from it, outstanding ones rescinded,
   * a drain notice (inverse offer) to every framework with tasks there, and tasks
   * still running at the deadline killed. Resolves once no task is left (the agent is
   * then `drained` and its machine can go); rejects with `Conflict` if the drain is
   * cancelled by {@link reactivateAgent} or the scheduler closes first.
   */
  drainAgent(id: string, options: DrainOptionsInput = {}): Promise<void> {
    this.#open();
    const agent = this.#agent(id);
    const o = parse(DrainOptionsSchema, options, 'drain options');
    const now = this.#clock.now();
    const promise = new Promise<void>((resolve, reject) => {
      const list = this.#drainWaiters.get(agent) ?? [];
      list.push({ resolve, reject });
      this.#drainWaiters.set(agent, list);
    });
    // NOTE: callers may ignore the promise; a cancelled drain must not become an unhandled rejection.
    promise.catch(() => undefined);
    if (agent.status === 'active')
      this.#allocator.updateAgent(agent, () => (agent.status = 'draining'));
    this.#topologyChanged();
    for (const offer of [...agent.offers]) this.#rescind(offer, 'agent-draining');
    this.#drainTimers.get(agent)?.();
    this.#drainTimers.delete(agent);
    agent.drainDeadline = o.deadlineMs === undefined ? undefined : now + o.deadlineMs;
    if (o.deadlineMs !== undefined)
      this.#drainTimers.set(
        agent,
        this.#clock.schedule(o.deadlineMs, () => {
          this.#drainTimers.delete(agent);
          for (const t of [...agent.tasks]) this.#killTask(t, 'DRAIN_DEADLINE');
        }),
      );
    const byFramework = new Map<FrameworkRecord, true>();
    for (const t of agent.tasks) byFramework.set(t.framework, true);
    for (const fw of byFramework.keys()) {
      if (fw.status !== 'connected') continue;
      const inverse: InverseOffer = {
        id: `io${++this.#inverseSeq}`,
        frameworkId: fw.id,
        agentId: agent.id,
        hostname: agent.hostname,
        deadline: agent.drainDeadline,
        createdAt: now,
      };
      fw.send({ type: 'inverseOffers', inverseOffers: [inverse] });
    }
    if (agent.tasks.length === 0) this.#markDrained(agent);
    return promise;
  }

  /** Ends maintenance: the agent is offered again; pending drains reject. */
  reactivateAgent(id: string): AgentInfo {
    this.#open();
    const agent = this.#agent(id);
    if (agent.status === 'active') return agentInfoOf(agent);
    this.#drainTimers.get(agent)?.();
    this.#drainTimers.delete(agent);
    agent.drainDeadline = undefined;
    this.#allocator.updateAgent(agent, () => (agent.status = 'active'));
    this.#settleDrain(agent, new Conflict(`the drain of agent ${id} was cancelled`));
    this.#topologyChanged();
    this.#requestPass();
    return agentInfoOf(agent);
  }

  /** Removes an agent (its machine is going away). Tasks still on it are LOST with AGENT_REMOVED. */
  removeAgent(id: string): void {
    this.#open();
    this.#retire(this.#agent(id), 'removed');
  }

  /** Marks an agent lost: each of its tasks is reported LOST (AGENT_LOST) once, and every framework hears of the loss. */
  markAgentLost(id: string): void {
    this.#open();
    this.#retire(this.#agent(id), 'lost');
  }

  /** One agent, or undefined when none has that id. */
  agent(id: string): AgentInfo | undefined {
    const a = this.#agents.get(id);
    return a === undefined ? undefined : agentInfoOf(a);
  }

  agents(): AgentInfo[] {
    return [...this.#agents.values()].map(agentInfoOf);
  }

  /** What placement sees of an agent for a task in `role` (see `canPlace`). */
  agentView(id: string, role = '*'): AgentView {
    return agentViewOf(this.#agent(id), parse(RoleSchema, role, 'role'));
  }

  /** Every value `attribute` takes on active agents (a spread constraint's domain). */
  attributeValues(attribute: string): ReadonlySet<string> {
    let values = this.#attributeCache.get(attribute);
    if (values !== undefined) return values;
    const set = new Set<string>();
    for (const a of this.#agents.values()) {
      if (!a.active) continue;
      const v = attributeOf(a, attribute);
      if (v !== undefined) set.add(v);
    }
    values = set;
    this.#attributeCache.set(attribute, values);
    return values;
  }

  // ───────────────────────────── roles ─────────────────────────────

  /** Sets a role's weight and quota (see {@link RoleConfigSchema}). */
  setRole(role: string, config: RoleConfigInput): void {
    this.#open();
    const r = parse(RoleSchema, role, 'role');
    this.#applyRole(r, parse(RoleConfigSchema, config, `role ${r}`));
    this.#requestPass();
  }

  // ─────────────────────────── frameworks ───────────────────────────

  /**
   * Registers a framework and returns its handle. With the `id` of a framework that
   * is still known (disconnected, or connected elsewhere), this is a failover: the new
   * handle takes over its tasks and the old one stops working. An id removed after
   * its failover timeout (or torn down) throws `NotFound`.
   */
  registerFramework(spec: FrameworkSpecInput): FrameworkHandle {
    this.#open();
    const s = parse(FrameworkSpecSchema, spec, 'framework', 'framework');
    if (s.id !== undefined && this.#removedFrameworks.has(s.id))
      throw new NotFound(
        `framework ${s.id} was removed (torn down, or not back within its failover timeout)`,
      );
    const existing = s.id === undefined ? undefined : this.#frameworks.get(s.id);
    if (existing !== undefined) return this.#failover(existing, s);
    const id = s.id ?? `fw-${this.#frameworkSeq + 1}`;
    const fw = new FrameworkRecord(
      this.#frameworkSeq++,
      id,
      s.name,
      [...new Set(s.roles)],
      s.weight,
      s.failoverTimeoutMs,
      s.acknowledgements,
      (error, f) => this.#callbackFailed(error, f),
    );
    fw.callbacks = s.on;
    this.#frameworks.set(id, fw);
    for (const role of fw.roles) {
      const client = this.#allocator.sorter.addClient(role, fw, fw.weight);
      fw.clients.set(role, client);
      this.#allocator.sorter.setActive(client, true);
    }
    this.#requestPass();
    return new FrameworkHandle(fw, this.#ops);
  }

  // ─────────────────────────── allocation ───────────────────────────

  /**
   * Runs one allocation pass now (passes also run on the batch interval and after
   * events). Offers reach frameworks on a microtask.
   */
  allocate(): PassResult {
    if (this.#closed) return { offers: 0 };
    const now = this.#clock.now();
    const touched: FrameworkRecord[] = [];
    const made = this.#allocator.allocate(now, (client, agent, unreserved, reserved, ports) => {
      const fw = client.payload!;
      const view = this.#makeOffer(
        fw,
        client,
        agent as SchedAgent,
        unreserved,
        reserved,
        ports,
        now,
      );
      if (fw.pendingOffers.length === 0) touched.push(fw);
      fw.pendingOffers.push(view);
    });
    for (const fw of touched) {
      fw.send({ type: 'offers', offers: fw.pendingOffers });
      fw.pendingOffers = [];
    }
    if (made > 0) this.#armExpiry();
    return { offers: made };
  }

  /** Everything frameworks report waiting for (the jobs framework's backlog among it). */
  demand(): DemandItem[] {
    const now = this.#clock.now();
    const out: DemandItem[] = [];
    for (const fw of this.#frameworks.values()) {
      if (fw.status === 'removed' || fw.demand === undefined) continue;
      const items = parse(DemandListSchema, fw.demand(), `demand of framework ${fw.name}`);
      for (const d of items) {
        const ports = d.resources.ports;
        out.push({
          frameworkId: fw.id,
          framework: fw.name,
          role: d.role ?? fw.roles[0]!,
          key: d.key,
          resources: {
            cpus: d.resources.cpus,
            memoryMiB: d.resources.memoryMiB,
            gpus: d.resources.gpus,
            diskGiB: d.resources.diskGiB,
            ports:
              typeof ports === 'number' ? ports : ports.reduce((n, [b, e]) => n + e - b + 1, 0),
          },
          count: d.count,
          constraints: d.constraints,
          priority: d.priority,
          since: d.since,
          waitedMs: Math.max(0, now - d.since),
        });
      }
    }
    return out;
  }

  /** A consistent copy of the whole state. Costs O(agents + tasks + offers). */
  snapshot(): SchedulerSnapshot {
    const sorter = this.#allocator.sorter;
    sorter.ensureSorted();
    const frameworks: FrameworkInfo[] = [];
    const tasks: TaskInfo[] = [];
    for (const fw of this.#frameworks.values()) {
      const allocated: Record<string, Resources> = {};
      const shares: Record<string, number> = {};
      for (const [role, client] of fw.clients) {
        allocated[role] = resourcesOf(client.alloc);
        shares[role] = sorter.shareOf(client);
      }
      frameworks.push({
        id: fw.id,
        name: fw.name,
        roles: fw.roles,
        status: fw.status,
        suppressedRoles: [...fw.suppressed],
        allocated,
        shares,
        offers: fw.offerCount,
        tasks: fw.live,
      });
      for (const t of fw.tasks.values()) tasks.push(taskInfoOf(t));
    }
    const roles: RoleInfo[] = [];
    for (const node of sorter.roles())
      roles.push({
        role: node.name,
        weight: node.weight,
        share: sorter.shareOf(node),
        allocated: resourcesOf(node.alloc),
        reserved: resourcesOf(node.reservedTotal),
        quota:
          node.quota === undefined
            ? undefined
            : {
                guarantee: resourcesOf(node.quota.guarantee),
                limit: Object.fromEntries(
                  Object.entries(resourcesOf(node.quota.limit)).filter(([, v]) =>
                    Number.isFinite(v),
                  ),
                ),
              },
      });
    return {
      now: this.#clock.now(),
      agents: this.agents(),
      frameworks,
      offers: [...this.#offers.values()].map((o) => o.view),
      tasks,
      roles,
    };
  }

  /**
   * Shuts the scheduler down: timers stop, event streams end, pending drains reject,
   * and each executor's `close` runs (the local process executor kills its processes).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#passTimer?.cancel();
    this.#passTimer = undefined;
    this.#expiryTimer?.cancel();
    this.#expiryTimer = undefined;
    this.#ackTimer?.();
    this.#ackTimer = undefined;
    for (const cancel of this.#drainTimers.values()) cancel();
    this.#drainTimers.clear();
    for (const agent of [...this.#drainWaiters.keys()])
      this.#settleDrain(agent, new Conflict('the scheduler closed'));
    for (const fw of this.#frameworks.values()) {
      fw.cancelFailover?.();
      // Its handles stop here too: an accept after close must not launch on a closed executor.
      if (fw.status === 'connected') fw.status = 'disconnected';
      fw.detach();
    }
    await Promise.all([...new Set(this.#executors.values())].map(async (e) => e.close?.()));
  }

  // ─────────────────────────── internals ───────────────────────────

  #open(): void {
    if (this.#closed) throw new Conflict('the scheduler is closed');
  }

  #agent(id: string): SchedAgent {
    const a = this.#agents.get(id);
    if (a === undefined) throw new NotFound(`agent ${id} is not registered`);
    return a;
  }

  #executorFor(agent: SchedAgent): Executor {
    let e = this.#executors.get(agent);
    if (e === undefined) {
      e =
        typeof this.#executorOption === 'function'
          ? this.#executorOption(agentInfoOf(agent))
          : this.#executorOption;
      this.#executors.set(agent, e);
    }
    return e;
  }

  #applyRole(
    role: string,
    config: { weight: number; quota?: { guarantee?: object; limit?: object } | undefined },
  ): void {
    this.#allocator.setRole(
      role,
      config.weight,
      config.quota === undefined ? undefined : roleQuotaOf(config.quota),
    );
  }

  #topologyChanged(): void {
    this.#attributeCache.clear();
  }

  #callbackFailed(error: unknown, fw: FrameworkRecord): void {
    if (this.#onCallbackError !== undefined) this.#onCallbackError(error, fw.id);
    else
      queueMicrotask(() => {
        throw error;
      });
  }

  // Pass scheduling: one timer, pulled earlier by events.

  #requestPass(): void {
    this.#schedulePass(0);
  }

  /** Resources came back without an event worth an immediate pass: the next batch pass takes them. */
  #armInterval(): void {
    this.#schedulePass(this.#intervalMs);
  }

  #schedulePass(delayMs: number): void {
    if (this.#closed) return;
    const at = this.#clock.now() + delayMs;
    if (this.#passTimer !== undefined && this.#passTimer.at <= at) return;
    this.#passTimer?.cancel();
    const cancel = this.#clock.schedule(delayMs, () => {
      this.#passTimer = undefined;
      this.allocate();
      // NOTE: with nothing free or nobody wanting offers the loop goes idle; events wake it.
      if (this.#allocator.availableAgents > 0 && this.#allocator.sorter.root.activeClients > 0)
        this.#schedulePass(this.#intervalMs);
    });
    this.#passTimer = { at, cancel };
  }

  // Offers.

  /** Books an offer of what the allocator just held; returns what the framework sees. */
  #makeOffer(
    fw: FrameworkRecord,
    client: Client,
    agent: SchedAgent,
    unreserved: Scalars,
    reserved: Scalars,
    ports: PortSet,
    now: number,
  ): Offer {
    const seq = ++this.#offerSeq;
    const id = offerId(seq);
    const expiresAt = this.#offerTimeoutMs > 0 ? now + this.#offerTimeoutMs : Infinity;
    const view: Offer = {
      id,
      frameworkId: fw.id,
      agentId: agent.id,
      hostname: agent.hostname,
      role: client.name,
      resources: {
        cpus: (unreserved.milliCpus + reserved.milliCpus) / 1000,
        memoryMiB: unreserved.memoryMiB + reserved.memoryMiB,
        gpus: unreserved.gpus + reserved.gpus,
        diskGiB: unreserved.diskGiB + reserved.diskGiB,
      },
      ports: agent.rangesOf(ports),
      reserved: reserved === ZERO ? NO_RESOURCES : resourcesOf(reserved),
      attributes: agent.attributes,
      createdAt: now,
      expiresAt: expiresAt === Infinity ? undefined : expiresAt,
    };
    const offer = new OfferRecord<FrameworkRecord>(
      seq,
      fw,
      client,
      agent,
      unreserved,
      reserved,
      ports,
      expiresAt,
      view,
    );
    this.#offers.add(offer);
    fw.offerCount++;
    agent.offers.push(offer);
    return view;
  }

  #retireOffer(o: OfferRecord<FrameworkRecord>): void {
    this.#offers.delete(o);
    o.framework.offerCount--;
    (o.agent as SchedAgent).removeOffer(o);
  }

  /** Takes an offer back; its resources are free at once. */
  #rescind(o: OfferRecord<FrameworkRecord>, reason: RescindReason): void {
    this.#retireOffer(o);
    this.#allocator.release(o.client, o.agent, o.unreserved, o.reserved, o.ports);
    if (o.framework.status === 'connected')
      o.framework.send({ type: 'rescind', offerId: o.id, reason });
  }

  #armExpiry(): void {
    if (this.#offerTimeoutMs <= 0 || this.#closed) return;
    const next = this.#offers.nextExpiry();
    if (next === undefined) return;
    if (this.#expiryTimer !== undefined && this.#expiryTimer.at <= next) return;
    this.#expiryTimer?.cancel();
    const cancel = this.#clock.schedule(Math.max(0, next - this.#clock.now()), () => {
      this.#expiryTimer = undefined;
      const expired = this.#offers.takeExpired(this.#clock.now());
      for (const o of expired) this.#rescind(o, 'timeout');
      if (expired.length > 0) this.#requestPass();
      this.#armExpiry();
    });
    this.#expiryTimer = { at: next, cancel };
  }

  // Agents leaving.

  #retire(agent: SchedAgent, how: 'removed' | 'lost'): void {
    for (const o of [...agent.offers]) this.#rescind(o, 'agent-gone');
    const reason: TaskReason = how === 'lost' ? 'AGENT_LOST' : 'AGENT_REMOVED';
    for (const t of [...agent.tasks])
      this.#forceEnd(
        t,
        'LOST',
        reason,
        `agent ${agent.id} ${how === 'lost' ? 'was lost' : 'was removed'}`,
      );
    this.#allocator.removeAgent(agent);
    agent.status = how;
    this.#agents.delete(agent.id);
    this.#executors.delete(agent);
    this.#drainTimers.get(agent)?.();
    this.#drainTimers.delete(agent);
    for (const fw of this.#frameworks.values()) {
      fw.filters.removeAgent(agent.seq);
      if (fw.status === 'connected')
        fw.send({ type: 'agentLost', agentId: agent.id, removed: how === 'removed' });
    }
    this.#settleDrain(agent);
    this.#topologyChanged();
  }

  #markDrained(agent: SchedAgent): void {
    agent.status = 'drained';
    this.#drainTimers.get(agent)?.();
    this.#drainTimers.delete(agent);
    this.#settleDrain(agent);
  }

  #settleDrain(agent: SchedAgent, error?: unknown): void {
    const waiters = this.#drainWaiters.get(agent);
    if (waiters === undefined) return;
    this.#drainWaiters.delete(agent);
    for (const w of waiters) {
      if (error === undefined) w.resolve();
      else w.reject(error);
    }
  }

  // Tasks.

  #accept(
    fw: FrameworkRecord,
    offerIds: readonly string[],
    ops: readonly TrustedOperation[],
    refuseSeconds: number,
    trusted: boolean,
  ): AcceptResult {
    const launched: string[] = [];
    const dropped: { taskId: string; reason: TaskReason; message: string }[] = [];
    const results: { type: Operation['type']; ok: boolean; message?: string }[] = [];
    // Task ids are checked before anything changes, so a Conflict leaves no trace.
    // NOTE: the built-in jobs framework makes unique ids itself (trusted) and skips this.
    const ids = new Set<string>();
    for (const op of trusted ? [] : ops) {
      if (op.type !== 'launch') continue;
      for (const t of op.tasks) {
        if (ids.has(t.id) || fw.tasks.has(t.id))
          throw new Conflict(`task id ${t.id} is already in use by framework ${fw.id}`);
        ids.add(t.id);
      }
    }
    const offers: OfferRecord<FrameworkRecord>[] = [];
    let invalid: string | undefined = offerIds.length === 0 ? 'no offers given' : undefined;
    for (const id of offerIds) {
      const o = this.#offers.get(id);
      if (o === undefined || o.framework !== fw)
        invalid ??= `offer ${id} is not outstanding for framework ${fw.id}`;
      else if (offers.length > 0 && o.agent !== offers[0]!.agent)
        invalid ??= 'the offers are on different agents';
      else if (offers.length > 0 && o.client !== offers[0]!.client)
        invalid ??= 'the offers are for different roles';
      else if (!offers.includes(o)) offers.push(o);
    }
    if (invalid !== undefined) {
      for (const o of offers) {
        this.#retireOffer(o);
        this.#allocator.release(o.client, o.agent, o.unreserved, o.reserved, o.ports);
      }
      if (offers.length > 0) this.#armInterval();
      for (const op of ops) {
        results.push({
          type: op.type === 'launchMany' ? 'launch' : op.type,
          ok: false,
          message: invalid,
        });
        const taskIds =
          op.type === 'launch' ? op.tasks.map((t) => t.id) : op.type === 'launchMany' ? op.ids : [];
        for (const id of taskIds) {
          dropped.push({ taskId: id, reason: 'INVALID_OFFERS', message: invalid });
          this.#sendDetached(fw, id, '', 'DROPPED', 'INVALID_OFFERS', invalid);
        }
      }
      return { launched, dropped, operations: results };
    }
    const agent = offers[0]!.agent as SchedAgent;
    const client = offers[0]!.client;
    const pool: Pool = { unreserved: zeroScalars(), reserved: zeroScalars(), ports: NO_PORTS };
    for (const o of offers) {
      this.#retireOffer(o);
      addInto(pool.unreserved, o.unreserved);
      addInto(pool.reserved, o.reserved);
      pool.ports = addPorts(pool.ports, o.ports);
    }
    for (const op of ops) {
      if (op.type === 'reserve')
        results.push(this.#reserveOp(client, agent, pool, scalarsOf(op.resources)));
      else if (op.type === 'unreserve')
        results.push(this.#unreserveOp(client, agent, pool, scalarsOf(op.resources)));
      else if (op.type === 'launchMany') {
        const need = scalarsOf(op.template.resources);
        const resources = Object.freeze(resourcesOf(need));
        for (const id of op.ids) {
          const why = this.#launch(fw, client, agent, pool, id, id, op.template, need, resources);
          if (why === undefined) launched.push(id);
          else dropped.push({ taskId: id, reason: 'INSUFFICIENT_RESOURCES', message: why });
        }
        results.push({ type: 'launch', ok: true });
      } else {
        let cache:
          { from: TaskTemplate['resources']; need: Scalars; resources: Resources } | undefined;
        for (const spec of op.tasks) {
          // Tasks of one job often share one resources object; convert it once.
          if (cache?.from !== spec.resources) {
            const need = scalarsOf(spec.resources);
            cache = { from: spec.resources, need, resources: Object.freeze(resourcesOf(need)) };
          }
          const name = spec.name ?? spec.id;
          const why = this.#launch(
            fw,
            client,
            agent,
            pool,
            spec.id,
            name,
            spec,
            cache.need,
            cache.resources,
          );
          if (why === undefined) launched.push(spec.id);
          else dropped.push({ taskId: spec.id, reason: 'INSUFFICIENT_RESOURCES', message: why });
        }
        results.push({ type: 'launch', ok: true });
      }
    }
    const leftover = plus(pool.unreserved, pool.reserved);
    if (
      leftover.milliCpus ||
      leftover.memoryMiB ||
      leftover.gpus ||
      leftover.diskGiB ||
      pool.ports.length > 0
    ) {
      this.#allocator.release(client, agent, pool.unreserved, pool.reserved, pool.ports);
      if (refuseSeconds > 0)
        fw.filters.add(
          client.name,
          agent.seq,
          leftover,
          pool.ports,
          this.#clock.now() + refuseSeconds * 1000,
        );
      this.#armInterval();
    }
    return { launched, dropped, operations: results };
  }

  #reserveOp(
    client: Client,
    agent: SchedAgent,
    pool: Pool,
    amount: Scalars,
  ): { type: 'reserve'; ok: boolean; message?: string } {
    if (client.name === '*')
      return {
        type: 'reserve',
        ok: false,
        message: 'resources cannot be reserved for the default role "*"',
      };
    if (!fitsIn(amount, pool.unreserved))
      return { type: 'reserve', ok: false, message: 'the offers do not hold that much unreserved' };
    this.#allocator.reserve(client, agent, amount);
    subtractInto(pool.unreserved, amount);
    addInto(pool.reserved, amount);
    return { type: 'reserve', ok: true };
  }

  #unreserveOp(
    client: Client,
    agent: SchedAgent,
    pool: Pool,
    amount: Scalars,
  ): { type: 'unreserve'; ok: boolean; message?: string } {
    const dynamic = agent.reservations.get(client.name)?.dynamic;
    if (dynamic === undefined || !fitsIn(amount, dynamic))
      return {
        type: 'unreserve',
        ok: false,
        message: `agent ${agent.id} has not that much dynamically reserved for ${client.name}`,
      };
    if (!fitsIn(amount, pool.reserved))
      return { type: 'unreserve', ok: false, message: 'the offers do not hold that much reserved' };
    this.#allocator.unreserve(client, agent, amount);
    subtractInto(pool.reserved, amount);
    addInto(pool.unreserved, amount);
    return { type: 'unreserve', ok: true };
  }

  /** Launches one task from the pool; returns why not when it does not fit. */
  #launch(
    fw: FrameworkRecord,
    client: Client,
    agent: SchedAgent,
    pool: Pool,
    id: string,
    name: string,
    spec: TaskTemplate,
    need: Scalars,
    resources: Resources,
  ): string | undefined {
    const r = pool.reserved;
    let fromReserved: Scalars;
    let fromUnreserved: Scalars;
    if (r.milliCpus === 0 && r.memoryMiB === 0 && r.gpus === 0 && r.diskGiB === 0) {
      fromReserved = ZERO;
      fromUnreserved = need;
    } else {
      fromReserved = minOf(need, r);
      fromUnreserved = minus(need, fromReserved);
    }
    if (!fitsIn(fromUnreserved, pool.unreserved))
      return this.#drop(fw, id, agent, `task ${id} does not fit in the offered resources`);
    let ports: PortSet = NO_PORTS;
    const wanted = spec.resources.ports;
    if (typeof wanted === 'number') {
      if (wanted > 0) {
        const got = lowestPorts(pool.ports, wanted);
        if (got === undefined)
          return this.#drop(
            fw,
            id,
            agent,
            `task ${id} wants ${wanted} ports; the offers have fewer`,
          );
        ports = got;
      }
    } else if (wanted.length > 0) {
      ports = portSetOf(wanted);
      if (!containsPorts(pool.ports, ports))
        return this.#drop(fw, id, agent, `task ${id} wants ports the offers do not hold`);
    }
    if (fromReserved !== ZERO) subtractInto(pool.reserved, fromReserved);
    subtractInto(pool.unreserved, fromUnreserved);
    if (ports.length > 0) pool.ports = subtractPorts(pool.ports, ports);
    const task: Task = new TaskRecord(
      this.#taskOwner,
      id,
      name,
      fw,
      client,
      agent,
      fromUnreserved === need ? need : copyScalars(fromUnreserved),
      fromReserved,
      ports,
    );
    task.launchedAt = this.#clock.now();
    task.constraints = spec.constraints;
    fw.tasks.set(task.id, task);
    fw.live++;
    agent.addTask(task);
    agent.lastTaskAt = task.launchedAt;
    const launch: TaskLaunch = {
      taskId: task.id,
      frameworkId: fw.id,
      agentId: agent.id,
      hostname: agent.hostname,
      name: task.name,
      resources,
      ports: ports.length > 0 ? toRanges(ports) : NO_RANGES,
      command: spec.command,
      env: spec.env,
      durationMs: spec.durationMs,
      labels: spec.labels,
    };
    try {
      const run = this.#executorFor(agent).launch(launch, task);
      if (!isTerminal(task.state)) task.run = run;
    } catch (error) {
      this.#forceEnd(
        task,
        'FAILED',
        'EXECUTOR_FAILED',
        `the executor threw: ${(error as Error).message}`,
      );
    }
    return undefined;
  }

  #drop(fw: FrameworkRecord, id: string, agent: SchedAgent, why: string): string {
    this.#sendDetached(fw, id, agent.id, 'DROPPED', 'INSUFFICIENT_RESOURCES', why);
    return why;
  }

  #onReport(task: Task, report: ExecutorReport): void {
    if (!canTransition(task.state, report.state)) return;
    task.state = report.state;
    task.reason =
      report.state === 'KILLED'
        ? (task.killReason ?? 'KILLED_BY_FRAMEWORK')
        : (report.reason ?? 'EXECUTOR_UPDATE');
    task.message = report.message;
    task.exitCode = report.exitCode;
    if (isTerminal(report.state)) this.#endTask(task);
    this.#sendUpdate(task, 'executor');
  }

  /** A terminal state decided by the scheduler (agent lost or removed, executor threw). */
  #forceEnd(task: Task, state: TaskState, reason: TaskReason, message: string): void {
    if (isTerminal(task.state)) return;
    const run = task.run;
    task.state = state;
    task.reason = reason;
    task.message = message;
    this.#endTask(task);
    // NOTE: stops a process that may still run; its own late report is ignored.
    run?.kill();
    this.#sendUpdate(task, 'scheduler');
  }

  #killTask(task: Task, reason: TaskReason): void {
    if (isTerminal(task.state)) return;
    task.killReason ??= reason;
    task.run?.kill();
  }

  /** Resources come back the moment a task ends. */
  #endTask(task: Task): void {
    const fw = task.framework;
    const agent = task.agent as SchedAgent;
    task.run = undefined;
    agent.removeTask(task);
    agent.lastTaskAt = this.#clock.now();
    fw.live--;
    this.#allocator.release(task.client, agent, task.unreserved, task.reserved, task.ports);
    if (fw.acknowledgements === 'implicit' || fw.status === 'removed') fw.tasks.delete(task.id);
    if (agent.status === 'draining' && agent.tasks.length === 0) this.#markDrained(agent);
    if (fw.status === 'removed' && fw.live === 0) this.#forget(fw);
    this.#requestPass();
  }

  #sendUpdate(task: Task, source: 'executor' | 'scheduler'): void {
    const fw = task.framework;
    if (fw.status === 'removed') return;
    const now = this.#clock.now();
    const status: TaskStatus = {
      updateId: ++this.#updateSeq,
      taskId: task.id,
      frameworkId: fw.id,
      agentId: task.agent.id,
      state: task.state,
      reason: task.reason,
      message: task.message,
      exitCode: task.exitCode,
      timestamp: now,
      source,
    };
    if (fw.acknowledgements === 'explicit') {
      fw.pendingAcks.set(task.id, { status, sentAt: now });
      this.#armAcks();
    }
    if (fw.status === 'connected') fw.sendStatus(status);
    else if (fw.acknowledgements === 'implicit') fw.unsent.set(task.id, status);
  }

  /** An update about a task the scheduler keeps no record of (dropped, unknown). */
  #sendDetached(
    fw: FrameworkRecord,
    taskId: string,
    agentId: string,
    state: TaskState,
    reason: TaskReason,
    message: string,
    source: TaskStatus['source'] = 'scheduler',
  ): void {
    if (fw.status !== 'connected') return;
    const status: TaskStatus = {
      updateId: ++this.#updateSeq,
      taskId,
      frameworkId: fw.id,
      agentId,
      state,
      reason,
      message,
      timestamp: this.#clock.now(),
      source,
    };
    fw.sendStatus(status);
  }

  #armAcks(): void {
    if (this.#ackTimer !== undefined || this.#closed) return;
    this.#ackTimer = this.#clock.schedule(this.#ackRetryMs, () => {
      this.#ackTimer = undefined;
      const now = this.#clock.now();
      let waiting = false;
      for (const fw of this.#frameworks.values()) {
        if (fw.pendingAcks.size === 0) continue;
        waiting = true;
        if (fw.status !== 'connected') continue;
        for (const p of fw.pendingAcks.values())
          if (now - p.sentAt >= this.#ackRetryMs) {
            p.sentAt = now;
            fw.sendStatus(p.status);
          }
      }
      if (waiting) this.#armAcks();
    });
  }

  // Framework life.

  #failover(fw: FrameworkRecord, s: FrameworkSpec): FrameworkHandle {
    const roles = [...new Set(s.roles)];
    if (roles.length !== fw.roles.length || roles.some((r) => !fw.roles.includes(r)))
      throw new Conflict(
        `framework ${fw.id} is registered with roles ${fw.roles.join(', ')}; a failover must keep them`,
      );
    // A takeover while connected: the old registration's offers go back (as Mesos
    // removes them on failover), or the new one would never hear of those resources.
    if (fw.status === 'connected') this.#deactivate(fw);
    fw.detach(
      fw.status === 'connected'
        ? `framework ${fw.id} failed over to a new registration`
        : undefined,
    );
    fw.cancelFailover?.();
    fw.cancelFailover = undefined;
    fw.epoch++;
    fw.status = 'connected';
    fw.name = s.name;
    fw.callbacks = s.on;
    fw.failoverTimeoutMs = s.failoverTimeoutMs;
    for (const [role, client] of fw.clients)
      if (!fw.suppressed.has(role)) this.#allocator.sorter.setActive(client, true);
    // Whatever was not acknowledged while away is sent again, and what was not sent at all.
    for (const p of fw.pendingAcks.values()) {
      p.sentAt = this.#clock.now();
      fw.sendStatus(p.status);
    }
    for (const status of fw.unsent.values()) fw.sendStatus(status);
    fw.unsent.clear();
    this.#requestPass();
    return new FrameworkHandle(fw, this.#ops);
  }

  #deactivate(fw: FrameworkRecord): void {
    for (const client of fw.clients.values()) this.#allocator.sorter.setActive(client, false);
    for (const o of [...this.#offers.values()].filter((x) => x.framework === fw)) {
      this.#retireOffer(o);
      this.#allocator.release(o.client, o.agent, o.unreserved, o.reserved, o.ports);
    }
    this.#armInterval();
  }

  #disconnect(fw: FrameworkRecord): void {
    fw.status = 'disconnected';
    this.#deactivate(fw);
    fw.detach();
    if (fw.failoverTimeoutMs <= 0) this.#remove(fw);
    else fw.cancelFailover = this.#clock.schedule(fw.failoverTimeoutMs, () => this.#remove(fw));
  }

  /** Teardown, or no failover in time: kill everything, then forget the framework. */
  #remove(fw: FrameworkRecord): void {
    if (fw.status === 'removed') return;
    fw.cancelFailover?.();
    fw.cancelFailover = undefined;
    fw.status = 'removed';
    this.#removedFrameworks.add(fw.id);
    for (const id of this.#removedFrameworks) {
      if (this.#removedFrameworks.size <= REMEMBERED_REMOVED) break;
      this.#removedFrameworks.delete(id);
    }
    this.#deactivate(fw);
    fw.detach();
    fw.pendingAcks.clear();
    fw.unsent.clear();
    for (const t of [...fw.tasks.values()]) {
      if (isTerminal(t.state)) fw.tasks.delete(t.id);
      else this.#killTask(t, 'FRAMEWORK_REMOVED');
    }
    if (fw.live === 0) this.#forget(fw);
    this.#requestPass();
  }

  #forget(fw: FrameworkRecord): void {
    for (const client of fw.clients.values()) this.#allocator.sorter.removeClient(client);
    fw.clients.clear();
    this.#frameworks.delete(fw.id);
  }

  #checkRoles(fw: FrameworkRecord, roles: readonly string[] | undefined): readonly string[] {
    if (roles === undefined) return fw.roles;
    for (const r of roles)
      if (!fw.roles.includes(r))
        throw new ValidationError(
          `role ${r} is not one of framework ${fw.id}'s roles (${fw.roles.join(', ')})`,
          {
            issues: [{ path: 'roles', message: `${r} is not one of the framework's roles` }],
          },
        );
    return roles;
  }

  #makeOps(): FrameworkOps {
    return {
      accept: (fw, ids, ops, refuse, trusted) => this.#accept(fw, ids, ops, refuse, trusted),
      decline: (fw, ids, refuseSeconds) => {
        const now = this.#clock.now();
        let n = 0;
        for (const id of ids) {
          const o = this.#offers.get(id);
          if (o === undefined || o.framework !== fw) continue;
          this.#retireOffer(o);
          this.#allocator.release(o.client, o.agent, o.unreserved, o.reserved, o.ports);
          if (refuseSeconds > 0)
            fw.filters.add(
              o.client.name,
              o.agent.seq,
              plus(o.unreserved, o.reserved),
              o.ports,
              now + refuseSeconds * 1000,
            );
          n++;
        }
        if (n > 0) this.#armInterval();
        return n;
      },
      suppress: (fw, roles) => {
        for (const r of this.#checkRoles(fw, roles)) {
          fw.suppressed.add(r);
          this.#allocator.sorter.setActive(fw.clients.get(r)!, false);
        }
      },
      revive: (fw, roles) => {
        for (const r of this.#checkRoles(fw, roles)) {
          fw.suppressed.delete(r);
          this.#allocator.sorter.setActive(fw.clients.get(r)!, true);
        }
        fw.filters.clear();
        this.#requestPass();
      },
      kill: (fw, taskId) => {
        const t = fw.tasks.get(taskId);
        if (t === undefined)
          this.#sendDetached(fw, taskId, '', 'LOST', 'TASK_UNKNOWN', `task ${taskId} is unknown`);
        else if (isTerminal(t.state))
          this.#sendDetached(
            fw,
            taskId,
            t.agent.id,
            t.state,
            t.reason,
            t.message ?? '',
            'reconciliation',
          );
        else this.#killTask(t, 'KILLED_BY_FRAMEWORK');
      },
      reconcile: (fw, taskIds) => {
        const tasks =
          taskIds === undefined || taskIds.length === 0 ? [...fw.tasks.keys()] : taskIds;
        for (const id of tasks) {
          const t = fw.tasks.get(id);
          if (t === undefined)
            this.#sendDetached(
              fw,
              id,
              '',
              'LOST',
              'TASK_UNKNOWN',
              `task ${id} is unknown`,
              'reconciliation',
            );
          else
            this.#sendDetached(
              fw,
              id,
              t.agent.id,
              t.state,
              'RECONCILIATION',
              t.message ?? `task ${id} is ${t.state}`,
              'reconciliation',
            );
        }
      },
      acknowledge: (fw, taskId, updateId) => {
        const p = fw.pendingAcks.get(taskId);
        if (p === undefined || p.status.updateId !== updateId) return false;
        fw.pendingAcks.delete(taskId);
        const t = fw.tasks.get(taskId);
        if (t !== undefined && isTerminal(t.state)) fw.tasks.delete(taskId);
        return true;
      },
      teardown: (fw) => this.#remove(fw),
      disconnect: (fw) => this.#disconnect(fw),
      tasks: (fw) => [...fw.tasks.values()].map(taskInfoOf),
    };
  }
}

const ZERO: Scalars = NO_SCALARS;
const NO_RESOURCES: Resources = Object.freeze(resourcesOf(ZERO));

const NO_RANGES: readonly (readonly [number, number])[] = Object.freeze([]);

function taskInfoOf(t: Task): TaskInfo {
  return {
    id: t.id,
    name: t.name,
    frameworkId: t.framework.id,
    agentId: t.agent.id,
    role: t.client.name,
    state: t.state,
    reason: t.reason,
    resources: resourcesOf(plus(t.unreserved, t.reserved)),
    ports: toRanges(t.ports),
    launchedAt: t.launchedAt,
    constraints: t.constraints,
  };
}

function attributeOf(a: SchedAgent, attribute: string): string | undefined {
  return attributeValueOf(a.attributes, a.hostname, attribute);
}

/**
 * The allocator's threshold from the option: a dimension left out is no criterion (as
 * Mesos's min_allocatable_resources), and at least one unit counts, so an empty offer is
 * never made; with neither given, any cpu or memory is enough.
 */
function minAllocatable(min: Readonly<Partial<Resources>>): Scalars {
  const none = min.cpus === undefined && min.memoryMiB === undefined;
  const at = (value: number | undefined, unit: number): number =>
    value === undefined ? (none ? unit : Infinity) : Math.max(value, unit);
  return {
    milliCpus: at(min.cpus === undefined ? undefined : toMilliCpus(min.cpus), 1),
    memoryMiB: at(min.memoryMiB, 1),
    gpus: Infinity,
    diskGiB: Infinity,
  };
}
