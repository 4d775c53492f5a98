/**
 * Glance v2, read-only: the datacenter's images (kumo's aliases) listed and shown.
 * Mounted at `/image`. Shapes follow the Image API v2 reference; paging by `marker`
 * and `limit` with a `next` link, filtering by name, status, visibility and os_distro.
 */
import type { GatewayContext } from '../context.js';
import { badRequest, notFound } from '../http/errors.js';
import { param, Router, type GatewayRequest } from '../http/router.js';
import type { GatewayImage } from './images.js';

/** A fixed date for images, which kumo's alias table does not date. */
const IMAGE_DATE = '2024-01-01T00:00:00Z';

export function glanceImage(i: GatewayImage): Record<string, unknown> {
  return {
    id: i.id,
    name: i.name,
    status: 'active',
    visibility: 'public',
    protected: false,
    os_hidden: false,
    checksum: null,
    os_hash_algo: null,
    os_hash_value: null,
    owner: null,
    size: null,
    virtual_size: null,
    min_ram: 0,
    min_disk: 0,
    disk_format: 'raw',
    container_format: 'bare',
    created_at: IMAGE_DATE,
    updated_at: IMAGE_DATE,
    tags: [],
    os_distro: i.os,
    os_version: i.version,
    kumo_alias: i.name,
    kumo_providers: i.providers.join(','),
    self: `/v2/images/${i.id}`,
    file: `/v2/images/${i.id}/file`,
    schema: '/v2/schemas/image',
  };
}

async function list(ctx: GatewayContext, req: GatewayRequest): Promise<Record<string, unknown>> {
  const q = req.query;
  let images = await ctx.catalog.images();
  const name = q.get('name');
  if (name !== null) images = images.filter((i) => i.name === name);
  const status = q.get('status');
  if (status !== null && status !== 'active') images = [];
  const visibility = q.get('visibility');
  if (visibility !== null && visibility !== 'public' && visibility !== 'all') images = [];
  const distro = q.get('os_distro');
  if (distro !== null) images = images.filter((i) => i.os === distro);
  const marker = q.get('marker');
  if (marker !== null) {
    const at = images.findIndex((i) => i.id === marker);
    if (at < 0) throw notFound(`No image found with ID ${marker}`);
    images = images.slice(at + 1);
  }
  const limitText = q.get('limit');
  const limit = limitText === null ? 25 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 0) throw badRequest('limit param must be an integer');
  const shown = images.slice(0, limit);
  const body: Record<string, unknown> = {
    images: shown.map(glanceImage),
    first: '/v2/images',
    schema: '/v2/schemas/images',
  };
  const last = shown[shown.length - 1];
  if (images.length > limit && last !== undefined) {
    const next = new URLSearchParams(q);
    next.set('marker', last.id);
    body['next'] = `/v2/images?${next.toString()}`;
  }
  return body;
}

/** Routes below `/image`. */
export function imageRouter(ctx: GatewayContext): Router {
  const versions = (): { status: number; body: unknown } => ({
    status: 300,
    body: {
      versions: ['2.15', '2.9', '2.0'].map((v, i) => ({
        id: `v${v}`,
        status: i === 0 ? 'CURRENT' : 'SUPPORTED',
        links: [{ rel: 'self', href: `${ctx.baseUrl()}/image/v2/` }],
      })),
    },
  });
  return new Router()
    .add('GET', '/', versions, { public: true })
    .add('GET', '/versions', () => ({ ...versions(), status: 200 }), { public: true })
    .add('GET', '/v2/images', async (req) => ({ status: 200, body: await list(ctx, req) }))
    .add('GET', '/v2/images/:id', async (req) => {
      const id = param(req, 'id');
      const found = (await ctx.catalog.images()).find((i) => i.id === id);
      if (found === undefined) throw notFound(`No image found with ID ${id}`);
      return { status: 200, body: glanceImage(found) };
    });
}
