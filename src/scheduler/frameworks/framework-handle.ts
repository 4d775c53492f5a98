import { Conflict, parse } from '../../core/index.js';
import type { TaskInfo } from '../tasks/task.js';
import type { TaskReason } from '../tasks/task-state.js';
import type { EventStream } from './event-stream.js';
import type { FrameworkEvent } from './framework-events.js';
import type { FrameworkRecord } from './framework-record.js';
import {
  DemandInputSchema,
  OfferIdsSchema,
  OperationSchema,
  RefuseOptionsSchema,
  RolesArgSchema,
  type DemandInput,
  type Operation,
  type OperationInput,
  type RefuseOptionsInput,
  type TrustedOperation,
} from './framework-schemas.js';
import { z } from 'zod';

/** What an `accept` did. */
export interface AcceptResult {
  /** Ids of tasks now STAGING. */
  readonly launched: readonly string[];
  /** Tasks that never started (each also gets a DROPPED update). */
  readonly dropped: readonly {
    readonly taskId: string;
    readonly reason: TaskReason;
    readonly message: string;
  }[];
  /** One entry per operation, in order. */
  readonly operations: readonly {
    readonly type: Operation['type'];
    readonly ok: boolean;
    readonly message?: string;
  }[];
}

/** The scheduler's side of a handle (internal). */
export interface FrameworkOps {
  accept(
    fw: FrameworkRecord,
    offerIds: readonly string[],
    ops: readonly TrustedOperation[],
    refuseSeconds: number,
    trusted: boolean,
  ): AcceptResult;
  decline(fw: FrameworkRecord, offerIds: readonly string[], refuseSeconds: number): number;
  suppress(fw: FrameworkRecord, roles: readonly string[] | undefined): void;
  revive(fw: FrameworkRecord, roles: readonly string[] | undefined): void;
  kill(fw: FrameworkRecord, taskId: string): void;
  reconcile(fw: FrameworkRecord, taskIds: readonly string[] | undefined): void;
  acknowledge(fw: FrameworkRecord, taskId: string, updateId: number): boolean;
  teardown(fw: FrameworkRecord): void;
  disconnect(fw: FrameworkRecord): void;
  tasks(fw: FrameworkRecord): TaskInfo[];
}

/** Internal: accept without re-validating operations the caller built from validated input. */
export const ACCEPT_TRUSTED: unique symbol = Symbol('kumo.scheduler.acceptTrusted');

const DemandListSchema = z.array(DemandInputSchema);
const TaskIdSchema = z.string().min(1);
const UpdateIdSchema = z.number().int().positive();

/**
 * A registered framework's connection to the scheduler: how it answers offers and
 * manages its tasks. Events arrive through the callbacks given at registration and
 * through {@link events}. After `disconnect`, `teardown` or a failover by another
 * registration, every call throws `Conflict`.
 *
 * @example
 * ```ts
 * const fw = scheduler.registerFramework({ name: 'etl', roles: ['batch'] });
 * for await (const event of fw.events()) {
 *   if (event.type !== 'offers') continue;
 *   for (const offer of event.offers)
 *     fw.accept([offer.id], [{ type: 'launch', tasks: [{ id: `t-${offer.id}`, resources: { cpus: 1, memoryMiB: 512 }, command: 'echo hi' }] }]);
 * }
 * ```
 */
export class FrameworkHandle {
  readonly id: string;
  readonly #fw: FrameworkRecord;
  readonly #ops: FrameworkOps;
  readonly #epoch: number;

  constructor(fw: FrameworkRecord, ops: FrameworkOps) {
    this.id = fw.id;
    this.#fw = fw;
    this.#ops = ops;
    this.#epoch = fw.epoch;
  }

  /** True until this handle is disconnected, torn down or failed over. */
  get connected(): boolean {
    return this.#fw.epoch === this.#epoch && this.#fw.status === 'connected';
  }

