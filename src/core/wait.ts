import { systemClock, type Clock } from './clock.js';
import { Timeout } from './errors.js';

export interface WaitOptions {
  /** Give up after this long. Default 10 minutes. */
  timeoutMs?: number;
  /** First pause between probes. Default 1000 ms. */
  intervalMs?: number;
  /** Pauses grow by this factor up to `maxIntervalMs`. Default 1.5. */
  backoff?: number;
  maxIntervalMs?: number;
  clock?: Clock;
  signal?: AbortSignal;
  /** What is awaited, for the Timeout message ("machines web-0…web-9 running"). */
  what?: string;
  provider?: string;
}

/**
 * Polls `probe` until it returns a value other than `undefined` or `false`, with
 * growing pauses, a deadline and an abort signal. Providers use it to wait on
 * batched state checks (one call for all pending machines), never one poll per machine.
 *
 * @example
 * ```ts
 * const running = await waitUntil(async () => {
 *   const m = await provider.getMachine(id);
 *   return m.state === 'running' ? m : undefined;
 * }, { timeoutMs: 300_000, what: `machine ${id} running` });
 * ```
 */
export async function waitUntil<T>(
  probe: () => Promise<T | undefined | false>,
  options: WaitOptions = {},
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? 600_000;
  const deadline = clock.now() + timeoutMs;
  const factor = options.backoff ?? 1.5;
  const maxInterval = options.maxIntervalMs ?? 15_000;
  let interval = options.intervalMs ?? 1000;
  for (;;) {
    options.signal?.throwIfAborted();
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    const left = deadline - clock.now();
    if (left <= 0)
      throw new Timeout(
        `timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a condition'}`,
        {
          ...(options.provider === undefined ? {} : { provider: options.provider }),
          // Not retryable: repeating the call would wait as long again (see BatchPoller).
          retryable: false,
        },
      );
    await clock.sleep(Math.min(interval, left), options.signal);
    interval = Math.min(maxInterval, interval * factor);
  }
}
