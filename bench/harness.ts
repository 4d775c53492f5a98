/**
 * The bench contract: each `bench/<area>.bench.ts` exports `benches`, a list of named
 * benches; each returns figures `{ name, value, unit }`. Figure names are the ones the
 * issues give (`core.size_select_1k_us`, …). Timing lives here, never in tests.
 */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** Printed beside the figure (targets, baselines); not written to results.json. */
  readonly note?: string;
}

export interface Bench {
  /** Matched by `npm run bench -- <filter>` (substring). */
  readonly name: string;
  run(): Promise<Figure[]>;
}

/** Median wall time of `fn` in ms over `runs` runs, after `warmup` unmeasured runs. */
export async function medianMs(fn: () => unknown, runs = 5, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
