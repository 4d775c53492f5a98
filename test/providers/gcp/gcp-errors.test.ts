import { describe, expect, it } from 'vitest';
import { operationError, toKumoError } from '../../../src/providers/gcp/gcp-errors.js';

/** A GaxiosError as the REST transport makes it: status in `.code`, Google's body as the message. */
function gaxiosError(status: number, body: unknown, headers: Record<string, string> = {}): Error {
  return Object.assign(new Error(JSON.stringify(body)), {
    name: 'GaxiosError',
    code: status,
    status,
    response: { status, headers, data: undefined },
    config: { headers: { authorization: 'Bearer ya29.secret-token' } },
  });
}

describe('HTTP errors', () => {
  it('reads the reason from the body, so a 403 rateLimitExceeded is throttling, not auth', () => {
    const err = toKumoError(
      gaxiosError(403, {
        error: {
          code: 403,
          message: 'Rate Limit Exceeded',
          errors: [{ reason: 'rateLimitExceeded' }],
        },
      }),
      'gcp',
      'listing',
    );
    expect(err.code).toBe('Throttled');
    expect(err.retryable).toBe(true);
  });

  it('honours Retry-After on a 429', () => {
    const err = toKumoError(
      gaxiosError(
        429,
        { error: { code: 429, message: 'slow down', errors: [{ reason: 'rateLimitExceeded' }] } },
        { 'retry-after': '7' },
      ),
      'gcp',
      'listing',
    );
    expect(err).toMatchObject({ code: 'Throttled', retryAfterMs: 7000 });
  });

  it('maps 403 quotaExceeded to QuotaExceeded', () => {
    expect(
      toKumoError(
        gaxiosError(403, {
          error: { code: 403, message: 'Quota exceeded', errors: [{ reason: 'quotaExceeded' }] },
        }),
        'gcp',
        'x',
      ).code,
    ).toBe('QuotaExceeded');
  });

  it('keeps the context, the provider and the cloud code, never the request headers', () => {
    const err = toKumoError(
      gaxiosError(404, {
        error: {
          code: 404,
          message: "The resource 'x' was not found",
          errors: [{ reason: 'notFound' }],
        },
      }),
      'gcp-eu',
      'reading machine a/b',
    );
    expect(err.message).toBe("reading machine a/b: The resource 'x' was not found");
    expect(err.toJSON()).toEqual({
      code: 'NotFound',
      message: err.message,
      retryable: false,
      provider: 'gcp-eu',
      cause: { code: 'notFound', status: 404, message: "The resource 'x' was not found" },
    });
    expect(JSON.stringify(err.toJSON())).not.toContain('secret-token');
  });

  it('cuts bearer tokens out of any message it quotes', () => {
    const err = toKumoError(
      new Error('request failed with header Bearer ya29.abc.def'),
      'gcp',
      'x',
    );
    expect(err.message).not.toContain('ya29');
    expect(err.message).toContain('Bearer [redacted]');
  });
});

describe('transport errors', () => {
  it('treats a dropped connection as a retryable Timeout: the call may have happened', () => {
    const err = toKumoError(
      Object.assign(
        new Error('request to https://compute.googleapis.com failed, reason: socket hang up'),
        { code: 'ECONNRESET' },
      ),
      'gcp',
      'creating',
    );
    expect(err).toMatchObject({ code: 'Timeout', retryable: true });
  });

  it('treats an unreachable endpoint as a retryable ProviderError', () => {
    expect(
      toKumoError(
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8080'), { code: 'ECONNREFUSED' }),
        'gcp',
        'x',
      ),
    ).toMatchObject({ code: 'ProviderError', retryable: true });
  });

  it('reports missing Application Default Credentials as AuthError', () => {
    const err = toKumoError(
      new Error(
        'Could not load the default credentials. Browse to https://cloud.google.com/docs/authentication/getting-started for more information.',
      ),
      'gcp',
      'listing zones',
    );
    expect(err.code).toBe('AuthError');
  });

  it('reports a project no credentials name (and no option set) as AuthError', () => {
    const err = toKumoError(
      new Error(
        'Unable to detect a Project Id in the current environment. \nTo learn more about authentication and Google APIs, visit: \nhttps://cloud.google.com/docs/authentication/getting-started',
      ),
      'gcp',
      'finding the project (set the `project` option)',
    );
    expect(err.code).toBe('AuthError');
  });
});

describe('errors inside DONE operations', () => {
  it('lets capacity decide the kind when an operation lists several errors, and keeps them all in the message', () => {
    const err = operationError(
      {
        name: 'operation-1',
        error: {
          errors: [
            { code: 'RESOURCE_OPERATION_RATE_EXCEEDED', message: 'busy' },
            { code: 'ZONE_RESOURCE_POOL_EXHAUSTED', message: 'no room' },
          ],
        },
        httpErrorStatusCode: 503,
        httpErrorMessage: 'SERVICE UNAVAILABLE',
      },
      'gcp',
      'creating web-0',
    );
    expect(err.code).toBe('InsufficientCapacity');
    expect(err.message).toBe(
      'creating web-0: RESOURCE_OPERATION_RATE_EXCEEDED: busy; ZONE_RESOURCE_POOL_EXHAUSTED: no room',
    );
    expect(err.toJSON()['cause']).toMatchObject({
      code: 'ZONE_RESOURCE_POOL_EXHAUSTED',
      status: 503,
      requestId: 'operation-1',
    });
  });

  it('maps an invalid field reported by an operation to ValidationError by its HTTP status', () => {
    expect(
      operationError(
        {
          error: { errors: [{ code: 'INVALID_FIELD_VALUE', message: 'bad' }] },
          httpErrorStatusCode: 400,
        },
        'gcp',
        'x',
      ).code,
    ).toBe('ValidationError');
  });
});
