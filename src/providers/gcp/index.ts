/**
 * `kumo/gcp`: Compute Engine through the official `@google-cloud/compute` client
 * (HTTP/JSON transport). Credentials are Application Default Credentials unless given:
 * GOOGLE_APPLICATION_CREDENTIALS, the gcloud ADC file, or the metadata server.
 *
 * @example
 * ```ts
 * import { gcp } from 'kumo/gcp';
 * const cloud = gcp({ project: 'my-project', region: 'us-central1' });
 * const [m] = await cloud.createMachines({
 *   spec: { resources: { cpus: 3, memoryMiB: 5120 }, image: 'ubuntu-22.04' },
 *   count: 1,
 *   idempotencyKey: 'web-2024-06-01',
 * });
 * console.log(m.providerId, m.size); // us-central1-b/default-1a2b3c4d-0 e2-custom-4-5120
 * ```
 */
import {
  createRateLimiter,
  parse,
  systemClock,
  withRetries,
  type Clock,
} from '../../core/index.js';
import { ComputeApi } from './gcp-compute.js';
import { clientOptions, GcpOptionsSchema, type GcpOptions } from './gcp-config.js';
import { GcpProvider } from './gcp-provider.js';

export type { GcpOptions, GcpConfig, GcpAuthClient } from './gcp-config.js';
export { credentialSource } from './gcp-config.js';
export type { GcpProvider, GcpSizeQuery } from './gcp-provider.js';
export { checkCustomType, proposeCustomType, CUSTOM_FAMILIES } from './gcp-custom-types.js';
export { GCP_IMAGE_FAMILIES } from './gcp-images.js';
export { requestIdFor } from './gcp-ids.js';

/** Test, bench and simulation hooks; not needed in normal use. */
export interface GcpDeps {
  /** Time for retries and waits; a VirtualClock in simulations. */
  readonly clock?: Clock;
  /** Jitter source of the retries, for repeatable runs. */
  readonly random?: () => number;
  /** Told of every Compute call made, by method. */
  readonly onCall?: (method: string) => void;
}

/**
 * Creates the Compute Engine provider for one project and region, with retries
 * (jittered backoff on throttling, 5xx and dropped connections — the client library
 * retries none of those over REST) and a rate limiter under the project's per-minute
 * query quota. Options are checked up front; a bad one throws a ValidationError
 * naming it.
 */
export function gcp(options: GcpOptions, deps: GcpDeps = {}): GcpProvider {
  const config = parse(GcpOptionsSchema, options, 'gcp options');
  const clock = deps.clock ?? systemClock;
  const { queriesPerMinute, concurrency, waitConcurrency } = config.rateLimit;
  // Four fifths of the budget for ordinary calls, the rest for operation waits, per second.
  const perSecond = queriesPerMinute / 60;
  const limiter = createRateLimiter({
    concurrency,
    intervalCap: Math.max(1, Math.floor(perSecond * 0.8)),
    intervalMs: 1000,
    clock,
  });
  const waitLimiter = createRateLimiter({
    concurrency: waitConcurrency,
    intervalCap: Math.max(1, Math.floor(perSecond * 0.2)),
    intervalMs: 1000,
    clock,
  });
  const retryOptions = {
    attempts: config.retry.attempts,
    baseMs: config.retry.baseMs,
    maxMs: config.retry.maxMs,
    ...(deps.random ? { random: deps.random } : {}),
  };
  const api = new ComputeApi(clientOptions(config), {
    provider: config.name,
    clock,
    limiter,
    waitLimiter,
    waitRetry: { ...retryOptions, attempts: Math.min(4, config.retry.attempts) },
    // A create's insert is retried in place with its requestId, over the whole budget.
    requestRetry: retryOptions,
    ...(deps.onCall ? { onCall: deps.onCall } : {}),
  });
  return withRetries(new GcpProvider(config, api, clock), { clock, ...retryOptions });
}
