import { describe, expect, it, vi } from 'vitest';
import { BurstController } from '../../src/logical-dc/index.js';
import { drive, failingCloud, TARGET, world, type World } from './helpers.js';

const MIN = 60_000;
const ONE_SIZE = { basePoolsFirst: false, targets: [{ ...TARGET, sizes: ['cpu-4x8'] }] };

function submit(w: World, name: string, tasks: number, minutes: number): string {
  return w.jobs.submit({
    name,
    tasks,
    resources: { cpus: 2, memoryMiB: 2048 },
    durationMs: minutes * MIN,
  });
}

describe('failed releases', () => {
  it('keeps a machine whose release failed before it was recorded out of service, so its retry takes no work down', async () => {
    const w = await world({ start: true, policy: ONE_SIZE });
    // The state lock is held elsewhere (say by `kumo apply`) when the release comes.
    const locked = { on: true };
    const lock = w.store.lock.bind(w.store);
    vi.spyOn(w.store, 'lock').mockImplementation((holder, options) =>
      locked.on && holder.command.includes('delete')
        ? Promise.reject(new Error('the state is locked by kumo apply'))
        : lock(holder, options),
    );
    submit(w, 'first', 4, 5);
    await w.advance(2 * MIN);
    const [first] = w.controller.machines();
    await w.advance(8 * MIN); // tasks end at 5 min, idle 2 min: the release fails
    expect(w.controller.machines().find((m) => m.id === first!.id)?.state).toBe('releasing');

    const second = submit(w, 'second', 6, 30); // a new machine boots and agents are synced
    let tasksOnFirst = 0;
    for (let s = 0; s < 120; s++) {
      await w.advance(1000);
      tasksOnFirst = Math.max(tasksOnFirst, w.scheduler.agent(first!.id)?.tasks ?? 0);
    }
    locked.on = false;
    await w.advance(30_000);
    expect(tasksOnFirst).toBe(0);
    expect(w.of('burst.released').map((e) => e.id)).toContain(first!.id);
    expect(w.jobs.job(second)).toMatchObject({ failed: 0, running: 6 });
    await drive(w.clock, w.controller.stop());
  });

  it('a new controller takes over a machine a previous run could not release, and releases it', async () => {
    const w = await world({ policy: ONE_SIZE });
    submit(w, 'b', 4, 3);
    await w.burstUp();
    const [m] = w.controller.machines();
    const failing = failingCloud(w, 'deleteMachines');
    for (let i = 0; i < 24; i++) {
      await w.advance(15_000);
      await w.tick();
    }
    expect(w.of('burst.warning').some((e) => e.message.includes('cannot release'))).toBe(true);

    // The process restarts; the cloud works again.
    failing.on = false;
    const next = new BurstController({ dc: w.dc, policy: w.controller.policy, clock: w.clock });
    await drive(w.clock, next.tick());
    const live = await drive(w.clock, w.dc.providers.get('cloud')!.listMachines({}));
    expect(live.filter((x) => x.state !== 'terminated')).toEqual([]);
    const records = await w.dc.machines({ status: ['present', 'deleting'] });
    expect(records.map((r) => r.id)).not.toContain(m!.id);
    expect(next.machines()).toEqual([]);
  });

  it('counts a machine it cannot release yet against the budget after a restart', async () => {
    const w = await world({ policy: ONE_SIZE });
    submit(w, 'b', 4, 3);
    await w.burstUp();
    const spend = w.controller.spendPerHour();
    failingCloud(w, 'deleteMachines'); // and it stays down
    for (let i = 0; i < 24; i++) {
      await w.advance(15_000);
      await w.tick();
    }
    const next = new BurstController({ dc: w.dc, policy: w.controller.policy, clock: w.clock });
    await drive(w.clock, next.tick());
    expect(next.machines().map((x) => x.state)).toEqual(['releasing']);
    expect(next.spendPerHour()).toBeCloseTo(spend, 6);
  });
});

describe('a failed recovery', () => {
  it('is tried again: one failure at start does not stop the controller for good', async () => {
    const w = await world();
    const machines = w.dc.machines.bind(w.dc);
    vi.spyOn(w.dc, 'machines')
      .mockImplementationOnce(() => Promise.reject(new Error('the state store is busy')))
      .mockImplementation((query) => machines(query));
    await expect(drive(w.clock, w.controller.start())).rejects.toThrow(/busy/);
    await drive(w.clock, w.controller.start());
    submit(w, 'x', 6, 10);
    await w.advance(2 * MIN);
    expect(w.of('burst.scale-up')).toHaveLength(1);
    expect(w.jobs.stats()).toMatchObject({ running: 6, pending: 0 });
    await drive(w.clock, w.controller.stop());
  });
});

describe('stopping', () => {
  it('hands a cordoned machine over in service: nothing the stopped controller decided happens later', async () => {
    const w = await world({ policy: { targets: [{ ...TARGET, sizes: ['cpu-4x8'] }] } });
    submit(w, 'base', 2, 60);
    submit(w, 'b', 2, 10);
    await w.burstUp();
    await w.tick(); // no work waits: the busy burst machine is cordoned
    const [m] = w.controller.machines();
    expect(w.scheduler.agent(m!.id)?.status).toBe('draining');
    await drive(w.clock, w.controller.stop());
    expect(w.scheduler.agent(m!.id)?.status).toBe('active');

    const next = new BurstController({ dc: w.dc, policy: w.controller.policy, clock: w.clock });
    await drive(w.clock, next.tick());
    expect(next.machines().map((x) => [x.id, x.state])).toEqual([[m!.id, 'draining']]);
    await w.advance(15 * MIN); // its tasks end; only the running controller acts
    expect(w.of('burst.released')).toEqual([]);
    await drive(w.clock, next.tick());
    expect(next.machines()).toEqual([]);
  });

  it('hands over in service a machine that a decision under way cordons as it stops', async () => {
    const w = await world({ policy: { targets: [{ ...TARGET, sizes: ['cpu-4x8'] }] } });
    submit(w, 'base', 2, 60);
    submit(w, 'b', 2, 10);
    await w.burstUp();
    const [m] = w.controller.machines();
    const decision = w.controller.tick(); // would cordon the busy burst machine
    await drive(w.clock, Promise.all([decision, w.controller.stop()]));
    expect(w.scheduler.agent(m!.id)?.status).toBe('active');
    await w.advance(15 * MIN);
    expect(w.of('burst.released')).toEqual([]);
  });
});
