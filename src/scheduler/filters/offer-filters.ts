import { containsPorts, type PortSet } from '../resources/ports.js';
import { fitsIn, type Scalars } from '../resources/scalars.js';

interface Filter {
  readonly scalars: Scalars;
  readonly ports: PortSet;
  readonly until: number;
}

/**
 * One framework's "don't offer me this again" filters, one per agent, each with its
 * own expiry — Mesos's `RefusedOfferFilter`. A filter made by declining some resources
 * holds back later offers that are a subset of them: if more becomes free on that
 * agent (a task ended), the framework hears about it at once.
 *
 * @example
 * ```ts
 * const filters = new OfferFilters();
 * filters.add(7, declined, ports, clock.now() + 5_000);
 * filters.blocks(7, candidate, candidatePorts, clock.now()); // true while candidate ⊆ declined
 * ```
 */
export class OfferFilters {
  #byAgent = new Map<number, Filter>();

  get size(): number {
    return this.#byAgent.size;
  }

  /** Filters `agentSeq` for resources up to `scalars`/`ports` until `until` (ms). */
  add(agentSeq: number, scalars: Scalars, ports: PortSet, until: number): void {
    this.#byAgent.set(agentSeq, { scalars, ports, until });
  }

  /** True when an offer of `scalars`/`ports` on the agent is still refused at `now`. */
  blocks(agentSeq: number, scalars: Readonly<Scalars>, ports: PortSet, now: number): boolean {
    const f = this.#byAgent.get(agentSeq);
    if (f === undefined) return false;
    if (f.until <= now) {
      this.#byAgent.delete(agentSeq);
      return false;
    }
    return fitsIn(scalars, f.scalars) && containsPorts(f.ports, ports);
  }

  /** Forgets the agent (it left the cluster). */
  removeAgent(agentSeq: number): void {
    this.#byAgent.delete(agentSeq);
  }

  /** Drops every filter (a revive). */
  clear(): void {
    this.#byAgent.clear();
  }

  /** Drops filters that expired by `now`; returns how many remain. */
  expire(now: number): number {
    for (const [k, f] of this.#byAgent) if (f.until <= now) this.#byAgent.delete(k);
    return this.#byAgent.size;
  }
}
