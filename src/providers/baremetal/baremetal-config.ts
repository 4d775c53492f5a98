/**
 * Options of the bare-metal provider, checked with zod: where Ironic is, how to
 * authenticate, which images exist (bare metal has no image service of its own
 * here: an image is a URL and a checksum) and how to pick and wait on nodes.
 */
import { z } from 'zod';
import { ArchSchema, LabelsSchema } from '../../core/index.js';

const EnvNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name, such as IRONIC_PASSWORD');

/** Custom traits are `CUSTOM_` and upper-case letters, digits and `_`; standard ones (os-traits) are upper-case too. */
export const TraitSchema = z
  .string()
  .regex(
    /^[A-Z][A-Z0-9_]{0,254}$/,
    'traits are upper-case letters, digits and "_", e.g. CUSTOM_GPU_A100',
  );

/** `sha256:<hex>`, `sha512:<hex>`, `md5:<hex>`, or a bare MD5 hex (Ironic's `image_checksum`). */
export const ChecksumSchema = z
  .string()
  .regex(
    /^((md5|sha256|sha512):)?[0-9a-f]{32,128}$/i,
    'checksum is "sha256:<hex>", "sha512:<hex>", "md5:<hex>" or an MD5 hex digest',
  );

/** One deployable image: what Ironic's `instance_info` needs. */
export const BaremetalImageSchema = z
  .object({
    /** `image_source`: an http(s) or file URL, or a Glance image UUID where Ironic has Glance. */
    url: z
      .string()
      .min(1)
      .refine(
        (v) => /^(https?|file):\/\//.test(v) || /^[0-9a-f-]{36}$/i.test(v),
        'url is an http(s):// or file:// URL, or a Glance image UUID',
      ),
    checksum: ChecksumSchema.optional(),
    /** `whole-disk` (default) or `partition` (needs kernel and ramdisk). */
    type: z.enum(['whole-disk', 'partition']).default('whole-disk'),
    kernel: z.string().min(1).optional(),
    ramdisk: z.string().min(1).optional(),
    os: z.string().min(1).optional(),
    version: z.string().min(1).optional(),
    arch: ArchSchema.default('x86_64'),
    /** `instance_info.capabilities` (e.g. `{ boot_mode: 'uefi' }`). */
    capabilities: z.record(z.string(), z.string()).default({}),
  })
  .strict()
  .refine((i) => i.type === 'whole-disk' || (i.kernel !== undefined && i.ramdisk !== undefined), {
    message: 'a partition image needs kernel and ramdisk',
    path: ['kernel'],
  });
export type BaremetalImage = z.output<typeof BaremetalImageSchema>;

const KeystoneAuthSchema = z
  .object({
    type: z.literal('keystone'),
    authUrl: z.url('auth.authUrl must be an http(s) URL such as http://127.0.0.1:5000/v3'),
    username: z.string().min(1).optional(),
    userId: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    userDomainName: z.string().min(1).default('Default'),
    projectName: z.string().min(1).optional(),
    projectId: z.string().min(1).optional(),
    projectDomainName: z.string().min(1).default('Default'),
    systemScope: z.literal('all').optional(),
    applicationCredentialId: z.string().min(1).optional(),
    applicationCredentialSecret: z.string().min(1).optional(),
    /** The environment variable holding the password (what spec files use). */
    passwordEnv: EnvNameSchema.optional(),
    /** The environment variable holding the application credential's secret. */
    applicationCredentialSecretEnv: EnvNameSchema.optional(),
    region: z.string().min(1).optional(),
    interface: z.enum(['public', 'internal', 'admin']).default('public'),
  })
  .strict()
  .superRefine((a, ctx) => {
    const appCred = a.applicationCredentialId !== undefined;
    if (
      appCred &&
      a.applicationCredentialSecret === undefined &&
      a.applicationCredentialSecretEnv === undefined
    )
      ctx.addIssue({
        code: 'custom',
        path: ['applicationCredentialSecret'],
        message: 'needed with applicationCredentialId (or applicationCredentialSecretEnv)',
      });
    if (!appCred && a.password === undefined && a.passwordEnv === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['password'],
        message:
          'give password or passwordEnv (or applicationCredentialId and applicationCredentialSecret)',
      });
    if (!appCred && a.username === undefined && a.userId === undefined)
      ctx.addIssue({ code: 'custom', path: ['username'], message: 'give username or userId' });
  });

export const BaremetalAuthSchema = z.discriminatedUnion('type', [
  /** Standalone Ironic with `auth_strategy = noauth`. */
  z.object({ type: z.literal('none') }).strict(),
  /** Ironic with `auth_strategy = http_basic`. */
  z
    .object({
      type: z.literal('basic'),
      username: z.string().min(1),
      password: z.string().min(1).optional(),
      /** The environment variable holding the password (what spec files use). */
      passwordEnv: EnvNameSchema.optional(),
    })
    .strict()
    .refine((a) => a.password !== undefined || a.passwordEnv !== undefined, {
      message: 'give password or passwordEnv',
      path: ['password'],
    }),
  /** A Keystone v3 token (the catalog's `baremetal` endpoint unless `endpoint` is given). */
  KeystoneAuthSchema,
]);
export type BaremetalAuth = z.output<typeof BaremetalAuthSchema>;

