/**
 * OpenStack configuration the OpenStack way: explicit options over a `clouds.yaml`
 * entry (chosen by `cloud` or `OS_CLOUD`, merged with `secure.yaml`) or, when no cloud
 * is named, the `OS_*` environment variables. Everything is checked with zod, and
 * every problem names the field and where it could come from — never a secret's value.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { LabelsSchema, parse, ValidationError } from '../../core/index.js';

const AuthSchema = z
  .object({
    authUrl: z
      .url('auth.authUrl must be an http(s) URL such as https://keystone.example.com:5000/v3')
      .optional(),
    username: z.string().min(1).optional(),
    userId: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    userDomainName: z.string().min(1).optional(),
    userDomainId: z.string().min(1).optional(),
    projectName: z.string().min(1).optional(),
    projectId: z.string().min(1).optional(),
    projectDomainName: z.string().min(1).optional(),
    projectDomainId: z.string().min(1).optional(),
    domainName: z.string().min(1).optional(),
    domainId: z.string().min(1).optional(),
    systemScope: z.literal('all').optional(),
    applicationCredentialId: z.string().min(1).optional(),
    applicationCredentialName: z.string().min(1).optional(),
    applicationCredentialSecret: z.string().min(1).optional(),
  })
  .strict();
export type OpenStackAuthOptions = z.input<typeof AuthSchema>;

/** Options of {@link openstack}; every field optional when clouds.yaml or OS_* say it. */
export const OpenStackOptionsSchema = z
  .object({
    /** Name the provider is registered under; set on every machine. Default `openstack`. */
    name: z.string().min(1).max(63).default('openstack'),
    /** The clouds.yaml entry. Default `OS_CLOUD`. */
    cloud: z.string().min(1).optional(),
    /** A clouds.yaml to read instead of the standard search paths. Default `OS_CLIENT_CONFIG_FILE`. */
    cloudsFile: z.string().min(1).optional(),
    /** `password` or `applicationCredential`; guessed from the credentials when absent. */
    authType: z.enum(['password', 'applicationCredential']).optional(),
    auth: AuthSchema.default({}),
    region: z.string().min(1).optional(),
    interface: z.enum(['public', 'internal', 'admin']).optional(),
    /** Path of a PEM bundle of CAs to trust. */
    cacert: z.string().min(1).optional(),
    /** Skip TLS verification (labs only). */
    insecure: z.boolean().optional(),
    /** Base URLs by service type, instead of the catalog's (`{ compute: 'https://…/v2.1' }`). */
    endpointOverrides: z.record(z.string(), z.url()).optional(),
    /** Network (name or id) for machines whose spec names none. */
    network: z.string().min(1).optional(),
    /** Security groups (names or ids) added to every machine. */
    securityGroups: z.array(z.string().min(1)).default([]),
    /** External network for routers of public subnets; default the only external network. */
    externalNetwork: z.string().min(1).optional(),
    /** Newest compute microversion to negotiate (default what kumo is written for). */
    computeMicroversion: z
      .string()
      .regex(/^2\.\d+$/, 'computeMicroversion is like "2.79"')
      .optional(),
    /** API calls in flight at once. Default 8. */
    concurrency: z.number().int().min(1).max(256).default(8),
    /** API calls started per second at most. Default 20. */
    ratePerSecond: z.number().positive().max(10_000).default(20),
    /** Per-request timeout. Default 60 s. */
    requestTimeoutMs: z.number().int().min(100).default(60_000),
    /** Items per page asked for in lists (the server may cap it lower). */
    pageSize: z.number().int().min(1).max(10_000).optional(),
    /** First pause between state polls. Default 1 s. */
    pollIntervalMs: z.number().int().min(10).default(1000),
    /** Tries per call in the retry wrapper. Default 6. */
    retryAttempts: z.number().int().min(1).max(20).default(6),
    /** Labels added to everything this provider makes. */
    labels: LabelsSchema.default({}),
  })
  .strict();
export type OpenStackOptions = z.input<typeof OpenStackOptionsSchema>;
type ParsedOptions = z.output<typeof OpenStackOptionsSchema>;

/** The configuration a provider runs with, after clouds.yaml and OS_* are folded in. */
export interface OpenStackConfig extends Omit<ParsedOptions, 'auth' | 'cacert' | 'authType'> {
  readonly auth: z.output<typeof AuthSchema> & { authUrl: string };
  readonly authType: 'password' | 'applicationCredential';
  readonly interface: 'public' | 'internal' | 'admin';
  /** The CA bundle, read. */
  readonly ca: string | undefined;
  /** Where settings came from, for messages (`clouds.yaml "mycloud" (/path)`, `OS_* environment`). */
  readonly source: string;
}

