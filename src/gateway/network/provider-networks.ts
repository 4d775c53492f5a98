/**
 * Neutron networks made real on providers. A Neutron network is the project's, not a
 * provider's: it is made on a provider (as a kumo network: VPC + subnets + firewall,
 * a GCP network, a Neutron network, …) the first time a server on it lands there, and
 * kept in step when the security groups its servers use change.
 */
import { NotFound, TAG_DC, TAG_POOL } from '../../core/index.js';
import { adHocPool } from '../../logical-dc/ad-hoc-pool.js';
import { nowIso, type GatewayContext } from '../context.js';
import { badRequest, conflict } from '../http/errors.js';
import type { NetworkObject, SecurityGroupObject } from '../state/gateway-store.js';
import { coveringCidr, toFirewallRules } from './firewall.js';
import { defaultRules } from './neutron-views.js';
import { newUuid } from '../ids.js';

/** The provider network's name for a Neutron network (valid as a kumo network name). */
export function providerNetworkName(networkId: string): string {
  return `os-${networkId.replaceAll('-', '').slice(0, 16)}`;
}

function projectName(ctx: GatewayContext, projectId: string): string {
  const project = ctx.directory.projectById(projectId);
  if (project === undefined)
    throw new NotFound(`project ${projectId} is not declared in the gateway spec`);
  return project.name;
}

/** The project's `default` security group, made (with Neutron's default rules) on first use. */
export async function defaultSecurityGroup(
  ctx: GatewayContext,
  projectId: string,
): Promise<SecurityGroupObject> {
  const existing = [...ctx.store.securityGroups.values()].find(
    (g) => g.projectId === projectId && g.name === 'default',
  );
  if (existing !== undefined) return existing;
  const now = nowIso(ctx);
  const group: SecurityGroupObject = {
    id: newUuid(),
    projectId,
    name: 'default',
    description: 'Default security group',
    createdAt: now,
    updatedAt: now,
    revision: 1,
  };
  ctx.store.securityGroups.set(group.id, group);
  for (const r of defaultRules(group, true)) ctx.store.rules.set(r.id, r);
  await ctx.store.save();
  return group;
}

/** Security groups of servers on `network` (not being deleted), plus `extra`. */
function groupsOn(
  ctx: GatewayContext,
  network: NetworkObject,
  extra: readonly string[],
): Set<string> {
  const ids = new Set(extra);
  for (const s of ctx.store.servers.values())
    if (s.networkId === network.id && s.deletedAt === null)
      for (const g of s.securityGroupIds) ids.add(g);
  return ids;
}

/**
 * Makes `network` exist on `provider` with its subnets and the firewall of the groups
 * its servers (and `extraGroups`) use; returns the provider network's name.
 * @throws HttpError 400 when the network has no subnet.
 */
export async function bindNetwork(
  ctx: GatewayContext,
  network: NetworkObject,
  provider: string,
  extraGroups: readonly string[] = [],
): Promise<string> {
  const subnets = [...ctx.store.subnets.values()].filter((s) => s.networkId === network.id);
  if (subnets.length === 0)
    throw badRequest(`Network ${network.id} requires a subnet in order to boot instances on.`);
  const p = ctx.dc.providers.get(provider);
  if (p === undefined) throw badRequest(`Provider ${provider} is not part of this datacenter.`);
  if (!p.capabilities.networks)
    throw badRequest(
      `Provider ${provider} cannot make networks; boot without a network (--nic none) there.`,
    );
  const cidr = coveringCidr(subnets.map((s) => s.cidr));
  const groups = groupsOn(ctx, network, extraGroups);
  const rules = [...ctx.store.rules.values()].filter((r) => groups.has(r.securityGroupId));
  const name = network.bound[provider] ?? providerNetworkName(network.id);
  await p.ensureNetwork(
    {
      name,
      cidr,
      subnets: subnets.map((s) => ({
        name: `s-${s.id.replaceAll('-', '').slice(0, 12)}`,
        cidr: s.cidr,
      })),
      firewall: toFirewallRules(rules, cidr),
      labels: { 'openstack-network': network.id },
    },
    {
      labels: { [TAG_DC]: ctx.dc.name, [TAG_POOL]: adHocPool(projectName(ctx, network.projectId)) },
    },
  );
  if (network.bound[provider] !== name) {
    ctx.store.networks.set(network.id, {
      ...network,
      bound: { ...network.bound, [provider]: name },
    });
    await ctx.store.save();
  }
  return name;
}

/** Brings every provider network whose servers use `groupId` in step with the group's rules. */
export async function rebindGroup(ctx: GatewayContext, groupId: string): Promise<void> {
  const networks = new Set<string>();
  for (const s of ctx.store.servers.values())
    if (s.deletedAt === null && s.networkId !== null && s.securityGroupIds.includes(groupId))
      networks.add(s.networkId);
  for (const id of networks) {
    const network = ctx.store.networks.get(id);
    if (network === undefined) continue;
    for (const provider of Object.keys(network.bound)) await bindNetwork(ctx, network, provider);
  }
}

/**
 * Deletes the network's provider networks. Servers still on it make this a 409
 * NetworkInUse (Neutron's answer when ports are in use).
 */
export async function unbindNetwork(ctx: GatewayContext, network: NetworkObject): Promise<void> {
  const users = [...ctx.store.servers.values()].filter((s) => s.networkId === network.id);
  if (users.length > 0)
    throw conflict(
      `Unable to complete operation on network ${network.id}. There are one or more ports still in use on the network.`,
      'NetworkInUse',
    );
  for (const [provider, name] of Object.entries(network.bound)) {
    const p = ctx.dc.providers.get(provider);
    if (p !== undefined) await p.deleteNetwork(name);
  }
}
