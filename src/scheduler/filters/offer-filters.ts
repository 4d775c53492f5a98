import { containsPorts, type PortSet } from '../resources/ports.js';
import { fitsIn, type Scalars } from '../resources/scalars.js';

interface Filter {
  readonly scalars: Scalars;
  readonly ports: PortSet;
  readonly until: number;
}

/**
 * One framework's "don't offer me this again" filters — Mesos's `RefusedOfferFilter`:
 * per role and agent, each with its own expiry, and several at once (a later, shorter
 * refusal does not cut an earlier one short). A filter made by declining some resources
 * holds back later offers that are a subset of them: if more becomes free on that agent
 * (a task ended), the framework hears about it at once.
 *
 * @example
 * ```ts
 * const filters = new OfferFilters();
 * filters.add('batch', 7, declined, ports, clock.now() + 5_000);
 * filters.blocks('batch', 7, candidate, candidatePorts, clock.now()); // true while candidate ⊆ declined
 * ```
 */
export class OfferFilters {
  /** By agent, then role. */
  #byAgent = new Map<number, Map<string, Filter[]>>();
  #size = 0;

  /** Filters held (expired ones may count until they are next looked at). */
  get size(): number {
    return this.#size;
  }

  /** Filters offers to `role` on `agentSeq` of resources up to `scalars`/`ports` until `until` (ms). */
  add(role: string, agentSeq: number, scalars: Scalars, ports: PortSet, until: number): void {
    let roles = this.#byAgent.get(agentSeq);
    if (roles === undefined) this.#byAgent.set(agentSeq, (roles = new Map<string, Filter[]>()));
    const kept = (roles.get(role) ?? []).filter(
      (f) => f.until > until || !covers(scalars, ports, f),
    );
    kept.push({ scalars, ports, until });
    this.#size += kept.length - (roles.get(role)?.length ?? 0);
    roles.set(role, kept);
  }

  /** True when an offer to `role` of `scalars`/`ports` on the agent is still refused at `now`. */
  blocks(
    role: string,
    agentSeq: number,
    scalars: Readonly<Scalars>,
    ports: PortSet,
    now: number,
  ): boolean {
    const roles = this.#byAgent.get(agentSeq);
    if (roles?.has(role) !== true) return false;
    const live = this.#unexpired(roles, role, now);
    if (roles.size === 0) this.#byAgent.delete(agentSeq);
    return live.some((f) => fitsIn(scalars, f.scalars) && containsPorts(f.ports, ports));
  }

  /** Forgets the agent (it left the cluster). */
  removeAgent(agentSeq: number): void {
    for (const list of this.#byAgent.get(agentSeq)?.values() ?? []) this.#size -= list.length;
    this.#byAgent.delete(agentSeq);
  }

  /** Drops every filter (a revive). */
  clear(): void {
    this.#byAgent.clear();
    this.#size = 0;
  }

  /** Drops filters that expired by `now`; returns how many remain. */
  expire(now: number): number {
    for (const [agentSeq, roles] of this.#byAgent) {
      for (const role of [...roles.keys()]) this.#unexpired(roles, role, now);
      if (roles.size === 0) this.#byAgent.delete(agentSeq);
    }
    return this.#size;
  }

  /** The role's filters still in force at `now`; expired ones are dropped (and the role when none is left). */
  #unexpired(roles: Map<string, Filter[]>, role: string, now: number): Filter[] {
    const list = roles.get(role) ?? [];
    const live = list.filter((f) => f.until > now);
    this.#size -= list.length - live.length;
    if (live.length === 0) roles.delete(role);
    else if (live.length !== list.length) roles.set(role, live);
    return live;
  }
}

/** True when a filter of `scalars`/`ports` refuses everything `f` does (so `f` adds nothing). */
function covers(scalars: Readonly<Scalars>, ports: PortSet, f: Filter): boolean {
  return fitsIn(f.scalars, scalars) && containsPorts(ports, f.ports);
}
