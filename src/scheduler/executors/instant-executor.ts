import { systemClock, type Clock } from '../../core/index.js';
import type { Executor, ExecutorReport, TaskLaunch, TaskRun, TaskSink } from './executor.js';

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

const STARTING: ExecutorReport = Object.freeze({ state: 'STARTING' });
const RUNNING: ExecutorReport = Object.freeze({ state: 'RUNNING' });
const KILLED: ExecutorReport = Object.freeze({
  state: 'KILLED',
  reason: 'EXECUTOR_UPDATE',
  message: 'killed',
});

/** One simulated task. A class, not closures: benchmarks run a million of these. */
class InstantRun implements TaskRun {
  done = false;
  cancel: (() => void) | undefined;
  constructor(
    readonly executor: InstantExecutor,
    readonly sink: TaskSink,
  ) {}

  end(update: ExecutorReport): void {
    if (this.done) return;
    this.done = true;
    this.executor.ended();
    this.cancel?.();
    this.cancel = undefined;
    this.sink.report(update);
  }

  kill(): void {
    this.end(KILLED);
  }
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

  /** @internal Called by a run when it ends. */
  ended(): void {
    this.#running--;
  }

  launch(task: TaskLaunch, sink: TaskSink): TaskRun {
    const run = new InstantRun(this, sink);
    this.#running++;
    sink.report(STARTING);
    sink.report(RUNNING);
    const outcome =
      this.#outcome?.(task) ??
      (task.durationMs === undefined
        ? undefined
        : ({ state: 'FINISHED', afterMs: task.durationMs } as const));
    if (outcome !== undefined && !run.done) {
      const end: ExecutorReport = {
        state: outcome.state,
        reason: 'COMMAND_EXITED',
        exitCode: outcome.exitCode ?? (outcome.state === 'FINISHED' ? 0 : 1),
      };
      const after = outcome.afterMs ?? 0;
      if (after <= 0) run.end(end);
      else run.cancel = this.#clock.schedule(after, () => run.end(end));
    }
    return run;
  }
}
