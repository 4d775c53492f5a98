import { systemClock, type Clock } from './clock.js';
import { isRetryable, Throttled } from './errors.js';

export interface RetryOptions {
  /** Total tries, the first included. Default 6. */
  attempts?: number;
  /** First backoff ceiling in ms. Default 200. */
  baseMs?: number;
  /** Largest backoff ceiling in ms. Default 20000. */
  maxMs?: number;
  clock?: Clock;
  /** Source of jitter in [0, 1); inject a seeded one for repeatable runs. */
  random?: () => number;
  signal?: AbortSignal;
  /** Which errors to retry; by default kumo errors marked `retryable`. */
  retryable?: (err: unknown) => boolean;
  /** Told before each wait, e.g. to log or count retries. */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/** No server may make us wait longer than this for one retry. */
const MAX_RETRY_AFTER_MS = 5 * 60_000;

/**
 * The wait before retry number `attempt` (0-based): "full jitter" exponential backoff,
 * uniformly random up to `min(maxMs, baseMs·2^attempt)` — the AWS Architecture Blog's
 * recommendation, since it spreads retrying clients apart best. A server's
 * retry-after is a floor, never shortened.
 */
export function backoffDelay(attempt: number, options: RetryOptions = {}, error?: unknown): number {
  const base = options.baseMs ?? 200;
  const max = options.maxMs ?? 20_000;
  const random = options.random ?? Math.random;
  const ceiling = Math.min(max, base * 2 ** attempt);
  const jittered = Math.floor(random() * ceiling);
  if (error instanceof Throttled && error.retryAfterMs !== undefined)
    return Math.max(jittered, Math.min(error.retryAfterMs, MAX_RETRY_AFTER_MS));
  return jittered;
}

/**
 * Runs `fn`, retrying retryable failures with full-jitter backoff. The last error is
 * thrown as it was, so callers still see its kind, provider and cause.
 *
 * @example
 * ```ts
 * const sizes = await retry(() => provider.listSizes(), { attempts: 4 });
 * ```
 */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 6);
  const clock = options.clock ?? systemClock;
  const shouldRetry = options.retryable ?? isRetryable;
  for (let attempt = 0; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt + 1 >= attempts || !shouldRetry(error)) throw error;
      const delayMs = backoffDelay(attempt, options, error);
      options.onRetry?.({ attempt: attempt + 1, delayMs, error });
      await clock.sleep(delayMs, options.signal);
    }
  }
}
