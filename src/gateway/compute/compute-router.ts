/**
 * Nova v2.1, the subset OpenStack clients use to run servers: version discovery,
 * flavors, images (the pre-2.36 proxy), availability zones, key pairs and servers.
 * Mounted at `/compute`; shapes follow Nova's API reference and its view builders.
 */
import { z } from 'zod';
import { nowIso, type GatewayContext } from '../context.js';
import { badRequest, conflict, notFound } from '../http/errors.js';
import {
  param,
  parseBody,
  Router,
  type GatewayRequest,
  type GatewayResponse,
} from '../http/router.js';
import type { GatewayImage } from '../image/images.js';
import type { KeypairObject } from '../state/gateway-store.js';
import type { Flavor } from './flavors.js';
import { checkPublicKey, generateRsaKeyPair } from './keypairs.js';
import { atLeast, formatVersion, MAX_MICROVERSION, MIN_MICROVERSION } from './microversion.js';
import { links } from './server-view.js';
import type { ServerService } from './servers.js';

/** A fixed date for images, which kumo's alias table does not date. */
const IMAGE_DATE = '2024-01-01T00:00:00Z';

function versionEntry(ctx: GatewayContext): Record<string, unknown> {
  return {
    id: 'v2.1',
    status: 'CURRENT',
    version: formatVersion(MAX_MICROVERSION),
    min_version: formatVersion(MIN_MICROVERSION),
    updated: '2013-07-23T11:33:21Z',
    links: [
      { rel: 'self', href: `${ctx.baseUrl()}/compute/v2.1/` },
      { rel: 'describedby', type: 'text/html', href: 'http://docs.openstack.org/' },
    ],
    'media-types': [
      { base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' },
    ],
  };
}

const computeUrl = (ctx: GatewayContext): string => `${ctx.baseUrl()}/compute/v2.1`;

function flavorDetail(
  ctx: GatewayContext,
  f: Flavor,
  req: GatewayRequest,
): Record<string, unknown> {
  return {
    id: f.id,
    name: f.name,
    ram: f.ramMiB,
    disk: f.diskGiB,
    vcpus: f.vcpus,
    swap: '',
    'OS-FLV-EXT-DATA:ephemeral': 0,
    'OS-FLV-DISABLED:disabled': false,
    rxtx_factor: 1.0,
    'os-flavor-access:is_public': true,
    links: links(computeUrl(ctx), 'flavors', f.id),
    ...(atLeast(req.microversion, 55) ? { description: null } : {}),
  };
}

/** Marker and limit paging over `items` by id, as Nova pages flavors and key pairs. */
function page<T>(items: readonly T[], req: GatewayRequest, id: (item: T) => string): T[] {
  let out = [...items];
  const marker = req.query.get('marker');
  if (marker !== null) {
    const at = out.findIndex((i) => id(i) === marker);
    if (at < 0) throw badRequest(`marker [${marker}] not found`);
    out = out.slice(at + 1);
  }
  const limitText = req.query.get('limit');
  if (limitText !== null) {
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 0)
      throw badRequest(`Invalid input for query parameters limit. Value: ${limitText}.`);
    out = out.slice(0, limit);
  }
  return out;
}

/** A whole-number query parameter (0 when absent); anything else is a 400, as in Nova. */
function wholeQuery(req: GatewayRequest, name: string): number {
  const text = req.query.get(name);
  if (text === null) return 0;
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 0)
    throw badRequest(`Invalid input for query parameters ${name}. Value: ${text}.`);
  return n;
}

async function flavors(
  ctx: GatewayContext,
  req: GatewayRequest,
  detailed: boolean,
): Promise<GatewayResponse> {
  const minRam = wholeQuery(req, 'minRam');
  const minDisk = wholeQuery(req, 'minDisk');
  const all = (await ctx.catalog.flavors()).filter(
    (f) => f.ramMiB >= minRam && f.diskGiB >= minDisk,
  );
  const shown = page(all, req, (f) => f.id);
  return {
    status: 200,
    body: {
      flavors: shown.map((f) =>
        detailed
          ? flavorDetail(ctx, f, req)
          : {
              id: f.id,
              name: f.name,
              links: links(computeUrl(ctx), 'flavors', f.id),
              ...(atLeast(req.microversion, 55) ? { description: null } : {}),
            },
      ),
    },
  };
}

async function flavor(ctx: GatewayContext, req: GatewayRequest): Promise<Flavor> {
  const id = param(req, 'id');
  const found = (await ctx.catalog.flavors()).find((f) => f.id === id);
  if (found === undefined) throw notFound(`Flavor ${id} could not be found.`);
  return found;
}

