import { VirtualClock } from '../../src/core/index.js';
import {
  InstantExecutor,
  Scheduler,
  type AgentSpecInput,
  type Executor,
  type ExecutorReport,
  type FrameworkEvent,
  type FrameworkHandle,
  type FrameworkSpecInput,
  type Offer,
  type SchedulerOptionsInput,
  type TaskLaunch,
  type TaskRun,
  type TaskSink,
  type TaskStatus,
} from '../../src/index.js';

/** An executor the test drives by hand: tasks stay where the test puts them. */
export class ManualExecutor implements Executor {
  readonly launched: TaskLaunch[] = [];
  readonly sinks = new Map<string, TaskSink>();
  readonly kills: string[] = [];
  /** When true, a kill is reported as KILLED at once. */
  killAtOnce = true;

  launch(task: TaskLaunch, sink: TaskSink): TaskRun {
    this.launched.push(task);
    this.sinks.set(task.taskId, sink);
    return {
      kill: () => {
        this.kills.push(task.taskId);
        if (this.killAtOnce) sink.report({ state: 'KILLED' });
      },
    };
  }

  report(taskId: string, update: ExecutorReport): void {
    const sink = this.sinks.get(taskId);
    if (sink === undefined) throw new Error(`no task ${taskId} was launched`);
    sink.report(update);
  }

  run(taskId: string): void {
    this.report(taskId, { state: 'STARTING' });
    this.report(taskId, { state: 'RUNNING' });
  }

  finish(taskId: string, exitCode = 0): void {
    this.report(taskId, {
      state: exitCode === 0 ? 'FINISHED' : 'FAILED',
      reason: 'COMMAND_EXITED',
      exitCode,
    });
  }
}

export interface Harness {
  clock: VirtualClock;
  scheduler: Scheduler;
  /** Lets due timers fire (passes, timeouts) and events reach frameworks. */
  flush(ms?: number): Promise<void>;
}

export function harness(
  options: Partial<SchedulerOptionsInput> = {},
  executor?: Executor,
): Harness {
  const clock = new VirtualClock();
  const scheduler = new Scheduler({
    clock,
    executor: executor ?? new InstantExecutor({ clock }),
    ...options,
  });
  return { clock, scheduler, flush: (ms = 0) => clock.advance(ms) };
}

export function agent(
  id: string,
  cpus = 4,
  memoryMiB = 8192,
  extra: Partial<AgentSpecInput> = {},
): AgentSpecInput {
  return { id, resources: { cpus, memoryMiB, ports: [[31000, 31009]] }, ...extra };
}

/** A framework that records everything it hears and answers nothing by itself. */
export interface Recorder {
  handle: FrameworkHandle;
  events: FrameworkEvent[];
  offers: Offer[];
  updates: TaskStatus[];
  /** Offers not yet accepted, declined or rescinded. */
  outstanding(): Offer[];
}

export function recorder(scheduler: Scheduler, spec: Partial<FrameworkSpecInput> = {}): Recorder {
  const events: FrameworkEvent[] = [];
  const offers: Offer[] = [];
  const updates: TaskStatus[] = [];
  const used = new Set<string>();
  const handle = scheduler.registerFramework({
    name: 'rec',
    ...spec,
    on: {
      offers: (o) => {
        events.push({ type: 'offers', offers: o });
        offers.push(...o);
      },
      rescind: (offerId, reason) => {
        events.push({ type: 'rescind', offerId, reason });
        used.add(offerId);
      },
      inverseOffers: (inverseOffers) => events.push({ type: 'inverseOffers', inverseOffers }),
      update: (status) => {
        events.push({ type: 'update', status });
        updates.push(status);
      },
      agentLost: (agentId, removed) => events.push({ type: 'agentLost', agentId, removed }),
      error: (message) => events.push({ type: 'error', message }),
    },
  });
  const wrapped: Recorder = {
    handle,
    events,
    offers,
    updates,
    outstanding: () => offers.filter((o) => !used.has(o.id)),
  };
  // Remember what the test spends, so outstanding() stays truthful.
  const accept = handle.accept.bind(handle);
  const decline = handle.decline.bind(handle);
  handle.accept = (ids, ops, opts) => {
    ids.forEach((i) => used.add(i));
    return accept(ids, ops, opts);
  };
  handle.decline = (ids, opts) => {
    ids.forEach((i) => used.add(i));
    return decline(ids, opts);
  };
  return wrapped;
}

export function task(id: string, cpus = 1, memoryMiB = 256, extra: Record<string, unknown> = {}) {
  return { id, resources: { cpus, memoryMiB }, ...extra };
}
