import { retry, type RetryOptions } from './retry.js';
import type { Provider } from './provider.js';
import { withProvider } from './errors.js';

/** Provider methods that talk to the cloud, each wrapped once. */
const METHODS = [
  'listSizes',
  'chooseSize',
  'resolveImage',
  'ensureNetwork',
  'deleteNetwork',
  'createMachines',
  'listMachines',
  'getMachine',
  'deleteMachines',
  'startMachine',
  'stopMachine',
] as const satisfies readonly (keyof Provider)[];

export interface ProviderCallEvent {
  readonly provider: string;
  readonly method: (typeof METHODS)[number];
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: unknown;
}

/**
 * Wraps every method of `provider` in {@link retry}: retryable errors (throttling,
 * 5xx, dropped calls) are tried again with full-jitter backoff, others — a wait that
 * ran out of its time among them — pass straight
 * through. Safe for `createMachines` because of rule 1: a retry with the same
 * idempotency key finds what the first try made.
 *
 * Cross-cutting behaviour lives here once, not in each provider (as smithy's
 * middleware does for the AWS SDK).
 *
 * @example
 * ```ts
 * const p = withRetries(rawProvider, { attempts: 5, onRetry: (e) => console.log(e) });
 * ```
 */
export function withRetries<P extends Provider>(
  provider: P,
  options: Omit<RetryOptions, 'onRetry' | 'signal'> & {
    onRetry?: (event: ProviderCallEvent) => void;
  } = {},
): P {
  const { onRetry, ...retryOptions } = options;
  const wrappers = new Map<PropertyKey, (...args: unknown[]) => Promise<unknown>>();
  for (const method of METHODS) {
    const original = Reflect.get(provider, method, provider) as (
      ...args: unknown[]
    ) => Promise<unknown>;
    wrappers.set(method, (...args: unknown[]) => {
      const last = args[args.length - 1];
      const signal =
        typeof last === 'object' && last !== null && 'signal' in last
          ? (last as { signal?: AbortSignal }).signal
          : undefined;
      return retry(() => original.apply(provider, args), {
        ...retryOptions,
        ...(signal === undefined ? {} : { signal }),
        onRetry: (info) => onRetry?.({ provider: provider.name, method, ...info }),
      }).catch((err: unknown) => {
        // Every kumo error out of a provider names it, whichever method found the problem.
        throw withProvider(err, provider.name);
      });
    });
  }
  // NOTE: a Proxy rather than a subclass or prototype copy, so getters and #private
  // fields of the wrapped provider keep working and extra members (sim's `control`)
  // stay reachable.
  return new Proxy(provider, {
    get(target, prop) {
      const wrapper = wrappers.get(prop);
      if (wrapper !== undefined) return wrapper;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}
