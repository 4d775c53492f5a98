/**
 * Every Ironic failure kumo sees, as one of kumo's typed errors: the one place that
 * decides what a status or an Ironic fault means for bare metal.
 */
import {
  AuthError,
  Conflict,
  isKumoError,
  NotFound,
  ProviderError,
  ValidationError,
  type CloudCause,
  type KumoError,
} from '../../core/index.js';
import { throttledBy, wireFailure } from '../../clients/openstack/client-errors.js';
import { OpenStackApiError } from '../../clients/openstack/http.js';
import { IronicVersionError } from '../../clients/openstack/ironic-client.js';
import { ironicFault } from '../../clients/openstack/ironic-errors.js';

/** The cloud's own words for `cause`: Ironic's fault kind, status, request id, message. */
export function ironicCause(error: OpenStackApiError): CloudCause {
  const fault = ironicFault(error);
  return {
    code: fault === 'Other' ? (error.code ?? `HTTP${error.status}`) : fault,
    status: error.status,
    ...(error.requestId === undefined ? {} : { requestId: error.requestId }),
    message: error.detail,
  };
}

/** True for a 409 "node is locked by host …, please retry": the conductor is busy with the node for a moment. */
export function isNodeLocked(error: unknown): boolean {
  if (error instanceof OpenStackApiError) return ironicFault(error) === 'NodeLocked';
  return (
    isKumoError(error) &&
    error.cause !== undefined &&
    (error.cause as CloudCause).code === 'NodeLocked'
  );
}

/**
 * Translates anything the Ironic client throws. `context` says what kumo was doing
 * ("deploying web-3 on node n-12"). kumo errors pass through unchanged.
 */
export function toKumoError(error: unknown, provider: string, context?: string): KumoError {
  if (isKumoError(error)) return error;
  const prefix = context === undefined ? '' : `${context}: `;
  if (error instanceof OpenStackApiError) {
    const cause = ironicCause(error);
    const message = `${prefix}Ironic said ${error.status}: ${error.detail}`;
    const base = { provider, cause };
    const fault = cause.code;
    if (fault === 'NodeLocked') return new Conflict(message, { ...base, retryable: true });
    if (fault === 'InvalidState' || fault === 'NodeAssociated' || fault === 'Duplicate')
      return new Conflict(message, base);
    switch (error.status) {
      case 400:
      case 413:
        return new ValidationError(message, {
          ...base,
          issues: [{ path: '(ironic)', message: error.detail }],
        });
      case 401:
      case 403:
        return new AuthError(
          `${message} (check auth: none, basic or keystone, as the server is set up)`,
          base,
        );
      case 404:
        return new NotFound(message, base);
      case 406:
        return new ProviderError(`${message} (pin a microversion the server supports)`, base);
      case 409:
        return new Conflict(message, base);
      case 429:
        return throttledBy(error, message, base);
      default:
        return new ProviderError(message, { ...base, retryable: error.status >= 500 });
    }
  }
  if (error instanceof IronicVersionError)
    return new ProviderError(`${prefix}${error.message}`, {
      provider,
      cause: {
        code: 'VersionNotSupported',
        message: `server offers ${error.serverMin}–${error.serverMax}`,
      },
    });
  return wireFailure(error, provider, prefix);
}