export const BaremetalOptionsSchema = z
  .object({
    /** Name the provider is registered under; set on every machine. Default `baremetal`. */
    name: z.string().min(1).max(63).default('baremetal'),
    /** Ironic's root URL. Required unless Keystone auth finds it in the catalog. */
    endpoint: z.url('endpoint must be an http(s) URL such as http://127.0.0.1:6385').optional(),
    auth: BaremetalAuthSchema.default({ type: 'none' }),
    /** Speak exactly this API microversion instead of the newest both sides know. */
    microversion: z
      .string()
      .regex(/^1\.\d+$/, 'microversion is like "1.82"')
      .optional(),
    /**
     * How nodes are claimed: `allocations` (the server picks and reserves, API ≥ 1.52),
     * `reserve` (kumo sets `instance_uuid` itself, which Ironic refuses on a node that
     * has one), or `auto` (allocations where the server has them).
     */
    claim: z.enum(['auto', 'allocations', 'reserve']).default('auto'),
    /** What `region` reads on machines and sizes. */
    region: z.string().min(1).default('onprem'),
    /** The one zone bare metal offers. */
    zone: z.string().min(1).default('default'),
    /** Images by alias (`ubuntu-22.04`) or by any name you choose. */
    images: z.record(z.string().min(1), BaremetalImageSchema).default({}),
    /** Traits every node kumo picks must have (e.g. `CUSTOM_KUMO_POOL`). */
    requiredTraits: z.array(TraitSchema).default([]),
    /** Resource class of nodes that have none. Default `baremetal` (Ironic's own default). */
    defaultResourceClass: z.string().min(1).default('baremetal'),
    /** The provisioning network machines attach to; bare metal cannot create networks. */
    network: z
      .object({
        name: z.string().min(1),
        cidr: z.string().min(1),
      })
      .strict()
      .optional(),
    /** API calls in flight at once. Default 8. */
    concurrency: z.number().int().min(1).max(256).default(8),
    /** API calls started per second at most. Default 50. */
    ratePerSecond: z.number().positive().max(10_000).default(50),
    /** Per-request timeout. Default 30 s. */
    requestTimeoutMs: z.number().int().min(100).default(30_000),
    /** First pause between state polls. Default 1 s. */
    pollIntervalMs: z.number().int().min(10).default(1000),
    /** Longest pause between state polls. Default 5 s. */
    maxPollIntervalMs: z.number().int().min(10).default(5000),
    /** Longest wait for a deploy, unless `createMachines` says otherwise. Default 30 minutes. */
    deployTimeoutMs: z
      .number()
      .int()
      .min(1000)
      .default(30 * 60_000),
    /** Tries per call in the retry wrapper. Default 6. */
    retryAttempts: z.number().int().min(1).max(20).default(6),
    /** Tries of one call refused with 409 "node locked" before giving up. Default 8. */
    lockRetryAttempts: z.number().int().min(1).max(50).default(8),
    /** Labels added to every machine this provider makes. */
    labels: LabelsSchema.default({}),
    /** PEM bundle of extra CAs to trust (read), and the lab-only switch to trust anything. */
    ca: z.string().min(1).optional(),
    insecure: z.boolean().default(false),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.endpoint === undefined && o.auth.type !== 'keystone')
      ctx.addIssue({
        code: 'custom',
        path: ['endpoint'],
        message:
          'endpoint is required unless auth.type is keystone (which finds it in the catalog)',
      });
    if (
      o.claim === 'allocations' &&
      o.microversion !== undefined &&
      /^1\.(\d|[1-4]\d|5[01])$/.test(o.microversion)
    )
      ctx.addIssue({
        code: 'custom',
        path: ['claim'],
        message: `allocations need microversion 1.52 or later, not ${o.microversion}`,
      });
  })
  .transform((o, ctx) => ({ ...o, auth: secretsFromEnv(o.auth, ctx) }));

type ParsedAuth = z.output<typeof BaremetalAuthSchema>;

/**
 * Reads secrets given by reference (`passwordEnv`, `applicationCredentialSecretEnv`)
 * from the environment, so spec files name where a secret is and never hold it.
 */
function secretsFromEnv(auth: ParsedAuth, ctx: z.RefinementCtx): ParsedAuth {
  if (auth.type === 'none') return auth;
  const read = (name: string | undefined, key: string): string | undefined => {
    if (name === undefined) return undefined;
    const value = process.env[name];
    if (value === undefined || value === '')
      ctx.addIssue({
        code: 'custom',
        path: ['auth', key],
        message: `the environment variable ${name} is not set`,
      });
    return value;
  };
  const password = auth.password ?? read(auth.passwordEnv, 'passwordEnv');
  if (auth.type === 'basic') return { ...auth, ...(password === undefined ? {} : { password }) };
  const secret =
    auth.applicationCredentialSecret ??
    (auth.applicationCredentialId === undefined
      ? undefined
      : read(auth.applicationCredentialSecretEnv, 'applicationCredentialSecretEnv'));
  return {
    ...auth,
    ...(password === undefined ? {} : { password }),
    ...(secret === undefined ? {} : { applicationCredentialSecret: secret }),
  };
}

export type BaremetalOptions = z.input<typeof BaremetalOptionsSchema>;
export type BaremetalConfig = z.output<typeof BaremetalOptionsSchema>;
