/**
 * Burst policies: when work waits and the machines you have cannot take it, add
 * machines from burst targets (cheapest fit, within budget and limits), and give them
 * back when idle. This is the `burst` key of a datacenter spec.
 */
import { z } from 'zod';
import { LabelsSchema, MachineSpecSchema, ResourcesSchema, type Issue } from '../../core/index.js';
import { DurationSchema } from './duration.js';

// NOTE: the same rule as the spec's pool and provider names; not imported from spec.ts,
// which imports this file (an import cycle would leave it undefined at load time).
const NameSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,30}$/,
    'names are 1–31 lowercase letters, digits and "-", starting with a letter',
  );

const RESERVED_LABEL = /^kumo-/;

/** What every machine of a target is made from, apart from its size, zone and spot. */
export const BurstMachineTemplateSchema = z
  .object({
    image: MachineSpecSchema.shape.image,
    arch: MachineSpecSchema.shape.arch,
    network: MachineSpecSchema.shape.network,
    subnet: MachineSpecSchema.shape.subnet,
    userData: MachineSpecSchema.shape.userData,
    sshKeys: MachineSpecSchema.shape.sshKeys,
    labels: LabelsSchema.default({}),
  })
  .strict()
  .superRefine((m, ctx) => {
    for (const key of Object.keys(m.labels))
      if (RESERVED_LABEL.test(key))
        ctx.addIssue({
          code: 'custom',
          path: ['labels', key],
          message: 'label keys starting with "kumo-" are kumo\'s own ownership tags',
        });
  });
export type BurstMachineTemplate = z.output<typeof BurstMachineTemplateSchema>;

/**
 * A burst target: a pool template on one provider. Machines are chosen among its
 * allowed `sizes` (provider size names) or resource `shapes` (each made as the
 * provider's cheapest size that fits); without either, every size the provider lists
 * with a price. `spot: true` allows spot machines (tried first, as they are cheaper).
 */
export const BurstTargetSchema = z
  .object({
    /** Names the target; its machines live in the ad-hoc pool `adhoc.burst-<name>`. */
    name: NameSchema,
    /** A provider registered with the datacenter. */
    provider: NameSchema,
    machine: BurstMachineTemplateSchema,
    sizes: z.array(z.string().min(1)).min(1, 'list at least one size').max(200).optional(),
    shapes: z.array(ResourcesSchema).min(1, 'list at least one shape').max(50).optional(),
    /** Zones to use; default every zone a size is offered in. */
    zones: z.array(z.string().min(1)).min(1, 'list at least one zone').optional(),
    /** Spot machines allowed. */
    spot: z.boolean().default(false),
    /** Most machines of this target at once. */
    maxMachines: z
      .number()
      .int('maxMachines is a whole number')
      .min(0, 'maxMachines cannot be negative')
      .max(10_000),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.sizes !== undefined && t.shapes !== undefined)
      ctx.addIssue({ code: 'custom', path: ['shapes'], message: 'give sizes or shapes, not both' });
  });
export type BurstTarget = z.output<typeof BurstTargetSchema>;
export type BurstTargetInput = z.input<typeof BurstTargetSchema>;

/**
 * A burst policy.
 *
 * - `basePools`: pools of the spec used first (your own machines); burst never
 *   releases their machines.
 * - `basePoolsFirst` (default true): while no work waits that the machines there
 *   cannot take, burst machines take no new work (they are cordoned: a drain without a
 *   deadline, so their tasks finish) and are released once empty; new work goes to the
 *   base pools. A cordoned machine is taken back before anything is bought.
 * - `targets`: where burst machines come from, each with its limits.
 * - `budgetPerHour`: the most all burst machines together may cost, in USD per hour.
 * - `pendingFor`: how long demand waits before it counts (short waits are normal).
 * - `idleFor`: a burst machine with no tasks this long is drained and released.
 * - `drainDeadline`: tasks still running this long after a consolidation drain are
 *   killed (their jobs retry them elsewhere); idle machines have none, and cordoning
 *   (`basePoolsFirst`) alone never kills: only a consolidation drain (`act: true`)
 *   gives the tasks of a burst machine, cordoned or not, a deadline.
 * - `cooldown.scaleUp`: least time between two scale-ups; `cooldown.scaleDown`: no
 *   machine is drained this soon after a scale-up.
 * - `preference`: provider order; `mode: cheapest` lets price decide and the order
 *   break ties, `mode: ordered` uses a provider only for what earlier ones cannot take.
 * - `interval`: time between decisions; `bootCheck`: how often booting machines are
 *   looked at, so they take work as soon as they run.
 * - `consolidation`: every `interval`, check whether the burst machines' tasks would fit
 *   on fewer or cheaper machines, and say so as an event; with `act: true`, drain the
 *   machines that are not needed (their tasks get `drainDeadline` to finish; tasks of
 *   `restartable` jobs move to the free room at once, so the machine goes now);
 *   `maxRestartLoss` keeps it to machines whose tasks are all younger than that (a task
 *   moves at most its job's `maxMoves` times, so consolidation costs it at most that many
 *   times as much work).
 *
 * @example
 * ```yaml
 * burst:
 *   basePools: [onprem]
 *   budgetPerHour: 12
 *   pendingFor: 30s
 *   idleFor: 2m
 *   targets:
 *     - name: cloud
 *       provider: cloud
 *       machine: { image: ubuntu-22.04 }
 *       sizes: [cpu-4x8, std-4x16, std-16x64]
 *       spot: true
 *       maxMachines: 40
 * ```
 */
