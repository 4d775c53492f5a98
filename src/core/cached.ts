import type { Clock } from './clock.js';

/**
 * `load` memoised for `ttlMs`: concurrent callers share one load (made with the
 * arguments of the caller that started it), and a failed load is not kept (the next
 * call tries again). Catalogs (sizes, images, zones) change rarely and cost cloud
 * calls, so they are read at most once per TTL.
 *
 * @example
 * ```ts
 * const zones = cached((signal?: AbortSignal) => nova.availabilityZones(signal), 300_000, clock);
 * await zones(); // a cloud call; again within five minutes, none
 * ```
 */
export function cached<A extends unknown[], T>(
  load: (...args: A) => Promise<T>,
  ttlMs: number,
  clock: Clock,
): (...args: A) => Promise<T> {
  let entry: { at: number; value: Promise<T> } | undefined;
  return (...args) => {
    const now = clock.now();
    if (entry !== undefined && now - entry.at < ttlMs) return entry.value;
    const value = load(...args);
    const mine = { at: now, value };
    entry = mine;
    value.catch(() => {
      if (entry === mine) entry = undefined;
    });
    return value;
  };
}
