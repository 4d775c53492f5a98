/**
 * A task's life: `STAGING` (resources taken, handed to the executor) → `STARTING` →
 * `RUNNING` → one terminal state. `DROPPED` means the task never started (its offer
 * was no longer valid, or its resources did not fit).
 */
export type TaskState =
  'STAGING' | 'STARTING' | 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED' | 'LOST' | 'DROPPED';

export const TASK_STATES: readonly TaskState[] = [
  'STAGING',
  'STARTING',
  'RUNNING',
  'FINISHED',
  'FAILED',
  'KILLED',
  'LOST',
  'DROPPED',
];

/** Why a task is where it is. */
export type TaskReason =
  /** Accepted from an offer and handed to the executor. */
  | 'LAUNCHED'
  /** The executor reported progress. */
  | 'EXECUTOR_UPDATE'
  /** The command exited; see `exitCode`. */
  | 'COMMAND_EXITED'
  /** The command was ended by a signal it was not sent by us. */
  | 'COMMAND_SIGNALED'
  /** The executor could not start the command (missing command, spawn failure). */
  | 'EXECUTOR_FAILED'
  /** The framework killed it. */
  | 'KILLED_BY_FRAMEWORK'
  /** The framework was torn down or did not fail over in time. */
  | 'FRAMEWORK_REMOVED'
  /** The agent's drain deadline passed with the task still running. */
  | 'DRAIN_DEADLINE'
  /** The agent was lost. */
  | 'AGENT_LOST'
  /** The agent was removed with the task still on it. */
  | 'AGENT_REMOVED'
  /** A launch named offers that were unknown, rescinded, another framework's or on different agents. */
  | 'INVALID_OFFERS'
  /** The offers did not hold what the task asked for. */
  | 'INSUFFICIENT_RESOURCES'
  /** The agent is draining or gone. */
  | 'AGENT_UNAVAILABLE'
  /** Sent in answer to `reconcile`. */
  | 'RECONCILIATION'
  /** The scheduler does not know the task (reconcile or kill of an unknown id). */
  | 'TASK_UNKNOWN';

const TERMINAL = new Set<TaskState>(['FINISHED', 'FAILED', 'KILLED', 'LOST', 'DROPPED']);

export function isTerminal(state: TaskState): boolean {
  return TERMINAL.has(state);
}

const ORDER: Record<TaskState, number> = {
  STAGING: 0,
  STARTING: 1,
  RUNNING: 2,
  FINISHED: 3,
  FAILED: 3,
  KILLED: 3,
  LOST: 3,
  DROPPED: 3,
};

/**
 * Whether a task may move from `from` to `to`: only forwards, never out of a terminal
 * state (a late "RUNNING" after "KILLED" is ignored, as Mesos does).
 */
export function canTransition(from: TaskState, to: TaskState): boolean {
  if (TERMINAL.has(from)) return false;
  return ORDER[to] > ORDER[from];
}
