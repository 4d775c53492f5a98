import { z } from 'zod';
import { LabelsSchema } from '../../core/index.js';
import { ConstraintSchema } from '../jobs/constraints.js';
import {
  IdSchema,
  PartialResourcesSchema,
  RoleSchema,
  TaskResourcesSchema,
} from '../resources/resource-schemas.js';
import type { FrameworkCallbacks } from './framework-events.js';

const CALLBACK_NAMES = ['offers', 'rescind', 'inverseOffers', 'update', 'agentLost', 'error'];

const CallbacksSchema = z.custom<FrameworkCallbacks>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    Object.entries(v).every(
      ([k, f]) => CALLBACK_NAMES.includes(k) && (f === undefined || typeof f === 'function'),
    ),
  `on takes functions named ${CALLBACK_NAMES.join(', ')}`,
);

/**
 * A framework registering. Give `id` to fail over: a framework that disconnected (or
 * whose process restarted) re-registers with its id before its failover timeout and
 * finds its tasks still running.
 */
export const FrameworkSpecSchema = z
  .object({
    name: z.string().min(1, 'name the framework').max(255),
    id: IdSchema.optional(),
    roles: z.array(RoleSchema).min(1, 'give at least one role').max(64).default(['*']),
    /** Weight among the frameworks of the same role (DRF share is divided by it). */
    weight: z.number().positive('weight must be more than 0').max(1_000_000).default(1),
    /** How long tasks outlive a disconnection. 0 (the default, as in Mesos) kills them at once. */
    failoverTimeoutMs: z.number().nonnegative('failoverTimeoutMs cannot be negative').default(0),
    /**
     * `implicit`: updates count as received when delivered. `explicit`: each update is
     * re-sent until `acknowledge`d, and finished tasks stay known until then.
     */
    acknowledgements: z.enum(['implicit', 'explicit']).default('implicit'),
    on: CallbacksSchema.optional(),
  })
  .strict();
export type FrameworkSpec = z.output<typeof FrameworkSpecSchema>;
export type FrameworkSpecInput = z.input<typeof FrameworkSpecSchema>;

const EnvNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment names are letters, digits and "_"');

/** One task to launch from accepted offers. */
export const TaskSpecSchema = z
  .object({
    id: IdSchema,
    name: z.string().max(255).optional(),
    resources: TaskResourcesSchema,
    command: z.string().max(65_536).optional(),
    env: z.record(EnvNameSchema, z.string().max(65_536)).default({}),
    /** For simulating executors: how long the task runs. */
    durationMs: z.number().nonnegative().optional(),
    labels: LabelsSchema.default({}),
    /**
     * Where the task may run, as the framework placed it. The scheduler does not check
     * them at launch (the framework chose the offer); whoever plans to move tasks
     * (burst consolidation) reads them so it never plans a move the framework could
     * not make.
     */
    constraints: z.array(ConstraintSchema).max(32).default([]),
  })
  .strict();
export type TaskSpec = z.output<typeof TaskSpecSchema>;
export type TaskSpecInput = z.input<typeof TaskSpecSchema>;

/** What to do with accepted offers, applied in order. */
export const OperationSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('launch'),
      tasks: z.array(TaskSpecSchema).min(1, 'launch at least one task'),
    })
    .strict(),
  /** Reserve unreserved offered resources for the offer's role (a dynamic reservation). */
  z.object({ type: z.literal('reserve'), resources: PartialResourcesSchema }).strict(),
  /** Return dynamically reserved offered resources to the unreserved pool. */
  z.object({ type: z.literal('unreserve'), resources: PartialResourcesSchema }).strict(),
]);
export type Operation = z.output<typeof OperationSchema>;
export type OperationInput = z.input<typeof OperationSchema>;

/** Everything of a task but its id and name. */
export type TaskTemplate = Omit<TaskSpec, 'id' | 'name'>;

/**
 * Internal: many identical tasks from one template, for the built-in jobs framework
 * (one object per task less when launching a million).
 */
export interface LaunchManyOperation {
  readonly type: 'launchMany';
  readonly template: TaskTemplate;
  readonly ids: readonly string[];
}

/** What the internal accept path takes. */
export type TrustedOperation = Operation | LaunchManyOperation;

export const OfferIdsSchema = z.array(z.string().min(1)).max(10_000);

/** How long to refuse what is handed back (declined, or left over by an accept). Default 5 s, as in Mesos. */
export const RefuseOptionsSchema = z
  .object({ refuseSeconds: z.number().nonnegative('refuseSeconds cannot be negative').default(5) })
  .strict();
export type RefuseOptionsInput = z.input<typeof RefuseOptionsSchema>;

export const RolesArgSchema = z.array(RoleSchema).optional();

/**
 * Demand a framework reports: `count` tasks of `resources` (and constraints) it could
 * not place yet, waiting since `since` (scheduler clock ms). Burst policies read it.
 */
export const DemandInputSchema = z
  .object({
    resources: TaskResourcesSchema,
    count: z.number().int('count is a whole number').positive('count must be at least 1'),
    since: z.number().nonnegative(),
    constraints: z.array(ConstraintSchema).default([]),
    /** The framework's own name for this demand (a job id, say). */
    key: z.string().max(255).optional(),
    /** Which of the framework's roles the work would run under; default its first. */
    role: RoleSchema.optional(),
    priority: z.number().int().default(0),
  })
  .strict();
export type DemandInput = z.input<typeof DemandInputSchema>;
