/**
 * A seeded workload generator: the same kind, seed and options give the same trace.
 * Jobs arrive as a Poisson process whose rate follows the kind's shape; each job is a
 * batch of identical tasks drawn from a mix of shapes (small, general, memory-heavy,
 * compute-heavy, an occasional GPU job), each running a log-normal time around 20
 * minutes.
 *
 * - `steady`: a constant rate.
 * - `diurnal`: a day's curve — quiet at night, a peak in the afternoon.
 * - `spiky`: a modest steady load with sudden batches of many tasks at once.
 */
import { seededRandom, type Random } from '../../core/index.js';
import type { TraceRow } from './trace.js';

export type TraceKind = 'steady' | 'diurnal' | 'spiky';
export const TRACE_KINDS: readonly TraceKind[] = ['steady', 'diurnal', 'spiky'];

export interface TraceOptions {
  readonly seed?: number;
  /** Length of the submission window. Default 8 h (24 h for diurnal). */
  readonly hours?: number;
  /** Average vCPUs busy at once, before the shape's ups and downs. Default 160. */
  readonly meanCpus?: number;
}

interface Shape {
  readonly weight: number;
  readonly cpus: number;
  readonly memoryMiB: number;
  readonly gpus: number;
  readonly maxTasks: number;
}

const SHAPES: readonly Shape[] = [
  { weight: 30, cpus: 1, memoryMiB: 2048, gpus: 0, maxTasks: 8 },
  { weight: 25, cpus: 2, memoryMiB: 8192, gpus: 0, maxTasks: 6 },
  { weight: 15, cpus: 4, memoryMiB: 16384, gpus: 0, maxTasks: 4 },
  { weight: 12, cpus: 2, memoryMiB: 16384, gpus: 0, maxTasks: 4 },
  { weight: 15, cpus: 8, memoryMiB: 16384, gpus: 0, maxTasks: 2 },
  { weight: 3, cpus: 4, memoryMiB: 16384, gpus: 1, maxTasks: 2 },
];
const TOTAL_WEIGHT = SHAPES.reduce((n, s) => n + s.weight, 0);

/** Median task duration (seconds) and the log-normal spread. */
const MEDIAN_S = 20 * 60;
const SIGMA = 0.6;
const MIN_S = 120;
const MAX_S = 2 * 3600;

function pickShape(random: Random): Shape {
  let x = random() * TOTAL_WEIGHT;
  for (const s of SHAPES) {
    x -= s.weight;
    if (x < 0) return s;
  }
  return SHAPES[SHAPES.length - 1]!;
}

/** A standard normal draw (Box–Muller). */
function normal(random: Random): number {
  const u = Math.max(random(), 1e-12);
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function duration(random: Random, median = MEDIAN_S): number {
  const d = median * Math.exp(SIGMA * normal(random));
  return Math.round(Math.min(MAX_S, Math.max(MIN_S, d)));
}

/** vCPU-seconds the average job asks for (for calibrating the arrival rate). */
function meanJobCpuSeconds(): number {
  // E[duration] of the clamped log-normal is close to median·exp(σ²/2).
  const meanDuration = MEDIAN_S * Math.exp((SIGMA * SIGMA) / 2);
  let n = 0;
  for (const s of SHAPES)
    n += (s.weight / TOTAL_WEIGHT) * s.cpus * ((1 + s.maxTasks) / 2) * meanDuration;
  return n;
}

function job(random: Random, at: number, median?: number): TraceRow {
  const s = pickShape(random);
  return {
    submit_s: Math.round(at),
    cpus: s.cpus,
    memory_mib: s.memoryMiB,
    gpus: s.gpus,
    duration_s: duration(random, median),
    count: 1 + Math.floor(random() * s.maxTasks),
  };
}

/** Relative arrival rate at `t` seconds for the kind (averages about 1 over a day). */
function shape(kind: TraceKind, t: number): number {
  if (kind !== 'diurnal') return 1;
  const day = (t % 86_400) / 86_400;
  // Lowest at 03:00, highest at 15:00.
  return 0.3 + 1.4 * (0.5 - 0.5 * Math.cos(2 * Math.PI * (day - 0.125)));
}

/**
 * Generates a trace.
 *
 * @example
 * ```ts
 * const rows = generateTrace('spiky', { seed: 7, hours: 2 });
 * writeFileSync('spiky.csv', formatTrace(rows));
 * ```
 */
export function generateTrace(kind: TraceKind, options: TraceOptions = {}): TraceRow[] {
  const random = seededRandom(options.seed ?? 1);
  const hours = options.hours ?? (kind === 'diurnal' ? 24 : 8);
  const end = hours * 3600;
  const meanCpus = options.meanCpus ?? 160;
  // Little's law: busy vCPUs = arrival rate × vCPU-seconds per job.
  const spikyShare = kind === 'spiky' ? 0.55 : 1;
  const rate = (meanCpus * spikyShare) / meanJobCpuSeconds();
  const peak = kind === 'diurnal' ? 1.7 : 1;
  const rows: TraceRow[] = [];
  // Thinning (Lewis–Shedler) turns the constant-rate process into the shaped one.
  let t = 0;
  for (;;) {
    t += -Math.log(Math.max(random(), 1e-12)) / (rate * peak);
    if (t >= end) break;
    if (random() * peak <= shape(kind, t)) rows.push(job(random, t));
  }
  if (kind === 'spiky') {
    // Spikes every 45–90 minutes: 100–250 vCPUs of shorter tasks within two minutes.
    let s = 1800 + random() * 1800;
    while (s < end - 1800) {
      let cpus = 0;
      const target = 100 + random() * 150;
      while (cpus < target) {
        const r = job(random, s + random() * 120, 15 * 60);
        rows.push(r);
        cpus += r.cpus * r.count;
      }
      s += 2700 + random() * 2700;
    }
  }
  return rows.sort((a, b) => a.submit_s - b.submit_s);
}
