/**
 * Neutron (network v2.0) for what kumo needs: networks, subnets, routers, security
 * groups and rules, ports, and tags (kumo's ownership marks), with pagination.
 *
 * @example
 * ```ts
 * const neutron = new NeutronClient(session);
 * const nets = await neutron.list('networks', { name: 'web', tags: ['kumo-dc=prod'] });
 * ```
 */
import { z } from 'zod';
import { OpenStackApiError, type QueryValue, type ServiceClient } from './http.js';
import type { KeystoneSession } from './keystone.js';

const Tagged = {
  id: z.string(),
  name: z.string().optional().default(''),
  tags: z.array(z.string()).optional().default([]),
};

export const NeutronNetworkSchema = z.looseObject({
  ...Tagged,
  status: z.string().optional(),
  subnets: z.array(z.string()).optional().default([]),
  'router:external': z.boolean().optional(),
  shared: z.boolean().optional(),
  project_id: z.string().optional(),
});
export const NeutronSubnetSchema = z.looseObject({
  ...Tagged,
  network_id: z.string(),
  cidr: z.string(),
  ip_version: z.number().optional(),
  gateway_ip: z.string().nullish(),
});
export const NeutronRouterSchema = z.looseObject({
  ...Tagged,
  external_gateway_info: z.looseObject({ network_id: z.string() }).nullish(),
});
export const NeutronSecurityGroupRuleSchema = z.looseObject({
  id: z.string(),
  security_group_id: z.string(),
  direction: z.string(),
  ethertype: z.string().optional(),
  protocol: z.string().nullish(),
  port_range_min: z.number().nullish(),
  port_range_max: z.number().nullish(),
  remote_ip_prefix: z.string().nullish(),
  remote_group_id: z.string().nullish(),
  description: z.string().nullish(),
});
export const NeutronSecurityGroupSchema = z.looseObject({
  ...Tagged,
  security_group_rules: z.array(NeutronSecurityGroupRuleSchema).optional().default([]),
});
export const NeutronPortSchema = z.looseObject({
  ...Tagged,
  network_id: z.string(),
  device_id: z.string().optional(),
  device_owner: z.string().optional(),
  fixed_ips: z
    .array(z.looseObject({ subnet_id: z.string(), ip_address: z.string() }))
    .optional()
    .default([]),
});

export type NeutronNetwork = z.output<typeof NeutronNetworkSchema>;
export type NeutronSubnet = z.output<typeof NeutronSubnetSchema>;
export type NeutronRouter = z.output<typeof NeutronRouterSchema>;
export type NeutronSecurityGroup = z.output<typeof NeutronSecurityGroupSchema>;
export type NeutronSecurityGroupRule = z.output<typeof NeutronSecurityGroupRuleSchema>;
export type NeutronPort = z.output<typeof NeutronPortSchema>;

/** Neutron's resource collections kumo touches: plural path → singular body key and schema. */
const RESOURCES = {
  networks: { one: 'network', schema: NeutronNetworkSchema },
  subnets: { one: 'subnet', schema: NeutronSubnetSchema },
  routers: { one: 'router', schema: NeutronRouterSchema },
  'security-groups': { one: 'security_group', schema: NeutronSecurityGroupSchema },
  ports: { one: 'port', schema: NeutronPortSchema },
} as const;

export type NeutronCollection = keyof typeof RESOURCES;
type ItemOf<C extends NeutronCollection> = z.output<(typeof RESOURCES)[C]['schema']>;
/** The JSON body key of a collection (`security_groups` for `security-groups`). */
const listKey = (c: NeutronCollection): string => c.replace('-', '_');

/** Filters for a list: plain fields, plus `tags` (all must match). */
export type NeutronFilter = Record<string, QueryValue> & { tags?: readonly string[] };

export class NeutronClient {
  readonly #client: ServiceClient;

  constructor(session: KeystoneSession) {
    this.#client = session.client('network', { major: 2 });
  }

