/**
 * `kumo simulate`: the whole system on virtual time over a workload trace — simulated
 * providers, the logical datacenter (state in memory), the scheduler with the jobs
 * framework and an instant executor, and the burst controller — so a burst policy's
 * cost and waits are known before it runs for real. Deterministic: the same inputs
 * give the same report.
 */
import {
  parse,
  ValidationError,
  VirtualClock,
  type Clock,
  type Provider,
} from '../../core/index.js';
import { JobsFramework, Scheduler } from '../../scheduler/index.js';
import type { AgentSink } from '../agents.js';
import { BurstController } from '../burst/burst-controller.js';
import type { BurstEvent } from '../burst/burst-events.js';
import { BurstPolicySchema, providerRanks, type BurstPolicy } from '../burst/burst-schema.js';
import {
  buildCandidates,
  DEFAULT_PORTS_PER_AGENT,
  targetOfPool,
  type ProviderCatalog,
} from '../burst/candidates.js';
import {
  fractionalLowerBound,
  pruneDominated,
  type BoundCandidate,
} from '../burst/fractional-bound.js';
import { LogicalDatacenter } from '../logical-datacenter.js';
import type { DatacenterSpec } from '../spec.js';
import { memoryStore } from '../state/memory-store.js';
import { costLowerBound } from './lower-bound.js';
import { percentile, round } from './metrics.js';
import { SimulationRecorder } from './recorder.js';
import type { SimulationReport, SimulationSample } from './report.js';
import { traceStats, type TraceRow } from './trace.js';

export interface SimulationOptions {
  /** The datacenter's name (machine tags). Default `sim`. */
  readonly name?: string;
  /** Pools, labels and the burst policy (`spec.burst`). */
  readonly spec: DatacenterSpec;
  /** Builds the providers on the simulation's clock (the CLI passes `sim` providers). */
  readonly providers: (clock: Clock) => Readonly<Record<string, Provider>>;
  readonly trace: readonly TraceRow[];
  /** Run without the burst controller (base pools only). Default false. */
  readonly noBurst?: boolean;
  /** Overrides the spec's burst policy. */
  readonly policy?: BurstPolicy;
  /** `ffd`: plain first-fit decreasing instead of kumo's packing (a bench baseline). */
  readonly packing?: 'best' | 'ffd';
  /**
   * The trace's tasks may be stopped and run again from the start elsewhere (jobs
   * `restartable`), so consolidation can move them off burst machines. Default false.
   */
  readonly restartable?: boolean;
  /** Time between samples of the charts. Default 60 s. */
  readonly sampleMs?: number;
  /** Longest the simulation runs past the last submission. Default 12 h. */
  readonly tailMs?: number;
  /** Epoch ms of the simulation's start (machine timestamps). Default 2025-01-01T00:00Z. */
  readonly startAt?: number;
  /** Told of every burst event as it happens. */
  readonly onEvent?: (event: BurstEvent) => void;
  /** Where the inputs came from, for the report. */
  readonly source?: { readonly spec?: string; readonly trace?: string };
}

const DEFAULT_START = Date.UTC(2025, 0, 1);

/** Steps the virtual clock until `done()` or nothing is left to run. */
async function runUntil(clock: VirtualClock, done: () => boolean, limit: number): Promise<void> {
  await new Promise((r) => setImmediate(r));
  while (!done()) {
    if (clock.now() >= limit) return;
    const stepped = await clock.step();
    if (!stepped) return;
  }
}

/** Resolves `promise` while the virtual clock runs (it may wait on clock timers). */
async function drive<T>(clock: VirtualClock, promise: Promise<T>, limit: number): Promise<T> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await runUntil(clock, () => settled, limit);
  return promise;
}

/**
 * Runs a simulation to the end of the trace (and until burst machines are given back).
 *
 * @example
 * ```ts
 * const report = await simulate({
 *   spec: file.spec,
 *   providers: (clock) => ({ onprem: sim({ name: 'onprem' }, { clock }), cloud: sim({ name: 'cloud' }, { clock }) }),
 *   trace: loadTrace('examples/traces/spiky.csv'),
 * });
 * console.log(report.cost.burstUsd, report.waitS.p95);
 * ```
 */
