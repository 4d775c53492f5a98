import type { Resources } from '../../core/index.js';
import type { Agent } from '../agents/agent.js';
import type { Constraint } from '../jobs/constraints.js';
import type { ExecutorReport, TaskRun, TaskSink } from '../executors/executor.js';
import type { PortRange, PortSet } from '../resources/ports.js';
import type { Scalars } from '../resources/scalars.js';
import type { SorterNode } from '../sorter/drf-sorter.js';
import type { TaskReason, TaskState } from './task-state.js';

/** A status update, as frameworks receive it. */
export interface TaskStatus {
  /** Unique; pass it to `acknowledge` when the framework uses explicit acknowledgements. */
  readonly updateId: number;
  readonly taskId: string;
  readonly frameworkId: string;
  /** Empty when the task never reached an agent. */
  readonly agentId: string;
  readonly state: TaskState;
  readonly reason: TaskReason;
  readonly message?: string;
  readonly exitCode?: number;
  readonly timestamp: number;
  /** Who said so: the executor, the scheduler itself, or a reconciliation answer. */
  readonly source: 'executor' | 'scheduler' | 'reconciliation';
}

/** A task as the scheduler's snapshot shows it. */
export interface TaskInfo {
  readonly id: string;
  readonly name: string;
  readonly frameworkId: string;
  readonly agentId: string;
  readonly role: string;
  readonly state: TaskState;
  readonly reason: TaskReason;
  readonly resources: Resources;
  readonly ports: readonly PortRange[];
  /** When it was launched (clock ms): what stopping it now would throw away. */
  readonly launchedAt: number;
  /** Where it may run, as its framework launched it (see `TaskSpec.constraints`). */
  readonly constraints: readonly Constraint[];
}

/** Who applies executor reports to task records (the scheduler). */
export interface TaskOwner<F> {
  onReport(task: TaskRecord<F>, update: ExecutorReport): void;
}

/** The scheduler's record of one task; it is also the sink its executor reports to. */
export class TaskRecord<F> implements TaskSink {
  state: TaskState = 'STAGING';
  reason: TaskReason = 'LAUNCHED';
  message: string | undefined;
  exitCode: number | undefined;
  run: TaskRun | undefined;
  /** Set when the scheduler asked for the kill, so `KILLED` carries the right reason. */
  killReason: TaskReason | undefined;
  /** Index in its agent's task list. */
  agentSlot = -1;
  /** Clock ms of the launch. */
  launchedAt = 0;
  constraints: readonly Constraint[] = [];
  constructor(
    readonly owner: TaskOwner<F>,
    readonly id: string,
    readonly name: string,
    readonly framework: F,
    readonly client: SorterNode<F>,
    readonly agent: Agent,
    readonly unreserved: Scalars,
    readonly reserved: Scalars,
    readonly ports: PortSet,
  ) {}

  report(update: ExecutorReport): void {
    this.owner.onReport(this, update);
  }
}
