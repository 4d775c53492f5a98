/**
 * EC2's documented API throttling ("Request throttling for the Amazon EC2 API", EC2
 * developer guide), which the provider paces itself by: each API has its own request
 * bucket sized by its category, and launch/terminate/start/stop also spend instance
 * tokens from a resource bucket. Pacing client-side at these rates keeps a large
 * provisioning run just under the limits instead of retrying into them.
 */
import type { Clock } from '../../core/index.js';

export interface BucketLimit {
  readonly size: number;
  readonly refillPerSecond: number;
}

/** Describe* APIs (non-mutating), each its own bucket. */
export const NON_MUTATING: BucketLimit = { size: 100, refillPerSecond: 20 };
/** Every other API without its own entry. */
export const MUTATING: BucketLimit = { size: 50, refillPerSecond: 5 };

/** APIs with their own documented request bucket. */
export const API_BUCKETS: Readonly<Record<string, BucketLimit>> = {
  RunInstances: { size: 5, refillPerSecond: 2 },
  StartInstances: { size: 5, refillPerSecond: 2 },
  TerminateInstances: { size: 100, refillPerSecond: 5 },
  CreateTags: { size: 100, refillPerSecond: 10 },
};

/** Resource buckets: instances launched, terminated, started and stopped. */
export const RESOURCE_BUCKETS: Readonly<Record<string, BucketLimit>> = {
  RunInstances: { size: 1000, refillPerSecond: 2 },
  TerminateInstances: { size: 1000, refillPerSecond: 20 },
  StartInstances: { size: 1000, refillPerSecond: 2 },
  StopInstances: { size: 1000, refillPerSecond: 20 },
};

/** The request bucket of `api`, with overrides applied. */
export function requestBucket(
  api: string,
  overrides: Readonly<Record<string, BucketLimit>> = {},
): BucketLimit {
  return (
    overrides[api] ?? API_BUCKETS[api] ?? (api.startsWith('Describe') ? NON_MUTATING : MUTATING)
  );
}

/**
 * A token bucket that takes several tokens at once (instances, not requests), on the
 * injected clock. Callers are served in order, so a big launch is not starved by
 * small ones.
 */
export class WeightedBucket {
  #tokens: number;
  #at: number;
  #tail: Promise<void> = Promise.resolve();

  constructor(
    readonly limit: BucketLimit,
    readonly clock: Clock,
  ) {
    this.#tokens = limit.size;
    this.#at = clock.now();
  }

  #refill(): void {
    const now = this.clock.now();
    this.#tokens = Math.min(
      this.limit.size,
      this.#tokens + ((now - this.#at) / 1000) * this.limit.refillPerSecond,
    );
    this.#at = now;
  }

  /** Gives back tokens taken for a call that did nothing (EC2 answered with an error). */
  refund(n: number): void {
    this.#refill();
    this.#tokens = Math.min(this.limit.size, this.#tokens + Math.min(n, this.limit.size));
  }

  /** Resolves once `n` tokens (at most the bucket's size) are ours. */
  take(n: number, signal?: AbortSignal): Promise<void> {
    const want = Math.min(n, this.limit.size);
    const turn = this.#tail.then(async () => {
      this.#refill();
      if (this.#tokens < want) {
        await this.clock.sleep(
          Math.ceil(((want - this.#tokens) / this.limit.refillPerSecond) * 1000),
          signal,
        );
        this.#refill();
      }
      this.#tokens -= want;
    });
    this.#tail = turn.catch(() => undefined);
    return turn;
  }
}

/**
 * Adaptive pacing for one API (retry mode `adaptive`): a throttle cuts the API's send
 * rate to 70 % (the SDK's adaptive mode uses the same factor), each success adds back a
 * tenth of the documented rate, and once the documented rate is reached the gate steps
 * aside. EC2 throttles per API, so one API's throttling never slows another.
 */
class AdaptiveGate {
  #rate: number | undefined;
  #next = 0;

  constructor(
    readonly documented: number,
    readonly clock: Clock,
  ) {}

  async pass(signal?: AbortSignal): Promise<void> {
    if (this.#rate === undefined) return;
    const now = this.clock.now();
    const at = Math.max(now, this.#next);
    this.#next = at + 1000 / this.#rate;
    if (at > now) await this.clock.sleep(at - now, signal);
  }

  throttled(): void {
    this.#rate = Math.max(this.documented / 10, (this.#rate ?? this.documented) * 0.7);
  }

  succeeded(): void {
    if (this.#rate === undefined) return;
    this.#rate += this.documented / 10;
    if (this.#rate >= this.documented) this.#rate = undefined;
  }

  get rate(): number | undefined {
    return this.#rate;
  }
}

export { AdaptiveGate };
