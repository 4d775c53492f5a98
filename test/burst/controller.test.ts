import { describe, expect, it } from 'vitest';
import { BurstController, memoryStore } from '../../src/logical-dc/index.js';
import type { ConstraintInput } from '../../src/scheduler/index.js';
import { drive, failingCloud, TARGET, world } from './helpers.js';

const MIN = 60_000;

/** 2-vCPU tasks: the base machine (4 vCPU) holds two. */
function submit(
  w: Awaited<ReturnType<typeof world>>,
  tasks: number,
  minutes: number,
  cpus = 2,
): string {
  return w.jobs.submit({
    name: `job-${tasks}x${cpus}`,
    tasks,
    resources: { cpus, memoryMiB: cpus * 2048 },
    durationMs: minutes * MIN,
  });
}

describe('scaling up', () => {
  it('buys machines for demand that waited pendingFor and fits nowhere, and they take the work', async () => {
    const w = await world();
    submit(w, 6, 30);
    await w.advance(0);
    expect(w.jobs.stats()).toMatchObject({ running: 2, pending: 4 });

    await w.tick();
    expect(w.of('burst.scale-up')).toHaveLength(0); // waited 0 s of 30 s

    await w.advance(30_000);
    await w.tick();
    const [up] = w.of('burst.scale-up');
    expect(up).toBeDefined();
    expect(up!.reason).toMatch(/4 task\(s\) of 1 kind\(s\) waited at least 30s/);
    expect(up!.demand[0]).toMatchObject({ count: 4, resources: { cpus: 2, memoryMiB: 4096 } });
    expect(up!.considered).toBeGreaterThan(0);
    // 8 vCPUs of compute machines, the cheapest way: $0.34/h however they are split.
    expect(up!.pricePerHour).toBeCloseTo(0.34, 6);
    expect(up!.lowerBoundPerHour).toBeCloseTo(0.34, 6);
    expect(up!.chosen.reduce((n, c) => n + c.count * c.cpus, 0)).toBe(8);
    expect(w.of('burst.provisioned').length).toBe(up!.chosen.reduce((n, c) => n + c.count, 0));

    await w.advance(20_000); // booted (5–15 s)
    await w.tick();
    expect(w.of('burst.running').length).toBeGreaterThan(0);
    await w.advance(0);
    expect(w.jobs.stats()).toMatchObject({ running: 6, pending: 0 });
    const burstAgents = w.scheduler
      .agents()
      .filter((a) => a.attributes.pool === 'adhoc.burst-cloud');
    expect(burstAgents.length).toBe(w.controller.machines().length);
    expect(w.controller.spendPerHour()).toBeCloseTo(0.34, 6);
  });

  it('buys nothing for demand the free machines can take', async () => {
    const w = await world();
    submit(w, 2, 30); // fits the base machine
    await w.advance(60_000);
    await w.tick();
    expect(w.of('burst.scale-up')).toEqual([]);
    expect(w.controller.machines()).toEqual([]);
  });

  it('counts machines still booting as room, so it does not buy twice', async () => {
    const w = await world();
    submit(w, 6, 30);
    await w.advance(30_000);
    await w.tick();
    const bought = w.of('burst.provisioned').length;
    await w.advance(1_000); // still booting
    await w.tick();
    expect(w.of('burst.scale-up')).toHaveLength(1);
    expect(w.of('burst.provisioned')).toHaveLength(bought);
  });
});

describe('resource shapes', () => {
  it('uses every shape of a target, even two that the cloud makes as one size', async () => {
    const w = await world({
      policy: {
        targets: [
          {
            name: 'cloud',
            provider: 'cloud',
            machine: { image: 'ubuntu-22.04' },
            shapes: [
              { cpus: 3, memoryMiB: 6144 },
              { cpus: 4, memoryMiB: 8192 },
            ],
            maxMachines: 10,
          },
        ],
      },
    });
    // 4-vCPU tasks: the base machine takes one, only the larger shape fits the other.
    w.jobs.submit({
      name: 'x',
      tasks: 2,
      resources: { cpus: 4, memoryMiB: 8192 },
      durationMs: 10 * MIN,
    });
    await w.advance(30_000);
    await w.tick();
    expect(w.of('burst.held')).toEqual([]);
    expect(w.of('burst.scale-up')).toHaveLength(1);
  });
});

