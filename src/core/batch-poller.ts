import { systemClock, type Clock } from './clock.js';
import { isRetryable, Timeout } from './errors.js';
import { backoffDelay } from './retry.js';

export interface BatchPollerOptions<V> {
  /** One cloud call for many ids (DescribeInstances with an id list, a filtered list). */
  fetch: (ids: readonly string[]) => Promise<ReadonlyMap<string, V>>;
  /** Most ids in one fetch (EC2 takes 1000 instance ids per call). Default 1000. */
  maxBatch?: number;
  /** First pause between rounds. Default 1000 ms. */
  intervalMs?: number;
  /** Pauses grow ×1.5 while nothing settles, up to this. Default 5000 ms. */
  maxIntervalMs?: number;
  clock?: Clock;
  provider?: string;
}

interface Waiter<V> {
  ids: readonly string[];
  done: (values: ReadonlyMap<string, V>) => boolean;
  resolve: (values: ReadonlyMap<string, V>) => void;
  reject: (err: unknown) => void;
  deadline: number;
  what: string;
}

/**
 * Waits on many machines with one call per round for all of them, however many
 * callers are waiting — never a poll per machine or per request. A throttled or
 * transient failure of a round only delays the next round.
 *
 * @example
 * ```ts
 * const poller = new BatchPoller({ fetch: (ids) => describe(ids) });
 * const ready = await poller.waitFor(ids, (m) => [...m.values()].every((x) => x.state !== 'pending'));
 * ```
 */
export class BatchPoller<V> {
  readonly #options: BatchPollerOptions<V>;
  readonly #clock: Clock;
  readonly #waiters = new Set<Waiter<V>>();
  #running = false;
  #failures = 0;
  #interval: number;
  /** Rounds made, for tests and benches (calls = rounds × batches). */
  rounds = 0;

  constructor(options: BatchPollerOptions<V>) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#interval = options.intervalMs ?? 1000;
  }

  /** Resolves with the latest values of `ids` once `done` says so; Timeout after `timeoutMs`. */
  waitFor(
    ids: readonly string[],
    done: Waiter<V>['done'],
    options: { timeoutMs?: number; what?: string } = {},
  ): Promise<ReadonlyMap<string, V>> {
    return new Promise((resolve, reject) => {
      this.#waiters.add({
        ids,
        done,
        resolve,
        reject,
        deadline: this.#clock.now() + (options.timeoutMs ?? 900_000),
        what: options.what ?? `${ids.length} machine(s)`,
      });
      // A new waiter's machines were just made: look soon.
      this.#interval = this.#options.intervalMs ?? 1000;
      if (!this.#running) void this.#loop();
    });
  }

  async #loop(): Promise<void> {
    this.#running = true;
    try {
      while (this.#waiters.size > 0) {
        await this.#clock.sleep(
          this.#failures === 0
            ? this.#interval
            : backoffDelay(this.#failures, { baseMs: 1000, maxMs: 30_000 }) + 250,
        );
        await this.#round();
      }
    } finally {
      this.#running = false;
    }
  }

  async #round(): Promise<void> {
    const waiters = [...this.#waiters];
    const ids = [...new Set(waiters.flatMap((w) => w.ids))];
    const values = new Map<string, V>();
    const max = this.#options.maxBatch ?? 1000;
    this.rounds += 1;
    try {
      for (let i = 0; i < ids.length; i += max) {
        for (const [k, v] of await this.#options.fetch(ids.slice(i, i + max))) values.set(k, v);
      }
      this.#failures = 0;
    } catch (err) {
      if (!isRetryable(err)) {
        for (const w of waiters) {
          this.#waiters.delete(w);
          w.reject(err);
        }
        return;
      }
      this.#failures += 1;
      this.#expire();
      return;
    }
    let settledAny = false;
    for (const w of waiters) {
      const mine = new Map<string, V>();
      for (const id of w.ids) {
        const v = values.get(id);
        if (v !== undefined) mine.set(id, v);
      }
      let settled: boolean;
      try {
        settled = w.done(mine);
      } catch (err) {
        this.#waiters.delete(w);
        w.reject(err);
        continue;
      }
      if (settled) {
        settledAny = true;
        this.#waiters.delete(w);
        w.resolve(mine);
      }
    }
    if (!settledAny)
      this.#interval = Math.min(this.#options.maxIntervalMs ?? 5000, this.#interval * 1.5);
    this.#expire();
  }

  #expire(): void {
    const now = this.#clock.now();
    for (const w of this.#waiters) {
      if (now >= w.deadline) {
        this.#waiters.delete(w);
        w.reject(
          new Timeout(`timed out waiting for ${w.what}`, {
            ...(this.#options.provider === undefined ? {} : { provider: this.#options.provider }),
            // The wait used its whole deadline: a retry wrapper repeating the call would
            // only wait as long again. The caller decides (same idempotency key: no duplicates).
            retryable: false,
          }),
        );
      }
    }
  }
}
