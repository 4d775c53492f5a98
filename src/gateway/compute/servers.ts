/**
 * Nova servers over the datacenter's ad-hoc machines. `POST /servers` records the
 * server and answers 202 at once (status BUILD), as Nova does; the machine is made in
 * the background, on the provider (and zone) the availability zone names, from the
 * flavor's resources and the image's alias. A create the provider refuses leaves the
 * server in ERROR with a fault, as Nova's "No valid host" does.
 */
import { z } from 'zod';
import { errorMessage, isKumoError, NotFound, type MachineSpecInput } from '../../core/index.js';
import type { AdHocMachine } from '../../logical-dc/ad-hoc-machines.js';
import { nowIso, type GatewayContext } from '../context.js';
import { HttpError, badRequest, conflict, forbidden, notFound } from '../http/errors.js';
import { param, parseBody, type GatewayRequest, type GatewayResponse } from '../http/router.js';
import { newUuid } from '../ids.js';
import type { AuthContext } from '../identity/token-store.js';
import { bindNetwork, defaultSecurityGroup } from '../network/provider-networks.js';
import type { ServerObject } from '../state/gateway-store.js';
import { type Flavor } from './flavors.js';
import { atLeast, type Microversion } from './microversion.js';
import { links, novaState, serverDetail, serverSummary } from './server-view.js';
import { placeInZone } from './zones.js';
import { nameFilter } from './name-filter.js';

/** Most servers one request may make (`max_count`). */
const MAX_COUNT = 25;

const NetworkRequestSchema = z
  .object({
    uuid: z.string().optional(),
    port: z.string().optional(),
    fixed_ip: z.string().optional(),
    tag: z.string().optional(),
  })
  .strict();

const CreateSchema = z.object({
  server: z
    .object({
      name: z
        .string()
        .min(1, 'name is required')
        .max(255, 'name is at most 255 characters')
        .regex(/^\S(.*\S)?$/s, 'name cannot start or end with whitespace'),
      imageRef: z
        .string({ error: 'imageRef is required (kumo machines boot from an image)' })
        .min(1),
      flavorRef: z.union([z.string().min(1), z.number().int().transform(String)], {
        error: 'flavorRef is required',
      }),
      availability_zone: z.string().max(255).optional(),
      networks: z
        .union([z.literal('auto'), z.literal('none'), z.array(NetworkRequestSchema)])
        .optional(),
      security_groups: z.array(z.object({ name: z.string().min(1) }).strict()).optional(),
      key_name: z.string().min(1).max(255).optional(),
      user_data: z
        .string()
        .max(Math.ceil((64 * 1024 * 4) / 3) + 4, 'user_data is at most 64 KiB')
        .optional(),
      metadata: z.record(z.string().min(1).max(255), z.string().max(255)).optional(),
      min_count: z
        .union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)])
        .optional(),
      max_count: z
        .union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)])
        .optional(),
      return_reservation_id: z.boolean().optional(),
      description: z.string().max(255).nullable().optional(),
      config_drive: z.union([z.boolean(), z.string()]).optional(),
      'OS-DCF:diskConfig': z.enum(['AUTO', 'MANUAL']).optional(),
      adminPass: z.string().optional(),
      block_device_mapping_v2: z.array(z.unknown()).optional(),
      personality: z.array(z.unknown()).optional(),
    })
    .strict(),
  'os:scheduler_hints': z.record(z.string(), z.unknown()).optional(),
  'OS-SCH-HNT:scheduler_hints': z.record(z.string(), z.unknown()).optional(),
});

const ActionSchema = z
  .record(z.string(), z.unknown())
  .refine((a) => Object.keys(a).length === 1, 'give exactly one action');

const STATUSES = [
  'ACTIVE',
  'BUILD',
  'DELETED',
  'ERROR',
  'HARD_REBOOT',
  'MIGRATING',
  'PASSWORD',
  'PAUSED',
  'REBOOT',
  'REBUILD',
  'RESCUE',
  'RESIZE',
  'REVERT_RESIZE',
  'SHELVED',
  'SHELVED_OFFLOADED',
  'SHUTOFF',
  'SOFT_DELETED',
  'SUSPENDED',
  'UNKNOWN',
  'VERIFY_RESIZE',
];

