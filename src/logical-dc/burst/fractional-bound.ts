/**
 * The fractional lower bound on what hosting some demand costs per hour: machines may
 * be bought in fractions and tasks split across them, so only the totals per resource
 * matter. No packing does better, which makes it the yardstick for the packer (in
 * decision events) and for whole simulations (the bench).
 *
 * It is the linear program `min Σ price_c·x_c  s.t.  Σ capacity_c,r·x_c ≥ demand_r,
 * x ≥ 0`, solved through its dual (`max demand·y  s.t.  capacity_c·y ≤ price_c, y ≥ 0`,
 * one variable per resource) with a dense simplex: few resources, few candidates.
 */

/** Resources the bound counts. */
export const BOUND_DIMENSIONS = ['cpus', 'memoryMiB', 'gpus', 'diskGiB'] as const;
export type BoundVector = Readonly<Record<(typeof BOUND_DIMENSIONS)[number], number>>;

export interface BoundCandidate {
  readonly pricePerHour: number;
  readonly capacity: BoundVector;
}

const EPS = 1e-12;

/**
 * The least USD per hour that buys `demand`, machines bought fractionally from
 * `candidates`. Demand in a resource no candidate has is left out (it cannot be
 * hosted at any price; the packer reports it as unplaceable).
 *
 * @example
 * ```ts
 * fractionalLowerBound({ cpus: 6, memoryMiB: 12288, gpus: 0, diskGiB: 0 }, [
 *   { pricePerHour: 0.17, capacity: { cpus: 4, memoryMiB: 8192, gpus: 0, diskGiB: 0 } },
 * ]); // 0.255
 * ```
 */
export function fractionalLowerBound(
  demand: BoundVector,
  candidates: readonly BoundCandidate[],
): number {
  const dims = BOUND_DIMENSIONS.filter(
    (d) => demand[d] > EPS && candidates.some((c) => c.capacity[d] > EPS),
  );
  if (dims.length === 0 || candidates.length === 0) return 0;
  // Scale each resource to about 1, so memory in MiB and GPUs pivot alike.
  const scale = dims.map((d) => Math.max(...candidates.map((c) => c.capacity[d])));
  const b = dims.map((d, j) => demand[d] / scale[j]!);
  const rows = pruneDominated(candidates).map((c) => ({
    a: dims.map((d, j) => c.capacity[d] / scale[j]!),
    c: c.pricePerHour,
  }));
  return maximiseDual(
    b,
    rows.map((r) => r.a),
    rows.map((r) => r.c),
  );
}

/** Drops candidates another one beats in every resource at no higher price (exact twins: the first stays). */
export function pruneDominated<C extends BoundCandidate>(candidates: readonly C[]): C[] {
  return candidates.filter((c, i) => {
    for (let k = 0; k < candidates.length; k++) {
      if (k === i) continue;
      const o = candidates[k]!;
      if (o.pricePerHour > c.pricePerHour) continue;
      if (!BOUND_DIMENSIONS.every((d) => o.capacity[d] >= c.capacity[d])) continue;
      const strictly =
        o.pricePerHour < c.pricePerHour ||
        BOUND_DIMENSIONS.some((d) => o.capacity[d] > c.capacity[d]);
      if (strictly || k < i) return false;
    }
    return true;
  });
}

/**
 * max b·y  s.t.  A y ≤ c, y ≥ 0, with c ≥ 0 (so y = 0 is feasible). Dense tableau
 * simplex with Bland's rule (no cycling). Returns the optimum; every dimension in `b`
 * has some row with a positive coefficient, so it is bounded.
 */
function maximiseDual(b: readonly number[], A: readonly number[][], c: readonly number[]): number {
  const n = b.length;
  const m = A.length;
  const width = n + m + 1;
  // Rows 0..m-1: constraints with slacks; row m: the objective (reduced costs).
  const t: Float64Array[] = [];
  for (let i = 0; i < m; i++) {
    const row = new Float64Array(width);
    for (let j = 0; j < n; j++) row[j] = A[i]![j]!;
    row[n + i] = 1;
    row[width - 1] = c[i]!;
    t.push(row);
  }
  const z = new Float64Array(width);
  for (let j = 0; j < n; j++) z[j] = -b[j]!;
  t.push(z);
  const basis = Array.from({ length: m }, (_, i) => n + i);
  for (let iter = 0; iter < 10_000; iter++) {
    let enter = -1;
    for (let j = 0; j < width - 1; j++)
      if (z[j]! < -1e-12) {
        enter = j;
        break;
      }
    if (enter < 0) break;
    let leave = -1;
    let best = Infinity;
    for (let i = 0; i < m; i++) {
      const a = t[i]![enter]!;
      if (a <= 1e-12) continue;
      const ratio = t[i]![width - 1]! / a;
      if (ratio < best - 1e-15 || (Math.abs(ratio - best) <= 1e-15 && basis[i]! < basis[leave]!)) {
        best = ratio;
        leave = i;
      }
    }
    if (leave < 0) return Infinity;
    const pivot = t[leave]!;
    const p = pivot[enter]!;
    for (let j = 0; j < width; j++) pivot[j] = pivot[j]! / p;
    for (let i = 0; i <= m; i++) {
      if (i === leave) continue;
      const row = t[i]!;
      const f = row[enter]!;
      if (f === 0) continue;
      for (let j = 0; j < width; j++) row[j] = row[j]! - f * pivot[j]!;
    }
    basis[leave] = enter;
  }
  return z[width - 1]!;
}