function imageDetail(ctx: GatewayContext, i: GatewayImage): Record<string, unknown> {
  return {
    id: i.id,
    name: i.name,
    status: 'ACTIVE',
    progress: 100,
    minDisk: 0,
    minRam: 0,
    metadata: {
      os_distro: i.os,
      os_version: i.version,
      kumo_alias: i.name,
      kumo_providers: i.providers.join(','),
    },
    created: IMAGE_DATE,
    updated: IMAGE_DATE,
    'OS-EXT-IMG-SIZE:size': 0,
    links: links(computeUrl(ctx), 'images', i.id),
  };
}

/** The image proxy went away at 2.36: later versions get the 404 Nova gives. */
function checkImageProxy(req: GatewayRequest): void {
  if (atLeast(req.microversion, 36)) throw notFound('The resource could not be found.');
}

const KeypairCreateSchema = z.object({
  keypair: z
    .object({
      name: z
        .string()
        .min(1)
        .max(255)
        .regex(
          /^[A-Za-z0-9 _.@-]+$/,
          'key pair names use letters, digits, spaces, "_", "-", "." and "@"',
        ),
      public_key: z
        .string()
        .max(16 * 1024)
        .optional(),
      type: z.enum(['ssh', 'x509']).optional(),
      user_id: z.string().optional(),
    })
    .strict(),
});

function keypairBody(
  k: KeypairObject,
  req: GatewayRequest,
  full: boolean,
): Record<string, unknown> {
  const typed = atLeast(req.microversion, 2) ? { type: k.type } : {};
  if (!full) return { name: k.name, public_key: k.publicKey, fingerprint: k.fingerprint, ...typed };
  return {
    name: k.name,
    public_key: k.publicKey,
    fingerprint: k.fingerprint,
    user_id: k.userId,
    created_at: k.createdAt.replace(/Z$/, ''),
    deleted: false,
    deleted_at: null,
    updated_at: null,
    id: k.id,
    ...typed,
  };
}

async function createKeypair(ctx: GatewayContext, req: GatewayRequest): Promise<GatewayResponse> {
  const user = req.auth!.user;
  const body = parseBody(req, KeypairCreateSchema).keypair;
  if (body.type !== undefined && !atLeast(req.microversion, 2))
    throw badRequest(
      "Invalid input for field/attribute keypair. Additional properties are not allowed ('type' was unexpected)",
    );
  if (body.user_id !== undefined && body.user_id !== user.id)
    throw badRequest('Key pairs can only be made for yourself here.');
  if (body.type === 'x509')
    throw badRequest('x509 key pairs are not offered; kumo machines take SSH keys.');
  const taken = (): boolean => ctx.store.keypairs.has(`${user.id}/${body.name}`);
  if (taken()) throw conflict(`Key pair '${body.name}' already exists.`);
  let made: { publicKey: string; fingerprint: string; privateKey?: string };
  if (body.public_key !== undefined) made = checkPublicKey(body.public_key);
  else made = await generateRsaKeyPair(`Generated-by-kumo-gateway`);
  // Asked again after the wait: a create of the same name may have landed meanwhile, and
  // its caller holds the one private key that fits.
  if (taken()) throw conflict(`Key pair '${body.name}' already exists.`);
  const keypair: KeypairObject = {
    id: Math.max(0, ...[...ctx.store.keypairs.values()].map((k) => k.id)) + 1,
    userId: user.id,
    name: body.name,
    publicKey: made.publicKey,
    fingerprint: made.fingerprint,
    type: body.type ?? 'ssh',
    createdAt: nowIso(ctx),
  };
  ctx.store.keypairs.set(`${user.id}/${body.name}`, keypair);
  await ctx.store.save();
  return {
    status: atLeast(req.microversion, 2) ? 201 : 200,
    body: {
      keypair: {
        ...keypairBody(keypair, req, false),
        user_id: user.id,
        ...(made.privateKey === undefined ? {} : { private_key: made.privateKey }),
      },
    },
  };
}

function keypair(ctx: GatewayContext, req: GatewayRequest): KeypairObject {
  const name = param(req, 'name');
  const found = ctx.store.keypairs.get(`${req.auth!.user.id}/${name}`);
  if (found === undefined)
    throw notFound(`Keypair ${name} not found for user ${req.auth!.user.id}`);
  return found;
}

