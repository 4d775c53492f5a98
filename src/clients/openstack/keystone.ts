/**
 * Keystone v3: authenticate (password or application credential), keep the token
 * fresh (re-authenticate before it expires and after a 401), and find service
 * endpoints in the catalog by type, interface and region, with version discovery.
 *
 * @example
 * ```ts
 * const transport = new HttpTransport();
 * const session = new KeystoneSession({
 *   transport,
 *   auth: { type: 'password', authUrl: 'http://127.0.0.1:5000/v3', username: 'demo', password: 's3cret',
 *           userDomainName: 'Default', projectName: 'demo', projectDomainName: 'Default' },
 *   region: 'RegionOne',
 * });
 * const nova = session.client('compute');   // a ServiceClient on the catalog's compute endpoint
 * const flavors = await nova.get('/flavors');
 * ```
 */
import { z } from 'zod';
import { systemClock, type Clock } from '../../core/index.js';
import {
  OpenStackClientError,
  ServiceClient,
  type HttpTransport,
  type TokenSource,
} from './http.js';

/** What to scope the token to. Application credentials carry their own scope. */
export interface KeystoneScope {
  projectId?: string;
  projectName?: string;
  projectDomainId?: string;
  projectDomainName?: string;
  domainId?: string;
  domainName?: string;
  /** `system: all` scope (cloud-wide admin). */
  system?: boolean;
}

export interface PasswordAuth extends KeystoneScope {
  type: 'password';
  authUrl: string;
  username?: string;
  userId?: string;
  userDomainId?: string;
  userDomainName?: string;
  password: string;
}

export interface ApplicationCredentialAuth {
  type: 'applicationCredential';
  authUrl: string;
  applicationCredentialId?: string;
  /** With a name, the owning user must be given too. */
  applicationCredentialName?: string;
  username?: string;
  userId?: string;
  userDomainId?: string;
  userDomainName?: string;
  secret: string;
}

export type KeystoneAuth = PasswordAuth | ApplicationCredentialAuth;

export type EndpointInterface = 'public' | 'internal' | 'admin';

export interface KeystoneSessionOptions {
  auth: KeystoneAuth;
  transport: HttpTransport;
  /** Region for endpoint selection; any region when absent. */
  region?: string;
  /** Default `public`. */
  interface?: EndpointInterface;
  /** Use these base URLs instead of the catalog's (`compute_endpoint_override`). */
  endpointOverrides?: Readonly<Record<string, string>>;
  /** Re-authenticate this long before the token expires. Default 2 minutes (keystoneauth's). */
  expiryMarginMs?: number;
  clock?: Clock;
}

const CatalogEndpointSchema = z.looseObject({
  id: z.string().optional(),
  interface: z.string(),
  region: z.string().nullish(),
  region_id: z.string().nullish(),
  url: z.string(),
});

const CatalogEntrySchema = z.looseObject({
  type: z.string(),
  name: z.string().optional(),
  endpoints: z.array(CatalogEndpointSchema),
});
export type CatalogEntry = z.output<typeof CatalogEntrySchema>;

const TokenBodySchema = z.object({
  token: z.looseObject({
    expires_at: z.string(),
    issued_at: z.string().optional(),
    methods: z.array(z.string()).optional(),
    user: z.looseObject({ id: z.string(), name: z.string().optional() }),
    project: z
      .looseObject({
        id: z.string(),
        name: z.string().optional(),
        domain: z
          .looseObject({ id: z.string().optional(), name: z.string().optional() })
          .optional(),
      })
      .optional(),
    domain: z.looseObject({ id: z.string(), name: z.string().optional() }).optional(),
    roles: z.array(z.looseObject({ name: z.string() })).optional(),
    catalog: z.array(CatalogEntrySchema).optional(),
  }),
});

/** What Keystone said about the current token (never the token itself). */
export interface TokenInfo {
  readonly expiresAt: number;
  readonly userId: string;
  readonly projectId: string | undefined;
  readonly projectName: string | undefined;
  readonly domainId: string | undefined;
  readonly roles: readonly string[];
  readonly catalog: readonly CatalogEntry[];
}

