/**
 * A lower bound on what any burst policy spends on a trace: every task runs from the
 * moment it is submitted (no waiting), and the demand the base pools cannot hold at
 * each instant is hosted on fractional machines at the fractional lower bound's price,
 * billed by the millisecond. No real policy can beat it; how close one comes is the
 * measure of its packing and its timing.
 */
import {
  BOUND_DIMENSIONS,
  fractionalLowerBound,
  pruneDominated,
  type BoundCandidate,
  type BoundVector,
} from '../burst/fractional-bound.js';
import type { TraceRow } from './trace.js';

/** Demand beyond the base pools over a stretch of the trace, from `t` to the next step. */
export interface OverBaseStep {
  readonly t: number;
  readonly over: BoundVector;
}

/**
 * The demand the base pools cannot hold, at every submission and end of the trace
 * (tasks running from submission for their duration), in time order; the last step
 * has nothing running.
 *
 * @example
 * ```ts
 * for (const { t, over } of overBaseSteps(rows, base)) console.log(t, over.cpus);
 * ```
 */
export function* overBaseSteps(
  rows: readonly TraceRow[],
  base: BoundVector,
): Generator<OverBaseStep> {
  const events: { t: number; sign: 1 | -1; row: TraceRow }[] = [];
  for (const row of rows) {
    events.push({ t: row.submit_s, sign: 1, row });
    events.push({ t: row.submit_s + row.duration_s, sign: -1, row });
  }
  events.sort((a, b) => a.t - b.t || a.sign - b.sign);
  const demand = { cpus: 0, memoryMiB: 0, gpus: 0, diskGiB: 0 };
  for (let i = 0; i < events.length;) {
    const t = events[i]!.t;
    for (; i < events.length && events[i]!.t === t; i++) {
      const { sign, row } = events[i]!;
      demand.cpus += sign * row.cpus * row.count;
      demand.memoryMiB += sign * row.memory_mib * row.count;
      demand.gpus += sign * row.gpus * row.count;
    }
    // Rounded to 1/1000, so sums of fractional CPUs come back to 0 and cache alike.
    const over = Object.fromEntries(
      BOUND_DIMENSIONS.map((d) => [
        d,
        Math.max(0, Math.round((demand[d] - base[d]) * 1000) / 1000),
      ]),
    ) as Record<(typeof BOUND_DIMENSIONS)[number], number>;
    yield { t, over };
  }
}

/**
 * USD the trace costs at least, beyond `base` capacity.
 *
 * @example
 * ```ts
 * costLowerBound(rows, { cpus: 128, memoryMiB: 524288, gpus: 0, diskGiB: 0 }, candidates);
 * ```
 */
export function costLowerBound(
  rows: readonly TraceRow[],
  base: BoundVector,
  candidates: readonly BoundCandidate[],
): number {
  const pruned = pruneDominated(candidates);
  const cache = new Map<string, number>();
  let usd = 0;
  let last = 0;
  let rate = 0;
  for (const { t, over } of overBaseSteps(rows, base)) {
    usd += (rate * (t - last)) / 3600;
    last = t;
    const key = `${over.cpus}|${over.memoryMiB}|${over.gpus}|${over.diskGiB}`;
    let r = cache.get(key);
    if (r === undefined) {
      r = fractionalLowerBound(over, pruned);
      cache.set(key, r);
    }
    rate = r;
  }
  return usd;
}
