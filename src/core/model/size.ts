import { z } from 'zod';
import { ResourcesSchema } from './resources.js';

export const ArchSchema = z.enum(['x86_64', 'arm64']);
export type Arch = z.infer<typeof ArchSchema>;

/** A machine size a provider offers, in neutral units, with its price where known. */
export const SizeSchema = z.object({
  /** The provider's own name: `m6i.large`, `e2-standard-4`, a flavor name, an Ironic resource class. */
  name: z.string().min(1),
  /** Name of the provider offering it. */
  provider: z.string().min(1),
  resources: ResourcesSchema,
  arch: ArchSchema.default('x86_64'),
  /** On-demand price in USD per hour, where known. */
  pricePerHour: z.number().nonnegative().optional(),
  /** Spot / preemptible price in USD per hour, where known and offered. */
  spotPricePerHour: z.number().nonnegative().optional(),
  /** Zones where it is offered; empty means every zone of the region. */
  zones: z.array(z.string()).default([]),
  /** Whether it can be had as spot/preemptible. */
  spot: z.boolean().default(false),
  /** True for a size made up on request (GCP custom machine types). */
  custom: z.boolean().default(false),
  /** How many can be had now, where the provider knows (bare metal: available nodes). */
  available: z.number().int().nonnegative().optional(),
  /** Provider-only facts, kept out of the neutral fields (Libcloud's `extra`). */
  extra: z.record(z.string(), z.unknown()).default({}),
});
export type Size = z.output<typeof SizeSchema>;
export type SizeInput = z.input<typeof SizeSchema>;
