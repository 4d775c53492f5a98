/**
 * EC2's API throttling as documented ("Request throttling for the Amazon EC2 API",
 * EC2 developer guide; figures in /work/shared/labs/cloud-limits.md): each API has its
 * own request token bucket sized by its category, and a few launch/terminate APIs have
 * a second bucket counting instances. Throttled requests take no token and answer
 * `RequestLimitExceeded` (HTTP 503).
 *
 * NOTE: refill here is continuous (rate × elapsed time) rather than whole tokens once a
 * second; the documented sizes and rates are the same either way.
 */
import type { Clock } from '../../../src/core/index.js';

export interface BucketLimit {
  /** Maximum tokens (the burst). */
  readonly size: number;
  /** Tokens added per second. */
  readonly refillPerSecond: number;
}

export interface Ec2Limits {
  /** Describe* actions, each its own bucket. */
  readonly nonMutating: BucketLimit;
  /** Describe* calls that give no filter, no ids and no MaxResults. */
  readonly unfilteredNonMutating: BucketLimit;
  /** Every other action without its own entry, each its own bucket. */
  readonly mutating: BucketLimit;
  /** Request buckets of specific actions. */
  readonly actions: Readonly<Record<string, BucketLimit>>;
  /** Resource buckets: instances launched, terminated, started, stopped. */
  readonly resources: Readonly<Record<string, BucketLimit>>;
}

export const DOCUMENTED_EC2_LIMITS: Ec2Limits = {
  nonMutating: { size: 100, refillPerSecond: 20 },
  unfilteredNonMutating: { size: 50, refillPerSecond: 10 },
  mutating: { size: 50, refillPerSecond: 5 },
  actions: {
    RunInstances: { size: 5, refillPerSecond: 2 },
    StartInstances: { size: 5, refillPerSecond: 2 },
    TerminateInstances: { size: 100, refillPerSecond: 5 },
    CreateTags: { size: 100, refillPerSecond: 10 },
  },
  resources: {
    RunInstances: { size: 1000, refillPerSecond: 2 },
    TerminateInstances: { size: 1000, refillPerSecond: 20 },
    StartInstances: { size: 1000, refillPerSecond: 2 },
    StopInstances: { size: 1000, refillPerSecond: 20 },
  },
};

class Bucket {
  #tokens: number;
  #at: number;
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

  has(n: number): boolean {
    this.#refill();
    // A request bigger than the whole bucket can still pass once the bucket is full.
    return this.#tokens >= Math.min(n, this.limit.size) - 1e-9;
  }

  take(n: number): void {
    this.#refill();
    this.#tokens -= n;
  }
}

/** Every bucket of one account and region, created on first use. */
export class Throttle {
  readonly #requests = new Map<string, Bucket>();
  readonly #resources = new Map<string, Bucket>();
  /** Requests refused, by action. */
  readonly refused = new Map<string, number>();

  constructor(
    readonly limits: Ec2Limits,
    readonly clock: Clock,
  ) {}

  #requestBucket(action: string, unfiltered: boolean): Bucket {
    const key = unfiltered ? `${action}#unfiltered` : action;
    let b = this.#requests.get(key);
    if (b === undefined) {
      const limit =
        this.limits.actions[action] ??
        (action.startsWith('Describe')
          ? unfiltered
            ? this.limits.unfilteredNonMutating
            : this.limits.nonMutating
          : this.limits.mutating);
      b = new Bucket(limit, this.clock);
      this.#requests.set(key, b);
    }
    return b;
  }

  #resourceBucket(action: string): Bucket | undefined {
    const limit = this.limits.resources[action];
    if (limit === undefined) return undefined;
    let b = this.#resources.get(action);
    if (b === undefined) {
      b = new Bucket(limit, this.clock);
      this.#resources.set(action, b);
    }
    return b;
  }

  /**
   * Takes the request's tokens (one request, `resources` instances) or takes none and
   * answers false when either bucket is short.
   */
  admit(action: string, options: { unfiltered: boolean; resources: number }): boolean {
    const request = this.#requestBucket(action, options.unfiltered);
    const resource = options.resources > 0 ? this.#resourceBucket(action) : undefined;
    if (!request.has(1) || (resource !== undefined && !resource.has(options.resources))) {
      this.refused.set(action, (this.refused.get(action) ?? 0) + 1);
      return false;
    }
    request.take(1);
    resource?.take(options.resources);
    return true;
  }

  /** Takes `n` instance tokens from `action`'s resource bucket, or none and answers false. */
  admitResources(action: string, n: number): boolean {
    const resource = this.#resourceBucket(action);
    if (resource === undefined || n <= 0) return true;
    if (!resource.has(n)) {
      this.refused.set(action, (this.refused.get(action) ?? 0) + 1);
      return false;
    }
    resource.take(n);
    return true;
  }
}
