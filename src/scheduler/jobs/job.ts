import type { PlacementContext, PlacementRequest } from './constraints.js';
import type { TaskTemplate } from '../frameworks/framework-schemas.js';
import type { JobSpec } from './job-schemas.js';

/** Where a job stands. */
export type JobState = 'pending' | 'running' | 'finished' | 'failed' | 'cancelled';

/** A job as callers see it. */
export interface JobStatus {
  readonly id: string;
  readonly name: string;
  readonly state: JobState;
  readonly priority: number;
  readonly tasks: number;
  /** Waiting for an offer. */
  readonly pending: number;
  /** Failed, waiting out their backoff before the next attempt. */
  readonly backingOff: number;
  /** Launched, not yet RUNNING. */
  readonly staging: number;
  readonly running: number;
  readonly finished: number;
  /** Failed with no retries left. */
  readonly failed: number;
  /** Killed or never launched because the job was cancelled. */
  readonly cancelled: number;
  /** Times a restartable task was stopped by its machine and queued again. */
  readonly moved: number;
  readonly launches: number;
  readonly submittedAt: number;
  readonly endedAt: number | undefined;
}

/** One launched task of a job. */
export interface LiveTask {
  /** `<job id>.<index>.<run>`, the scheduler's task id. */
  readonly id: string;
  readonly job: Job;
  readonly index: number;
  readonly attempt: number;
  readonly run: number;
  /** Times this task was moved before this run. */
  readonly moves: number;
  readonly agentId: string;
  readonly hostname: string;
  /** The task's values of the job's spread attributes, in constraint order. */
  readonly spreadValues: readonly string[] | undefined;
  running: boolean;
  /** Killed to be run elsewhere (its machine is being drained). */
  moving?: boolean;
}

/** A task waiting to be (re)launched. */
export interface QueuedTask {
  readonly index: number;
  readonly attempt: number;
  readonly run: number;
  /** Times this task was moved so far. */
  readonly moves: number;
  readonly readyAt: number;
}

/** The jobs framework's record of one job. */
export class Job {
  nextFresh = 0;
  readonly retryReady: QueuedTask[] = [];
  retryHead = 0;
  backingOff = 0;
  running = 0;
  finished = 0;
  failed = 0;
  cancelled = 0;
  moved = 0;
  launches = 0;
  isCancelled = false;
  queued = false;
  endedAt: number | undefined;
  /** Launched and not yet ended. */
  live = 0;
  /**
   * Launched tasks not yet ended, by task index: one run of an index at a time, so
   * an array per job finds a task from its id without a map over every task.
   */
  readonly liveTasks: (LiveTask | undefined)[] = [];
  readonly perAgent: Map<string, number> | undefined;
  readonly perHost: Map<string, number> | undefined;
  readonly perAttribute: Map<string, Map<string, number>> | undefined;
  readonly spreadAttributes: readonly string[];
  readonly request: PlacementRequest;
  /** What each of its tasks launches with. */
  readonly template: TaskTemplate;
  readonly context: PlacementContext;
  readonly waiters: ((status: JobStatus) => void)[] = [];

  constructor(
    readonly id: string,
    readonly spec: JobSpec,
    readonly seq: number,
    readonly submittedAt: number,
    attributeValues: (attribute: string) => Iterable<string>,
  ) {
    const ops = new Set(spec.constraints.map((c) => c.op));
    this.perAgent = ops.has('maxPerAgent') ? new Map() : undefined;
    this.perHost = ops.has('uniqueHost') ? new Map() : undefined;
    this.spreadAttributes = spec.constraints.flatMap((c) =>
      c.op === 'spread' ? [c.attribute] : [],
    );
    this.perAttribute =
      this.spreadAttributes.length > 0
        ? new Map(this.spreadAttributes.map((a) => [a, new Map()]))
        : undefined;
    this.request = { resources: spec.resources, constraints: spec.constraints };
    this.template = {
      resources: spec.resources,
      command: spec.command,
      env: spec.env,
      durationMs: spec.durationMs,
      labels: spec.labels,
      constraints: spec.constraints,
    };
    this.context = {
      tasksOnAgent: (agentId) => this.perAgent?.get(agentId) ?? 0,
      tasksOnHost: (hostname) => this.perHost?.get(hostname) ?? 0,
      tasksWith: (attribute, value) => this.perAttribute?.get(attribute)?.get(value) ?? 0,
      attributeValues,
    };
  }

  /** Tasks waiting for an offer now. */
  get ready(): number {
    return this.spec.tasks - this.nextFresh + (this.retryReady.length - this.retryHead);
  }

  /** When the longest-waiting ready task started waiting. */
  get readySince(): number | undefined {
    if (this.nextFresh < this.spec.tasks) return this.submittedAt;
    return this.retryHead < this.retryReady.length
      ? this.retryReady[this.retryHead]!.readyAt
      : undefined;
  }

  /** The next task to launch (retries first: they have waited longest). */
  take(): QueuedTask {
    if (this.retryHead < this.retryReady.length) {
      const t = this.retryReady[this.retryHead++]!;
      if (this.retryHead === this.retryReady.length) {
        this.retryReady.length = 0;
        this.retryHead = 0;
      }
      return t;
    }
    return { index: this.nextFresh++, attempt: 0, run: 0, moves: 0, readyAt: this.submittedAt };
  }

  /** Drops everything still waiting (cancel); returns how many. */
  dropQueued(): number {
    const n = this.ready;
    this.nextFresh = this.spec.tasks;
    this.retryReady.length = 0;
    this.retryHead = 0;
    return n;
  }

  count(task: LiveTask, delta: 1 | -1): void {
    if (this.perAgent !== undefined) bump(this.perAgent, task.agentId, delta);
    if (this.perHost !== undefined) bump(this.perHost, task.hostname, delta);
    if (this.perAttribute !== undefined && task.spreadValues !== undefined)
      this.spreadAttributes.forEach((a, i) =>
        bump(this.perAttribute!.get(a)!, task.spreadValues![i]!, delta),
      );
  }

  get settled(): boolean {
    return this.finished + this.failed + this.cancelled === this.spec.tasks;
  }

  status(): JobStatus {
    const live = this.live;
    let state: JobState;
    if (this.isCancelled) state = live === 0 ? 'cancelled' : 'running';
    else if (this.settled) state = this.failed > 0 ? 'failed' : 'finished';
    else state = live > 0 || this.finished + this.failed > 0 ? 'running' : 'pending';
    return {
      id: this.id,
      name: this.spec.name,
      state,
      priority: this.spec.priority,
      tasks: this.spec.tasks,
      pending: this.ready,
      backingOff: this.backingOff,
      staging: live - this.running,
      running: this.running,
      finished: this.finished,
      failed: this.failed,
      cancelled: this.cancelled,
      moved: this.moved,
      launches: this.launches,
      submittedAt: this.submittedAt,
      endedAt: this.endedAt,
    };
  }
}

function bump(map: Map<string, number>, key: string, delta: number): void {
  const n = (map.get(key) ?? 0) + delta;
  if (n === 0) map.delete(key);
  else map.set(key, n);
}
