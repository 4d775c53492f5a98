import { z } from 'zod';
import { LabelsSchema } from './labels.js';
import { ResourcesSchema, type Resources } from './resources.js';
import { ArchSchema } from './size.js';

/**
 * What one machine should be. Give `resources` (kumo picks the cheapest size that
 * fits) or an explicit provider `size`, not both.
 */
export const MachineSpecSchema = z
  .object({
    resources: ResourcesSchema.optional(),
    size: z.string().min(1).optional(),
    /** An alias (`ubuntu-22.04`, `debian-12`, …) or a provider-native id. */
    image: z
      .string({
        error: 'image is required: an alias such as ubuntu-22.04, or the cloud’s image id',
      })
      .min(1, 'image is required'),
    arch: ArchSchema.optional(),
    /** Name of a network declared alongside (created by `ensureNetwork`). */
    network: z.string().optional(),
    subnet: z.string().optional(),
    zone: z.string().optional(),
    spot: z.boolean().default(false),
    userData: z
      .string()
      .max(64 * 1024, 'userData is at most 64 KiB')
      .optional(),
    sshKeys: z
      .array(
        z
          .string()
          .regex(
            /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?$/,
            'must be an OpenSSH public key line',
          ),
      )
      .default([]),
    labels: LabelsSchema.default({}),
  })
  .strict()
  .superRefine(sizeOrResources);
export type MachineSpec = z.output<typeof MachineSpecSchema>;
export type MachineSpecInput = z.input<typeof MachineSpecSchema>;

/**
 * What decides a machine's size: an explicit `size`, or `resources` to fit (with the
 * zone, spot and architecture it must fit in). The size part of a {@link MachineSpec}.
 */
export const SizeChoiceSchema = z
  .object({
    resources: ResourcesSchema.optional(),
    size: z.string().min(1).optional(),
    arch: ArchSchema.optional(),
    zone: z.string().optional(),
    spot: z.boolean().default(false),
  })
  .strict()
  .superRefine(sizeOrResources);
export type SizeChoice = z.output<typeof SizeChoiceSchema>;
export type SizeChoiceInput = z.input<typeof SizeChoiceSchema>;

function sizeOrResources(
  spec: { resources?: Resources | undefined; size?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if (spec.resources === undefined && spec.size === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['resources'],
      message: 'give resources (cpus, memoryMiB, …) or an explicit size',
    });
  if (spec.resources !== undefined && spec.size !== undefined)
    ctx.addIssue({ code: 'custom', path: ['size'], message: 'give resources or size, not both' });
}

/** Idempotency keys fit every cloud's client token (AWS allows 64 ASCII characters). */
export const IdempotencyKeySchema = z
  .string()
  .min(1, 'idempotencyKey cannot be empty')
  .max(64, 'idempotencyKey is at most 64 characters')
  .regex(/^[A-Za-z0-9._:-]+$/, 'idempotencyKey uses letters, digits, ".", "_", ":" and "-"');

/**
 * A request to create `count` identical machines. The same `idempotencyKey` never
 * makes more than `count` machines, however often the request is repeated.
 */
export const CreateMachinesRequestSchema = z
  .object({
    spec: MachineSpecSchema,
    count: z
      .number()
      .int('count must be a whole number')
      .min(1, 'count must be at least 1')
      .max(10_000, 'count is at most 10000 per request'),
    idempotencyKey: IdempotencyKeySchema,
    /** Name of the logical datacenter (tag `kumo-dc`). */
    dc: z.string().min(1).max(63).default('default'),
    /** Pool the machines belong to (tag `kumo-pool`). */
    pool: z.string().min(1).max(63).default('default'),
    /** Extra labels, merged over `spec.labels`. */
    labels: LabelsSchema.default({}),
    /** Prefix of the machines' deterministic names; derived from the pool and key when absent. */
    namePrefix: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{0,40}$/,
        'namePrefix is lowercase letters, digits and "-", starting with a letter',
      )
      .optional(),
  })
  .strict();
export type CreateMachinesRequest = z.output<typeof CreateMachinesRequestSchema>;
export type CreateMachinesRequestInput = z.input<typeof CreateMachinesRequestSchema>;

export const MACHINE_STATES = [
  'pending',
  'running',
  'stopping',
  'stopped',
  'terminated',
  'error',
] as const;
export const MachineStateSchema = z.enum(MACHINE_STATES);
export type MachineState = z.infer<typeof MachineStateSchema>;

export interface MachineAddress {
  readonly type: 'private' | 'public';
  readonly address: string;
}

/** A machine as it exists on a provider, in neutral terms. */
export interface Machine {
  /** kumo's stable name for it: `<namePrefix>-<index>`, unique within the datacenter. */
  readonly id: string;
  /** The cloud's id (`i-…`, instance name, server UUID, node UUID). */
  readonly providerId: string;
  /** Name of the provider it lives on. */
  readonly provider: string;
  readonly region: string;
  readonly zone: string;
  readonly size: string;
  readonly resources: Resources;
  readonly image: string;
  readonly state: MachineState;
  readonly spot: boolean;
  readonly addresses: readonly MachineAddress[];
  /** Every label, kumo's own tags (`kumo-dc`, `kumo-pool`, `kumo-key`) included. */
  readonly labels: Readonly<Record<string, string>>;
  readonly pricePerHour?: number;
  /** ISO 8601. */
  readonly createdAt: string;
  /** Why the machine is in `error` (or was terminated by the cloud), in the cloud's words. */
  readonly error?: string;
}

/** Filters for `listMachines`; every given field must match. */
export interface MachineFilter {
  readonly labels?: Readonly<Record<string, string>>;
  /** States to include; by default every state but `terminated`. */
  readonly states?: readonly MachineState[];
  readonly zone?: string;
}
