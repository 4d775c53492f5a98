import { Conflict, NotFound, parse, type Clock } from '../../core/index.js';
import { ACCEPT_TRUSTED, type FrameworkHandle } from '../frameworks/framework-handle.js';
import type { DemandInput, LaunchManyOperation } from '../frameworks/framework-schemas.js';
import type { InverseOffer, Offer } from '../offers/offer.js';
import { portCount, portSetOf } from '../resources/ports.js';
import { toMilliCpus } from '../resources/scalars.js';
import type { Scheduler } from '../scheduler.js';
import type { TaskStatus } from '../tasks/task.js';
import { isTerminal } from '../tasks/task-state.js';
import { attributeValue, maxPlaceable, type AgentView, type Constraint } from './constraints.js';
import { Job, type JobStatus, type LiveTask } from './job.js';
import {
  JobSpecSchema,
  JobsFrameworkOptionsSchema,
  type JobSpecInput,
  type JobsFrameworkOptionsInput,
} from './job-schemas.js';

/** Work the jobs framework is waiting to place: one entry per job with tasks waiting. */
export interface JobDemand {
  readonly jobId: string;
  readonly name: string;
  /** One task's needs; `ports` is a count. */
  readonly resources: {
    readonly cpus: number;
    readonly memoryMiB: number;
    readonly gpus: number;
    readonly diskGiB: number;
    readonly ports: number;
  };
  readonly count: number;
  readonly constraints: readonly Constraint[];
  readonly priority: number;
  /** When the longest-waiting of these tasks started waiting (scheduler clock ms). */
  readonly since: number;
  readonly waitedMs: number;
}

/** How a task ends when its machine ends it (not the task itself). */
const MACHINE_ENDED = new Set<string | undefined>([
  'DRAIN_DEADLINE',
  'AGENT_LOST',
  'AGENT_REMOVED',
]);

/** Totals over all jobs. */
export interface JobsStats {
  readonly jobs: number;
  readonly pending: number;
  readonly backingOff: number;
  readonly staging: number;
  readonly running: number;
  readonly finished: number;
  readonly failed: number;
  readonly cancelled: number;
  /** Times a restartable task was stopped by its machine and queued again. */
  readonly moved: number;
}

/**
 * The built-in queue framework: submit jobs of N identical tasks; it places them from
 * offers (priority first, then submission order), honouring each job's constraints
 * through the same {@link maxPlaceable} rule `canPlace` exposes, retries failures
 * with backoff, and suppresses offers while it has nothing to place.
 *
 * Its backlog — what waits, and since when — is the demand signal burst policies
 * read, through {@link backlog} or `scheduler.demand()`.
 *
 * @example
 * ```ts
 * const jobs = new JobsFramework(scheduler);
 * const id = jobs.submit({ name: 'render', tasks: 100, resources: { cpus: 1, memoryMiB: 2048 },
 *   command: 'render-frame "$KUMO_TASK_ID"', retries: { max: 2 } });
 * const done = await jobs.wait(id); // { state: 'finished', finished: 100, … }
 * ```
 */
export class JobsFramework {
  readonly #scheduler: Scheduler;
  readonly #clock: Clock;
  readonly #handle: FrameworkHandle;
  readonly #refuseSeconds: number;
  readonly #keepEnded: number;
  /** Ids of ended jobs still kept, oldest first (a Set keeps insertion order). */
  readonly #ended = new Set<string>();
  /**
   * Ids of the last `keepEnded` forgotten jobs, oldest first: not reused while here, and
   * `job()`/`wait()` on one says it was forgotten. Bounded, so memory does not grow with
   * the framework's history; an id older than these is unknown and free again.
   */
  readonly #forgottenIds = new Set<string>();
  /** What forgotten jobs add to `stats()`. */
  readonly #forgotten = { jobs: 0, finished: 0, failed: 0, cancelled: 0, moved: 0 };
  readonly #jobs = new Map<string, Job>();
  /** Jobs with tasks waiting, by (priority desc, submission asc). */
  #queue: Job[] = [];
  #seq = 0;
  #suppressed = false;
  #closed = false;
  readonly #timers = new Set<() => void>();
  /** Live tasks of restartable jobs by agent, so a drain notice finds them at once. */
  readonly #restartableTasks = new Map<string, Set<LiveTask>>();

