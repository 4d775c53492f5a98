/**
 * What the OpenStack wire clients throw besides an API's answer — timeouts, dropped
 * connections, client-side refusals, aborts — as kumo errors. Shared by the providers
 * built on these clients (OpenStack, bare metal); each maps API answers its own way.
 */
import {
  ProviderError,
  Throttled,
  Timeout,
  type CloudCause,
  type KumoError,
} from '../../core/index.js';
import { OpenStackClientError, OpenStackTransportError, type OpenStackApiError } from './http.js';

/** A kumo error for anything but an {@link OpenStackApiError}; `prefix` says what kumo was doing. */
export function wireFailure(error: unknown, provider: string, prefix = ''): KumoError {
  if (error instanceof OpenStackTransportError)
    return error.kind === 'timeout'
      ? new Timeout(`${prefix}${error.message}`, {
          provider,
          cause: { code: 'RequestTimeout', message: error.message },
        })
      : new ProviderError(`${prefix}${error.message}`, {
          provider,
          retryable: true,
          cause: { code: 'ConnectionError', message: error.message },
        });
  if (error instanceof OpenStackClientError)
    return new ProviderError(`${prefix}${error.message}`, {
      provider,
      cause: { code: 'ClientError', message: error.message },
    });
  if (error instanceof Error && error.name === 'AbortError')
    return new ProviderError(`${prefix}aborted`, { provider, cause: { code: 'Aborted' } });
  return new ProviderError(`${prefix}${error instanceof Error ? error.message : String(error)}`, {
    provider,
  });
}

/** A throttling answer (429, or a 503 that means "slow down"), keeping the server's Retry-After. */
export function throttledBy(
  error: OpenStackApiError,
  message: string,
  base: { provider: string; cause: CloudCause },
): Throttled {
  return new Throttled(message, {
    ...base,
    ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
  });
}
