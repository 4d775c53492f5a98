/**
 * The neutral network model on Neutron: a network, its subnets, a security group
 * with the firewall rules, and a router to the external network where a subnet is
 * public. Everything is found by name plus kumo's tag (`kumo-net=<name>`), so running
 * it twice changes nothing; deletion goes in dependency order.
 */
import {
  Conflict,
  NetworkSpecSchema,
  parse,
  ValidationError,
  type FirewallRule,
  type Network,
  type NetworkSpec,
  type NetworkSpecInput,
} from '../../core/index.js';
import type {
  NeutronClient,
  NeutronNetwork,
  NeutronSecurityGroup,
  NeutronSecurityGroupRule,
  NeutronSubnet,
} from '../../clients/openstack/neutron.js';

/** The tag marking everything kumo made for network `name`. */
export const netTag = (name: string): string => `kumo-net=${name}`;
/** Rules kumo made carry this description, so reconciling never touches others. */
const RULE_MARK = 'kumo';

/** Labels as Neutron tags (`key=value`); Neutron tags are plain strings without commas. */
export function labelsToTags(labels: Readonly<Record<string, string>>): string[] {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`.replace(/,/g, ';').slice(0, 255));
}

export function tagsToLabels(tags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags) {
    const i = t.indexOf('=');
    if (i > 0) out[t.slice(0, i)] = t.slice(i + 1);
  }
  return out;
}

/** Names of what kumo makes for a network. */
export const names = {
  subnet: (net: string, subnet: string): string => `${net}-${subnet}`,
  securityGroup: (net: string): string => `${net}-fw`,
  router: (net: string): string => `${net}-router`,
};

interface DesiredRule {
  direction: 'ingress' | 'egress';
  protocol: string | null;
  min: number | null;
  max: number | null;
  cidr: string;
}

function desiredRules(firewall: readonly FirewallRule[]): DesiredRule[] {
  return firewall.flatMap((r) =>
    r.cidrs.map((cidr) => ({
      direction: r.direction,
      protocol: r.protocol === 'all' ? null : r.protocol,
      min: r.ports?.from ?? null,
      max: r.ports?.to ?? null,
      cidr,
    })),
  );
}

function sameRule(a: DesiredRule, b: NeutronSecurityGroupRule): boolean {
  return (
    a.direction === b.direction &&
    (a.protocol ?? null) === (b.protocol ?? null) &&
    a.min === (b.port_range_min ?? null) &&
    a.max === (b.port_range_max ?? null) &&
    a.cidr === (b.remote_ip_prefix ?? (a.cidr === '0.0.0.0/0' ? '0.0.0.0/0' : null))
  );
}

export class OpenStackNetworks {
  readonly #neutron: NeutronClient;
  readonly #provider: string;
  readonly #externalNetwork: string | undefined;

  constructor(neutron: NeutronClient, provider: string, externalNetwork: string | undefined) {
    this.#neutron = neutron;
    this.#provider = provider;
    this.#externalNetwork = externalNetwork;
  }

  /** The kumo network called `name`, if it exists. */
  async find(name: string, signal?: AbortSignal): Promise<NeutronNetwork | undefined> {
    const found = await this.#neutron.list('networks', { name, tags: [netTag(name)] }, signal);
    return found[0];
  }

  async ensure(
    input: NetworkSpecInput,
    labels: Readonly<Record<string, string>>,
    signal?: AbortSignal,
  ): Promise<Network> {
    const spec = parse(NetworkSpecSchema, input, 'network spec');
    const tags = [netTag(spec.name), ...labelsToTags({ ...spec.labels, ...labels })];
    const n = this.#neutron;

    let network = await this.find(spec.name, signal);
    if (network === undefined) {
      network = await n.create(
        'networks',
        { name: spec.name, admin_state_up: true, description: `kumo network ${spec.name}` },
        signal,
      );
      await n.setTags('networks', network.id, tags, signal);
    }

    const subnetSpecs: NetworkSpec['subnets'] =
      spec.subnets.length > 0
        ? spec.subnets
        : [{ name: 'default', cidr: spec.cidr, public: false }];
    const existing = await n.list('subnets', { network_id: network.id }, signal);
    const subnets: {
      id: string;
      name: string;
      cidr: string;
      zone?: string;
      public: boolean;
      raw: NeutronSubnet;
    }[] = [];
    for (const s of subnetSpecs) {
      const subnetName = names.subnet(spec.name, s.name);
      let subnet = existing.find((x) => x.name === subnetName);
      if (subnet !== undefined && subnet.cidr !== s.cidr)
        throw new ValidationError(
          `subnet ${subnetName} exists with ${subnet.cidr}, not ${s.cidr}; delete the network to change it`,
          {
            provider: this.#provider,
            issues: [{ path: `subnets.${s.name}.cidr`, message: `exists as ${subnet.cidr}` }],
          },
        );
      if (subnet === undefined) {
        subnet = await n.create(
          'subnets',
          {
            name: subnetName,
            network_id: network.id,
            cidr: s.cidr,
            ip_version: 4,
            enable_dhcp: true,
          },
          signal,
        );
        await n.setTags('subnets', subnet.id, tags, signal);
      }
      subnets.push({
        id: subnet.id,
        name: s.name,
        cidr: s.cidr,
        ...(s.zone === undefined ? {} : { zone: s.zone }),
        public: s.public,
        raw: subnet,
      });
    }

    const group = await this.#ensureSecurityGroup(spec, tags, signal);

    const publicSubnets = subnets.filter((s) => s.public);
    if (publicSubnets.length > 0)
      await this.#ensureRouter(
        spec.name,
        publicSubnets.map((s) => s.id),
        tags,
        signal,
      );

    return {
      id: network.id,
      name: spec.name,
      provider: this.#provider,
      cidr: spec.cidr,
      subnets: subnets.map(({ raw: _raw, ...s }) => s),
      firewallId: group.id,
      labels: tagsToLabels(tags.slice(1)),
    };
  }

  async #ensureSecurityGroup(
    spec: NetworkSpec,
    tags: string[],
    signal?: AbortSignal,
  ): Promise<NeutronSecurityGroup> {
    const n = this.#neutron;
    const name = names.securityGroup(spec.name);
    let [group] = await n.list('security-groups', { name, tags: [netTag(spec.name)] }, signal);
    if (group === undefined) {
      group = await n.create(
        'security-groups',
        { name, description: `kumo firewall of ${spec.name}` },
        signal,
      );
      await n.setTags('security-groups', group.id, tags, signal);
    }
    const want = desiredRules(spec.firewall);
    const have = group.security_group_rules.filter((r) => (r.ethertype ?? 'IPv4') === 'IPv4');
    for (const rule of want) {
      if (have.some((r) => sameRule(rule, r))) continue;
      try {
        await n.createSecurityGroupRule(
          {
            security_group_id: group.id,
            direction: rule.direction,
            ethertype: 'IPv4',
            protocol: rule.protocol,
            port_range_min: rule.min,
            port_range_max: rule.max,
            remote_ip_prefix: rule.cidr,
            description: RULE_MARK,
          },
          signal,
        );
      } catch (error) {
        // NOTE: a concurrent ensure made the same rule first (SecurityGroupRuleExists, 409).
        if (!(
          typeof error === 'object' &&
          error !== null &&
          'status' in error &&
          error.status === 409
        ))
          throw error;
      }
    }
    // Rules kumo made that the spec no longer has go; rules made by others stay.
    for (const r of group.security_group_rules)
      if (r.description === RULE_MARK && !want.some((w) => sameRule(w, r)))
        await n.deleteSecurityGroupRule(r.id, signal);
    return group;
  }

  async #externalNetworkId(signal?: AbortSignal): Promise<string> {
    const externals = await this.#neutron.list('networks', { 'router:external': true }, signal);
    const wanted = this.#externalNetwork;
    const chosen =
      wanted === undefined
        ? externals.length === 1
          ? externals[0]
          : undefined
        : externals.find((x) => x.id === wanted || x.name === wanted);
    if (chosen === undefined)
      throw new ValidationError(
        wanted === undefined
          ? `a public subnet needs a router to an external network, and there are ${externals.length} (${externals.map((x) => x.name).join(', ') || 'none'}); set externalNetwork`
          : `external network "${wanted}" not found (external networks: ${externals.map((x) => x.name).join(', ') || 'none'})`,
        {
          provider: this.#provider,
          issues: [{ path: 'externalNetwork', message: 'no usable external network' }],
        },
      );
    return chosen.id;
  }

  async #ensureRouter(
    net: string,
    subnetIds: string[],
    tags: string[],
    signal?: AbortSignal,
  ): Promise<void> {
    const n = this.#neutron;
    const name = names.router(net);
    let [router] = await n.list('routers', { name, tags: [netTag(net)] }, signal);
    if (router === undefined) {
      const externalId = await this.#externalNetworkId(signal);
      router = await n.create(
        'routers',
        { name, external_gateway_info: { network_id: externalId } },
        signal,
      );
      await n.setTags('routers', router.id, tags, signal);
    }
    const ports = await n.list('ports', { device_id: router.id }, signal);
    const attached = new Set(ports.flatMap((p) => p.fixed_ips.map((ip) => ip.subnet_id)));
    for (const id of subnetIds)
      if (!attached.has(id)) await n.addRouterInterface(router.id, id, signal);
  }

  /** Deletes network `name` and what kumo made for it: router, subnets, security group. */
  async delete(name: string, signal?: AbortSignal): Promise<void> {
    const n = this.#neutron;
    const tag = netTag(name);
    const [routers, networks, groups] = await Promise.all([
      n.list('routers', { tags: [tag] }, signal),
      n.list('networks', { name, tags: [tag] }, signal),
      n.list('security-groups', { tags: [tag] }, signal),
    ]);
    const subnets = (
      await Promise.all(networks.map((net) => n.list('subnets', { network_id: net.id }, signal)))
    ).flat();
    for (const router of routers) {
      for (const s of subnets) await n.removeRouterInterface(router.id, s.id, signal);
      await n.delete('routers', router.id, signal);
    }
    for (const net of networks) {
      // NOTE: Nova's ports keep a network in use; refuse clearly rather than half-delete.
      const busy = (await n.list('ports', { network_id: net.id }, signal)).filter((p) =>
        (p.device_owner ?? '').startsWith('compute:'),
      );
      if (busy.length > 0)
        throw new Conflict(
          `network ${name} still has ${busy.length} machine(s) attached (${busy.map((p) => p.device_id).join(', ')}); delete them first`,
          {
            provider: this.#provider,
            cause: { code: 'NetworkInUse' },
          },
        );
    }
    for (const s of subnets) await n.delete('subnets', s.id, signal);
    for (const g of groups) await n.delete('security-groups', g.id, signal);
    for (const net of networks) await n.delete('networks', net.id, signal);
  }
}