export const BurstPolicySchema = z
  .object({
    basePools: z.array(NameSchema).default([]),
    basePoolsFirst: z.boolean().default(true),
    targets: z.array(BurstTargetSchema).min(1, 'give at least one burst target').max(100),
    budgetPerHour: z.number().positive('budgetPerHour must be more than 0').max(1_000_000),
    /** Most burst machines at once, over all targets. */
    maxMachines: z
      .number()
      .int('maxMachines is a whole number')
      .positive('maxMachines must be at least 1')
      .max(100_000)
      .optional(),
    pendingFor: DurationSchema.default(30_000),
    idleFor: DurationSchema.default(300_000),
    drainDeadline: DurationSchema.default(600_000),
    cooldown: z
      .object({ scaleUp: DurationSchema.default(0), scaleDown: DurationSchema.default(0) })
      .strict()
      .default({ scaleUp: 0, scaleDown: 0 }),
    preference: z
      .object({
        providers: z.array(NameSchema).default([]),
        mode: z.enum(['cheapest', 'ordered']).default('cheapest'),
      })
      .strict()
      .default({ providers: [], mode: 'cheapest' }),
    interval: DurationSchema.default(15_000),
    bootCheck: DurationSchema.default(5_000),
    consolidation: z
      .object({
        act: z.boolean().default(false),
        interval: DurationSchema.default(300_000),
        /** Only worth saying when it saves at least this share of the burst spend. */
        minSavingPercent: z.number().min(0).max(100).default(20),
        /**
         * Leave machines alone while any task there has run longer than this: what
         * moving a restartable task (a restart from the start) may throw away at most.
         */
        maxRestartLoss: DurationSchema.optional(),
      })
      .strict()
      .default({ act: false, interval: 300_000, minSavingPercent: 20 }),
  })
  .strict()
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    p.targets.forEach((t, i) => {
      if (seen.has(t.name))
        ctx.addIssue({
          code: 'custom',
          path: ['targets', i, 'name'],
          message: `target name "${t.name}" is used twice`,
        });
      seen.add(t.name);
    });
    const providers = new Set(p.targets.map((t) => t.provider));
    p.preference.providers.forEach((name, i) => {
      if (!providers.has(name))
        ctx.addIssue({
          code: 'custom',
          path: ['preference', 'providers', i],
          message: `no burst target is on provider "${name}"`,
        });
    });
    if (p.interval < 100)
      ctx.addIssue({ code: 'custom', path: ['interval'], message: 'interval is at least 100ms' });
    if (p.bootCheck < 100)
      ctx.addIssue({ code: 'custom', path: ['bootCheck'], message: 'bootCheck is at least 100ms' });
    if (p.consolidation.interval < 100)
      ctx.addIssue({
        code: 'custom',
        path: ['consolidation', 'interval'],
        message: 'interval is at least 100ms',
      });
  });
export type BurstPolicy = z.output<typeof BurstPolicySchema>;
export type BurstPolicyInput = z.input<typeof BurstPolicySchema>;

/**
 * What the policy refers to outside itself: base pools declared in the spec, target
 * providers registered with the datacenter. Paths are under `burst.`.
 */
export function burstPolicyIssues(
  policy: BurstPolicy,
  context: { readonly pools: readonly string[]; readonly providers: readonly string[] },
): Issue[] {
  const issues: Issue[] = [];
  policy.basePools.forEach((pool, i) => {
    if (!context.pools.includes(pool))
      issues.push({
        path: `burst.basePools.${i}`,
        message: `pool "${pool}" is not declared under pools`,
      });
  });
  policy.targets.forEach((t, i) => {
    if (!context.providers.includes(t.provider))
      issues.push({
        path: `burst.targets.${i}.provider`,
        message: `provider "${t.provider}" is not registered (registered: ${context.providers.join(', ') || 'none'})`,
      });
  });
  return issues;
}

/** Provider rank for preference: listed providers in order, then the others in target order. */
export function providerRanks(policy: BurstPolicy): Map<string, number> {
  const ranks = new Map<string, number>();
  for (const p of policy.preference.providers) if (!ranks.has(p)) ranks.set(p, ranks.size);
  for (const t of policy.targets) if (!ranks.has(t.provider)) ranks.set(t.provider, ranks.size);
  return ranks;
}
