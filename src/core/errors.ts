/**
 * Typed errors shared by every layer. Providers translate their cloud's errors into
 * these, so nothing cloud-specific leaks past a provider; the cloud's own code and
 * request id travel in `cause` for people who need them.
 *
 * @example
 * ```ts
 * import { NotFound, isKumoError } from 'kumo';
 * try { await provider.getMachine('i-123'); }
 * catch (err) { if (isKumoError(err) && err.code === 'NotFound') console.log('gone'); }
 * ```
 */

/** The error kinds of the provider contract. */
export type ErrorCode =
  | 'ValidationError'
  | 'AuthError'
  | 'NotFound'
  | 'Throttled'
  | 'QuotaExceeded'
  | 'InsufficientCapacity'
  | 'Conflict'
  | 'ProviderError'
  | 'Timeout';

/** What a cloud said, kept verbatim for diagnosis (never credentials). */
export interface CloudCause {
  /** The cloud's own error code, e.g. `RequestLimitExceeded`, `ZONE_RESOURCE_POOL_EXHAUSTED`. */
  readonly code?: string;
  /** HTTP status where the cloud answered over HTTP. */
  readonly status?: number;
  /** The cloud's request id, for support tickets. */
  readonly requestId?: string;
  /** The cloud's message. */
  readonly message?: string;
}

export interface KumoErrorOptions {
  /** Name of the provider the error came from (`aws`, `onprem`, …). */
  provider?: string;
  /** The underlying error or the cloud's code and request id. */
  cause?: unknown;
  /** Overrides the kind's default retryability. */
  retryable?: boolean;
  /** Structured details (field paths, nearest sizes, …); must hold no secrets. */
  details?: Record<string, unknown>;
}

/** Base class of every error kumo throws on purpose. */
export abstract class KumoError extends Error {
  abstract readonly code: ErrorCode;
  /** Whether repeating the same call may succeed. */
  readonly retryable: boolean;
  readonly provider: string | undefined;
  readonly details: Record<string, unknown>;

  protected constructor(
    message: string,
    defaultRetryable: boolean,
    options: KumoErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable ?? defaultRetryable;
    this.provider = options.provider;
    this.details = options.details ?? {};
    this.name = new.target.name;
  }

  /** A plain object for `--json` output and logs. */
  toJSON(): Record<string, unknown> {
    const cause = this.cause;
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.provider === undefined ? {} : { provider: this.provider }),
      ...(Object.keys(this.details).length === 0 ? {} : { details: this.details }),
      ...(isCloudCause(cause) ? { cause } : {}),
    };
  }
}

function isCloudCause(value: unknown): value is CloudCause {
  return (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Error) &&
    ('code' in value || 'status' in value || 'requestId' in value)
  );
}

/** One problem found in an input, with the path of the field it concerns. */
export interface Issue {
  /** Dotted field path, e.g. `pools.web.machine.resources.cpus`. */
  readonly path: string;
  readonly message: string;
  /** 1-based position in a source file, where the input came from one. */
  readonly line?: number;
  readonly column?: number;
}

/** The input is wrong; retrying the same call cannot help. */
export class ValidationError extends KumoError {
  readonly code = 'ValidationError' as const;
  /** Every problem found, not just the first. */
  readonly issues: readonly Issue[];
  constructor(message: string, options: KumoErrorOptions & { issues?: Issue[] } = {}) {
    super(message, false, options);
    this.issues = options.issues ?? [];
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), ...(this.issues.length ? { issues: this.issues } : {}) };
  }
}

/** Credentials missing, wrong or not allowed to do this. */
export class AuthError extends KumoError {
  readonly code = 'AuthError' as const;
  constructor(message: string, options: KumoErrorOptions = {}) {
    super(message, false, options);
  }
}

/** The thing asked for does not exist (or no longer does). */
export class NotFound extends KumoError {
  readonly code = 'NotFound' as const;
  constructor(message: string, options: KumoErrorOptions = {}) {
    super(message, false, options);
  }
}

/** The cloud asked us to slow down; retried with backoff, honouring `retryAfterMs`. */
export class Throttled extends KumoError {
  readonly code = 'Throttled' as const;
  /** How long the server asked us to wait, when it said. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: KumoErrorOptions & { retryAfterMs?: number } = {}) {
    super(message, true, options);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** An account or project limit would be exceeded. */
export class QuotaExceeded extends KumoError {
  readonly code = 'QuotaExceeded' as const;
  constructor(message: string, options: KumoErrorOptions = {}) {
    super(message, false, options);
  }
}

/** The cloud has no capacity for this size in this zone now; another zone may. */
export class InsufficientCapacity extends KumoError {
  readonly code = 'InsufficientCapacity' as const;
  constructor(message: string, options: KumoErrorOptions = {}) {
    super(message, false, options);
  }
}

/** The request conflicts with the current state (in use, locked, already exists differently). */
export class Conflict extends KumoError {
  readonly code = 'Conflict' as const;
  constructor(message: string, options: KumoErrorOptions = {}) {
    super(message, false, options);
  }
}

/** Anything else the cloud said; retryable when it was a server-side (5xx) fault. */
export class ProviderError extends KumoError {
  readonly code = 'ProviderError' as const;
  constructor(message: string, options: KumoErrorOptions = {}) {
    super(message, false, options);
  }
}

/**
 * Waiting took too long. The operation may still have happened: call again with the same
 * idempotency key. Retryable by default (a dropped or slow call); a wait that used up
 * its own deadline says `retryable: false`, so retry wrappers do not wait all over again
 * — the caller decides whether to spend that time once more.
 */
export class Timeout extends KumoError {
  readonly code = 'Timeout' as const;
  constructor(message: string, options: KumoErrorOptions = {}) {
    super(message, true, options);
  }
}

/** True for any error kumo raised on purpose. */
export function isKumoError(err: unknown): err is KumoError {
  return err instanceof KumoError;
}

/**
 * `err`, named as `provider`'s when it is a kumo error that names no provider (core's
 * helpers — parsing, size selection — throw without one). Returns it, to rethrow.
 *
 * @example
 * ```ts
 * try { return selectSize(sizes, req); } catch (err) { throw withProvider(err, 'aws'); }
 * ```
 */
export function withProvider(err: unknown, provider: string): unknown {
  if (isKumoError(err) && err.provider === undefined) Object.assign(err, { provider });
  return err;
}

/** True when retrying the same call may succeed. Unknown errors are not retried. */
export function isRetryable(err: unknown): boolean {
  return isKumoError(err) && err.retryable;
}

/** Adds context ("creating machine web-1") while keeping the kind, retryability and cause. */
export function withContext<E extends KumoError>(err: E, context: string): E {
  err.message = `${context}: ${err.message}`;
  return err;
}

/** The message of anything thrown, for one-line CLI output. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
