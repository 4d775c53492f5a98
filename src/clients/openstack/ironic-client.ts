/**
 * A small typed client for OpenStack Ironic (bare metal), on the shared OpenStack HTTP
 * layer. It negotiates the API microversion once (`GET /` gives the server's range)
 * and sends `X-OpenStack-Ironic-API-Version` on every `/v1` call: without it the
 * server answers as 1.1, where nodes skip `enroll` and `name` is refused.
 *
 * Works standalone (noauth), behind HTTP basic auth, or with a Keystone token (pass
 * the Keystone session as `auth` and its catalog URL as `endpoint`).
 *
 * @example
 * ```ts
 * const ironic = new IronicClient({ transport: new HttpTransport(), endpoint: 'http://127.0.0.1:6385' });
 * const { version } = await ironic.negotiate();            // "1.82"
 * const free = await ironic.listNodes({ provision_state: 'available' });
 * ```
 */
import type { z } from 'zod';
import { ServiceClient, type HttpTransport, type QueryValue, type TokenSource } from './http.js';
import {
  IronicAllocationListSchema,
  IronicAllocationSchema,
  IronicNodeListSchema,
  IronicNodeSchema,
  IronicPortListSchema,
  IronicPortSchema,
  IronicRootSchema,
  type AllocationRequest,
  type IronicAllocation,
  type IronicNode,
  type IronicPatchOp,
  type IronicPort,
  type NodeCreateRequest,
  type ProvisionRequest,
} from './ironic-types.js';
import {
  chooseMicroversion,
  compareMicroversions,
  IRONIC_FEATURES,
  type IronicFeature,
} from './ironic-version.js';

export const IRONIC_VERSION_HEADER = 'X-OpenStack-Ironic-API-Version';

export interface IronicClientOptions {
  transport: HttpTransport;
  /** Ironic's root URL (`http://127.0.0.1:6385`), or how to find it (a Keystone catalog). */
  endpoint: string | (() => Promise<string>);
  /** Keystone tokens; absent for noauth and HTTP basic. */
  auth?: TokenSource;
  /** Extra headers on every call (`Authorization: Basic …`). */
  headers?: Readonly<Record<string, string>>;
  /** Speak exactly this microversion (it must lie in the server's range). */
  microversion?: string;
}

/** The outcome of version negotiation. */
export interface IronicVersionInfo {
  /** What this client sends. */
  readonly version: string;
  readonly serverMin: string;
  readonly serverMax: string;
}

/** The microversion could not be agreed; carries the server's range. */
export class IronicVersionError extends Error {
  constructor(
    message: string,
    readonly serverMin: string,
    readonly serverMax: string,
  ) {
    super(message);
    this.name = 'IronicVersionError';
  }
}

/** Query of `GET /v1/nodes`. `fields` narrows the answer (never `allocation_uuid` in a list: Ironic 21 answers 500). */
export interface NodeQuery {
  readonly fields?: readonly string[];
  readonly provision_state?: string;
  readonly resource_class?: string;
  readonly instance_uuid?: string;
  readonly associated?: boolean;
  readonly maintenance?: boolean;
  readonly driver?: string;
}

export interface AllocationQuery {
  readonly fields?: readonly string[];
  readonly state?: string;
  readonly resource_class?: string;
  readonly node?: string;
}

type Signal = { signal?: AbortSignal | undefined };

function signalOf(options: Signal | undefined): { signal?: AbortSignal } {
  return options?.signal === undefined ? {} : { signal: options.signal };
}

function toQuery(query: object): Record<string, QueryValue> {
  const out: Record<string, QueryValue> = {};
  for (const [key, value] of Object.entries(query) as [string, unknown][]) {
    if (value === undefined) continue;
    // NOTE: Ironic wants `fields=a,b,c`, not repeated parameters.
    out[key] = Array.isArray(value) ? value.join(',') : (value as string | number | boolean);
  }
  return out;
}

