import PQueue from 'p-queue';
import { systemClock, type Clock } from './clock.js';

export interface RateLimitOptions {
  /** Calls in flight at once. Default 16. */
  concurrency?: number;
  /** At most this many calls start per `intervalMs` on average; absent means no rate cap. */
  intervalCap?: number;
  /** Length of the rate window in ms. Default 1000. */
  intervalMs?: number;
  /** Calls that may start at once after a quiet spell (the bucket size). Default `intervalCap`. */
  burst?: number;
  /** The clock the pacing runs on (a VirtualClock in simulations). */
  clock?: Clock;
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
 * A token bucket on an injected clock: calls take a token, tokens refill at
 * `intervalCap / intervalMs`. Clouds throttle with token buckets (EC2 documents its
 * sizes and refill rates), so pacing the client the same way keeps it just under.
 */
class TokenBucket {
  #tokens: number;
  #at: number;
  #tail: Promise<void> = Promise.resolve();
  constructor(
    readonly perMs: number,
    readonly size: number,
    readonly clock: Clock,
  ) {
    this.#tokens = size;
    this.#at = clock.now();
  }

  /** Resolves when a token is ours; callers are served in order. */
  take(signal?: AbortSignal): Promise<void> {
    const turn = this.#tail.then(async () => {
      const now = this.clock.now();
      this.#tokens = Math.min(this.size, this.#tokens + (now - this.#at) * this.perMs);
      this.#at = now;
      if (this.#tokens < 1) {
        const waitMs = Math.ceil((1 - this.#tokens) / this.perMs);
        await this.clock.sleep(waitMs, signal);
        this.#tokens = Math.min(
          this.size,
          this.#tokens + (this.clock.now() - this.#at) * this.perMs,
        );
        this.#at = this.clock.now();
      }
      this.#tokens -= 1;
    });
    this.#tail = turn.catch(() => undefined);
    return turn;
  }
}

/**
 * A per-provider limiter: p-queue bounds concurrency, a token bucket on the injected
 * clock paces the rate. Every API call a provider makes goes through it, so 200
 * concurrent `createMachines` calls stay inside the cloud's limits instead of
 * drowning in throttling errors.
 *
 * @example
 * ```ts
 * const limiter = createRateLimiter({ concurrency: 8, intervalCap: 20 }); // 20 calls/s
 * const out = await limiter.run(() => client.send(command));
 * ```
 */
export function createRateLimiter(options: RateLimitOptions = {}): RateLimiter {
  const queue = new PQueue({ concurrency: options.concurrency ?? 16 });
  const bucket =
    options.intervalCap === undefined
      ? undefined
      : new TokenBucket(
          options.intervalCap / (options.intervalMs ?? 1000),
          options.burst ?? options.intervalCap,
          options.clock ?? systemClock,
        );
  return {
    run<T>(fn: () => Promise<T>, runOptions: { signal?: AbortSignal } = {}): Promise<T> {
      const task = async (): Promise<T> => {
        await bucket?.take(runOptions.signal);
        return fn();
      };
      return queue.add<T>(task, runOptions.signal ? { signal: runOptions.signal } : {});
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