/** Routes below `/compute`. */
export function computeRouter(ctx: GatewayContext, servers: ServerService): Router {
  return (
    new Router()
      .add(
        'GET',
        '/',
        () => ({
          status: 200,
          body: {
            versions: [
              {
                ...versionEntry(ctx),
                links: [{ rel: 'self', href: `${ctx.baseUrl()}/compute/v2.1/` }],
              },
            ],
          },
        }),
        { public: true },
      )
      .add('GET', '/v2.1', () => ({ status: 200, body: { version: versionEntry(ctx) } }), {
        public: true,
      })
      // Flavors.
      .add('GET', '/v2.1/flavors', (req) => flavors(ctx, req, false))
      .add('GET', '/v2.1/flavors/detail', (req) => flavors(ctx, req, true))
      .add('GET', '/v2.1/flavors/:id', async (req) => ({
        status: 200,
        body: { flavor: flavorDetail(ctx, await flavor(ctx, req), req) },
      }))
      .add('GET', '/v2.1/flavors/:id/os-extra_specs', async (req) => {
        const f = await flavor(ctx, req);
        return {
          status: 200,
          body: {
            extra_specs: {
              'kumo:offered_by': f.offeredBy.map((o) => `${o.provider}/${o.size}`).join(','),
              ...(f.gpus > 0 ? { 'kumo:gpus': String(f.gpus) } : {}),
              ...(f.arch === 'x86_64' ? {} : { 'hw:architecture': f.arch }),
            },
          },
        };
      })
      // Images (proxy to the image catalog, gone at 2.36 as in Nova).
      .add('GET', '/v2.1/images', async (req) => {
        checkImageProxy(req);
        return {
          status: 200,
          body: {
            images: page(await ctx.catalog.images(), req, (i) => i.id).map((i) => ({
              id: i.id,
              name: i.name,
              links: links(computeUrl(ctx), 'images', i.id),
            })),
          },
        };
      })
      .add('GET', '/v2.1/images/detail', async (req) => {
        checkImageProxy(req);
        return {
          status: 200,
          body: {
            images: page(await ctx.catalog.images(), req, (i) => i.id).map((i) =>
              imageDetail(ctx, i),
            ),
          },
        };
      })
      .add('GET', '/v2.1/images/:id', async (req) => {
        checkImageProxy(req);
        const id = param(req, 'id');
        const found = (await ctx.catalog.images()).find((i) => i.id === id);
        if (found === undefined) throw notFound('Image not found.');
        return { status: 200, body: { image: imageDetail(ctx, found) } };
      })
      // Availability zones: one per provider zone.
      .add('GET', '/v2.1/os-availability-zone', async () => ({
        status: 200,
        body: {
          availabilityZoneInfo: (await ctx.catalog.zones()).map((z) => ({
            zoneName: z.name,
            zoneState: { available: true },
            hosts: null,
          })),
        },
      }))
      .add('GET', '/v2.1/os-availability-zone/detail', async () => {
        const now = nowIso(ctx).replace(/Z$/, '');
        return {
          status: 200,
          body: {
            availabilityZoneInfo: (await ctx.catalog.zones()).map((z) => ({
              zoneName: z.name,
              zoneState: { available: true },
              hosts: {
                [z.zone === undefined ? z.provider : `${z.provider}-${z.zone}`]: {
                  'nova-compute': { available: true, active: true, updated_at: now },
                },
              },
            })),
          },
        };
      })
      // Key pairs (a user's own).
      .add('GET', '/v2.1/os-keypairs', (req) => {
        const mine = [...ctx.store.keypairs.values()]
          .filter((k) => k.userId === req.auth!.user.id)
          .sort((a, b) => a.name.localeCompare(b.name));
        const shown = atLeast(req.microversion, 35) ? page(mine, req, (k) => k.name) : mine;
        return {
          status: 200,
          body: { keypairs: shown.map((k) => ({ keypair: keypairBody(k, req, false) })) },
        };
      })
      .add('POST', '/v2.1/os-keypairs', (req) => createKeypair(ctx, req))
      .add('GET', '/v2.1/os-keypairs/:name', (req) => ({
        status: 200,
        body: { keypair: keypairBody(keypair(ctx, req), req, true) },
      }))
      .add('DELETE', '/v2.1/os-keypairs/:name', async (req) => {
        const k = keypair(ctx, req);
        ctx.store.keypairs.delete(`${k.userId}/${k.name}`);
        await ctx.store.save();
        return { status: atLeast(req.microversion, 2) ? 204 : 202 };
      })
      // Servers.
      .add('GET', '/v2.1/servers', (req) => servers.list(req, false))
      .add('GET', '/v2.1/servers/detail', (req) => servers.list(req, true))
      .add('POST', '/v2.1/servers', (req) => servers.create(req))
      .add('GET', '/v2.1/servers/:id', (req) => servers.show(req))
      .add('DELETE', '/v2.1/servers/:id', (req) => servers.delete(req))
      .add('POST', '/v2.1/servers/:id/action', (req) => servers.action(req))
  );
}
