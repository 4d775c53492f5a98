/**
 * Nova (compute v2.1) for exactly what kumo needs: microversion negotiation, flavors
 * with extra specs, servers (create, list with pagination and filters, get, delete,
 * start/stop), key pairs and availability zones.
 *
 * @example
 * ```ts
 * const nova = new NovaClient(session);
 * const version = await nova.microversion();          // e.g. "2.79"
 * for (const f of await nova.listFlavors()) console.log(f.name, f.vcpus, f.ram);
 * ```
 */
import { z } from 'zod';
import type { ServiceClient } from './http.js';
import { OpenStackApiError } from './http.js';
import type { KeystoneSession } from './keystone.js';

/**
 * The newest compute microversion kumo is written for. Behaviours it relies on:
 * 2.37 (`networks` required, `none` allowed), 2.47 (flavor embedded in servers),
 * 2.61 (extra specs in flavor lists).
 */
export const NOVA_MAX_MICROVERSION = '2.79';

/** Compares `a.b` versions numerically (`2.9` < `2.10`). */
export function compareMicroversions(a: string, b: string): number {
  const [amaj = 0, amin = 0] = a.split('.').map(Number);
  const [bmaj = 0, bmin = 0] = b.split('.').map(Number);
  return amaj - bmaj || amin - bmin;
}

/**
 * The microversion to use: the highest both kumo and the server support, or
 * undefined when the server has none (a plain v2.0 API).
 */
export function negotiateMicroversion(
  server: { min?: string | undefined; max?: string | undefined },
  wanted = NOVA_MAX_MICROVERSION,
): string | undefined {
  if (server.max === undefined || server.max === '') return undefined;
  const best = compareMicroversions(server.max, wanted) < 0 ? server.max : wanted;
  if (server.min !== undefined && server.min !== '' && compareMicroversions(best, server.min) < 0)
    return undefined;
  return best;
}

const LinksSchema = z
  .array(z.looseObject({ rel: z.string().optional(), href: z.string() }))
  .optional();

export const FlavorSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  vcpus: z.number(),
  ram: z.number(),
  disk: z.number(),
  'OS-FLV-EXT-DATA:ephemeral': z.number().optional(),
  'os-flavor-access:is_public': z.boolean().optional(),
  'OS-FLV-DISABLED:disabled': z.boolean().optional(),
  extra_specs: z.record(z.string(), z.string()).optional(),
  description: z.string().nullish(),
});
export type NovaFlavor = z.output<typeof FlavorSchema>;

const AddressSchema = z.looseObject({
  addr: z.string(),
  version: z.number().optional(),
  'OS-EXT-IPS:type': z.string().optional(),
});

export const ServerSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  status: z.string(),
  metadata: z.record(z.string(), z.string()).optional(),
  // Before 2.47 a reference, from 2.47 the flavor itself.
  flavor: z
    .looseObject({
      id: z.string().optional(),
      original_name: z.string().optional(),
      vcpus: z.number().optional(),
      ram: z.number().optional(),
      disk: z.number().optional(),
      extra_specs: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  // "" when booted from a volume.
  image: z.union([z.looseObject({ id: z.string() }), z.string()]).optional(),
  addresses: z.record(z.string(), z.array(AddressSchema)).optional(),
  'OS-EXT-AZ:availability_zone': z.string().optional(),
  'OS-EXT-STS:vm_state': z.string().nullish(),
  'OS-EXT-STS:task_state': z.string().nullish(),
  fault: z
    .looseObject({
      message: z.string().optional(),
      code: z.number().optional(),
      details: z.string().optional(),
    })
    .optional(),
  key_name: z.string().nullish(),
  created: z.string().optional(),
  tags: z.array(z.string()).optional(),
});
export type NovaServer = z.output<typeof ServerSchema>;

const ServersPageSchema = z.looseObject({
  servers: z.array(ServerSchema),
  servers_links: LinksSchema,
});
const FlavorsPageSchema = z.looseObject({
  flavors: z.array(FlavorSchema),
  flavors_links: LinksSchema,
});

