/**
 * The EC2 client kumo talks through: the official SDK, configured the AWS way
 * (region, default credential chain or a profile, optional endpoint), with two
 * pieces of kumo middleware — per-call retries on kumo's clock, and pacing of every
 * attempt by EC2's documented per-API buckets — and one `call` that turns SDK errors
 * into kumo errors.
 */
import { Readable } from 'node:stream';
import { EC2Client } from '@aws-sdk/client-ec2';
import { createRateLimiter, type Clock, type Random, type RateLimiter } from '../../core/index.js';
import type { AwsConfig } from './aws-config.js';
import { CAPACITY_CODES, toKumoError } from './aws-errors.js';
import { AdaptiveGate, RESOURCE_BUCKETS, requestBucket, WeightedBucket } from './aws-limits.js';
import { AwsRetryStrategy } from './aws-retry.js';

const THROTTLE_CODES = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException']);

/** Paces EC2 requests per API: concurrency and request rate (core limiter), instance tokens, adaptive slow-down. */
export class Ec2Pacer {
  readonly #limiters = new Map<string, RateLimiter>();
  readonly #resources = new Map<string, WeightedBucket>();
  readonly #gates = new Map<string, AdaptiveGate>();
  /** HTTP attempts made, by API (retries included). */
  readonly attempts = new Map<string, number>();
  #inFlight = 0;

  constructor(
    readonly config: Pick<AwsConfig, 'concurrency' | 'apiRateScale' | 'rateLimits' | 'retryMode'>,
    readonly clock: Clock,
  ) {}

  #limiter(api: string): RateLimiter {
    let limiter = this.#limiters.get(api);
    if (limiter === undefined) {
      const bucket = requestBucket(api, this.config.rateLimits);
      const perSecond = bucket.refillPerSecond * this.config.apiRateScale;
      limiter = createRateLimiter({
        concurrency: this.config.concurrency,
        intervalCap: perSecond,
        intervalMs: 1000,
        burst: Math.max(1, Math.floor(bucket.size * this.config.apiRateScale)),
        clock: this.clock,
      });
      this.#limiters.set(api, limiter);
    }
    return limiter;
  }

  #gate(api: string): AdaptiveGate | undefined {
    if (this.config.retryMode !== 'adaptive') return undefined;
    let gate = this.#gates.get(api);
    if (gate === undefined) {
      gate = new AdaptiveGate(
        requestBucket(api, this.config.rateLimits).refillPerSecond * this.config.apiRateScale,
        this.clock,
      );
      this.#gates.set(api, gate);
    }
    return gate;
  }

  /**
   * Runs one HTTP attempt of `api`: it takes a request token and `instances` resource
   * tokens, which come back when EC2 answers with an error (nothing was launched).
   */
  async run<T>(api: string, instances: number, attempt: () => Promise<T>): Promise<T> {
    const resourceLimit = RESOURCE_BUCKETS[api];
    let bucket: WeightedBucket | undefined;
    if (resourceLimit !== undefined && instances > 0) {
      bucket = this.#resources.get(api);
      if (bucket === undefined) {
        bucket = new WeightedBucket(
          {
            size: resourceLimit.size,
            refillPerSecond: resourceLimit.refillPerSecond * this.config.apiRateScale,
          },
          this.clock,
        );
        this.#resources.set(api, bucket);
      }
      await bucket.take(instances);
    }
    const gate = this.#gate(api);
    await gate?.pass();
    return this.#limiter(api).run(async () => {
      this.attempts.set(api, (this.attempts.get(api) ?? 0) + 1);
      this.#inFlight += 1;
      try {
        const out = await attempt();
        gate?.succeeded();
        return out;
      } catch (err) {
        if (err instanceof Error && THROTTLE_CODES.has(err.name)) gate?.throttled();
        // An answer from EC2 (any status) means nothing was launched; a dropped
        // connection may have launched, so its tokens stay spent.
        if (bucket !== undefined && isServiceAnswer(err)) bucket.refund(instances);
        throw err;
      } finally {
        this.#inFlight -= 1;
      }
    });
  }

  /** HTTP attempts under way now (a simulation's clock waits for them before moving). */
  get inFlight(): number {
    return this.#inFlight;
  }
}

function isServiceAnswer(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    '$metadata' in err &&
    typeof (err as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode ===
      'number'
  );
}

function instancesOf(api: string, input: unknown): number {
  if (typeof input !== 'object' || input === null) return 0;
  const i = input as { MaxCount?: unknown; InstanceIds?: unknown };
  if (api === 'RunInstances') return typeof i.MaxCount === 'number' ? i.MaxCount : 0;
  return Array.isArray(i.InstanceIds) ? i.InstanceIds.length : 0;
}

