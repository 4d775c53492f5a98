import { describe, expect, it } from 'vitest';
import { Conflict, NotFound, ValidationError } from '../../src/index.js';
import type { FrameworkEvent } from '../../src/index.js';
import { ManualExecutor, agent, harness, recorder, task } from './helpers.js';

describe('frameworks', () => {
  it('are refused with a ValidationError naming the bad field', () => {
    const { scheduler } = harness();
    try {
      scheduler.registerFramework({ name: 'x', roles: ['eng//batch'] });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).issues[0]!.path).toBe('framework.roles.0');
    }
  });

  it('hear the same events through callbacks and through their event stream', async () => {
    const { scheduler, flush } = harness();
    scheduler.addAgent(agent('a1'));
    const fw = recorder(scheduler);
    const stream = fw.handle.events();
    await flush();
    const first = await stream.next();
    expect(first.value).toEqual(fw.events[0]);
    expect((first.value as FrameworkEvent).type).toBe('offers');
  });

  it('launch tasks from an accepted offer: STAGING, then the executor’s STARTING and RUNNING', async () => {
    const ex = new ManualExecutor();
    const { scheduler, flush } = harness({}, ex);
    scheduler.addAgent(agent('a1'));
    const fw = recorder(scheduler);
    await flush();
    const result = fw.handle.accept(
      [fw.offers[0]!.id],
      [{ type: 'launch', tasks: [{ id: 't1', resources: { cpus: 1, memoryMiB: 512, ports: 2 } }] }],
    );
    expect(result.launched).toEqual(['t1']);
    expect(fw.handle.tasks()[0]!.state).toBe('STAGING');
    expect(ex.launched[0]!.ports).toEqual([[31000, 31001]]);
    ex.run('t1');
    await flush();
    expect(fw.updates.map((u) => u.state)).toEqual(['STARTING', 'RUNNING']);
  });

  it('give back what an accept leaves unused, at once', async () => {
    const { scheduler, flush } = harness();
    scheduler.addAgent(agent('a1', 4, 8192));
    const fw = recorder(scheduler);
    await flush();
    fw.handle.accept([fw.offers[0]!.id], [{ type: 'launch', tasks: [task('t1', 1, 1024)] }]);
    const a1 = scheduler.agent('a1')!;
    expect(a1.allocated).toEqual({ cpus: 1, memoryMiB: 1024, gpus: 0, diskGiB: 0 });
    expect(a1.available.cpus).toBe(3);
  });

  it('see tasks on invalid offers DROPPED with INVALID_OFFERS', async () => {
    const { scheduler, flush } = harness();
    scheduler.addAgent(agent('a1'));
    const fw = recorder(scheduler);
    await flush();
    const r = fw.handle.accept(['nope'], [{ type: 'launch', tasks: [task('t1')] }]);
    expect(r.launched).toEqual([]);
    await flush();
    expect(fw.updates).toMatchObject([
      { taskId: 't1', state: 'DROPPED', reason: 'INVALID_OFFERS' },
    ]);
  });

  it('name offers only by their exact id: another spelling of the number is not an offer', async () => {
    const { scheduler, flush } = harness();
    scheduler.addAgent(agent('a1'));
    const fw = recorder(scheduler);
    await flush();
    const id = fw.offers[0]!.id;
    const number = id.slice(1);
    expect(fw.handle.decline([`o0${number}`, `o${number}.0`, `O${number}`, number])).toBe(0);
    expect(fw.handle.decline([id])).toBe(1);
  });

  it('see a task that does not fit DROPPED with INSUFFICIENT_RESOURCES, the others launched', async () => {
    const { scheduler, flush } = harness();
    scheduler.addAgent(agent('a1', 4, 8192));
    const fw = recorder(scheduler);
    await flush();
    const r = fw.handle.accept(
      [fw.offers[0]!.id],
      [{ type: 'launch', tasks: [task('big', 8), task('small', 1)] }],
    );
    expect(r.launched).toEqual(['small']);
    expect(r.dropped).toMatchObject([{ taskId: 'big', reason: 'INSUFFICIENT_RESOURCES' }]);
  });

  it('cannot reuse a task id; the accept then changes nothing', async () => {
    const { scheduler, flush } = harness();
    scheduler.addAgent(agent('a1'));
    const fw = recorder(scheduler);
    await flush();
    const id = fw.offers[0]!.id;
    expect(() =>
      fw.handle.accept([id], [{ type: 'launch', tasks: [task('t'), task('t')] }]),
    ).toThrow(Conflict);
    expect(scheduler.snapshot().offers.map((o) => o.id)).toEqual([id]);
  });

  it('reserve offered resources for their role and unreserve them again', async () => {
    const { scheduler, flush } = harness();
    scheduler.addAgent(agent('a1', 4, 8192));
    const fw = recorder(scheduler, { roles: ['db'] });
    await flush();
    const r = fw.handle.accept(
      [fw.offers[0]!.id],
      [{ type: 'reserve', resources: { cpus: 2, memoryMiB: 2048 } }],
      {
        refuseSeconds: 0,
      },
    );
    expect(r.operations).toEqual([{ type: 'reserve', ok: true }]);
    expect(scheduler.agent('a1')!.reservations.db!.dynamic).toEqual({
      cpus: 2,
      memoryMiB: 2048,
      gpus: 0,
      diskGiB: 0,
    });
    await flush(1_000);
    const next = fw.outstanding()[0]!;
    expect(next.reserved).toEqual({ cpus: 2, memoryMiB: 2048, gpus: 0, diskGiB: 0 });
    const u = fw.handle.accept(
      [next.id],
      [{ type: 'unreserve', resources: { cpus: 2, memoryMiB: 2048 } }],
    );
    expect(u.operations).toEqual([{ type: 'unreserve', ok: true }]);
    expect(scheduler.agent('a1')!.reservations).toEqual({});
  });

  it('cannot reserve for the default role', async () => {
    const { scheduler, flush } = harness();
    scheduler.addAgent(agent('a1'));
    const fw = recorder(scheduler);
    await flush();
    const r = fw.handle.accept([fw.offers[0]!.id], [{ type: 'reserve', resources: { cpus: 1 } }]);
    expect(r.operations[0]).toMatchObject({ ok: false });
  });

  it('kill a task: KILLED with KILLED_BY_FRAMEWORK, resources back', async () => {
    const ex = new ManualExecutor();
    const { scheduler, flush } = harness({}, ex);
    scheduler.addAgent(agent('a1'));
    const fw = recorder(scheduler);
    await flush();
    fw.handle.accept([fw.offers[0]!.id], [{ type: 'launch', tasks: [task('t1')] }]);
    ex.run('t1');
    fw.handle.kill('t1');
    await flush();
    expect(fw.updates.at(-1)).toMatchObject({
      taskId: 't1',
      state: 'KILLED',
      reason: 'KILLED_BY_FRAMEWORK',
    });
    expect(scheduler.agent('a1')!.tasks).toBe(0);
    // What the task held was offered again straight away.
    expect(fw.outstanding().map((o) => o.resources.cpus)).toEqual([4]);
  });

  it('hear LOST with TASK_UNKNOWN when killing a task the scheduler does not know', async () => {
    const { scheduler, flush } = harness();
    const fw = recorder(scheduler);
    fw.handle.kill('ghost');
    await flush();
    expect(fw.updates).toMatchObject([{ taskId: 'ghost', state: 'LOST', reason: 'TASK_UNKNOWN' }]);
  });

  it('reconcile: the latest state of every task, marked as reconciliation', async () => {
    const ex = new ManualExecutor();
    const { scheduler, flush } = harness({}, ex);
    scheduler.addAgent(agent('a1'));
    const fw = recorder(scheduler);
    await flush();
    fw.handle.accept([fw.offers[0]!.id], [{ type: 'launch', tasks: [task('t1'), task('t2')] }]);
    ex.run('t1');
    await flush();
    fw.updates.length = 0;
    fw.handle.reconcile();
    fw.handle.reconcile(['t2', 'ghost']);
    await flush();
    expect(fw.updates.map((u) => [u.taskId, u.state, u.reason, u.source])).toEqual([
      ['t1', 'RUNNING', 'RECONCILIATION', 'reconciliation'],
      ['t2', 'STAGING', 'RECONCILIATION', 'reconciliation'],
      ['t2', 'STAGING', 'RECONCILIATION', 'reconciliation'],
      ['ghost', 'LOST', 'TASK_UNKNOWN', 'reconciliation'],
    ]);
  });

  it('with explicit acknowledgements get updates again until they acknowledge them', async () => {
    const ex = new ManualExecutor();
    const { scheduler, flush } = harness({ ackRetryMs: 1_000 }, ex);
    scheduler.addAgent(agent('a1'));
    const fw = recorder(scheduler, { acknowledgements: 'explicit' });
    await flush();
    fw.handle.accept([fw.offers[0]!.id], [{ type: 'launch', tasks: [task('t1')] }]);
    ex.finish('t1');
    await flush();
    const finished = fw.updates.at(-1)!;
    expect(finished.state).toBe('FINISHED');
    await flush(1_000);
    expect(fw.updates.filter((u) => u.updateId === finished.updateId)).toHaveLength(2);
    // Until acknowledged, the finished task is still known.
    expect(fw.handle.tasks().map((t) => t.state)).toEqual(['FINISHED']);
    expect(fw.handle.acknowledge('t1', finished.updateId)).toBe(true);
    await flush(5_000);
    expect(fw.updates.filter((u) => u.updateId === finished.updateId)).toHaveLength(2);
    expect(fw.handle.tasks()).toEqual([]);
  });

  it('teardown kills their tasks and forgets them', async () => {
    const ex = new ManualExecutor();
    const { scheduler, flush } = harness({}, ex);
    scheduler.addAgent(agent('a1'));
    const fw = recorder(scheduler);
    await flush();
    fw.handle.accept([fw.offers[0]!.id], [{ type: 'launch', tasks: [task('t1')] }]);
    fw.handle.teardown();
    expect(ex.kills).toEqual(['t1']);
    expect(scheduler.snapshot().frameworks).toEqual([]);
    expect(scheduler.agent('a1')!.allocated.cpus).toBe(0);
    expect(() => fw.handle.kill('t1')).toThrow(Conflict);
  });

  it('that disconnect keep their tasks until the failover timeout, then they are killed', async () => {
    const ex = new ManualExecutor();
    const { scheduler, flush } = harness({}, ex);
    scheduler.addAgent(agent('a1'));
    const fw = recorder(scheduler, { failoverTimeoutMs: 60_000 });
    await flush();
    fw.handle.accept([fw.offers[0]!.id], [{ type: 'launch', tasks: [task('t1')] }]);
    fw.handle.disconnect();
    await flush(59_999);
    expect(ex.kills).toEqual([]);
    await flush(1);
    expect(ex.kills).toEqual(['t1']);
    expect(scheduler.agent('a1')!.allocated.cpus).toBe(0);
    expect(() => scheduler.registerFramework({ name: 'rec', id: fw.handle.id })).toThrow(NotFound);
  });

  it('that fail over in time find their tasks still running', async () => {
    const ex = new ManualExecutor();
    const { scheduler, flush } = harness({}, ex);
    scheduler.addAgent(agent('a1'));
    const fw = recorder(scheduler, { failoverTimeoutMs: 60_000 });
    await flush();
    fw.handle.accept([fw.offers[0]!.id], [{ type: 'launch', tasks: [task('t1')] }]);
    fw.handle.disconnect();
    await flush(30_000);
    const again = recorder(scheduler, { id: fw.handle.id, failoverTimeoutMs: 60_000 });
    await flush(60_000);
    expect(ex.kills).toEqual([]);
    expect(again.handle.tasks().map((t) => t.id)).toEqual(['t1']);
    expect(() => fw.handle.reconcile()).toThrow(Conflict);
  });

  it('that fail over in time hear how tasks ended while they were away', async () => {
    const ex = new ManualExecutor();
    const { scheduler, flush } = harness({}, ex);
    scheduler.addAgent(agent('a1'));
    const fw = recorder(scheduler, { failoverTimeoutMs: 60_000 });
    await flush();
    fw.handle.accept([fw.offers[0]!.id], [{ type: 'launch', tasks: [task('t1')] }]);
    ex.run('t1');
    await flush();
    fw.handle.disconnect();
    ex.finish('t1');
    await flush(5_000);
    const again = recorder(scheduler, { id: fw.handle.id, failoverTimeoutMs: 60_000 });
    await flush();
    expect(again.updates.map((u) => [u.taskId, u.state])).toEqual([['t1', 'FINISHED']]);
  });

  it('taken over by a new registration tell the old one so', async () => {
    const { scheduler, flush } = harness();
    const old = recorder(scheduler);
    recorder(scheduler, { id: old.handle.id });
    await flush();
    expect(old.events).toContainEqual({
      type: 'error',
      message: `framework ${old.handle.id} failed over to a new registration`,
    });
    expect(old.handle.connected).toBe(false);
  });

  it('taken over while connected hand their outstanding offers to the new registration', async () => {
    const { scheduler, flush } = harness({ offerTimeoutMs: 0 });
    scheduler.addAgent(agent('a1'));
    const old = recorder(scheduler, { failoverTimeoutMs: 60_000 });
    await flush();
    expect(old.outstanding()).toHaveLength(1);
    const again = recorder(scheduler, { id: old.handle.id, failoverTimeoutMs: 60_000 });
    await flush(1_000);
    expect(again.offers.map((o) => o.agentId)).toEqual(['a1']);
  });

  it('cannot accept once the scheduler is closed: nothing reaches the closed executor', async () => {
    const ex = new ManualExecutor();
    const { scheduler, flush } = harness({ offerTimeoutMs: 0 }, ex);
    scheduler.addAgent(agent('a1'));
    const fw = recorder(scheduler);
    await flush();
    await scheduler.close();
    expect(fw.handle.connected).toBe(false);
    expect(() =>
      fw.handle.accept([fw.offers[0]!.id], [{ type: 'launch', tasks: [task('t1')] }]),
    ).toThrow(Conflict);
    expect(ex.launched).toEqual([]);
  });

  it('once removed are refused by id, for the last 10000 removed; older ids are free again', () => {
    const { scheduler } = harness();
    for (let i = 0; i <= 10_000; i++)
      scheduler.registerFramework({ name: 'x', id: `gone-${i}` }).teardown();
    expect(() => scheduler.registerFramework({ name: 'x', id: 'gone-10000' })).toThrow(NotFound);
    expect(() => scheduler.registerFramework({ name: 'x', id: 'gone-1' })).toThrow(NotFound);
    expect(scheduler.registerFramework({ name: 'x', id: 'gone-0' }).connected).toBe(true);
  });

  it('must keep their roles on failover', () => {
    const { scheduler } = harness();
    const fw = recorder(scheduler, { roles: ['a'] });
    expect(() =>
      scheduler.registerFramework({ name: 'x', id: fw.handle.id, roles: ['b'] }),
    ).toThrow(Conflict);
  });

  it('cannot suppress a role they do not have', () => {
    const { scheduler } = harness();
    const fw = recorder(scheduler, { roles: ['a'] });
    expect(() => fw.handle.suppress(['b'])).toThrow(ValidationError);
  });

  it('report demand the scheduler gathers with its wait time', async () => {
    const { scheduler, clock } = harness();
    const fw = recorder(scheduler, { roles: ['etl'] });
    fw.handle.reportDemand([
      { resources: { cpus: 2, memoryMiB: 1024, ports: 1 }, count: 3, since: 0, key: 'nightly' },
    ]);
    await clock.advance(7_000);
    expect(scheduler.demand()).toEqual([
      {
        frameworkId: fw.handle.id,
        framework: 'rec',
        role: 'etl',
        key: 'nightly',
        resources: { cpus: 2, memoryMiB: 1024, gpus: 0, diskGiB: 0, ports: 1 },
        count: 3,
        constraints: [],
        priority: 0,
        since: 0,
        waitedMs: 7_000,
      },
    ]);
  });

  it('get their callback errors reported, not swallowed', async () => {
    const errors: unknown[] = [];
    const { scheduler, flush } = harness({ onCallbackError: (e) => errors.push(e) });
    scheduler.addAgent(agent('a1'));
    scheduler.registerFramework({
      name: 'boom',
      on: {
        offers: () => {
          throw new Error('boom');
        },
      },
    });
    await flush();
    expect(errors).toEqual([new Error('boom')]);
  });
});
