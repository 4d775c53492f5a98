import { z } from 'zod';
import { LabelsSchema } from './labels.js';

const CIDR_V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** An IPv4 CIDR such as `10.0.0.0/16`, with each octet and the prefix checked. */
export function isCidr(value: string): boolean {
  const m = CIDR_V4.exec(value);
  if (!m) return false;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  return octets.every((o) => o >= 0 && o <= 255) && prefix >= 0 && prefix <= 32;
}

export const CidrSchema = z.string().refine(isCidr, 'must be an IPv4 CIDR such as 10.0.0.0/16');

/** Parses `a.b.c.d/n` to a numeric range; only call on a value {@link CidrSchema} accepted. */
export function cidrRange(cidr: string): { first: number; last: number } {
  const [ip = '', bits = '0'] = cidr.split('/');
  const base = ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits));
  const first = base - (base % size);
  return { first, last: first + size - 1 };
}

/** True when `inner` lies wholly inside `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
  const o = cidrRange(outer);
  const i = cidrRange(inner);
  return i.first >= o.first && i.last <= o.last;
}

const PortRangeSchema = z
  .union([
    z.number().int().min(0).max(65535),
    z.string().regex(/^\d{1,5}(-\d{1,5})?$/, 'ports are a number or a range such as "8000-8080"'),
    z.object({ from: z.number().int().min(0).max(65535), to: z.number().int().min(0).max(65535) }),
  ])
  .transform((value, ctx) => {
    let from: number;
    let to: number;
    if (typeof value === 'number') from = to = value;
    else if (typeof value === 'string') {
      const [a = '0', b] = value.split('-');
      from = Number(a);
      to = b === undefined ? from : Number(b);
    } else ({ from, to } = value);
    if (from > 65535 || to > 65535 || from > to) {
      ctx.addIssue({ code: 'custom', message: 'port range must satisfy 0 ≤ from ≤ to ≤ 65535' });
      return z.NEVER;
    }
    return { from, to };
  });

/** One firewall rule in the neutral model. */
export const FirewallRuleSchema = z
  .object({
    direction: z.enum(['ingress', 'egress']).default('ingress'),
    protocol: z.enum(['tcp', 'udp', 'icmp', 'all']).default('tcp'),
    /** Port or range; left out means every port (required to be absent for `icmp` and `all`). */
    ports: PortRangeSchema.optional(),
    /** CIDRs the rule applies to: sources for ingress, destinations for egress. */
    cidrs: z.array(CidrSchema).min(1).default(['0.0.0.0/0']),
    description: z.string().max(255).optional(),
  })
  .strict()
  .refine((r) => r.ports === undefined || r.protocol === 'tcp' || r.protocol === 'udp', {
    message: 'ports apply only to tcp and udp rules',
    path: ['ports'],
  });
export type FirewallRule = z.output<typeof FirewallRuleSchema>;

export const SubnetSpecSchema = z
  .object({
    name: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{0,40}$/,
        'subnet names are lowercase letters, digits and "-", starting with a letter',
      ),
    cidr: CidrSchema,
    zone: z.string().optional(),
    /** Machines here get a public address and a route to the internet. */
    public: z.boolean().default(false),
  })
  .strict();
export type SubnetSpec = z.output<typeof SubnetSpecSchema>;

/** A network as declared: address space, subnets and firewall. */
export const NetworkSpecSchema = z
  .object({
    name: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{0,40}$/,
        'network names are lowercase letters, digits and "-", starting with a letter, at most 41 characters',
      ),
    cidr: CidrSchema,
    subnets: z.array(SubnetSpecSchema).default([]),
    firewall: z.array(FirewallRuleSchema).default([]),
    labels: LabelsSchema.default({}),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const names = new Set<string>();
    spec.subnets.forEach((s, i) => {
      if (names.has(s.name))
        ctx.addIssue({
          code: 'custom',
          path: ['subnets', i, 'name'],
          message: `duplicate subnet name "${s.name}"`,
        });
      names.add(s.name);
      if (isCidr(spec.cidr) && isCidr(s.cidr) && !cidrContains(spec.cidr, s.cidr))
        ctx.addIssue({
          code: 'custom',
          path: ['subnets', i, 'cidr'],
          message: `${s.cidr} is not inside the network's ${spec.cidr}`,
        });
    });
  });
export type NetworkSpec = z.output<typeof NetworkSpecSchema>;
export type NetworkSpecInput = z.input<typeof NetworkSpecSchema>;

/** A network as it exists on a provider. */
export interface Network {
  /** The provider's id of the network (VPC id, network self-link, Neutron UUID). */
  readonly id: string;
  readonly name: string;
  readonly provider: string;
  readonly cidr: string;
  readonly subnets: readonly {
    id: string;
    name: string;
    cidr: string;
    zone?: string;
    public: boolean;
  }[];
  /** The provider's id of the firewall (security group, firewall rule prefix), where it has one. */
  readonly firewallId?: string;
  readonly labels: Readonly<Record<string, string>>;
}
