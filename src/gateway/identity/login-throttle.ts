/**
 * Failed-login throttling. Failures are counted per user name and per client address
 * within a sliding window; once a key reaches its limit, logins for it are refused
 * (429 with Retry-After) until the lockout ends, before any password is checked, so
 * guessing is slow and costs the gateway no hashing. A success clears the user's count.
 */
import type { Clock } from '../../core/index.js';

export interface LoginThrottleOptions {
  /** Failures of one user within the window before it is locked. */
  readonly maxFailures: number;
  readonly windowMs: number;
  readonly lockoutMs: number;
  /** An address may fail this many times more than one user (it may serve several people). Default 4. */
  readonly addressFactor?: number;
  readonly clock: Clock;
}

interface Entry {
  failures: number[];
  lockedUntil: number;
}

/** Keys kept at most; the oldest are dropped first, so a flood of names cannot grow memory without bound. */
const MAX_KEYS = 10_000;

export class LoginThrottle {
  readonly #options: LoginThrottleOptions;
  readonly #entries = new Map<string, Entry>();

  constructor(options: LoginThrottleOptions) {
    this.#options = options;
  }

  /** Milliseconds until a login for `user` from `address` may be tried again; 0 when it may now. */
  retryAfterMs(user: string, address: string): number {
    const now = this.#options.clock.now();
    const wait = (key: string): number =>
      Math.max(0, (this.#entries.get(key)?.lockedUntil ?? 0) - now);
    return Math.max(wait(`user:${user}`), wait(`addr:${address}`));
  }

  /** Counts a failed login. */
  failed(user: string, address: string): void {
    this.#count(`user:${user}`, this.#options.maxFailures);
    this.#count(`addr:${address}`, this.#options.maxFailures * (this.#options.addressFactor ?? 4));
  }

  /** A login succeeded: the user's failures are forgotten (the address's are not). */
  succeeded(user: string): void {
    this.#entries.delete(`user:${user}`);
  }

  #count(key: string, limit: number): void {
    const now = this.#options.clock.now();
    const entry = this.#entries.get(key) ?? { failures: [], lockedUntil: 0 };
    entry.failures = entry.failures.filter((t) => now - t < this.#options.windowMs);
    entry.failures.push(now);
    if (entry.failures.length >= limit) {
      entry.lockedUntil = now + this.#options.lockoutMs;
      entry.failures = [];
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > MAX_KEYS) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }
}
