import {
  addPorts,
  NO_PORTS,
  portSetOf,
  subtractPorts,
  toRanges,
  type PortRange,
  type PortSet,
} from '../resources/ports.js';
import {
  addInto,
  copyScalars,
  minus,
  scalarsOf,
  subtractInto,
  zeroScalars,
  type Scalars,
} from '../resources/scalars.js';
import type { AgentAttributes, AgentSpec } from './agent-schemas.js';

/**
 * Where an agent is in its life: `active` (offered), `draining` (maintenance: no new
 * offers, tasks winding down), `drained` (no tasks left; safe to release its machine),
 * `removed` and `lost` (gone; kept only in answers about the past).
 */
export type AgentStatus = 'active' | 'draining' | 'drained' | 'removed' | 'lost';

/** Resources set aside for one role on one agent. */
export interface ReservationPool {
  /** From the agent's spec; cannot be unreserved by a framework. */
  readonly fixed: Scalars;
  /** Made by frameworks with `reserve` operations. */
  readonly dynamic: Scalars;
  /** fixed + dynamic. */
  readonly total: Scalars;
  /** Offered or used by tasks. */
  readonly allocated: Scalars;
}

/** Anything holding part of an agent: an outstanding offer or a live task. */
export interface AgentHolder {
  readonly unreserved: Scalars;
  readonly reserved: Scalars;
  readonly ports: PortSet;
}

/**
 * One agent's book-keeping. The allocator and the scheduler mutate it through the
 * methods below only, so "allocated" always equals what outstanding offers and live
 * tasks hold (the property tests check exactly that).
 */
/** Something kept in an agent's task list, remembering where (for O(1) removal). */
export interface Slotted {
  agentSlot: number;
}

export class Agent<TTask extends Slotted = Slotted, TOffer = unknown> {
  readonly id: string;
  /** Dense, never reused: lets filters key by number. */
  readonly seq: number;
  hostname: string;
  attributes: AgentAttributes;
  status: AgentStatus = 'active';
  /** Everything the agent has. */
  total: Scalars;
  totalPorts: PortSet;
  /** total minus every reservation. */
  unreservedTotal: Scalars;
  readonly unreservedAllocated: Scalars = zeroScalars();
  freePorts: PortSet;
  readonly reservations = new Map<string, ReservationPool>();
  /** Live tasks on this agent; each knows its index (`agentSlot`). */
  readonly tasks: TTask[] = [];
  /** Outstanding offers on this agent (one or two at most, hence an array). */
  readonly offers: TOffer[] = [];
  drainDeadline: number | undefined;
  /** When a task last started on it or ended (clock ms); undefined before its first task. */
  lastTaskAt: number | undefined;
  /** Bumped whenever free resources change; lets the allocator skip unchanged agents. */
  version = 0;
  /** Whether the allocator counts this agent (set by the allocator only). */
  registered = false;
  /** Whether the allocator counts it as having something to offer (allocator only). */
  offerable = false;
  /** Whether it is in the allocator's candidate list (allocator only). */
  listed = false;
  /** The last port set {@link rangesOf} converted, and the result. */
  #rangesKey: PortSet = NO_PORTS;
  #ranges: readonly PortRange[] = NO_RANGES;

  constructor(spec: AgentSpec, seq: number) {
    this.id = spec.id;
    this.seq = seq;
    this.hostname = spec.hostname ?? spec.id;
    this.attributes = spec.attributes;
    this.total = scalarsOf(spec.resources);
    this.totalPorts = portSetOf(spec.resources.ports);
    this.freePorts = this.totalPorts;
    this.unreservedTotal = copyScalars(this.total);
    for (const [role, r] of Object.entries(spec.reservations)) {
      const s = scalarsOf(r);
      this.reservations.set(role, {
        fixed: s,
        dynamic: zeroScalars(),
        total: copyScalars(s),
        allocated: zeroScalars(),
      });
      subtractInto(this.unreservedTotal, s);
    }
  }

  /** Unreserved resources neither offered nor used, written into `out`. */
  freeUnreservedInto(out: Scalars): Scalars {
    const t = this.unreservedTotal;
    const a = this.unreservedAllocated;
    out.milliCpus = t.milliCpus - a.milliCpus;
    out.memoryMiB = t.memoryMiB - a.memoryMiB;
    out.gpus = t.gpus - a.gpus;
    out.diskGiB = t.diskGiB - a.diskGiB;
    return out;
  }

