/**
 * A stateful Compute Engine on the wire: nock intercepts https://compute.googleapis.com
 * (and the OAuth token endpoint), so the official client sends real HTTP/JSON requests
 * and parses real-shaped answers. It keeps instances, operations, networks,
 * subnetworks and firewalls; answers with Operations that go RUNNING → DONE on the
 * fake's clock; pages with nextPageToken; dedups by requestId; enforces per-minute
 * query quotas; and injects faults (throttling, 5xx, capacity, quota, a dropped
 * connection after the cloud acted).
 */
import { randomBytes } from 'node:crypto';
import nock from 'nock';
import { systemClock, type Clock } from '../../../src/core/index.js';
import {
  ACCELERATOR_TYPES,
  acceleratorTypeJson,
  API,
  DEFAULT_ZONES,
  imageJson,
  MACHINE_TYPES,
  machineTypeJson,
  nextId,
  PUBLIC_IMAGES,
  regionOf,
  type ImageDef,
} from './gce-catalog.js';
import {
  alreadyExists,
  alreadyExistsInOperation,
  backendError,
  googleError,
  invalid,
  invalidField,
  notFound,
  quotaExceeded,
  rateLimited,
  resourceInUse,
  unauthenticated,
  zoneExhausted,
  type GoogleError,
  type OperationError,
} from './gce-errors.js';
import { matchesFilter, parseFilter } from './gce-filter.js';

export const COMPUTE_ORIGIN = 'https://compute.googleapis.com';
export const TOKEN_ORIGIN = 'https://oauth2.googleapis.com';

type Json = Record<string, unknown>;
type Reply = { status: number; body: unknown; headers?: Record<string, string> } | { drop: string };

/** Per-minute rate quotas ("API rate limits"); each counts accepted calls in the current window. */
export interface GceQuotaOptions {
  /** Length of a quota window; Compute refills per minute. Benches may shorten it to scale time. */
  windowMs?: number;
  /** "Queries": every call. Default 1500. */
  queries?: number;
  /** "Read requests": GETs of resources and lists. Default 1500. */
  reads?: number;
  /** Mutations (insert, bulkInsert, delete, start, stop). Default unlimited. */
  mutations?: number;
  /** "Operation read requests": operations get and wait. Default unlimited. */
  operationReads?: number;
  /** Status of an over-quota answer: 429 (default) or 403, both with reason rateLimitExceeded. */
  status?: 429 | 403;
}

export interface GceFakeOptions {
  project?: string;
  /** Zones by region. */
  zones?: Record<string, readonly string[]>;
  clock?: Clock;
  /** How long an operation runs before it is DONE. Default 0 (done right after it is answered). */
  operationMs?: number;
  /** PROVISIONING → RUNNING this long after an insert is DONE. Default 0. */
  bootMs?: number;
  /** Longest a `wait` call is held before answering an operation that is not DONE (GCE: ~2 minutes). */
  waitMaxMs?: number;
  /**
   * New instances show in `list`/`aggregatedList` this long after insert (eventual
   * consistency). Calls naming an instance (`get`, `delete`, start/stop) see it at once,
   * as Compute Engine's do. Default 0.
   */
  visibilityDelayMs?: number;
  quota?: GceQuotaOptions;
  /** vCPUs each zone can still host; beyond it creates fail with ZONE_RESOURCE_POOL_EXHAUSTED. */
  zoneCapacityCpus?: Record<string, number>;
  /** The project's CPUS quota per region; beyond it creates fail with QUOTA_EXCEEDED. */
  regionCpuQuota?: number;
  /** Bearer tokens accepted; absent means any. */
  acceptTokens?: readonly string[];
}

interface OpRecord {
  json: Json;
  scope: { zone: string } | { region: string } | 'global';
  done: boolean;
  finished: Promise<void>;
  finish: () => void;
}

interface InstanceRecord {
  json: Json;
  zone: string;
  cpus: number;
  visibleAt: number;
}

interface ResolvedType {
  name: string;
  guestCpus: number;
  memoryMb: number;
  family: string;
}

