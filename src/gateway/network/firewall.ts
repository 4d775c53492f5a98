/**
 * Neutron security group rules as kumo firewall rules. kumo's firewall belongs to a
 * network, so a network's firewall is the union of the rules of the security groups
 * its servers use. Two approximations, both towards what Neutron means:
 * - a rule naming a remote group (the `default` group's "from members of this group")
 *   becomes a rule from the network's own address range, where those members are;
 * - IPv6 rules are left out: kumo networks are IPv4.
 */
import { cidrRange, type FirewallRule } from '../../core/index.js';
import type { RuleObject } from '../state/gateway-store.js';

/** kumo firewall rules for Neutron `rules` on a network whose range is `networkCidr`. */
export function toFirewallRules(rules: readonly RuleObject[], networkCidr: string): FirewallRule[] {
  const out = new Map<string, FirewallRule>();
  for (const r of rules) {
    if (r.ethertype !== 'IPv4') continue;
    const cidr = r.remoteIpPrefix ?? (r.remoteGroupId !== null ? networkCidr : '0.0.0.0/0');
    const protocol = r.protocol ?? 'all';
    const ported =
      (protocol === 'tcp' || protocol === 'udp') &&
      (r.portRangeMin !== null || r.portRangeMax !== null);
    const rule: FirewallRule = {
      direction: r.direction,
      protocol,
      ...(ported
        ? { ports: { from: r.portRangeMin ?? 0, to: r.portRangeMax ?? r.portRangeMin ?? 65535 } }
        : {}),
      cidrs: [cidr],
      ...(r.description === '' ? {} : { description: r.description.slice(0, 255) }),
    };
    out.set(JSON.stringify([rule.direction, rule.protocol, rule.ports ?? null, cidr]), rule);
  }
  return [...out.values()];
}

const toIp = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

/** The smallest IPv4 CIDR holding every one of `cidrs` (the range of a network with these subnets). */
export function coveringCidr(cidrs: readonly string[]): string {
  if (cidrs.length === 0) throw new Error('coveringCidr needs at least one CIDR');
  const ranges = cidrs.map(cidrRange);
  const first = Math.min(...ranges.map((r) => r.first));
  const last = Math.max(...ranges.map((r) => r.last));
  let prefix = 32;
  while (prefix > 0) {
    const size = 2 ** (32 - prefix);
    const base = first - (first % size);
    if (base + size - 1 >= last) return `${toIp(base)}/${prefix}`;
    prefix--;
  }
  return '0.0.0.0/0';
}

/** Gateway and allocation pool Neutron gives a subnet by default: .1, then .2 to the last host. */
export function subnetDefaults(cidr: string): {
  gatewayIp: string | null;
  allocationPools: { start: string; end: string }[];
} {
  const { first, last } = cidrRange(cidr);
  if (last - first < 3)
    return { gatewayIp: null, allocationPools: [{ start: toIp(first), end: toIp(last) }] };
  return {
    gatewayIp: toIp(first + 1),
    allocationPools: [{ start: toIp(first + 2), end: toIp(last - 1) }],
  };
}

/** The CIDR with host bits cleared (`10.0.0.5/24` → `10.0.0.0/24`). */
export function canonicalCidr(cidr: string): string {
  const [, bits = '32'] = cidr.split('/');
  return `${toIp(cidrRange(cidr).first)}/${bits}`;
}