/** Ironic's REST API, the part kumo uses: nodes, ports, traits, allocations, state changes. */
export class IronicClient {
  readonly #http: ServiceClient;
  readonly #pinned: string | undefined;
  #negotiation: Promise<IronicVersionInfo> | undefined;
  #info: IronicVersionInfo | undefined;

  constructor(options: IronicClientOptions) {
    this.#pinned = options.microversion;
    const extra = { ...options.headers };
    this.#http = new ServiceClient({
      service: 'baremetal',
      transport: options.transport,
      baseUrl: options.endpoint,
      ...(options.auth === undefined ? {} : { auth: options.auth }),
      headers: () => ({
        ...extra,
        ...(this.#info === undefined ? {} : { [IRONIC_VERSION_HEADER]: this.#info.version }),
      }),
    });
  }

  /** The negotiated version, once {@link negotiate} has run. */
  get versionInfo(): IronicVersionInfo | undefined {
    return this.#info;
  }

  /**
   * Reads the server's range from `GET /` and picks the version to speak: the newest
   * both know, or the pinned one. Runs once; later calls share the answer.
   * @throws IronicVersionError when no version suits both sides.
   */
  negotiate(options?: Signal): Promise<IronicVersionInfo> {
    this.#negotiation ??= this.#negotiate(options).catch((err: unknown) => {
      this.#negotiation = undefined;
      throw err;
    });
    return this.#negotiation;
  }

  async #negotiate(options?: Signal): Promise<IronicVersionInfo> {
    const root = await this.#http.get('/', { schema: IronicRootSchema, ...signalOf(options) });
    const serverMin = root.default_version.min_version;
    const serverMax = root.default_version.version;
    const chosen = chooseMicroversion({ min: serverMin, max: serverMax }, this.#pinned);
    if ('error' in chosen) throw new IronicVersionError(chosen.error, serverMin, serverMax);
    this.#info = { version: chosen.version, serverMin, serverMax };
    return this.#info;
  }

  /** True when the negotiated version has `feature`. */
  async supports(feature: IronicFeature, options?: Signal): Promise<boolean> {
    const { version } = await this.negotiate(options);
    return compareMicroversions(version, IRONIC_FEATURES[feature]) >= 0;
  }

  async #call<T>(
    method: string,
    path: string,
    options: { body?: unknown; query?: Record<string, QueryValue>; schema?: z.ZodType<T> } & Signal,
  ): Promise<T> {
    await this.negotiate(options);
    const { signal, ...rest } = options;
    const result = await this.#http.request<T>(method, path, {
      ...rest,
      ...(signal === undefined ? {} : { signal }),
    });
    return result.body;
  }

  async #all<K extends 'nodes' | 'allocations' | 'ports', I>(
    path: string,
    key: K,
    schema: z.ZodType<{ next?: string | undefined } & { [P in K]: I[] }>,
    query: Record<string, QueryValue>,
    options?: Signal,
  ): Promise<I[]> {
    await this.negotiate(options);
    return this.#http.all(path, {
      query,
      schema,
      ...signalOf(options),
      extract: (page) => ({ items: page[key], next: page.next }),
    });
  }

  // --- nodes --------------------------------------------------------------------

  /** Every node matching `query`, over all pages. */
  listNodes(query: NodeQuery = {}, options?: Signal): Promise<IronicNode[]> {
    const path = query.fields === undefined ? '/v1/nodes/detail' : '/v1/nodes';
    return this.#all(path, 'nodes', IronicNodeListSchema, toQuery(query), options);
  }

  /** One node by UUID or name. @throws OpenStackApiError 404 when there is none. */
  getNode(ident: string, options?: Signal & { fields?: readonly string[] }): Promise<IronicNode> {
    return this.#call('GET', `/v1/nodes/${encodeURIComponent(ident)}`, {
      schema: IronicNodeSchema,
      ...(options?.fields === undefined ? {} : { query: { fields: options.fields.join(',') } }),
      ...signalOf(options),
    });
  }

  createNode(body: NodeCreateRequest, options?: Signal): Promise<IronicNode> {
    return this.#call('POST', '/v1/nodes', {
      body,
      schema: IronicNodeSchema,
      ...signalOf(options),
    });
  }

  /** JSON Patch (add/replace/remove) on a node's fields. */
  patchNode(ident: string, ops: readonly IronicPatchOp[], options?: Signal): Promise<IronicNode> {
    return this.#call('PATCH', `/v1/nodes/${encodeURIComponent(ident)}`, {
      body: ops,
      schema: IronicNodeSchema,
      ...signalOf(options),
    });
  }

  /** Starts a provision state change (202: the conductor works on it in the background). */
  async setProvisionState(
    ident: string,
    request: ProvisionRequest,
    options?: Signal,
  ): Promise<void> {
    await this.#call('PUT', `/v1/nodes/${encodeURIComponent(ident)}/states/provision`, {
      body: request,
      ...signalOf(options),
    });
  }

  /** Starts a power change (202). */
  async setPowerState(
    ident: string,
    target: 'power on' | 'power off' | 'rebooting',
    options?: Signal,
  ): Promise<void> {
    await this.#call('PUT', `/v1/nodes/${encodeURIComponent(ident)}/states/power`, {
      body: { target },
      ...signalOf(options),
    });
  }

  /** Replaces the node's traits (custom ones match `CUSTOM_[A-Z0-9_]+`). */
  async setTraits(ident: string, traits: readonly string[], options?: Signal): Promise<void> {
    await this.#call('PUT', `/v1/nodes/${encodeURIComponent(ident)}/traits`, {
      body: { traits },
      ...signalOf(options),
    });
  }

  /** Puts a node into maintenance (the scheduler and allocations skip it) or takes it out. */
  async setMaintenance(
    ident: string,
    on: boolean,
    reason?: string,
    options?: Signal,
  ): Promise<void> {
    await this.#call(on ? 'PUT' : 'DELETE', `/v1/nodes/${encodeURIComponent(ident)}/maintenance`, {
      ...(on ? { body: reason === undefined ? {} : { reason } } : {}),
      ...signalOf(options),
    });
  }

  // --- ports --------------------------------------------------------------------

  listPorts(
    query: { node_uuid?: string; address?: string } = {},
    options?: Signal,
  ): Promise<IronicPort[]> {
    return this.#all(
      '/v1/ports',
      'ports',
      IronicPortListSchema,
      toQuery({ ...query, fields: ['uuid', 'address', 'node_uuid'] }),
      options,
    );
  }

  /** A port by MAC on a node (given by UUID; Ironic does not take names here). */
  createPort(
    body: { address: string; node_uuid: string; pxe_enabled?: boolean },
    options?: Signal,
  ): Promise<IronicPort> {
    return this.#call('POST', '/v1/ports', {
      body,
      schema: IronicPortSchema,
      ...signalOf(options),
    });
  }

  // --- allocations (1.52+) ---------------------------------------------------------

  listAllocations(query: AllocationQuery = {}, options?: Signal): Promise<IronicAllocation[]> {
    return this.#all(
      '/v1/allocations',
      'allocations',
      IronicAllocationListSchema,
      toQuery(query),
      options,
    );
  }

  /** One allocation by UUID or name. @throws OpenStackApiError 404 when there is none. */
  getAllocation(ident: string, options?: Signal): Promise<IronicAllocation> {
    return this.#call('GET', `/v1/allocations/${encodeURIComponent(ident)}`, {
      schema: IronicAllocationSchema,
      ...signalOf(options),
    });
  }

  /** Asks the conductor to pick and reserve a node; the answer is `allocating` until it has. */
  createAllocation(body: AllocationRequest, options?: Signal): Promise<IronicAllocation> {
    return this.#call('POST', '/v1/allocations', {
      body,
      schema: IronicAllocationSchema,
      ...signalOf(options),
    });
  }

  /** Releases the allocation and the node's `instance_uuid` (refused while the node is deployed). */
  async deleteAllocation(ident: string, options?: Signal): Promise<void> {
    await this.#call('DELETE', `/v1/allocations/${encodeURIComponent(ident)}`, signalOf(options));
  }
}