const KeypairSchema = z.looseObject({
  name: z.string(),
  public_key: z.string(),
  fingerprint: z.string().optional(),
});
export type NovaKeypair = z.output<typeof KeypairSchema>;

/** The body of POST /servers (`server` object), as kumo sends it. */
export interface NovaServerCreate {
  name: string;
  imageRef: string;
  flavorRef: string;
  metadata?: Record<string, string>;
  key_name?: string;
  /** Base64, at most 65535 bytes encoded. */
  user_data?: string;
  availability_zone?: string;
  /** `[{uuid}]` or `[{port}]`; at ≥ 2.37 also `"none"` / `"auto"`. */
  networks?: { uuid?: string; port?: string; fixed_ip?: string }[] | 'none' | 'auto';
  security_groups?: { name: string }[];
  config_drive?: boolean;
}

/** The `next` link of a Nova page. */
function nextLink(links: z.output<typeof LinksSchema>): string | undefined {
  return links?.find((l) => l.rel === 'next')?.href;
}

export class NovaClient {
  readonly #session: KeystoneSession;
  readonly #client: ServiceClient;
  readonly #wanted: string;
  #version: Promise<string | undefined> | undefined;

  /** `wanted`: the newest microversion to ask for (tests pin older ones). */
  constructor(session: KeystoneSession, options: { wanted?: string } = {}) {
    this.#session = session;
    this.#wanted = options.wanted ?? NOVA_MAX_MICROVERSION;
    this.#client = session.client('compute', {
      headers: (): Record<string, string> => {
        // NOTE: read per call; every method awaits microversion() before calling.
        const v = this.#negotiated;
        return v === undefined
          ? {}
          : { 'OpenStack-API-Version': `compute ${v}`, 'X-OpenStack-Nova-API-Version': v };
      },
    });
  }

  #negotiated: string | undefined;

  /** The negotiated microversion (asks the server's version document once). */
  async microversion(signal?: AbortSignal): Promise<string | undefined> {
    this.#version ??= this.#session.versions('compute', signal).then((versions) => {
      const v = versions.find((x) => /^v2\.1/.test(x.id)) ?? versions[0];
      this.#negotiated =
        v === undefined
          ? undefined
          : negotiateMicroversion({ min: v.minMicroversion, max: v.maxMicroversion }, this.#wanted);
      return this.#negotiated;
    });
    this.#version.catch(() => (this.#version = undefined));
    return this.#version;
  }

  /** True when the negotiated microversion is at least `v`. */
  async atLeast(v: string, signal?: AbortSignal): Promise<boolean> {
    const mv = await this.microversion(signal);
    return mv !== undefined && compareMicroversions(mv, v) >= 0;
  }

  async #ready(signal?: AbortSignal): Promise<ServiceClient> {
    await this.microversion(signal);
    return this.#client;
  }

  /** Every flavor (all pages), with extra specs. */
  async listFlavors(signal?: AbortSignal): Promise<NovaFlavor[]> {
    const client = await this.#ready(signal);
    const flavors = await client.all('/flavors/detail', {
      schema: FlavorsPageSchema,
      ...(signal === undefined ? {} : { signal }),
      extract: (p) => ({ items: p.flavors, next: nextLink(p.flavors_links) }),
    });
    if (await this.atLeast('2.61')) return flavors;
    // NOTE: before 2.61 extra specs are a call per flavor.
    return Promise.all(
      flavors.map(async (f) => ({
        ...f,
        extra_specs: (
          await client.get(`/flavors/${encodeURIComponent(f.id)}/os-extra_specs`, {
            schema: z.looseObject({ extra_specs: z.record(z.string(), z.string()) }),
            ...(signal === undefined ? {} : { signal }),
          })
        ).extra_specs,
      })),
    );
  }

  /**
   * Servers with details, every page. `name` is a regular expression Nova matches
   * server-side; `pageSize` sets `limit` (Nova caps it at its `max_limit`).
   */
  async listServers(
    query: { name?: string; status?: string; pageSize?: number } = {},
    signal?: AbortSignal,
  ): Promise<NovaServer[]> {
    const client = await this.#ready(signal);
    return client.all('/servers/detail', {
      query: { name: query.name, status: query.status, limit: query.pageSize },
      schema: ServersPageSchema,
      ...(signal === undefined ? {} : { signal }),
      extract: (p) => ({ items: p.servers, next: nextLink(p.servers_links) }),
    });
  }

  /** One server, or undefined when Nova says 404. */
  async findServer(id: string, signal?: AbortSignal): Promise<NovaServer | undefined> {
    const client = await this.#ready(signal);
    try {
      return (
        await client.get(`/servers/${encodeURIComponent(id)}`, {
          schema: z.object({ server: ServerSchema }),
          ...(signal === undefined ? {} : { signal }),
        })
      ).server;
    } catch (error) {
      if (error instanceof OpenStackApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Creates one server; returns its id and the request id. */
  async createServer(
    server: NovaServerCreate,
    signal?: AbortSignal,
  ): Promise<{ id: string; requestId: string | undefined }> {
    const client = await this.#ready(signal);
    const result = await client.request('POST', '/servers', {
      body: { server },
      schema: z.object({ server: z.looseObject({ id: z.string() }) }),
      ...(signal === undefined ? {} : { signal }),
    });
    return { id: result.body.server.id, requestId: result.requestId };
  }

  /** Deletes a server; true when it was there, false when already gone. */
  async deleteServer(id: string, signal?: AbortSignal): Promise<boolean> {
    const client = await this.#ready(signal);
    try {
      await client.request(
        'DELETE',
        `/servers/${encodeURIComponent(id)}`,
        signal === undefined ? {} : { signal },
      );
      return true;
    } catch (error) {
      if (error instanceof OpenStackApiError && error.status === 404) return false;
      throw error;
    }
  }

  /** `os-start` / `os-stop`. */
  async serverAction(
    id: string,
    action: 'os-start' | 'os-stop',
    signal?: AbortSignal,
  ): Promise<void> {
    const client = await this.#ready(signal);
    await client.request('POST', `/servers/${encodeURIComponent(id)}/action`, {
      body: { [action]: null },
      ...(signal === undefined ? {} : { signal }),
    });
  }

  async findKeypair(name: string, signal?: AbortSignal): Promise<NovaKeypair | undefined> {
    const client = await this.#ready(signal);
    try {
      return (
        await client.get(`/os-keypairs/${encodeURIComponent(name)}`, {
          schema: z.object({ keypair: KeypairSchema }),
          ...(signal === undefined ? {} : { signal }),
        })
      ).keypair;
    } catch (error) {
      if (error instanceof OpenStackApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  async importKeypair(name: string, publicKey: string, signal?: AbortSignal): Promise<NovaKeypair> {
    const client = await this.#ready(signal);
    return (
      await client.request('POST', '/os-keypairs', {
        body: { keypair: { name, public_key: publicKey } },
        schema: z.object({ keypair: KeypairSchema }),
        ...(signal === undefined ? {} : { signal }),
      })
    ).body.keypair;
  }

  async deleteKeypair(name: string, signal?: AbortSignal): Promise<void> {
    const client = await this.#ready(signal);
    try {
      await client.request(
        'DELETE',
        `/os-keypairs/${encodeURIComponent(name)}`,
        signal === undefined ? {} : { signal },
      );
    } catch (error) {
      if (!(error instanceof OpenStackApiError && error.status === 404)) throw error;
    }
  }

  /** Every zone Nova lists, and whether it is available now. */
  async availabilityZones(
    signal?: AbortSignal,
  ): Promise<{ readonly name: string; readonly available: boolean }[]> {
    const client = await this.#ready(signal);
    const body = await client.get('/os-availability-zone', {
      schema: z.object({
        availabilityZoneInfo: z.array(
          z.looseObject({
            zoneName: z.string(),
            zoneState: z.looseObject({ available: z.boolean() }).optional(),
          }),
        ),
      }),
      ...(signal === undefined ? {} : { signal }),
    });
    return body.availabilityZoneInfo.map((z) => ({
      name: z.zoneName,
      available: z.zoneState?.available !== false,
    }));
  }
}
