/**
 * Compute Engine errors → kumo's typed errors. Two sources: an HTTP error from the
 * client (a GaxiosError: HTTP status in `.code`, Google's JSON error body in
 * `.response.data`) and an error inside a DONE Operation (`error.errors[]` with codes
 * such as `ZONE_RESOURCE_POOL_EXHAUSTED`, plus `httpErrorStatusCode`).
 *
 * The cause kept on every error is a plain {@link CloudCause}: never the GaxiosError
 * itself, whose `config` carries the request headers (the bearer token).
 */
import {
  AuthError,
  Conflict,
  InsufficientCapacity,
  isKumoError,
  NotFound,
  ProviderError,
  QuotaExceeded,
  Throttled,
  Timeout,
  ValidationError,
  type CloudCause,
  type KumoError,
} from '../../core/index.js';

/** The parts of Google's JSON error body kumo reads (`{"error": {...}}`). */
interface GoogleErrorBody {
  code?: number;
  message?: string;
  status?: string;
  errors?: { reason?: string; domain?: string; message?: string }[];
  details?: { '@type'?: string; reason?: string }[];
}

/** What kumo reads from a failed Operation (`error.errors[]`, `httpErrorStatusCode`). */
export interface OperationFailure {
  readonly name?: string | null;
  readonly error?: { errors?: { code?: string | null; message?: string | null }[] | null } | null;
  readonly httpErrorStatusCode?: number | null;
  readonly httpErrorMessage?: string | null;
}

