import { z } from 'zod';
import { ResourcesSchema } from '../../core/index.js';

/** An inclusive port range `[begin, end]` within 1–65535. */
export const PortRangeSchema = z
  .tuple([
    z
      .number()
      .int('ports are whole numbers')
      .min(1, 'ports start at 1')
      .max(65535, 'ports end at 65535'),
    z
      .number()
      .int('ports are whole numbers')
      .min(1, 'ports start at 1')
      .max(65535, 'ports end at 65535'),
  ])
  .refine(([b, e]) => b <= e, 'a port range is [begin, end] with begin <= end');

/** What an agent has: the neutral resources plus the port ranges tasks may bind. */
export const AgentResourcesSchema = ResourcesSchema.extend({
  ports: z.array(PortRangeSchema).max(64, 'at most 64 port ranges').default([]),
});
export type AgentResources = z.output<typeof AgentResourcesSchema>;
export type AgentResourcesInput = z.input<typeof AgentResourcesSchema>;

/** Some resources, each optional (reservations, quotas): a missing one means none. */
export const PartialResourcesSchema = z
  .object({
    cpus: z.number().nonnegative('cpus cannot be negative').max(1_000_000).optional(),
    memoryMiB: z.number().int('memoryMiB must be a whole number').nonnegative().optional(),
    gpus: z.number().int('gpus must be a whole number').nonnegative().optional(),
    diskGiB: z.number().int('diskGiB must be a whole number').nonnegative().optional(),
  })
  .strict();
export type PartialResources = z.output<typeof PartialResourcesSchema>;

/**
 * What a task asks for. `ports` is either how many ports to pick from the offer
 * (lowest first) or the exact ranges to take.
 */
export const TaskResourcesSchema = z
  .object({
    cpus: z.number().nonnegative('cpus cannot be negative').max(1_000_000),
    memoryMiB: z
      .number()
      .int('memoryMiB must be a whole number')
      .nonnegative()
      .max(1 << 30),
    gpus: z.number().int('gpus must be a whole number').nonnegative().max(1024).default(0),
    diskGiB: z
      .number()
      .int('diskGiB must be a whole number')
      .nonnegative()
      .max(1 << 24)
      .default(0),
    ports: z
      .union([
        z.number().int('a port count is a whole number').nonnegative().max(65535),
        z.array(PortRangeSchema).max(64),
      ])
      .default(0),
  })
  .strict();
export type TaskResources = z.output<typeof TaskResourcesSchema>;
export type TaskResourcesInput = z.input<typeof TaskResourcesSchema>;

/**
 * A role: `/`-separated path segments (`eng`, `eng/batch`), or `*`, the default role
 * every framework may use. Segments are letters, digits, `_`, `-`, `.` and are never
 * `.` or `..` (Mesos's rules for hierarchical roles).
 */
export const RoleSchema = z
  .string()
  .min(1, 'a role cannot be empty')
  .max(255, 'a role is at most 255 characters')
  .refine(
    (r) =>
      r === '*' ||
      r
        .split('/')
        .every((seg) => /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(seg) && seg !== '.' && seg !== '..'),
    'a role is "*" or "/"-separated segments of letters, digits, "_", "-", "." (not starting with "." or "-")',
  );

/** Ids of agents, frameworks, tasks and jobs. */
export const IdSchema = z
  .string()
  .min(1, 'an id cannot be empty')
  .max(200, 'an id is at most 200 characters')
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/,
    'an id uses letters, digits, ".", "_", ":", "@", "-" and starts with a letter or digit',
  );
