/**
 * Neutron v2.0, the subset servers need: networks, subnets, security groups and their
 * rules, each a project's own. Mounted at `/network`. Networks become kumo networks on
 * the providers their servers land on (see provider-networks.ts); security group rules
 * become those networks' firewall rules (see firewall.ts).
 */
import { z } from 'zod';
import { isCidr } from '../../core/index.js';
import { nowIso, type GatewayContext } from '../context.js';
import { badRequest, conflict, forbidden, notFound } from '../http/errors.js';
import {
  param,
  parseBody,
  Router,
  type GatewayRequest,
  type GatewayResponse,
} from '../http/router.js';
import { newUuid } from '../ids.js';
import type { AuthContext } from '../identity/token-store.js';
import type {
  NetworkObject,
  RuleObject,
  SecurityGroupObject,
  SubnetObject,
} from '../state/gateway-store.js';
import { canonicalCidr, subnetDefaults } from './firewall.js';
import {
  defaultRules,
  networkView,
  ruleView,
  securityGroupView,
  subnetView,
} from './neutron-views.js';
import { defaultSecurityGroup, rebindGroup, unbindNetwork } from './provider-networks.js';
import { cidrRange } from '../../core/index.js';

/** The extensions whose behaviour the gateway keeps (clients check some before they call). */
const EXTENSIONS = [
  {
    alias: 'security-group',
    name: 'security-group',
    description: 'The security groups extension.',
  },
  {
    alias: 'standard-attr-description',
    name: 'standard-attr-description',
    description: 'Extension to add descriptions to standard attributes',
  },
  {
    alias: 'standard-attr-revisions',
    name: 'Resource revision numbers',
    description: 'This extension will display the revision number of neutron resources.',
  },
  {
    alias: 'standard-attr-timestamp',
    name: 'Resource timestamps',
    description:
      'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.',
  },
  {
    alias: 'project-id',
    name: 'project-id field enabled',
    description: 'Extension that indicates that project_id field is enabled.',
  },
  { alias: 'port-security', name: 'Port Security', description: 'Provides port security' },
];

/** Query parameters that are not attribute filters. */
const NOT_FILTERS = new Set(['fields', 'limit', 'marker', 'sort_key', 'sort_dir', 'page_reverse']);

/**
 * Neutron's list semantics: every other query parameter filters on the attribute of
 * that name (repeated parameters match any of their values), `fields` picks attributes.
 */
export function filterAndProject(
  items: readonly Record<string, unknown>[],
  query: URLSearchParams,
): Record<string, unknown>[] {
  const filters = new Map<string, string[]>();
  for (const [key, value] of query)
    if (!NOT_FILTERS.has(key)) filters.set(key, [...(filters.get(key) ?? []), value]);
  const text = (v: unknown): string =>
    v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  const matching = items.filter((item) =>
    [...filters].every(([key, values]) => {
      const v = item[key];
      if (typeof v === 'boolean') return values.some((want) => booleanOf(key, want) === v);
      return Array.isArray(v)
        ? values.some((want) => v.map(text).includes(want))
        : values.includes(text(v));
    }),
  );
  const fields = query.getAll('fields');
  if (fields.length === 0) return matching;
  return matching.map((item) =>
    Object.fromEntries(fields.filter((f) => f in item).map((f) => [f, item[f]])),
  );
}

/**
 * A boolean filter's value as Neutron reads it (oslo's bool_from_string, strict), so
 * Python's `True`/`False`, as clients send them, work; anything else is a 400 as there.
 */
function booleanOf(key: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['1', 't', 'true', 'on', 'y', 'yes'].includes(v)) return true;
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(v)) return false;
  throw badRequest(`Invalid input for ${key}. Reason: '${value}' cannot be converted to boolean.`);
}

const withoutFields = (q: URLSearchParams): URLSearchParams =>
  new URLSearchParams([...q].filter(([k]) => k !== 'fields'));
const fieldsOf = (q: URLSearchParams): URLSearchParams =>
  new URLSearchParams(q.getAll('fields').map((f): [string, string] => ['fields', f]));

/**
 * Neutron's paging: items after the `marker` id, at most `limit` of them, and the id to
 * ask from next when more remain (clients follow the `<key>_links` next link).
 */
