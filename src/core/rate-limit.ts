import PQueue from 'p-queue';

export interface RateLimitOptions {
  /** Calls in flight at once. Default 16. */
  concurrency?: number;
  /** At most this many calls start per `intervalMs`; absent means no rate cap. */
  intervalCap?: number;
  /** Length of the rate window in ms. Default 1000. */
  intervalMs?: number;
}

/** Bounds the calls one provider makes to its cloud: how many at once and how fast. */
export interface RateLimiter {
  run<T>(fn: () => Promise<T>, options?: { signal?: AbortSignal }): Promise<T>;
  /** Calls waiting for a slot. */
  readonly waiting: number;
  /** Calls in flight. */
  readonly running: number;
  onIdle(): Promise<void>;
}

/**
 * A per-provider limiter on p-queue. Every API call a provider makes goes through its
 * limiter, so 200 concurrent `createMachines` calls stay inside the cloud's limits
 * instead of drowning in throttling errors.
 *
 * @example
 * ```ts
 * const limiter = createRateLimiter({ concurrency: 8, intervalCap: 20 }); // 20 calls/s
 * const out = await limiter.run(() => client.send(command));
 * ```
 */
export function createRateLimiter(options: RateLimitOptions = {}): RateLimiter {
  const queue = new PQueue({
    concurrency: options.concurrency ?? 16,
    ...(options.intervalCap === undefined
      ? {}
      : { intervalCap: options.intervalCap, interval: options.intervalMs ?? 1000, carryoverIntervalCount: true }),
  });
  return {
    run<T>(fn: () => Promise<T>, runOptions: { signal?: AbortSignal } = {}): Promise<T> {
      return queue.add(fn, runOptions.signal ? { signal: runOptions.signal } : {}) as Promise<T>;
    },
    get waiting() {
      return queue.size;
    },
    get running() {
      return queue.pending;
    },
    onIdle: () => queue.onIdle(),
  };
}