/** clouds.yaml and secure.yaml in openstacksdk's order: cwd, user config dir, /etc/openstack. */
export function cloudsYamlSearchPath(
  env: Readonly<Record<string, string | undefined>>,
  cwd = process.cwd(),
): string[] {
  const home = env.HOME ?? homedir();
  const xdg = env.XDG_CONFIG_HOME ?? join(home, '.config');
  const dirs = [cwd, join(xdg, 'openstack'), join(home, '.config', 'openstack'), '/etc/openstack'];
  return [...new Set(dirs)].flatMap((d) => ['clouds.yaml', 'clouds.yml'].map((f) => join(d, f)));
}

// clouds.yaml field names (snake_case) → kumo's.
const AUTH_KEYS: Record<string, keyof z.output<typeof AuthSchema>> = {
  auth_url: 'authUrl',
  username: 'username',
  user_id: 'userId',
  password: 'password',
  user_domain_name: 'userDomainName',
  user_domain_id: 'userDomainId',
  project_name: 'projectName',
  tenant_name: 'projectName',
  project_id: 'projectId',
  tenant_id: 'projectId',
  project_domain_name: 'projectDomainName',
  project_domain_id: 'projectDomainId',
  domain_name: 'domainName',
  domain_id: 'domainId',
  system_scope: 'systemScope',
  application_credential_id: 'applicationCredentialId',
  application_credential_name: 'applicationCredentialName',
  application_credential_secret: 'applicationCredentialSecret',
};

const ENV_AUTH: Record<string, keyof z.output<typeof AuthSchema>> = {
  OS_AUTH_URL: 'authUrl',
  OS_USERNAME: 'username',
  OS_USER_ID: 'userId',
  OS_PASSWORD: 'password',
  OS_USER_DOMAIN_NAME: 'userDomainName',
  OS_USER_DOMAIN_ID: 'userDomainId',
  OS_TENANT_NAME: 'projectName',
  OS_PROJECT_NAME: 'projectName',
  OS_TENANT_ID: 'projectId',
  OS_PROJECT_ID: 'projectId',
  OS_PROJECT_DOMAIN_NAME: 'projectDomainName',
  OS_PROJECT_DOMAIN_ID: 'projectDomainId',
  OS_DOMAIN_NAME: 'domainName',
  OS_DOMAIN_ID: 'domainId',
  OS_SYSTEM_SCOPE: 'systemScope',
  OS_APPLICATION_CREDENTIAL_ID: 'applicationCredentialId',
  OS_APPLICATION_CREDENTIAL_NAME: 'applicationCredentialName',
  OS_APPLICATION_CREDENTIAL_SECRET: 'applicationCredentialSecret',
};

const CloudEntrySchema = z.looseObject({
  auth: z.record(z.string(), z.unknown()).optional(),
  auth_type: z.string().optional(),
  region_name: z.string().optional(),
  interface: z.string().optional(),
  endpoint_type: z.string().optional(),
  cacert: z.string().optional(),
  verify: z.union([z.boolean(), z.string()]).optional(),
  insecure: z.union([z.boolean(), z.string()]).optional(),
  compute_api_version: z.union([z.string(), z.number()]).optional(),
});
const CloudsFileSchema = z.looseObject({
  clouds: z.record(z.string(), CloudEntrySchema).optional(),
});
type CloudEntry = z.output<typeof CloudEntrySchema>;

/** What a clouds.yaml entry or OS_* gave, in kumo's option shape (before explicit options). */
type Partial = {
  auth: Record<string, unknown>;
  authType?: string | undefined;
  region?: string | undefined;
  interface?: string | undefined;
  cacert?: string | undefined;
  insecure?: boolean | undefined;
  computeMicroversion?: string | undefined;
  endpointOverrides: Record<string, string>;
};

function bool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return /^(1|true|yes|on)$/i.test(value.trim());
  return undefined;
}

function normaliseInterface(value: string | undefined): string | undefined {
  // Legacy spellings: `publicURL`, `internalURL`, `adminURL`.
  return value?.replace(/URL$/, '');
}

function normaliseAuthType(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (/application[_-]?credential/i.test(value)) return 'applicationCredential';
  if (/^(v3)?password$/i.test(value)) return 'password';
  return value;
}