function neutronPage(
  items: readonly Record<string, unknown>[],
  query: URLSearchParams,
): { shown: Record<string, unknown>[]; next: string | undefined } {
  let out = [...items];
  const marker = query.get('marker');
  if (marker !== null) {
    const at = out.findIndex((i) => i['id'] === marker);
    if (at < 0) throw notFound(`Marker ${marker} could not be found.`, 'MarkerNotFound');
    out = out.slice(at + 1);
  }
  const limitText = query.get('limit');
  if (limitText === null) return { shown: out, next: undefined };
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 0)
    throw badRequest(`Invalid input for limit. Reason: '${limitText}' is not an integer.`);
  if (limit === 0 || out.length <= limit) return { shown: out, next: undefined };
  const shown = out.slice(0, limit);
  return { shown, next: String(shown.at(-1)!['id']) };
}

function project(req: GatewayRequest): NonNullable<AuthContext['project']> {
  const p = req.auth?.project;
  if (p === undefined) throw forbidden('A project-scoped token is required.');
  return p;
}

const NetworkCreateSchema = z.object({
  network: z
    .object({
      name: z.string().max(255).default(''),
      description: z.string().max(255).default(''),
      admin_state_up: z.boolean().default(true),
      shared: z.literal(false, { error: 'shared networks are not offered' }).optional(),
      port_security_enabled: z
        .literal(true, { error: 'port security cannot be turned off on kumo networks' })
        .optional(),
      mtu: z.number().int().optional(),
      tenant_id: z.string().optional(),
      project_id: z.string().optional(),
      availability_zone_hints: z
        .array(z.string())
        .max(
          0,
          'availability zone hints are not offered: a network is made on each provider its servers land on',
        )
        .optional(),
    })
    .strict(),
});

const NetworkUpdateSchema = z.object({
  network: z
    .object({
      name: z.string().max(255).optional(),
      description: z.string().max(255).optional(),
      admin_state_up: z.boolean().optional(),
    })
    .strict(),
});

const SubnetCreateSchema = z.object({
  subnet: z
    .object({
      network_id: z.string().min(1),
      cidr: z.string().refine(isCidr, 'must be an IPv4 CIDR such as 10.0.0.0/24'),
      ip_version: z
        .union([z.literal(4), z.literal('4').transform(() => 4 as const)], {
          error: 'kumo networks are IPv4: ip_version must be 4',
        })
        .default(4),
      name: z.string().max(255).default(''),
      description: z.string().max(255).default(''),
      gateway_ip: z.string().nullable().optional(),
      allocation_pools: z
        .array(z.object({ start: z.string(), end: z.string() }).strict())
        .optional(),
      enable_dhcp: z.boolean().default(true),
      dns_nameservers: z.array(z.string()).default([]),
      tenant_id: z.string().optional(),
      project_id: z.string().optional(),
    })
    .strict(),
});

const GroupCreateSchema = z.object({
  security_group: z
    .object({
      name: z.string().max(255).default(''),
      description: z.string().max(255).default(''),
      stateful: z.literal(true, { error: 'stateless security groups are not offered' }).optional(),
      tenant_id: z.string().optional(),
      project_id: z.string().optional(),
    })
    .strict(),
});

const PROTOCOLS: Readonly<Record<string, 'tcp' | 'udp' | 'icmp' | null>> = {
  tcp: 'tcp',
  '6': 'tcp',
  udp: 'udp',
  '17': 'udp',
  icmp: 'icmp',
  '1': 'icmp',
  any: null,
  '0': null,
};

const RuleCreateSchema = z.object({
  security_group_rule: z
    .object({
      security_group_id: z.string().min(1),
      direction: z.enum(['ingress', 'egress']),
      ethertype: z.enum(['IPv4', 'IPv6']).default('IPv4'),
      protocol: z
        .union([z.string(), z.number().int().transform(String)])
        .nullable()
        .optional(),
      port_range_min: z.number().int().min(0).max(65535).nullable().optional(),
      port_range_max: z.number().int().min(0).max(65535).nullable().optional(),
      remote_ip_prefix: z.string().nullable().optional(),
      remote_group_id: z.string().nullable().optional(),
      description: z.string().max(255).default(''),
      tenant_id: z.string().optional(),
      project_id: z.string().optional(),
    })
    .strict(),
});

