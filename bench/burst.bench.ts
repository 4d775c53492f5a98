/**
 * Burst policies on the three shipped traces (examples/traces/*.csv) with the example
 * spec (examples/burst.yaml), each run by `simulate` on virtual time. kumo's policy is
 * compared with
 *
 * - (a) static provisioning for the peak: a fleet that can host the trace's highest
 *   demand beyond the base pools, up from the first submission to the last task's end.
 *   Priced at the fractional bound of that peak, so it is what any static fleet costs
 *   at least (waits 0: the fleet is already up);
 * - (b) first-fit decreasing onto one fixed size: the same controller with plain FFD
 *   (`packing: 'ffd'`) and one general size, std-8x32, which fits every CPU task of the
 *   traces (GPU tasks go on the one GPU size, gpu-4x16-1g, as nothing else hosts them);
 * - (c) the lower bound: every task runs the moment it is submitted, and what the base
 *   pools cannot hold at each instant is bought as fractional machines at the
 *   fractional bound's price, billed by the millisecond (simulate/lower-bound.ts).
 *
 * Figures: `burst.cost_vs_lb.<trace>` (kumo's burst cost over (c)) and
 * `burst.p95_wait_s.<trace>`; the baselines are printed beside them and recorded as
 * `burst.static_peak_vs_lb.<trace>` and `burst.ffd_fixed_vs_lb.<trace>`.
 * Targets: cost within 10 % of the bound; p95 wait ≤ boot time + two decision intervals.
 *
 * Five more figures explain the gap:
 * - `burst.np_bound_vs_lb.<trace>`: the same bound when no task may move once started
 *   (bench/np-bound.ts, a linear program solved with HiGHS) over (c): how much of kumo's
 *   gap a policy pays just for not moving work — the rest is what it does not know of
 *   the future;
 * - `burst.np_late_bound_vs_lb.<trace>`: the no-move bound when each task may instead
 *   start up to the wait target late (room may free up meanwhile) and every machine
 *   bought is billed its boot time: the least a policy that keeps every wait within the
 *   target and never moves work can spend, if it knew the future;
 * - `burst.spend_while_base_fits.<trace>`: the share of kumo's burst money spent while the
 *   trace's demand fits the base pools — burst machines finishing work they took at a
 *   peak — with how busy base and burst machines are at heavy demand (in its note);
 * - `burst.burst_vcpu_h_vs_bound.<trace>`: the vCPU-hours kumo runs on burst machines over
 *   the bound's demand beyond the base pools, and how many of them ran while the base
 *   pools had room free (work a policy that moved tasks could have brought back);
 * - `burst.restartable_vs_lb.<trace>`: kumo when the trace's tasks are restartable and
 *   consolidation acts ({@link RESTARTABLE_CONSOLIDATION}): tasks younger than five
 *   minutes move off burst machines into free room, so the machines go early.
 */
import { join } from 'node:path';
import type { Clock, Provider } from '../src/core/index.js';
import {
  BOUND_DIMENSIONS,
  BurstPolicySchema,
  buildCandidates,
  DEFAULT_PORTS_PER_AGENT,
  fractionalLowerBound,
  loadSpecFile,
  providerRanks,
  pruneDominated,
  type BoundCandidate,
  type BurstPolicy,
  type ProviderCatalog,
  type SpecFile,
} from '../src/logical-dc/index.js';
import {
  loadTrace,
  overBaseSteps,
  simulate,
  type SimulationReport,
  type TraceRow,
} from '../src/logical-dc/simulate/index.js';
import { sim } from '../src/providers/sim/index.js';
import { round, type Bench, type Figure } from './harness.js';
import { nonPreemptiveLowerBound } from './np-bound.js';

const root = join(import.meta.dirname, '..');
const SPEC = join(root, 'examples', 'burst.yaml');
const TRACES = ['steady', 'diurnal', 'spiky'] as const;
/** Baseline (b)'s one size, and the one GPU size GPU tasks need. */
const FIXED_SIZE = 'std-8x32';
const GPU_SIZE = 'gpu-4x16-1g';
/**
 * Steps the late-start bound cuts the wait target into: more is tighter (each step's
 * first moments are left out of a task's run), but the program grows with them; three
 * solve in about a minute a trace, two for a trace of over a thousand rows (diurnal,
 * some six minutes) — more runs out of HiGHS's WebAssembly memory.
 */
