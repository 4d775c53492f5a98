import { z } from 'zod';

const Rate = z.number().min(0).max(1);

/** Latencies of the simulated cloud in ms; each is jittered ±50 % by the seeded PRNG. */
export const SimLatencySchema = z
  .object({
    /** Time an API call takes. */
    apiMs: z.number().nonnegative().default(5),
    /** pending → running. */
    bootMs: z.number().nonnegative().default(1500),
    /** stopping → stopped. */
    stopMs: z.number().nonnegative().default(500),
    /** A deleted machine reports terminated at once (as EC2 shutting-down does) but holds zone capacity and quota this long. */
    deleteMs: z.number().nonnegative().default(500),
  })
  .strict();

/** Probabilities per API call of each fault, drawn from the seeded PRNG. */
export const SimFaultRatesSchema = z
  .object({
    throttle: Rate.default(0),
    transient: Rate.default(0),
    capacity: Rate.default(0),
    timeoutAfterSuccess: Rate.default(0),
    /** Chance that a spot machine is reclaimed some time after it boots. */
    spotInterruption: Rate.default(0),
  })
  .strict();

export const SimOptionsSchema = z
  .object({
    /** Name the provider is registered under. Default `sim`. */
    name: z.string().min(1).default('sim'),
    seed: z.number().int().default(1),
    region: z.string().min(1).default('sim-1'),
    zones: z.array(z.string().min(1)).min(1).optional(),
    latency: SimLatencySchema.default({ apiMs: 5, bootMs: 1500, stopMs: 500, deleteMs: 500 }),
    faults: SimFaultRatesSchema.default({
      throttle: 0,
      transient: 0,
      capacity: 0,
      timeoutAfterSuccess: 0,
      spotInterruption: 0,
    }),
    /** vCPUs each zone can host at once. */
    zoneCapacityCpus: z.number().positive().default(1_000_000),
    /** Region-wide account limits. */
    quota: z
      .object({
        machines: z.number().int().positive().default(100_000),
        cpus: z.number().positive().default(10_000_000),
      })
      .strict()
      .default({ machines: 100_000, cpus: 10_000_000 }),
    /** The cloud's API rate limit: a token bucket refilled at `perSecond` up to `burst`. */
    apiRate: z
      .object({
        perSecond: z.number().positive().default(100),
        burst: z.number().int().positive().default(200),
      })
      .strict()
      .default({ perSecond: 100, burst: 200 }),
    /** Client side: API calls in flight at once. */
    concurrency: z.number().int().positive().default(32),
    /** Keep the simulated cloud's state in this JSON file, so separate processes see the same cloud. */
    statePath: z.string().min(1).optional(),
    /** Retry attempts of the client (the `withRetries` wrapper). */
    retryAttempts: z.number().int().min(1).default(8),
  })
  .strict();

export type SimOptions = z.input<typeof SimOptionsSchema>;
export type SimConfig = z.output<typeof SimOptionsSchema>;
export type SimFaultKind = keyof z.output<typeof SimFaultRatesSchema>;
