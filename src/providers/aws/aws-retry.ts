/**
 * The SDK's per-call retries, on kumo's clock. The SDK's own strategies sleep on the
 * wall clock, which a simulation or a scaled benchmark cannot move; this one keeps the
 * SDK's standard-mode rules (a retry quota of 500 tokens, full-jitter exponential
 * backoff, throttling backing off longer) and sleeps on the injected clock instead.
 *
 * NOTE: capacity errors (InsufficientInstanceCapacity, answered with HTTP 500) are not
 * retried here as the SDK would: repeating a launch into a full zone only spends
 * RunInstances tokens. The provider moves to the next zone when told to.
 */
import type { Clock, Random } from '../../core/index.js';

/** The subset of the SDK's `RetryStrategyV2` contract kumo implements. */
interface RetryToken {
  getRetryCount(): number;
  getRetryDelay(): number;
}

interface RetryErrorInfo {
  readonly errorType: 'TRANSIENT' | 'THROTTLING' | 'SERVER_ERROR' | 'CLIENT_ERROR';
  readonly error?: unknown;
  readonly retryAfterHint?: Date;
}

class Token implements RetryToken {
  constructor(
    readonly count: number,
    readonly cost: number | undefined,
  ) {}
  getRetryCount(): number {
    return this.count;
  }
  /** The wait already happened inside `refreshRetryTokenForRetry`. */
  getRetryDelay(): number {
    return 0;
  }
}

// The values of @smithy/core 3.41's standard retry strategy.
const BASE_DELAY_MS = 50;
const THROTTLING_BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 20_000;
const INITIAL_RETRY_TOKENS = 500;
const RETRY_COST = 14;
const THROTTLING_RETRY_COST = 5;
const NO_RETRY_INCREMENT = 1;

export interface AwsRetryOptions {
  readonly maxAttempts: number;
  readonly clock: Clock;
  readonly random: Random;
  /** EC2 codes never retried per call (capacity: another zone is the answer, not the same one again). */
  readonly noRetryCodes: ReadonlySet<string>;
  /** Told of every retry, for metrics and tests. */
  readonly onRetry?: (info: { code: string | undefined; attempt: number; delayMs: number }) => void;
}

/**
 * A `RetryStrategyV2` for the SDK client's `retryStrategy` option.
 *
 * @example
 * ```ts
 * new EC2Client({ retryStrategy: new AwsRetryStrategy({ maxAttempts: 3, clock, random: Math.random, noRetryCodes: new Set() }) });
 * ```
 */
export class AwsRetryStrategy {
  readonly mode = 'standard';
  #capacity = INITIAL_RETRY_TOKENS;
  readonly #options: AwsRetryOptions;

  constructor(options: AwsRetryOptions) {
    this.#options = options;
  }

  acquireInitialRetryToken(_scope: string): Promise<RetryToken> {
    return Promise.resolve(new Token(0, undefined));
  }

  async refreshRetryTokenForRetry(token: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const code = info.error instanceof Error ? info.error.name : undefined;
    const retryable =
      (info.errorType === 'THROTTLING' || info.errorType === 'TRANSIENT') &&
      !(code !== undefined && this.#options.noRetryCodes.has(code));
    const cost = info.errorType === 'THROTTLING' ? THROTTLING_RETRY_COST : RETRY_COST;
    const count = token.getRetryCount();
    if (!retryable || count + 1 >= this.#options.maxAttempts || this.#capacity < cost)
      throw info.error instanceof Error ? info.error : new Error('no retry left');
    this.#capacity -= cost;
    const base = info.errorType === 'THROTTLING' ? THROTTLING_BASE_DELAY_MS : BASE_DELAY_MS;
    let delayMs = Math.floor(this.#options.random() * Math.min(MAX_DELAY_MS, base * 2 ** count));
    if (info.retryAfterHint instanceof Date)
      delayMs = Math.max(
        delayMs,
        Math.min(info.retryAfterHint.getTime() - Date.now(), delayMs + 5000),
      );
    this.#options.onRetry?.({ code, attempt: count + 1, delayMs });
    await this.#options.clock.sleep(delayMs);
    return new Token(count + 1, cost);
  }

  recordSuccess(token: RetryToken): void {
    const cost = token instanceof Token ? token.cost : undefined;
    this.#capacity = Math.min(INITIAL_RETRY_TOKENS, this.#capacity + (cost ?? NO_RETRY_INCREMENT));
  }
}
