import { describe, expect, it } from 'vitest';
import { runExample } from './helpers.js';

// 100 four-vCPU tasks of an hour at once: the base pools (128 vCPU) take 32, burst the rest.
const BIG = [
  { submit_s: 0, cpus: 4, memory_mib: 8192, gpus: 0, duration_s: 3600, count: 100 },
] as const;

describe('a run cut short by its tail', () => {
  it('bills nothing past its end, even machines a decision in flight makes as it stops', async () => {
    const { report } = await runExample(BIG, { tailMs: 97_500 });
    expect(report.cost.burstUsd).toBeGreaterThanOrEqual(0);
    // It stops at the first event at or past the tail.
    expect(report.durationS).toBeGreaterThanOrEqual(97.5);
    expect(report.durationS).toBeLessThan(100);
    expect(report.tasks.finished).toBe(0);
    expect(report.tasks.unfinished + report.tasks.neverStarted).toBe(100);
  });

  it('counts its tail from the moment the base pools are up', async () => {
    const { report } = await runExample(BIG, { tailMs: 30_000 });
    expect(report.durationS).toBeGreaterThanOrEqual(30);
    expect(report.durationS).toBeLessThan(32);
    expect(report.tasks.unfinished).toBeGreaterThanOrEqual(32); // the base pools took theirs
  });
});