function delaySteps(rows: readonly TraceRow[]): number {
  return rows.length > 1000 ? 2 : 3;
}
/** Demand beyond the base pools, in vCPUs, from which `spendByDemand` calls it heavy. */
const HEAVY_CPUS = 48;
/** Consolidation for the restartable run: every decision, any saving, tasks under 5 min old. */
const RESTARTABLE_CONSOLIDATION = {
  act: true,
  interval: '15s',
  minSavingPercent: 0,
  maxRestartLoss: '5m',
} as const;

/** The file's providers (all sim) on `clock`; on the system clock to read catalogs. */
function simProviders(file: SpecFile, clock?: Clock): Record<string, Provider> {
  return Object.fromEntries(
    Object.entries(file.providers).map(([name, decl]) => {
      if (decl.kind !== 'sim') throw new Error(`${name}: the bench runs sim providers only`);
      return [name, sim({ ...decl.settings, name }, clock === undefined ? {} : { clock })];
    }),
  );
}

/** The candidates of the policy, pruned, as the lower bound sees them. */
async function boundCandidates(file: SpecFile, policy: BurstPolicy): Promise<BoundCandidate[]> {
  const providers = simProviders(file);
  const catalogs = new Map<string, ProviderCatalog>();
  for (const [name, p] of Object.entries(providers))
    if (policy.targets.some((t) => t.provider === name))
      catalogs.set(name, { region: p.region, sizes: await p.listSizes({ spot: true }) });
  return pruneDominated(
    buildCandidates(policy, catalogs, {
      portsPerAgent: DEFAULT_PORTS_PER_AGENT,
      ranks: providerRanks(policy),
    }).candidates.map((c) => ({ pricePerHour: c.pricePerHour, capacity: c.capacity })),
  );
}

/**
 * Baseline (a): the least a static fleet for the peak costs. The fleet must host, at
 * every instant, the demand beyond the base pools' capacity, so it costs at least the
 * highest fractional bound over the run, for the whole span of the trace.
 */
function staticPeakUsd(
  rows: readonly TraceRow[],
  base: Record<(typeof BOUND_DIMENSIONS)[number], number>,
  candidates: readonly BoundCandidate[],
): { usd: number; perHour: number } {
  let peak = 0;
  for (const { over } of overBaseSteps(rows, base))
    peak = Math.max(peak, fractionalLowerBound(over, candidates));
  const first = Math.min(...rows.map((r) => r.submit_s));
  const last = Math.max(...rows.map((r) => r.submit_s + r.duration_s));
  return { usd: (peak * (last - first)) / 3600, perHour: peak };
}

/**
 * When kumo's burst money goes, read from the report's samples against the trace's own
 * demand: the share spent while the trace's demand fits the base pools (machines
 * finishing earlier work), and how busy base and burst machines are while demand beyond
 * the base pools is at least `heavyCpus` vCPUs.
 */
function spendByDemand(
  report: SimulationReport,
  rows: readonly TraceRow[],
  base: Record<(typeof BOUND_DIMENSIONS)[number], number>,
  heavyCpus: number,
): {
  whileFitsShare: number;
  heavyBaseBusy: number;
  heavyBurstBusy: number;
  vcpuH: { burst: number; over: number; baseFree: number; baseFreeWhileFits: number };
} {
  const steps = [...overBaseSteps(rows, base)];
  let k = 0;
  let fits = 0;
  let total = 0;
  const heavy = { base: 0, baseCap: 0, burst: 0, burstCap: 0 };
  // vCPU-seconds: run on burst machines; the bound's demand beyond the base pools; run on
  // burst machines while the base pools had that much room free (and of that, while the
  // trace's demand fit the base pools).
  const vcpuS = { burst: 0, over: 0, baseFree: 0, baseFreeWhileFits: 0 };
  for (let i = 1; i < report.series.length; i++) {
    const from = report.series[i - 1]!;
    while (k + 1 < steps.length && steps[k + 1]!.t <= from.t) k++;
    const over = steps[k]!.t <= from.t ? steps[k]!.over : undefined;
    const usd = report.series[i]!.burstCostUsd - from.burstCostUsd;
    total += usd;
    const dt = report.series[i]!.t - from.t;
    const movable = Math.min(Math.max(0, from.baseCpus - from.baseUsedCpus), from.burstUsedCpus);
    vcpuS.burst += from.burstUsedCpus * dt;
    vcpuS.over += (over?.cpus ?? 0) * dt;
    vcpuS.baseFree += movable * dt;
    if (over === undefined || (over.cpus === 0 && over.memoryMiB === 0 && over.gpus === 0)) {
      fits += usd;
      vcpuS.baseFreeWhileFits += movable * dt;
    } else if (over.cpus >= heavyCpus) {
      heavy.base += from.baseUsedCpus;
      heavy.baseCap += from.baseCpus;
      heavy.burst += from.burstUsedCpus;
      heavy.burstCap += from.burstCpus;
    }
  }
  return {
    whileFitsShare: total > 0 ? fits / total : 0,
    heavyBaseBusy: heavy.baseCap > 0 ? heavy.base / heavy.baseCap : 0,
    heavyBurstBusy: heavy.burstCap > 0 ? heavy.burst / heavy.burstCap : 0,
    vcpuH: {
      burst: vcpuS.burst / 3600,
      over: vcpuS.over / 3600,
      baseFree: vcpuS.baseFree / 3600,
      baseFreeWhileFits: vcpuS.baseFreeWhileFits / 3600,
    },
  };
}