  /** Resources reserved for `role` neither offered nor used. */
  freeReserved(role: string): Scalars | undefined {
    const pool = this.reservations.get(role);
    return pool === undefined ? undefined : minus(pool.total, pool.allocated);
  }

  /** Marks resources as held by an offer or task. */
  hold(role: string, unreserved: Scalars, reserved: Scalars, ports: PortSet): void {
    addInto(this.unreservedAllocated, unreserved);
    if (reserved.milliCpus || reserved.memoryMiB || reserved.gpus || reserved.diskGiB) {
      const pool = this.reservations.get(role);
      if (pool === undefined)
        throw new Error(`agent ${this.id} has no reservation for role ${role}`);
      addInto(pool.allocated, reserved);
    }
    if (ports.length > 0)
      this.freePorts = ports === this.freePorts ? NO_PORTS : subtractPorts(this.freePorts, ports);
    this.version++;
  }

  /** Returns what an offer or task held. */
  release(role: string, unreserved: Scalars, reserved: Scalars, ports: PortSet): void {
    subtractInto(this.unreservedAllocated, unreserved);
    if (reserved.milliCpus || reserved.memoryMiB || reserved.gpus || reserved.diskGiB) {
      const pool = this.reservations.get(role);
      if (pool !== undefined) subtractInto(pool.allocated, reserved);
    }
    if (ports.length > 0) this.freePorts = addPorts(this.freePorts, ports);
    this.version++;
  }

  /**
   * A framework's `reserve` operation on resources it holds: they move from the
   * unreserved pool to `role`'s reservation, staying allocated to the holder.
   */
  reserve(role: string, amount: Scalars): void {
    let pool = this.reservations.get(role);
    if (pool === undefined) {
      pool = {
        fixed: zeroScalars(),
        dynamic: zeroScalars(),
        total: zeroScalars(),
        allocated: zeroScalars(),
      };
      this.reservations.set(role, pool);
    }
    subtractInto(this.unreservedTotal, amount);
    subtractInto(this.unreservedAllocated, amount);
    addInto(pool.dynamic, amount);
    addInto(pool.total, amount);
    addInto(pool.allocated, amount);
    this.version++;
  }

  /** The reverse of {@link reserve}; only dynamic reservations can be undone. */
  unreserve(role: string, amount: Scalars): void {
    const pool = this.reservations.get(role);
    if (pool === undefined) throw new Error(`agent ${this.id} has no reservation for role ${role}`);
    subtractInto(pool.dynamic, amount);
    subtractInto(pool.total, amount);
    subtractInto(pool.allocated, amount);
    addInto(this.unreservedTotal, amount);
    addInto(this.unreservedAllocated, amount);
    if (
      pool.total.milliCpus === 0 &&
      pool.total.memoryMiB === 0 &&
      pool.total.gpus === 0 &&
      pool.total.diskGiB === 0
    )
      this.reservations.delete(role);
    this.version++;
  }

  /**
   * `set` as public, frozen ranges. Offers of one agent carry the same free set pass
   * after pass (declined resources come back as the very set that was offered), so
   * one remembered conversion saves an allocation per offer.
   */
  rangesOf(set: PortSet): readonly PortRange[] {
    if (set.length === 0) return NO_RANGES;
    if (set !== this.#rangesKey) {
      this.#ranges = Object.freeze(toRanges(set).map((r) => Object.freeze(r)));
      this.#rangesKey = set;
    }
    return this.#ranges;
  }

  addTask(task: TTask): void {
    task.agentSlot = this.tasks.length;
    this.tasks.push(task);
  }

  removeTask(task: TTask): void {
    const list = this.tasks;
    const i = task.agentSlot;
    if (list[i] !== task) return;
    const last = list.pop()!;
    if (last !== task) {
      list[i] = last;
      last.agentSlot = i;
    }
    task.agentSlot = -1;
  }

  removeOffer(offer: TOffer): void {
    const list = this.offers;
    const i = list.indexOf(offer);
    if (i < 0) return;
    list[i] = list[list.length - 1]!;
    list.pop();
  }

  get active(): boolean {
    return this.status === 'active';
  }

  get gone(): boolean {
    return this.status === 'removed' || this.status === 'lost';
  }
}

const NO_RANGES: readonly PortRange[] = Object.freeze([]);
