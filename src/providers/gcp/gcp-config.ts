/**
 * Options of the GCP provider, validated with zod, and how they become options of the
 * Compute client. Credentials follow Google's order: an explicit `authClient`, an
 * explicit service-account `credentials` object or `keyFilename`, and otherwise
 * Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, the gcloud ADC
 * file, the metadata server), which google-auth-library resolves on first use.
 */
import type { InstancesClient } from '@google-cloud/compute/build/src/v1/index.js';
import { z } from 'zod';

/** Options the official Compute clients take (from the library's own type, so they stay in step). */
export type ComputeClientOptions = NonNullable<ConstructorParameters<typeof InstancesClient>[0]>;
/** A google-auth-library client (OAuth2Client, GoogleAuth, Impersonated, …). */
export type GcpAuthClient = NonNullable<ComputeClientOptions['authClient']>;

const REGION = /^[a-z]+-[a-z]+[0-9]+$/;
const ZONE = /^[a-z]+-[a-z]+[0-9]+-[a-z]$/;

function isAuthClient(value: unknown): value is GcpAuthClient {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { getRequestHeaders?: unknown }).getRequestHeaders === 'function'
  );
}

/** The fields of a service-account key file kumo needs; the others are kept for the library. */
const ServiceAccountSchema = z.looseObject({
  client_email: z.string().email('credentials.client_email must be the service account e-mail'),
  private_key: z
    .string()
    .includes('PRIVATE KEY', { message: 'credentials.private_key must be a PEM private key' }),
  project_id: z.string().optional(),
});

export const GcpOptionsSchema = z
  .object({
    /** Name the provider is registered under. Default `gcp`. */
    name: z.string().min(1).default('gcp'),
    /** Project id; when absent, taken from the credentials (key file, GOOGLE_CLOUD_PROJECT, gcloud, metadata server). */
    project: z
      .string()
      .regex(
        /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/,
        'project ids are 6–30 lowercase letters, digits and "-", starting with a letter',
      )
      .optional(),
    region: z
      .string({ error: 'region is required: a Compute Engine region such as us-central1' })
      .regex(REGION, 'region is a Compute Engine region such as us-central1'),
    /** Zones to use, all in `region`; by default every zone of the region that is UP. */
    zones: z.array(z.string().regex(ZONE, 'zones look like us-central1-a')).min(1).optional(),
    /** Explicit service-account key (the parsed JSON key file). */
    credentials: ServiceAccountSchema.optional(),
    /** Path of a service-account key file. */
    keyFilename: z.string().min(1).optional(),
    /** Any google-auth-library client (user credentials, impersonation, workload identity federation). */
    authClient: z
      .custom<GcpAuthClient>(
        isAuthClient,
        'authClient must be a google-auth-library client (an object with getRequestHeaders)',
      )
      .optional(),
    /** API endpoint: a host (`compute.googleapis.com`), `host:port`, or a URL such as `http://127.0.0.1:8080` for an emulator. */
    apiEndpoint: z
      .string()
      .regex(
        /^(https?:\/\/)?[A-Za-z0-9.-]+(:\d{1,5})?\/?$/,
        'apiEndpoint is a host, host:port or http(s)://host[:port]',
      )
      .optional(),
    /** VPC network for machines whose spec names none. */
    network: z.string().min(1).default('default'),
    /**
     * When a zone has no capacity (ZONE_RESOURCE_POOL_EXHAUSTED) and the spec names no
     * zone, try the region's other zones before failing. Off by default: the error then
     * reaches the caller (a pool or burst policy), which decides where to go instead.
     */
    zoneFallback: z.boolean().default(false),
    /** Give machines an ephemeral external IPv4 address (machines in a subnet declared `public: false` never get one). */
    externalIp: z.boolean().default(true),
    /** Boot disk: type and the size used when the request asks for no disk. */
    bootDisk: z
      .object({
        type: z
          .enum(['pd-balanced', 'pd-ssd', 'pd-standard', 'hyperdisk-balanced'])
          .default('pd-balanced'),
        defaultGiB: z.number().int().min(10).max(65536).default(10),
      })
      .strict()
      .default({ type: 'pd-balanced', defaultGiB: 10 }),
    /** Service account the machines run as, with its OAuth scopes; absent means none attached. */
    serviceAccount: z
      .object({
        email: z.string().min(1),
        scopes: z
          .array(z.string().url())
          .default(['https://www.googleapis.com/auth/cloud-platform']),
      })
      .strict()
      .optional(),
    /**
     * Client-side pacing, kept under the project's "Queries per minute" quota (1,500 by
     * default): `concurrency` ordinary calls and `waitConcurrency` operation waits at once.
     */
    rateLimit: z
      .object({
        queriesPerMinute: z.number().int().min(6).default(1200),
        concurrency: z.number().int().min(1).default(16),
        waitConcurrency: z.number().int().min(1).default(64),
      })
      .strict()
      .default({ queriesPerMinute: 1200, concurrency: 16, waitConcurrency: 64 }),
    /** kumo's retries (the library retries no 429 or 503 over REST, so these are the only ones). */
    retry: z
      .object({
        attempts: z.number().int().min(1).max(20).default(8),
        baseMs: z.number().int().min(0).default(500),
        maxMs: z.number().int().min(0).default(30_000),
      })
      .strict()
      .default({ attempts: 8, baseMs: 500, maxMs: 30_000 }),
    /** How long sizes, zones and accelerator lists are cached. */
    catalogTtlMs: z.number().int().min(0).default(3_600_000),
    /** Longest wait for one operation (insert, delete, start, stop, network changes). */
    operationTimeoutMs: z
      .number()
      .int()
      .min(1000)
      .default(15 * 60_000),
  })
  .strict()
  .superRefine((o, ctx) => {
    const given = (['credentials', 'keyFilename', 'authClient'] as const).filter(
      (k) => o[k] !== undefined,
    );
    if (given.length > 1)
      ctx.addIssue({
        code: 'custom',
        path: [given[1]!],
        message: `give one of credentials, keyFilename and authClient, not ${given.join(' and ')}`,
      });
    if (!REGION.test(o.region)) return;
    o.zones?.forEach((z, i) => {
      if (!z.startsWith(`${o.region}-`))
        ctx.addIssue({
          code: 'custom',
          path: ['zones', i],
          message: `zone ${z} is not in region ${o.region}`,
        });
    });
  });