const CAPACITY_CODES = new Set([
  'ZONE_RESOURCE_POOL_EXHAUSTED',
  'ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS',
  'STOCKOUT',
  'RESOURCE_POOL_EXHAUSTED',
]);
const QUOTA_CODES = new Set([
  'QUOTA_EXCEEDED',
  'quotaExceeded',
  'dailyLimitExceeded',
  'limitExceeded',
]);
const THROTTLE_CODES = new Set([
  'rateLimitExceeded',
  'userRateLimitExceeded',
  'RATE_LIMIT_EXCEEDED',
]);
const CONFLICT_CODES = new Set([
  'alreadyExists',
  'conflict',
  'resourceInUseByAnotherResource',
  'RESOURCE_IN_USE_BY_ANOTHER_RESOURCE',
  'resourceNotReady',
  'RESOURCE_NOT_READY',
  'conditionNotMet',
  'RESOURCE_ALREADY_EXISTS',
]);
const AUTH_CODES = new Set([
  'forbidden',
  'insufficientPermissions',
  'accessNotConfigured',
  'authError',
  'unauthorized',
  'PERMISSIONS_ERROR',
]);
const NOT_FOUND_CODES = new Set(['notFound', 'RESOURCE_NOT_FOUND']);
/** Node and gaxios codes for a connection that broke or timed out: the call may have happened. */
const DROPPED_CODES = new Set([
  'ECONNRESET',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Google's error body, whether gaxios parsed it or left it as text. */
function googleBody(data: unknown): GoogleErrorBody | undefined {
  let parsed: unknown = data;
  if (typeof data === 'string') {
    try {
      parsed = JSON.parse(data);
    } catch {
      return undefined;
    }
  }
  const error = record(record(parsed)?.['error']);
  return error;
}

function retryAfterMs(headers: unknown): number | undefined {
  const h = record(headers);
  const value = h?.['retry-after'] ?? h?.['Retry-After'];
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(String(value));
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Message text with anything token-like cut out (gaxios messages can quote URLs; never headers, but be sure). */
function scrub(message: string): string {
  return message
    .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/g, '$1[redacted]')
    .replace(/(access_token=)[^&\s]+/g, '$1[redacted]');
}

interface Classified {
  readonly status?: number;
  readonly code?: string;
  readonly message: string;
  readonly retryAfterMs?: number;
}

function build(
  c: Classified,
  provider: string,
  context: string,
  extra: { requestId?: string } = {},
): KumoError {
  const cause: CloudCause = {
    ...(c.code === undefined ? {} : { code: c.code }),
    ...(c.status === undefined ? {} : { status: c.status }),
    ...(extra.requestId === undefined ? {} : { requestId: extra.requestId }),
    message: c.message,
  };
  const options = { provider, cause };
  const text = `${context}: ${c.message}`;
  const code = c.code ?? '';
  if (CAPACITY_CODES.has(code)) return new InsufficientCapacity(text, options);
  if (QUOTA_CODES.has(code)) return new QuotaExceeded(text, options);
  if (THROTTLE_CODES.has(code) || c.status === 429)
    return new Throttled(text, {
      ...options,
      ...(c.retryAfterMs === undefined ? {} : { retryAfterMs: c.retryAfterMs }),
    });
  if (NOT_FOUND_CODES.has(code) || c.status === 404) return new NotFound(text, options);
  if (CONFLICT_CODES.has(code) || c.status === 409 || c.status === 412)
    return new Conflict(text, options);
  if (AUTH_CODES.has(code) || c.status === 401 || c.status === 403)
    return new AuthError(text, options);
  if (c.status !== undefined && c.status >= 400 && c.status < 500)
    return new ValidationError(text, options);
  if (c.status !== undefined && c.status >= 500)
    return new ProviderError(text, { ...options, retryable: true });
  return new ProviderError(text, options);
}

/**
 * Translates whatever the Compute client threw into a kumo error. `context` says what
 * kumo was doing ("inserting instance web-0 in us-central1-a").
 */
export function toKumoError(err: unknown, provider: string, context: string): KumoError {
  if (isKumoError(err)) return err;
  const e = record(err) ?? {};
  const response = record(e['response']);
  const rawCode = e['code'];
  const status =
    typeof rawCode === 'number'
      ? rawCode
      : typeof response?.['status'] === 'number'
        ? response['status']
        : typeof e['status'] === 'number'
          ? e['status']
          : undefined;
  // NOTE: the REST transport reads responses as streams, so a GaxiosError carries
  // Google's JSON body as its message text, not in `response.data`. Its own `error`
  // field is the underlying Error (a dropped socket), never Google's body.
  const text =
    err instanceof Error && err.message.trimStart().startsWith('{') ? err.message : undefined;
  const body = googleBody(response?.['data']) ?? googleBody(text);
  if (status !== undefined || body !== undefined) {
    const reason =
      body?.errors?.find((x) => typeof x.reason === 'string')?.reason ??
      body?.details?.find((d) => typeof d.reason === 'string')?.reason;
    const message = scrub(
      body?.message ??
        body?.errors?.[0]?.message ??
        (err instanceof Error ? err.message : `HTTP ${status}`),
    );
    const after = retryAfterMs(response?.['headers']);
    return build(
      {
        ...(status === undefined ? {} : { status }),
        ...(reason === undefined ? {} : { code: reason }),
        message,
        ...(after === undefined ? {} : { retryAfterMs: after }),
      },
      provider,
      context,
    );
  }
  const message = scrub(err instanceof Error ? err.message : String(err));
  const code = typeof rawCode === 'string' ? rawCode : undefined;
  const name = err instanceof Error ? err.name : '';
  if (
    (code !== undefined && DROPPED_CODES.has(code)) ||
    name === 'AbortError' ||
    name === 'TimeoutError' ||
    /socket hang up|timed? ?out/i.test(message)
  )
    return new Timeout(
      `${context}: the connection dropped or timed out before Compute Engine answered (${message}); the call may have taken effect`,
      {
        provider,
        cause: { ...(code === undefined ? {} : { code }), message },
      },
    );
  if (code !== undefined && UNREACHABLE_CODES.has(code))
    return new ProviderError(`${context}: cannot reach Compute Engine (${message})`, {
      provider,
      retryable: true,
      cause: { code, message },
    });
  // NOTE: google-auth-library throws plain Errors when no credentials can be found
  // (no GOOGLE_APPLICATION_CREDENTIALS, no gcloud ADC file, no metadata server), and
  // when they name no project and the `project` option is not set.
  if (
    /default credentials|could not load the default|unable to detect a project id|invalid_grant|invalid_client|unauthorized_client|No access, refresh token|private key/i.test(
      message,
    )
  )
    return new AuthError(`${context}: ${message}`, {
      provider,
      cause: { code: code ?? 'AuthError', message },
    });
  return new ProviderError(`${context}: ${message}`, {
    provider,
    cause: { ...(code === undefined ? {} : { code }), message },
  });
}

/** True when a DONE Operation carries an error. */
export function operationFailed(op: OperationFailure): boolean {
  return (op.error?.errors?.length ?? 0) > 0;
}

/** The kumo error for a DONE Operation that failed; every error in it is kept in the message. */
export function operationError(op: OperationFailure, provider: string, context: string): KumoError {
  const errors = op.error?.errors ?? [];
  const first = errors[0];
  // Capacity and quota trump whatever else the operation lists: they decide what the caller does next.
  const decisive =
    errors.find((e) => CAPACITY_CODES.has(e.code ?? '') || QUOTA_CODES.has(e.code ?? '')) ?? first;
  const message =
    errors.map((e) => `${e.code ?? 'ERROR'}: ${e.message ?? ''}`.trim()).join('; ') ||
    (op.httpErrorMessage ?? 'operation failed');
  return build(
    {
      ...(typeof op.httpErrorStatusCode === 'number' ? { status: op.httpErrorStatusCode } : {}),
      ...(decisive?.code ? { code: decisive.code } : {}),
      message: scrub(message),
    },
    provider,
    context,
    op.name ? { requestId: op.name } : {},
  );
}
