import { randomUUID } from 'node:crypto';
import {
  Conflict,
  CreateMachinesRequestSchema,
  DEFAULT_CAPABILITIES,
  findImageAlias,
  InsufficientCapacity,
  isKumoError,
  isRetryable,
  machineName,
  machineNamePrefix,
  matchesLabels,
  NotFound,
  ownershipTags,
  parse,
  SizeChoiceSchema,
  type SizeChoice,
  type SizeChoiceInput,
  ResourcesSchema,
  selectSize,
  shortHash,
  TAG_DC,
  Timeout,
  TAG_ID,
  TAG_KEY,
  toGcpLabels,
  ValidationError,
  waitUntil,
  type CallOptions,
  type Clock,
  type CreateMachinesRequest,
  type CreateMachinesRequestInput,
  type CreateOptions,
  type Image,
  type Machine,
  type MachineFilter,
  type MachineSpec,
  type Network,
  type NetworkSpecInput,
  type Provider,
  type ProviderCapabilities,
  type ResourcesInput,
  type Size,
  type SizeQuery,
} from '../../core/index.js';
import { GcpCatalog } from './gcp-catalog.js';
import {
  operationDone,
  type ComputeApi,
  type GceBulkInsert,
  type GceImage,
  type GceInstance,
  type GceOperation,
  type GceSubnetwork,
  type ListSubnetworksRequest,
  type AggregatedListInstancesRequest,
} from './gcp-compute.js';
import type { GcpConfig } from './gcp-config.js';
import {
  GCE_NAME,
  isZoneName,
  lastSegment,
  parseProviderId,
  requestIdFor,
  toProviderId,
  type InstanceRef,
} from './gcp-ids.js';
import { GCP_IMAGE_FAMILIES, parseImageRef, toArch, type ImageRef } from './gcp-images.js';
import {
  IMAGE_METADATA_KEY,
  instanceToMachine,
  parseSizeName,
  SIZE_METADATA_KEY,
  toState,
} from './gcp-mapper.js';
import {
  deleteNetwork,
  ensureNetwork,
  networkTag,
  readOwner,
  type NetworkContext,
} from './gcp-network.js';

/** Longest wait for machines to run when the caller gives none. */
const DEFAULT_CREATE_TIMEOUT_MS = 15 * 60_000;
/** Resolved image families are reused this long (a family's newest image changes rarely). */
const IMAGE_TTL_MS = 10 * 60_000;
/** How often a request id may be renewed because Compute Engine replayed an earlier, finished request. */
const MAX_GENERATIONS = 3;
/** A network's subnetworks are looked up again after this long. */
const PLACEMENT_TTL_MS = 60_000;
/** Listings in a row that may fail while machines are awaited before the error is reported. */
const MAX_POLL_FAILURES = 4;
/** Unfinished requests whose tried zones are kept (a retry of an older one lists first instead). */
const MAX_REMEMBERED = 1000;

/** `listSizes` of GCP also takes the resources wanted, to add custom machine types made to measure. */
export interface GcpSizeQuery extends SizeQuery {
  readonly resources?: ResourcesInput;
}

/** The subnetwork a machine goes into, and whether it gets an external address. */
interface Placement {
  readonly network: string;
  readonly subnetwork?: string;
  readonly external: boolean;
}

interface CreatePlan {
  readonly request: CreateMachinesRequest;
  readonly placement: Placement;
  readonly project: string;
  readonly size: Size;
  readonly image: Image;
  readonly names: readonly string[];
  /** Zones the size is offered in, in the order this request tries them. */
  readonly zoneOrder: readonly string[];
}

/**
 * Compute Engine as a kumo provider. Made by `gcp()` (see `index.ts`), which wraps it
 * with retries; machine ids are `<zone>/<instance-name>`.
 */
export class GcpProvider implements Provider {
  readonly kind = 'gcp';
  readonly name: string;
  readonly region: string;
  readonly capabilities: ProviderCapabilities = {
    ...DEFAULT_CAPABILITIES,
    spot: true,
    batchCreate: true,
    customSizes: true,
    gpus: true,
  };
  readonly #config: GcpConfig;
  readonly #api: ComputeApi;
  readonly #clock: Clock;
  readonly #catalog: GcpCatalog;
  #project: Promise<string> | undefined;
  readonly #images = new Map<string, { at: number; image: Promise<Image> }>();
  readonly #placements = new Map<string, { at: number; placement: Promise<Placement> }>();
  /** Per unfinished request (`dc|key`): the zone each machine was last sent to. */
  readonly #triedZones = new Map<string, Map<string, string>>();
  /** Per request (`dc|key`) being created: settles when the last create queued for it ends. */
  readonly #creating = new Map<string, Promise<void>>();

