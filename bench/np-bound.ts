/**
 * A second lower bound for the burst bench: like the fractional bound
 * (src/logical-dc/simulate/lower-bound.ts) every task starts the moment it is submitted
 * and machines are bought in fractions, but a task stays where it started — on the base
 * pools or on burst machines — for its whole run, as in a real run without
 * preemption. Which tasks go where is chosen with knowledge of the whole trace, so no
 * policy that starts tasks at once and never moves them can spend less.
 *
 * It is a linear program, solved with HiGHS (bench only; the SDK does not ship it):
 *
 *   min  Σ_b Σ_c price_c · x_bc · Δ
 *   s.t. Σ_j z_j · need_jr       ≤ base_r                      (each bucket b, resource r)
 *        Σ_c cap_cr · x_bc + Σ_j z_j · need_jr ≥ Σ_j need_jr   (each bucket b, resource r)
 *        0 ≤ z_j ≤ 1,  x ≥ 0
 *
 * over the trace's rows j (a row's tasks are alike, so z_j is the share of them on the
 * base pools) and the spans b (of Δ_b seconds) between consecutive submissions and ends,
 * in each of which the same rows run.
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

/**
 * USD the trace costs at least beyond `base`, when no task moves once started.
 *
 * @example
 * ```ts
 * const usd = await nonPreemptiveLowerBound(rows, base, candidates); // ≥ costLowerBound(...)
 * ```
 */
export async function nonPreemptiveLowerBound(
  rows: readonly TraceRow[],
  base: BoundVector,
  candidates: readonly BoundCandidate[],
): Promise<number> {
  for (const res of RESOURCES)
    if (
      rows.some((r) => res.of(r) > 0) &&
      res.cap(base) === 0 &&
      !candidates.some((c) => res.cap(c.capacity) > 0)
    )
      throw new Error(`rows need ${res.key}, which neither the base pools nor any size has`);
  const times = [...new Set(rows.flatMap((r) => [r.submit_s, end(r)]))].sort((a, b) => a - b);
  // A sweep over the span boundaries keeps the rows running in each span.
  const byStart = rows.map((_, j) => j).sort((a, b) => rows[a]!.submit_s - rows[b]!.submit_s);
  const byEnd = rows.map((_, j) => j).sort((a, b) => end(rows[a]!) - end(rows[b]!));
  const running = new Set<number>();
  let started = 0;
  let ended = 0;
  const objective: string[] = [];
  const constraints: string[] = [];
  for (let b = 0; b + 1 < times.length; b++) {
    const from = times[b]!;
    const to = times[b + 1]!;
    // Starts first, so a row of no duration is added and taken out at once.
    for (; started < byStart.length && rows[byStart[started]!]!.submit_s <= from; started++)
      running.add(byStart[started]!);
    for (; ended < byEnd.length && end(rows[byEnd[ended]!]!) <= from; ended++)
      running.delete(byEnd[ended]!);
    if (running.size === 0) continue;
    const active = [...running];
    candidates.forEach((c, k) =>
      objective.push(`${((c.pricePerHour * (to - from)) / 3600).toExponential(12)} x${b}_${k}`),
    );
    for (const res of RESOURCES) {
      let demand = 0;
      const onBase: string[] = [];
      for (const j of active) {
        const need = res.of(rows[j]!) * rows[j]!.count;
        if (need === 0) continue;
        demand += need;
        onBase.push(`${need} z${j}`);
      }
      if (demand === 0) continue;
      const bought = candidates
        .map((c, k) => (res.cap(c.capacity) === 0 ? '' : `${res.cap(c.capacity)} x${b}_${k}`))
        .filter((t) => t !== '');
      constraints.push(` base_${b}_${res.key}: ${onBase.join(' + ')} <= ${res.cap(base)}`);
      constraints.push(` need_${b}_${res.key}: ${[...bought, ...onBase].join(' + ')} >= ${demand}`);
    }
  }
  const lp = [
    'Minimize',
    ` cost: ${objective.join(' + ')}`,
    'Subject To',
    ...constraints,
    'Bounds',
    ...rows.map((_, j) => ` 0 <= z${j} <= 1`),
    'End',
  ].join('\n');
  const highs = await loadHighs();
  const solution = highs.solve(lp);
  if (solution.Status !== 'Optimal')
    throw new Error(`the non-preemptive bound's program ended ${solution.Status}`);
  return solution.ObjectiveValue;
}

function end(row: TraceRow): number {
  return row.submit_s + row.duration_s;
}