function ownProject(
  req: GatewayRequest,
  body: { tenant_id?: string | undefined; project_id?: string | undefined },
): string {
  const p = project(req);
  for (const given of [body.tenant_id, body.project_id])
    if (given !== undefined && given !== p.id)
      throw forbidden('Objects can only be made in the project of the token.');
  return p.id;
}

/** Routes below `/network`. */
export function networkRouter(ctx: GatewayContext): Router {
  const url = (): string => `${ctx.baseUrl()}/network/v2.0`;
  const subnetsOf = (networkId: string): SubnetObject[] =>
    [...ctx.store.subnets.values()].filter((s) => s.networkId === networkId);
  const rulesOf = (groupId: string): RuleObject[] =>
    [...ctx.store.rules.values()].filter((r) => r.securityGroupId === groupId);

  const network = (req: GatewayRequest): NetworkObject => {
    const id = param(req, 'id');
    const n = ctx.store.networks.get(id);
    if (n === undefined || n.projectId !== project(req).id)
      throw notFound(`Network ${id} could not be found.`, 'NetworkNotFound');
    return n;
  };
  const subnet = (req: GatewayRequest): SubnetObject => {
    const id = param(req, 'id');
    const s = ctx.store.subnets.get(id);
    if (s === undefined || s.projectId !== project(req).id)
      throw notFound(`Subnet ${id} could not be found.`, 'SubnetNotFound');
    return s;
  };
  const group = (req: GatewayRequest, id = param(req, 'id')): SecurityGroupObject => {
    const g = ctx.store.securityGroups.get(id);
    if (g === undefined || g.projectId !== project(req).id)
      throw notFound(`Security group ${id} does not exist`, 'SecurityGroupNotFound');
    return g;
  };
  const rule = (req: GatewayRequest): RuleObject => {
    const id = param(req, 'id');
    const r = ctx.store.rules.get(id);
    if (r === undefined || r.projectId !== project(req).id)
      throw notFound(`Security group rule ${id} does not exist`, 'SecurityGroupRuleNotFound');
    return r;
  };
  const list = (
    key: string,
    items: Record<string, unknown>[],
    req: GatewayRequest,
  ): GatewayResponse => {
    const { shown, next } = neutronPage(
      filterAndProject(items, withoutFields(req.query)),
      req.query,
    );
    const body: Record<string, unknown> = { [key]: filterAndProject(shown, fieldsOf(req.query)) };
    if (next !== undefined) {
      const query = new URLSearchParams(req.query);
      query.set('marker', next);
      body[`${key}_links`] = [
        { rel: 'next', href: `${ctx.baseUrl()}/network${req.path}?${query.toString()}` },
      ];
    }
    return { status: 200, body };
  };

  return (
    new Router()
      .add(
        'GET',
        '/',
        () => ({
          status: 200,
          body: {
            versions: [
              { status: 'CURRENT', id: 'v2.0', links: [{ href: `${url()}/`, rel: 'self' }] },
            ],
          },
        }),
        { public: true },
      )
      .add('GET', '/v2.0', () => ({
        status: 200,
        body: {
          resources: ['network', 'subnet', 'security_group', 'security_group_rule'].map((r) => ({
            name: r,
            collection: `${r.replaceAll('_', '-')}s`,
            links: [{ href: `${url()}/${r.replaceAll('_', '-')}s`, rel: 'self' }],
          })),
        },
      }))
      .add('GET', '/v2.0/extensions', () => ({
        status: 200,
        body: {
          extensions: EXTENSIONS.map((e) => ({
            ...e,
            updated: '2013-01-01T10:00:00-00:00',
            links: [],
          })),
        },
      }))
      .add('GET', '/v2.0/extensions/:alias', (req) => {
        const e = EXTENSIONS.find((x) => x.alias === param(req, 'alias'));
        if (e === undefined)
          throw notFound(
            `Extension with alias ${param(req, 'alias')} does not exist`,
            'ExtensionNotFound',
          );
        return {
          status: 200,
          body: { extension: { ...e, updated: '2013-01-01T10:00:00-00:00', links: [] } },
        };
      })
      // Networks.
      .add('GET', '/v2.0/networks', (req) => {
        const p = project(req);
        const mine = [...ctx.store.networks.values()].filter((n) => n.projectId === p.id);
        return list(
          'networks',
          mine.map((n) =>
            networkView(
              n,
              subnetsOf(n.id).map((s) => s.id),
            ),
          ),
          req,
        );
      })
      .add('POST', '/v2.0/networks', async (req) => {
        const body = parseBody(req, NetworkCreateSchema, 'HTTPBadRequest').network;
        const now = nowIso(ctx);
        const n: NetworkObject = {
          id: newUuid(),
          projectId: ownProject(req, body),
          name: body.name,
          description: body.description,
          adminStateUp: body.admin_state_up,
          bound: {},
          createdAt: now,
          updatedAt: now,
          revision: 1,
        };
        ctx.store.networks.set(n.id, n);
        await ctx.store.save();
        ctx.log(`network ${n.id} (${n.name}) made in project ${project(req).name}`);
        return { status: 201, body: { network: networkView(n, []) } };
      })
      .add('GET', '/v2.0/networks/:id', (req) => {
        const n = network(req);
        return {
          status: 200,
          body: {
            network: filterAndProject(
              [
                networkView(
                  n,
                  subnetsOf(n.id).map((s) => s.id),
                ),
              ],
              new URLSearchParams(
                req.query.getAll('fields').map((f): [string, string] => ['fields', f]),
              ),
            )[0],
          },
        };
      })
      .add('PUT', '/v2.0/networks/:id', async (req) => {
        const n = network(req);
        const body = parseBody(req, NetworkUpdateSchema, 'HTTPBadRequest').network;
        const next: NetworkObject = {
          ...n,
          name: body.name ?? n.name,
          description: body.description ?? n.description,
          adminStateUp: body.admin_state_up ?? n.adminStateUp,
          updatedAt: nowIso(ctx),
          revision: n.revision + 1,
        };
        ctx.store.networks.set(n.id, next);
        await ctx.store.save();
        return {
          status: 200,
          body: {
            network: networkView(
              next,
              subnetsOf(n.id).map((s) => s.id),
            ),
          },
        };
      })
      .add('DELETE', '/v2.0/networks/:id', async (req) => {
        const n = network(req);
        await unbindNetwork(ctx, n);
        for (const s of subnetsOf(n.id)) ctx.store.subnets.delete(s.id);
        ctx.store.networks.delete(n.id);
        await ctx.store.save();
        ctx.log(`network ${n.id} deleted`);
        return { status: 204 };
      })
      // Subnets.
      .add('GET', '/v2.0/subnets', (req) => {
        const p = project(req);
        return list(
          'subnets',
          [...ctx.store.subnets.values()].filter((s) => s.projectId === p.id).map(subnetView),
          req,
        );
      })
      .add('POST', '/v2.0/subnets', async (req) => {
        const body = parseBody(req, SubnetCreateSchema, 'HTTPBadRequest').subnet;
        const projectId = ownProject(req, body);
        const n = ctx.store.networks.get(body.network_id);
        if (n === undefined || n.projectId !== projectId)
          throw notFound(`Network ${body.network_id} could not be found.`, 'NetworkNotFound');
        const cidr = canonicalCidr(body.cidr);
        if (cidr !== body.cidr)
          throw badRequest(
            `Invalid input for cidr. Reason: '${body.cidr}' isn't a recommended CIDR, it should be '${cidr}' instead.`,
            'HTTPBadRequest',
          );
        const overlap = subnetsOf(n.id).find((s) => {
          const a = cidrRange(s.cidr);
          const b = cidrRange(cidr);
          return a.first <= b.last && b.first <= a.last;
        });
        if (overlap !== undefined)
          throw badRequest(
            `Invalid input for operation: Requested subnet with cidr: ${cidr} for network: ${n.id} overlaps with another subnet.`,
            'InvalidInput',
          );
        if (Object.keys(n.bound).length > 0)
          throw conflict(
            `Network ${n.id} is already in use by servers; kumo networks are made with their subnets, so add subnets before booting servers.`,
            'NetworkInUse',
          );
        const defaults = subnetDefaults(cidr);
        const now = nowIso(ctx);
        const s: SubnetObject = {
          id: newUuid(),
          projectId,
          networkId: n.id,
          name: body.name,
          description: body.description,
          cidr,
          gatewayIp: body.gateway_ip === undefined ? defaults.gatewayIp : body.gateway_ip,
          allocationPools: body.allocation_pools ?? defaults.allocationPools,
          enableDhcp: body.enable_dhcp,
          dnsNameservers: body.dns_nameservers,
          createdAt: now,
          updatedAt: now,
          revision: 0,
        };
        ctx.store.subnets.set(s.id, s);
        ctx.store.networks.set(n.id, { ...n, updatedAt: now, revision: n.revision + 1 });
        await ctx.store.save();
        return { status: 201, body: { subnet: subnetView(s) } };
      })
      .add('GET', '/v2.0/subnets/:id', (req) => ({
        status: 200,
        body: { subnet: subnetView(subnet(req)) },
      }))
      .add('DELETE', '/v2.0/subnets/:id', async (req) => {
        const s = subnet(req);
        const n = ctx.store.networks.get(s.networkId);
        if (n !== undefined && [...ctx.store.servers.values()].some((v) => v.networkId === n.id))
          throw conflict(
            `Unable to complete operation on subnet ${s.id}: One or more ports have an IP allocation from this subnet.`,
            'SubnetInUse',
          );
        ctx.store.subnets.delete(s.id);
        await ctx.store.save();
        return { status: 204 };
      })
      // Security groups.
      .add('GET', '/v2.0/security-groups', async (req) => {
        const p = project(req);
        await defaultSecurityGroup(ctx, p.id);
        const mine = [...ctx.store.securityGroups.values()].filter((g) => g.projectId === p.id);
        return list(
          'security_groups',
          mine.map((g) => securityGroupView(g, rulesOf(g.id))),
          req,
        );
      })
      .add('POST', '/v2.0/security-groups', async (req) => {
        const body = parseBody(req, GroupCreateSchema, 'HTTPBadRequest').security_group;
        const projectId = ownProject(req, body);
        if (body.name === 'default') {
          await defaultSecurityGroup(ctx, projectId);
          throw conflict(
            'Default security group already exists.',
            'SecurityGroupDefaultAlreadyExists',
          );
        }
        const now = nowIso(ctx);
        const g: SecurityGroupObject = {
          id: newUuid(),
          projectId,
          name: body.name,
          description: body.description,
          createdAt: now,
          updatedAt: now,
          revision: 1,
        };
        ctx.store.securityGroups.set(g.id, g);
        for (const r of defaultRules(g, false)) ctx.store.rules.set(r.id, r);
        await ctx.store.save();
        return { status: 201, body: { security_group: securityGroupView(g, rulesOf(g.id)) } };
      })
      .add('GET', '/v2.0/security-groups/:id', (req) => {
        const g = group(req);
        return { status: 200, body: { security_group: securityGroupView(g, rulesOf(g.id)) } };
      })
      .add('DELETE', '/v2.0/security-groups/:id', async (req) => {
        const g = group(req);
        if (g.name === 'default')
          throw conflict(
            'Insufficient rights for removing default security group.',
            'SecurityGroupCannotRemoveDefault',
          );
        if ([...ctx.store.servers.values()].some((s) => s.securityGroupIds.includes(g.id)))
          throw conflict(`Security Group ${g.id} in use.`, 'SecurityGroupInUse');
        for (const r of rulesOf(g.id)) ctx.store.rules.delete(r.id);
        ctx.store.securityGroups.delete(g.id);
        await ctx.store.save();
        return { status: 204 };
      })
      // Security group rules.
      .add('GET', '/v2.0/security-group-rules', (req) => {
        const p = project(req);
        return list(
          'security_group_rules',
          [...ctx.store.rules.values()].filter((r) => r.projectId === p.id).map(ruleView),
          req,
        );
      })
      .add('POST', '/v2.0/security-group-rules', async (req) => {
        const body = parseBody(req, RuleCreateSchema, 'HTTPBadRequest').security_group_rule;
        const projectId = ownProject(req, body);
        const g = group(req, body.security_group_id);
        const protocolText =
          body.protocol === undefined || body.protocol === null
            ? null
            : String(body.protocol).toLowerCase();
        const protocol = protocolText === null ? null : PROTOCOLS[protocolText];
        if (protocol === undefined)
          throw badRequest(
            `Security group rule protocol ${protocolText ?? ''} not supported: kumo firewalls take tcp, udp, icmp or any.`,
            'SecurityGroupRuleInvalidProtocol',
          );
        const min = body.port_range_min ?? null;
        const max = body.port_range_max ?? (protocol === 'tcp' || protocol === 'udp' ? min : null);
        if ((min !== null || max !== null) && protocol !== 'tcp' && protocol !== 'udp')
          throw badRequest(
            protocol === 'icmp'
              ? 'kumo firewalls allow or deny all of ICMP: leave out the ICMP type and code.'
              : 'Port ranges need a protocol of tcp or udp.',
            'SecurityGroupInvalidPortValue',
          );
        if (min !== null && max !== null && min > max)
          throw badRequest(
            'For TCP/UDP protocols, port_range_min must be <= port_range_max',
            'SecurityGroupInvalidPortRange',
          );
        let remoteIpPrefix = body.remote_ip_prefix ?? null;
        if (remoteIpPrefix !== null) {
          if (
            body.ethertype === 'IPv4' &&
            !isCidr(remoteIpPrefix.includes('/') ? remoteIpPrefix : `${remoteIpPrefix}/32`)
          )
            throw badRequest(
              `Invalid input for remote_ip_prefix: ${remoteIpPrefix} is not an IPv4 CIDR.`,
              'HTTPBadRequest',
            );
          if (body.ethertype === 'IPv4')
            remoteIpPrefix = canonicalCidr(
              remoteIpPrefix.includes('/') ? remoteIpPrefix : `${remoteIpPrefix}/32`,
            );
        }
        const remoteGroupId = body.remote_group_id ?? null;
        if (remoteGroupId !== null) group(req, remoteGroupId);
        if (remoteGroupId !== null && remoteIpPrefix !== null)
          throw badRequest(
            'Only remote_ip_prefix or remote_group_id may be provided.',
            'SecurityGroupRemoteGroupAndRemoteIpPrefix',
          );
        const duplicate = rulesOf(g.id).find(
          (r) =>
            r.direction === body.direction &&
            r.ethertype === body.ethertype &&
            r.protocol === protocol &&
            r.portRangeMin === min &&
            r.portRangeMax === max &&
            r.remoteIpPrefix === remoteIpPrefix &&
            r.remoteGroupId === remoteGroupId,
        );
        if (duplicate !== undefined)
          throw conflict(
            `Security group rule already exists. Rule id is ${duplicate.id}.`,
            'SecurityGroupRuleExists',
          );
        const now = nowIso(ctx);
        const r: RuleObject = {
          id: newUuid(),
          projectId,
          securityGroupId: g.id,
          direction: body.direction,
          ethertype: body.ethertype,
          protocol,
          portRangeMin: min,
          portRangeMax: max,
          remoteIpPrefix,
          remoteGroupId,
          description: body.description,
          createdAt: now,
          updatedAt: now,
          revision: 0,
        };
        ctx.store.rules.set(r.id, r);
        ctx.store.securityGroups.set(g.id, { ...g, updatedAt: now, revision: g.revision + 1 });
        await ctx.store.save();
        await rebindGroup(ctx, g.id);
        return { status: 201, body: { security_group_rule: ruleView(r) } };
      })
      .add('GET', '/v2.0/security-group-rules/:id', (req) => ({
        status: 200,
        body: { security_group_rule: ruleView(rule(req)) },
      }))
      .add('DELETE', '/v2.0/security-group-rules/:id', async (req) => {
        const r = rule(req);
        ctx.store.rules.delete(r.id);
        await ctx.store.save();
        await rebindGroup(ctx, r.securityGroupId);
        return { status: 204 };
      })
  );
}