  constructor(config: GcpConfig, api: ComputeApi, clock: Clock) {
    this.name = config.name;
    this.region = config.region;
    this.#config = config;
    this.#api = api;
    this.#clock = clock;
    this.#catalog = new GcpCatalog(api, {
      provider: config.name,
      region: config.region,
      zones: config.zones,
      ttlMs: config.catalogTtlMs,
      clock,
      project: () => this.project(),
    });
  }

  /** Compute calls under way now, operation waits included (simulations time themselves by it). */
  get requestsInFlight(): number {
    return this.#api.inFlight;
  }

  /** The project in use: the `project` option, else what the credentials name. */
  project(): Promise<string> {
    const configured = this.#config.project ?? this.#config.credentials?.project_id;
    if (configured !== undefined) return Promise.resolve(configured);
    this.#project ??= this.#api.detectProject().catch((err: unknown) => {
      this.#project = undefined;
      throw err;
    });
    return this.#project;
  }

  /** Zones in use: the `zones` option, else every zone of the region that is UP. */
  async zones(options: CallOptions = {}): Promise<readonly string[]> {
    return this.#catalog.zones(options.signal);
  }

  async listSizes(query: GcpSizeQuery = {}): Promise<Size[]> {
    const zones = await this.#catalog.zones(query.signal);
    if (query.zone !== undefined) this.#checkZone(query.zone, zones, 'zone');
    let sizes = [...(await this.#catalog.sizes(query.signal))];
    if (query.resources !== undefined) {
      const resources = parse(ResourcesSchema, query.resources, 'size query', 'resources');
      sizes.push(...(await this.#catalog.customSizesFor(resources, query.signal)));
    }
    if (query.zone !== undefined)
      sizes = sizes.filter((s) => s.zones.length === 0 || s.zones.includes(query.zone!));
    if (query.spot === true) sizes = sizes.filter((s) => s.spot);
    return sizes;
  }

  async chooseSize(choice: SizeChoiceInput, options: CallOptions = {}): Promise<Size> {
    const parsed = parse(SizeChoiceSchema, choice, 'size choice', 'spec');
    return (await this.#sizeIn(parsed, options.signal)).size;
  }

  async resolveImage(
    image: string,
    options: CallOptions & { arch?: Size['arch'] } = {},
  ): Promise<Image> {
    const arch = options.arch ?? 'x86_64';
    const key = `${image}|${arch}`;
    const cached = this.#images.get(key);
    if (cached !== undefined && this.#clock.now() - cached.at < IMAGE_TTL_MS) return cached.image;
    const promise = this.#resolveImage(image, arch, options.signal);
    this.#images.set(key, { at: this.#clock.now(), image: promise });
    promise.catch(() => this.#images.delete(key));
    return promise;
  }

  async #resolveImage(image: string, arch: Size['arch'], signal?: AbortSignal): Promise<Image> {
    const alias = findImageAlias(image);
    let ref: ImageRef;
    if (alias !== undefined) {
      const family = GCP_IMAGE_FAMILIES[alias.alias]?.[arch];
      if (family === undefined)
        throw new NotFound(
          `image alias "${image}" has no Compute Engine public image for ${arch}; aliases with one: ${Object.keys(GCP_IMAGE_FAMILIES).join(', ')}`,
          { provider: this.name, cause: { code: 'notFound' } },
        );
      ref = family;
    } else {
      const native = parseImageRef(image, await this.project());
      if (native === undefined)
        throw new NotFound(
          `image "${image}" not found: not an alias (${Object.keys(GCP_IMAGE_FAMILIES).join(', ')}) nor an image name, family or self-link`,
          { provider: this.name, cause: { code: 'notFound' } },
        );
      ref = native;
    }
    const what =
      'family' in ref
        ? `image family ${ref.project}/${ref.family}`
        : `image ${ref.project}/${ref.image}`;
    const [found] = await this.#api.call(
      'family' in ref ? 'images.getFromFamily' : 'images.get',
      `resolving ${what}`,
      (o) =>
        'family' in ref
          ? this.#api.images.getFromFamily({ project: ref.project, family: ref.family }, o)
          : this.#api.images.get({ project: ref.project, image: ref.image }, o),
      signal,
    );
    return this.#toImage(found, alias?.alias, alias?.os, alias?.version);
  }

  #toImage(img: GceImage, alias?: string, os?: string, version?: string): Image {
    const arch = toArch(
      img.architecture === undefined || img.architecture === null
        ? undefined
        : String(img.architecture),
    );
    const state = img.deprecated?.state ? String(img.deprecated.state) : undefined;
    if (state === 'OBSOLETE' || state === 'DELETED')
      throw new NotFound(
        `image ${img.name ?? '?'} is ${state.toLowerCase()}${img.deprecated?.replacement ? `; use ${img.deprecated.replacement}` : ''}`,
        {
          provider: this.name,
          cause: { code: state },
        },
      );
    return {
      id: img.selfLink ?? `projects/${lastSegment(img.selfLink)}/global/images/${img.name ?? ''}`,
      name: img.name ?? '',
      provider: this.name,
      ...(alias === undefined ? {} : { alias }),
      ...(os === undefined ? {} : { os }),
      ...(version === undefined ? {} : { version }),
      ...(arch === undefined ? {} : { arch }),
      ...(img.creationTimestamp
        ? { createdAt: new Date(img.creationTimestamp).toISOString() }
        : {}),
      extra: {
        ...(img.family ? { family: img.family } : {}),
        ...(img.diskSizeGb !== undefined && img.diskSizeGb !== null
          ? { diskSizeGb: Number(img.diskSizeGb) }
          : {}),
        ...(img.status ? { status: String(img.status) } : {}),
        ...(state === undefined ? {} : { deprecated: state }),
      },
    };
  }

  async ensureNetwork(
    spec: NetworkSpecInput,
    options: CallOptions & { labels?: Record<string, string> } = {},
  ): Promise<Network> {
    return ensureNetwork(await this.#networkContext(options.signal), spec, options.labels ?? {});
  }

  async deleteNetwork(name: string, options: CallOptions = {}): Promise<void> {
    if (!GCE_NAME.test(name))
      throw new ValidationError(`"${name}" is not a network name`, {
        provider: this.name,
        issues: [{ path: 'name', message: 'not a GCE resource name' }],
      });
    await deleteNetwork(await this.#networkContext(options.signal), name);
  }

  async #networkContext(signal?: AbortSignal): Promise<NetworkContext> {
    return {
      api: this.#api,
      provider: this.name,
      region: this.region,
      project: await this.project(),
      timeoutMs: this.#config.operationTimeoutMs,
      signal,
    };
  }

  // --- machines ---------------------------------------------------------------------

  async createMachines(
    input: CreateMachinesRequestInput | CreateMachinesRequest,
    options: CreateOptions = {},
  ): Promise<Machine[]> {
    const request = parse(CreateMachinesRequestSchema, input, 'create request');
    // Creates of one key in this process run one after the other: run at once, each
    // would list and send the same machines to zones of its own, unaware of the other's
    // moves. The later one then finds what the earlier one made.
    const lockKey = `${request.dc}|${request.idempotencyKey}`;
    const before = this.#creating.get(lockKey);
    const run = (before ?? Promise.resolve()).then(() => this.#create(request, options));
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#creating.set(lockKey, settled);
    void settled.then(() => {
      if (this.#creating.get(lockKey) === settled) this.#creating.delete(lockKey);
    });
    return run;
  }

  async #create(request: CreateMachinesRequest, options: CreateOptions): Promise<Machine[]> {
    options.signal?.throwIfAborted();
    const plan = await this.#plan(request, options.signal);
    const deadline = this.#clock.now() + (options.timeoutMs ?? DEFAULT_CREATE_TIMEOUT_MS);
    // Optimistic: create every machine of the request without listing first. Names and
    // request ids are deterministic, so a machine that exists answers "already exists"
    // (or its first request's operation) instead of being made twice; only then is
    // listing needed, to learn which machines are missing.
    const memoryKey = `${plan.request.dc}|${plan.request.idempotencyKey}`;
    let tried = this.#triedZones.get(memoryKey);
    let existing = new Map<string, GceInstance>();
    if (tried === undefined) {
      // Names are unique per zone only, and zone fallback may have put a machine outside
      // its first zone, where recreating it would not clash: a key this process has not
      // tried yet (a retry after a restart) is listed before anything is made.
      if (this.#config.zoneFallback && plan.request.spec.zone === undefined)
        existing = await this.#findByKey(plan.request, plan.project, options.signal);
      tried = new Map();
      this.#rememberTries(memoryKey, tried);
    }
    let accepted: { zone: string; names: readonly string[] }[] = [];
    for (let round = 0; ; round++) {
      const missing = plan.names
        .map((name, index) => ({ name, index }))
        .filter((m) => !existing.has(m.name));
      // Spread over zones from a start chosen by the key, so pools land in every zone and
      // machine i always goes to the same zone first (names are unique per zone only). A
      // machine an earlier try sent elsewhere goes back to that zone, so a retry whose
      // listing does not show it yet cannot make it a second time in another.
      // Groups keep their first zone in the key, so a retry repeats the same calls (and
      // request ids) as the try before it, which Compute Engine recognises.
      const groups = new Map<string, { zone: string; names: string[] }>();
      for (const m of missing) {
        const home = plan.request.spec.zone ?? plan.zoneOrder[m.index % plan.zoneOrder.length]!;
        const zone = tried.get(m.name) ?? home;
        const group = groups.get(`${zone}|${home}`) ?? { zone, names: [] };
        group.names.push(m.name);
        groups.set(`${zone}|${home}`, group);
      }
      try {
        const parts = await Promise.all(
          [...groups.values()].map(({ zone, names }) =>
            this.#createInZones(
              plan,
              zone,
              names,
              tried,
              options.wait !== false,
              deadline,
              options.signal,
            ),
          ),
        );
        accepted = parts.flat();
        break;
      } catch (err) {
        if (!(err instanceof NamesTaken)) throw err;
        existing = await this.#findByKey(plan.request, plan.project, options.signal);
        // Listings lag behind creates: names not listed yet are read one by one (a read
        // by name is consistent) to tell this request's machines from someone else's.
        const unlisted = err.names.filter((n) => !existing.has(n));
        const { ours, foreign } = await this.#lookUp(plan, err.zone, unlisted, options.signal);
        if (foreign.length > 0) throw err.conflict;
        for (const [name, inst] of ours) existing.set(name, inst);
        if (round >= 2)
          throw new Timeout(
            `machines ${unlisted.join(', ')} of key ${plan.request.idempotencyKey} exist in ${err.zone} but cannot be read yet; retry with the same idempotency key`,
            { provider: this.name, cause: { code: 'NOT_VISIBLE_YET' } },
          );
      }
    }
    const machines =
      options.wait === false
        ? await this.#describeRequest(plan, accepted, options.signal)
        : await this.#waitRunning(plan, deadline, options.signal);
    // Done: a later call with this key lists first, which finds every machine.
    this.#triedZones.delete(memoryKey);
    return machines;
  }

  /** Keeps the zones tried per request, for the last {@link MAX_REMEMBERED} keys that did not finish. */
  #rememberTries(key: string, tried: Map<string, string>): void {
    this.#triedZones.set(key, tried);
    for (const old of this.#triedZones.keys()) {
      if (this.#triedZones.size <= MAX_REMEMBERED) break;
      this.#triedZones.delete(old);
    }
  }

  async #plan(request: CreateMachinesRequest, signal?: AbortSignal): Promise<CreatePlan> {
    const { spec } = request;
    const project = await this.project();
    const { size, offered } = await this.#sizeIn(spec, signal);
    const arch = size.arch;
    const image = await this.resolveImage(spec.image, { arch, ...(signal ? { signal } : {}) });
    if (image.arch !== undefined && image.arch !== arch)
      throw new ValidationError(
        `image ${image.name} is ${image.arch}, but size ${size.name} is ${arch}`,
        {
          provider: this.name,
          issues: [{ path: 'spec.image', message: 'image has another architecture' }],
        },
      );
    if (spec.network !== undefined && !GCE_NAME.test(spec.network))
      throw new ValidationError(`network "${spec.network}" is not a GCE network name`, {
        provider: this.name,
        issues: [{ path: 'spec.network', message: 'not a GCE resource name' }],
      });
    const prefix = machineNamePrefix(request);
    const names = Array.from({ length: request.count }, (_, i) => machineName(prefix, i));
    const tooLong = names.find((n) => !GCE_NAME.test(n));
    if (tooLong !== undefined)
      throw new ValidationError(
        `machine name ${tooLong} is not a valid GCE instance name (at most 63 lowercase letters, digits and "-")`,
        {
          provider: this.name,
          issues: [{ path: 'namePrefix', message: 'names too long for GCE' }],
        },
      );
    const start = parseInt(shortHash(request.idempotencyKey, 8), 16) % offered.length;
    const zoneOrder = offered.map((_, i) => offered[(start + i) % offered.length]!);
    const placement = await this.#placement(project, spec, signal);
    return { request, placement, project, size, image, names, zoneOrder };
  }

  /**
   * Where machines of `spec` attach. A kumo network is custom-mode, so GCE needs the
   * subnetwork named: the declared `subnet`, else the network's only kumo subnetwork in
   * this region. A subnet declared `public: false` gives no external address.
   */
  async #placement(project: string, spec: MachineSpec, signal?: AbortSignal): Promise<Placement> {
    if (spec.network === undefined)
      return { network: this.#config.network, external: this.#config.externalIp };
    const network = spec.network;
    const key = `${network}|${spec.subnet ?? ''}`;
    const cached = this.#placements.get(key);
    if (cached !== undefined && this.#clock.now() - cached.at < PLACEMENT_TTL_MS)
      return cached.placement;
    const placement = (async (): Promise<Placement> => {
      const subnets = (
        await this.#api.listAll<ListSubnetworksRequest, GceSubnetwork>(
          'subnetworks.list',
          `listing subnetworks of ${network} in ${this.region}`,
          (r, o) => this.#api.subnetworks.list(r, o),
          { project, region: this.region },
          signal,
        )
      ).filter((s) => lastSegment(s.network) === network);
      const wanted =
        spec.subnet === undefined
          ? subnets
          : subnets.filter(
              (s) => readOwner(s.description)?.['subnet'] === spec.subnet || s.name === spec.subnet,
            );
      const chosen = [...wanted].sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : 1))[0];
      if (chosen === undefined)
        throw new ValidationError(
          spec.subnet === undefined
            ? `network ${network} has no subnetwork in ${this.region}; declare it and run ensureNetwork first`
            : `network ${network} has no subnet "${spec.subnet}" in ${this.region}; declare it and run ensureNetwork first`,
          {
            provider: this.name,
            issues: [
              {
                path: spec.subnet === undefined ? 'spec.network' : 'spec.subnet',
                message: 'no such subnetwork',
              },
            ],
          },
        );
      const declaredPublic = readOwner(chosen.description)?.['public'];
      return {
        network,
        subnetwork: chosen.name!,
        external: this.#config.externalIp && declaredPublic !== false,
      };
    })();
    this.#placements.set(key, { at: this.#clock.now(), placement });
    placement.catch(() => this.#placements.delete(key));
    return placement;
  }

  /**
   * The size of `spec` and the zones it may be made in, with every check a create makes
   * of them: the zone is one of the region's, the size has the spec's architecture and
   * is offered in the zone asked for (or in some zone).
   */
  async #sizeIn(
    spec: SizeChoice,
    signal?: AbortSignal,
  ): Promise<{ size: Size; offered: string[] }> {
    const zones = await this.#catalog.zones(signal);
    if (spec.zone !== undefined) this.#checkZone(spec.zone, zones, 'spec.zone');
    const size = await this.#chooseSize(spec, signal);
    if (spec.arch !== undefined && size.arch !== spec.arch)
      throw new ValidationError(
        `size ${size.name} is ${size.arch}, but the spec asks for ${spec.arch}`,
        {
          provider: this.name,
          issues: [{ path: 'spec.arch', message: 'size has another architecture' }],
        },
      );
    const offered =
      size.zones.length > 0 ? zones.filter((z) => size.zones.includes(z)) : [...zones];
    if (spec.zone !== undefined && !offered.includes(spec.zone))
      throw new ValidationError(
        `size ${size.name} is not offered in ${spec.zone}; it is in ${offered.join(', ') || 'no zone of this region'}`,
        {
          provider: this.name,
          issues: [{ path: 'spec.zone', message: 'size not offered in this zone' }],
        },
      );
    if (offered.length === 0)
      throw new ValidationError(`size ${size.name} is not offered in any zone of ${this.region}`, {
        provider: this.name,
        issues: [{ path: 'spec.size', message: 'not offered' }],
      });
    return { size, offered };
  }

  async #chooseSize(spec: SizeChoice, signal?: AbortSignal): Promise<Size> {
    if (spec.size !== undefined) return this.#catalog.sizeByName(spec.size, signal);
    const resources = spec.resources!;
    const sizes = [
      ...(await this.#catalog.sizes(signal)),
      ...(await this.#catalog.customSizesFor(resources, signal)),
    ];
    return selectSize(sizes, { resources, zone: spec.zone, spot: spec.spot, arch: spec.arch });
  }

  /**
   * Creates `names` in `zone`; when the zone has no capacity and the spec names no zone,
   * moves them to the next zone offering the size. Returns the zone(s) they went to.
   *
   * A move is retraced by a later try, in this process or another: the zones are tried
   * in the same order under the same request ids, and a zone that Compute Engine answers
   * with an earlier try's capacity failure is passed over as that try did, so the try
   * reaches the zone where the machines were made (listings may not show them yet, and
   * names are unique per zone only: making them afresh in the first zone would make
   * them twice).
   */
  async #createInZones(
    plan: CreatePlan,
    zone: string,
    names: readonly string[],
    tried: Map<string, string>,
    wait: boolean,
    deadline: number,
    signal?: AbortSignal,
  ): Promise<{ zone: string; names: readonly string[] }[]> {
    const candidates =
      plan.request.spec.zone !== undefined || !this.#config.zoneFallback
        ? [zone]
        : [zone, ...plan.zoneOrder.filter((z) => z !== zone)];
    const follow = candidates.length > 1;
    let firstError: unknown;
    let retraced = false;
    for (const candidate of candidates) {
      // Recorded before the call: its answer may be lost after the machines were made.
      for (const name of names) tried.set(name, candidate);
      try {
        await this.#createInZone(plan, candidate, names, wait, deadline, follow, 0, signal);
        return [{ zone: candidate, names }];
      } catch (err) {
        if (err instanceof EarlierStockOut) {
          retraced = true;
          firstError ??= err.error;
          continue;
        }
        if (!(err instanceof InsufficientCapacity)) throw err;
        firstError ??= err;
      }
    }
    if (retraced) {
      // Every zone is full or was full for an earlier try: the machines may be nowhere.
      // Each name is read in every zone (a read by name is consistent, unlike a
      // listing); the found stay where they are, the rest are tried afresh under new
      // request ids, as room may have come back where an earlier try found none.
      const found: { zone: string; names: readonly string[] }[] = [];
      let rest = names;
      for (const candidate of candidates) {
        const { ours } = await this.#lookUp(plan, candidate, rest, signal);
        if (ours.size === 0) continue;
        found.push({ zone: candidate, names: rest.filter((n) => ours.has(n)) });
        rest = rest.filter((n) => !ours.has(n));
      }
      for (const part of found) for (const name of part.names) tried.set(name, part.zone);
      if (rest.length === 0) return found;
      for (const candidate of candidates) {
        for (const name of rest) tried.set(name, candidate);
        try {
          await this.#createInZone(plan, candidate, rest, wait, deadline, false, 1, signal);
          return [...found, { zone: candidate, names: rest }];
        } catch (err) {
          if (!(err instanceof InsufficientCapacity)) throw err;
        }
      }
    }
    const err = firstError as InsufficientCapacity;
    if (candidates.length > 1)
      err.message = `${err.message} (also tried ${candidates.slice(1).join(', ')})`;
    throw err;
  }

  async #createInZone(
    plan: CreatePlan,
    zone: string,
    names: readonly string[],
    wait: boolean,
    deadline: number,
    follow: boolean,
    firstGeneration: number,
    signal?: AbortSignal,
  ): Promise<void> {
    const { request, project } = plan;
    const what =
      names.length === 1
        ? `creating instance ${names[0]} in ${zone}`
        : `creating ${names.length} instances ${names[0]}…${names[names.length - 1]} in ${zone}`;
    for (let generation = firstGeneration; ; generation++) {
      // The same intent always gets the same requestId, so a retry after a timeout is
      // recognised by Compute Engine and answered with the first request's operation.
      const requestId = requestIdFor(
        `create|${project}|${zone}|${request.dc}|${request.idempotencyKey}|${names.join(',')}|${generation}`,
      );
      let op: GceOperation;
      try {
        op =
          names.length === 1
            ? await this.#api.mutateOnce(
                'instances.insert',
                what,
                (o) =>
                  this.#api.instances.insert(
                    {
                      project,
                      zone,
                      requestId,
                      instanceResource: this.#instanceBody(plan, zone, names[0]!),
                    },
                    o,
                  ),
                signal,
              )
            : await this.#api.mutateOnce(
                'instances.bulkInsert',
                what,
                (o) =>
                  this.#api.instances.bulkInsert(
                    {
                      project,
                      zone,
                      requestId,
                      bulkInsertInstanceResourceResource: this.#bulkBody(plan, zone, names),
                    },
                    o,
                  ),
                signal,
              );
      } catch (err) {
        // A name already taken in this zone is an earlier try's machine: listing finds it.
        if (isNameTaken(err)) {
          if (names.length === 1) return;
          throw new NamesTaken(err, zone, names);
        }
        throw err;
      }
      const replayed = operationDone(op);
      if (!wait && !replayed) return;
      try {
        await this.#api.awaitOperation(
          op,
          { zone },
          project,
          what,
          Math.max(1000, deadline - this.#clock.now()),
          signal,
        );
      } catch (err) {
        if (isNameTaken(err)) {
          if (names.length === 1) return;
          // bulkInsert is all or nothing (minCount = count): none was made, some exist.
          throw new NamesTaken(err, zone, names);
        }
        // An earlier try found this zone full and moved the machines on: retrace it.
        if (replayed && follow && err instanceof InsufficientCapacity)
          throw new EarlierStockOut(err);
        // NOTE: an operation that was already DONE when the insert answered is an earlier
        // request with this requestId (GCE keeps them for a while). If it failed, nothing
        // was made: try again under a new requestId rather than report an old failure.
        if (replayed && isKumoError(err) && generation + 1 < MAX_GENERATIONS) continue;
        throw err;
      }
      if (replayed && generation + 1 < MAX_GENERATIONS) {
        // An old success: the machines must exist now, unless they were deleted since.
        // Ones not listed may be too new for the listing, so they are read by name.
        const found = await this.#findByKey(request, project, signal);
        const unlisted = names.filter((n) => !found.has(n));
        const { ours } = await this.#lookUp(plan, zone, unlisted, signal);
        if (unlisted.some((n) => !ours.has(n))) continue;
      }
      return;
    }
  }

  #labelsFor(plan: CreatePlan, name?: string): Record<string, string> {
    const { request } = plan;
    return toGcpLabels({
      ...request.spec.labels,
      ...request.labels,
      ...ownershipTags({
        dc: request.dc,
        pool: request.pool,
        key: request.idempotencyKey,
        ...(name === undefined ? {} : { id: name }),
      }),
    });
  }

  #metadata(plan: CreatePlan): { key: string; value: string }[] {
    const { spec } = plan.request;
    const items = [{ key: IMAGE_METADATA_KEY, value: plan.image.id }];
    if (parseSizeName(plan.size.name).accelerator !== undefined)
      items.push({ key: SIZE_METADATA_KEY, value: plan.size.name });
    if (spec.userData !== undefined)
      // A shell script runs from `startup-script` on every Google image (guest agent);
      // anything else (cloud-config) is for cloud-init, which reads `user-data`.
      items.push({
        key: spec.userData.startsWith('#!') ? 'startup-script' : 'user-data',
        value: spec.userData,
      });
    if (spec.sshKeys.length > 0)
      items.push({ key: 'ssh-keys', value: spec.sshKeys.map(sshKeyEntry).join('\n') });
    return items;
  }

  /** Fields shared by `insert` and `bulkInsert`; `partial` URLs for insert, bare names for bulk properties. */
  #common(plan: CreatePlan, zone: string, bulk: boolean) {
    const { spec } = plan.request;
    const { project } = plan;
    const parsed = parseSizeName(plan.size.name);
    const diskGiB = Math.max(
      spec.resources?.diskGiB ?? 0,
      Number(plan.image.extra['diskSizeGb'] ?? 0),
      this.#config.bootDisk.defaultGiB,
    );
    const { network, subnetwork, external } = plan.placement;
    const gpu = parsed.accelerator;
    return {
      machineType: bulk ? parsed.machineType : `zones/${zone}/machineTypes/${parsed.machineType}`,
      labels: this.#labelsFor(plan),
      metadata: { items: this.#metadata(plan) },
      disks: [
        {
          boot: true,
          autoDelete: true,
          type: 'PERSISTENT',
          initializeParams: {
            sourceImage: plan.image.id,
            diskSizeGb: String(diskGiB),
            diskType: bulk
              ? this.#config.bootDisk.type
              : `zones/${zone}/diskTypes/${this.#config.bootDisk.type}`,
          },
        },
      ],
      networkInterfaces: [
        {
          network: `projects/${project}/global/networks/${network}`,
          ...(subnetwork === undefined
            ? {}
            : {
                subnetwork: `projects/${project}/regions/${this.region}/subnetworks/${subnetwork}`,
              }),
          ...(external
            ? {
                accessConfigs: [
                  { name: 'External NAT', type: 'ONE_TO_ONE_NAT', networkTier: 'PREMIUM' },
                ],
              }
            : {}),
        },
      ],
      ...(spec.network === undefined ? {} : { tags: { items: [networkTag(spec.network)] } }),
      ...(gpu === undefined
        ? {}
        : {
            guestAccelerators: [
              {
                acceleratorType: bulk ? gpu.type : `zones/${zone}/acceleratorTypes/${gpu.type}`,
                acceleratorCount: gpu.count,
              },
            ],
          }),
      scheduling: spec.spot
        ? // Spot VMs cannot live-migrate or restart; kumo replaces a reclaimed machine, so the VM is deleted, not kept stopped.
          {
            provisioningModel: 'SPOT',
            instanceTerminationAction: 'DELETE',
            automaticRestart: false,
            onHostMaintenance: 'TERMINATE',
          }
        : {
            provisioningModel: 'STANDARD',
            automaticRestart: true,
            onHostMaintenance: gpu === undefined ? 'MIGRATE' : 'TERMINATE',
          },
      ...(this.#config.serviceAccount === undefined
        ? {}
        : {
            serviceAccounts: [
              {
                email: this.#config.serviceAccount.email,
                scopes: this.#config.serviceAccount.scopes,
              },
            ],
          }),
    };
  }

  #instanceBody(plan: CreatePlan, zone: string, name: string): GceInstance {
    const common = this.#common(plan, zone, false);
    return {
      ...common,
      name,
      labels: this.#labelsFor(plan, name),
      description: `kumo machine of pool ${plan.request.pool} (dc ${plan.request.dc})`,
    };
  }

  /**
   * One bulkInsert for many machines: `perInstanceProperties` names each machine, so
   * names stay kumo's deterministic `<prefix>-<index>` and a retry creates exactly the
   * missing ones; `minCount = count` makes it all or nothing. GCE's `namePattern`
   * (`prefix-####`) numbers from 1 after the highest existing number, which would
   * break that, so it is not used.
   */
  #bulkBody(plan: CreatePlan, zone: string, names: readonly string[]): GceBulkInsert {
    const common = this.#common(plan, zone, true);
    return {
      count: String(names.length),
      minCount: String(names.length),
      perInstanceProperties: Object.fromEntries(names.map((n) => [n, { name: n }])),
      instanceProperties: {
        ...common,
        description: `kumo machine of pool ${plan.request.pool} (dc ${plan.request.dc})`,
      },
    };
  }

  /**
   * `names` in `zone` read one by one with `instances.get`, which unlike a listing sees
   * a machine as soon as its insert is done: this request's (its dc and key labels) and
   * the names held by other machines. Absent names are in neither.
   */
  async #lookUp(
    plan: CreatePlan,
    zone: string,
    names: readonly string[],
    signal?: AbortSignal,
  ): Promise<{ ours: Map<string, GceInstance>; foreign: string[] }> {
    const ours = new Map<string, GceInstance>();
    const foreign: string[] = [];
    const mine = toGcpLabels({ [TAG_DC]: plan.request.dc, [TAG_KEY]: plan.request.idempotencyKey });
    await Promise.all(
      names.map(async (name) => {
        let inst: GceInstance;
        try {
          inst = await this.#get({ zone, name }, signal);
        } catch (err) {
          if (err instanceof NotFound) return;
          throw err;
        }
        const labels = inst.labels ?? {};
        if (Object.entries(mine).every(([k, v]) => labels[k] === v)) ours.set(name, inst);
        else foreign.push(name);
      }),
    );
    return { ours, foreign };
  }

  /** kumo's instances for a request, by name (one filtered, paged aggregatedList over every zone). */
  async #findByKey(
    request: CreateMachinesRequest,
    project: string,
    signal?: AbortSignal,
  ): Promise<Map<string, GceInstance>> {
    const filter = labelFilter({ [TAG_DC]: request.dc, [TAG_KEY]: request.idempotencyKey });
    const found = await this.#listInstances(project, filter, signal);
    return new Map(found.filter((i) => i.name).map((i) => [i.name!, i]));
  }

  async #listInstances(
    project: string,
    filter: string | undefined,
    signal?: AbortSignal,
  ): Promise<GceInstance[]> {
    const scoped = await this.#api.aggregatedAll<
      AggregatedListInstancesRequest,
      { instances?: GceInstance[] | null }
    >(
      this.#api.instances,
      'instances.aggregatedList',
      'listing instances',
      { project, ...(filter === undefined ? {} : { filter }) },
      signal,
    );
    const out: GceInstance[] = [];
    for (const [scope, list] of scoped) {
      const zone = scope.startsWith('zones/') ? scope.slice('zones/'.length) : scope;
      if (!zone.startsWith(`${this.region}-`)) continue;
      out.push(...(list.instances ?? []));
    }
    return out;
  }

  /** The request's machines as they are now; names not visible yet are reported pending (eventual consistency). */
  async #describeRequest(
    plan: CreatePlan,
    accepted: readonly { zone: string; names: readonly string[] }[],
    signal?: AbortSignal,
  ): Promise<Machine[]> {
    const found = await this.#findByKey(plan.request, plan.project, signal);
    const zoneOf = new Map(accepted.flatMap((a) => a.names.map((n) => [n, a.zone] as const)));
    return Promise.all(
      plan.names.map(async (name, i) => {
        const inst = found.get(name);
        if (inst !== undefined) return this.#toMachine(inst, signal);
        const zone =
          zoneOf.get(name) ?? plan.request.spec.zone ?? plan.zoneOrder[i % plan.zoneOrder.length]!;
        return this.#pendingMachine(plan, zone, name);
      }),
    );
  }

  #pendingMachine(plan: CreatePlan, zone: string, name: string): Machine {
    const { request, size } = plan;
    return {
      id: name,
      providerId: toProviderId({ zone, name }),
      provider: this.name,
      region: this.region,
      zone,
      size: size.name,
      resources: {
        ...size.resources,
        diskGiB: Math.max(request.spec.resources?.diskGiB ?? 0, this.#config.bootDisk.defaultGiB),
      },
      image: plan.image.id,
      state: 'pending',
      spot: request.spec.spot,
      addresses: [],
      labels: {
        ...request.spec.labels,
        ...request.labels,
        ...ownershipTags({
          dc: request.dc,
          pool: request.pool,
          key: request.idempotencyKey,
          id: name,
        }),
      },
      ...(size.pricePerHour === undefined
        ? {}
        : {
            pricePerHour: request.spec.spot
              ? (size.spotPricePerHour ?? size.pricePerHour)
              : size.pricePerHour,
          }),
      createdAt: new Date(this.#clock.now()).toISOString(),
    };
  }

  /** Polls the request's machines in one listing per round, with growing pauses, until none is pending. */
  async #waitRunning(plan: CreatePlan, deadline: number, signal?: AbortSignal): Promise<Machine[]> {
    const first = plan.names[0]!;
    const last = plan.names[plan.names.length - 1]!;
    let failures = 0;
    return waitUntil(
      async () => {
        let found: Map<string, GceInstance>;
        try {
          found = await this.#findByKey(plan.request, plan.project, signal);
          failures = 0;
        } catch (err) {
          // A throttled or failed listing is the next poll's job: failing here would make
          // the caller start the whole create again. Only a run of failures is reported.
          if (!isRetryable(err) || ++failures >= MAX_POLL_FAILURES) throw err;
          return undefined;
        }
        const instances = plan.names.map((n) => found.get(n));
        // "Not found right after create" is pending, not gone.
        if (instances.some((i) => i === undefined || toState(i.status) === 'pending'))
          return undefined;
        return Promise.all(instances.map((i) => this.#toMachine(i!, signal)));
      },
      {
        clock: this.#clock,
        intervalMs: 1000,
        maxIntervalMs: 15_000,
        timeoutMs: Math.max(0, deadline - this.#clock.now()),
        what:
          plan.names.length === 1
            ? `machine ${first} running`
            : `machines ${first}…${last} running`,
        provider: this.name,
        ...(signal ? { signal } : {}),
      },
    );
  }

  async listMachines(filter: MachineFilter = {}, options: CallOptions = {}): Promise<Machine[]> {
    const project = await this.project();
    if (filter.zone !== undefined && !isZoneName(filter.zone))
      throw new ValidationError(`"${filter.zone}" is not a zone name`, {
        provider: this.name,
        issues: [{ path: 'zone', message: 'not a zone' }],
      });
    const { [TAG_ID]: id, ...rest } = filter.labels ?? {};
    // Labels are filtered by Compute Engine; kumo-id is the instance name there (see #bulkBody).
    const serverFilter =
      [labelFilter(rest), id === undefined ? undefined : `(name = "${id.replace(/"/g, '')}")`]
        .filter(Boolean)
        .join(' ') || undefined;
    const instances = await this.#listInstances(project, serverFilter, options.signal);
    const machines = await Promise.all(instances.map((i) => this.#toMachine(i, options.signal)));
    return machines.filter(
      (m) =>
        (filter.states === undefined
          ? m.state !== 'terminated'
          : filter.states.includes(m.state)) &&
        (filter.zone === undefined || m.zone === filter.zone) &&
        matchesLabels(m.labels, filter.labels),
    );
  }

  async getMachine(providerId: string, options: CallOptions = {}): Promise<Machine> {
    const ref = parseProviderId(providerId);
    return this.#toMachine(await this.#get(ref, options.signal), options.signal);
  }

  async #get(ref: InstanceRef, signal?: AbortSignal): Promise<GceInstance> {
    const project = await this.project();
    const [inst] = await this.#api.call(
      'instances.get',
      `reading machine ${toProviderId(ref)}`,
      (o) => this.#api.instances.get({ project, zone: ref.zone, instance: ref.name }, o),
      signal,
    );
    return inst;
  }

  async deleteMachines(providerIds: readonly string[], options: CallOptions = {}): Promise<void> {
    const refs = providerIds.map(parseProviderId);
    if (refs.length === 0) return;
    const project = await this.project();
    await Promise.all(
      refs.map(async (ref) => {
        const what = `deleting machine ${toProviderId(ref)}`;
        try {
          // NOTE: delete is idempotent by nature (gone is success), so each call gets a fresh
          // requestId; a fixed one would make a later delete of a re-created namesake a no-op.
          const op = await this.#api.mutate(
            'instances.delete',
            what,
            (o) =>
              this.#api.instances.delete(
                { project, zone: ref.zone, instance: ref.name, requestId: randomUUID() },
                o,
              ),
            options.signal,
          );
          await this.#api.awaitOperation(
            op,
            { zone: ref.zone },
            project,
            what,
            this.#config.operationTimeoutMs,
            options.signal,
          );
        } catch (err) {
          if (!(err instanceof NotFound)) throw err;
        }
      }),
    );
  }

  async startMachine(providerId: string, options: CallOptions = {}): Promise<Machine> {
    return this.#power(parseProviderId(providerId), 'start', options.signal);
  }

  async stopMachine(providerId: string, options: CallOptions = {}): Promise<Machine> {
    return this.#power(parseProviderId(providerId), 'stop', options.signal);
  }

  async #power(ref: InstanceRef, action: 'start' | 'stop', signal?: AbortSignal): Promise<Machine> {
    const project = await this.project();
    const id = toProviderId(ref);
    let inst = await this.#get(ref, signal);
    let state = toState(inst.status);
    if (action === 'start' && (state === 'running' || state === 'pending'))
      return this.#toMachine(inst, signal);
    if (action === 'stop' && state === 'stopped') return this.#toMachine(inst, signal);
    if (state === 'stopping') {
      // A stopping machine can neither start nor stop again until it has stopped.
      inst = await waitUntil(
        async () => {
          const now = await this.#get(ref, signal);
          return toState(now.status) === 'stopping' ? undefined : now;
        },
        {
          clock: this.#clock,
          intervalMs: 1000,
          maxIntervalMs: 10_000,
          timeoutMs: this.#config.operationTimeoutMs,
          what: `machine ${id} stopped`,
          provider: this.name,
          ...(signal ? { signal } : {}),
        },
      );
      state = toState(inst.status);
      if (action === 'stop' || state !== 'stopped') return this.#toMachine(inst, signal);
    }
    // The request id names this power cycle (the last start or stop time), so a retry is
    // recognised but the next cycle's start or stop is a new request.
    const cycle =
      action === 'start'
        ? (inst.lastStopTimestamp ?? inst.creationTimestamp)
        : (inst.lastStartTimestamp ?? inst.creationTimestamp);
    const requestId = requestIdFor(`${action}|${project}|${id}|${String(inst.id)}|${cycle ?? ''}`);
    const what = `${action === 'start' ? 'starting' : 'stopping'} machine ${id}`;
    const op = await this.#api.mutate(
      `instances.${action}`,
      what,
      (o) =>
        action === 'start'
          ? this.#api.instances.start({ project, zone: ref.zone, instance: ref.name, requestId }, o)
          : this.#api.instances.stop({ project, zone: ref.zone, instance: ref.name, requestId }, o),
      signal,
    );
    await this.#api.awaitOperation(
      op,
      { zone: ref.zone },
      project,
      what,
      this.#config.operationTimeoutMs,
      signal,
    );
    return this.#toMachine(await this.#get(ref, signal), signal);
  }

  async #toMachine(inst: GceInstance, signal?: AbortSignal): Promise<Machine> {
    const sizeName =
      inst.metadata?.items?.find((i) => i.key === SIZE_METADATA_KEY)?.value ??
      lastSegment(inst.machineType);
    const size = sizeName ? await this.#catalog.sizeOfInstanceType(sizeName, signal) : undefined;
    const machine = instanceToMachine(inst, { provider: this.name, region: this.region, size });
    // Machines made in bulk carry no kumo-id label (bulkInsert labels are shared); their name is it.
    if (machine.labels[TAG_KEY] !== undefined && machine.labels[TAG_ID] === undefined)
      return { ...machine, labels: { ...machine.labels, [TAG_ID]: inst.name ?? machine.id } };
    return machine;
  }

  #checkZone(zone: string, zones: readonly string[], path: string): void {
    if (!zones.includes(zone))
      throw new ValidationError(
        `unknown zone "${zone}"; zones of ${this.region} in use are ${zones.join(', ')}`,
        { provider: this.name, issues: [{ path, message: 'unknown zone' }] },
      );
  }

  /** Releases the Compute clients. */
  async close(): Promise<void> {
    await this.#api.close();
  }
}

