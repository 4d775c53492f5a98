/** Small measuring tools for simulations: time integrals and percentiles. */

/**
 * The integral over time of a value that changes in steps (machines up, tasks running):
 * call `set` whenever it changes; `total` is value × time summed, in value·ms.
 */
export class StepIntegral {
  #value = 0;
  #since: number;
  #total = 0;

  constructor(start: number) {
    this.#since = start;
  }

  get value(): number {
    return this.#value;
  }

  add(now: number, delta: number): void {
    this.set(now, this.#value + delta);
  }

  set(now: number, value: number): void {
    this.#total += this.#value * (now - this.#since);
    this.#since = now;
    this.#value = value;
  }

  /** value·ms up to `now`. */
  total(now: number): number {
    return this.#total + this.#value * (now - this.#since);
  }
}

/**
 * The p-th percentile (0–100) of `values` by the nearest-rank method; 0 for none.
 *
 * @example
 * ```ts
 * percentile([1, 2, 3, 4], 50); // 2
 * ```
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

export function round(n: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