/** What the base pools hold: their sizes' resources times their counts. */
async function baseCapacity(
  file: SpecFile,
): Promise<Record<(typeof BOUND_DIMENSIONS)[number], number>> {
  const providers = simProviders(file);
  const total = { cpus: 0, memoryMiB: 0, gpus: 0, diskGiB: 0 };
  for (const pool of Object.values(file.spec.pools)) {
    const size = (await providers[pool.provider]!.listSizes()).find(
      (s) => s.name === pool.machine.size,
    );
    if (size === undefined || pool.count === undefined)
      throw new Error(`base pool on ${pool.provider}: the bench needs an explicit size and count`);
    for (const d of BOUND_DIMENSIONS) total[d] += size.resources[d] * pool.count;
  }
  return total;
}

function run(
  file: SpecFile,
  trace: string,
  rows: readonly TraceRow[],
  extra: { policy?: BurstPolicy; packing?: 'ffd'; restartable?: boolean; sampleMs?: number } = {},
): Promise<SimulationReport> {
  return simulate({
    name: file.name,
    spec: file.spec,
    providers: (clock) => simProviders(file, clock),
    trace: rows,
    source: { spec: 'examples/burst.yaml', trace: `examples/traces/${trace}.csv` },
    ...extra,
  });
}

function traceBench(trace: (typeof TRACES)[number]): Bench {
  return {
    name: `burst.${trace}`,
    async run(): Promise<Figure[]> {
      const file = loadSpecFile(SPEC);
      const rows = loadTrace(join(root, 'examples', 'traces', `${trace}.csv`));
      const policy = BurstPolicySchema.parse(file.spec.burst);
      const fixed = BurstPolicySchema.parse({
        ...file.spec.burst,
        targets: policy.targets.map((t) => ({ ...t, sizes: [FIXED_SIZE, GPU_SIZE] })),
      });

      // Samples every 5 s: the vCPU-hour split below is read from them.
      const kumo = await run(file, trace, rows, { sampleMs: 5_000 });
      const ffd = await run(file, trace, rows, { policy: fixed, packing: 'ffd' });
      const restartable = await run(file, trace, rows, {
        restartable: true,
        policy: BurstPolicySchema.parse({
          ...file.spec.burst,
          consolidation: RESTARTABLE_CONSOLIDATION,
        }),
      });
      const lb = kumo.cost.lowerBoundBurstUsd ?? 0;
      if (lb <= 0) throw new Error(`${trace}: the lower bound is ${lb}`);
      const base = await baseCapacity(file);
      const candidates = await boundCandidates(file, policy);
      const stat = staticPeakUsd(rows, base, candidates);
      const np = await nonPreemptiveLowerBound(rows, base, candidates);
      const when = spendByDemand(kumo, rows, base, HEAVY_CPUS);

      // Boot time as the sim providers are configured (latency.bootMs of the targets' clouds).
      const boots = policy.targets.map((t) => {
        const latency = file.providers[t.provider]?.settings['latency'] as
          { bootMs?: number } | undefined;
        return latency?.bootMs ?? 0;
      });
      const bootMs = Math.max(...boots);
      const waitTarget = (bootMs + 2 * policy.interval) / 1000;
      const late = await nonPreemptiveLowerBound(rows, base, candidates, {
        delay: { maxS: waitTarget, gridS: waitTarget / delaySteps(rows) },
        // The shortest boot, so the bound holds for machines of any target.
        bootS: Math.min(...boots) / 1000,
      });
      const ratio = kumo.cost.burstUsd / lb;
      const usd = (n: number): string => `$${n.toFixed(2)}`;
      return [
        {
          name: `burst.cost_vs_lb.${trace}`,
          value: round(ratio, 3),
          unit: '×',
          note: `target ≤ 1.10 (${ratio <= 1.1 ? 'met' : 'missed'}); kumo ${usd(kumo.cost.burstUsd)} vs bound ${usd(lb)}; work on burst priced at the bound ${usd(kumo.cost.burstWorkBoundUsd ?? 0)} (kumo ×${kumo.cost.burstVsWorkBound ?? '–'} of it); ${kumo.burst.launched} machines, peak ${kumo.burst.peakMachines}`,
        },
        {
          name: `burst.p95_wait_s.${trace}`,
          value: kumo.waitS.p95,
          unit: 's',
          note: `target ≤ ${waitTarget} s = boot ${bootMs / 1000} s + 2 × interval ${policy.interval / 1000} s (${kumo.waitS.p95 <= waitTarget ? 'met' : 'missed'}); p50 ${kumo.waitS.p50} s, p99 ${kumo.waitS.p99} s; static fleet 0 s; FFD on ${FIXED_SIZE} ${ffd.waitS.p95} s`,
        },
        {
          name: `burst.np_bound_vs_lb.${trace}`,
          value: round(np / lb, 3),
          unit: '×',
          note: `no task moves once started: at least ${usd(np)}; kumo is ×${round(kumo.cost.burstUsd / np, 3)} of it. Kumo's burst money: ${usd(kumo.cost.burstBreakdown.busyUsd)} running tasks, ${usd(kumo.cost.burstBreakdown.bootUsd)} booting, ${usd(kumo.cost.burstBreakdown.idleUsd)} idle`,
        },
        {
          name: `burst.np_late_bound_vs_lb.${trace}`,
          value: round(late / lb, 3),
          unit: '×',
          note: `no task moves, but each may start up to ${waitTarget} s late (the wait target, in ${delaySteps(rows)} steps) and every machine is billed its ${bootMs / 1000} s boot: at least ${usd(late)}; kumo is ×${round(kumo.cost.burstUsd / late, 3)} of it`,
        },
        {
          name: `burst.spend_while_base_fits.${trace}`,
          value: round(100 * when.whileFitsShare, 1),
          unit: '%',
          note: `kumo's burst money spent while the trace's demand fits the base pools; while demand beyond them is ≥ ${HEAVY_CPUS} vCPU, base machines are ${round(100 * when.heavyBaseBusy, 1)} % busy and burst machines ${round(100 * when.heavyBurstBusy, 1)} % (by vCPU)`,
        },
        {
          name: `burst.burst_vcpu_h_vs_bound.${trace}`,
          value: when.vcpuH.over > 0 ? round(when.vcpuH.burst / when.vcpuH.over, 3) : 0,
          unit: '×',
          note: `vCPU-hours kumo runs on burst machines (${round(when.vcpuH.burst, 1)}) over the bound's demand beyond the base pools (${round(when.vcpuH.over, 1)}); ${round(when.vcpuH.baseFree, 1)} of them ran while the base pools had that much room free — ${round(when.vcpuH.baseFreeWhileFits, 1)} while the trace's demand fit the base pools, the rest while it did not (tasks started on burst machines at a peak outlast base tasks)`,
        },
        {
          name: `burst.restartable_vs_lb.${trace}`,
          value: round(restartable.cost.burstUsd / lb, 3),
          unit: '×',
          note: `restartable tasks, consolidation acting: ${usd(restartable.cost.burstUsd)}, ${restartable.tasks.moved} task moves, p95 wait ${restartable.waitS.p95} s, ${restartable.tasks.failed} failed`,
        },
        {
          name: `burst.static_peak_vs_lb.${trace}`,
          value: round(stat.usd / lb, 3),
          unit: '×',
          note: `(a) static for the peak: at least ${usd(stat.usd)} (${usd(stat.perHour)}/h for the whole trace)`,
        },
        {
          name: `burst.ffd_fixed_vs_lb.${trace}`,
          value: round(ffd.cost.burstUsd / lb, 3),
          unit: '×',
          note: `(b) FFD onto ${FIXED_SIZE} (+${GPU_SIZE} for GPU tasks): ${usd(ffd.cost.burstUsd)}, ${ffd.burst.launched} machines, p95 wait ${ffd.waitS.p95} s`,
        },
      ];
    },
  };
}

export const benches: Bench[] = TRACES.map(traceBench);