describe('warnings', () => {
  it('says a warning that persists again every ten minutes, not at every decision', async () => {
    const w = await world();
    submit(w, 4, 60);
    await w.burstUp();
    failingCloud(w, 'listMachines'); // every decision from now on meets the same problem
    for (let i = 0; i < 48; i++) {
      await w.advance(15_000);
      await w.tick();
    }
    const said = w.of('burst.warning').filter((e) => e.message.includes('the cloud API is down'));
    expect(said.map((e) => e.at - said[0]!.at)).toEqual([0, 10 * MIN]);
  });
});

describe('budget and limits', () => {
  it('never exceeds the budget, even when decisions are asked for at once', async () => {
    // $0.5/h buys five 2-vCPU spot-less machines at most ($0.085 each), not what 40 tasks need.
    const w = await world({
      policy: { budgetPerHour: 0.5, targets: [{ ...TARGET, sizes: ['cpu-2x4'] }] },
      cloud: { latency: { apiMs: 50, bootMs: 10_000, stopMs: 0, deleteMs: 0 } },
    });
    submit(w, 42, 30);
    await w.advance(30_000);
    const ticks = [1, 2, 3, 4, 5].map(() => w.controller.tick());
    await drive(w.clock, Promise.all(ticks));
    expect(w.controller.spendPerHour()).toBeLessThanOrEqual(0.5);
    expect(w.controller.machines()).toHaveLength(5);
    const held = w.of('burst.held');
    expect(held[0]).toMatchObject({ reason: 'budget' });
    expect(held[0]!.message).toMatch(/budget of \$0.5\/h is reached/);
    // What the datacenter itself holds agrees.
    const burst = await w.dc.machines({ pool: 'adhoc.burst-cloud' });
    expect(burst.reduce((n, m) => n + (m.pricePerHour ?? 0), 0)).toBeLessThanOrEqual(0.5 + 1e-9);
  });

  it('keeps to maxMachines per target and over all targets', async () => {
    const w = await world({
      policy: {
        maxMachines: 3,
        targets: [
          { ...TARGET, sizes: ['cpu-2x4'], maxMachines: 2 },
          { ...TARGET, name: 'other', provider: 'other', sizes: ['cpu-2x4'], maxMachines: 5 },
        ],
      },
    });
    submit(w, 12, 30);
    await w.advance(30_000);
    await w.tick();
    const machines = w.controller.machines();
    expect(machines).toHaveLength(3);
    expect(machines.filter((m) => m.target === 'cloud').length).toBeLessThanOrEqual(2);
    expect(w.of('burst.held')[0]).toMatchObject({ reason: 'max-machines' });
  });
});

describe('falling back', () => {
  it('tries the next zone when a zone has no capacity', async () => {
    const w = await world({ policy: { targets: [{ ...TARGET, sizes: ['cpu-8x16'] }] } });
    w.providers['cloud']!.control.inject('capacity', 1);
    submit(w, 6, 30);
    await w.advance(30_000);
    await w.tick();
    const [failed] = w.of('burst.provision-failed');
    expect(failed).toMatchObject({ provider: 'cloud', error: { code: 'InsufficientCapacity' } });
    expect(failed!.fallback).toMatch(/cpu-8x16 in sim-1a skipped .*next zone or provider/);
    const [m] = w.controller.machines();
    expect(m).toMatchObject({ provider: 'cloud', size: 'cpu-8x16' });
    expect(m!.zone).not.toBe('sim-1a');
    expect(w.of('burst.scale-up')[1]!.reason).toMatch(/^fallback 1/);
  });

  it('moves to the next provider when a provider is over quota', async () => {
    const w = await world({
      cloud: { quota: { machines: 1, cpus: 1000 } },
      policy: {
        targets: [
          { ...TARGET, sizes: ['cpu-2x4'] },
          { ...TARGET, name: 'other', provider: 'other', sizes: ['cpu-2x4'] },
        ],
        preference: { providers: ['cloud', 'other'] },
      },
    });
    submit(w, 6, 30); // 4 wait: four 2-vCPU machines
    await w.advance(30_000);
    await w.tick();
    expect(w.of('burst.provision-failed')[0]).toMatchObject({
      provider: 'cloud',
      error: { code: 'QuotaExceeded' },
    });
    expect(w.of('burst.provision-failed')[0]!.fallback).toMatch(/provider cloud skipped/);
    // One fits cloud's quota; the other three go to the next provider.
    const providers = w.controller
      .machines()
      .map((m) => m.provider)
      .sort();
    expect(providers).toEqual(['cloud', 'other', 'other', 'other']);
  });
});

