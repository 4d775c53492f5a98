import { z } from 'zod';
import { LabelsSchema } from '../../core/index.js';
import { IdSchema, RoleSchema } from '../resources/resource-schemas.js';
import { ConstraintSchema } from './constraints.js';

/** Each task's resources; `ports` is how many ports each task gets. */
export const JobResourcesSchema = z
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
    ports: z.number().int('ports is a count of ports').nonnegative().max(65535).default(0),
  })
  .strict()
  .refine((r) => r.cpus > 0 || r.memoryMiB > 0, 'a task needs some cpus or memory');

/**
 * Retries of failed tasks (FAILED, LOST, or KILLED by anyone but the job's own
 * cancel): up to `max` more attempts, the n-th after `min(maxBackoffMs, backoffMs·2ⁿ)`.
 * A task DROPPED before it started is re-queued at once and does not use up a retry.
 */
export const RetryPolicySchema = z
  .object({
    max: z.number().int('max is a whole number').nonnegative().max(1000).default(0),
    backoffMs: z.number().nonnegative().default(1000),
    maxBackoffMs: z.number().nonnegative().default(60_000),
  })
  .strict();

/**
 * A job: `tasks` identical tasks. Higher `priority` jobs are placed first; equal
 * priorities go in submission order.
 */
export const JobSpecSchema = z
  .object({
    id: IdSchema.optional(),
    name: z.string().min(1, 'name the job').max(255),
    tasks: z
      .number()
      .int('tasks is a whole number')
      .positive('a job has at least one task')
      .max(10_000_000),
    resources: JobResourcesSchema,
    command: z.string().max(65_536).optional(),
    env: z
      .record(
        z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment names are letters, digits and "_"'),
        z.string().max(65_536),
      )
      .default({}),
    /** For simulating executors: how long each task runs. */
    durationMs: z.number().nonnegative().optional(),
    labels: LabelsSchema.default({}),
    constraints: z.array(ConstraintSchema).max(32).default([]),
    priority: z.number().int('priority is a whole number').min(-1000).max(1000).default(0),
    retries: RetryPolicySchema.default({ max: 0, backoffMs: 1000, maxBackoffMs: 60_000 }),
    /**
     * Tasks may be stopped and run again from the start on another machine. Such a
     * task is moved at once when its machine is drained with a deadline (so the machine
     * can go now, not at the deadline), and one ended by its machine (drained, lost,
     * removed) is queued again without using a retry. Default false: a drained task
     * runs to its end or to the deadline.
     */
    restartable: z.boolean().default(false),
    /**
     * How many times one task of a restartable job may be moved (stopped by its
     * machine and queued again without a retry). A task moved this often is treated as
     * a task of an ordinary job: a drain no longer moves it early (it runs on until the
     * drain's deadline, if any), and an end by its machine — that deadline included —
     * uses a retry like any failure, so a task whose machines keep failing under it
     * cannot loop for ever. Default 5.
     */
    maxMoves: z.number().int('maxMoves is a whole number').min(0).max(1000).default(5),
  })
  .strict();
export type JobSpec = z.output<typeof JobSpecSchema>;
export type JobSpecInput = z.input<typeof JobSpecSchema>;

export const JobsFrameworkOptionsSchema = z
  .object({
    name: z.string().min(1).max(255).default('jobs'),
    role: RoleSchema.default('*'),
    /** How long offers it cannot use are refused. Default 5 s. */
    refuseSeconds: z.number().nonnegative().default(5),
    /**
     * Ended jobs kept for `job()`, `jobs()` and `wait()`; past this many the oldest
     * are forgotten (their tasks still count in `stats()`), so a long-lived framework
     * does not grow with its history. The ids of as many forgotten jobs are remembered
     * too (not reused; asking for one says it was forgotten); older ids are unknown and
     * may be submitted again. Default 10000.
     */
    keepEnded: z.number().int('keepEnded is a whole number').min(0).default(10_000),
  })
  .strict();
export type JobsFrameworkOptionsInput = z.input<typeof JobsFrameworkOptionsSchema>;
