import { expect, it } from 'vitest';
import type { BurstEvent, BurstPolicy } from '../../src/logical-dc/index.js';
import type { Run } from './helpers.js';

/**
 * What burst machines cost per hour right after each event, replayed from the event
 * stream alone (provisioned adds its price, released or lost takes it away).
 */
export function spendAfterEachEvent(events: readonly BurstEvent[]): number[] {
  const live = new Map<string, number>();
  const out: number[] = [];
  for (const e of events) {
    if (e.type === 'burst.provisioned') live.set(e.machine.id, e.machine.pricePerHour);
    else if (e.type === 'burst.released' || e.type === 'burst.lost') live.delete(e.id);
    let spend = 0;
    for (const p of live.values()) spend += p;
    out.push(spend);
  }
  return out;
}

/** Ids of machines provisioned and never released or lost. */
export function stillHeld(events: readonly BurstEvent[]): string[] {
  const live = new Set<string>();
  for (const e of events) {
    if (e.type === 'burst.provisioned') live.add(e.machine.id);
    else if (e.type === 'burst.released' || e.type === 'burst.lost') live.delete(e.id);
  }
  return [...live];
}

/**
 * Drains with a deadline whose machine was neither released nor taken back within the
 * deadline plus one decision interval (the decision that notices the deadline).
 */
export function overdueDrains(events: readonly BurstEvent[], policy: BurstPolicy): string[] {
  const overdue: string[] = [];
  events.forEach((e, i) => {
    if (e.type !== 'burst.drain' || e.deadlineS === null) return;
    const by = e.at + e.deadlineS * 1000 + policy.interval;
    const end = events
      .slice(i + 1)
      .find(
        (n) => (n.type === 'burst.released' || n.type === 'burst.reactivated') && n.id === e.id,
      );
    if (end === undefined || end.at > by) overdue.push(e.id);
  });
  return overdue;
}

/** Ids of machines that burst events act on (drain, release, …) but burst never provisioned. */
export function foreignMachinesActedOn(events: readonly BurstEvent[]): string[] {
  const ours = new Set<string>();
  const foreign = new Set<string>();
  for (const e of events) {
    if (e.type === 'burst.provisioned') ours.add(e.machine.id);
    else if ('id' in e && !ours.has(e.id)) foreign.add(e.id);
  }
  return [...foreign];
}

/**
 * The invariants every simulation of the example spec keeps, whatever the trace: the
 * budget is never exceeded, every task starts, no burst machine idles past idleFor plus
 * the drain deadline, and the base pools are left alone.
 */
export function itKeepsTheBurstInvariants(run: () => Run): void {
  it('never spends more than the budget per hour, at any moment', () => {
    const { report, events } = run();
    const budget = report.policy!.budgetPerHour;
    expect(events.some((e) => e.type === 'burst.provisioned')).toBe(true);
    expect(Math.max(...spendAfterEachEvent(events))).toBeLessThanOrEqual(budget + 1e-9);
    expect(report.burst.peakSpendPerHour).toBeLessThanOrEqual(budget);
    for (const e of events)
      if (e.type === 'burst.scale-up')
        expect(e.budget.spendPerHour).toBeLessThanOrEqual(e.budget.capPerHour + 1e-9);
    for (const s of report.series) expect(s.burstSpendPerHour).toBeLessThanOrEqual(budget);
  });

  it('never holds more burst machines than the policy allows', () => {
    const { report } = run();
    expect(report.burst.peakMachines).toBeGreaterThan(0);
    expect(report.burst.peakMachines).toBeLessThanOrEqual(report.policy!.maxMachines!);
  });

  it('starts and finishes every task, each within minutes of its submission', () => {
    const { report } = run();
    expect(report.tasks.neverStarted).toBe(0);
    expect(report.tasks.failed).toBe(0);
    expect(report.tasks.finished).toBe(report.tasks.submitted);
    // pendingFor + boot + a few decision intervals; far more means a decision failed to buy.
    expect(report.waitS.max).toBeLessThanOrEqual(300);
  });

  it('accounts for every burst dollar as booting, idle or running tasks', () => {
    const { report, events } = run();
    const { bootUsd, idleUsd, busyUsd } = report.cost.burstBreakdown;
    expect(idleUsd).toBeGreaterThanOrEqual(0);
    expect(busyUsd).toBeGreaterThan(bootUsd + idleUsd);
    expect(bootUsd + idleUsd + busyUsd).toBeCloseTo(report.cost.burstUsd, 3);
    // Booting, as the controller saw it: from each create to the machine running, at its
    // price. The report's own clock differs by the create call and the boot check (≤ 5 s).
    const price = new Map<string, number>();
    for (const e of events)
      if (e.type === 'burst.provisioned') price.set(e.machine.id, e.machine.pricePerHour);
    const booted = events
      .filter((e) => e.type === 'burst.running')
      .reduce((usd, e) => usd + ((price.get(e.id) ?? 0) * e.bootS) / 3600, 0);
    expect(booted).toBeGreaterThan(0);
    expect(bootUsd).toBeGreaterThan(booted * 0.9);
    expect(bootUsd).toBeLessThan(booted * 1.1);
  });

  it('leaves no burst machine idle past idleFor plus the drain deadline', () => {
    const { report } = run();
    const policy = report.policy!;
    expect(report.burst.longestIdleS * 1000).toBeLessThanOrEqual(
      policy.idleFor + policy.drainDeadline,
    );
  });

  it('releases a drained machine by its deadline, and every burst machine by the end', () => {
    const { report, events } = run();
    expect(overdueDrains(events, report.policy!)).toEqual([]);
    expect(stillHeld(events)).toEqual([]);
    expect(report.series.at(-1)!.burstMachines).toBe(0);
  });

  it('leaves the base pools alone: same machines, up the whole run, never drained', () => {
    const { file, report, events } = run();
    const basePool = file.spec.pools['onprem']!;
    expect(report.burst.baseMachinesTouched).toEqual([]);
    expect(report.burst.baseMachines).toBe(basePool.count);
    expect(foreignMachinesActedOn(events)).toEqual([]);
    // Every base machine billed for the whole run: none left and came back.
    const baseHours = report.machineHours['onprem']!;
    expect(baseHours).toBeGreaterThanOrEqual(((basePool.count ?? 0) * report.durationS) / 3600);
    for (const s of report.series) expect(s.machinesByProvider['onprem']).toBe(basePool.count);
  });
}
