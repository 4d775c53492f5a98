/**
 * `kumo/sim`: the embedded default cloud. In process, deterministic under a seed,
 * with latency, capacity, quotas, rate limits and injectable faults, and optional
 * persistence to a file so separate processes see one cloud.
 *
 * @example
 * ```ts
 * import { sim } from 'kumo/sim';
 * const cloud = sim({ seed: 1 });
 * const [m] = await cloud.createMachines({ spec: { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04' }, count: 1, idempotencyKey: 'demo-1' });
 * console.log(m.id, m.size, m.state); // default-…-0 cpu-2x4 running
 * ```
 */
import {
  createRateLimiter,
  parse,
  seededRandom,
  systemClock,
  withRetries,
  type Clock,
  type Provider,
} from '../../core/index.js';
import { SimCloud } from './sim-cloud.js';
import { SimOptionsSchema, type SimFaultKind, type SimOptions } from './sim-config.js';
import { SimProvider } from './sim-provider.js';

export type { SimOptions, SimFaultKind } from './sim-config.js';
export { simCatalog, SIM_IMAGES } from './sim-catalog.js';

/** Test and simulation hooks into the simulated cloud (not part of the provider contract). */
export interface SimControl {
  /** Makes the next `times` calls that can have it fail with `kind`. */
  inject(kind: SimFaultKind, times?: number): void;
  /** Reclaims a spot machine now. */
  interrupt(providerId: string): void;
  /** API calls made so far, by operation. */
  calls(): Record<string, number>;
  readonly clock: Clock;
}

export interface SimProviderHandle extends Provider {
  readonly control: SimControl;
  readonly zones: readonly string[];
}

/**
 * Creates a simulated cloud and its provider. `clock` defaults to the wall clock;
 * pass a `VirtualClock` for simulations and tests.
 */
export function sim(options: SimOptions = {}, deps: { clock?: Clock } = {}): SimProviderHandle {
  const config = parse(SimOptionsSchema, options, 'sim options');
  const clock = deps.clock ?? systemClock;
  const random = seededRandom(config.seed);
  const zones = config.zones ?? ['a', 'b', 'c'].map((z) => `${config.region}${z}`);
  const cloud = new SimCloud(config, zones, clock, random);
  const raw = new SimProvider(
    config,
    zones,
    cloud,
    clock,
    createRateLimiter({
      concurrency: config.concurrency,
      // The client paces itself just under the cloud's documented rate, as a real provider does.
      intervalCap: config.apiRate.perSecond * 0.9,
      burst: Math.max(1, Math.floor(config.apiRate.burst / 2)),
      clock,
    }),
  );
  const control: SimControl = {
    inject: (kind, times) => cloud.inject(kind, times),
    interrupt: (id) => cloud.interrupt(id),
    calls: () => Object.fromEntries(cloud.calls),
    clock,
  };
  const wrapped = withRetries(raw, {
    clock,
    attempts: config.retryAttempts,
    random: seededRandom(config.seed + 1),
  });
  return Object.assign(wrapped, { control });
}