function readYaml(path: string): unknown {
  try {
    return parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ValidationError(
      `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`,
      {
        issues: [{ path: 'cloudsFile', message: `unreadable: ${path}` }],
      },
    );
  }
}

function fromCloudEntry(entry: CloudEntry, extra: Record<string, unknown>): Partial {
  const auth: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entry.auth ?? {})) {
    const key = AUTH_KEYS[k];
    if (
      key !== undefined &&
      (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
    )
      auth[key] = String(v);
  }
  const overrides: Record<string, string> = {};
  for (const [k, v] of Object.entries(extra)) {
    const m = /^(.+)_endpoint_override$/.exec(k);
    if (m && typeof v === 'string') overrides[m[1]!.replace(/_/g, '-')] = v;
  }
  const verify = bool(entry.verify);
  const insecure = bool(entry.insecure) ?? (verify === undefined ? undefined : !verify);
  const compute =
    entry.compute_api_version === undefined ? undefined : String(entry.compute_api_version);
  return {
    auth,
    authType: normaliseAuthType(entry.auth_type),
    region: entry.region_name,
    interface: normaliseInterface(entry.interface ?? entry.endpoint_type),
    cacert: entry.cacert,
    insecure,
    computeMicroversion: compute !== undefined && /^2\.\d+$/.test(compute) ? compute : undefined,
    endpointOverrides: overrides,
  };
}

function fromEnv(env: Readonly<Record<string, string | undefined>>): Partial {
  const auth: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV_AUTH)) {
    const v = env[name];
    if (v !== undefined && v !== '') auth[key] = v;
  }
  const insecure = bool(env.OS_INSECURE);
  return {
    auth,
    authType: normaliseAuthType(env.OS_AUTH_TYPE),
    region: env.OS_REGION_NAME || undefined,
    interface: normaliseInterface(env.OS_INTERFACE || env.OS_ENDPOINT_TYPE || undefined),
    cacert: env.OS_CACERT || undefined,
    insecure,
    computeMicroversion:
      env.OS_COMPUTE_API_VERSION && /^2\.\d+$/.test(env.OS_COMPUTE_API_VERSION)
        ? env.OS_COMPUTE_API_VERSION
        : undefined,
    endpointOverrides: {},
  };
}