export async function simulate(options: SimulationOptions): Promise<SimulationReport> {
  const start = options.startAt ?? DEFAULT_START;
  const clock = new VirtualClock({ start });
  const providers = options.providers(clock);
  if (options.noBurst !== true && options.policy === undefined && options.spec.burst === undefined)
    throw new ValidationError('the spec has no burst policy to simulate (add a burst: section)', {
      issues: [{ path: 'burst', message: 'missing' }],
    });
  const policy =
    options.noBurst === true
      ? undefined
      : (options.policy ?? parse(BurstPolicySchema, options.spec.burst, 'burst policy', 'burst'));
  const recorder = new SimulationRecorder(clock, start);
  const scheduler = new Scheduler({ clock, executor: recorder, offerTimeoutMs: 0 });
  const jobs = new JobsFramework(scheduler);
  const burstPool = (pool: string): boolean => targetOfPool(pool) !== undefined;
  // When each machine's agent joined and how long it ran nothing, kept past its leaving.
  const agentTimes = new Map<string, { addedAt: number; idleMs: number; goneAt: number }>();
  const agentGone = (id: string): void => {
    const t = recorder.agentGone(id);
    if (t !== undefined) agentTimes.set(id, { ...t, goneAt: clock.now() });
  };
  // The datacenter makes machines agents of the scheduler; this sink is told after it.
  const watcher: AgentSink = {
    machineRunning: (agent) =>
      recorder.agentAdded(agent.id, agent.resources.cpus, burstPool(agent.attributes.pool)),
    machineLeft: agentGone,
    machineLost: agentGone,
  };
  const dc = new LogicalDatacenter({
    name: options.name ?? 'sim',
    store: memoryStore(),
    providers,
    scheduler,
    agents: watcher,
    clock,
  });

  // The machine ledger: cost and machine-hours, from the datacenter's own events.
  interface Open {
    readonly at: number;
    readonly price: number;
    readonly provider: string;
    readonly burst: boolean;
  }
  const open = new Map<string, Open>();
  const machineMs = new Map<string, number>();
  const costByProvider = new Map<string, number>();
  let burstUsd = 0;
  let baseUsd = 0;
  // Where burst money went: booting, running no task, running tasks.
  const burstSplit = { bootUsd: 0, idleUsd: 0, busyUsd: 0 };
  let peakBurstSpend = 0;
  let launched = 0;
  let peakBurstMachines = 0;
  const burstSpend = (): number => {
    let n = 0;
    for (const o of open.values()) if (o.burst) n += o.price;
    return n;
  };
  // Once the run has ended, nothing after its end is billed (a decision in flight may
  // still make or release machines while the controller stops).
  let cutoff = Infinity;
  const close = (id: string, now: number): void => {
    const o = open.get(id);
    if (o === undefined) return;
    open.delete(id);
    const ms = Math.max(0, Math.min(now, cutoff) - o.at);
    machineMs.set(o.provider, (machineMs.get(o.provider) ?? 0) + ms);
    const usd = (o.price * ms) / 3_600_000;
    costByProvider.set(o.provider, (costByProvider.get(o.provider) ?? 0) + usd);
    agentGone(id);
    if (o.burst) {
      burstUsd += usd;
      const t = agentTimes.get(id);
      const bootMs = Math.min(ms, Math.max(0, (t?.addedAt ?? now) - o.at));
      // Between leaving the scheduler and being deleted it runs nothing, too.
      const idleMs = Math.min(ms - bootMs, t === undefined ? 0 : t.idleMs + (now - t.goneAt));
      const perMs = o.price / 3_600_000;
      burstSplit.bootUsd += bootMs * perMs;
      burstSplit.idleUsd += idleMs * perMs;
      burstSplit.busyUsd += (ms - bootMs - idleMs) * perMs;
    } else baseUsd += usd;
    agentTimes.delete(id);
  };
  const baseIds = new Set<string>();
  const touchedBase: string[] = [];
  dc.events.on((e) => {
    const now = clock.now();
    if (e.type === 'machine.created') {
      const burst = burstPool(e.pool);
      if (!burst) baseIds.add(e.machine.id);
      open.set(e.machine.id, {
        at: now,
        price: e.machine.pricePerHour ?? 0,
        provider: e.machine.provider,
        burst,
      });
      if (burst) {
        launched++;
        peakBurstSpend = Math.max(peakBurstSpend, burstSpend());
        let n = 0;
        for (const o of open.values()) if (o.burst) n++;
        peakBurstMachines = Math.max(peakBurstMachines, n);
      }
    } else if (e.type === 'machine.deleting' || e.type === 'machine.lost') {
      if (baseIds.has(e.id)) touchedBase.push(e.id);
      close(e.id, now);
    }
  });

  // Sizes and prices, for the lower bounds.
  const catalogs = new Map<string, ProviderCatalog>();
  const boundCandidates: BoundCandidate[] = [];
  if (policy !== undefined) {
    for (const [name, p] of Object.entries(providers))
      if (policy.targets.some((t) => t.provider === name))
        catalogs.set(name, { region: p.region, sizes: await p.listSizes({ spot: true }) });
    boundCandidates.push(
      ...pruneDominated(
        buildCandidates(policy, catalogs, {
          portsPerAgent: DEFAULT_PORTS_PER_AGENT,
          ranks: providerRanks(policy),
        }).candidates.map((c) => ({ pricePerHour: c.pricePerHour, capacity: c.capacity })),
      ),
    );
    recorder.priceBurstWork((d) => fractionalLowerBound(d, boundCandidates));
  }

  // The base pools come up whatever the tail: the run needs them.
  const made = await drive(clock, dc.apply(options.spec), Infinity);
  if (!made.summary.ok)
    throw new ValidationError(
      `the base pools could not be made, so nothing would run: ${made.summary.failed
        .map((f) => `${f.step}: ${f.message}`)
        .join('; ')}`,
      { issues: made.summary.failed.map((f) => ({ path: f.step, message: f.message })) },
    );
  const baseMachines = await drive(clock, dc.machines(), Infinity);
  const t0 = clock.now();
  // The trace's times, and so the tail, count from here (after the base pools are up).
  const limit =
    t0 + (traceStats(options.trace).lastSubmitS * 1000 + (options.tailMs ?? 12 * 3_600_000));

  const events: BurstEvent[] = [];
  let controller: BurstController | undefined;
  if (policy !== undefined) {
    controller = new BurstController({
      dc,
      policy,
      spec: options.spec,
      clock,
      ...(options.packing === undefined ? {} : { packing: options.packing }),
    });
    controller.events.on((e) => {
      events.push(e);
      options.onEvent?.(e);
    });
    await drive(clock, controller.start(), limit);
  }

  // The trace: each row becomes a job submitted at its time.
  const submitted = new Map<string, { at: number; tasks: number }>();
  let pendingRows = options.trace.length;
  options.trace.forEach((row, i) => {
    clock.schedule(Math.max(0, t0 + row.submit_s * 1000 - clock.now()), () => {
      const id = jobs.submit({
        id: `j${i}`,
        name: `row-${i}`,
        tasks: row.count,
        resources: { cpus: row.cpus, memoryMiB: row.memory_mib, gpus: row.gpus },
        durationMs: row.duration_s * 1000,
        restartable: options.restartable === true,
      });
      submitted.set(id, { at: clock.now(), tasks: row.count });
      pendingRows--;
    });
  });

  // Samples for the charts.
  const samples: SimulationSample[] = [];
  const sampleMs = options.sampleMs ?? 60_000;
  const sample = (): void => {
    const now = clock.now();
    const byProvider: Record<string, number> = {};
    let burstMachines = 0;
    let spend = 0;
    for (const o of open.values()) {
      byProvider[o.provider] = (byProvider[o.provider] ?? 0) + 1;
      if (o.burst) burstMachines++;
      spend += o.price;
    }
    const stats = jobs.stats();
    let usd = burstUsd + baseUsd;
    for (const o of open.values()) usd += (o.price * (now - o.at)) / 3_600_000;
    let burstNow = burstUsd;
    for (const o of open.values()) if (o.burst) burstNow += (o.price * (now - o.at)) / 3_600_000;
    const used = recorder.usedBurst.value + recorder.usedBase.value;
    const capacity = recorder.capacityBurst.value + recorder.capacityBase.value;
    samples.push({
      t: round((now - t0) / 1000, 1),
      machinesByProvider: byProvider,
      burstMachines,
      pendingTasks: stats.pending,
      runningTasks: stats.running + stats.staging,
      spendPerHour: round(spend),
      burstSpendPerHour: round(burstSpend()),
      costUsd: round(usd),
      burstCostUsd: round(burstNow),
      utilization: capacity > 0 ? round(used / capacity) : 0,
      baseCpus: round(recorder.capacityBase.value, 3),
      baseUsedCpus: round(recorder.usedBase.value, 3),
      burstCpus: round(recorder.capacityBurst.value, 3),
      burstUsedCpus: round(recorder.usedBurst.value, 3),
    });
  };
  const sampler = (): void => {
    sample();
    clock.schedule(sampleMs, sampler);
  };
  sampler();

  const finished = (): boolean => {
    if (pendingRows > 0) return false;
    const s = jobs.stats();
    if (s.pending + s.backingOff + s.staging + s.running > 0) return false;
    return controller === undefined || controller.machines().length === 0;
  };
  await runUntil(clock, finished, limit);
  const end = clock.now();
  cutoff = end;
  sample();
  // Counted at the end: what happens while the controller stops is past the run.
  const stats = jobs.stats();
  // A decision may be in flight past the limit (a machine booting): let it end.
  if (controller !== undefined) await drive(clock, controller.stop(), Infinity);
  jobs.close();
  await scheduler.close();

  for (const id of [...open.keys()]) close(id, end);

  // Waits: from submission to each task's first start.
  const waits: number[] = [];
  let never = 0;
  for (const [id, job] of submitted)
    for (let k = 0; k < job.tasks; k++) {
      const started = recorder.startedAt(`${id}.${k}`);
      if (started === undefined || started > end) never++;
      else waits.push((started - job.at) / 1000);
    }
  for (let i = 0; i < options.trace.length; i++)
    if (!submitted.has(`j${i}`)) never += options.trace[i]!.count;

  const bound =
    policy === undefined
      ? undefined
      : costLowerBound(
          options.trace,
          baseMachines.reduce(
            (v, m) => ({
              cpus: v.cpus + m.resources.cpus,
              memoryMiB: v.memoryMiB + m.resources.memoryMiB,
              gpus: v.gpus + m.resources.gpus,
              diskGiB: v.diskGiB + m.resources.diskGiB,
            }),
            { cpus: 0, memoryMiB: 0, gpus: 0, diskGiB: 0 },
          ),
          boundCandidates,
        );
  const workBound = policy === undefined ? undefined : recorder.burstWorkBoundUsd(end);

  const idle = recorder.idleSpells();
  const hours = (ms: number): number => round(ms / 3_600_000, 3);
  const usedBurst = recorder.usedBurst.total(end);
  const usedBase = recorder.usedBase.total(end);
  const capBurst = recorder.capacityBurst.total(end);
  const capBase = recorder.capacityBase.total(end);
  const trace = traceStats(options.trace);
  return {
    format: 'kumo-simulation/1',
    source: {
      ...(options.source?.spec === undefined ? {} : { spec: options.source.spec }),
      ...(options.source?.trace === undefined ? {} : { trace: options.source.trace }),
    },
    policy: policy ?? null,
    startAt: t0,
    durationS: round((end - t0) / 1000, 1),
    trace,
    tasks: {
      submitted: trace.tasks,
      finished: stats.finished,
      failed: stats.failed,
      moved: stats.moved,
      neverStarted: never,
      unfinished: Math.max(0, trace.tasks - stats.finished - stats.failed - never),
    },
    cost: {
      totalUsd: round(burstUsd + baseUsd),
      burstUsd: round(burstUsd),
      baseUsd: round(baseUsd),
      byProvider: Object.fromEntries([...costByProvider].map(([k, v]) => [k, round(v)])),
      lowerBoundBurstUsd: bound === undefined ? null : round(bound),
      burstVsLowerBound: bound === undefined || bound <= 0 ? null : round(burstUsd / bound, 3),
      burstBreakdown: {
        bootUsd: round(burstSplit.bootUsd),
        idleUsd: round(burstSplit.idleUsd),
        busyUsd: round(burstSplit.busyUsd),
      },
      burstWorkBoundUsd: workBound === undefined ? null : round(workBound),
      burstVsWorkBound:
        workBound === undefined || workBound <= 0 ? null : round(burstUsd / workBound, 3),
    },
    machineHours: Object.fromEntries([...machineMs].map(([k, v]) => [k, hours(v)])),
    waitS: {
      p50: round(percentile(waits, 50), 1),
      p95: round(percentile(waits, 95), 1),
      p99: round(percentile(waits, 99), 1),
      max: round(percentile(waits, 100), 1), // no spread: a million waits would overflow the stack
      mean: round(waits.length === 0 ? 0 : waits.reduce((a, b) => a + b, 0) / waits.length, 1),
    },
    utilization: {
      all: capBurst + capBase > 0 ? round((usedBurst + usedBase) / (capBurst + capBase)) : 0,
      base: capBase > 0 ? round(usedBase / capBase) : 0,
      burst: capBurst > 0 ? round(usedBurst / capBurst) : 0,
    },
    burst: {
      budgetPerHour: policy?.budgetPerHour ?? null,
      peakSpendPerHour: round(peakBurstSpend),
      launched,
      peakMachines: peakBurstMachines,
      longestIdleS: round(idle.reduce((n, s) => Math.max(n, s.longestIdleMs), 0) / 1000, 1),
      baseMachinesTouched: touchedBase,
      baseMachines: baseMachines.length,
    },
    decisions: events,
    series: samples,
  };
}
