import { systemClock, type Clock } from '../../core/index.js';
import type { Executor, ExecutorReport, TaskLaunch, TaskRun } from './executor.js';

/** How a simulated task ends. */
export interface InstantOutcome {
  readonly state: 'FINISHED' | 'FAILED';
  /** After how long (on the executor's clock); 0 ends it at once. */
  readonly afterMs?: number;
  readonly exitCode?: number;
}

export interface InstantExecutorOptions {
  /** Clock for task durations; use the scheduler's. */
  clock?: Clock;
  /**
   * Decides each task's end. By default a task with `durationMs` finishes after it
   * and a task without one runs until killed.
   */
  outcome?: (task: TaskLaunch) => InstantOutcome | undefined;
}

/**
 * An executor for simulations and benchmarks: tasks start and run at once (no
 * process), end after their `durationMs` on the injected clock, or when killed.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * const executor = new InstantExecutor({ clock });
 * const scheduler = new Scheduler({ clock, executor });
 * ```
 */
export class InstantExecutor implements Executor {
  readonly #clock: Clock;
  readonly #outcome: ((task: TaskLaunch) => InstantOutcome | undefined) | undefined;
  #running = 0;

  constructor(options: InstantExecutorOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#outcome = options.outcome;
  }

  /** Tasks started and not yet ended. */
  get running(): number {
    return this.#running;
  }

  launch(task: TaskLaunch, report: (update: ExecutorReport) => void): TaskRun {
    let done = false;
    let cancel: (() => void) | undefined;
    this.#running++;
    const end = (update: ExecutorReport): void => {
      if (done) return;
      done = true;
      this.#running--;
      cancel?.();
      report(update);
    };
    report({ state: 'STARTING' });
    report({ state: 'RUNNING' });
    const outcome =
      this.#outcome?.(task) ??
      (task.durationMs === undefined
        ? undefined
        : ({ state: 'FINISHED', afterMs: task.durationMs } as const));
    if (outcome !== undefined) {
      const finish = (): void =>
        end({
          state: outcome.state,
          reason: 'COMMAND_EXITED',
          exitCode: outcome.exitCode ?? (outcome.state === 'FINISHED' ? 0 : 1),
        });
      const after = outcome.afterMs ?? 0;
      if (after <= 0) finish();
      else cancel = this.#clock.schedule(after, finish);
    }
    return { kill: () => end({ state: 'KILLED', reason: 'EXECUTOR_UPDATE', message: 'killed' }) };
  }
}
