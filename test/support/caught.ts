import { isKumoError, type KumoError } from '../../src/core/index.js';

/**
 * The typed error `promise` rejects with, so a spec can look at its code, cause and
 * retryability. Fails the spec when the promise resolves or rejects with anything but
 * a kumo error.
 *
 * @example
 * ```ts
 * expect((await caught(provider.getMachine('gone'))).code).toBe('NotFound');
 * ```
 */
export async function caught(promise: Promise<unknown>): Promise<KumoError> {
  try {
    await promise;
  } catch (err) {
    if (isKumoError(err)) return err;
    throw err;
  }
  throw new Error('expected a kumo error');
}