  constructor(scheduler: Scheduler, options: JobsFrameworkOptionsInput = {}) {
    const o = parse(JobsFrameworkOptionsSchema, options, 'jobs framework options');
    this.#scheduler = scheduler;
    this.#clock = scheduler.clock;
    this.#refuseSeconds = o.refuseSeconds;
    this.#keepEnded = o.keepEnded;
    this.#handle = scheduler.registerFramework({
      name: o.name,
      roles: [o.role],
      on: {
        offers: (offers) => this.#onOffers(offers),
        update: (status) => this.#onUpdate(status),
        inverseOffers: (notices) => this.#onDrainNotices(notices),
      },
    });
    this.#handle.reportDemand(() => this.#demandInputs());
    // Nothing to place yet.
    this.#handle.suppress();
    this.#suppressed = true;
  }

  /** The framework id it registered under. */
  get frameworkId(): string {
    return this.#handle.id;
  }

  /** Queues a job; returns its id. Throws `ValidationError` naming the bad field, `Conflict` on a reused id or once closed. */
  submit(spec: JobSpecInput): string {
    if (this.#closed) throw new Conflict('the jobs framework is closed: register a new one');
    const s = parse(JobSpecSchema, spec, 'job', 'job');
    const id = s.id ?? this.#freshId();
    if (this.#jobs.has(id) || this.#forgottenIds.has(id))
      throw new Conflict(`job ${id} already exists`);
    const job = new Job(id, s, this.#seq++, this.#clock.now(), (a) =>
      this.#scheduler.attributeValues(a),
    );
    this.#jobs.set(id, job);
    this.#enqueue(job);
    return id;
  }

  /** A job's status; throws `NotFound` for an unknown id. */
  job(id: string): JobStatus {
    return this.#job(id).status();
  }

  jobs(): JobStatus[] {
    return [...this.#jobs.values()].map((j) => j.status());
  }

  /** Totals over all jobs (cheap enough to poll). */
  stats(): JobsStats {
    let pending = 0;
    let backingOff = 0;
    let live = 0;
    let running = 0;
    let { finished, failed, cancelled, moved } = this.#forgotten;
    for (const j of this.#jobs.values()) {
      pending += j.ready;
      backingOff += j.backingOff;
      live += j.live;
      running += j.running;
      finished += j.finished;
      failed += j.failed;
      cancelled += j.cancelled;
      moved += j.moved;
    }
    return {
      jobs: this.#jobs.size + this.#forgotten.jobs,
      pending,
      backingOff,
      staging: live - running,
      running,
      finished,
      failed,
      cancelled,
      moved,
    };
  }

  /** Resolves when every task of the job has ended for good (finished, failed, or cancelled). */
  // async, so an unknown or forgotten job is a rejection, not a throw.
  async wait(id: string): Promise<JobStatus> {
    const job = this.#job(id);
    if (job.endedAt !== undefined) return job.status();
    return new Promise((resolve) => job.waiters.push(resolve));
  }

  /** Cancels a job: waiting tasks are dropped, running ones killed. */
  cancel(id: string): void {
    const job = this.#job(id);
    if (job.isCancelled || job.endedAt !== undefined) return;
    job.isCancelled = true;
    job.cancelled += job.dropQueued() + job.backingOff;
    job.backingOff = 0;
    for (const t of job.liveTasks) if (t !== undefined) this.#handle.kill(t.id);
    this.#maybeEnd(job);
  }

  /**
   * The demand signal: for every job with tasks waiting, one task's resources, how
   * many wait, their constraints and how long the oldest has waited.
   */
  backlog(): JobDemand[] {
    const now = this.#clock.now();
    const out: JobDemand[] = [];
    // Every job with tasks ready is queued: the scan is over waiting work, not history.
    for (const job of [...this.#queue].sort((a, b) => a.seq - b.seq)) {
      const count = job.ready;
      if (count === 0) continue;
      const since = job.readySince ?? now;
      const r = job.spec.resources;
      out.push({
        jobId: job.id,
        name: job.spec.name,
        resources: {
          cpus: r.cpus,
          memoryMiB: r.memoryMiB,
          gpus: r.gpus,
          diskGiB: r.diskGiB,
          ports: r.ports,
        },
        count,
        constraints: job.spec.constraints,
        priority: job.spec.priority,
        since,
        waitedMs: Math.max(0, now - since),
      });
    }
    return out;
  }

  /**
   * Tears the framework down: its tasks are killed and pending retries dropped. Jobs
   * still under way end as cancelled, so `wait()` settles; `submit()` then throws.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const cancel of this.#timers) cancel();
    this.#timers.clear();
    if (this.#handle.connected) this.#handle.teardown();
    // No update reaches a torn-down framework: the tasks it killed end here.
    for (const job of this.#jobs.values()) {
      if (job.endedAt !== undefined) continue;
      job.isCancelled = true;
      job.cancelled += job.dropQueued() + job.backingOff + job.live;
      job.backingOff = 0;
      job.liveTasks.forEach((t, i) => {
        if (t === undefined) return;
        job.count(t, -1);
        job.liveTasks[i] = undefined;
      });
      job.live = 0;
      job.running = 0;
      this.#maybeEnd(job);
    }
    this.#queue = [];
    this.#restartableTasks.clear();
  }

  /** `job-<n>` for the next submission, past any id a caller chose that looks the same. */
  #freshId(): string {
    for (let n = this.#seq + 1; ; n++) {
      const id = `job-${n}`;
      if (!this.#jobs.has(id) && !this.#forgottenIds.has(id)) return id;
    }
  }

  #job(id: string): Job {
    const job = this.#jobs.get(id);
    if (job !== undefined) return job;
    throw new NotFound(
      this.#forgottenIds.has(id)
        ? `job ${id} ended and was forgotten (more than keepEnded jobs ended since)`
        : `job ${id} does not exist`,
    );
  }

  #demandInputs(): DemandInput[] {
    return this.backlog().map((d) => ({
      resources: d.resources,
      count: d.count,
      since: d.since,
      constraints: [...d.constraints],
      key: d.jobId,
      priority: d.priority,
    }));
  }

  #enqueue(job: Job): void {
    if (!job.queued && job.ready > 0) {
      job.queued = true;
      const q = this.#queue;
      let lo = 0;
      let hi = q.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const m = q[mid]!;
        if (
          m.spec.priority > job.spec.priority ||
          (m.spec.priority === job.spec.priority && m.seq < job.seq)
        )
          lo = mid + 1;
        else hi = mid;
      }
      q.splice(lo, 0, job);
    }
    if (!this.#handle.connected) return;
    // NOTE: revive also clears the filters of earlier declines: the new work may fit there.
    this.#handle.revive();
    this.#suppressed = false;
  }

  #onOffers(offers: readonly Offer[]): void {
    if (!this.#handle.connected) return;
    const declines: string[] = [];
    for (const offer of offers) {
      if (this.#queue.length === 0 || !this.#placeOn(offer)) declines.push(offer.id);
    }
    if (declines.length > 0) this.#handle.decline(declines, { refuseSeconds: this.#refuseSeconds });
    this.#queue = this.#queue.filter((j) => (j.queued = j.ready > 0));
    if (this.#queue.length === 0 && !this.#suppressed) {
      this.#handle.suppress();
      this.#suppressed = true;
    }
  }

  /** Fills one offer from the queue; false when nothing fits. */
  #placeOn(offer: Offer): boolean {
    let milliCpus = toMilliCpus(offer.resources.cpus);
    const available = {
      cpus: offer.resources.cpus,
      memoryMiB: offer.resources.memoryMiB,
      gpus: offer.resources.gpus,
      diskGiB: offer.resources.diskGiB,
      ports: portCount(portSetOf(offer.ports)),
    };
    const view: AgentView = {
      id: offer.agentId,
      hostname: offer.hostname,
      attributes: offer.attributes,
      available,
    };
    const ops: LaunchManyOperation[] = [];
    for (const job of this.#queue) {
      const ready = job.ready;
      if (ready === 0) continue;
      const k = maxPlaceable(job.request, view, job.context, ready);
      if (k === 0) continue;
      const spec = job.spec;
      const spreadValues =
        job.spreadAttributes.length > 0
          ? job.spreadAttributes.map((a) => attributeValue(offer.attributes, offer.hostname, a)!)
          : undefined;
      const ids: string[] = [];
      for (let i = 0; i < k; i++) {
        const q = job.take();
        const taskId = `${job.id}.${q.index}.${q.run}`;
        const live: LiveTask = {
          id: taskId,
          job,
          index: q.index,
          attempt: q.attempt,
          run: q.run,
          moves: q.moves,
          agentId: offer.agentId,
          hostname: offer.hostname,
          spreadValues,
          running: false,
        };
        job.liveTasks[q.index] = live;
        if (spec.restartable) this.#restartableOn(offer.agentId).add(live);
        job.live++;
        job.count(live, 1);
        job.launches++;
        ids.push(taskId);
      }
      ops.push({ type: 'launchMany', template: job.template, ids });
      const r = spec.resources;
      milliCpus -= toMilliCpus(r.cpus) * k;
      available.cpus = milliCpus / 1000;
      available.memoryMiB -= r.memoryMiB * k;
      available.gpus -= r.gpus * k;
      available.diskGiB -= r.diskGiB * k;
      available.ports -= r.ports * k;
    }
    if (ops.length === 0) return false;
    this.#handle[ACCEPT_TRUSTED]([offer.id], ops, this.#refuseSeconds);
    return true;
  }

  #onUpdate(status: TaskStatus): void {
    const state = status.state;
    // Only RUNNING and the end matter here (STAGING and STARTING come by the million).
    if (state !== 'RUNNING' && !isTerminal(state)) return;
    const live = this.#liveOf(status.taskId);
    if (live === undefined) return;
    const job = live.job;
    if (state === 'RUNNING') {
      if (!live.running) {
        live.running = true;
        job.running++;
      }
      return;
    }
    job.liveTasks[live.index] = undefined;
    if (job.spec.restartable) this.#dropRestartable(live);
    job.live--;
    job.count(live, -1);
    if (live.running) job.running--;
    if (status.state === 'FINISHED') job.finished++;
    else if (job.isCancelled) job.cancelled++;
    else if (
      status.state === 'DROPPED' ||
      (job.spec.restartable &&
        status.state !== 'FAILED' &&
        (live.moving === true ||
          (MACHINE_ENDED.has(status.reason) && live.moves < job.spec.maxMoves)))
    ) {
      // Never started (offer gone, agent draining), or a restartable task its machine
      // ended: queued again, no retry used up.
      const moved = status.state !== 'DROPPED';
      if (moved) job.moved++;
      job.retryReady.push({
        index: live.index,
        attempt: live.attempt,
        run: live.run + 1,
        moves: live.moves + (moved ? 1 : 0),
        readyAt: this.#clock.now(),
      });
      this.#enqueue(job);
    } else if (live.attempt < job.spec.retries.max) this.#retryLater(job, live);
    else job.failed++;
    this.#maybeEnd(job);
  }

  /**
   * Drain notices: a machine is being drained. With a deadline, restartable tasks there
   * are stopped now and queued again, so the machine can go at once; the rest run on.
   */
  #onDrainNotices(notices: readonly InverseOffer[]): void {
    for (const notice of notices) {
      if (notice.deadline === undefined) continue;
      for (const live of this.#restartableTasks.get(notice.agentId) ?? []) {
        if (live.moving === true || live.moves >= live.job.spec.maxMoves) continue;
        live.moving = true;
        this.#handle.kill(live.id);
      }
    }
  }

  /** The live restartable tasks on an agent (made on first use). */
  #restartableOn(agentId: string): Set<LiveTask> {
    let set = this.#restartableTasks.get(agentId);
    if (set === undefined) this.#restartableTasks.set(agentId, (set = new Set()));
    return set;
  }

  #dropRestartable(live: LiveTask): void {
    const set = this.#restartableTasks.get(live.agentId);
    if (set?.delete(live) === true && set.size === 0) this.#restartableTasks.delete(live.agentId);
  }

  /** The live task a task id (`<job id>.<index>.<run>`) names, if any. */
  #liveOf(taskId: string): LiveTask | undefined {
    const b = taskId.lastIndexOf('.');
    const a = b > 0 ? taskId.lastIndexOf('.', b - 1) : -1;
    if (a <= 0) return undefined;
    const job = this.#jobs.get(taskId.slice(0, a));
    const live = job?.liveTasks[Number(taskId.slice(a + 1, b))];
    // The full id decides: a stale run or an odd spelling of the index never matches.
    return live !== undefined && live.id === taskId ? live : undefined;
  }

  #retryLater(job: Job, live: LiveTask): void {
    const { backoffMs, maxBackoffMs } = job.spec.retries;
    const delay = Math.min(maxBackoffMs, backoffMs * 2 ** live.attempt);
    job.backingOff++;
    const cancel = this.#clock.schedule(delay, () => {
      this.#timers.delete(cancel);
      if (job.isCancelled) return;
      job.backingOff--;
      job.retryReady.push({
        index: live.index,
        attempt: live.attempt + 1,
        run: live.run + 1,
        moves: live.moves,
        readyAt: this.#clock.now(),
      });
      this.#enqueue(job);
    });
    this.#timers.add(cancel);
  }

  #maybeEnd(job: Job): void {
    if (job.endedAt !== undefined || job.live > 0) return;
    if (!job.settled) return;
    job.endedAt = this.#clock.now();
    const status = job.status();
    for (const resolve of job.waiters.splice(0)) resolve(status);
    this.#ended.add(job.id);
    for (const id of this.#ended) {
      if (this.#ended.size <= this.#keepEnded) break;
      this.#forget(id);
    }
  }

  /** Forgets an ended job, keeping its counts for stats(). */
  #forget(id: string): void {
    this.#ended.delete(id);
    const job = this.#jobs.get(id);
    if (job === undefined) return;
    this.#jobs.delete(id);
    this.#forgottenIds.add(id);
    for (const old of this.#forgottenIds) {
      if (this.#forgottenIds.size <= this.#keepEnded) break;
      this.#forgottenIds.delete(old);
    }
    const f = this.#forgotten;
    f.jobs++;
    f.finished += job.finished;
    f.failed += job.failed;
    f.cancelled += job.cancelled;
    f.moved += job.moved;
  }
}
