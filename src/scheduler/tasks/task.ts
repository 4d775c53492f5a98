import type { Resources } from '../../core/index.js';
import type { Agent } from '../agents/agent.js';
import type { TaskRun } from '../executors/executor.js';
import type { PortRange, PortSet } from '../resources/ports.js';
import type { Scalars } from '../resources/scalars.js';
import type { SorterNode } from '../sorter/drf-sorter.js';
import type { TaskReason, TaskState } from './task-state.js';

/** A status update, as frameworks receive it. */
export interface TaskStatus {
  /** Unique; pass it to `acknowledge` when the framework uses explicit acknowledgements. */
  readonly updateId: string;
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
}

/** The scheduler's record of one task. */
export class TaskRecord<F> {
  state: TaskState = 'STAGING';
  reason: TaskReason = 'LAUNCHED';
  message: string | undefined;
  exitCode: number | undefined;
  run: TaskRun | undefined;
  /** Set when the scheduler asked for the kill, so `KILLED` carries the right reason. */
  killReason: TaskReason | undefined;
  constructor(
    readonly id: string,
    readonly name: string,
    readonly framework: F,
    readonly client: SorterNode<F>,
    readonly agent: Agent,
    readonly unreserved: Scalars,
    readonly reserved: Scalars,
    readonly ports: PortSet,
  ) {}
}
