import { describe, expect, it } from 'vitest';
import { Conflict, NotFound, ValidationError } from '../../src/index.js';
import { ManualExecutor, agent, harness, recorder, task } from './helpers.js';

describe('agents', () => {
  it('are refused with a ValidationError naming the bad field', () => {
    const { scheduler } = harness();
    try {
      scheduler.addAgent({ id: 'a1', resources: { cpus: 0, memoryMiB: 1024 } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).issues).toMatchObject([
        { path: 'agent.resources.cpus', message: 'cpus must be more than 0' },
      ]);
    }
  });

  it('cannot reserve more than they have', () => {
    const { scheduler } = harness();
    expect(() =>
      scheduler.addAgent(
        agent('a1', 4, 8192, { reservations: { a: { cpus: 3 }, b: { cpus: 2 } } }),
      ),
    ).toThrow(/reservations add up to 5 cpus, more than the agent's 4/);
  });

  it('are registered once per id', () => {
    const { scheduler } = harness();
    scheduler.addAgent(agent('a1'));
    expect(() => scheduler.addAgent(agent('a1'))).toThrow(Conflict);
  });

  it('take fractional cpus exactly', async () => {
    const { scheduler, flush } = harness();
    scheduler.addAgent(agent('a1', 1, 8192));
    const fw = recorder(scheduler);
    await flush();
    const tasks = Array.from({ length: 10 }, (_, i) => task(`t${i}`, 0.1, 64));
    expect(fw.handle.accept([fw.offers[0]!.id], [{ type: 'launch', tasks }]).launched).toHaveLength(
      10,
    );
    expect(scheduler.agent('a1')!.available.cpus).toBe(0);
  });

  it('can be resized; outstanding offers on them are rescinded', async () => {
    const { scheduler, flush } = harness();
    scheduler.addAgent(agent('a1', 4, 8192));
    const fw = recorder(scheduler);
    await flush();
    const first = fw.offers[0]!;
    scheduler.updateAgent('a1', {
      resources: { cpus: 8, memoryMiB: 16384, ports: [[31000, 31009]] },
    });
    await flush();
    expect(fw.events).toContainEqual({
      type: 'rescind',
      offerId: first.id,
      reason: 'agent-updated',
    });
    expect(fw.outstanding().map((o) => o.resources.cpus)).toEqual([8]);
  });

  it('cannot shrink below what their tasks use', async () => {
    const { scheduler, flush } = harness();
    scheduler.addAgent(agent('a1', 4, 8192));
    const fw = recorder(scheduler);
    await flush();
    fw.handle.accept([fw.offers[0]!.id], [{ type: 'launch', tasks: [task('t', 3, 1024)] }]);
    expect(() =>
      scheduler.updateAgent('a1', {
        resources: { cpus: 2, memoryMiB: 8192, ports: [[31000, 31009]] },
      }),
    ).toThrow(Conflict);
  });

  it('update their attributes for constraints to see', () => {
    const { scheduler } = harness();
    scheduler.addAgent(agent('a1', 4, 8192, { attributes: { zone: 'a', labels: {} } }));
    scheduler.updateAgent('a1', { attributes: { zone: 'b', labels: {} } });
    expect([...scheduler.attributeValues('zone')]).toEqual(['b']);
  });

  it('unknown to the scheduler are NotFound', () => {
    const { scheduler } = harness();
    expect(() => scheduler.markAgentLost('nope')).toThrow(NotFound);
  });

  describe('when drained', () => {
    it('make no new offers and rescind outstanding ones', async () => {
      const { scheduler, flush } = harness();
      scheduler.addAgent(agent('a1'));
      const fw = recorder(scheduler);
      await flush();
      void scheduler.drainAgent('a1');
      await flush(10_000);
      expect(fw.events).toContainEqual({
        type: 'rescind',
        offerId: fw.offers[0]!.id,
        reason: 'agent-draining',
      });
      expect(fw.offers).toHaveLength(1);
    });

    it('send a drain notice to frameworks with tasks there, with the deadline', async () => {
      const { scheduler, flush } = harness({}, new ManualExecutor());
      scheduler.addAgent(agent('a1'));
      const fw = recorder(scheduler);
      await flush();
      fw.handle.accept([fw.offers[0]!.id], [{ type: 'launch', tasks: [task('t1')] }]);
      void scheduler.drainAgent('a1', { deadlineMs: 30_000 });
      await flush();
      const notice = fw.events.find((e) => e.type === 'inverseOffers');
      expect(notice).toMatchObject({ inverseOffers: [{ agentId: 'a1', deadline: 30_000 }] });
    });

    it('resolve once their last task ends', async () => {
      const ex = new ManualExecutor();
      const { scheduler, flush } = harness({}, ex);
      scheduler.addAgent(agent('a1'));
      const fw = recorder(scheduler);
      await flush();
      fw.handle.accept([fw.offers[0]!.id], [{ type: 'launch', tasks: [task('t1')] }]);
      let drained = false;
      void scheduler.drainAgent('a1').then(() => (drained = true));
      await flush(60_000);
      expect(drained).toBe(false);
      ex.finish('t1');
      await flush();
      expect(drained).toBe(true);
      expect(scheduler.agent('a1')!.status).toBe('drained');
    });

    it('kill tasks still running at the deadline, with DRAIN_DEADLINE', async () => {
      const ex = new ManualExecutor();
      const { scheduler, flush } = harness({}, ex);
      scheduler.addAgent(agent('a1'));
      const fw = recorder(scheduler);
      await flush();
      fw.handle.accept([fw.offers[0]!.id], [{ type: 'launch', tasks: [task('t1')] }]);
      ex.run('t1');
      const drained = scheduler.drainAgent('a1', { deadlineMs: 30_000 });
      await flush(29_999);
      expect(ex.kills).toEqual([]);
      await flush(1);
      await drained;
      expect(fw.updates.at(-1)).toMatchObject({
        taskId: 't1',
        state: 'KILLED',
        reason: 'DRAIN_DEADLINE',
      });
    });

    it('can be reactivated, which cancels the drain', async () => {
      const { scheduler, flush } = harness({}, new ManualExecutor());
      scheduler.addAgent(agent('a1'));
      const fw = recorder(scheduler);
      await flush();
      fw.handle.accept([fw.offers[0]!.id], [{ type: 'launch', tasks: [task('t1', 1)] }], {
        refuseSeconds: 0,
      });
      const drained = scheduler.drainAgent('a1');
      scheduler.reactivateAgent('a1');
      await expect(drained).rejects.toThrow(/cancelled/);
      await flush(1_000);
      expect(fw.outstanding().map((o) => o.resources.cpus)).toEqual([3]);
    });
  });

  it('that are lost report each of their tasks LOST with AGENT_LOST, and every framework hears of it', async () => {
    const { scheduler, flush } = harness({}, new ManualExecutor());
    scheduler.addAgent(agent('a1'));
    const fw = recorder(scheduler);
    const bystander = recorder(scheduler, { name: 'other' });
    await flush();
    const offer = [...fw.offers, ...bystander.offers][0]!;
    const owner = offer.frameworkId === fw.handle.id ? fw : bystander;
    owner.handle.accept([offer.id], [{ type: 'launch', tasks: [task('t1'), task('t2')] }]);
    scheduler.markAgentLost('a1');
    await flush();
    expect(owner.updates.map((u) => [u.taskId, u.state, u.reason])).toEqual([
      ['t1', 'LOST', 'AGENT_LOST'],
      ['t2', 'LOST', 'AGENT_LOST'],
    ]);
    for (const r of [fw, bystander])
      expect(r.events).toContainEqual({ type: 'agentLost', agentId: 'a1', removed: false });
    expect(scheduler.agent('a1')).toBeUndefined();
  });

  it('that are removed report their remaining tasks LOST with AGENT_REMOVED and leave the cluster total', async () => {
    const { scheduler, flush } = harness({}, new ManualExecutor());
    scheduler.addAgent(agent('a1'));
    scheduler.addAgent(agent('a2'));
    const fw = recorder(scheduler);
    await flush();
    const o = fw.offers.find((x) => x.agentId === 'a1')!;
    fw.handle.accept([o.id], [{ type: 'launch', tasks: [task('t1')] }]);
    scheduler.removeAgent('a1');
    await flush();
    expect(fw.updates).toMatchObject([{ taskId: 't1', state: 'LOST', reason: 'AGENT_REMOVED' }]);
    expect(scheduler.snapshot().frameworks[0]!.allocated['*']!.cpus).toBe(4); // only a2's offer
  });
});
