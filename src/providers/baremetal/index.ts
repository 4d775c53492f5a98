/**
 * `kumo/baremetal`: physical machines through OpenStack Ironic — standalone (noauth),
 * behind HTTP basic auth, or in a cloud with Keystone. A machine is a node kumo
 * claims, deploys an image to and powers on; deleting it undeploys the node, which
 * Ironic cleans back into the pool.
 *
 * @example
 * ```ts
 * import { baremetal } from 'kumo/baremetal';
 * const onprem = baremetal({
 *   endpoint: 'http://127.0.0.1:6385',
 *   images: { 'ubuntu-22.04': { url: 'http://images.lan/jammy.qcow2', checksum: 'sha256:…' } },
 * });
 * const [m] = await onprem.createMachines({ spec: { resources: { cpus: 8, memoryMiB: 32768 }, image: 'ubuntu-22.04' }, count: 1, idempotencyKey: 'db-1' });
 * console.log(m.id, m.size, m.state); // default-…-0 bm-large running
 * ```
 */
import {
  createRateLimiter,
  parse,
  systemClock,
  withRetries,
  type Clock,
  type Provider,
} from '../../core/index.js';
import {
  HttpTransport,
  type FetchLike,
  type HttpEvent,
  type TokenSource,
} from '../../clients/openstack/http.js';
import { IronicClient } from '../../clients/openstack/ironic-client.js';
import { KeystoneSession, type KeystoneAuth } from '../../clients/openstack/keystone.js';
import {
  BaremetalOptionsSchema,
  type BaremetalConfig,
  type BaremetalOptions,
} from './baremetal-config.js';
import { BaremetalProvider } from './baremetal-provider.js';

export type { BaremetalOptions, BaremetalImage, BaremetalAuth } from './baremetal-config.js';
export { BaremetalOptionsSchema } from './baremetal-config.js';
export {
  enrollNodes,
  EnrollFileSchema,
  type EnrollFile,
  type EnrollResult,
  type EnrollEvent,
} from './baremetal-enroll.js';

/** A bare-metal provider, plus what benchmarks and operators want to see. */
export interface BaremetalProviderHandle extends Provider {
  /** Ironic API calls made so far, by `METHOD /path` with ids folded to `{id}`. */
  apiCalls(): Record<string, number>;
  /** The wire client, for operator tools (`kumo baremetal enroll`). */
  readonly ironic: IronicClient;
}

export interface BaremetalDeps {
  clock?: Clock;
  /** Replaces fetch (tests inject faults here). */
  fetch?: FetchLike;
}

const ID_SEGMENT = /\/([0-9a-f]{8}-[0-9a-f-]{27}|[a-z0-9][a-z0-9.-]*-[0-9a-f]{8}-\d+)(?=\/|$)/gi;

function keystoneAuth(auth: Extract<BaremetalConfig['auth'], { type: 'keystone' }>): KeystoneAuth {
  if (auth.applicationCredentialId !== undefined)
    return {
      type: 'applicationCredential',
      authUrl: auth.authUrl,
      applicationCredentialId: auth.applicationCredentialId,
      secret: auth.applicationCredentialSecret!,
    };
  return {
    type: 'password',
    authUrl: auth.authUrl,
    ...(auth.username === undefined ? {} : { username: auth.username }),
    ...(auth.userId === undefined ? {} : { userId: auth.userId }),
    userDomainName: auth.userDomainName,
    password: auth.password!,
    ...(auth.projectId !== undefined
      ? { projectId: auth.projectId }
      : auth.projectName !== undefined
        ? { projectName: auth.projectName, projectDomainName: auth.projectDomainName }
        : {}),
    ...(auth.systemScope === undefined ? {} : { system: true }),
  };
}

/** Builds the wire client the provider and `kumo baremetal enroll` share. */
export function ironicClientFor(
  config: BaremetalConfig,
  deps: BaremetalDeps & { onEvent?: (event: HttpEvent) => void } = {},
): IronicClient {
  const clock = deps.clock ?? systemClock;
  const transport = new HttpTransport({
    ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
    timeoutMs: config.requestTimeoutMs,
    limiter: createRateLimiter({
      concurrency: config.concurrency,
      intervalCap: config.ratePerSecond,
      clock,
    }),
    userAgent: 'kumo-baremetal',
    ...(config.ca === undefined ? {} : { ca: config.ca }),
    ...(config.insecure ? { insecure: true } : {}),
    ...(deps.onEvent === undefined ? {} : { onEvent: deps.onEvent }),
  });
  const auth = config.auth;
  let tokens: TokenSource | undefined;
  let endpoint: string | (() => Promise<string>) | undefined = config.endpoint;
  const headers: Record<string, string> = {};
  if (auth.type === 'basic')
    headers.Authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`;
  if (auth.type === 'keystone') {
    const session = new KeystoneSession({
      auth: keystoneAuth(auth),
      transport,
      ...(auth.region === undefined ? {} : { region: auth.region }),
      interface: auth.interface,
      clock,
    });
    tokens = session;
    endpoint ??= () => session.endpoint('baremetal');
  }
  return new IronicClient({
    transport,
    endpoint: endpoint!,
    ...(tokens === undefined ? {} : { auth: tokens }),
    headers,
    ...(config.microversion === undefined ? {} : { microversion: config.microversion }),
  });
}

/**
 * Creates the bare-metal provider, wrapped with retries (throttling, 5xx, nodes
 * locked for longer than the provider's own short retries).
 */
export function baremetal(
  options: BaremetalOptions,
  deps: BaremetalDeps = {},
): BaremetalProviderHandle {
  const config = parse(BaremetalOptionsSchema, options, 'baremetal options');
  const clock = deps.clock ?? systemClock;
  const calls = new Map<string, number>();
  const ironic = ironicClientFor(config, {
    ...deps,
    onEvent: (event) => {
      const path = new URL(event.url).pathname.replace(ID_SEGMENT, '/{id}');
      const key = `${event.method} ${path}`;
      calls.set(key, (calls.get(key) ?? 0) + 1);
    },
  });
  const raw = new BaremetalProvider(config, ironic, clock);
  const wrapped = withRetries(raw, { clock, attempts: config.retryAttempts });
  return Object.assign(wrapped, {
    apiCalls: () => Object.fromEntries([...calls].sort(([a], [b]) => (a < b ? -1 : 1))),
    ironic,
  });
}
