import { z } from 'zod';
import type { Clock } from '../core/index.js';
import type { Executor } from './executors/executor.js';
import type { AgentInfo } from './agents/agent-info.js';
import { PartialResourcesSchema, RoleSchema } from './resources/resource-schemas.js';

/**
 * A role's weight (its DRF share is divided by it) and quota: `guarantee` is held
 * back for it while it is below it; `limit` caps what it may hold, reservations
 * included.
 */
export const RoleConfigSchema = z
  .object({
    weight: z.number().positive('weight must be more than 0').max(1_000_000).default(1),
    quota: z
      .object({
        guarantee: PartialResourcesSchema.optional(),
        limit: PartialResourcesSchema.optional(),
      })
      .strict()
      .superRefine((q, ctx) => {
        for (const k of ['cpus', 'memoryMiB', 'gpus', 'diskGiB'] as const) {
          const g = q.guarantee?.[k];
          const l = q.limit?.[k];
          if (g !== undefined && l !== undefined && g > l)
            ctx.addIssue({
              code: 'custom',
              path: ['guarantee', k],
              message: `guarantee ${g} is above the limit ${l}`,
            });
        }
      })
      .optional(),
  })
  .strict();
export type RoleConfig = z.output<typeof RoleConfigSchema>;
export type RoleConfigInput = z.input<typeof RoleConfigSchema>;

const ClockSchema = z.custom<Clock>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Clock).now === 'function' &&
    typeof (v as Clock).schedule === 'function',
  'clock must have now() and schedule()',
);

const ExecutorSchema = z.custom<Executor | ((agent: AgentInfo) => Executor)>(
  (v) =>
    typeof v === 'function' ||
    (typeof v === 'object' && v !== null && typeof (v as Executor).launch === 'function'),
  'executor must be an Executor (with launch()) or a function choosing one per agent',
);

export const SchedulerOptionsSchema = z
  .object({
    /** Runs every task; or a function choosing the executor for each agent. */
    executor: ExecutorSchema,
    /** Default: the wall clock. Tests and simulations pass a `VirtualClock`. */
    clock: ClockSchema.optional(),
    /** The batch interval between allocation passes (events trigger extra ones). Default 1000 ms. */
    allocationIntervalMs: z
      .number()
      .positive('allocationIntervalMs must be more than 0')
      .default(1000),
    /** Outstanding offers are rescinded after this long; 0 never. Default 60 s. */
    offerTimeoutMs: z.number().nonnegative('offerTimeoutMs cannot be negative').default(60_000),
    /** Explicitly acknowledged updates are re-sent after this long without an acknowledgement. Default 10 s. */
    ackRetryMs: z.number().positive('ackRetryMs must be more than 0').default(10_000),
    /** Offers smaller than this in both cpus and memory are not made (a dimension left out is no criterion; an empty offer is never made). Default 0.01 cpus / 32 MiB, as in Mesos. */
    minAllocatable: PartialResourcesSchema.default({ cpus: 0.01, memoryMiB: 32 }),
    roles: z.record(RoleSchema, RoleConfigSchema).default({}),
    /** Called when a framework callback throws. Default: rethrown on a microtask (crash loudly). */
    onCallbackError: z
      .custom<(error: unknown, frameworkId: string) => void>((v) => typeof v === 'function')
      .optional(),
  })
  .strict();
export type SchedulerOptions = z.output<typeof SchedulerOptionsSchema>;
export type SchedulerOptionsInput = z.input<typeof SchedulerOptionsSchema>;
