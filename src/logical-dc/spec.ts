/**
 * The declared shape of a logical datacenter: pools, networks and labels. This is what
 * `dc.plan(spec)` and `dc.apply(spec)` take; the spec file (`kumo.yaml`, see
 * `spec-file.ts`) adds the providers section and the datacenter's name on top.
 */
import { z } from 'zod';
import {
  CidrSchema,
  FirewallRuleSchema,
  LabelsSchema,
  MachineSpecSchema,
  NetworkSpecSchema,
  SubnetSpecSchema,
  type MachineSpec,
  type NetworkSpec,
} from '../core/index.js';
import { BurstPolicySchema } from './burst/burst-schema.js';

/** Pool, network and provider names: they end up in machine names and cloud tags. */
export const NameSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,30}$/,
    'names are 1–31 lowercase letters, digits and "-", starting with a letter',
  );

/** Label keys kumo sets itself; a spec may not set them. */
const RESERVED_LABEL = /^kumo-/;

function rejectReservedLabels(
  labels: Record<string, string> | undefined,
  path: (string | number)[],
  ctx: z.RefinementCtx,
): void {
  for (const key of Object.keys(labels ?? {}))
    if (RESERVED_LABEL.test(key))
      ctx.addIssue({
        code: 'custom',
        path: [...path, key],
        message: `label keys starting with "kumo-" are kumo's own ownership tags`,
      });
}

/**
 * One pool: like machines on one provider. Give `count` (exact) or `min`/`max` (a
 * range the burst controller moves within; plan keeps the current size, clamped).
 */
export const PoolSpecSchema = z
  .object({
    /** Name of a provider registered with the datacenter. */
    provider: NameSchema,
    count: z
      .number()
      .int('count must be a whole number')
      .min(0, 'count cannot be negative')
      .max(100_000, 'count is at most 100000')
      .optional(),
    min: z
      .number()
      .int('min must be a whole number')
      .min(0, 'min cannot be negative')
      .max(100_000)
      .optional(),
    max: z
      .number()
      .int('max must be a whole number')
      .min(0, 'max cannot be negative')
      .max(100_000)
      .optional(),
    machine: MachineSpecSchema,
    /** Network of the pool's machines (same as `machine.network`). */
    network: NameSchema.optional(),
    /** Labels of the pool's machines, over the datacenter's and under the machine spec's. */
    labels: LabelsSchema.default({}),
    /** On a spec change, create the replacement before deleting the old machine. */
    createBeforeDestroy: z.boolean().optional(),
  })
  .strict()
  .superRefine((pool, ctx) => {
    const ranged = pool.min !== undefined || pool.max !== undefined;
    if (pool.count === undefined && !ranged)
      ctx.addIssue({ code: 'custom', path: ['count'], message: 'give count, or min and max' });
    if (pool.count !== undefined && ranged)
      ctx.addIssue({ code: 'custom', path: ['count'], message: 'give count or min/max, not both' });
    if (ranged && (pool.min === undefined || pool.max === undefined))
      ctx.addIssue({
        code: 'custom',
        path: [pool.min === undefined ? 'min' : 'max'],
        message: 'min and max go together',
      });
    if (pool.min !== undefined && pool.max !== undefined && pool.min > pool.max)
      ctx.addIssue({
        code: 'custom',
        path: ['min'],
        message: `min (${pool.min}) is more than max (${pool.max})`,
      });
    if (
      pool.network !== undefined &&
      pool.machine.network !== undefined &&
      pool.network !== pool.machine.network
    )
      ctx.addIssue({
        code: 'custom',
        path: ['network'],
        message: `pool network "${pool.network}" differs from machine.network "${pool.machine.network}"`,
      });
    rejectReservedLabels(pool.labels, ['labels'], ctx);
    rejectReservedLabels(pool.machine.labels, ['machine', 'labels'], ctx);
  });
export type PoolSpec = z.output<typeof PoolSpecSchema>;
export type PoolSpecInput = z.input<typeof PoolSpecSchema>;

/** A network declared in the datacenter, made on one provider (its name is the map key). */
export const NetworkDeclSchema = z
  .object({
    provider: NameSchema,
    cidr: CidrSchema,
    subnets: z.array(SubnetSpecSchema).default([]),
    firewall: z.array(FirewallRuleSchema).default([]),
    labels: LabelsSchema.default({}),
  })
  .strict();
export type NetworkDecl = z.output<typeof NetworkDeclSchema>;
export type NetworkDeclInput = z.input<typeof NetworkDeclSchema>;

