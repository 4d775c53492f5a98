/**
 * `kumo/aws`: machines on Amazon EC2 through the official SDK (@aws-sdk/client-ec2).
 *
 * Credentials come from the SDK's default chain — environment variables, the shared
 * config and credentials files (`profile`, SSO profiles included), container and
 * instance metadata — unless given explicitly. Every EC2 request is paced by EC2's
 * documented per-API rate limits and retried per call; the provider as a whole is
 * wrapped in kumo's `withRetries`.
 *
 * @example
 * ```ts
 * import { aws } from 'kumo/aws';
 * const cloud = aws({ region: 'us-east-1', profile: 'prod' });
 * const machines = await cloud.createMachines({
 *   spec: { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04' },
 *   count: 3,
 *   idempotencyKey: 'web-2026-01-01',
 * });
 * ```
 */
import {
  parse,
  systemClock,
  withRetries,
  type Clock,
  type ProviderCallEvent,
  type Random,
} from '../../core/index.js';
import { Ec2 } from './aws-client.js';
import { AwsOptionsSchema, type AwsOptions } from './aws-config.js';
import { AwsProvider } from './aws-provider.js';

export type { AwsOptions, AwsConfig, AwsCredentialsProvider } from './aws-config.js';
export { AwsProvider } from './aws-provider.js';
export { onDemandPrice, PRICES_SOURCE } from './aws-prices.js';
export { EC2_IMAGE_SOURCES, IMAGE_OWNERS } from './aws-images.js';
export { toKumoError as fromEc2Error } from './aws-errors.js';

/** Injected for tests, simulations and benchmarks: time and randomness. */
export interface AwsDeps {
  /** Every wait (pacing, retries, polling) runs on it. Default: the wall clock. */
  readonly clock?: Clock;
  /** Jitter source. Default: `Math.random`. */
  readonly random?: Random;
  /** Told of every method-level retry. */
  readonly onRetry?: (event: ProviderCallEvent) => void;
}

/**
 * Creates the AWS provider, wrapped with kumo's method-level retries.
 *
 * @throws ValidationError naming each bad option.
 */
export function aws(options: AwsOptions, deps: AwsDeps = {}): AwsProvider {
  const config = parse(AwsOptionsSchema, options, 'aws options');
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? Math.random;
  const ec2 = new Ec2(config, { clock, random });
  const provider = new AwsProvider(config, ec2, { clock, random });
  return withRetries(provider, {
    clock,
    attempts: config.methodAttempts,
    random,
    ...(deps.onRetry === undefined ? {} : { onRetry: deps.onRetry }),
  });
}
