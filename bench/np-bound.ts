/**
 * Lower bounds for the burst bench stricter than the fractional bound
 * (src/logical-dc/simulate/lower-bound.ts), for policies that never move a task once it
 * started — on the base pools or on burst machines — for its whole run, as in a real run
 * without preemption. Machines are still bought in fractions, and which tasks go where
 * is chosen with knowledge of the whole trace, so no such policy can spend less.
 *
 * Plain (`nonPreemptiveLowerBound(rows, base, candidates)`): every task starts the moment
 * it is submitted. It is a linear program, solved with HiGHS (bench only; the SDK does
 * not ship it):
 *
 *   min  Σ_b Σ_c price_c · x_bc · Δ_b  (+ Σ_b Σ_c price_c · boot · u_bc)
 *   s.t. Σ_j z_j · need_jr       ≤ base_r                      (each span b, resource r)
 *        Σ_c cap_cr · x_bc + Σ_j z_j · need_jr ≥ Σ_j s_j · need_jr
 *        u_bc ≥ x_bc − x_(b−1)c,  0 ≤ z_j ≤ s_j,  x, u ≥ 0
 *
 * over the trace's rows j (a row's tasks are alike, so z_j is the share of them on the
 * base pools) and the spans b between consecutive starts and ends, in each of which the
 * same rows run.
 *
 * With `delay`, a row's tasks may start up to `maxS` after submission (a policy that
 * keeps the wait target may hold work back for room to free up). The delays are cut
 * into steps of `gridS`; the share s_jk of row j starting in step k is counted only
 * over the part of its run that every start in the step covers (from the step's end
 * to the run's end at the step's start), so the program stays a relaxation — a bound —
 * for any delay in [0, maxS], at the price of some slack.
 *
 * With `bootS`, every machine bought is billed for its boot time before it runs work:
 * each rise of a candidate's fractional count pays `bootS` of its price.
 */
import * as highsModule from 'highs';
import type { BoundCandidate, BoundVector } from '../src/logical-dc/index.js';
import type { TraceRow } from '../src/logical-dc/simulate/index.js';

/** What the bench uses of HiGHS: load it, solve an LP-format model. */
type HighsLoader = () => Promise<{
  solve(lp: string): { Status: string; ObjectiveValue: number };
}>;
// The package's types describe its CommonJS build; Node's ESM entry (build/highs.mjs)
// has the loader as its default export, which is what runs here.
const loadHighs = (highsModule as unknown as { default: HighsLoader }).default;

const RESOURCES = [
  { key: 'cpus', of: (r: TraceRow) => r.cpus, cap: (v: BoundVector) => v.cpus },
  // GiB, so every coefficient is of a like size.
  {
    key: 'mem',
    of: (r: TraceRow) => r.memory_mib / 1024,
    cap: (v: BoundVector) => v.memoryMiB / 1024,
  },
  { key: 'gpus', of: (r: TraceRow) => r.gpus, cap: (v: BoundVector) => v.gpus },
] as const;

export interface BoundOptions {
  /** Tasks may start up to `maxS` seconds late, in steps of `gridS` (which divides it). */
  readonly delay?: { readonly maxS: number; readonly gridS: number };
  /** Seconds each machine bought is billed before it runs work. */
  readonly bootS?: number;
}

/** One way a row may run: its share `s{j}_{k}`, counted from `from` to `to`. */
interface Start {
  readonly j: number;
  readonly k: number;
  readonly from: number;
  readonly to: number;
}

/**
 * USD the trace costs at least beyond `base`, when no task moves once started.
 *
 * @example
 * ```ts
 * const usd = await nonPreemptiveLowerBound(rows, base, candidates); // ≥ costLowerBound(...)
 * const late = await nonPreemptiveLowerBound(rows, base, candidates, {
 *   delay: { maxS: 90, gridS: 30 },
 *   bootS: 60,
 * });
 * ```
 */
