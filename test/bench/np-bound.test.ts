import { describe, expect, it } from 'vitest';
import { nonPreemptiveLowerBound } from '../../bench/np-bound.js';
import { costLowerBound, type TraceRow } from '../../src/logical-dc/simulate/index.js';

const BASE = { cpus: 4, memoryMiB: 16384, gpus: 0, diskGiB: 0 };
const CPU4 = { pricePerHour: 0.2, capacity: { cpus: 4, memoryMiB: 8192, gpus: 0, diskGiB: 0 } };
const row = (submit_s: number, duration_s: number, cpus = 4, count = 1): TraceRow => ({
  submit_s,
  cpus,
  memory_mib: 1024 * cpus,
  gpus: 0,
  duration_s,
  count,
});

describe('the non-preemptive lower bound (bench)', () => {
  it('buys what the base pools cannot hold, for as long as it runs', async () => {
    // Two 4-vCPU tasks for an hour on a 4-vCPU base: one runs on a $0.20/h machine.
    expect(await nonPreemptiveLowerBound([row(0, 3600, 4, 2)], BASE, [CPU4])).toBeCloseTo(0.2, 6);
  });

  it('keeps each task where it started, where the fractional bound moves work back', async () => {
    // A 10-minute task from 0 s, a 2-hour one from 60 s, a base of one task's room.
    const rows = [row(0, 600), row(60, 7200)];
    // Fractional: the long task rents a machine until the short one ends (540 s), then
    // moves to the base pools.
    expect(costLowerBound(rows, BASE, [CPU4])).toBeCloseTo((0.2 * 540) / 3600, 6);
    // Without moves, the best is the short task on a machine from its start (600 s).
    expect(await nonPreemptiveLowerBound(rows, BASE, [CPU4])).toBeCloseTo((0.2 * 600) / 3600, 6);
  });

  it('is never below the fractional bound, whatever the times', async () => {
    // Times off any grid, as in the shipped traces.
    const rows = [row(7, 913, 2, 3), row(121, 1801, 4, 2), row(10, 40, 4, 2), row(933, 1207, 8)];
    const base = { cpus: 8, memoryMiB: 32768, gpus: 0, diskGiB: 0 };
    const np = await nonPreemptiveLowerBound(rows, base, [CPU4]);
    expect(np).toBeGreaterThanOrEqual(costLowerBound(rows, base, [CPU4]) - 1e-6);
  });

  it('lets a task start late, within the delay, to wait for base room', async () => {
    // The base frees at 600 s; a task submitted at 540 s may wait the 60 s (in 30 s steps).
    const rows = [row(0, 600), row(540, 3600)];
    // Started at once, one of them runs on a machine all its run: the short one.
    expect(await nonPreemptiveLowerBound(rows, BASE, [CPU4])).toBeCloseTo((0.2 * 600) / 3600, 6);
    expect(
      await nonPreemptiveLowerBound(rows, BASE, [CPU4], { delay: { maxS: 60, gridS: 30 } }),
    ).toBeCloseTo(0, 6);
  });

  it('bills each machine its boot, and keeps one through a lull shorter than a boot', async () => {
    const none = { cpus: 0, memoryMiB: 0, gpus: 0, diskGiB: 0 };
    const perSecond = { ...CPU4, pricePerHour: 3600 };
    // 100 s of work, a 10 s lull, 100 s more: one 60 s boot and the lull kept (270).
    const rows = [row(0, 100), row(110, 100)];
    expect(await nonPreemptiveLowerBound(rows, none, [perSecond], { bootS: 60 })).toBeCloseTo(
      270,
      6,
    );
  });
});