/** A version a service offers, from its discovery document. */
export interface ServiceVersion {
  /** `v2.1`, `v2.0`, `v3.14`. */
  readonly id: string;
  readonly status: string;
  /** Versioned base URL. */
  readonly url: string;
  /** Microversion range, where the service has microversions (`2.1` … `2.93`). */
  readonly minMicroversion: string | undefined;
  readonly maxMicroversion: string | undefined;
}

const VersionSchema = z.looseObject({
  id: z.string(),
  status: z.string().optional(),
  version: z.string().optional(),
  min_version: z.string().optional(),
  links: z.array(z.looseObject({ rel: z.string().optional(), href: z.string() })).optional(),
});
type VersionDoc = z.output<typeof VersionSchema>;
const DiscoverySchema = z
  .looseObject({
    version: VersionSchema.optional(),
    versions: z
      .union([z.array(VersionSchema), z.looseObject({ values: z.array(VersionSchema) })])
      .optional(),
  })
  .transform((doc): { single: boolean; list: VersionDoc[] } => {
    if (doc.version !== undefined) return { single: true, list: [doc.version] };
    const versions = doc.versions;
    return {
      single: false,
      list: versions === undefined ? [] : Array.isArray(versions) ? versions : versions.values,
    };
  });

/**
 * A Keystone v3 session: the token, the catalog, service clients. One per cloud;
 * safe to share between concurrent calls (authentication is single-flight).
 */
export class KeystoneSession implements TokenSource {
  readonly #auth: KeystoneAuth;
  readonly #transport: HttpTransport;
  readonly #region: string | undefined;
  readonly #interface: EndpointInterface;
  readonly #overrides: Readonly<Record<string, string>>;
  readonly #marginMs: number;
  readonly #clock: Clock;
  #token: string | undefined;
  #info: TokenInfo | undefined;
  #pending: Promise<string> | undefined;
  #identityUrl: Promise<string> | undefined;
  readonly #discovered = new Map<string, Promise<ServiceVersion[]>>();
  #authentications = 0;

  constructor(options: KeystoneSessionOptions) {
    this.#auth = options.auth;
    this.#transport = options.transport;
    this.#region = options.region;
    this.#interface = options.interface ?? 'public';
    this.#overrides = options.endpointOverrides ?? {};
    this.#marginMs = options.expiryMarginMs ?? 120_000;
    this.#clock = options.clock ?? systemClock;
  }

  get transport(): HttpTransport {
    return this.#transport;
  }

  /** How many times this session has authenticated (tests and benchmarks count re-auths). */
  get authentications(): number {
    return this.#authentications;
  }

  /** Facts about the current token, if one is held. */
  get tokenInfo(): TokenInfo | undefined {
    return this.#info;
  }

  /** A valid token; authenticates when none is held or it expires within the margin. */
  async token(signal?: AbortSignal): Promise<string> {
    if (
      this.#token !== undefined &&
      this.#info !== undefined &&
      this.#clock.now() < this.#info.expiresAt - this.#marginMs
    )
      return this.#token;
    this.#pending ??= this.#authenticate(signal).finally(() => (this.#pending = undefined));
    return this.#pending;
  }

  invalidate(token: string): void {
    if (this.#token === token) {
      this.#token = undefined;
      this.#info = undefined;
    }
  }

  /** The project the token is scoped to (authenticating if needed). */
  async projectId(signal?: AbortSignal): Promise<string | undefined> {
    await this.token(signal);
    return this.#info?.projectId;
  }