export type GcpOptions = z.input<typeof GcpOptionsSchema>;
export type GcpConfig = z.output<typeof GcpOptionsSchema>;

/**
 * Options for every Compute client of one provider: credentials and endpoint. The
 * HTTP/JSON transport is the library's default for Compute and is kept (nothing here
 * sets `fallback: false`, which would switch to gRPC).
 */
export function clientOptions(config: GcpConfig): ComputeClientOptions {
  const options: ComputeClientOptions = {};
  if (config.authClient !== undefined) options.authClient = config.authClient;
  else if (config.credentials !== undefined) options.credentials = config.credentials;
  else if (config.keyFilename !== undefined) options.keyFilename = config.keyFilename;
  const project = config.project ?? config.credentials?.project_id;
  if (project !== undefined) options.projectId = project;
  if (config.apiEndpoint !== undefined) {
    const url = new URL(
      /^https?:\/\//.test(config.apiEndpoint)
        ? config.apiEndpoint
        : `https://${config.apiEndpoint}`,
    );
    options.apiEndpoint = url.hostname;
    options.protocol = url.protocol.replace(':', '');
    if (url.port !== '') options.port = Number(url.port);
  }
  return options;
}

/** Describes where credentials come from, for `kumo` output and errors (never the secret itself). */
export function credentialSource(config: GcpConfig): string {
  if (config.authClient !== undefined) return 'the authClient option';
  if (config.credentials !== undefined)
    return `service account ${config.credentials.client_email} (credentials option)`;
  if (config.keyFilename !== undefined) return `key file ${config.keyFilename}`;
  return 'Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud ADC file, or the metadata server)';
}
