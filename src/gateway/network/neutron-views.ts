/**
 * Neutron's JSON for the gateway's networks, subnets, security groups and rules, with
 * the attribute names of the Neutron API reference (v2.0) and neutron-lib's API
 * definitions, and Neutron's default security groups.
 */
import type {
  NetworkObject,
  RuleObject,
  SecurityGroupObject,
  SubnetObject,
} from '../state/gateway-store.js';
import { newUuid } from '../ids.js';

/** Neutron timestamps: seconds and `Z`. */
const neutronTime = (iso: string): string => iso.replace(/\.\d+Z$/, 'Z');

const stamps = (o: {
  createdAt: string;
  updatedAt: string;
  revision: number;
}): Record<string, unknown> => ({
  created_at: neutronTime(o.createdAt),
  updated_at: neutronTime(o.updatedAt),
  revision_number: o.revision,
});

export function networkView(
  n: NetworkObject,
  subnetIds: readonly string[],
): Record<string, unknown> {
  return {
    id: n.id,
    name: n.name,
    tenant_id: n.projectId,
    project_id: n.projectId,
    admin_state_up: n.adminStateUp,
    mtu: 1500,
    status: 'ACTIVE',
    subnets: [...subnetIds],
    shared: false,
    availability_zone_hints: [],
    availability_zones: [],
    ipv4_address_scope: null,
    ipv6_address_scope: null,
    'router:external': false,
    description: n.description,
    port_security_enabled: true,
    l2_adjacency: true,
    tags: [],
    ...stamps(n),
  };
}

export function subnetView(s: SubnetObject): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    tenant_id: s.projectId,
    project_id: s.projectId,
    network_id: s.networkId,
    ip_version: 4,
    subnetpool_id: null,
    enable_dhcp: s.enableDhcp,
    ipv6_ra_mode: null,
    ipv6_address_mode: null,
    gateway_ip: s.gatewayIp,
    cidr: s.cidr,
    allocation_pools: s.allocationPools,
    host_routes: [],
    dns_nameservers: s.dnsNameservers,
    description: s.description,
    service_types: [],
    segment_id: null,
    tags: [],
    ...stamps(s),
  };
}

export function ruleView(r: RuleObject): Record<string, unknown> {
  return {
    id: r.id,
    tenant_id: r.projectId,
    project_id: r.projectId,
    security_group_id: r.securityGroupId,
    direction: r.direction,
    ethertype: r.ethertype,
    protocol: r.protocol,
    port_range_min: r.portRangeMin,
    port_range_max: r.portRangeMax,
    remote_ip_prefix: r.remoteIpPrefix,
    remote_group_id: r.remoteGroupId,
    remote_address_group_id: null,
    normalized_cidr: r.remoteIpPrefix,
    description: r.description,
    ...stamps(r),
  };
}

export function securityGroupView(
  g: SecurityGroupObject,
  rules: readonly RuleObject[],
): Record<string, unknown> {
  return {
    id: g.id,
    name: g.name,
    tenant_id: g.projectId,
    project_id: g.projectId,
    description: g.description,
    stateful: true,
    security_group_rules: rules.map(ruleView),
    tags: [],
    ...stamps(g),
  };
}

/** The rules Neutron gives every new group (all egress), and `default` groups (plus ingress from members). */
export function defaultRules(group: SecurityGroupObject, isDefault: boolean): RuleObject[] {
  const base = {
    projectId: group.projectId,
    securityGroupId: group.id,
    protocol: null,
    portRangeMin: null,
    portRangeMax: null,
    remoteIpPrefix: null,
    description: '',
    createdAt: group.createdAt,
    updatedAt: group.createdAt,
    revision: 0,
  };
  const rules: RuleObject[] = (['IPv4', 'IPv6'] as const).map((ethertype) => ({
    ...base,
    id: newUuid(),
    direction: 'egress',
    ethertype,
    remoteGroupId: null,
  }));
  if (isDefault)
    for (const ethertype of ['IPv4', 'IPv6'] as const)
      rules.push({
        ...base,
        id: newUuid(),
        direction: 'ingress',
        ethertype,
        remoteGroupId: group.id,
      });
  return rules;
}