  /** The catalog's URL for a service type, honouring interface, region and overrides. */
  async endpoint(serviceType: string, signal?: AbortSignal): Promise<string> {
    const override = this.#overrides[serviceType];
    if (override !== undefined) return override.replace(/\/+$/, '');
    await this.token(signal);
    return selectEndpoint(this.#info?.catalog ?? [], serviceType, this.#interface, this.#region);
  }

  /**
   * The versions a service offers, from an anonymous GET on its catalog URL (cached).
   * A versioned URL (Nova's `…/v2.1`) answers with one version; an unversioned one
   * (`http://host:9696`) with the list.
   */
  async versions(serviceType: string, signal?: AbortSignal): Promise<ServiceVersion[]> {
    let found = this.#discovered.get(serviceType);
    if (found === undefined) {
      found = this.endpoint(serviceType, signal).then((url) =>
        discoverVersions(this.#transport, serviceType, url, signal),
      );
      found.catch(() => this.#discovered.delete(serviceType));
      this.#discovered.set(serviceType, found);
    }
    return found;
  }

  /**
   * The base URL for major version `major` (`2` for Nova's v2.1, Neutron's v2.0, Glance's v2).
   * Falls back to the catalog URL when the service publishes no usable document.
   */
  async versionedEndpoint(
    serviceType: string,
    major: number,
    signal?: AbortSignal,
  ): Promise<{ url: string; version: ServiceVersion | undefined }> {
    const versions = await this.versions(serviceType, signal);
    const matching = versions.filter(
      (v) => majorOf(v.id) === major && v.status.toUpperCase() !== 'DEPRECATED',
    );
    const best = matching.find((v) => /current|stable/i.test(v.status)) ?? matching[0];
    if (best !== undefined) return { url: best.url, version: best };
    return { url: await this.endpoint(serviceType, signal), version: undefined };
  }

  /** A {@link ServiceClient} on a service's catalog URL (or its versioned one, with `major`). */
  client(
    serviceType: string,
    options: { major?: number; headers?: () => Record<string, string> } = {},
  ): ServiceClient {
    return new ServiceClient({
      service: serviceType,
      transport: this.#transport,
      auth: this,
      baseUrl: () =>
        options.major === undefined
          ? this.endpoint(serviceType)
          : this.versionedEndpoint(serviceType, options.major).then((v) => v.url),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
    });
  }

  async #identity(signal?: AbortSignal): Promise<string> {
    this.#identityUrl ??= resolveIdentityUrl(this.#transport, this.#auth.authUrl, signal);
    this.#identityUrl.catch(() => (this.#identityUrl = undefined));
    return this.#identityUrl;
  }

  async #authenticate(signal?: AbortSignal): Promise<string> {
    const identity = new ServiceClient({
      service: 'identity',
      transport: this.#transport,
      baseUrl: await this.#identity(signal),
    });
    const result = await identity.request('POST', '/auth/tokens', {
      body: authBody(this.#auth),
      schema: TokenBodySchema,
      ...(signal === undefined ? {} : { signal }),
    });
    const token = result.headers.get('x-subject-token');
    if (token === null || token === '')
      throw new OpenStackClientError('Keystone issued no X-Subject-Token header', 'identity');
    const t = result.body.token;
    const expiresAt = Date.parse(t.expires_at);
    if (Number.isNaN(expiresAt))
      throw new OpenStackClientError(
        `Keystone token has an unreadable expires_at "${t.expires_at}"`,
        'identity',
      );
    this.#authentications++;
    this.#token = token;
    // NOTE: the clock may be virtual in tests; keep the token's lifetime, not its wall-clock instant.
    const lifetime = expiresAt - Date.now();
    this.#info = {
      expiresAt: this.#clock.now() + lifetime,
      userId: t.user.id,
      projectId: t.project?.id,
      projectName: t.project?.name,
      domainId: t.domain?.id,
      roles: (t.roles ?? []).map((r) => r.name),
      catalog: t.catalog ?? [],
    };
    return token;
  }
}

function majorOf(id: string): number {
  const m = /^v?(\d+)/.exec(id);
  return m ? Number(m[1]) : NaN;
}

/** Picks the catalog URL for a service type, interface and region. */
export function selectEndpoint(
  catalog: readonly CatalogEntry[],
  serviceType: string,
  iface: EndpointInterface,
  region: string | undefined,
): string {
  const entries = catalog.filter((e) => e.type === serviceType);
  if (entries.length === 0)
    throw new OpenStackClientError(
      `the catalog has no "${serviceType}" service (it has: ${[...new Set(catalog.map((e) => e.type))].sort().join(', ') || 'nothing'})`,
      serviceType,
    );
  const candidates = entries.flatMap((e) => e.endpoints);
  const inRegion = candidates.filter(
    (ep) => region === undefined || ep.region_id === region || ep.region === region,
  );
  const chosen = inRegion.find((ep) => ep.interface === iface);
  if (chosen === undefined) {
    const offered = candidates
      .map((ep) => `${ep.interface}@${ep.region_id ?? ep.region ?? '?'}`)
      .join(', ');
    throw new OpenStackClientError(
      `the catalog has no ${iface} "${serviceType}" endpoint${region === undefined ? '' : ` in region ${region}`} (offered: ${offered || 'none'})`,
      serviceType,
    );
  }
  return chosen.url.replace(/\/+$/, '');
}

/** The Keystone v3 URL from an auth URL that may or may not name the version. */
async function resolveIdentityUrl(
  transport: HttpTransport,
  authUrl: string,
  signal?: AbortSignal,
): Promise<string> {
  const trimmed = authUrl.replace(/\/+$/, '');
  if (/\/v3$/.test(trimmed)) return trimmed;
  const versions = await discoverVersions(transport, 'identity', trimmed, signal);
  const v3 = versions.find((v) => majorOf(v.id) === 3);
  if (v3 === undefined)
    throw new OpenStackClientError(
      `${authUrl} offers no Keystone v3 (found: ${versions.map((v) => v.id).join(', ') || 'nothing'})`,
      'identity',
    );
  return v3.url;
}

/** Reads a service's version document (anonymous GET). */
export async function discoverVersions(
  transport: HttpTransport,
  service: string,
  url: string,
  signal?: AbortSignal,
): Promise<ServiceVersion[]> {
  const client = new ServiceClient({ service, transport, baseUrl: url });
  const base = url.replace(/\/+$/, '');
  const { body } = await client.request('GET', base + '/', {
    accept: [300],
    schema: DiscoverySchema,
    ...(signal === undefined ? {} : { signal }),
  });
  return body.list.map((v) => {
    const self = v.links?.find((l) => l.rel === 'self')?.href;
    return {
      id: v.id,
      status: v.status ?? 'CURRENT',
      // NOTE: a single-version document answers for the URL we asked, which is what we keep
      // (its self link may name an internal host).
      url: (body.single ? base : (self ?? base)).replace(/\/+$/, ''),
      minMicroversion: v.min_version || undefined,
      maxMicroversion: v.version || undefined,
    };
  });
}

function authBody(auth: KeystoneAuth): unknown {
  const user = (a: {
    username?: string;
    userId?: string;
    userDomainId?: string;
    userDomainName?: string;
  }): Record<string, unknown> =>
    a.userId !== undefined
      ? { id: a.userId }
      : {
          name: a.username,
          domain:
            a.userDomainId !== undefined
              ? { id: a.userDomainId }
              : { name: a.userDomainName ?? 'Default' },
        };
  if (auth.type === 'applicationCredential') {
    const credential: Record<string, unknown> =
      auth.applicationCredentialId !== undefined
        ? { id: auth.applicationCredentialId, secret: auth.secret }
        : { name: auth.applicationCredentialName, secret: auth.secret, user: user(auth) };
    // NOTE: an application credential is scoped already; Keystone refuses a scope with it.
    return {
      auth: {
        identity: { methods: ['application_credential'], application_credential: credential },
      },
    };
  }
  const identity = {
    methods: ['password'],
    password: { user: { ...user(auth), password: auth.password } },
  };
  return { auth: { identity, ...scopeOf(auth) } };
}

function scopeOf(scope: KeystoneScope): { scope?: unknown } {
  if (scope.system === true) return { scope: { system: { all: true } } };
  if (scope.projectId !== undefined) return { scope: { project: { id: scope.projectId } } };
  if (scope.projectName !== undefined)
    return {
      scope: {
        project: {
          name: scope.projectName,
          domain:
            scope.projectDomainId !== undefined
              ? { id: scope.projectDomainId }
              : { name: scope.projectDomainName ?? 'Default' },
        },
      },
    };
  if (scope.domainId !== undefined) return { scope: { domain: { id: scope.domainId } } };
  if (scope.domainName !== undefined) return { scope: { domain: { name: scope.domainName } } };
  return {};
}
