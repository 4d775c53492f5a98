/**
 * The options of `aws(…)`, checked with zod at the boundary. Credentials are not an
 * option by default: the SDK's default chain finds them (environment, shared config
 * and credentials files with `profile`, SSO, container and instance metadata), the
 * way every AWS tool does.
 */
import { z } from 'zod';

/** EC2's documented API limits, per API (see `aws-limits.ts`); override any of them. */
export const BucketLimitSchema = z
  .object({
    /** Tokens the bucket holds (the burst). */
    size: z.number().positive(),
    /** Tokens added per second. */
    refillPerSecond: z.number().positive(),
  })
  .strict();

const StaticCredentialsSchema = z
  .object({
    accessKeyId: z
      .string()
      .min(16, 'accessKeyId looks too short for an AWS access key id')
      .max(128),
    secretAccessKey: z.string().min(1, 'secretAccessKey cannot be empty'),
    sessionToken: z.string().min(1).optional(),
  })
  .strict();

/** A credentials provider function as the SDK takes it (`fromSSO()`, `fromTemporaryCredentials()`, …). */
export type AwsCredentialsProvider = () => Promise<{
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}>;

const CredentialsProviderSchema = z.custom<AwsCredentialsProvider>(
  (v) => typeof v === 'function',
  'must be a function returning credentials',
);

export const AwsOptionsSchema = z
  .object({
    /** Name the provider is registered under; set on every machine. Default `aws`. */
    name: z.string().min(1).max(63).default('aws'),
    /** The region, e.g. `us-east-1`. */
    region: z
      .string({ error: 'region is required: an AWS region such as us-east-1' })
      .regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/, 'must be an AWS region such as us-east-1'),
    /** A profile of the shared config files (`~/.aws/config`, `~/.aws/credentials`), SSO profiles included. */
    profile: z.string().min(1).optional(),
    /** Explicit credentials (static or a provider function); absent means the SDK's default chain. */
    credentials: z.union([StaticCredentialsSchema, CredentialsProviderSchema]).optional(),
    /** Another endpoint (a VPC interface endpoint, a FIPS endpoint, a local emulator). */
    endpoint: z
      .url({ message: 'endpoint must be a URL such as https://ec2.us-east-1.amazonaws.com' })
      .optional(),
    /** `adaptive` also slows the client after throttling, as the SDK's adaptive mode does. */
    retryMode: z.enum(['adaptive', 'standard']).default('adaptive'),
    /** Tries per EC2 call, the first included (the SDK's `maxAttempts`). */
    maxAttempts: z.number().int().min(1).max(20).default(3),
    /** Tries per provider method after the per-call retries gave up (`withRetries`). */
    methodAttempts: z.number().int().min(1).max(20).default(4),
    /** Longest one HTTP request may take. */
    requestTimeoutMs: z.number().int().positive().default(30_000),
    /** EC2 requests in flight at once, per API. */
    concurrency: z.number().int().positive().max(1024).default(32),
    /** Pace at this fraction of EC2's documented rates (lower it when other tools share the account). */
    apiRateScale: z.number().positive().max(1).default(1),
    /** Per-API overrides of the documented request buckets, e.g. `{ CreateTags: { size: 200, refillPerSecond: 20 } }` after a limit increase. */
    rateLimits: z
      .record(
        z.string().regex(/^[A-Z][A-Za-z0-9]+$/, 'keys are EC2 API names such as CreateTags'),
        BucketLimitSchema,
      )
      .default({}),
    /** Instances per RunInstances call (MinCount = MaxCount). Keep it unchanged while a request may be retried. */
    chunkSize: z.number().int().min(1).max(1000).default(100),
    /** On InsufficientInstanceCapacity: `fail`, or launch the chunk in the next zone offering the size. */
    capacityFallback: z.enum(['fail', 'next-zone']).default('fail'),
    /** How long the instance-type catalog is cached. */
    sizeCacheTtlMs: z.number().int().nonnegative().default(3_600_000),
    /** How long spot prices are cached. */
    spotPriceTtlMs: z.number().int().nonnegative().default(300_000),
    /** On-demand USD/hour by instance type, over the bundled table (e.g. negotiated prices, other regions). */
    prices: z.record(z.string().min(1), z.number().nonnegative()).default({}),
    /** Pause between the batched DescribeInstances rounds while waiting for state. */
    pollIntervalMs: z.number().int().positive().default(2000),
    /** Offer previous-generation instance types too. */
    includePreviousGeneration: z.boolean().default(false),
  })
  .strict();

export type AwsOptions = z.input<typeof AwsOptionsSchema>;
export type AwsConfig = z.output<typeof AwsOptionsSchema>;