/** Finds and reads the clouds.yaml entry `cloud`, merged with secure.yaml beside the search path. */
function loadCloud(
  cloud: string,
  file: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): { partial: Partial; source: string } {
  const candidates = file !== undefined ? [resolve(cwd, file)] : cloudsYamlSearchPath(env, cwd);
  const path = candidates.find((p) => existsSync(p));
  if (path === undefined)
    throw new ValidationError(
      `cloud "${cloud}" asked for, but no clouds.yaml found (looked in ${candidates.join(', ')})`,
      {
        issues: [
          { path: file !== undefined ? 'cloudsFile' : 'cloud', message: 'no clouds.yaml found' },
        ],
      },
    );
  const doc = CloudsFileSchema.safeParse(readYaml(path));
  if (!doc.success)
    throw new ValidationError(
      `${path} is not a clouds.yaml: ${doc.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      { issues: [{ path: 'cloudsFile', message: 'not a clouds.yaml' }] },
    );
  const entry = doc.data.clouds?.[cloud];
  if (entry === undefined)
    throw new ValidationError(
      `cloud "${cloud}" is not in ${path} (it has: ${Object.keys(doc.data.clouds ?? {}).join(', ') || 'none'})`,
      {
        issues: [{ path: 'cloud', message: `not in ${path}` }],
      },
    );
  // secure.yaml keeps secrets apart: same layout, merged over the entry's auth.
  const securePath =
    env.OS_CLIENT_SECURE_FILE ??
    [path.replace(/clouds\.ya?ml$/, 'secure.yaml')].find((p) => existsSync(p));
  let merged: CloudEntry = entry;
  if (securePath !== undefined && existsSync(securePath)) {
    const secure = CloudsFileSchema.safeParse(readYaml(securePath));
    const sEntry = secure.success ? secure.data.clouds?.[cloud] : undefined;
    if (sEntry !== undefined)
      merged = { ...entry, ...sEntry, auth: { ...entry.auth, ...sEntry.auth } };
  }
  return { partial: fromCloudEntry(merged, merged), source: `clouds.yaml "${cloud}" (${path})` };
}

/**
 * Resolves the provider's configuration. `env` defaults to `process.env`.
 * @throws ValidationError naming each missing or bad field and where to set it.
 *
 * @example
 * ```ts
 * const config = resolveOpenStackConfig({ cloud: 'mycloud' });          // clouds.yaml
 * const fromEnv = resolveOpenStackConfig({}, { env: process.env });     // OS_AUTH_URL, OS_USERNAME, …
 * ```
 */
export function resolveOpenStackConfig(
  input: OpenStackOptions,
  context: { env?: Readonly<Record<string, string | undefined>>; cwd?: string } = {},
): OpenStackConfig {
  const options = parse(OpenStackOptionsSchema, input, 'openstack options');
  const env = context.env ?? process.env;
  const cwd = context.cwd ?? process.cwd();
  const cloudName = options.cloud ?? (env.OS_CLOUD || undefined);
  const { partial, source } =
    cloudName !== undefined
      ? loadCloud(
          cloudName,
          options.cloudsFile ?? (env.OS_CLIENT_CONFIG_FILE || undefined),
          env,
          cwd,
        )
      : { partial: fromEnv(env), source: 'OS_* environment' };

  const auth = { ...partial.auth, ...options.auth };
  const authType =
    options.authType ??
    partial.authType ??
    (auth.applicationCredentialSecret !== undefined ? 'applicationCredential' : 'password');
  const issues: { path: string; message: string }[] = [];
  const where = (field: string, env: string): string =>
    cloudName !== undefined ? `set auth.${field} in ${source}` : `set ${env} or auth.${field}`;
  if (authType !== 'password' && authType !== 'applicationCredential')
    issues.push({
      path: 'authType',
      message: `auth type "${authType}" is not supported (use password or v3applicationcredential)`,
    });
  if (auth.authUrl === undefined)
    issues.push({ path: 'auth.authUrl', message: `required: ${where('auth_url', 'OS_AUTH_URL')}` });
  if (authType === 'password') {
    if (auth.password === undefined)
      issues.push({
        path: 'auth.password',
        message: `required for password auth: ${where('password', 'OS_PASSWORD')}`,
      });
    if (auth.username === undefined && auth.userId === undefined)
      issues.push({
        path: 'auth.username',
        message: `required for password auth (or auth.userId): ${where('username', 'OS_USERNAME')}`,
      });
  } else if (authType === 'applicationCredential') {
    if (auth.applicationCredentialSecret === undefined)
      issues.push({
        path: 'auth.applicationCredentialSecret',
        message: `required for application credentials: ${where('application_credential_secret', 'OS_APPLICATION_CREDENTIAL_SECRET')}`,
      });
    if (auth.applicationCredentialId === undefined && auth.applicationCredentialName === undefined)
      issues.push({
        path: 'auth.applicationCredentialId',
        message: `required (or auth.applicationCredentialName with the user): ${where('application_credential_id', 'OS_APPLICATION_CREDENTIAL_ID')}`,
      });
    if (
      auth.applicationCredentialId === undefined &&
      auth.applicationCredentialName !== undefined &&
      auth.username === undefined &&
      auth.userId === undefined
    )
      issues.push({
        path: 'auth.username',
        message: 'an application credential given by name needs its user (username or userId)',
      });
  }
  const iface = options.interface ?? partial.interface ?? 'public';
  if (iface !== 'public' && iface !== 'internal' && iface !== 'admin')
    issues.push({ path: 'interface', message: `"${iface}" is not public, internal or admin` });
  const cacert = options.cacert ?? partial.cacert;
  let ca: string | undefined;
  if (cacert !== undefined) {
    const path = resolve(cwd, cacert.replace(/^~(?=\/)/, env.HOME ?? homedir()));
    if (!existsSync(path)) issues.push({ path: 'cacert', message: `no such file: ${path}` });
    else ca = readFileSync(path, 'utf8');
  }
  const checked = AuthSchema.safeParse(auth);
  if (!checked.success)
    for (const i of checked.error.issues)
      issues.push({ path: ['auth', ...i.path.map(String)].join('.'), message: i.message });
  if (issues.length > 0)
    throw new ValidationError(
      `invalid openstack configuration from ${source}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      { issues },
    );

  return {
    ...options,
    auth: { ...checked.data!, authUrl: auth.authUrl! },
    authType: authType as 'password' | 'applicationCredential',
    region: options.region ?? partial.region,
    interface: iface as 'public' | 'internal' | 'admin',
    ca,
    insecure: options.insecure ?? partial.insecure ?? false,
    endpointOverrides: { ...partial.endpointOverrides, ...options.endpointOverrides },
    computeMicroversion: options.computeMicroversion ?? partial.computeMicroversion,
    source,
  };
}