describe('cooldowns', () => {
  it('holds a second scale-up until the scale-up cooldown has passed', async () => {
    const w = await world({ policy: { cooldown: { scaleUp: '5m' } } });
    submit(w, 4, 60);
    await w.advance(30_000);
    await w.tick();
    expect(w.of('burst.scale-up')).toHaveLength(1);
    submit(w, 4, 60, 4);
    await w.advance(40_000);
    await w.tick();
    expect(w.of('burst.scale-up')).toHaveLength(1);
    expect(w.of('burst.held').at(-1)).toMatchObject({ reason: 'cooldown' });
    await w.advance(5 * MIN);
    await w.tick();
    expect(w.of('burst.scale-up')).toHaveLength(2);
  });
});

describe('scaling down', () => {
  it('releases a burst machine idle for idleFor, and never a base pool machine', async () => {
    // Without basePoolsFirst, which would cordon the busy burst machine at once.
    const w = await world({ policy: { basePoolsFirst: false } });
    submit(w, 4, 5);
    await w.burstUp();
    expect(w.jobs.stats().running).toBe(4);
    const ids = w.controller.machines().map((m) => m.id);

    for (let t = 0; t < 5 * 4; t++) {
      await w.advance(15_000); // decisions every 15 s, as when started
      await w.tick();
    }
    // Every task has ended; the machines have been idle for under 2 minutes.
    expect(w.of('burst.released')).toEqual([]);
    for (let t = 0; t < 8; t++) {
      await w.advance(15_000);
      await w.tick();
    }
    const released = w.of('burst.released').map((e) => e.id);
    expect(released.sort()).toEqual([...ids].sort());
    for (const d of w.of('burst.drain')) expect(d.reason).toMatch(/^idle for 2m/);
    expect(w.controller.machines()).toEqual([]);
    expect(await w.dc.machines({ pool: 'adhoc.burst-cloud' })).toEqual([]);
    for (const id of ids) expect(w.scheduler.agent(id)).toBeUndefined();
    // The base machine is untouched.
    const [base] = await w.dc.machines({ pool: 'onprem' });
    expect(base!.state).toBe('running');
    expect(w.scheduler.agent(base!.id)?.status).toBe('active');
  });

  it('counts idle time from the end of a task that came and went between two decisions', async () => {
    const w = await world({
      policy: { basePoolsFirst: false, targets: [{ ...TARGET, sizes: ['cpu-4x8'] }] },
    });
    submit(w, 2, 120); // the base machine stays full
    submit(w, 2, 3);
    await w.burstUp();
    const [m] = w.controller.machines();
    let lastTaskEnd = 0;
    for (let t = 0; t < 40 && w.of('burst.released').length === 0; t++) {
      await w.advance(15_000);
      await w.tick();
      if (t === 16) {
        // A 10-second task between two decisions; only the burst machine has room.
        w.jobs.submit({
          name: 'c',
          tasks: 1,
          resources: { cpus: 2, memoryMiB: 4096 },
          durationMs: 10_000,
        });
        await w.advance(0);
        expect(w.scheduler.agent(m!.id)?.tasks).toBe(1);
        lastTaskEnd = w.clock.now() + 10_000;
      }
    }
    const released = w.of('burst.released').find((e) => e.id === m!.id);
    expect(released!.at - lastTaskEnd).toBeGreaterThanOrEqual(2 * MIN);
  });

  it('sends no new work to a busy burst machine while the base pool can take it, and releases it when its tasks end', async () => {
    const w = await world({ policy: { targets: [{ ...TARGET, sizes: ['cpu-4x8'] }] } });
    submit(w, 2, 5); // the base machine, for 5 minutes
    submit(w, 2, 20); // waits, then a burst machine
    await w.burstUp();
    expect(w.jobs.stats().running).toBe(4);
    const [burst] = w.controller.machines();
    await w.tick(); // nothing waits now: the busy burst machine is cordoned
    const [cordon] = w.of('burst.drain');
    expect(cordon).toMatchObject({ id: burst!.id, tasks: 2, deadlineS: null });
    expect(w.scheduler.agent(burst!.id)?.status).toBe('draining');

    await w.advance(5 * MIN); // the base machine is free again
    submit(w, 2, 5);
    await w.advance(0);
    const onBurst = w.scheduler.snapshot().tasks.filter((t) => t.agentId === burst!.id);
    expect(onBurst).toHaveLength(2); // the new tasks went to the base machine

    await w.advance(15 * MIN); // the burst machine's tasks end
    await w.advance(0);
    const [released] = w.of('burst.released');
    expect(released).toMatchObject({ id: burst!.id });
    expect(w.jobs.stats()).toMatchObject({ finished: 6, running: 0, failed: 0 });
  });

  it('takes a cordoned machine back before buying anything when work comes back', async () => {
    const w = await world({ policy: { targets: [{ ...TARGET, sizes: ['cpu-8x16'] }] } });
    submit(w, 2, 30);
    submit(w, 2, 30);
    await w.burstUp();
    await w.tick(); // cordoned: 2 of its 8 vCPUs... busy, nothing waits
    const [burst] = w.controller.machines();
    expect(w.scheduler.agent(burst!.id)?.status).toBe('draining');
    submit(w, 2, 10); // fits nowhere but the cordoned machine's free room
    await w.advance(0);
    await w.tick();
    expect(w.of('burst.reactivated')).toMatchObject([{ id: burst!.id }]);
    expect(w.scheduler.agent(burst!.id)?.status).toBe('active');
    await w.advance(0);
    expect(w.jobs.stats()).toMatchObject({ running: 6, pending: 0 });
    expect(w.of('burst.scale-up')).toHaveLength(1);
  });

  /**
   * A burst machine cordoned with 10-minute tasks; new work that fits only there comes
   * 10 ms before they end, and `decisions` decisions are asked for at once: the first is
   * under way when the tasks end (cloud calls take 50 ms), so the drain's release waits
   * in line behind them, and the first takes the machine back.
   */
  async function takenBackAsItEmpties(decisions: number) {
    const w = await world({
      policy: { targets: [{ ...TARGET, sizes: ['cpu-8x16'] }] },
      cloud: { latency: { apiMs: 50, bootMs: 10_000, stopMs: 0, deleteMs: 0 } },
    });
    submit(w, 2, 30); // the base machine, for 30 minutes
    submit(w, 2, 10); // waits, then a burst machine for 10 minutes
    await w.burstUp();
    const startedAt = w.clock.now();
    await w.tick(); // cordoned: nothing waits
    const [burst] = w.controller.machines();
    expect(w.scheduler.agent(burst!.id)?.status).toBe('draining');
    await w.advance(startedAt + 10 * MIN - 10 - w.clock.now());
    submit(w, 2, 10);
    const queued = Array.from({ length: decisions }, () => w.controller.tick());
    await w.advance(20);
    await drive(w.clock, Promise.all(queued));
    await w.advance(1000);
    return { w, id: burst!.id };
  }

  it('keeps a cordoned machine that is taken back in the moment its last task ends', async () => {
    const { w, id } = await takenBackAsItEmpties(1);
    expect(w.of('burst.reactivated')).toMatchObject([{ id }]);
    expect(w.of('burst.released')).toEqual([]);
    expect(w.scheduler.agent(id)?.tasks).toBe(2);
    expect(w.jobs.stats()).toMatchObject({ finished: 2, running: 4, failed: 0 });
  });

  it('lets only the latest drain release it when a later decision cordons it again', async () => {
    const { w, id } = await takenBackAsItEmpties(2);
    expect(w.of('burst.reactivated')).toMatchObject([{ id }]);
    expect(w.of('burst.drain').filter((d) => d.id === id)).toHaveLength(2);
    expect(w.of('burst.released')).toEqual([]); // the first drain's release stood down
    expect(w.jobs.stats()).toMatchObject({ running: 4, failed: 0 });
    await w.advance(10 * MIN); // the new tasks end: the second drain releases it
    await w.advance(1000);
    expect(w.of('burst.released')).toMatchObject([{ id }]);
    expect(w.jobs.stats()).toMatchObject({ finished: 4, failed: 0 });
  });
});

