/**
 * Every OpenStack failure kumo sees, as one of kumo's typed errors. The one place
 * that decides what a status, a Neutron error type or a Nova fault means.
 */
import {
  AuthError,
  Conflict,
  InsufficientCapacity,
  isKumoError,
  NotFound,
  ProviderError,
  QuotaExceeded,
  ValidationError,
  type CloudCause,
  type KumoError,
} from '../../core/index.js';
import { throttledBy, wireFailure } from '../../clients/openstack/client-errors.js';
import { OpenStackApiError } from '../../clients/openstack/http.js';

const QUOTA = /quota|over ?limit|exceeded.*(limit|allowed)|OverQuota/i;
/** Nova's scheduler faults when nothing can host the server. */
const NO_CAPACITY =
  /No valid host|Exceeded maximum number of retries|Insufficient compute resources|NoValidHost/i;

/** The cloud's own words for `cause`: code, status, request id, message. */
export function cloudCause(error: OpenStackApiError): CloudCause {
  return {
    ...(error.code === undefined ? {} : { code: error.code }),
    status: error.status,
    ...(error.requestId === undefined ? {} : { requestId: error.requestId }),
    message: error.detail,
  };
}

/**
 * Translates anything thrown by the OpenStack clients. `context` says what kumo was
 * doing ("creating server web-3"). kumo errors pass through unchanged.
 */
export function toKumoError(error: unknown, provider: string, context?: string): KumoError {
  if (isKumoError(error)) return error;
  const prefix = context === undefined ? '' : `${context}: `;
  if (error instanceof OpenStackApiError) {
    const cause = cloudCause(error);
    const message = `${prefix}${error.service} said ${error.status}${error.code ? ` ${error.code}` : ''}: ${error.detail}`;
    const base = { provider, cause };
    switch (error.status) {
      case 400:
        return new ValidationError(message, {
          ...base,
          issues: [{ path: '(cloud)', message: error.detail }],
        });
      case 401:
        return new AuthError(
          `${message} (check the credentials and that the token's project exists)`,
          base,
        );
      case 403:
        return QUOTA.test(error.detail)
          ? new QuotaExceeded(message, base)
          : new AuthError(message, base);
      case 404:
        return new NotFound(message, base);
      case 409:
        return error.code === 'OverQuota' || QUOTA.test(error.detail)
          ? new QuotaExceeded(message, base)
          : new Conflict(message, base);
      case 413:
        return new QuotaExceeded(message, base);
      case 429:
      case 503:
        return throttledBy(error, message, base);
      default:
        return new ProviderError(message, { ...base, retryable: error.status >= 500 });
    }
  }
  return wireFailure(error, provider, prefix);
}

/** A server's ERROR fault as a kumo error: no valid host is lack of capacity. */
export function faultError(
  fault: { message?: string | undefined; code?: number | undefined } | undefined,
  provider: string,
  context: string,
): KumoError {
  const message = fault?.message ?? 'the server went to ERROR without a fault message';
  const cause: CloudCause = {
    code: 'ServerFault',
    ...(fault?.code === undefined ? {} : { status: fault.code }),
    message,
  };
  if (NO_CAPACITY.test(message))
    return new InsufficientCapacity(`${context}: ${message}`, { provider, cause });
  if (QUOTA.test(message)) return new QuotaExceeded(`${context}: ${message}`, { provider, cause });
  return new ProviderError(`${context}: ${message}`, { provider, cause });
}

/** Runs `fn`, translating what it throws. */
export async function mapErrors<T>(
  provider: string,
  context: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toKumoError(error, provider, context);
  }
}