/** Compute Engine replayed an earlier try's capacity failure in a zone: that try moved on. */
class EarlierStockOut extends Error {
  constructor(readonly error: InsufficientCapacity) {
    super(error.message);
  }
}

/** Some names of a bulk create already exist (an earlier try made them); list and create the rest. */
class NamesTaken extends Error {
  constructor(
    readonly conflict: unknown,
    readonly zone: string,
    readonly names: readonly string[],
  ) {
    super('some instance names already exist');
  }
}

function isNameTaken(err: unknown): boolean {
  return err instanceof Conflict && /already exists/i.test(err.message);
}

/** `(labels.k = "v") (labels.k2 = "v2")` over GCP-encoded labels; undefined for none. */
export function labelFilter(labels: Readonly<Record<string, string>>): string | undefined {
  const encoded = toGcpLabels({ ...labels });
  const parts = Object.entries(encoded).map(([k, v]) => `(labels.${k} = "${v}")`);
  return parts.length === 0 ? undefined : parts.join(' ');
}

/** An OpenSSH public key line as GCE's `ssh-keys` metadata wants it: `user:key`. */
export function sshKeyEntry(line: string): string {
  const comment = line.split(' ')[2];
  const user =
    comment
      ?.split('@')[0]
      ?.toLowerCase()
      .replace(/[^a-z0-9._-]/g, '') || 'kumo';
  return `${user}:${line}`;
}