/** The last path segment of a reference that may be a URL (`imageRef` and `flavorRef` may be hrefs). */
const lastSegment = (ref: string): string => ref.replace(/\/+$/, '').split('/').pop() ?? ref;

interface Listed {
  readonly server: ServerObject;
  readonly machine: AdHocMachine | undefined;
}

export class ServerService {
  readonly #ctx: GatewayContext;
  /** Creates and deletes under way, by server id, so reads and deletes wait for them and tests can settle. */
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(ctx: GatewayContext) {
    this.#ctx = ctx;
  }

  /** Resolves once every background create and delete has finished. */
  async settle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight.values()]);
  }

  /**
   * Picks up servers a stopped gateway left half made: the create is repeated with
   * the server's id as idempotency key (never a second machine), a delete is finished.
   */
  async resume(): Promise<void> {
    await this.#ctx.machines.resume();
    for (const server of this.#ctx.store.servers.values()) {
      if (server.fault !== null) continue;
      const project = this.#ctx.directory.projectById(server.projectId);
      if (project === undefined) continue;
      const machine = await this.#ctx.machines.get(project.name, server.id);
      if (server.deletedAt !== null && machine !== undefined && machine.status === 'present')
        this.#track(server.id, () => this.#deleteMachine(server));
      else if (server.deletedAt === null && machine === undefined) {
        if (!server.hasUserData) this.#track(server.id, () => this.#provision(server));
        else {
          // NOTE: user data is not kept (it may hold secrets), so this create cannot be repeated faithfully.
          const now = nowIso(this.#ctx);
          this.#ctx.store.servers.set(server.id, {
            ...server,
            updatedAt: now,
            fault: {
              code: 500,
              message:
                'The gateway stopped before the machine was requested, and user data is not kept; create the server again.',
              created: now,
            },
          });
          await this.#ctx.store.save();
        }
      }
    }
  }

  async list(req: GatewayRequest, detailed: boolean): Promise<GatewayResponse> {
    const auth = this.#auth(req);
    const v = req.microversion;
    const q = req.query;
    const status = q.get('status')?.toUpperCase();
    if (status !== undefined && atLeast(v, 38) && !STATUSES.includes(status))
      throw badRequest(`Invalid status value: ${q.get('status') ?? ''}`);
    const byName = q.get('name');
    const name = byName === null ? undefined : nameFilter(byName);
    let listed = (await this.#listed(auth)).filter(({ server, machine }) => {
      if (name !== undefined && !name(server.name)) return false;
      if (status !== undefined && novaState(server, machine).status !== status) return false;
      for (const [key, field] of [
        ['image', 'imageId'],
        ['flavor', 'flavorId'],
        ['key_name', 'keyName'],
      ] as const) {
        const want = q.get(key);
        if (want !== null && lastSegment(want) !== server[field]) return false;
      }
      return true;
    });
    // Newest first, as Nova sorts by default (created_at desc).
    listed = listed.sort(
      (a, b) =>
        b.server.createdAt.localeCompare(a.server.createdAt) ||
        a.server.id.localeCompare(b.server.id),
    );
    const marker = q.get('marker');
    if (marker !== null) {
      const at = listed.findIndex((l) => l.server.id === marker);
      if (at < 0) throw badRequest(`marker [${marker}] not found`);
      listed = listed.slice(at + 1);
    }
    const limitText = q.get('limit');
    const limit = limitText === null ? undefined : Number(limitText);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 0))
      throw badRequest(`Invalid input for query parameters limit. Value: ${limitText ?? ''}.`);
    const more = limit !== undefined && listed.length > limit;
    const page = limit === undefined ? listed : listed.slice(0, limit);
    const computeUrl = this.#computeUrl();
    const servers = detailed
      ? await Promise.all(page.map((l) => this.#detail(l, v)))
      : page.map((l) => serverSummary(l.server, computeUrl));
    const body: Record<string, unknown> = { servers };
    const last = page[page.length - 1];
    if (more && last !== undefined) {
      const next = new URLSearchParams(q);
      next.set('marker', last.server.id);
      body['servers_links'] = [
        {
          rel: 'next',
          href: `${computeUrl}/servers${detailed ? '/detail' : ''}?${next.toString()}`,
        },
      ];
    }
    return { status: 200, body };
  }

  async show(req: GatewayRequest): Promise<GatewayResponse> {
    const listed = await this.#one(req);
    return { status: 200, body: { server: await this.#detail(listed, req.microversion) } };
  }

  async create(req: GatewayRequest): Promise<GatewayResponse> {
    const auth = this.#auth(req);
    const project = auth.project;
    const v = req.microversion;
    const body = parseBody(req, CreateSchema).server;
    if (body.block_device_mapping_v2 !== undefined && body.block_device_mapping_v2.length > 0)
      throw badRequest(
        'Block device mappings are not offered: kumo machines boot from an image with the disk their size gives.',
      );
    if (body.personality !== undefined && body.personality.length > 0)
      throw badRequest('Personality files are not offered; pass files in user_data instead.');
    if (body.adminPass !== undefined)
      throw badRequest(
        'Setting an admin password is not offered; use key_name to log in with an SSH key.',
      );
    if (body.description !== undefined && !atLeast(v, 19))
      throw badRequest(
        "Invalid input for field/attribute server. Additional properties are not allowed ('description' was unexpected)",
      );
    const min = body.min_count ?? 1;
    const max = body.max_count ?? min;
    if (min < 1 || max < min || max > MAX_COUNT)
      throw badRequest(
        `min_count and max_count must satisfy 1 <= min_count <= max_count <= ${MAX_COUNT}.`,
      );

    const image = await this.#ctx.catalog.image(lastSegment(body.imageRef));
    if (image === undefined) throw badRequest(`Image ${body.imageRef} could not be found.`);
    const flavor = await this.#ctx.catalog.flavor(lastSegment(body.flavorRef));
    if (flavor === undefined) throw badRequest(`Flavor ${body.flavorRef} could not be found.`);
    const placement = placeInZone(
      body.availability_zone,
      await this.#ctx.catalog.zones(),
      this.#ctx.defaultZone,
    );
    if (!image.providers.includes(placement.provider))
      throw badRequest(
        `Image ${image.name} is not offered by provider ${placement.provider} (it is by ${image.providers.join(', ')}).`,
      );

    let networks = body.networks;
    if (networks === undefined && atLeast(v, 37))
      throw badRequest(
        "Invalid input for field/attribute server. 'networks' is a required property",
      );
    if ((networks === 'auto' || networks === 'none') && !atLeast(v, 37))
      throw badRequest(
        `Invalid input for field/attribute networks. Value: ${networks}. '${networks}' is not of type 'array'`,
      );
    let networkId: string | null = null;
    if (Array.isArray(networks)) {
      if (networks.length > 1)
        throw badRequest('kumo machines have one network interface: give one network.');
      const [nic] = networks;
      if (nic?.port !== undefined)
        throw badRequest('Ports are not offered; give the network (net-id) instead.');
      if (nic?.fixed_ip !== undefined)
        throw badRequest('Fixed IPs cannot be chosen; the provider assigns the address.');
      if (nic?.tag !== undefined && !atLeast(v, 32))
        throw badRequest(
          "Invalid input for field/attribute networks. Additional properties are not allowed ('tag' was unexpected)",
        );
      if (nic?.uuid !== undefined) {
        const network = this.#ctx.store.networks.get(nic.uuid);
        if (network === undefined || network.projectId !== project.id)
          throw badRequest(`Network ${nic.uuid} could not be found.`);
        networkId = network.id;
      } else if (nic !== undefined) throw badRequest('Give the network of each nic by uuid.');
      if (nic === undefined) networks = 'auto';
    }
    if (networks === undefined || networks === 'auto') {
      // Nova picks the project's only network; with several, the client must choose.
      const mine = [...this.#ctx.store.networks.values()].filter((n) => n.projectId === project.id);
      if (mine.length > 1)
        throw conflict('Multiple possible networks found, use a Network ID to be more specific.');
      networkId = mine[0]?.id ?? null;
    }
    if (
      networkId !== null &&
      ![...this.#ctx.store.subnets.values()].some((s) => s.networkId === networkId)
    )
      throw badRequest(`Network ${networkId} requires a subnet in order to boot instances on.`);

    const groups = [];
    for (const { name } of body.security_groups ?? [{ name: 'default' }]) {
      const mine = [...this.#ctx.store.securityGroups.values()].filter(
        (g) => g.projectId === project.id,
      );
      const found =
        mine.find((g) => g.id === name) ??
        mine.find((g) => g.name === name) ??
        (name === 'default' ? await defaultSecurityGroup(this.#ctx, project.id) : undefined);
      if (found === undefined)
        throw badRequest(`Security group ${name} not found for project ${project.id}.`);
      groups.push(found.id);
    }
    let keyName: string | null = null;
    if (body.key_name !== undefined) {
      if (!this.#ctx.store.keypairs.has(`${auth.user.id}/${body.key_name}`))
        throw badRequest('Invalid key_name provided.');
      keyName = body.key_name;
    }
    if (body.user_data !== undefined) this.#userData(body.user_data);

    const now = nowIso(this.#ctx);
    const made: ServerObject[] = [];
    for (let i = 1; i <= max; i++) {
      const server: ServerObject = {
        id: newUuid(),
        projectId: project.id,
        userId: auth.user.id,
        name: max > 1 ? `${body.name}-${i}` : body.name,
        description: body.description ?? null,
        flavorId: flavor.id,
        imageId: image.id,
        availabilityZone: placement.name,
        networkId,
        securityGroupIds: groups,
        keyName,
        metadata: body.metadata ?? {},
        createdAt: now,
        updatedAt: now,
        launchedAt: null,
        deletedAt: null,
        fault: null,
        hasUserData: body.user_data !== undefined,
      };
      this.#ctx.store.servers.set(server.id, server);
      made.push(server);
    }
    await this.#ctx.store.save();
    for (const server of made)
      this.#track(server.id, () => this.#provision(server, body.user_data));
    this.#ctx.log(
      `server ${made.map((s) => s.id).join(', ')} (${flavor.name}, ${image.name}) requested in ${placement.name} by ${auth.user.name}/${project.name}`,
    );

    if (body.return_reservation_id === true)
      return { status: 202, body: { reservation_id: `r-${made[0]!.id.slice(0, 8)}` } };
    const first = made[0]!;
    const groupNames = groups.map((g) => this.#ctx.store.securityGroups.get(g)?.name ?? g);
    const computeUrl = this.#computeUrl();
    return {
      status: 202,
      headers: { Location: `${computeUrl}/servers/${first.id}` },
      body: {
        server: {
          id: first.id,
          links: links(computeUrl, 'servers', first.id),
          'OS-DCF:diskConfig': 'MANUAL',
          security_groups: groupNames.map((name) => ({ name })),
        },
      },
    };
  }

  async delete(req: GatewayRequest): Promise<GatewayResponse> {
    const { server } = await this.#one(req);
    if (server.deletedAt === null) {
      const marked: ServerObject = {
        ...server,
        deletedAt: nowIso(this.#ctx),
        updatedAt: nowIso(this.#ctx),
      };
      this.#ctx.store.servers.set(server.id, marked);
      await this.#ctx.store.save();
      this.#track(server.id, () => this.#deleteMachine(marked));
    }
    return { status: 204 };
  }

  async action(req: GatewayRequest): Promise<GatewayResponse> {
    const body = parseBody(req, ActionSchema);
    const [action] = Object.keys(body);
    if (action !== 'os-start' && action !== 'os-stop')
      throw badRequest(`There is no such action: ${action ?? ''}`);
    const { server, machine } = await this.#one(req);
    const state = novaState(server, machine);
    const verb = action === 'os-start' ? 'start' : 'stop';
    const allowed = action === 'os-start' ? ['stopped'] : ['active', 'error'];
    if (state.taskState !== null)
      throw conflict(
        `Cannot '${verb}' instance ${server.id} while it is in task_state ${state.taskState}`,
      );
    if (!allowed.includes(state.vmState) || machine === undefined)
      throw conflict(
        `Cannot '${verb}' instance ${server.id} while it is in vm_state ${state.vmState}`,
      );
    const project = this.#auth(req).project;
    if (action === 'os-start') await this.#ctx.machines.start(project.name, machine.id);
    else await this.#ctx.machines.stop(project.name, machine.id);
    this.#ctx.store.servers.set(server.id, { ...server, updatedAt: nowIso(this.#ctx) });
    await this.#ctx.store.save();
    this.#ctx.log(`server ${server.id}: ${verb}`);
    return { status: 202 };
  }

  // --- internals ----------------------------------------------------------------------

  #auth(req: GatewayRequest): AuthContext & { project: NonNullable<AuthContext['project']> } {
    const auth = req.auth;
    if (auth?.project === undefined) throw forbidden('A project-scoped token is required.');
    return auth as AuthContext & { project: NonNullable<AuthContext['project']> };
  }

  #computeUrl(): string {
    return `${this.#ctx.baseUrl()}/compute/v2.1`;
  }

  /** Runs `work` for the server once its earlier work has settled (a delete waits for its create). */
  #track(id: string, work: () => Promise<void>): void {
    const previous = this.#inFlight.get(id);
    const run = previous === undefined ? work() : previous.then(work);
    this.#inFlight.set(id, run);
    void run.finally(() => {
      if (this.#inFlight.get(id) === run) this.#inFlight.delete(id);
    });
  }

  /** Decodes user_data (base64) to the text a machine's userData carries. */
  #userData(encoded: string): string {
    const compact = encoded.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1)
      throw badRequest('User data needs to be valid base 64.');
    const raw = Buffer.from(compact, 'base64');
    if (raw.length > 64 * 1024) throw badRequest('User data is too large: at most 64 KiB.');
    const text = raw.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(raw))
      throw badRequest('User data must be text (UTF-8) for kumo machines.');
    return text;
  }

  /** Makes the server's machine; a refusal becomes the server's fault. */
  async #provision(server: ServerObject, userData?: string): Promise<void> {
    const ctx = this.#ctx;
    try {
      const project = ctx.directory.projectById(server.projectId);
      if (project === undefined)
        throw new NotFound(`project ${server.projectId} is no longer declared`);
      const flavor: Flavor | undefined = await ctx.catalog.flavor(server.flavorId);
      const image = await ctx.catalog.image(server.imageId);
      if (flavor === undefined || image === undefined)
        throw new NotFound(
          `flavor ${server.flavorId} or image ${server.imageId} is no longer offered`,
        );
      const placement = placeInZone(
        server.availabilityZone,
        await ctx.catalog.zones(),
        ctx.defaultZone,
      );
      let network: string | undefined;
      if (server.networkId !== null) {
        const n = ctx.store.networks.get(server.networkId);
        if (n === undefined) throw new NotFound(`network ${server.networkId} was deleted`);
        network = await bindNetwork(ctx, n, placement.provider, server.securityGroupIds);
      }
      const keypair =
        server.keyName === null
          ? undefined
          : ctx.store.keypairs.get(`${server.userId}/${server.keyName}`);
      const spec: MachineSpecInput = {
        resources: {
          cpus: flavor.vcpus,
          memoryMiB: flavor.ramMiB,
          gpus: flavor.gpus,
          diskGiB: flavor.diskGiB,
        },
        arch: flavor.arch,
        image: image.name,
        ...(placement.zone === undefined ? {} : { zone: placement.zone }),
        ...(network === undefined ? {} : { network }),
        ...(userData === undefined ? {} : { userData: this.#userData(userData) }),
        sshKeys: keypair === undefined ? [] : [keypair.publicKey],
      };
      const machine = await ctx.machines.create({
        group: project.name,
        provider: placement.provider,
        key: server.id,
        spec,
      });
      ctx.log(
        `server ${server.id}: machine ${machine.id} (${machine.size}) on ${machine.provider}:${machine.zone}`,
      );
    } catch (err) {
      const message =
        err instanceof HttpError || isKumoError(err)
          ? err.message
          : 'The machine could not be made (see the gateway log).';
      ctx.log(`server ${server.id}: create failed: ${errorMessage(err)}`);
      const now = nowIso(ctx);
      const current = ctx.store.servers.get(server.id) ?? server;
      ctx.store.servers.set(server.id, {
        ...current,
        updatedAt: now,
        fault: { code: 500, message: `No valid host was found. ${message}`, created: now },
      });
      await ctx.store.save();
    }
  }

  /** Deletes the server's machine (once its create settled); the server goes when the machine does. */
  async #deleteMachine(server: ServerObject): Promise<void> {
    const ctx = this.#ctx;
    const project = ctx.directory.projectById(server.projectId);
    try {
      const machine =
        project === undefined ? undefined : await ctx.machines.get(project.name, server.id);
      // A lost machine is deleted too (deleting what is gone succeeds), so its record leaves state.
      if (project !== undefined && machine !== undefined && machine.status !== 'deleting')
        await ctx.machines.delete(project.name, machine.id);
      else if (machine === undefined) {
        // No machine recorded; a create journaled under the server's key (its call timed
        // out) may still have made one: delete resolves that, and says NotFound otherwise.
        if (project !== undefined)
          await ctx.machines.delete(project.name, server.id).catch((err: unknown) => {
            if (!isKumoError(err) || err.code !== 'NotFound') throw err;
          });
        ctx.store.servers.delete(server.id);
        await ctx.store.save();
      }
      ctx.log(`server ${server.id}: deleted`);
    } catch (err) {
      if (isKumoError(err) && err.code === 'NotFound') return;
      ctx.log(`server ${server.id}: delete failed: ${errorMessage(err)}`);
      const now = nowIso(ctx);
      const current = ctx.store.servers.get(server.id) ?? server;
      ctx.store.servers.set(server.id, {
        ...current,
        deletedAt: null,
        updatedAt: now,
        fault: {
          code: 500,
          message: `Deleting the machine failed: ${errorMessage(err)}`,
          created: now,
        },
      });
      await ctx.store.save();
    }
  }

  /** The project's servers with their machines; drops servers whose delete has finished. */
  async #listed(
    auth: AuthContext & { project: NonNullable<AuthContext['project']> },
  ): Promise<Listed[]> {
    const ctx = this.#ctx;
    const machines = new Map((await ctx.machines.list(auth.project.name)).map((m) => [m.key, m]));
    const out: Listed[] = [];
    let changed = false;
    for (const server of [...ctx.store.servers.values()]) {
      if (server.projectId !== auth.project.id) continue;
      const machine = machines.get(server.id);
      if (server.deletedAt !== null && machine === undefined && !this.#inFlight.has(server.id)) {
        ctx.store.servers.delete(server.id);
        changed = true;
        continue;
      }
      let current = server;
      if (server.launchedAt === null && machine?.state === 'running') {
        current = { ...server, launchedAt: nowIso(ctx), updatedAt: nowIso(ctx) };
        ctx.store.servers.set(server.id, current);
        changed = true;
      }
      out.push({ server: current, machine });
    }
    if (changed) await ctx.store.save();
    return out;
  }

  async #one(req: GatewayRequest): Promise<Listed> {
    const auth = this.#auth(req);
    const id = param(req, 'id');
    const found = (await this.#listed(auth)).find((l) => l.server.id === id);
    if (found === undefined) throw notFound(`Instance ${id} could not be found.`);
    return found;
  }

  async #detail(listed: Listed, v: Microversion | undefined): Promise<Record<string, unknown>> {
    const { server } = listed;
    const network =
      server.networkId === null ? undefined : this.#ctx.store.networks.get(server.networkId);
    return serverDetail({
      server,
      machine: listed.machine,
      flavor: await this.#ctx.catalog.flavor(server.flavorId),
      networkName:
        network?.name ??
        (listed.machine === undefined ? 'default' : `${listed.machine.provider}-default`),
      securityGroupNames: server.securityGroupIds.map(
        (g) => this.#ctx.store.securityGroups.get(g)?.name ?? g,
      ),
      computeUrl: this.#computeUrl(),
      microversion: v ?? { major: 2, minor: 1 },
    });
  }
}
