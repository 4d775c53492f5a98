import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from '../../src/core/index.js';
import { BurstPolicySchema, loadSpecFile } from '../../src/logical-dc/index.js';
import { EXAMPLE, loadTrace, runExample, tracePath, traceWindow, type Run } from './helpers.js';
import { spendAfterEachEvent } from './invariants.js';

// The first hour of the spiky trace: its spike needs about $6.7/h of burst machines.
const spike = () => traceWindow(loadTrace(tracePath('spiky')), 0, 3600);
// Here it gets $1.50.
const CAP = 1.5;

describe('a budget the spike would overrun', () => {
  let run: Run;
  beforeAll(async () => {
    const burst = loadSpecFile(EXAMPLE).spec.burst;
    const policy = parse(BurstPolicySchema, { ...burst, budgetPerHour: CAP }, 'burst policy');
    run = await runExample(spike(), { policy });
  });

  it('is never exceeded, at any moment of the run', () => {
    expect(Math.max(...spendAfterEachEvent(run.events))).toBeLessThanOrEqual(CAP + 1e-9);
    expect(run.report.burst.peakSpendPerHour).toBeLessThanOrEqual(CAP);
  });

  it('binds: decisions leave work unplaced for the budget, and spend reaches near the cap', () => {
    const budgetBound = run.events.filter(
      (e) =>
        (e.type === 'burst.held' && e.reason === 'budget') ||
        (e.type === 'burst.scale-up' && e.unplaced.some((u) => u.reason === 'budget')),
    );
    expect(budgetBound.length).toBeGreaterThan(0);
    expect(run.report.burst.peakSpendPerHour).toBeGreaterThan(CAP * 0.8);
  });

  it('still starts every task, later than with room to spend', () => {
    expect(run.report.tasks.neverStarted).toBe(0);
    expect(run.report.tasks.finished).toBe(run.report.tasks.submitted);
    expect(run.report.waitS.p99).toBeGreaterThan(300);
  });
});

// The contrast to the invariant "no task waits forever when burst capacity exists": the
// base pools have no GPUs, so without burst the GPU tasks of the trace never start.
describe('the base pools alone (no burst controller)', () => {
  let run: Run;
  beforeAll(async () => {
    run = await runExample(spike(), {
      noBurst: true,
      tailMs: 3_600_000,
    });
  });

  it('leave the tasks that need a GPU waiting for ever', () => {
    const rows = spike();
    const gpuTasks = rows.filter((r) => r.gpus > 0).reduce((n, r) => n + r.count, 0);
    expect(gpuTasks).toBeGreaterThan(0);
    expect(run.report.tasks.neverStarted).toBeGreaterThanOrEqual(gpuTasks);
  });

  it('make no burst decisions and cost nothing beyond the base pools', () => {
    expect(run.events).toEqual([]);
    expect(run.report.policy).toBeNull();
    expect(run.report.cost.burstUsd).toBe(0);
    expect(run.report.cost.totalUsd).toBe(run.report.cost.baseUsd);
  });
});
