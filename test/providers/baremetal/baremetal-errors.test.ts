import { describe, expect, it } from 'vitest';
import { isRetryable } from '../../../src/core/index.js';
import {
  OpenStackApiError,
  OpenStackTransportError,
  parseErrorBody,
} from '../../../src/clients/openstack/http.js';
import { IronicVersionError } from '../../../src/clients/openstack/ironic-client.js';
import { isNodeLocked, toKumoError } from '../../../src/providers/baremetal/baremetal-errors.js';
import { fixture } from './helpers.js';

/** The error the client throws for a recorded Ironic answer. */
function apiError(status: number, name: string, retryAfterMs?: number): OpenStackApiError {
  const parsed = parseErrorBody(JSON.stringify(fixture(name)));
  return new OpenStackApiError({
    service: 'baremetal',
    status,
    method: 'PATCH',
    path: '/v1/nodes/bm-large-2',
    code: parsed.code,
    detail: parsed.message,
    requestId: 'req-7c2e',
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

describe('Ironic errors as kumo errors', () => {
  it('makes a locked node a retryable Conflict with the cloud’s words in cause', () => {
    const err = toKumoError(apiError(409, 'node-patch-locked'), 'onprem', 'deploying web-0');
    expect(err).toMatchObject({ code: 'Conflict', retryable: true, provider: 'onprem' });
    expect(err.message).toMatch(
      /^deploying web-0: Ironic said 409: Node .* is locked by host 127\.0\.0\.1/,
    );
    expect(err.cause).toMatchObject({ code: 'NodeLocked', status: 409, requestId: 'req-7c2e' });
    expect(isNodeLocked(err)).toBe(true);
  });

  it('makes a state the node cannot leave that way a Conflict that retrying will not fix', () => {
    const err = toKumoError(apiError(400, 'node-provision-invalid-state'), 'onprem');
    expect(err).toMatchObject({
      code: 'Conflict',
      retryable: false,
      cause: { code: 'InvalidState' },
    });
  });

  it('makes a missing node NotFound', () => {
    expect(toKumoError(apiError(404, 'node-get-not-found'), 'onprem')).toMatchObject({
      code: 'NotFound',
      retryable: false,
    });
  });

  it('makes an unsupported microversion a ProviderError saying to pin one', () => {
    const err = toKumoError(apiError(406, 'nodes-list-version-not-supported'), 'onprem');
    expect(err).toMatchObject({
      code: 'ProviderError',
      retryable: false,
      cause: { code: 'VersionNotSupported' },
    });
    expect(err.message).toMatch(/supported version range is: \[1\.1, 1\.82\].*pin a microversion/);
  });

  it('makes 429 Throttled, keeping the server’s Retry-After', () => {
    const err = new OpenStackApiError({
      service: 'baremetal',
      status: 429,
      method: 'GET',
      path: '/v1/nodes',
      detail: '429 Too Many Requests',
      retryAfterMs: 2000,
    });
    expect(toKumoError(err, 'onprem')).toMatchObject({
      code: 'Throttled',
      retryAfterMs: 2000,
      retryable: true,
    });
  });

  it('makes a 5xx a retryable ProviderError', () => {
    const err = new OpenStackApiError({
      service: 'baremetal',
      status: 503,
      method: 'GET',
      path: '/v1/nodes',
      detail: 'No server is available',
    });
    const kumo = toKumoError(err, 'onprem');
    expect(kumo.code).toBe('ProviderError');
    expect(isRetryable(kumo)).toBe(true);
  });

  it('makes a dropped connection retryable and a request timeout a Timeout', () => {
    const reset = new OpenStackTransportError({
      service: 'baremetal',
      kind: 'network',
      method: 'POST',
      path: '/v1/allocations',
    });
    const slow = new OpenStackTransportError({
      service: 'baremetal',
      kind: 'timeout',
      method: 'GET',
      path: '/v1/nodes',
    });
    expect(toKumoError(reset, 'onprem')).toMatchObject({
      code: 'ProviderError',
      retryable: true,
      cause: { code: 'ConnectionError' },
    });
    expect(toKumoError(slow, 'onprem')).toMatchObject({ code: 'Timeout', retryable: true });
  });

  it('makes a failed version negotiation a ProviderError naming the server’s range', () => {
    const err = toKumoError(
      new IronicVersionError('kumo needs at least 1.21', '1.1', '1.16'),
      'onprem',
    );
    expect(err).toMatchObject({
      code: 'ProviderError',
      retryable: false,
      cause: { code: 'VersionNotSupported', message: 'server offers 1.1–1.16' },
    });
  });

  it('never puts a credential into an error', () => {
    const err = new OpenStackApiError({
      service: 'baremetal',
      status: 401,
      method: 'GET',
      path: '/v1/nodes',
      detail: 'Unauthorized',
    });
    const kumo = toKumoError(err, 'onprem');
    expect(kumo.code).toBe('AuthError');
    expect(JSON.stringify(kumo.toJSON())).not.toMatch(/Basic |X-Auth-Token/);
  });
});