interface RouteMatch {
  name: string;
  kind: 'read' | 'list' | 'mutation' | 'operationRead';
  run: () => Reply | Promise<Reply>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;

function rfc3339(ms: number): string {
  // Compute Engine answers in Pacific time with an offset, e.g. 2024-06-01T10:00:00.000-07:00.
  const d = new Date(ms - 7 * 3600_000);
  return `${d.toISOString().slice(0, 23)}-07:00`;
}

function ok(body: unknown): Reply {
  return { status: 200, body };
}

function fail(e: GoogleError): Reply {
  return { status: e.status, body: e.body };
}

class Failure extends Error {
  constructor(readonly error: GoogleError) {
    super(JSON.stringify(error.body));
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function last(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

function cidrOverlaps(a: string, b: string): boolean {
  const range = (c: string): [number, number] => {
    const [ip = '0.0.0.0', bits = '32'] = c.split('/');
    const size = 2 ** (32 - Number(bits));
    const first = ipToInt(ip) - (ipToInt(ip) % size);
    return [first, first + size - 1];
  };
  const [a1, a2] = range(a);
  const [b1, b2] = range(b);
  return a1 <= b2 && b1 <= a2;
}

/** Faults the shared contract suite injects (ContractFaults), plus Compute-specific ones. */
export interface GceFaults {
  timeoutAfterCreate(): void;
  throttle(n: number): void;
  transient(n: number): void;
  capacity(): void;
  /** The next create fails with QUOTA_EXCEEDED (CPUS) inside its operation. */
  quota(): void;
  /** Every create in `zone` fails with ZONE_RESOURCE_POOL_EXHAUSTED until cleared. */
  exhaustZone(zone: string, exhausted?: boolean): void;
}

export class GceFake {
  readonly project: string;
  readonly clock: Clock;
  readonly zonesByRegion: Record<string, readonly string[]>;
  #o: GceFakeOptions;
  readonly #initial: GceFakeOptions;
  readonly instances = new Map<string, InstanceRecord>();
  readonly operations = new Map<string, OpRecord>();
  readonly #requestIds = new Map<string, string>();
  readonly networks = new Map<string, Json>();
  readonly subnetworks = new Map<string, Json>();
  readonly firewalls = new Map<string, Json>();
  readonly #images = new Map<string, ImageDef>();
  readonly #ipNext = new Map<string, number>();
  #natNext = 0;
  /** Accepted calls by API method (`instances.insert`, `zoneOperations.wait`, …). */
  readonly calls = new Map<string, number>();
  /** Calls refused for quota or by an injected fault, by reason. */
  readonly refused = new Map<string, number>();
  /** Instances ever created (a duplicate-free run creates each name once). */
  created = 0;
  readonly tokenRequests: { iss?: string; scope?: string }[] = [];
  readonly seenTokens = new Set<string>();
  readonly #window = new Map<string, number>();
  #windowStart = 0;
  #throttle = 0;
  #transient = 0;
  #capacity = 0;
  #quota = 0;
  #dropAfterCreate = 0;
  readonly #exhausted = new Set<string>();
  readonly #interceptors: nock.Interceptor[] = [];

  constructor(options: GceFakeOptions = {}) {
    this.#o = { ...options };
    this.#initial = { ...options };
    this.project = options.project ?? 'kumo-test';
    this.clock = options.clock ?? systemClock;
    this.zonesByRegion = options.zones ?? { ...DEFAULT_ZONES };
    for (const img of PUBLIC_IMAGES) this.#images.set(`${img.project}/${img.name}`, img);
    this.#images.set(`${this.project}/golden-web-1`, {
      project: this.project,
      name: 'golden-web-1',
      family: 'golden-web',
      arch: 'X86_64',
      created: '2024-08-01T10:00:00.000-07:00',
      diskSizeGb: 20,
    });
    this.#seedDefaultNetwork();
  }

  get allZones(): string[] {
    return Object.values(this.zonesByRegion).flat();
  }

  readonly faults: GceFaults = {
    timeoutAfterCreate: () => void this.#dropAfterCreate++,
    throttle: (n) => void (this.#throttle += n),
    transient: (n) => void (this.#transient += n),
    capacity: () => void this.#capacity++,
    quota: () => void this.#quota++,
    exhaustZone: (zone, exhausted = true) =>
      void (exhausted ? this.#exhausted.add(zone) : this.#exhausted.delete(zone)),
  };

  /** Changes timing, quota or capacity options from now on (e.g. slower operations). */
  configure(options: Omit<GceFakeOptions, 'project' | 'zones' | 'clock'>): this {
    this.#o = { ...this.#o, ...options };
    return this;
  }

  /** Forgets every resource, call count and pending fault, and restores the options it was made with. */
  reset(): this {
    this.#o = { ...this.#initial };
    for (const m of [
      this.instances,
      this.operations,
      this.#requestIds,
      this.networks,
      this.subnetworks,
      this.firewalls,
      this.calls,
      this.refused,
      this.#window,
      this.#ipNext,
    ])
      m.clear();
    this.#exhausted.clear();
    this.tokenRequests.length = 0;
    this.seenTokens.clear();
    this.created = 0;
    this.#natNext = 0;
    this.#throttle = this.#transient = this.#capacity = this.#quota = this.#dropAfterCreate = 0;
    this.#seedDefaultNetwork();
    return this;
  }

  /** Total accepted calls. */
  get totalCalls(): number {
    let n = 0;
    for (const v of this.calls.values()) n += v;
    return n;
  }

  /** Installs the interceptors; nothing else leaves the process (loopback stays reachable). */
  install(): this {
    nock.disableNetConnect();
    nock.enableNetConnect(/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/);
    for (const method of ['GET', 'POST', 'DELETE', 'PATCH', 'PUT'] as const) {
      const interceptor = nock(COMPUTE_ORIGIN).persist().intercept(/.*/, method);
      const handle = (uri: string, body: unknown, auth: string): Promise<Reply> =>
        this.handle(method, uri, body, auth);
      interceptor.reply(function (uri, body, callback) {
        const auth = String(this.req.headers['authorization'] ?? '');
        handle(uri, body, auth).then(
          (reply) => {
            if ('drop' in reply)
              callback(Object.assign(new Error(reply.drop), { code: 'ECONNRESET' }), [0, '']);
            else
              callback(null, [
                reply.status,
                reply.body as nock.Body,
                { 'content-type': 'application/json; charset=UTF-8', ...reply.headers },
              ]);
          },
          (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), [0, '']),
        );
      });
      this.#interceptors.push(interceptor);
    }
    const token = nock(TOKEN_ORIGIN).persist().intercept('/token', 'POST');
    token.reply((_uri, body) => {
      const form = new URLSearchParams(typeof body === 'string' ? body : '');
      if (form.get('grant_type') === 'refresh_token') {
        // User credentials (the gcloud ADC file is one): a refresh token for an access token.
        const clientId = form.get('client_id');
        if (!clientId || !form.get('refresh_token'))
          return [
            400,
            { error: 'invalid_request', error_description: 'Missing client_id or refresh_token' },
          ];
        this.tokenRequests.push({ iss: clientId });
        return [
          200,
          {
            access_token: `fake-user-token-${this.tokenRequests.length}`,
            expires_in: 3599,
            token_type: 'Bearer',
            scope: 'https://www.googleapis.com/auth/cloud-platform',
          },
        ];
      }
      const assertion = form.get('assertion') ?? '';
      const payload = assertion.split('.')[1];
      let claims: { iss?: string; scope?: string } = {};
      if (payload !== undefined)
        claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
          iss?: string;
          scope?: string;
        };
      if (
        form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer' ||
        claims.iss === undefined
      )
        return [
          400,
          { error: 'invalid_grant', error_description: 'Invalid JWT: missing assertion or issuer' },
        ];
      this.tokenRequests.push(claims);
      return [
        200,
        {
          access_token: `fake-sa-token-${this.tokenRequests.length}`,
          expires_in: 3599,
          token_type: 'Bearer',
        },
      ];
    });
    this.#interceptors.push(token);
    return this;
  }

  /** Removes the interceptors. */
  restore(): void {
    for (const i of this.#interceptors) nock.removeInterceptor(i);
    this.#interceptors.length = 0;
  }

  // --- dispatch --------------------------------------------------------------------

  async handle(
    method: string,
    uri: string,
    rawBody: unknown,
    authorization: string,
  ): Promise<Reply> {
    const url = new URL(uri, COMPUTE_ORIGIN);
    const token = /^Bearer (.+)$/.exec(authorization)?.[1];
    if (
      token === undefined ||
      (this.#o.acceptTokens !== undefined && !this.#o.acceptTokens.includes(token))
    )
      return fail(unauthenticated());
    this.seenTokens.add(token);
    const m = /^\/compute\/v1\/projects\/([^/]+)\/(.*)$/.exec(url.pathname);
    if (m === null) return fail(notFound(url.pathname));
    const project = decodeURIComponent(m[1]!);
    const segments = m[2]!.split('/').map(decodeURIComponent);
    const body =
      (typeof rawBody === 'string'
        ? rawBody === ''
          ? {}
          : (JSON.parse(rawBody) as Json)
        : (rawBody as Json)) ?? {};
    const route = this.#route(method, project, segments, url.searchParams, body);
    if (route === undefined) return fail(notFound(`projects/${project}/${segments.join('/')}`));
    if (this.#throttle > 0) {
      this.#throttle--;
      this.#refuse('throttle');
      return fail(
        rateLimited(
          this.#o.quota?.status ?? 429,
          'Queries',
          this.#o.quota?.queries ?? 1500,
          this.project,
        ),
      );
    }
    if (this.#transient > 0) {
      this.#transient--;
      this.#refuse('transient');
      return fail(backendError(this.#transient % 2 === 0 ? 503 : 500));
    }
    const overQuota = this.#chargeQuota(route.kind);
    if (overQuota !== undefined) {
      this.#refuse('quota');
      return fail(overQuota);
    }
    this.calls.set(route.name, (this.calls.get(route.name) ?? 0) + 1);
    try {
      return await route.run();
    } catch (err) {
      if (err instanceof Failure) return fail(err.error);
      throw err;
    }
  }

  #refuse(reason: string): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
  }

  #chargeQuota(kind: RouteMatch['kind']): GoogleError | undefined {
    const q = this.#o.quota ?? {};
    const windowMs = q.windowMs ?? 60_000;
    const start = Math.floor(this.clock.now() / windowMs) * windowMs;
    if (start !== this.#windowStart) {
      this.#windowStart = start;
      this.#window.clear();
    }
    const metrics: [string, string, number][] = [['queries', 'Queries', q.queries ?? 1500]];
    if (kind === 'read' || kind === 'list')
      metrics.push(['reads', 'Read requests', q.reads ?? 1500]);
    if (kind === 'mutation')
      metrics.push(['mutations', 'Mutation requests', q.mutations ?? Infinity]);
    if (kind === 'operationRead')
      metrics.push(['operationReads', 'Operation read requests', q.operationReads ?? Infinity]);
    for (const [key, metric, limit] of metrics)
      if ((this.#window.get(key) ?? 0) + 1 > limit)
        return rateLimited(q.status ?? 429, metric, limit, this.project);
    for (const [key] of metrics) this.#window.set(key, (this.#window.get(key) ?? 0) + 1);
    return undefined;
  }

  #route(
    method: string,
    project: string,
    s: string[],
    query: URLSearchParams,
    body: Json,
  ): RouteMatch | undefined {
    const imageProject = PUBLIC_IMAGES.some((i) => i.project === project);
    if (
      project !== this.project &&
      !(imageProject && method === 'GET' && s[0] === 'global' && s[1] === 'images')
    )
      return undefined;
    const p = this.project;
    const r = (
      name: string,
      kind: RouteMatch['kind'],
      run: () => Reply | Promise<Reply>,
    ): RouteMatch => ({ name, kind, run });
    const [a, b, c, d, e, f] = s;
    if (a === 'zones') {
      if (b === undefined)
        return method === 'GET'
          ? r('zones.list', 'list', () =>
              this.#list('compute#zoneList', `projects/${p}/zones`, this.#zonesJson(), query),
            )
          : undefined;
      const zone = b;
      if (!this.allZones.includes(zone))
        return r('zones.get', 'read', () => fail(notFound(`projects/${p}/zones/${zone}`)));
      if (c === undefined)
        return method === 'GET'
          ? r('zones.get', 'read', () => ok(this.#zonesJson().find((z) => z['name'] === zone)))
          : undefined;
      if (c === 'machineTypes' && method === 'GET') {
        if (d === undefined)
          return r('machineTypes.list', 'list', () =>
            this.#list(
              'compute#machineTypeList',
              `projects/${p}/zones/${zone}/machineTypes`,
              this.#machineTypes(zone),
              query,
            ),
          );
        return r('machineTypes.get', 'read', () => {
          const t = this.#resolveType(zone, d);
          return t === undefined
            ? fail(notFound(`projects/${p}/zones/${zone}/machineTypes/${d}`))
            : ok(
                this.#machineTypes(zone).find((x) => x['name'] === d) ??
                  this.#customTypeJson(zone, t),
              );
        });
      }
      if (c === 'acceleratorTypes' && method === 'GET' && d === undefined)
        return r('acceleratorTypes.list', 'list', () =>
          this.#list(
            'compute#acceleratorTypeList',
            `projects/${p}/zones/${zone}/acceleratorTypes`,
            this.#accelerators(zone),
            query,
          ),
        );
      if (c === 'instances') {
        if (d === undefined && method === 'GET')
          return r('instances.list', 'list', () =>
            this.#list(
              'compute#instanceList',
              `projects/${p}/zones/${zone}/instances`,
              this.#visibleInstances(zone),
              query,
            ),
          );
        if (d === undefined && method === 'POST')
          return r('instances.insert', 'mutation', () => this.#insert(zone, query, body));
        if (d === 'bulkInsert' && method === 'POST')
          return r('instances.bulkInsert', 'mutation', () => this.#bulkInsert(zone, query, body));
        if (d !== undefined && e === undefined && method === 'GET')
          return r('instances.get', 'read', () => ok(this.#instance(zone, d).json));
        if (d !== undefined && e === undefined && method === 'DELETE')
          return r('instances.delete', 'mutation', () => this.#delete(zone, d, query));
        if (d !== undefined && (e === 'start' || e === 'stop') && method === 'POST')
          return r(`instances.${e}`, 'mutation', () => this.#power(zone, d, e, query));
        return undefined;
      }
      if (c === 'operations' && d !== undefined) {
        if (e === undefined && method === 'GET')
          return r('zoneOperations.get', 'operationRead', () => ok(this.#op(d, { zone }).json));
        if (e === 'wait' && method === 'POST')
          return r('zoneOperations.wait', 'operationRead', () => this.#wait(d, { zone }));
      }
      return undefined;
    }
    if (a === 'aggregated' && method === 'GET') {
      if (b === 'instances')
        return r('instances.aggregatedList', 'list', () =>
          this.#aggregated(
            'compute#instanceAggregatedList',
            'instances',
            (z) => this.#visibleInstances(z),
            query,
          ),
        );
      if (b === 'machineTypes')
        return r('machineTypes.aggregatedList', 'list', () =>
          this.#aggregated(
            'compute#machineTypeAggregatedList',
            'machineTypes',
            (z) => this.#machineTypes(z),
            query,
          ),
        );
      if (b === 'acceleratorTypes')
        return r('acceleratorTypes.aggregatedList', 'list', () =>
          this.#aggregated(
            'compute#acceleratorTypeAggregatedList',
            'acceleratorTypes',
            (z) => this.#accelerators(z),
            query,
          ),
        );
      return undefined;
    }
    if (a === 'regions' && b !== undefined) {
      const region = b;
      if (c === 'operations' && d !== undefined) {
        if (e === undefined && method === 'GET')
          return r('regionOperations.get', 'operationRead', () => ok(this.#op(d, { region }).json));
        if (e === 'wait' && method === 'POST')
          return r('regionOperations.wait', 'operationRead', () => this.#wait(d, { region }));
      }
      if (c === 'subnetworks') {
        if (d === undefined && method === 'GET')
          return r('subnetworks.list', 'list', () =>
            this.#list(
              'compute#subnetworkList',
              `projects/${p}/regions/${region}/subnetworks`,
              [...this.subnetworks.values()].filter((x) => last(str(x['region']) ?? '') === region),
              query,
            ),
          );
        if (d === undefined && method === 'POST')
          return r('subnetworks.insert', 'mutation', () => this.#insertSubnetwork(region, body));
        if (d !== undefined && method === 'GET')
          return r('subnetworks.get', 'read', () =>
            ok(
              this.#get(
                this.subnetworks,
                `${region}/${d}`,
                `projects/${p}/regions/${region}/subnetworks/${d}`,
              ),
            ),
          );
        if (d !== undefined && method === 'DELETE')
          return r('subnetworks.delete', 'mutation', () => this.#deleteSubnetwork(region, d));
      }
      return undefined;
    }
    if (a === 'global') {
      if (b === 'images' && method === 'GET') {
        if (c === 'family' && d !== undefined)
          return r('images.getFromFamily', 'read', () => this.#fromFamily(project, d));
        if (c !== undefined && d === undefined)
          return r('images.get', 'read', () => {
            const img = this.#images.get(`${project}/${c}`);
            return img === undefined
              ? fail(notFound(`projects/${project}/global/images/${c}`))
              : ok(imageJson(img));
          });
        return undefined;
      }
      if (b === 'operations' && c !== undefined) {
        if (d === undefined && method === 'GET')
          return r('globalOperations.get', 'operationRead', () => ok(this.#op(c, 'global').json));
        if (d === 'wait' && method === 'POST')
          return r('globalOperations.wait', 'operationRead', () => this.#wait(c, 'global'));
      }
      if (b === 'networks') {
        if (c === undefined && method === 'GET')
          return r('networks.list', 'list', () =>
            this.#list(
              'compute#networkList',
              `projects/${p}/global/networks`,
              [...this.networks.values()],
              query,
            ),
          );
        if (c === undefined && method === 'POST')
          return r('networks.insert', 'mutation', () => this.#insertNetwork(body));
        if (c !== undefined && method === 'GET')
          return r('networks.get', 'read', () =>
            ok(this.#get(this.networks, c, `projects/${p}/global/networks/${c}`)),
          );
        if (c !== undefined && method === 'DELETE')
          return r('networks.delete', 'mutation', () => this.#deleteNetwork(c));
      }
      if (b === 'firewalls') {
        if (c === undefined && method === 'GET')
          return r('firewalls.list', 'list', () =>
            this.#list(
              'compute#firewallList',
              `projects/${p}/global/firewalls`,
              [...this.firewalls.values()],
              query,
            ),
          );
        if (c === undefined && method === 'POST')
          return r('firewalls.insert', 'mutation', () => this.#insertFirewall(body));
        if (c !== undefined && method === 'GET')
          return r('firewalls.get', 'read', () =>
            ok(this.#get(this.firewalls, c, `projects/${p}/global/firewalls/${c}`)),
          );
        if (c !== undefined && method === 'DELETE')
          return r('firewalls.delete', 'mutation', () => this.#deleteFirewall(c));
      }
    }
    void f;
    return undefined;
  }

  // --- listing ---------------------------------------------------------------------

  #pageOf<T extends Json>(
    items: readonly T[],
    query: URLSearchParams,
  ): { page: T[]; next?: string } {
    const max = Math.min(500, Math.max(1, Number(query.get('maxResults') ?? 500)));
    let offset = 0;
    const token = query.get('pageToken');
    if (token) {
      let decoded: { o?: number } = {};
      try {
        decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: number };
      } catch {
        // an unreadable token is answered as an invalid one, below
      }
      if (typeof decoded.o !== 'number')
        throw new Failure(invalidField('pageToken', token, 'Invalid page token.'));
      offset = decoded.o;
    }
    const page = items.slice(offset, offset + max);
    return offset + max < items.length
      ? { page, next: Buffer.from(JSON.stringify({ o: offset + max })).toString('base64url') }
      : { page };
  }

  #filtered<T extends Json>(items: readonly T[], query: URLSearchParams): T[] {
    const filter = query.get('filter');
    if (!filter) return [...items];
    let node: ReturnType<typeof parseFilter>;
    try {
      node = parseFilter(filter);
    } catch (err) {
      throw new Failure(
        invalidField(
          'filter',
          filter,
          `Invalid list filter expression (${(err as Error).message}).`,
        ),
      );
    }
    return items.filter((i) => matchesFilter(node, i));
  }

  #list(kind: string, path: string, items: readonly Json[], query: URLSearchParams): Reply {
    const { page, next } = this.#pageOf(this.#filtered(items, query), query);
    return ok({
      kind,
      id: path,
      items: page,
      selfLink: `${API}/${path}`,
      ...(next === undefined ? {} : { nextPageToken: next }),
    });
  }

  #aggregated(
    kind: string,
    field: string,
    perZone: (zone: string) => Json[],
    query: URLSearchParams,
  ): Reply {
    const flat: { scope: string; item: Json }[] = [];
    for (const zone of this.allZones)
      for (const item of this.#filtered(perZone(zone), query))
        flat.push({ scope: `zones/${zone}`, item });
    const { page, next } = this.#pageOf(
      flat.map((x) => ({ ...x })),
      query,
    );
    const items: Record<string, Json> = {};
    for (const zone of this.allZones) {
      const scope = `zones/${zone}`;
      const onPage = page.filter((x) => x.scope === scope).map((x) => x.item);
      items[scope] =
        onPage.length > 0
          ? { [field]: onPage }
          : {
              warning: {
                code: 'NO_RESULTS_ON_PAGE',
                message: `There are no results for scope '${scope}' on this page.`,
                data: [{ key: 'scope', value: scope }],
              },
            };
    }
    return ok({
      kind,
      id: `projects/${this.project}/aggregated/${field}`,
      items,
      selfLink: `${API}/projects/${this.project}/aggregated/${field}`,
      ...(next === undefined ? {} : { nextPageToken: next }),
    });
  }

  #zonesJson(): Json[] {
    return Object.entries(this.zonesByRegion).flatMap(([region, zones]) =>
      zones.map((zone, i) => ({
        kind: 'compute#zone',
        id: String(2000 + this.allZones.indexOf(zone)),
        creationTimestamp: '1969-12-31T16:00:00.000-08:00',
        name: zone,
        description: zone,
        status: 'UP',
        region: `${API}/projects/${this.project}/regions/${region}`,
        selfLink: `${API}/projects/${this.project}/zones/${zone}`,
        availableCpuPlatforms: [
          'Intel Cascade Lake',
          'AMD Milan',
          ...(i === 0 ? ['Ampere Altra'] : []),
        ],
        supportsPzs: false,
      })),
    );
  }

  #machineTypes(zone: string): Json[] {
    return MACHINE_TYPES.filter((t) => t.zones === undefined || t.zones.includes(zone)).map((t) =>
      machineTypeJson(t, this.project, zone),
    );
  }

  #accelerators(zone: string): Json[] {
    return ACCELERATOR_TYPES.filter((a) => a.zones.includes(zone)).map((a) =>
      acceleratorTypeJson(a, this.project, zone),
    );
  }

  #customTypeJson(zone: string, t: ResolvedType): Json {
    return {
      kind: 'compute#machineType',
      name: t.name,
      description: `Custom created machine type.`,
      guestCpus: t.guestCpus,
      memoryMb: t.memoryMb,
      maximumPersistentDisks: 128,
      maximumPersistentDisksSizeGb: '263168',
      zone,
      selfLink: `${API}/projects/${this.project}/zones/${zone}/machineTypes/${t.name}`,
      isSharedCpu: false,
    };
  }

  /**
   * A machine type offered in `zone`: predefined, or custom within the family rules
   * (written out here independently of kumo's own, so each checks the other).
   */
  #resolveType(zone: string, name: string): ResolvedType | undefined {
    const def = MACHINE_TYPES.find(
      (t) => t.name === name && (t.zones === undefined || t.zones.includes(zone)),
    );
    if (def !== undefined)
      return def.deprecated === 'OBSOLETE'
        ? undefined
        : { name, guestCpus: def.guestCpus, memoryMb: def.memoryMb, family: name.split('-')[0]! };
    const m = /^(?:(e2|n2|n2d)-)?custom-(\d+)-(\d+)(-ext)?$/.exec(name);
    if (m === null) return undefined;
    const family = m[1] ?? 'n1';
    const cpus = Number(m[2]);
    const mem = Number(m[3]);
    const ext = m[4] !== undefined;
    const offered = MACHINE_TYPES.some(
      (t) => t.name.startsWith(`${family}-`) && (t.zones === undefined || t.zones.includes(zone)),
    );
    if (!offered || mem % 256 !== 0) return undefined;
    const perCpu = mem / cpus / 1024;
    const rules: Record<
      string,
      { cpus: (c: number) => boolean; min: number; max: number; total: number; ext: boolean }
    > = {
      n1: {
        cpus: (c) => c === 1 || (c % 2 === 0 && c <= 96),
        min: 0.9,
        max: 6.5,
        total: 624,
        ext: true,
      },
      e2: {
        cpus: (c) => c % 2 === 0 && c >= 2 && c <= 32,
        min: 0.5,
        max: 8,
        total: 128,
        ext: false,
      },
      n2: {
        cpus: (c) => (c % 2 === 0 && c >= 2 && c <= 32) || (c % 4 === 0 && c > 32 && c <= 128),
        min: 0.5,
        max: 8,
        total: 864,
        ext: true,
      },
      n2d: {
        cpus: (c) => [2, 4, 8, 16, 32, 48, 64, 80, 96].includes(c),
        min: 0.5,
        max: 8,
        total: 768,
        ext: true,
      },
    };
    const rule = rules[family]!;
    if (
      !rule.cpus(cpus) ||
      perCpu < rule.min ||
      (!ext && perCpu > rule.max) ||
      (ext && !rule.ext) ||
      mem / 1024 > rule.total
    )
      return undefined;
    return { name, guestCpus: cpus, memoryMb: mem, family };
  }

  #visibleInstances(zone: string): Json[] {
    const now = this.clock.now();
    return [...this.instances.values()]
      .filter((i) => i.zone === zone && i.visibleAt <= now)
      .map((i) => i.json);
  }

  #instance(zone: string, name: string): InstanceRecord {
    const rec = this.instances.get(`${zone}/${name}`);
    if (rec === undefined)
      throw new Failure(notFound(`projects/${this.project}/zones/${zone}/instances/${name}`));
    return rec;
  }

  #get(map: Map<string, Json>, key: string, resource: string): Json {
    const v = map.get(key);
    if (v === undefined) throw new Failure(notFound(resource));
    return v;
  }

  #fromFamily(project: string, family: string): Reply {
    const newest = [...this.#images.values()]
      .filter((i) => i.project === project && i.family === family && i.deprecated === undefined)
      .sort((x, y) => (x.created < y.created ? 1 : -1))[0];
    return newest === undefined
      ? fail(notFound(`projects/${project}/global/images/family/${family}`))
      : ok(imageJson(newest));
  }

  // --- operations ------------------------------------------------------------------

  /**
   * Starts an operation; it is answered RUNNING and becomes DONE after `operationMs`,
   * when `effect` runs (or the error is set).
   */
  #startOp(
    type: string,
    scope: OpRecord['scope'],
    target: string,
    requestId: string | undefined,
    effect: () => OperationError | undefined,
    extra: Json = {},
  ): OpRecord {
    const now = this.clock.now();
    const name = `operation-${now}-${randomBytes(6).toString('hex')}`;
    const where =
      scope === 'global'
        ? {}
        : 'zone' in scope
          ? { zone: `${API}/projects/${this.project}/zones/${scope.zone}` }
          : { region: `${API}/projects/${this.project}/regions/${scope.region}` };
    const path =
      scope === 'global'
        ? 'global'
        : 'zone' in scope
          ? `zones/${scope.zone}`
          : `regions/${scope.region}`;
    const json: Json = {
      kind: 'compute#operation',
      id: nextId(),
      name,
      ...where,
      operationType: type,
      targetLink: `${API}/projects/${this.project}/${target}`,
      targetId: nextId(),
      status: 'RUNNING',
      user: 'kumo-test@kumo-test.iam.gserviceaccount.com',
      progress: 0,
      insertTime: rfc3339(now),
      startTime: rfc3339(now),
      selfLink: `${API}/projects/${this.project}/${path}/operations/${name}`,
      ...extra,
    };
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const rec: OpRecord = { json, scope, done: false, finished, finish };
    this.operations.set(name, rec);
    if (requestId !== undefined) this.#requestIds.set(requestId, name);
    this.clock.schedule(this.#o.operationMs ?? 0, () => {
      const error = effect();
      rec.done = true;
      Object.assign(json, { status: 'DONE', progress: 100, endTime: rfc3339(this.clock.now()) });
      if (error !== undefined)
        Object.assign(json, {
          error: { errors: [{ code: error.code, message: error.message }] },
          httpErrorStatusCode: error.httpStatus,
          httpErrorMessage: error.httpMessage,
        });
      finish();
    });
    return rec;
  }

  #op(name: string, scope: OpRecord['scope']): OpRecord {
    const rec = this.operations.get(name);
    const same =
      rec !== undefined &&
      (scope === 'global'
        ? rec.scope === 'global'
        : rec.scope !== 'global' && JSON.stringify(rec.scope) === JSON.stringify(scope));
    if (!same) {
      const path =
        scope === 'global'
          ? 'global'
          : 'zone' in scope
            ? `zones/${scope.zone}`
            : `regions/${scope.region}`;
      throw new Failure(notFound(`projects/${this.project}/${path}/operations/${name}`));
    }
    return rec;
  }

  async #wait(name: string, scope: OpRecord['scope']): Promise<Reply> {
    const rec = this.#op(name, scope);
    if (!rec.done) {
      let cancel = (): void => {};
      const capped = new Promise<void>(
        (resolve) => (cancel = this.clock.schedule(this.#o.waitMaxMs ?? 120_000, resolve)),
      );
      await Promise.race([rec.finished, capped]);
      cancel();
    }
    return ok(rec.json);
  }

  /** A request id seen before: the first request's operation, whatever this body says. */
  #replay(query: URLSearchParams): Reply | undefined {
    const requestId = query.get('requestId');
    if (requestId === null) return undefined;
    if (!UUID.test(requestId) || /^[0-]+$/.test(requestId))
      throw new Failure(
        invalidField('requestId', requestId, 'Must be a valid UUID other than the zero UUID.'),
      );
    const name = this.#requestIds.get(requestId);
    return name === undefined ? undefined : ok(this.operations.get(name)!.json);
  }

  // --- instances -------------------------------------------------------------------

  #checkLabels(labels: unknown, field: string): Record<string, string> {
    const out: Record<string, string> = {};
    const entries = Object.entries((labels as Record<string, unknown>) ?? {});
    if (entries.length > 64)
      throw new Failure(invalidField(field, `${entries.length} labels`, 'At most 64 labels.'));
    for (const [k, v] of entries) {
      if (!LABEL_KEY.test(k) || typeof v !== 'string' || !LABEL_VALUE.test(v))
        throw new Failure(
          invalidField(
            `${field}.${k}`,
            v,
            'Label keys and values must be lowercase letters, digits, "_" and "-", at most 63 characters; keys start with a letter.',
          ),
        );
      out[k] = v;
    }
    return out;
  }

  #sourceImage(value: unknown, field: string): ImageDef {
    const link = str(value) ?? '';
    const m = /(?:^|\/)projects\/([^/]+)\/global\/images\/(family\/)?([^/]+)$/.exec(link);
    if (m === null)
      throw new Failure(
        invalidField(field, link, 'Must be a URL to a valid Compute resource of type image.'),
      );
    const img = m[2]
      ? [...this.#images.values()]
          .filter((i) => i.project === m[1] && i.family === m[3] && !i.deprecated)
          .sort((x, y) => (x.created < y.created ? 1 : -1))[0]
      : this.#images.get(`${m[1]}/${m[3]}`);
    if (img === undefined)
      throw new Failure(notFound(`projects/${m[1]}/global/images/${m[2] ?? ''}${m[3]}`));
    return img;
  }

  /** Checks an instance body (insert) or instance properties (bulk) and builds the instance's JSON for `name`. */
  #buildInstance(
    zone: string,
    name: string,
    props: Json,
    bulk: boolean,
  ): { json: Json; cpus: number } {
    const field = bulk ? 'resource.instanceProperties' : 'resource';
    if (!NAME.test(name))
      throw new Failure(
        invalidField(
          `${bulk ? 'resource.perInstanceProperties' : 'resource.name'}`,
          name,
          "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'",
        ),
      );
    const mtValue = str(props['machineType']) ?? '';
    let typeName: string;
    if (bulk) {
      // NOTE: as documented: instance properties take a machine type *name*; a URL fails.
      if (mtValue.includes('/'))
        throw new Failure(
          invalidField(
            `${field}.machineType`,
            mtValue,
            'Instance properties accept a machine type name only, for example n2-standard-4.',
          ),
        );
      typeName = mtValue;
    } else {
      const m = /(?:^|\/)zones\/([^/]+)\/machineTypes\/([^/]+)$/.exec(mtValue);
      if (m === null)
        throw new Failure(
          invalidField(
            `${field}.machineType`,
            mtValue,
            'Must be a URL to a valid Compute resource of type machineType.',
          ),
        );
      if (m[1] !== zone)
        throw new Failure(
          invalidField(`${field}.machineType`, mtValue, `Machine type must be in zone ${zone}.`),
        );
      typeName = m[2]!;
    }
    const type = this.#resolveType(zone, typeName);
    if (type === undefined)
      throw new Failure(
        invalidField(
          `${field}.machineType`,
          mtValue,
          `Machine type with name '${typeName}' does not exist in zone '${zone}' or is not a valid custom machine type.`,
        ),
      );
    const labels = this.#checkLabels(props['labels'], `${field}.labels`);
    const disks = (props['disks'] as Json[] | undefined) ?? [];
    const boot = disks.find((d) => d['boot'] === true) ?? disks[0];
    if (boot === undefined)
      throw new Failure(invalidField(`${field}.disks`, '', 'At least one boot disk is required.'));
    const init = (boot['initializeParams'] as Json | undefined) ?? {};
    const image = this.#sourceImage(
      init['sourceImage'],
      `${field}.disks[0].initializeParams.sourceImage`,
    );
    const diskSizeGb = Number(init['diskSizeGb'] ?? image.diskSizeGb);
    if (!Number.isInteger(diskSizeGb) || diskSizeGb < image.diskSizeGb)
      throw new Failure(
        invalidField(
          `${field}.disks[0].initializeParams.diskSizeGb`,
          String(init['diskSizeGb']),
          `Requested disk size cannot be smaller than the image size (${image.diskSizeGb} GB).`,
        ),
      );
    const archOk = (type.family === 't2a') === (image.arch === 'ARM64');
    if (!archOk)
      throw new Failure(
        invalid(
          `The architecture of image '${image.name}' (${image.arch}) does not match machine type '${typeName}'.`,
        ),
      );
    const scheduling = (props['scheduling'] as Json | undefined) ?? {};
    const spot = scheduling['provisioningModel'] === 'SPOT';
    if (spot && scheduling['automaticRestart'] === true)
      throw new Failure(
        invalidField(
          `${field}.scheduling.automaticRestart`,
          'true',
          'Spot VMs cannot restart automatically.',
        ),
      );
    if (spot && scheduling['onHostMaintenance'] === 'MIGRATE')
      throw new Failure(
        invalidField(
          `${field}.scheduling.onHostMaintenance`,
          'MIGRATE',
          'Spot VMs must terminate on host maintenance.',
        ),
      );
    const accelerators = (props['guestAccelerators'] as Json[] | undefined) ?? [];
    for (const acc of accelerators) {
      const at = str(acc['acceleratorType']) ?? '';
      const accName = bulk ? at : /(?:^|\/)zones\/[^/]+\/acceleratorTypes\/([^/]+)$/.exec(at)?.[1];
      const def = ACCELERATOR_TYPES.find((x) => x.name === accName && x.zones.includes(zone));
      if (def === undefined)
        throw new Failure(
          invalidField(
            `${field}.guestAccelerators[0].acceleratorType`,
            at,
            `Accelerator type is not available in zone ${zone}.`,
          ),
        );
      if (Number(acc['acceleratorCount']) > def.maximumCardsPerInstance)
        throw new Failure(
          invalid(`At most ${def.maximumCardsPerInstance} ${def.name} per instance.`),
        );
      if (type.family !== 'n1')
        throw new Failure(
          invalid(`Accelerators can only be attached to N1 machine types, not ${typeName}.`),
        );
      if (scheduling['onHostMaintenance'] !== 'TERMINATE')
        throw new Failure(
          invalid('Instances with guest accelerators do not support live migration.'),
        );
    }
    const metadataItems =
      ((props['metadata'] as Json | undefined)?.['items'] as
        { key: string; value: string }[] | undefined) ?? [];
    const keys = new Set<string>();
    for (const item of metadataItems) {
      if (!/^[a-zA-Z0-9_-]{1,128}$/.test(item.key) || keys.has(item.key))
        throw new Failure(
          invalidField(
            `${field}.metadata.items`,
            item.key,
            'Metadata keys must be unique and match [a-zA-Z0-9-_]{1,128}.',
          ),
        );
      keys.add(item.key);
    }
    if (JSON.stringify(metadataItems).length > 512 * 1024)
      throw new Failure(invalid('Metadata is limited to 512 KB in total.'));
    const nics = (props['networkInterfaces'] as Json[] | undefined) ?? [
      { network: `projects/${this.project}/global/networks/default` },
    ];
    const nic = nics[0] ?? {};
    const netName = last(str(nic['network']) ?? 'default');
    const net = this.networks.get(netName);
    if (net === undefined)
      throw new Failure(notFound(`projects/${this.project}/global/networks/${netName}`));
    const region = regionOf(zone);
    let subnet: Json | undefined;
    if (nic['subnetwork'] !== undefined) {
      const m = /regions\/([^/]+)\/subnetworks\/([^/]+)$/.exec(str(nic['subnetwork']) ?? '');
      subnet = m === null ? undefined : this.subnetworks.get(`${m[1]}/${m[2]}`);
      if (subnet === undefined || m?.[1] !== region)
        throw new Failure(notFound(str(nic['subnetwork']) ?? 'subnetwork'));
      if (last(str(subnet['network']) ?? '') !== netName)
        throw new Failure(invalid(`Subnetwork ${m[2]} does not belong to network ${netName}.`));
    } else if (net['autoCreateSubnetworks'] === true) {
      subnet = [...this.subnetworks.values()].find(
        (s) => last(str(s['network']) ?? '') === netName && last(str(s['region']) ?? '') === region,
      );
    } else
      throw new Failure(
        invalidField(
          `${field}.networkInterfaces[0]`,
          '',
          'Subnetwork should be specified for custom subnetmode network',
        ),
      );
    if (subnet === undefined)
      throw new Failure(invalid(`Network ${netName} has no subnetwork in ${region}.`));
    const subnetKey = `${region}/${str(subnet['name'])}`;
    const base = ipToInt((str(subnet['ipCidrRange']) ?? '10.0.0.0/8').split('/')[0]!);
    const offset = (this.#ipNext.get(subnetKey) ?? 2) + 0;
    this.#ipNext.set(subnetKey, offset + 1);
    const external = ((nic['accessConfigs'] as Json[] | undefined) ?? []).length > 0;
    const now = this.clock.now();
    const nat = external ? intToIp(ipToInt('34.0.0.0') + ++this.#natNext) : undefined;
    const json: Json = {
      kind: 'compute#instance',
      id: nextId(),
      creationTimestamp: rfc3339(now),
      name,
      ...(props['description'] === undefined ? {} : { description: props['description'] }),
      tags: { ...(props['tags'] ?? {}), fingerprint: randomBytes(8).toString('base64') },
      machineType: `${API}/projects/${this.project}/zones/${zone}/machineTypes/${typeName}`,
      status: 'PROVISIONING',
      zone: `${API}/projects/${this.project}/zones/${zone}`,
      canIpForward: false,
      networkInterfaces: [
        {
          kind: 'compute#networkInterface',
          network: `${API}/projects/${this.project}/global/networks/${netName}`,
          subnetwork: str(subnet['selfLink']),
          networkIP: intToIp(base + offset),
          name: 'nic0',
          ...(nat === undefined
            ? {}
            : {
                accessConfigs: [
                  {
                    kind: 'compute#accessConfig',
                    type: 'ONE_TO_ONE_NAT',
                    name: 'External NAT',
                    natIP: nat,
                    networkTier: 'PREMIUM',
                  },
                ],
              }),
          fingerprint: randomBytes(8).toString('base64'),
          stackType: 'IPV4_ONLY',
        },
      ],
      disks: [
        {
          kind: 'compute#attachedDisk',
          type: 'PERSISTENT',
          mode: 'READ_WRITE',
          source: `${API}/projects/${this.project}/zones/${zone}/disks/${name}`,
          deviceName: 'persistent-disk-0',
          index: 0,
          boot: true,
          autoDelete: true,
          licenses: [`${API}/projects/${image.project}/global/licenses/${image.family}`],
          interface: 'SCSI',
          diskSizeGb: String(diskSizeGb),
          architecture: image.arch,
        },
      ],
      metadata: {
        kind: 'compute#metadata',
        fingerprint: randomBytes(8).toString('base64'),
        items: metadataItems,
      },
      ...(props['serviceAccounts'] === undefined
        ? {}
        : { serviceAccounts: props['serviceAccounts'] }),
      selfLink: `${API}/projects/${this.project}/zones/${zone}/instances/${name}`,
      scheduling: {
        onHostMaintenance: 'MIGRATE',
        automaticRestart: true,
        preemptible: false,
        provisioningModel: 'STANDARD',
        ...scheduling,
      },
      cpuPlatform: 'Unknown CPU Platform',
      labels,
      labelFingerprint: randomBytes(8).toString('base64'),
      startRestricted: false,
      deletionProtection: false,
      ...(accelerators.length === 0
        ? {}
        : {
            guestAccelerators: accelerators.map((acc) => ({
              acceleratorType: `${API}/projects/${this.project}/zones/${zone}/acceleratorTypes/${last(str(acc['acceleratorType']) ?? '')}`,
              acceleratorCount: Number(acc['acceleratorCount']),
            })),
          }),
      fingerprint: randomBytes(8).toString('base64'),
    };
    return { json, cpus: type.guestCpus };
  }

  /** Why `count` more instances of `cpus` vCPUs each cannot be made in `zone`, if they cannot. */
  #capacityError(
    zone: string,
    cpus: number,
    count: number,
    typeName: string,
  ): OperationError | undefined {
    if (this.#capacity > 0) {
      this.#capacity--;
      return zoneExhausted(zone, typeName);
    }
    if (this.#quota > 0) {
      this.#quota--;
      return quotaExceeded('CPUS', this.#o.regionCpuQuota ?? 24, regionOf(zone));
    }
    if (this.#exhausted.has(zone)) return zoneExhausted(zone, typeName);
    const used = (filter: (r: InstanceRecord) => boolean): number =>
      [...this.instances.values()].filter(filter).reduce((n, r) => n + r.cpus, 0);
    const cap = this.#o.zoneCapacityCpus?.[zone];
    if (cap !== undefined && used((r) => r.zone === zone) + cpus * count > cap)
      return zoneExhausted(zone, typeName);
    const quota = this.#o.regionCpuQuota;
    if (
      quota !== undefined &&
      used((r) => regionOf(r.zone) === regionOf(zone)) + cpus * count > quota
    )
      return quotaExceeded('CPUS', quota, regionOf(zone));
    return undefined;
  }

  #create(zone: string, built: { json: Json; cpus: number }[]): void {
    const now = this.clock.now();
    for (const b of built) {
      this.instances.set(`${zone}/${String(b.json['name'])}`, {
        json: b.json,
        zone,
        cpus: b.cpus,
        visibleAt: now + (this.#o.visibilityDelayMs ?? 0),
      });
      this.created++;
    }
  }

  #boot(built: { json: Json }[]): void {
    const run = (): void => {
      for (const b of built) {
        if (b.json['status'] !== 'PROVISIONING' && b.json['status'] !== 'STAGING') continue;
        Object.assign(b.json, {
          status: 'RUNNING',
          cpuPlatform: 'Intel Cascade Lake',
          lastStartTimestamp: rfc3339(this.clock.now()),
        });
      }
    };
    for (const b of built) b.json['status'] = 'STAGING';
    if ((this.#o.bootMs ?? 0) === 0) run();
    else this.clock.schedule(this.#o.bootMs ?? 0, run);
  }

  /** A create call's answer, or a dropped connection after the cloud acted (fault). */
  #answerCreate(op: OpRecord): Reply {
    if (this.#dropAfterCreate > 0) {
      this.#dropAfterCreate--;
      this.#refuse('dropAfterCreate');
      return { drop: 'socket hang up' };
    }
    return ok(op.json);
  }

  #insert(zone: string, query: URLSearchParams, body: Json): Reply {
    const replay = this.#replay(query);
    if (replay !== undefined) return replay;
    const name = str(body['name']) ?? '';
    if (this.instances.has(`${zone}/${name}`))
      return fail(alreadyExists(`projects/${this.project}/zones/${zone}/instances/${name}`));
    const built = this.#buildInstance(zone, name, body, false);
    const error = this.#capacityError(zone, built.cpus, 1, last(str(body['machineType']) ?? ''));
    if (error === undefined) this.#create(zone, [built]);
    const op = this.#startOp(
      'insert',
      { zone },
      `zones/${zone}/instances/${name}`,
      query.get('requestId') ?? undefined,
      () => {
        if (error !== undefined) return error;
        this.#boot([built]);
        return undefined;
      },
    );
    return this.#answerCreate(op);
  }

  #bulkInsert(zone: string, query: URLSearchParams, body: Json): Reply {
    const replay = this.#replay(query);
    if (replay !== undefined) return replay;
    const count = Number(body['count'] ?? 0);
    const minCount = Number(body['minCount'] ?? count);
    const per = Object.keys((body['perInstanceProperties'] as Json | undefined) ?? {});
    const pattern = str(body['namePattern']);
    if (!Number.isInteger(count) || count < 1 || count > 5000)
      return fail(
        invalidField('resource.count', String(body['count']), 'Must be between 1 and 5000.'),
      );
    if (minCount > count || minCount < 1)
      return fail(
        invalidField('resource.minCount', String(body['minCount']), 'Must be between 1 and count.'),
      );
    if (pattern === undefined && per.length !== count)
      return fail(
        invalid('Either namePattern or perInstanceProperties for every instance must be set.'),
      );
    if (per.length > count)
      return fail(invalid('perInstanceProperties names more instances than count.'));
    const names = [...per];
    if (names.length < count) {
      const m = /^([a-z][-a-z0-9]*?)(#+)([-a-z0-9]*)$/.exec(pattern ?? '');
      if (m === null)
        return fail(
          invalidField(
            'resource.namePattern',
            pattern,
            'The pattern must contain one continuous sequence of # characters.',
          ),
        );
      const [, head, hashes, tail] = m as unknown as [string, string, string, string];
      const re = new RegExp(`^${head}(\\d{${hashes.length}})${tail}$`);
      let n = Math.max(
        0,
        ...[...this.instances.values()]
          .filter((i) => i.zone === zone)
          .map((i) => Number(re.exec(String(i.json['name']))?.[1] ?? 0)),
      );
      while (names.length < count)
        names.push(`${head}${String(++n).padStart(hashes.length, '0')}${tail}`);
    }
    const props = (body['instanceProperties'] as Json | undefined) ?? {};
    const built = names.map((n) => this.#buildInstance(zone, n, props, true));
    const taken = names.filter((n) => this.instances.has(`${zone}/${n}`));
    let error: OperationError | undefined;
    if (taken.length > 0)
      error = alreadyExistsInOperation(
        `projects/${this.project}/zones/${zone}/instances/${taken[0]}`,
      );
    else
      error = this.#capacityError(zone, built[0]!.cpus, minCount, str(props['machineType']) ?? '');
    if (error === undefined) this.#create(zone, built);
    const op = this.#startOp(
      'bulkInsert',
      { zone },
      `zones/${zone}/instances/bulkInsert`,
      query.get('requestId') ?? undefined,
      () => {
        if (error !== undefined) return error;
        this.#boot(built);
        return undefined;
      },
      {
        instancesBulkInsertOperationMetadata: {
          perLocationStatus: {
            [`zones/${zone}`]: {
              status: 'CREATING',
              targetVmCount: count,
              createdVmCount: error === undefined ? count : 0,
              failedToCreateVmCount: error === undefined ? 0 : count,
            },
          },
        },
      },
    );
    return this.#answerCreate(op);
  }

  #delete(zone: string, name: string, query: URLSearchParams): Reply {
    const replay = this.#replay(query);
    if (replay !== undefined) return replay;
    const rec = this.#instance(zone, name);
    rec.json['status'] = 'STOPPING';
    const op = this.#startOp(
      'delete',
      { zone },
      `zones/${zone}/instances/${name}`,
      query.get('requestId') ?? undefined,
      () => {
        this.instances.delete(`${zone}/${name}`);
        return undefined;
      },
    );
    return ok(op.json);
  }

  #power(zone: string, name: string, action: 'start' | 'stop', query: URLSearchParams): Reply {
    const replay = this.#replay(query);
    if (replay !== undefined) return replay;
    const rec = this.#instance(zone, name);
    const status = rec.json['status'];
    if (status === 'STOPPING' || status === 'PROVISIONING')
      return fail(
        googleError(
          400,
          'resourceNotReady',
          `The resource 'projects/${this.project}/zones/${zone}/instances/${name}' is not ready`,
        ),
      );
    const noop =
      (action === 'start' && status === 'RUNNING') ||
      (action === 'stop' && status === 'TERMINATED');
    if (!noop) rec.json['status'] = action === 'start' ? 'STAGING' : 'STOPPING';
    const op = this.#startOp(
      action,
      { zone },
      `zones/${zone}/instances/${name}`,
      query.get('requestId') ?? undefined,
      () => {
        if (noop || !this.instances.has(`${zone}/${name}`)) return undefined;
        const stamp = rfc3339(this.clock.now());
        Object.assign(
          rec.json,
          action === 'start'
            ? { status: 'RUNNING', lastStartTimestamp: stamp }
            : { status: 'TERMINATED', lastStopTimestamp: stamp },
        );
        return undefined;
      },
    );
    return ok(op.json);
  }

