/** What `kumo simulate` reports (`report.json`), and how it is written. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BurstEvent } from '../burst/burst-events.js';
import type { BurstPolicy } from '../burst/burst-schema.js';
import { renderReportHtml } from './report-html.js';

/** One point of the charts. */
export interface SimulationSample {
  /** Seconds since the simulation started. */
  readonly t: number;
  readonly machinesByProvider: Readonly<Record<string, number>>;
  readonly burstMachines: number;
  readonly pendingTasks: number;
  readonly runningTasks: number;
  /** What every machine up costs, USD per hour. */
  readonly spendPerHour: number;
  readonly burstSpendPerHour: number;
  /** Spent so far, USD. */
  readonly costUsd: number;
  readonly burstCostUsd: number;
  /** Share of the agents' vCPUs in use. */
  readonly utilization: number;
  /** vCPUs of base pool agents, and how many are in use. */
  readonly baseCpus: number;
  readonly baseUsedCpus: number;
  /** vCPUs of burst agents, and how many are in use. */
  readonly burstCpus: number;
  readonly burstUsedCpus: number;
}

export interface SimulationReport {
  readonly format: 'kumo-simulation/1';
  readonly source: { readonly spec?: string; readonly trace?: string };
  readonly policy: BurstPolicy | null;
  /** Clock time (epoch ms) of the start: event times minus this are times into the run. */
  readonly startAt: number;
  /** Virtual seconds simulated, from the first submission on. */
  readonly durationS: number;
  readonly trace: { jobs: number; tasks: number; cpuHours: number; lastSubmitS: number };
  readonly tasks: {
    readonly submitted: number;
    readonly finished: number;
    readonly failed: number;
    /**
     * Moves of restartable tasks: times one was stopped by its machine (a consolidation
     * drain, a drain deadline, a lost machine) and run again elsewhere; a task may move
     * more than once. Waits count to a task's first start only.
     */
    readonly moved: number;
    /** Tasks that never started before the simulation ended. */
    readonly neverStarted: number;
    /** Tasks that started (or waited to start again) and had not ended when it stopped (`tailMs`). */
    readonly unfinished: number;
  };
  readonly cost: {
    readonly totalUsd: number;
    readonly burstUsd: number;
    readonly baseUsd: number;
    readonly byProvider: Readonly<Record<string, number>>;
    /** The least any policy could spend on burst machines for this trace (see lower-bound.ts). */
    readonly lowerBoundBurstUsd: number | null;
    readonly burstVsLowerBound: number | null;
    /**
     * Where `burstUsd` went: machines booting (billed from the request), running no
     * task (idle before release, or between tasks), and running at least one task.
     */
    readonly burstBreakdown: {
      readonly bootUsd: number;
      readonly idleUsd: number;
      readonly busyUsd: number;
    };
    /**
     * The least the work that ran on burst machines could have cost: the fractional
     * lower bound of what they hosted at each instant. The gap to it is the burst
     * controller's own overhead (packing, boot, idle time, tasks ending unevenly).
     */
    readonly burstWorkBoundUsd: number | null;
    readonly burstVsWorkBound: number | null;
  };
  /** Machine-hours by provider. */
  readonly machineHours: Readonly<Record<string, number>>;
  /** Seconds from submission to start, over every task that started. */
  readonly waitS: {
    readonly p50: number;
    readonly p95: number;
    readonly p99: number;
    readonly max: number;
    readonly mean: number;
  };
  /** vCPU-time in use over vCPU-time up. */
  readonly utilization: { readonly all: number; readonly base: number; readonly burst: number };
  readonly burst: {
    readonly budgetPerHour: number | null;
    /** The most all burst machines cost at once (from the datacenter's own events). */
    readonly peakSpendPerHour: number;
    readonly launched: number;
    readonly peakMachines: number;
    /** The longest a burst machine sat without tasks while it was an agent. */
    readonly longestIdleS: number;
    /** Base pool machines deleted or lost during the run (should be none). */
    readonly baseMachinesTouched: readonly string[];
    readonly baseMachines: number;
  };
  readonly decisions: readonly BurstEvent[];
  readonly series: readonly SimulationSample[];
}

/** Writes `DIR/report.json` and `DIR/report.html`; returns their paths. */
export function writeReport(dir: string, report: SimulationReport): { json: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'report.json');
  const html = join(dir, 'report.html');
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(html, renderReportHtml(report));
  return { json, html };
}
