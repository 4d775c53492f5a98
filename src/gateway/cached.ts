import type { Clock } from '../core/index.js';

/**
 * `load` memoised for `ttlMs`: concurrent callers share one load, and a failed load
 * is not kept (the next call tries again). Catalogs (sizes, images, zones) change
 * rarely and cost cloud calls, so the gateway reads them at most once per TTL.
 */
export function cached<T>(load: () => Promise<T>, ttlMs: number, clock: Clock): () => Promise<T> {
  let entry: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = clock.now();
    if (entry !== undefined && now - entry.at < ttlMs) return entry.value;
    const value = load();
    const mine = { at: now, value };
    entry = mine;
    value.catch(() => {
      if (entry === mine) entry = undefined;
    });
    return value;
  };
}
