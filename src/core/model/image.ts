import { z } from 'zod';
import { ArchSchema } from './size.js';

/** An image a provider can boot, resolved from an alias or a native id. */
export const ImageSchema = z.object({
  /** The provider's id: `ami-…`, an image self-link, a Glance UUID, an Ironic image URL. */
  id: z.string().min(1),
  name: z.string(),
  provider: z.string().min(1),
  /** The alias it was resolved from, when it was (`ubuntu-22.04`). */
  alias: z.string().optional(),
  os: z.string().optional(),
  version: z.string().optional(),
  arch: ArchSchema.optional(),
  createdAt: z.string().optional(),
  extra: z.record(z.string(), z.unknown()).default({}),
});
export type Image = z.output<typeof ImageSchema>;