  // --- networks --------------------------------------------------------------------

  #seedDefaultNetwork(): void {
    const now = this.clock.now();
    const link = `${API}/projects/${this.project}/global/networks/default`;
    const regions = Object.keys(this.zonesByRegion);
    this.networks.set('default', {
      kind: 'compute#network',
      id: nextId(),
      creationTimestamp: rfc3339(now),
      name: 'default',
      description: 'Default network for the project',
      selfLink: link,
      autoCreateSubnetworks: true,
      subnetworks: regions.map(
        (r) => `${API}/projects/${this.project}/regions/${r}/subnetworks/default`,
      ),
      routingConfig: { routingMode: 'REGIONAL' },
      mtu: 1460,
      networkFirewallPolicyEnforcementOrder: 'AFTER_CLASSIC_FIREWALL',
    });
    regions.forEach((r, i) =>
      this.subnetworks.set(
        `${r}/default`,
        this.#subnetJson(r, {
          name: 'default',
          network: link,
          ipCidrRange: `10.${128 + i * 4}.0.0/20`,
          privateIpGoogleAccess: false,
        }),
      ),
    );
  }

  #subnetJson(region: string, body: Json): Json {
    const range = str(body['ipCidrRange']) ?? '';
    return {
      kind: 'compute#subnetwork',
      id: nextId(),
      creationTimestamp: rfc3339(this.clock.now()),
      name: body['name'],
      ...(body['description'] === undefined ? {} : { description: body['description'] }),
      network: `${API}/projects/${this.project}/global/networks/${last(str(body['network']) ?? '')}`,
      ipCidrRange: range,
      gatewayAddress: intToIp(ipToInt(range.split('/')[0] ?? '0.0.0.0') + 1),
      region: `${API}/projects/${this.project}/regions/${region}`,
      selfLink: `${API}/projects/${this.project}/regions/${region}/subnetworks/${String(body['name'])}`,
      privateIpGoogleAccess: body['privateIpGoogleAccess'] === true,
      fingerprint: randomBytes(8).toString('base64'),
      stackType: 'IPV4_ONLY',
      purpose: 'PRIVATE',
    };
  }

  #insertNetwork(body: Json): Reply {
    const name = str(body['name']) ?? '';
    if (!NAME.test(name))
      return fail(
        invalidField(
          'resource.name',
          name,
          "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'",
        ),
      );
    if (this.networks.has(name))
      return fail(alreadyExists(`projects/${this.project}/global/networks/${name}`));
    if (body['IPv4Range'] !== undefined && body['autoCreateSubnetworks'] !== undefined)
      return fail(invalid('IPv4Range is for legacy networks only.'));
    const json: Json = {
      kind: 'compute#network',
      id: nextId(),
      creationTimestamp: rfc3339(this.clock.now()),
      name,
      ...(body['description'] === undefined ? {} : { description: body['description'] }),
      selfLink: `${API}/projects/${this.project}/global/networks/${name}`,
      autoCreateSubnetworks: body['autoCreateSubnetworks'] === true,
      subnetworks: [],
      routingConfig: body['routingConfig'] ?? { routingMode: 'REGIONAL' },
      mtu: body['mtu'] ?? 1460,
      networkFirewallPolicyEnforcementOrder: 'AFTER_CLASSIC_FIREWALL',
    };
    const op = this.#startOp('insert', 'global', `global/networks/${name}`, undefined, () => {
      this.networks.set(name, json);
      return undefined;
    });
    return ok(op.json);
  }

  #deleteNetwork(name: string): Reply {
    const net = this.#get(this.networks, name, `projects/${this.project}/global/networks/${name}`);
    const link = str(net['selfLink']) ?? '';
    const fw = [...this.firewalls.values()].find((f) => f['network'] === link);
    if (fw !== undefined) return fail(resourceInUse(`network '${link}'`, String(fw['selfLink'])));
    const sub = [...this.subnetworks.values()].find((s) => s['network'] === link);
    if (sub !== undefined) return fail(resourceInUse(`network '${link}'`, String(sub['selfLink'])));
    const op = this.#startOp('delete', 'global', `global/networks/${name}`, undefined, () => {
      this.networks.delete(name);
      return undefined;
    });
    return ok(op.json);
  }

  #insertSubnetwork(region: string, body: Json): Reply {
    const name = str(body['name']) ?? '';
    if (!NAME.test(name))
      return fail(
        invalidField(
          'resource.name',
          name,
          "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'",
        ),
      );
    if (this.subnetworks.has(`${region}/${name}`))
      return fail(alreadyExists(`projects/${this.project}/regions/${region}/subnetworks/${name}`));
    const netName = last(str(body['network']) ?? '');
    const net = this.networks.get(netName);
    if (net === undefined)
      return fail(notFound(`projects/${this.project}/global/networks/${netName}`));
    if (net['autoCreateSubnetworks'] === true)
      return fail(
        invalid(
          `Network ${netName} is an auto mode network; subnetworks are created automatically.`,
        ),
      );
    const range = str(body['ipCidrRange']) ?? '';
    if (
      !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(range) ||
      Number(range.split('/')[1]) > 29 ||
      Number(range.split('/')[1]) < 8
    )
      return fail(
        invalidField(
          'resource.ipCidrRange',
          range,
          'Must be an IPv4 range with a prefix length between /8 and /29.',
        ),
      );
    const clash = [...this.subnetworks.values()].find(
      (s) => s['network'] === net['selfLink'] && cidrOverlaps(str(s['ipCidrRange']) ?? '', range),
    );
    if (clash !== undefined)
      return fail(
        invalid(
          `Invalid IPCidrRange: ${range} conflicts with existing subnetwork '${String(clash['name'])}' in region '${last(str(clash['region']) ?? '')}'.`,
        ),
      );
    const json = this.#subnetJson(region, body);
    const op = this.#startOp(
      'insert',
      { region },
      `regions/${region}/subnetworks/${name}`,
      undefined,
      () => {
        this.subnetworks.set(`${region}/${name}`, json);
        (net['subnetworks'] as string[]).push(String(json['selfLink']));
        return undefined;
      },
    );
    return ok(op.json);
  }

  #deleteSubnetwork(region: string, name: string): Reply {
    const sub = this.#get(
      this.subnetworks,
      `${region}/${name}`,
      `projects/${this.project}/regions/${region}/subnetworks/${name}`,
    );
    const user = [...this.instances.values()].find(
      (i) => ((i.json['networkInterfaces'] as Json[])[0]?.['subnetwork'] ?? '') === sub['selfLink'],
    );
    if (user !== undefined)
      return fail(
        resourceInUse(`subnetwork '${String(sub['selfLink'])}'`, String(user.json['selfLink'])),
      );
    const op = this.#startOp(
      'delete',
      { region },
      `regions/${region}/subnetworks/${name}`,
      undefined,
      () => {
        this.subnetworks.delete(`${region}/${name}`);
        const net = this.networks.get(last(str(sub['network']) ?? ''));
        if (net !== undefined)
          net['subnetworks'] = (net['subnetworks'] as string[]).filter(
            (l) => l !== sub['selfLink'],
          );
        return undefined;
      },
    );
    return ok(op.json);
  }

  #insertFirewall(body: Json): Reply {
    const name = str(body['name']) ?? '';
    if (!NAME.test(name))
      return fail(
        invalidField(
          'resource.name',
          name,
          "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'",
        ),
      );
    if (this.firewalls.has(name))
      return fail(alreadyExists(`projects/${this.project}/global/firewalls/${name}`));
    const netName = last(str(body['network']) ?? 'default');
    const net = this.networks.get(netName);
    if (net === undefined)
      return fail(notFound(`projects/${this.project}/global/networks/${netName}`));
    const direction = body['direction'] ?? 'INGRESS';
    if (direction !== 'INGRESS' && direction !== 'EGRESS')
      return fail(invalidField('resource.direction', direction, 'Must be INGRESS or EGRESS.'));
    if (direction === 'INGRESS' && body['destinationRanges'] !== undefined)
      return fail(invalid('destinationRanges apply to EGRESS rules only.'));
    if (direction === 'EGRESS' && body['sourceRanges'] !== undefined)
      return fail(invalid('sourceRanges apply to INGRESS rules only.'));
    const allowed = (body['allowed'] as Json[] | undefined) ?? [];
    if (allowed.length === 0 && body['denied'] === undefined)
      return fail(invalid('A firewall rule needs allowed or denied.'));
    for (const a of allowed) {
      const proto = a['IPProtocol'];
      if (!['tcp', 'udp', 'icmp', 'esp', 'ah', 'sctp', 'ipip', 'all'].includes(String(proto)))
        return fail(invalidField('resource.allowed[0].IPProtocol', proto, 'Unknown protocol.'));
      if (a['ports'] !== undefined && !['tcp', 'udp', 'sctp'].includes(String(proto)))
        return fail(invalid('Ports can only be specified for tcp, udp and sctp.'));
    }
    const priority = Number(body['priority'] ?? 1000);
    if (!Number.isInteger(priority) || priority < 0 || priority > 65535)
      return fail(
        invalidField('resource.priority', String(body['priority']), 'Must be between 0 and 65535.'),
      );
    const json: Json = {
      kind: 'compute#firewall',
      id: nextId(),
      creationTimestamp: rfc3339(this.clock.now()),
      name,
      ...(body['description'] === undefined ? {} : { description: body['description'] }),
      network: net['selfLink'],
      priority,
      ...(direction === 'INGRESS'
        ? { sourceRanges: body['sourceRanges'] ?? ['0.0.0.0/0'] }
        : { destinationRanges: body['destinationRanges'] ?? ['0.0.0.0/0'] }),
      ...(body['targetTags'] === undefined ? {} : { targetTags: body['targetTags'] }),
      allowed,
      direction,
      logConfig: { enable: false },
      disabled: false,
      selfLink: `${API}/projects/${this.project}/global/firewalls/${name}`,
    };
    const op = this.#startOp('insert', 'global', `global/firewalls/${name}`, undefined, () => {
      this.firewalls.set(name, json);
      return undefined;
    });
    return ok(op.json);
  }

  #deleteFirewall(name: string): Reply {
    this.#get(this.firewalls, name, `projects/${this.project}/global/firewalls/${name}`);
    const op = this.#startOp('delete', 'global', `global/firewalls/${name}`, undefined, () => {
      this.firewalls.delete(name);
      return undefined;
    });
    return ok(op.json);
  }
}