/** The raw HTTP response as the deserialize step sees it. */
interface RawResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string | undefined>;
  body: unknown;
}

/** What kumo's middleware reads of the SDK's finalize-step arguments. */
interface PacedArgs {
  readonly input: unknown;
}

export interface Ec2Deps {
  readonly clock: Clock;
  readonly random: Random;
}

/** The SDK client plus kumo's pacing and error translation. */
export class Ec2 {
  readonly client: EC2Client;
  readonly pacer: Ec2Pacer;
  /** Per-call retries made, by EC2 code. */
  readonly retries = new Map<string, number>();

  constructor(
    readonly config: AwsConfig,
    deps: Ec2Deps,
  ) {
    this.pacer = new Ec2Pacer(config, deps.clock);
    const credentials = config.credentials;
    this.client = new EC2Client({
      region: config.region,
      ...(config.profile === undefined ? {} : { profile: config.profile }),
      // NOTE: the SDK writes bookkeeping into a static credentials object, so it gets a copy.
      ...(credentials === undefined
        ? {}
        : { credentials: typeof credentials === 'function' ? credentials : { ...credentials } }),
      ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
      maxAttempts: config.maxAttempts,
      retryStrategy: new AwsRetryStrategy({
        maxAttempts: config.maxAttempts,
        clock: deps.clock,
        random: deps.random,
        noRetryCodes: CAPACITY_CODES,
        onRetry: ({ code }) =>
          this.retries.set(code ?? 'unknown', (this.retries.get(code ?? 'unknown') ?? 0) + 1),
      }),
      requestHandler: {
        requestTimeout: config.requestTimeoutMs,
        connectionTimeout: Math.min(10_000, config.requestTimeoutMs),
      },
    });
    // Each HTTP attempt (retries included) waits its turn in the pacer; placed before
    // signing so a long wait never sends an expired signature.
    const pace =
      (next: (args: PacedArgs) => Promise<unknown>, context: { commandName?: string }) =>
      (args: PacedArgs): Promise<unknown> => {
        const api = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        return this.pacer.run(api, instancesOf(api, args.input), () => next(args));
      };
    // NOTE: EC2 puts an error's request id only in the XML body (<RequestID>), while the
    // SDK reads `$metadata.requestId` from the x-amzn-requestid header; copying it into
    // the header keeps the id every support ticket needs.
    const requestIdFromBody =
      (next: (args: unknown) => Promise<{ response: RawResponse }>) =>
      async (args: unknown): Promise<{ response: RawResponse }> => {
        const out = await next(args);
        const { response } = out;
        if (
          response.statusCode >= 400 &&
          response.headers['x-amzn-requestid'] === undefined &&
          response.body instanceof Readable
        ) {
          const chunks: Buffer[] = [];
          for await (const chunk of response.body as AsyncIterable<Buffer | string>)
            chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
          const body = Buffer.concat(chunks);
          const id = /<RequestI[Dd]>([^<]+)<\/RequestI[Dd]>/.exec(body.toString('utf8'))?.[1];
          if (id !== undefined) response.headers['x-amzn-requestid'] = id;
          response.body = Readable.from([body]);
        }
        return out;
      };
    this.client.middlewareStack.add(
      requestIdFromBody as unknown as Parameters<EC2Client['middlewareStack']['add']>[0],
      {
        step: 'deserialize',
        priority: 'low',
        name: 'kumoEc2ErrorRequestId',
        override: true,
      },
    );
    // NOTE: the stack's middleware type is a union over all steps, which a plain
    // function cannot be inferred as; this one is a finalize-step middleware.
    this.client.middlewareStack.addRelativeTo(
      pace as unknown as Parameters<EC2Client['middlewareStack']['add']>[0],
      {
        relation: 'before',
        toMiddleware: 'httpSigningMiddleware',
        name: 'kumoEc2Pacer',
        override: true,
      },
    );
  }

  /**
   * Runs one EC2 operation, translating what the SDK throws.
   *
   * @example
   * ```ts
   * const out = await ec2.call('DescribeVpcs', (c, abortSignal) => c.send(new DescribeVpcsCommand({}), { abortSignal }));
   * ```
   */
  async call<T>(
    api: string,
    run: (client: EC2Client, abortSignal: AbortSignal | undefined) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    try {
      return await run(this.client, signal);
    } catch (err) {
      throw toKumoError(err, { provider: this.config.name, action: api });
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}
