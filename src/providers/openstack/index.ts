/**
 * `kumo/openstack`: any OpenStack cloud (Keystone v3, Nova, Neutron, Glance) through
 * kumo's own small wire clients. Configured the OpenStack way: a `clouds.yaml` entry
 * (`cloud` or `OS_CLOUD`) or the `OS_*` variables, overridden by explicit options.
 *
 * @example
 * ```ts
 * import { openstack } from 'kumo/openstack';
 * const cloud = openstack({ cloud: 'mycloud', network: 'private' });
 * const [m] = await cloud.createMachines({
 *   spec: { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04' },
 *   count: 1,
 *   idempotencyKey: 'web-2024-06-01',
 * });
 * console.log(m.id, m.size, m.state, m.addresses);
 * ```
 */
import {
  createRateLimiter,
  systemClock,
  withRetries,
  type Clock,
  type Provider,
  type ProviderCallEvent,
} from '../../core/index.js';
import { GlanceClient } from '../../clients/openstack/glance.js';
import { HttpTransport, type FetchLike, type HttpEvent } from '../../clients/openstack/http.js';
import { KeystoneSession } from '../../clients/openstack/keystone.js';
import { NeutronClient } from '../../clients/openstack/neutron.js';
import { NovaClient } from '../../clients/openstack/nova.js';
import {
  resolveOpenStackConfig,
  type OpenStackConfig,
  type OpenStackOptions,
} from './openstack-config.js';
import { OpenStackProvider } from './openstack-provider.js';

export type { OpenStackOptions, OpenStackConfig } from './openstack-config.js';
export {
  OpenStackOptionsSchema,
  resolveOpenStackConfig,
  cloudsYamlSearchPath,
} from './openstack-config.js';
export { SERVER_STATES, serverState, flavorToSize, flavorGpus } from './openstack-mapper.js';
export { toKumoError as openStackError } from './openstack-errors.js';

/** What tests, benchmarks and tools may reach besides the provider contract. */
export interface OpenStackClients {
  readonly session: KeystoneSession;
  readonly nova: NovaClient;
  readonly neutron: NeutronClient;
  readonly glance: GlanceClient;
}

export interface OpenStackProviderHandle extends Provider {
  /** The wire clients this provider talks through (for diagnostics; not the contract). */
  readonly clients: OpenStackClients;
  readonly config: Readonly<OpenStackConfig>;
}

export interface OpenStackDependencies {
  /** Instead of `process.env` (OS_*, OS_CLOUD, OS_CLIENT_CONFIG_FILE). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where `./clouds.yaml` is looked for. Default `process.cwd()`. */
  cwd?: string;
  clock?: Clock;
  /** Replaces fetch (tests inject faults at the transport with it). */
  fetch?: FetchLike;
  /** Told after every API call. */
  onHttp?: (event: HttpEvent) => void;
  /** Told before each retry of a provider call. */
  onRetry?: (event: ProviderCallEvent) => void;
}

/**
 * Creates an OpenStack provider, wrapped with kumo's retries.
 * @throws ValidationError naming each bad or missing setting and where it comes from.
 */
export function openstack(
  options: OpenStackOptions = {},
  deps: OpenStackDependencies = {},
): OpenStackProviderHandle {
  const config = resolveOpenStackConfig(options, {
    ...(deps.env === undefined ? {} : { env: deps.env }),
    ...(deps.cwd === undefined ? {} : { cwd: deps.cwd }),
  });
  const clock = deps.clock ?? systemClock;
  const limiter = createRateLimiter({
    concurrency: config.concurrency,
    intervalCap: config.ratePerSecond,
    burst: Math.max(1, Math.ceil(config.ratePerSecond)),
    clock,
  });
  const transport = new HttpTransport({
    timeoutMs: config.requestTimeoutMs,
    userAgent: 'kumo-openstack',
    limiter,
    insecure: config.insecure ?? false,
    ...(config.ca === undefined ? {} : { ca: config.ca }),
    ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
    ...(deps.onHttp === undefined ? {} : { onEvent: deps.onHttp }),
  });
  const a = config.auth;
  const session = new KeystoneSession({
    transport,
    clock,
    interface: config.interface,
    ...(config.region === undefined ? {} : { region: config.region }),
    ...(config.endpointOverrides === undefined
      ? {}
      : { endpointOverrides: config.endpointOverrides }),
    auth:
      config.authType === 'applicationCredential'
        ? {
            type: 'applicationCredential',
            authUrl: a.authUrl,
            secret: a.applicationCredentialSecret!,
            ...pick(a, [
              'applicationCredentialId',
              'applicationCredentialName',
              'username',
              'userId',
              'userDomainId',
              'userDomainName',
            ]),
          }
        : {
            type: 'password',
            authUrl: a.authUrl,
            password: a.password!,
            ...pick(a, [
              'username',
              'userId',
              'userDomainId',
              'userDomainName',
              'projectId',
              'projectName',
              'projectDomainId',
              'projectDomainName',
              'domainId',
              'domainName',
            ]),
            ...(a.systemScope === 'all' ? { system: true } : {}),
          },
  });
  const clients: OpenStackClients = {
    session,
    nova: new NovaClient(
      session,
      config.computeMicroversion === undefined ? {} : { wanted: config.computeMicroversion },
    ),
    neutron: new NeutronClient(session),
    glance: new GlanceClient(session),
  };
  const raw = new OpenStackProvider(config, { ...clients, clock });
  const wrapped = withRetries(raw, {
    clock,
    attempts: config.retryAttempts,
    ...(deps.onRetry === undefined ? {} : { onRetry: deps.onRetry }),
  });
  return Object.assign(wrapped, { clients, config });
}

function pick<T extends object, K extends keyof T>(
  obj: T,
  keys: readonly K[],
): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}
