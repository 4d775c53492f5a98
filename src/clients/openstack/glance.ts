/**
 * Glance (image v2): find images by id, by properties (`os_distro`, `os_version`) or
 * by name, over every page.
 *
 * @example
 * ```ts
 * const glance = new GlanceClient(session);
 * const ubuntu = await glance.listImages({ os_distro: 'ubuntu', status: 'active' });
 * ```
 */
import { z } from 'zod';
import { OpenStackApiError, type QueryValue, type ServiceClient } from './http.js';
import type { KeystoneSession } from './keystone.js';

export const GlanceImageSchema = z.looseObject({
  id: z.string(),
  name: z.string().nullish(),
  status: z.string(),
  visibility: z.string().optional(),
  os_distro: z.string().optional(),
  os_version: z.string().optional(),
  architecture: z.string().optional(),
  created_at: z.string().optional(),
  updated_at: z.string().optional(),
  min_ram: z.number().optional(),
  min_disk: z.number().optional(),
  size: z.number().nullish(),
});
export type GlanceImage = z.output<typeof GlanceImageSchema>;

const PageSchema = z.looseObject({
  images: z.array(GlanceImageSchema),
  next: z.string().optional(),
});

export class GlanceClient {
  readonly #client: ServiceClient;

  constructor(session: KeystoneSession) {
    this.#client = session.client('image', { major: 2 });
  }

  /**
   * Images matching `filter` (Glance filters on any image property, e.g.
   * `{ os_distro: 'ubuntu', os_version: '22.04', status: 'active' }`), every page.
   */
  async listImages(
    filter: Record<string, QueryValue> = {},
    signal?: AbortSignal,
  ): Promise<GlanceImage[]> {
    return this.#client.all('/images', {
      query: filter,
      schema: PageSchema,
      ...(signal === undefined ? {} : { signal }),
      extract: (p) => ({ items: p.images, next: p.next }),
    });
  }

  /** One image, or undefined when Glance says 404. */
  async findImage(id: string, signal?: AbortSignal): Promise<GlanceImage | undefined> {
    try {
      return await this.#client.get(`/images/${encodeURIComponent(id)}`, {
        schema: GlanceImageSchema,
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (error) {
      if (error instanceof OpenStackApiError && error.status === 404) return undefined;
      throw error;
    }
  }
}
