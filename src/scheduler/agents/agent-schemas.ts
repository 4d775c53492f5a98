import { z } from 'zod';
import { LabelsSchema } from '../../core/index.js';
import {
  AgentResourcesSchema,
  IdSchema,
  PartialResourcesSchema,
  RoleSchema,
} from '../resources/resource-schemas.js';

/**
 * What placement constraints can see of an agent: where it runs and what it costs.
 * The logical datacenter fills these from the machine (provider, region, zone, pool,
 * spot, price, labels).
 */
export const AgentAttributesSchema = z
  .object({
    provider: z.string().min(1).max(255).optional(),
    region: z.string().min(1).max(255).optional(),
    zone: z.string().min(1).max(255).optional(),
    pool: z.string().min(1).max(255).optional(),
    spot: z.boolean().optional(),
    pricePerHour: z.number().nonnegative('pricePerHour cannot be negative').optional(),
    labels: LabelsSchema.default({}),
  })
  .strict();
export type AgentAttributes = z.output<typeof AgentAttributesSchema>;
export type AgentAttributesInput = z.input<typeof AgentAttributesSchema>;

/**
 * An agent joining the cluster.
 *
 * `reservations` are static reservations: resources set aside for one role, offered
 * only to frameworks in exactly that role. They must fit in `resources`; ports are
 * never reserved.
 */
export const AgentSpecSchema = z
  .object({
    id: IdSchema,
    hostname: z.string().min(1).max(255).optional(),
    resources: AgentResourcesSchema,
    attributes: AgentAttributesSchema.default({ labels: {} }),
    reservations: z.record(RoleSchema, PartialResourcesSchema).default({}),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const sum = { cpus: 0, memoryMiB: 0, gpus: 0, diskGiB: 0 };
    for (const r of Object.values(spec.reservations)) {
      sum.cpus += r.cpus ?? 0;
      sum.memoryMiB += r.memoryMiB ?? 0;
      sum.gpus += r.gpus ?? 0;
      sum.diskGiB += r.diskGiB ?? 0;
    }
    for (const k of ['cpus', 'memoryMiB', 'gpus', 'diskGiB'] as const)
      if (sum[k] > spec.resources[k] + 1e-9)
        ctx.addIssue({
          code: 'custom',
          path: ['reservations'],
          message: `reservations add up to ${sum[k]} ${k}, more than the agent's ${spec.resources[k]}`,
        });
  });
export type AgentSpec = z.output<typeof AgentSpecSchema>;
export type AgentSpecInput = z.input<typeof AgentSpecSchema>;

/** A change to a registered agent: new resources (e.g. after a resize) or attributes. */
export const AgentUpdateSchema = z
  .object({
    hostname: z.string().min(1).max(255).optional(),
    resources: AgentResourcesSchema.optional(),
    attributes: AgentAttributesSchema.optional(),
  })
  .strict();
export type AgentUpdateInput = z.input<typeof AgentUpdateSchema>;

/**
 * Maintenance: no new offers from the agent; frameworks with tasks there get a drain
 * notice; tasks still running `deadlineMs` from now are killed. Without a deadline the
 * drain waits for tasks to end on their own.
 */
export const DrainOptionsSchema = z
  .object({
    deadlineMs: z.number().nonnegative('deadlineMs cannot be negative').optional(),
  })
  .strict();
export type DrainOptionsInput = z.input<typeof DrainOptionsSchema>;