  /**
   * Uses offers (all on one agent, all for one role): operations run in order, tasks
   * take reserved resources first. What is left returns at once, refused to this
   * framework for `refuseSeconds` (default 5).
   */
  accept(
    offerIds: readonly string[],
    operations: readonly OperationInput[],
    options: RefuseOptionsInput = {},
  ): AcceptResult {
    const fw = this.#live();
    const ids = parse(OfferIdsSchema, offerIds, 'offer ids', 'offerIds');
    const ops = parse(z.array(OperationSchema), operations, 'operations', 'operations');
    const { refuseSeconds } = parse(RefuseOptionsSchema, options, 'accept options');
    return this.#ops.accept(fw, ids, ops, refuseSeconds, false);
  }

  /** Internal fast path for the built-in jobs framework (inputs already validated). */
  [ACCEPT_TRUSTED](
    offerIds: readonly string[],
    operations: readonly TrustedOperation[],
    refuseSeconds: number,
  ): AcceptResult {
    return this.#ops.accept(this.#live(), offerIds, operations, refuseSeconds, true);
  }

  /** Hands offers back; they are not offered to this framework again for `refuseSeconds` (default 5). Returns how many were outstanding. */
  decline(offerIds: readonly string[], options: RefuseOptionsInput = {}): number {
    const fw = this.#live();
    const ids = parse(OfferIdsSchema, offerIds, 'offer ids', 'offerIds');
    const { refuseSeconds } = parse(RefuseOptionsSchema, options, 'decline options');
    return this.#ops.decline(fw, ids, refuseSeconds);
  }

  /** Stops offers (for some roles, default all) until {@link revive}. */
  suppress(roles?: readonly string[]): void {
    this.#ops.suppress(this.#live(), parse(RolesArgSchema, roles, 'roles'));
  }

  /** Resumes offers and clears this framework's offer filters. */
  revive(roles?: readonly string[]): void {
    this.#ops.revive(this.#live(), parse(RolesArgSchema, roles, 'roles'));
  }

  /** Kills a task; a KILLED update follows (or LOST with TASK_UNKNOWN for an unknown id). */
  kill(taskId: string): void {
    this.#ops.kill(this.#live(), parse(TaskIdSchema, taskId, 'task id'));
  }

  /** Asks for the latest state of some tasks, or of all when no ids are given. */
  reconcile(taskIds?: readonly string[]): void {
    this.#ops.reconcile(this.#live(), parse(z.array(TaskIdSchema).optional(), taskIds, 'task ids'));
  }

  /** Confirms an update (explicit acknowledgements). False when nothing was waiting for it. */
  acknowledge(taskId: string, updateId: number): boolean {
    return this.#ops.acknowledge(
      this.#live(),
      parse(TaskIdSchema, taskId, 'task id'),
      parse(UpdateIdSchema, updateId, 'update id'),
    );
  }

  /** Ends the framework: its tasks are killed and it is forgotten. */
  teardown(): void {
    this.#ops.teardown(this.#live());
  }

  /** Drops the connection; tasks keep running until the failover timeout. */
  disconnect(): void {
    this.#ops.disconnect(this.#live());
  }

  /** Events from now on, as an async iterator (ends when the handle is no longer connected). */
  events(): AsyncIterableIterator<FrameworkEvent> {
    const stream: EventStream<FrameworkEvent> = this.#fw.openStream();
    if (!this.connected) stream.end();
    return stream;
  }

  /**
   * Reports what this framework is waiting for (see `Scheduler.demand`). Give a list,
   * or a function the scheduler calls whenever demand is read.
   */
  reportDemand(demand: readonly DemandInput[] | (() => readonly DemandInput[])): void {
    const fw = this.#live();
    if (typeof demand === 'function') fw.demand = demand;
    else {
      const list = parse(DemandListSchema, demand, 'demand');
      fw.demand = () => list;
    }
  }

  /** This framework's tasks (live, and finished ones awaiting acknowledgement). */
  tasks(): TaskInfo[] {
    return this.#ops.tasks(this.#live());
  }

  #live(): FrameworkRecord {
    if (this.#fw.epoch !== this.#epoch)
      throw new Conflict(`framework ${this.id} has failed over to a newer registration`);
    if (this.#fw.status !== 'connected')
      throw new Conflict(`framework ${this.id} is ${this.#fw.status}`);
    return this.#fw;
  }
}