/**
 * Consolidation: the base machine is busy with 5-minute work, and four 2-vCPU tasks of
 * an hour (`long`) run on 4-vCPU burst machines; then the short work ends, leaving the
 * base machine room for two of them, and a decision runs.
 */
async function consolidating(
  job: {
    restartable?: boolean;
    retries?: { max: number; backoffMs: number };
    constraints?: ConstraintInput[];
  },
  maxRestartLoss?: string,
) {
  const w = await world({
    policy: {
      basePoolsFirst: false,
      drainDeadline: '10m',
      targets: [{ ...TARGET, sizes: ['cpu-4x8'] }],
      consolidation: {
        act: true,
        interval: '15s',
        minSavingPercent: 10,
        ...(maxRestartLoss === undefined ? {} : { maxRestartLoss }),
      },
    },
  });
  submit(w, 2, 5);
  const long = w.jobs.submit({
    name: 'long',
    tasks: 4,
    resources: { cpus: 2, memoryMiB: 2048 },
    durationMs: 60 * MIN,
    ...job,
  });
  await w.burstUp();
  expect(w.jobs.stats().running).toBe(6);
  await w.advance(5 * MIN);
  await w.tick();
  await w.advance(0);
  const drains = w.of('burst.drain').filter((d) => d.reason.startsWith('consolidation'));
  return { w, long, drains };
}