/** The fields of a datacenter spec, shared by the SDK schema and the spec file schema. */
export const DATACENTER_SHAPE = {
  pools: z.record(NameSchema, PoolSpecSchema).default({}),
  networks: z.record(NameSchema, NetworkDeclSchema).default({}),
  /** Labels every machine of the datacenter carries. */
  labels: LabelsSchema.default({}),
  /** The burst policy (see `burst/burst-schema.ts`). */
  burst: BurstPolicySchema.optional(),
};

/** Checks across fields: network references, subnets inside their network, reserved labels. */
export function checkDatacenter(
  spec: {
    pools: Record<string, PoolSpec>;
    networks: Record<string, NetworkDecl>;
    labels: Record<string, string>;
  },
  ctx: z.RefinementCtx,
): void {
  rejectReservedLabels(spec.labels, ['labels'], ctx);
  for (const [name, net] of Object.entries(spec.networks)) {
    // The core schema checks what the declaration alone cannot: subnets inside the CIDR, unique subnet names.
    const checked = NetworkSpecSchema.safeParse({
      name,
      cidr: net.cidr,
      subnets: net.subnets,
      firewall: net.firewall,
      labels: net.labels,
    });
    if (!checked.success)
      for (const issue of checked.error.issues)
        if (issue.code === 'custom')
          ctx.addIssue({
            code: 'custom',
            path: [
              'networks',
              name,
              ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
            ],
            message: issue.message,
          });
  }
  for (const [name, pool] of Object.entries(spec.pools)) {
    const network = pool.network ?? pool.machine.network;
    if (network === undefined) continue;
    const decl = spec.networks[network];
    const path =
      pool.network !== undefined
        ? ['pools', name, 'network']
        : ['pools', name, 'machine', 'network'];
    if (decl === undefined)
      ctx.addIssue({
        code: 'custom',
        path,
        message: `network "${network}" is not declared under networks`,
      });
    else if (decl.provider !== pool.provider)
      ctx.addIssue({
        code: 'custom',
        path,
        message: `network "${network}" is on provider "${decl.provider}", the pool on "${pool.provider}"`,
      });
  }
}

/**
 * The desired datacenter: pools, networks, labels and, optionally, a burst policy
 * (`burst`, see `BurstPolicySchema`), which the burst controller runs and apply ignores.
 *
 * @example
 * ```ts
 * const spec: DatacenterSpecInput = {
 *   pools: { web: { provider: 'cloud', count: 3, machine: { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04' } } },
 * };
 * ```
 */
export const DatacenterSpecSchema = z
  .object(DATACENTER_SHAPE)
  .strict()
  .superRefine(checkDatacenter);
export type DatacenterSpec = z.output<typeof DatacenterSpecSchema>;
export type DatacenterSpecInput = z.input<typeof DatacenterSpecSchema>;

/** A pool with everything resolved: the machine spec as it is sent to the provider. */
export interface ResolvedPool {
  readonly name: string;
  readonly provider: string;
  /** Exact size, or undefined for a min/max pool (plan keeps the current size within the range). */
  readonly count: number | undefined;
  readonly min: number;
  readonly max: number;
  readonly machine: MachineSpec;
  readonly createBeforeDestroy: boolean | undefined;
}

/** Merges labels and the pool's network into the machine spec each pool sends. */
export function resolvePools(spec: DatacenterSpec): ResolvedPool[] {
  return Object.entries(spec.pools)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, pool]) => {
      const network = pool.network ?? pool.machine.network;
      const machine: MachineSpec = {
        ...pool.machine,
        ...(network === undefined ? {} : { network }),
        labels: { ...spec.labels, ...pool.labels, ...pool.machine.labels },
      };
      return {
        name,
        provider: pool.provider,
        count: pool.count,
        min: pool.count ?? pool.min ?? 0,
        max: pool.count ?? pool.max ?? 0,
        machine,
        createBeforeDestroy: pool.createBeforeDestroy,
      };
    });
}

/** The neutral network spec each declared network is ensured with. */
export function resolveNetworks(spec: DatacenterSpec): { provider: string; spec: NetworkSpec }[] {
  return Object.entries(spec.networks)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, n]) => ({
      provider: n.provider,
      spec: {
        name,
        cidr: n.cidr,
        subnets: n.subnets,
        firewall: n.firewall,
        labels: { ...spec.labels, ...n.labels },
      },
    }));
}
