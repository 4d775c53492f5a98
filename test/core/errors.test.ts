import { describe, expect, it } from 'vitest';
import {
  AuthError,
  Conflict,
  errorMessage,
  InsufficientCapacity,
  isKumoError,
  isRetryable,
  NotFound,
  ProviderError,
  QuotaExceeded,
  Throttled,
  Timeout,
  ValidationError,
  withContext,
} from '../../src/core/index.js';

describe('typed errors', () => {
  it('carry their kind, provider and the cloud’s code as cause', () => {
    const err = new Throttled('slow down', {
      provider: 'aws',
      retryAfterMs: 500,
      cause: { code: 'RequestLimitExceeded', requestId: 'r-1', status: 503 },
    });
    expect(err.code).toBe('Throttled');
    expect(err.provider).toBe('aws');
    expect(err.retryAfterMs).toBe(500);
    expect(err.toJSON()).toEqual({
      code: 'Throttled',
      message: 'slow down',
      retryable: true,
      provider: 'aws',
      cause: { code: 'RequestLimitExceeded', requestId: 'r-1', status: 503 },
    });
  });

  it('are retryable by kind unless told otherwise', () => {
    expect([new Throttled('x'), new Timeout('x')].every(isRetryable)).toBe(true);
    expect(
      [
        new ValidationError('x'),
        new AuthError('x'),
        new NotFound('x'),
        new QuotaExceeded('x'),
        new InsufficientCapacity('x'),
        new Conflict('x'),
        new ProviderError('x'),
      ].some(isRetryable),
    ).toBe(false);
    expect(isRetryable(new ProviderError('5xx', { retryable: true }))).toBe(true);
    expect(isRetryable(new Error('plain'))).toBe(false);
  });

  it('list every validation issue in JSON', () => {
    const err = new ValidationError('bad', { issues: [{ path: 'a.b', message: 'no' }] });
    expect(err.toJSON()).toMatchObject({
      code: 'ValidationError',
      issues: [{ path: 'a.b', message: 'no' }],
    });
  });

  it('gain context without losing their kind', () => {
    const err = withContext(
      new NotFound('image gone', { provider: 'gcp' }),
      'creating machine web-1',
    );
    expect(err.message).toBe('creating machine web-1: image gone');
    expect(isKumoError(err) && err.code).toBe('NotFound');
    expect(err.name).toBe('NotFound');
  });

  it('keep an Error cause out of JSON but in `cause`', () => {
    const inner = new Error('socket hang up');
    const err = new ProviderError('failed', { cause: inner, details: { op: 'x' } });
    expect(err.cause).toBe(inner);
    expect(err.toJSON()).toEqual({
      code: 'ProviderError',
      message: 'failed',
      retryable: false,
      details: { op: 'x' },
    });
    expect(errorMessage(err)).toBe('failed');
    expect(errorMessage('text')).toBe('text');
  });
});
