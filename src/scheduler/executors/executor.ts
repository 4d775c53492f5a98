import type { Resources } from '../../core/index.js';
import type { PortRange } from '../resources/ports.js';

/** Everything an executor needs to run one task. */
export interface TaskLaunch {
  readonly taskId: string;
  readonly frameworkId: string;
  readonly agentId: string;
  readonly hostname: string;
  readonly name: string;
  readonly resources: Readonly<Resources>;
  readonly ports: readonly PortRange[];
  /** A shell command (`/bin/sh -c`), for executors that run processes. */
  readonly command: string | undefined;
  /** Extra environment for the command. */
  readonly env: Readonly<Record<string, string>>;
  /** For simulating executors: how long the task runs before it finishes. */
  readonly durationMs: number | undefined;
  readonly labels: Readonly<Record<string, string>>;
}

/** Progress an executor reports. `STAGING` is the scheduler's own; executors start at `STARTING`. */
export interface ExecutorReport {
  readonly state: 'STARTING' | 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';
  readonly reason?: 'EXECUTOR_UPDATE' | 'COMMAND_EXITED' | 'COMMAND_SIGNALED' | 'EXECUTOR_FAILED';
  readonly message?: string;
  readonly exitCode?: number;
}

/** Where an executor sends a task's progress (the scheduler's record of the task). */
export interface TaskSink {
  report(update: ExecutorReport): void;
}

/** A running task, as its executor holds it. */
export interface TaskRun {
  /**
   * Stops the task. The executor reports `KILLED` once it has (or `FINISHED`/`FAILED`
   * if the task ended first). Calling it twice, or after the task ended, does nothing.
   */
  kill(): void;
}

/**
 * Runs tasks. One interface for real processes ({@link LocalProcessExecutor}),
 * simulations ({@link InstantExecutor}) and anything else (containers, remote agents).
 *
 * Rules: `launch` never throws for a task's own failure — it reports `FAILED`; reports
 * for one task arrive in order; after a terminal report nothing more is reported.
 * Progress goes to a sink object rather than a callback so that launching a million
 * tasks does not make a million closures.
 *
 * @example
 * ```ts
 * const echo: Executor = {
 *   launch(task, sink) {
 *     sink.report({ state: 'RUNNING' });
 *     queueMicrotask(() => sink.report({ state: 'FINISHED', reason: 'COMMAND_EXITED', exitCode: 0 }));
 *     return { kill() {} };
 *   },
 * };
 * ```
 */
export interface Executor {
  launch(task: TaskLaunch, sink: TaskSink): TaskRun;
  /** Stops every task this executor runs and releases what it holds. */
  close?(): Promise<void>;
}
