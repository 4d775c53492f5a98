/**
 * The gateway: an OpenStack-compatible HTTP API (Keystone v3, Nova v2.1, Neutron v2.0
 * and Glance v2 subsets) over a logical datacenter, so OpenStack tools (the
 * `openstack` CLI, openstacksdk, gophercloud, Terraform's provider) make machines on
 * whatever providers the datacenter has — IBM's Jumpgate idea.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage, systemClock, ValidationError, type Clock } from '../core/index.js';
import { AdHocMachines } from '../logical-dc/ad-hoc-machines.js';
import type { GatewaySpec } from '../logical-dc/gateway-spec.js';
import type { LogicalDatacenter } from '../logical-dc/logical-datacenter.js';
import { computeRouter } from './compute/compute-router.js';
import { ServerService } from './compute/servers.js';
import type { GatewayContext } from './context.js';
import { DatacenterCatalog } from './datacenter-catalog.js';
import { dispatch, type Mount } from './http/dispatch.js';
import { Directory } from './identity/directory.js';
import { identityRouter } from './identity/identity-router.js';
import { LoginThrottle } from './identity/login-throttle.js';
import type { PasswordHash } from './identity/passwords.js';
import { TokenStore } from './identity/token-store.js';
import { imageRouter } from './image/image-router.js';
import { networkRouter } from './network/network-router.js';
import { GatewayStore } from './state/gateway-store.js';

export interface GatewayOptions {
  readonly dc: LogicalDatacenter;
  /** The spec file's `gateway` section: projects, users (passwords by env var), token lifetime. */
  readonly spec: GatewaySpec;
  /** Where users' passwords are read from (the variables `passwordEnv` names). Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The gateway's own objects (networks, security groups, key pairs, servers' names): a JSON file, or memory when absent. */
  readonly statePath?: string;
  /** Overrides `spec.tokenTtlSeconds`. */
  readonly tokenTtlSeconds?: number;
  /** The URL clients reach the gateway at, when not the address it listens on (behind a proxy). */
  readonly publicUrl?: string;
  readonly clock?: Clock;
  /** Receives one line per request and per notable event; never secrets. Default: nothing. */
  readonly log?: (line: string) => void;
  /** Machine states read from the providers are reused this long (clients poll). Default 1000 ms. */
  readonly refreshMs?: number;
  /** scrypt cost; tests lower it. */
  readonly scrypt?: PasswordHash['params'];
}

/**
 * A running (or ready to run) gateway.
 *
 * @example
 * ```ts
 * const gateway = await createGateway({ dc, spec: file.gateway!, statePath: '.kumo/gateway.json', log: console.error });
 * const { url } = await gateway.listen(5000, '127.0.0.1');
 * // OS_AUTH_URL=${url}/v3 openstack server list
 * await gateway.close();
 * ```
 */
export class Gateway {
  readonly #server: Server;
  readonly #servers: ServerService;
  readonly #publicUrl: string | undefined;
  #url: string | undefined;

  /** @internal use {@link createGateway}. */
  constructor(
    server: Server,
    servers: ServerService,
    publicUrl: string | undefined,
    setUrl: (get: () => string) => void,
  ) {
    this.#server = server;
    this.#servers = servers;
    this.#publicUrl = publicUrl;
    setUrl(() => this.url);
  }

  /** The URL clients use (`http://127.0.0.1:5000`); the identity endpoint is `<url>/v3`. */
  get url(): string {
    const url = this.#publicUrl ?? this.#url;
    if (url === undefined) throw new Error('the gateway is not listening yet');
    return url;
  }

  /** Starts listening; port 0 picks a free port. */
  async listen(port: number, host = '127.0.0.1'): Promise<{ url: string }> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.#url = `http://${shown}:${address.port}`;
    return { url: this.url };
  }

  /** Resolves once background creates and deletes have finished. */
  settle(): Promise<void> {
    return this.#servers.settle();
  }

  /** Stops taking requests, lets background work finish, and closes connections. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve, reject) =>
      this.#server.close((err) => (err === undefined ? resolve() : reject(err))),
    );
    this.#server.closeIdleConnections();
    await this.settle();
    this.#server.closeAllConnections();
    await closed.catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING') throw err;
    });
  }
}

/**
 * Builds a gateway over `dc`: hashes the users' passwords, opens the gateway's store
 * and resumes work a stopped gateway left (creates repeated with the same keys).
 * @throws ValidationError when a user's password variable is unset, or `defaultZone` names no provider.
 */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const clock = options.clock ?? systemClock;
  const spec = options.spec;
  const providers = [...options.dc.providers.keys()];
  if (providers.length === 0)
    throw new ValidationError(
      'the datacenter has no providers for the gateway to place servers on',
      { issues: [{ path: 'providers', message: 'declare at least one provider' }] },
    );
  const defaultZone = spec.defaultZone ?? providers[0]!;
  if (!providers.includes(defaultZone.split(':')[0] ?? ''))
    throw new ValidationError(
      `gateway.defaultZone "${defaultZone}" names no provider of the datacenter (providers: ${providers.join(', ')})`,
      { issues: [{ path: 'gateway.defaultZone', message: 'not a provider of the datacenter' }] },
    );
  const directory = await Directory.load(spec, options.env ?? process.env, options.scrypt);
  const store = await GatewayStore.open(options.statePath);
  let url: () => string = () => {
    throw new Error('the gateway is not listening yet');
  };
  const ctx: GatewayContext = {
    dc: options.dc,
    machines: new AdHocMachines(options.dc, {
      clock,
      ...(options.refreshMs === undefined ? {} : { maxAgeMs: options.refreshMs }),
    }),
    store,
    directory,
    tokens: new TokenStore(clock),
    throttle: new LoginThrottle({
      maxFailures: spec.login.maxFailures,
      windowMs: spec.login.windowSeconds * 1000,
      lockoutMs: spec.login.lockoutSeconds * 1000,
      clock,
    }),
    catalog: new DatacenterCatalog(options.dc, clock),
    clock,
    region: spec.region,
    tokenTtlMs: (options.tokenTtlSeconds ?? spec.tokenTtlSeconds) * 1000,
    defaultZone,
    baseUrl: () => url(),
    log: options.log ?? (() => undefined),
  };
  const servers = new ServerService(ctx);
  const mounts: Mount[] = [
    { prefix: '/compute', service: 'compute', router: computeRouter(ctx, servers) },
    { prefix: '/network', service: 'network', router: networkRouter(ctx) },
    { prefix: '/image', service: 'image', router: imageRouter(ctx) },
    { prefix: '', service: 'identity', router: identityRouter(ctx) },
  ];
  const server = createServer((req, res) => {
    // dispatch answers every failure itself; this is the net under it, so no request
    // can end the process with an unhandled rejection.
    dispatch(ctx, mounts, req, res).catch((err: unknown) => {
      ctx.log(`request ${req.method ?? '?'} failed outside its handler: ${errorMessage(err)}`);
      if (res.headersSent) res.destroy();
      else res.writeHead(500, { 'Content-Length': '0', Connection: 'close' }).end();
    });
  });
  // Keep-alive sockets outlive a request; closing them is close()'s job.
  server.keepAliveTimeout = 5000;
  const gateway = new Gateway(server, servers, options.publicUrl?.replace(/\/+$/, ''), (get) => {
    url = get;
  });
  await servers.resume();
  return gateway;
}