export async function nonPreemptiveLowerBound(
  rows: readonly TraceRow[],
  base: BoundVector,
  candidates: readonly BoundCandidate[],
  options: BoundOptions = {},
): Promise<number> {
  for (const res of RESOURCES)
    if (
      rows.some((r) => res.of(r) > 0) &&
      res.cap(base) === 0 &&
      !candidates.some((c) => res.cap(c.capacity) > 0)
    )
      throw new Error(`rows need ${res.key}, which neither the base pools nor any size has`);
  const maxS = options.delay?.maxS ?? 0;
  const gridS = maxS === 0 ? 0 : (options.delay?.gridS ?? 0);
  if (maxS > 0 && (gridS <= 0 || !Number.isInteger(Math.round((maxS / gridS) * 1e9) / 1e9)))
    throw new Error(`delay: gridS (${gridS}) must divide maxS (${maxS})`);
  const steps = maxS === 0 ? 1 : Math.round(maxS / gridS);
  const starts: Start[] = rows
    .flatMap((r, j) =>
      Array.from({ length: steps }, (_, k) => ({
        j,
        k,
        from: r.submit_s + k * gridS + gridS,
        to: r.submit_s + k * gridS + r.duration_s,
      })),
    )
    .filter((s) => s.to > s.from)
    .sort((a, b) => a.from - b.from);
  const times = [...new Set(starts.flatMap((s) => [s.from, s.to]))].sort((a, b) => a - b);
  const bootS = options.bootS ?? 0;
  const objective: string[] = [];
  const constraints: string[] = [];
  // A sweep over the span boundaries keeps the starts running in each span.
  const running = new Set<Start>();
  let next = 0;
  for (let b = 0; b + 1 < times.length; b++) {
    const from = times[b]!;
    const to = times[b + 1]!;
    for (; next < starts.length && starts[next]!.from <= from; next++) running.add(starts[next]!);
    for (const s of running) if (s.to <= from) running.delete(s);
    // With boot billed, machines may also be kept through a lull (cheaper than booting
    // them again after a short one), so a span with no work still has its machines.
    if (running.size === 0 && bootS <= 0) continue;
    candidates.forEach((c, k) => {
      objective.push(`${((c.pricePerHour * (to - from)) / 3600).toExponential(12)} x${b}_${k}`);
      if (bootS <= 0) return;
      objective.push(`${((c.pricePerHour * bootS) / 3600).toExponential(12)} u${b}_${k}`);
      constraints.push(
        // Every span has machines when boot is billed: the one before is b − 1.
        ` boot_${b}_${k}: u${b}_${k} - x${b}_${k}${b === 0 ? '' : ` + x${b - 1}_${k}`} >= 0`,
      );
    });
    for (const res of RESOURCES) {
      const onBase: string[] = [];
      const started: string[] = [];
      for (const s of running) {
        const need = res.of(rows[s.j]!) * rows[s.j]!.count;
        if (need === 0) continue;
        onBase.push(`${need} z${s.j}_${s.k}`);
        started.push(`${need} s${s.j}_${s.k}`);
      }
      if (onBase.length === 0) continue;
      const bought = candidates
        .map((c, k) => (res.cap(c.capacity) === 0 ? '' : `${res.cap(c.capacity)} x${b}_${k}`))
        .filter((t) => t !== '');
      constraints.push(` base_${b}_${res.key}: ${onBase.join(' + ')} <= ${res.cap(base)}`);
      constraints.push(
        ` need_${b}_${res.key}: ${[...bought, ...onBase].join(' + ')} - ${started.join(' - ')} >= 0`,
      );
    }
  }
  rows.forEach((_, j) => {
    const shares = Array.from({ length: steps }, (_, k) => `s${j}_${k}`);
    constraints.push(` start_${j}: ${shares.join(' + ')} = 1`);
    for (let k = 0; k < steps; k++)
      constraints.push(` share_${j}_${k}: z${j}_${k} - s${j}_${k} <= 0`);
  });
  const lp = [
    'Minimize',
    ` cost: ${objective.join(' + ')}`,
    'Subject To',
    ...constraints,
    'End',
  ].join('\n');
  const highs = await loadHighs();
  const solution = highs.solve(lp);
  if (solution.Status !== 'Optimal')
    throw new Error(`the non-preemptive bound's program ended ${solution.Status}`);
  return solution.ObjectiveValue;
}
