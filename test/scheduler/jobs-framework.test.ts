import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import {
  InstantExecutor,
  JobsFramework,
  Scheduler,
  ValidationError,
  type InstantOutcome,
} from '../../src/index.js';
import { agent } from './helpers.js';

function setup(outcome?: (taskId: string) => InstantOutcome | undefined) {
  const clock = new VirtualClock();
  const scheduler = new Scheduler({
    clock,
    executor: new InstantExecutor({ clock, outcome: outcome && ((t) => outcome(t.taskId)) }),
  });
  const jobs = new JobsFramework(scheduler);
  const flush = (ms = 0) => clock.advance(ms);
  const placements = () => scheduler.snapshot().tasks.map((t) => ({ id: t.id, agent: t.agentId }));
  return { clock, scheduler, jobs, flush, placements };
}

const zoned = (id: string, zone: string, cpus = 4) =>
  agent(id, cpus, 8192, { attributes: { zone, labels: {} } });

describe('the jobs framework', () => {
  it('places every task of a job and reports the job finished', async () => {
    const { scheduler, jobs, flush } = setup();
    scheduler.addAgent(agent('a1', 4));
    scheduler.addAgent(agent('a2', 4));
    const id = jobs.submit({
      name: 'batch',
      tasks: 6,
      resources: { cpus: 1, memoryMiB: 512 },
      durationMs: 1_000,
    });
    const done = jobs.wait(id);
    await flush();
    expect(jobs.job(id)).toMatchObject({ state: 'running', running: 6, pending: 0 });
    await flush(1_000);
    expect(await done).toMatchObject({ state: 'finished', finished: 6, failed: 0, endedAt: 1_000 });
  });

  it('validates jobs, naming the bad field', () => {
    const { jobs } = setup();
    try {
      jobs.submit({ name: 'x', tasks: 0, resources: { cpus: 1, memoryMiB: 1 } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).issues[0]).toMatchObject({
        path: 'job.tasks',
        message: 'a job has at least one task',
      });
    }
  });

  it('places higher-priority jobs first', async () => {
    const { scheduler, jobs, flush } = setup();
    const low = jobs.submit({ name: 'low', tasks: 2, resources: { cpus: 1, memoryMiB: 256 } });
    const high = jobs.submit({
      name: 'high',
      tasks: 2,
      resources: { cpus: 1, memoryMiB: 256 },
      priority: 10,
    });
    scheduler.addAgent(agent('a1', 2));
    await flush();
    expect(jobs.job(high)).toMatchObject({ running: 2 });
    expect(jobs.job(low)).toMatchObject({ running: 0, pending: 2 });
  });

  it('honours attribute constraints', async () => {
    const { scheduler, jobs, flush, placements } = setup();
    scheduler.addAgent(zoned('a', 'z1'));
    scheduler.addAgent(zoned('b', 'z2'));
    jobs.submit({
      name: 'pinned',
      tasks: 3,
      resources: { cpus: 1, memoryMiB: 256 },
      constraints: [{ op: 'equals', attribute: 'zone', value: 'z2' }],
    });
    await flush();
    expect(new Set(placements().map((p) => p.agent))).toEqual(new Set(['b']));
  });

  it('puts at most one task per host with uniqueHost; the rest wait in the backlog', async () => {
    const { scheduler, jobs, flush, placements } = setup();
    scheduler.addAgent(agent('a1', 8));
    scheduler.addAgent(agent('a2', 8));
    const id = jobs.submit({
      name: 'u',
      tasks: 3,
      resources: { cpus: 1, memoryMiB: 256 },
      constraints: [{ op: 'uniqueHost' }],
    });
    await flush();
    expect(
      placements()
        .map((p) => p.agent)
        .sort(),
    ).toEqual(['a1', 'a2']);
    expect(jobs.backlog()).toMatchObject([{ jobId: id, count: 1 }]);
  });

  it('spreads tasks evenly across an attribute', async () => {
    const { scheduler, jobs, flush, placements } = setup();
    for (const [id, zone] of [
      ['a', 'z1'],
      ['b', 'z2'],
      ['c', 'z3'],
      ['d', 'z1'],
    ] as const)
      scheduler.addAgent(zoned(id, zone, 16));
    jobs.submit({
      name: 's',
      tasks: 6,
      resources: { cpus: 1, memoryMiB: 256 },
      constraints: [{ op: 'spread', attribute: 'zone' }],
    });
    await flush(10_000);
    const zoneOf: Record<string, string> = { a: 'z1', b: 'z2', c: 'z3', d: 'z1' };
    const perZone: Record<string, number> = {};
    for (const p of placements()) perZone[zoneOf[p.agent]!] = (perZone[zoneOf[p.agent]!] ?? 0) + 1;
    expect(perZone).toEqual({ z1: 2, z2: 2, z3: 2 });
  });

  it('puts no more than maxPerAgent tasks of a job on one agent', async () => {
    const { scheduler, jobs, flush, placements } = setup();
    scheduler.addAgent(agent('a1', 16));
    scheduler.addAgent(agent('a2', 16));
    jobs.submit({
      name: 'm',
      tasks: 4,
      resources: { cpus: 1, memoryMiB: 256 },
      constraints: [{ op: 'maxPerAgent', max: 2 }],
    });
    await flush();
    const per = placements().reduce<Record<string, number>>(
      (m, p) => ({ ...m, [p.agent]: (m[p.agent] ?? 0) + 1 }),
      {},
    );
    expect(per).toEqual({ a1: 2, a2: 2 });
  });

  it('retries failed tasks after an exponential backoff', async () => {
    const failFirst = (taskId: string): InstantOutcome =>
      taskId.endsWith('.0') ? { state: 'FAILED', exitCode: 1 } : { state: 'FINISHED' };
    const { scheduler, jobs, flush } = setup(failFirst);
    scheduler.addAgent(agent('a1', 4));
    const id = jobs.submit({
      name: 'flaky',
      tasks: 1,
      resources: { cpus: 1, memoryMiB: 256 },
      retries: { max: 2, backoffMs: 1_000 },
    });
    await flush();
    expect(jobs.job(id)).toMatchObject({ backingOff: 1, launches: 1 });
    await flush(999);
    expect(jobs.job(id)).toMatchObject({ backingOff: 1, launches: 1 });
    await flush(1);
    expect(await jobs.wait(id)).toMatchObject({ state: 'finished', finished: 1, launches: 2 });
  });

  it('fails a job once a task has used up its retries', async () => {
    const { scheduler, jobs, flush } = setup(() => ({ state: 'FAILED', exitCode: 2 }));
    scheduler.addAgent(agent('a1', 4));
    const id = jobs.submit({
      name: 'doomed',
      tasks: 1,
      resources: { cpus: 1, memoryMiB: 256 },
      retries: { max: 2, backoffMs: 100 },
    });
    await flush(10_000);
    expect(await jobs.wait(id)).toMatchObject({ state: 'failed', failed: 1, launches: 3 });
  });

  it('re-queues a task DROPPED before it started without using a retry', async () => {
    const { scheduler, jobs, flush } = setup();
    scheduler.addAgent(agent('a1', 4));
    const id = jobs.submit({
      name: 'j',
      tasks: 1,
      resources: { cpus: 1, memoryMiB: 256 },
      durationMs: 10,
    });
    scheduler.allocate(); // the offer is on its way…
    void scheduler.drainAgent('a1'); // …and already stale when the framework answers it
    await flush();
    expect(jobs.job(id)).toMatchObject({ pending: 1, launches: 1, failed: 0 });
    scheduler.addAgent(agent('a2', 4));
    await flush(100);
    expect(await jobs.wait(id)).toMatchObject({ state: 'finished', launches: 2 });
  });

  describe('restartable jobs', () => {
    /** Two tasks on a1 for 10 s; a2 has room for them. */
    async function twoOnA1(restartable: boolean, maxMoves?: number) {
      const w = setup();
      w.scheduler.addAgent(agent('a1', 4));
      const id = w.jobs.submit({
        name: 'r',
        tasks: 2,
        resources: { cpus: 1, memoryMiB: 256 },
        durationMs: 10_000,
        restartable,
        ...(maxMoves === undefined ? {} : { maxMoves }),
      });
      await w.flush();
      w.scheduler.addAgent(agent('a2', 4));
      return { ...w, id };
    }

    it('moves its tasks off a machine drained with a deadline at once, using no retry', async () => {
      const { scheduler, jobs, flush, placements, id } = await twoOnA1(true);
      const drained = scheduler.drainAgent('a1', { deadlineMs: 60_000 });
      await flush();
      await drained; // the machine can go now, not at the deadline
      expect(placements().map((p) => p.agent)).toEqual(['a2', 'a2']);
      expect(jobs.job(id)).toMatchObject({ moved: 2, failed: 0, launches: 4 });
      await flush(10_000);
      expect(await jobs.wait(id)).toMatchObject({ state: 'finished', finished: 2 });
    });

    it('leaves its tasks running on a machine drained without a deadline', async () => {
      const { scheduler, jobs, flush, placements, id } = await twoOnA1(true);
      void scheduler.drainAgent('a1');
      await flush();
      expect(placements().map((p) => p.agent)).toEqual(['a1', 'a1']);
      expect(jobs.job(id)).toMatchObject({ moved: 0, launches: 2 });
    });

    it('queues a task lost with its machine again without using a retry', async () => {
      const { scheduler, jobs, flush, id } = await twoOnA1(true);
      scheduler.markAgentLost('a1');
      await flush();
      expect(jobs.job(id)).toMatchObject({ moved: 2, failed: 0, running: 2 });
      await flush(10_000);
      expect(await jobs.wait(id)).toMatchObject({ state: 'finished', finished: 2 });
    });

    it('uses a retry when a task already moved maxMoves times loses its machine again', async () => {
      const { scheduler, jobs, flush, id } = await twoOnA1(true, 1);
      scheduler.markAgentLost('a1');
      await flush();
      expect(jobs.job(id)).toMatchObject({ moved: 2, running: 2 });
      scheduler.markAgentLost('a2');
      await flush();
      expect(await jobs.wait(id)).toMatchObject({ state: 'failed', failed: 2, moved: 2 });
    });

    it('does not move early a task already moved maxMoves times', async () => {
      const { scheduler, jobs, flush, placements, id } = await twoOnA1(true, 0);
      void scheduler.drainAgent('a1', { deadlineMs: 60_000 });
      await flush();
      expect(placements().map((p) => p.agent)).toEqual(['a1', 'a1']);
      await flush(10_000);
      expect(await jobs.wait(id)).toMatchObject({ state: 'finished', finished: 2, moved: 0 });
    });

    it('moves only the tasks on the drained machine', async () => {
      const { scheduler, jobs, flush, placements, id } = await twoOnA1(true);
      const other = jobs.submit({
        name: 'elsewhere',
        tasks: 1,
        resources: { cpus: 1, memoryMiB: 256 },
        durationMs: 10_000,
        restartable: true,
        constraints: [{ op: 'equals', attribute: 'hostname', value: 'a2' }],
      });
      await flush();
      await scheduler.drainAgent('a2', { deadlineMs: 60_000 });
      await flush();
      expect(jobs.job(id)).toMatchObject({ moved: 0, running: 2 });
      expect(jobs.job(other)).toMatchObject({ moved: 1, running: 0, pending: 1 });
      expect(placements().filter((p) => p.agent === 'a1')).toHaveLength(2);
    });

    it('counts a task of an ordinary job killed at the drain deadline as failed', async () => {
      const { scheduler, jobs, flush, placements, id } = await twoOnA1(false);
      void scheduler.drainAgent('a1', { deadlineMs: 5_000 });
      await flush();
      expect(placements().map((p) => p.agent)).toEqual(['a1', 'a1']); // not moved early
      await flush(5_000);
      expect(await jobs.wait(id)).toMatchObject({ state: 'failed', failed: 2, moved: 0 });
    });
  });

  it('follows tasks of a job whose id has dots in it, retries included, to the end', async () => {
    const failFirst = (taskId: string): InstantOutcome =>
      taskId.endsWith('.0') ? { state: 'FAILED', exitCode: 1 } : { state: 'FINISHED' };
    const { scheduler, jobs, flush } = setup(failFirst);
    scheduler.addAgent(agent('a1', 4));
    const id = jobs.submit({
      id: 'nightly.2026.11',
      name: 'dotted',
      tasks: 3,
      resources: { cpus: 1, memoryMiB: 256 },
      retries: { max: 1, backoffMs: 10 },
    });
    await flush();
    expect(jobs.job(id)).toMatchObject({ backingOff: 3, launches: 3, running: 0 });
    await flush(10);
    expect(await jobs.wait(id)).toMatchObject({ state: 'finished', finished: 3, launches: 6 });
  });

  it('forgets the oldest ended jobs past keepEnded, keeping their tasks in stats()', async () => {
    const clock = new VirtualClock();
    const scheduler = new Scheduler({ clock, executor: new InstantExecutor({ clock }) });
    const jobs = new JobsFramework(scheduler, { keepEnded: 2 });
    scheduler.addAgent(agent('a1', 4));
    const ids = [1, 2, 3].map((n) =>
      jobs.submit({
        name: `j${n}`,
        tasks: 2,
        resources: { cpus: 1, memoryMiB: 256 },
        durationMs: 10,
      }),
    );
    await clock.advance(100);
    expect(() => jobs.job(ids[0]!)).toThrow(/ended and was forgotten/);
    expect(() => jobs.job('never-submitted')).toThrow(/does not exist/);
    await expect(jobs.wait('never-submitted')).rejects.toThrow(/does not exist/);
    expect(jobs.jobs().map((j) => j.id)).toEqual(ids.slice(1));
    expect(jobs.stats()).toMatchObject({ jobs: 3, finished: 6 });
    await expect(jobs.wait(ids[0]!)).rejects.toThrow(/ended and was forgotten/);
    expect(() =>
      jobs.submit({ id: ids[0]!, name: 'again', tasks: 1, resources: { cpus: 1, memoryMiB: 256 } }),
    ).toThrow(/already exists/);
  });

  it('remembers only keepEnded forgotten ids: older ones are unknown and may be submitted again', async () => {
    const clock = new VirtualClock();
    const scheduler = new Scheduler({ clock, executor: new InstantExecutor({ clock }) });
    const jobs = new JobsFramework(scheduler, { keepEnded: 1 });
    scheduler.addAgent(agent('a1', 4));
    const run = (id: string): string =>
      jobs.submit({
        id,
        name: id,
        tasks: 1,
        resources: { cpus: 1, memoryMiB: 256 },
        durationMs: 10,
      });
    for (const id of ['a', 'b', 'c']) {
      run(id);
      await clock.advance(100);
    }
    // 'c' is kept, 'b' forgotten and remembered, 'a' forgotten past memory.
    expect(() => jobs.job('b')).toThrow(/ended and was forgotten/);
    expect(() => jobs.job('a')).toThrow(/does not exist/);
    expect(() => run('b')).toThrow(/already exists/);
    expect(run('a')).toBe('a');
    expect(jobs.stats()).toMatchObject({ jobs: 4, finished: 3 });
  });

  it('gives a job without an id one no other job has, past ids callers chose', () => {
    const { jobs } = setup();
    const task = { tasks: 1, resources: { cpus: 1, memoryMiB: 256 } };
    jobs.submit({ id: 'job-2', name: 'chosen', ...task });
    expect(jobs.submit({ name: 'first', ...task })).toBe('job-3');
    expect(jobs.submit({ name: 'second', ...task })).toBe('job-4');
  });

  it('on close, ends the jobs under way as cancelled, so wait() settles, and takes no more', async () => {
    const { scheduler, jobs, flush } = setup();
    scheduler.addAgent(agent('a1', 2));
    const id = jobs.submit({
      name: 'long',
      tasks: 3,
      resources: { cpus: 1, memoryMiB: 256 },
      durationMs: 60_000,
    });
    await flush();
    expect(jobs.job(id)).toMatchObject({ running: 2, pending: 1 });
    const waited = jobs.wait(id);
    jobs.close();
    await expect(waited).resolves.toMatchObject({ state: 'cancelled', cancelled: 3, running: 0 });
    expect(scheduler.snapshot().tasks).toEqual([]);
    expect(() =>
      jobs.submit({ name: 'late', tasks: 1, resources: { cpus: 1, memoryMiB: 256 } }),
    ).toThrow(/closed/);
  });

  it('cancels a job: pending tasks dropped, running ones killed', async () => {
    const { scheduler, jobs, flush } = setup();
    scheduler.addAgent(agent('a1', 2));
    const id = jobs.submit({ name: 'c', tasks: 5, resources: { cpus: 1, memoryMiB: 256 } });
    await flush();
    jobs.cancel(id);
    await flush();
    expect(await jobs.wait(id)).toMatchObject({ state: 'cancelled', cancelled: 5, running: 0 });
    expect(scheduler.agent('a1')!.tasks).toBe(0);
  });

  it('exposes its backlog with how long the oldest task has waited, also through scheduler.demand()', async () => {
    const { scheduler, jobs, clock } = setup();
    const id = jobs.submit({
      name: 'waiting',
      tasks: 3,
      resources: { cpus: 2, memoryMiB: 1024, ports: 1 },
      constraints: [{ op: 'equals', attribute: 'zone', value: 'z9' }],
    });
    await clock.advance(42_000);
    expect(jobs.backlog()).toEqual([
      {
        jobId: id,
        name: 'waiting',
        resources: { cpus: 2, memoryMiB: 1024, gpus: 0, diskGiB: 0, ports: 1 },
        count: 3,
        constraints: [{ op: 'equals', attribute: 'zone', value: 'z9' }],
        priority: 0,
        since: 0,
        waitedMs: 42_000,
      },
    ]);
    expect(scheduler.demand()).toMatchObject([
      { framework: 'jobs', key: id, count: 3, waitedMs: 42_000 },
    ]);
  });

  it('asks for no offers while it has nothing to place', async () => {
    const { scheduler, jobs, flush } = setup();
    scheduler.addAgent(agent('a1', 4));
    expect(scheduler.snapshot().frameworks[0]!.suppressedRoles).toEqual(['*']);
    const id = jobs.submit({
      name: 'j',
      tasks: 1,
      resources: { cpus: 1, memoryMiB: 256 },
      durationMs: 5,
    });
    expect(scheduler.snapshot().frameworks[0]!.suppressedRoles).toEqual([]);
    await flush(10);
    await jobs.wait(id);
    expect(scheduler.snapshot().frameworks[0]!.suppressedRoles).toEqual(['*']);
    expect(scheduler.snapshot().offers).toEqual([]);
  });
});