  /** Every item of a collection matching `filter`, over every page. */
  async list<C extends NeutronCollection>(
    collection: C,
    filter: NeutronFilter = {},
    signal?: AbortSignal,
  ): Promise<ItemOf<C>[]> {
    const key = listKey(collection);
    const schema = z.looseObject({
      [key]: z.array(RESOURCES[collection].schema),
      [`${key}_links`]: z
        .array(z.looseObject({ rel: z.string().optional(), href: z.string() }))
        .optional(),
    });
    const { tags, ...rest } = filter;
    return this.#client.all(`/${collection}`, {
      // NOTE: Neutron's `tags` filter takes a comma-separated list, all of which must match.
      query: {
        ...rest,
        ...(tags === undefined || tags.length === 0 ? {} : { tags: tags.join(',') }),
      },
      schema,
      ...(signal === undefined ? {} : { signal }),
      extract: (page) => {
        const items = page[key] as ItemOf<C>[];
        const links = page[`${key}_links`] as { rel?: string; href: string }[] | undefined;
        return { items, next: links?.find((l) => l.rel === 'next')?.href };
      },
    });
  }

  async create<C extends NeutronCollection>(
    collection: C,
    body: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<ItemOf<C>> {
    const { one, schema } = RESOURCES[collection];
    const result = await this.#client.request('POST', `/${collection}`, {
      body: { [one]: body },
      schema: z.object({ [one]: schema }),
      ...(signal === undefined ? {} : { signal }),
    });
    return result.body[one] as ItemOf<C>;
  }

  async update<C extends NeutronCollection>(
    collection: C,
    id: string,
    body: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<ItemOf<C>> {
    const { one, schema } = RESOURCES[collection];
    const result = await this.#client.request('PUT', `/${collection}/${encodeURIComponent(id)}`, {
      body: { [one]: body },
      schema: z.object({ [one]: schema }),
      ...(signal === undefined ? {} : { signal }),
    });
    return result.body[one] as ItemOf<C>;
  }

  /** Deletes; true when it was there, false when already gone. */
  async delete(collection: NeutronCollection, id: string, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.#client.request(
        'DELETE',
        `/${collection}/${encodeURIComponent(id)}`,
        signal === undefined ? {} : { signal },
      );
      return true;
    } catch (error) {
      if (error instanceof OpenStackApiError && error.status === 404) return false;
      throw error;
    }
  }

  /** Replaces the tags of a resource (`PUT /{collection}/{id}/tags`). */
  async setTags(
    collection: NeutronCollection,
    id: string,
    tags: readonly string[],
    signal?: AbortSignal,
  ): Promise<void> {
    await this.#client.request('PUT', `/${collection}/${encodeURIComponent(id)}/tags`, {
      body: { tags },
      ...(signal === undefined ? {} : { signal }),
    });
  }

  async createSecurityGroupRule(
    rule: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<NeutronSecurityGroupRule> {
    const result = await this.#client.request('POST', '/security-group-rules', {
      body: { security_group_rule: rule },
      schema: z.object({ security_group_rule: NeutronSecurityGroupRuleSchema }),
      ...(signal === undefined ? {} : { signal }),
    });
    return result.body.security_group_rule;
  }

  async deleteSecurityGroupRule(id: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.#client.request(
        'DELETE',
        `/security-group-rules/${encodeURIComponent(id)}`,
        signal === undefined ? {} : { signal },
      );
    } catch (error) {
      if (!(error instanceof OpenStackApiError && error.status === 404)) throw error;
    }
  }

  /** Attaches a subnet to a router. */
  async addRouterInterface(
    routerId: string,
    subnetId: string,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.#client.request(
      'PUT',
      `/routers/${encodeURIComponent(routerId)}/add_router_interface`,
      { body: { subnet_id: subnetId }, ...(signal === undefined ? {} : { signal }) },
    );
  }

  /** Detaches a subnet; already detached or gone is fine. */
  async removeRouterInterface(
    routerId: string,
    subnetId: string,
    signal?: AbortSignal,
  ): Promise<void> {
    try {
      await this.#client.request(
        'PUT',
        `/routers/${encodeURIComponent(routerId)}/remove_router_interface`,
        { body: { subnet_id: subnetId }, ...(signal === undefined ? {} : { signal }) },
      );
    } catch (error) {
      if (!(error instanceof OpenStackApiError && error.status === 404)) throw error;
    }
  }
}