describe('consolidation', () => {
  it('suggests it as an event, and with act drains and releases after the deadline', async () => {
    const { w, long, drains } = await consolidating({ retries: { max: 1, backoffMs: 0 } });
    const [c] = w.of('burst.consolidation');
    expect(c).toBeDefined();
    expect(c!.acted).toBe(true);
    expect(c!.machines.length).toBeGreaterThan(0);
    expect(c!.savingPerHour).toBeGreaterThan(0);
    expect(drains[0]).toMatchObject({ deadlineS: 600 });
    const { id, at: drainAt } = drains[0]!;

    await w.advance(9 * MIN);
    expect(w.of('burst.released').map((e) => e.id)).not.toContain(id);
    await w.advance(2 * MIN); // past the deadline: its task is killed and retried elsewhere
    await w.advance(0);
    const released = w.of('burst.released').find((e) => e.id === id);
    expect(released).toBeDefined();
    expect(released!.at - drainAt).toBeGreaterThanOrEqual(10 * MIN);
    expect(w.jobs.job(long).failed).toBe(0);
  });

  it('moves restartable tasks off a drained machine at once, so it goes without waiting for the deadline', async () => {
    const { w, long, drains } = await consolidating({ restartable: true });
    expect(drains).toHaveLength(1);
    const released = w.of('burst.released').find((e) => e.id === drains[0]!.id);
    expect(released?.at).toBe(drains[0]!.at); // no 10-minute wait
    expect(w.jobs.job(long)).toMatchObject({ moved: 2, failed: 0, running: 4 });
  });

  it('leaves machines alone whose tasks have run longer than maxRestartLoss', async () => {
    const { w, long, drains } = await consolidating({ restartable: true }, '2m');
    expect(drains).toEqual([]);
    expect(w.jobs.job(long)).toMatchObject({ moved: 0, running: 4 });
  });

  it('never plans a move into room where the tasks may not run', async () => {
    // Pinned to the cloud (their data is there): the base machine's room is no room for them.
    const pinned = [{ op: 'equals' as const, attribute: 'provider', value: 'cloud' }];
    const { w, long, drains } = await consolidating({ restartable: true, constraints: pinned });
    expect(drains).toEqual([]);
    expect(w.jobs.job(long)).toMatchObject({ moved: 0, running: 4 });
  });

  it('leaves tasks alone whose constraints count the other tasks of their job', async () => {
    const spread = [{ op: 'maxPerAgent' as const, max: 4 }];
    const { w, long, drains } = await consolidating({ restartable: true, constraints: spread });
    expect(drains).toEqual([]);
    expect(w.jobs.job(long)).toMatchObject({ moved: 0, running: 4 });
  });
});

describe('restarts and records', () => {
  it('a new controller finds the burst machines of the last one and releases them when idle', async () => {
    const store = memoryStore();
    const w = await world({ store });
    submit(w, 4, 5);
    await w.advance(30_000);
    await w.tick();
    const ids = w.controller.machines().map((m) => m.id);
    expect(ids.length).toBeGreaterThan(0);

    const again = new BurstController({ dc: w.dc, policy: w.controller.policy, clock: w.clock });
    const events: string[] = [];
    again.events.on((e) => events.push(`${e.type} ${'id' in e ? e.id : ''}`));
    await drive(w.clock, again.tick());
    expect(
      again
        .machines()
        .map((m) => m.id)
        .sort(),
    ).toEqual([...ids].sort());
    expect(again.spendPerHour()).toBeCloseTo(w.controller.spendPerHour(), 6);
    await w.advance(20 * MIN);
    await drive(w.clock, again.tick());
    await w.advance(3 * MIN);
    await drive(w.clock, again.tick());
    expect(again.machines()).toEqual([]);
    expect(events.filter((e) => e.startsWith('burst.released'))).toHaveLength(ids.length);
  });

  it('runs on its own clock once started: decisions every interval, boot checks in between', async () => {
    const w = await world({ start: true });
    submit(w, 6, 10);
    await w.advance(2 * MIN);
    expect(w.of('burst.scale-up')).toHaveLength(1);
    expect(w.of('burst.running').length).toBeGreaterThan(0);
    expect(w.jobs.stats()).toMatchObject({ running: 6, pending: 0 });
    await w.advance(20 * MIN);
    expect(w.controller.machines()).toEqual([]);
    await drive(w.clock, w.controller.stop());
  });
});
