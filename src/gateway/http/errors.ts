/**
 * Errors in the shapes OpenStack clients parse, so the `openstack` CLI, openstacksdk
 * and gophercloud show their usual messages:
 *
 * - Keystone (and every 401, which keystonemiddleware answers for the other services):
 *   `{"error": {"code": 401, "title": "Unauthorized", "message": "…"}}`
 * - Nova: `{"itemNotFound": {"code": 404, "message": "…"}}`, the key chosen by status
 *   as Nova's `Fault` does (400 badRequest, 403 forbidden, 409 conflictingRequest, …).
 * - Neutron: `{"NeutronError": {"type": "NetworkNotFound", "message": "…", "detail": ""}}`
 * - Glance: webob's JSON error page `{"code": "404 Not Found", "title": "Not Found", "message": "…"}`
 */
import { isKumoError, type KumoError } from '../../core/index.js';

export type Service = 'identity' | 'compute' | 'network' | 'image';

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

/** Nova's fault names by status (nova/api/openstack/wsgi.py `Fault._fault_names`). */
const NOVA_FAULTS: Readonly<Record<number, string>> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

/** Neutron's error type when the handler names none. */
const NEUTRON_TYPES: Readonly<Record<number, string>> = {
  400: 'HTTPBadRequest',
  401: 'HTTPUnauthorized',
  403: 'HTTPForbidden',
  404: 'HTTPNotFound',
  405: 'HTTPMethodNotAllowed',
  409: 'HTTPConflict',
  413: 'HTTPRequestEntityTooLarge',
  429: 'HTTPTooManyRequests',
  500: 'HTTPInternalServerError',
  501: 'HTTPNotImplemented',
};

export interface HttpErrorOptions {
  /** Neutron's error type (`NetworkNotFound`, `NetworkInUse`, …). */
  readonly type?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly cause?: unknown;
}

/** An error answered with `status` and a message the client shows. */
export class HttpError extends Error {
  readonly status: number;
  readonly type: string | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, message: string, options: HttpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.type = options.type;
    this.headers = options.headers ?? {};
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string, type?: string): HttpError =>
  new HttpError(400, message, type === undefined ? {} : { type });
export const notFound = (message: string, type?: string): HttpError =>
  new HttpError(404, message, type === undefined ? {} : { type });
export const conflict = (message: string, type?: string): HttpError =>
  new HttpError(409, message, type === undefined ? {} : { type });
export const forbidden = (message: string): HttpError => new HttpError(403, message);
/** The message keystonemiddleware and Keystone give for a missing, bad or expired token. */
export const unauthorized = (
  message = 'The request you have made requires authentication.',
): HttpError => new HttpError(401, message);

const KUMO_STATUS: Readonly<Record<KumoError['code'], number>> = {
  ValidationError: 400,
  AuthError: 403,
  NotFound: 404,
  Conflict: 409,
  QuotaExceeded: 403,
  InsufficientCapacity: 409,
  Throttled: 503,
  Timeout: 503,
  ProviderError: 500,
};

/**
 * The HTTP error for anything a handler threw. kumo's typed errors keep their message
 * (they never carry secrets); anything else becomes a 500 without internals.
 */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (isKumoError(err)) {
    const status = KUMO_STATUS[err.code];
    const retryAfter =
      err.code === 'Throttled' || err.retryable ? { 'Retry-After': '5' } : undefined;
    return new HttpError(status, err.message, {
      cause: err,
      ...(retryAfter === undefined ? {} : { headers: retryAfter }),
    });
  }
  return new HttpError(
    500,
    'The server has either erred or is incapable of performing the requested operation.',
    { cause: err },
  );
}

/** The response body of `error` as `service` shapes it. */
export function errorBody(service: Service, error: HttpError): Record<string, unknown> {
  const title = TITLES[error.status] ?? 'Error';
  if (service === 'identity' || error.status === 401)
    return { error: { code: error.status, title, message: error.message } };
  if (service === 'compute') {
    const retry = error.headers['Retry-After'];
    return {
      [NOVA_FAULTS[error.status] ?? 'computeFault']: {
        code: error.status,
        message: error.message,
        ...(retry !== undefined && (error.status === 413 || error.status === 429)
          ? { retryAfter: retry }
          : {}),
      },
    };
  }
  if (service === 'network')
    return {
      NeutronError: {
        type: error.type ?? NEUTRON_TYPES[error.status] ?? 'HTTPInternalServerError',
        message: error.message,
        detail: '',
      },
    };
  return { code: `${error.status} ${title}`, title, message: error.message };
}
