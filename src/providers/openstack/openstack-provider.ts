/**
 * kumo's provider contract on OpenStack: Nova servers, Neutron networks, Glance
 * images, over kumo's own wire clients (`src/clients/openstack`).
 *
 * Nova has no client token, so idempotent create works the way DESIGN.md says for
 * OpenStack: every machine has a deterministic name (`machineName`) and carries the
 * request's `kumo-key` in its metadata; each try first lists what earlier tries made
 * and creates only what is missing.
 */
import {
  BatchPoller,
  cached,
  Conflict,
  CreateMachinesRequestSchema,
  DEFAULT_CAPABILITIES,
  findImageAlias,
  InsufficientCapacity,
  imageAliasNames,
  machineName,
  machineNamePrefix,
  matchesLabels,
  NotFound,
  ownershipTags,
  parse,
  SizeChoiceSchema,
  type SizeChoice,
  type SizeChoiceInput,
  selectSize,
  shortHash,
  TAG_ID,
  TAG_KEY,
  ValidationError,
  type CallOptions,
  type Clock,
  type CreateMachinesRequest,
  type CreateMachinesRequestInput,
  type CreateOptions,
  type Image,
  type Machine,
  type MachineFilter,
  type Network,
  type NetworkSpecInput,
  type Provider,
  type ProviderCapabilities,
  type Size,
  type SizeQuery,
} from '../../core/index.js';
import { OpenStackApiError } from '../../clients/openstack/http.js';
import type { GlanceClient, GlanceImage } from '../../clients/openstack/glance.js';
import type { NeutronClient } from '../../clients/openstack/neutron.js';
import type {
  NovaClient,
  NovaFlavor,
  NovaServer,
  NovaServerCreate,
} from '../../clients/openstack/nova.js';
import type { OpenStackConfig } from './openstack-config.js';
import { faultError, mapErrors, toKumoError } from './openstack-errors.js';
import {
  flavorToSize,
  glanceToImage,
  serverState,
  serverToMachine,
  toNovaMetadata,
} from './openstack-mapper.js';
import { OpenStackNetworks } from './openstack-network.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Nova has no spot or preemptible servers: what create and chooseSize say of `spot`. */
const NO_SPOT = { path: 'spec.spot', message: 'OpenStack has no spot machines' } as const;

/** Nova refuses user data over 65535 bytes once base64-encoded. */
const MAX_USER_DATA_B64 = 65_535;
const FLAVOR_TTL_MS = 5 * 60_000;
const NETWORK_TTL_MS = 60_000;

export interface OpenStackDeps {
  readonly nova: NovaClient;
  readonly neutron: NeutronClient;
  readonly glance: GlanceClient;
  readonly clock: Clock;
}

interface Placement {
  networks?: NovaServerCreate['networks'];
  securityGroups: string[];
}

export class OpenStackProvider implements Provider {
  readonly kind = 'openstack';
  readonly name: string;
  readonly region: string;
  readonly capabilities: ProviderCapabilities = {
    ...DEFAULT_CAPABILITIES,
    spot: false,
    batchCreate: false,
    gpus: true,
  };
  readonly #config: OpenStackConfig;
  readonly #nova: NovaClient;
  readonly #glance: GlanceClient;
  readonly #networks: OpenStackNetworks;
  readonly #neutron: NeutronClient;
  readonly #clock: Clock;
  readonly #poller: BatchPoller<Machine | null>;
  readonly #flavorList: (signal?: AbortSignal) => Promise<NovaFlavor[]>;
  /** Availability zones; `undefined` when the cloud does not let us list them. */
  readonly #zoneList: (
    signal?: AbortSignal,
  ) => Promise<{ name: string; available: boolean }[] | undefined>;
  readonly #placements = new Map<string, { at: number; value: Promise<Placement> }>();

  constructor(config: OpenStackConfig, deps: OpenStackDeps) {
    this.name = config.name;
    this.region = config.region ?? '';
    this.#config = config;
    this.#nova = deps.nova;
    this.#glance = deps.glance;
    this.#neutron = deps.neutron;
    this.#networks = new OpenStackNetworks(deps.neutron, config.name, config.externalNetwork);
    this.#clock = deps.clock;
    this.#poller = new BatchPoller<Machine | null>({
      fetch: (ids) => this.#describe(ids),
      intervalMs: config.pollIntervalMs,
      maxIntervalMs: Math.max(config.pollIntervalMs, 5000),
      clock: deps.clock,
      provider: config.name,
    });
    // Catalogs, read at most once per TTL (200 creates, one lookup).
    this.#flavorList = cached(
      (signal?: AbortSignal) =>
        mapErrors(this.name, 'listing flavors', () => this.#nova.listFlavors(signal)),
      FLAVOR_TTL_MS,
      deps.clock,
    );
    this.#zoneList = cached(
      (signal?: AbortSignal) =>
        this.#nova.availabilityZones(signal).catch((error: unknown) => {
          if (error instanceof OpenStackApiError && error.status === 403) return undefined;
          throw toKumoError(error, this.name, 'listing availability zones');
        }),
      FLAVOR_TTL_MS,
      deps.clock,
    );
  }

  // --- sizes and images -------------------------------------------------------------

  async listSizes(query: SizeQuery = {}): Promise<Size[]> {
    const flavors = await this.#flavorList(query.signal);
    return flavors
      .filter((f) => f['OS-FLV-DISABLED:disabled'] !== true)
      .map((f) => flavorToSize(f, this.name));
  }

  async chooseSize(choice: SizeChoiceInput, options: CallOptions = {}): Promise<Size> {
    const parsed = parse(SizeChoiceSchema, choice, 'size choice', 'spec');
    if (parsed.spot)
      throw new ValidationError(NO_SPOT.message, { provider: this.name, issues: [NO_SPOT] });
    return this.#chooseSize(parsed, options.signal);
  }

  /**
   * An alias (`ubuntu-22.04`) is looked up by the `os_distro`/`os_version` image
   * properties, then by name (exact alias, then names starting with it); a UUID by id;
   * anything else by exact name. The newest active match wins.
   */
  async resolveImage(
    image: string,
    options: CallOptions & { arch?: Size['arch'] } = {},
  ): Promise<Image> {
    const { signal } = options;
    return mapErrors(this.name, `resolving image "${image}"`, async () => {
      const pick = (list: GlanceImage[]): GlanceImage | undefined =>
        list
          .filter((i) => i.status === 'active')
          .filter(
            (i) =>
              options.arch === undefined ||
              i.architecture === undefined ||
              (options.arch === 'arm64') === /aarch64|arm64/i.test(i.architecture),
          )
          .sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? ''))[0];
      if (UUID.test(image)) {
        const found = await this.#glance.findImage(image, signal);
        if (found !== undefined && found.status === 'active')
          return glanceToImage(found, this.name);
        throw new NotFound(`image ${image} not found (or not active) in Glance`, {
          provider: this.name,
          cause: { code: 'ImageNotFound', status: 404 },
        });
      }
      const alias = findImageAlias(image);
      if (alias !== undefined) {
        const byProps = await this.#glance.listImages(
          { os_distro: alias.os, status: 'active' },
          signal,
        );
        const versioned = byProps.filter(
          (i) =>
            i.os_version === alias.version ||
            (i.os_version ?? '').startsWith(`${alias.version}.`) ||
            (alias.codename !== undefined && i.os_version === alias.codename),
        );
        const found =
          pick(versioned) ??
          pick(await this.#glance.listImages({ name: alias.alias, status: 'active' }, signal));
        if (found !== undefined) return glanceToImage(found, this.name, alias.alias);
        const all = await this.#glance.listImages({ status: 'active' }, signal);
        const named = pick(all.filter((i) => (i.name ?? '').toLowerCase().startsWith(alias.alias)));
        if (named !== undefined) return glanceToImage(named, this.name, alias.alias);
        throw new NotFound(
          `no active Glance image for ${alias.alias} (looked for os_distro=${alias.os} os_version=${alias.version}, then names starting with "${alias.alias}")`,
          {
            provider: this.name,
            cause: { code: 'ImageNotFound', status: 404 },
          },
        );
      }
      const named = pick(await this.#glance.listImages({ name: image, status: 'active' }, signal));
      if (named !== undefined) return glanceToImage(named, this.name);
      throw new NotFound(
        `image "${image}" not found: give an alias (${imageAliasNames().join(', ')}), a Glance image id or an exact image name`,
        {
          provider: this.name,
          cause: { code: 'ImageNotFound', status: 404 },
        },
      );
    });
  }

  // --- networks -------------------------------------------------------------------------

  async ensureNetwork(
    spec: NetworkSpecInput,
    options: CallOptions & { labels?: Record<string, string> } = {},
  ): Promise<Network> {
    const name =
      typeof spec === 'object' && spec !== null && 'name' in spec ? String(spec.name) : '?';
    return mapErrors(this.name, `ensuring network ${name}`, () =>
      this.#networks.ensure(spec, { ...this.#config.labels, ...options.labels }, options.signal),
    );
  }

  async deleteNetwork(name: string, options: CallOptions = {}): Promise<void> {
    this.#placements.clear();
    await mapErrors(this.name, `deleting network ${name}`, () =>
      this.#networks.delete(name, options.signal),
    );
  }

  // --- machines ----------------------------------------------------------------------------

  async createMachines(
    input: CreateMachinesRequestInput | CreateMachinesRequest,
    options: CreateOptions = {},
  ): Promise<Machine[]> {
    const request = parse(CreateMachinesRequestSchema, input, 'create request');
    const { spec } = request;
    const { signal } = options;
    const issues: { path: string; message: string }[] = [];
    if (spec.spot) issues.push(NO_SPOT);
    if (spec.sshKeys.length > 1)
      issues.push({
        path: 'spec.sshKeys',
        message: 'Nova boots a server with one key pair; give one key (add more through userData)',
      });
    const userData =
      spec.userData === undefined
        ? undefined
        : Buffer.from(spec.userData, 'utf8').toString('base64');
    if (userData !== undefined && userData.length > MAX_USER_DATA_B64)
      issues.push({
        path: 'spec.userData',
        message: `is ${userData.length} bytes as base64; Nova takes at most ${MAX_USER_DATA_B64}`,
      });
    if (issues.length > 0)
      throw new ValidationError(
        `invalid create request: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
        { provider: this.name, issues },
      );

    const prefix = machineNamePrefix(request);
    const names = Array.from({ length: request.count }, (_, i) => machineName(prefix, i));
    const labels = { ...this.#config.labels, ...spec.labels, ...request.labels };

    // Rule 1: what earlier tries of this key made is found before anything is created.
    const existing = await this.#serversOfKey(prefix, request.idempotencyKey, signal);
    const missing = names.filter((n) => !existing.has(n));
    if (missing.length > 0) {
      const size = await this.#chooseSize(spec, signal, true);
      // The flavor's architecture when the spec names none, as plan checks it.
      const image = await this.resolveImage(spec.image, {
        ...(signal === undefined ? {} : { signal }),
        arch: spec.arch ?? size.arch,
      });
      const placement = await this.#placement(spec.network, spec.subnet, signal);
      const keyName =
        spec.sshKeys[0] === undefined ? undefined : await this.#keypair(spec.sshKeys[0], signal);
      const results = await Promise.allSettled(
        missing.map((name) =>
          mapErrors(this.name, `creating server ${name}`, () =>
            this.#nova.createServer(
              {
                name,
                imageRef: image.id,
                flavorRef: String(size.extra.flavorId),
                metadata: toNovaMetadata({
                  ...labels,
                  ...ownershipTags({
                    dc: request.dc,
                    pool: request.pool,
                    key: request.idempotencyKey,
                    id: name,
                  }),
                }),
                ...(keyName === undefined ? {} : { key_name: keyName }),
                ...(userData === undefined ? {} : { user_data: userData }),
                ...(spec.zone === undefined ? {} : { availability_zone: spec.zone }),
                ...(placement.networks === undefined ? {} : { networks: placement.networks }),
                ...(placement.securityGroups.length === 0
                  ? {}
                  : { security_groups: placement.securityGroups.map((g) => ({ name: g })) }),
              },
              signal,
            ),
          ).then((made) => existing.set(name, made.id)),
        ),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      // NOTE: a failed POST may still have made its server (a timeout after Nova acted);
      // the retry wrapper calls again and the lookup above finds it.
      if (failed !== undefined) throw toKumoError(failed.reason, this.name);
    }
    const ids = names.map((n) => existing.get(n)!);
    if (options.wait === false) return this.#current(ids, signal);

    const settled = await this.#poller.waitFor(
      ids,
      (found) =>
        ids.every((id) => {
          const m = found.get(id);
          return m !== undefined && m !== null && m.state !== 'pending';
        }),
      {
        timeoutMs: options.timeoutMs ?? 900_000,
        what: `servers ${names[0]}…${names[names.length - 1]} to be ACTIVE`,
      },
    );
    const machines = ids.map((id) => settled.get(id)!).filter((m): m is Machine => m !== null);
    const failed = machines.filter((m) => m.state === 'error' || m.state === 'terminated');
    if (failed.length > 0) {
      // NOTE: a server in ERROR never recovers on its own; delete it so the key's retry
      // can make a fresh one, and say why it failed.
      await this.deleteMachines(
        failed.map((m) => m.providerId),
        signal === undefined ? {} : { signal },
      );
      const first = failed[0]!;
      const server =
        first.state === 'error'
          ? await this.#nova.findServer(first.providerId).catch(() => undefined)
          : undefined;
      throw faultError(
        server?.fault ?? {
          message: first.error ?? `server ${first.id} was deleted while being created`,
        },
        this.name,
        `creating ${failed.length} of ${ids.length} machine(s) (${first.id})`,
      );
    }
    return machines;
  }

  /** Servers this key made, by machine name → server id (deleted ones left out). */
  async #serversOfKey(
    prefix: string,
    key: string,
    signal?: AbortSignal,
  ): Promise<Map<string, string>> {
    const servers = await mapErrors(this.name, `looking up servers of key ${key}`, () =>
      // NOTE: Nova's `name` filter is a regular expression; the prefix is [a-z0-9-] only.
      this.#nova.listServers(
        {
          name: `^${prefix}-[0-9]+$`,
          ...(this.#config.pageSize === undefined ? {} : { pageSize: this.#config.pageSize }),
        },
        signal,
      ),
    );
    const out = new Map<string, string>();
    const ordered = [...servers].sort((a, b) => (a.created ?? '').localeCompare(b.created ?? ''));
    for (const s of ordered) {
      if (s.metadata?.[TAG_KEY] !== key || serverState(s) === 'terminated') continue;
      const name = s.metadata[TAG_ID] ?? s.name;
      if (!out.has(name)) out.set(name, s.id);
    }
    return out;
  }

  /** `creating`: the zone must also be up now (a size choice asks of the catalog only). */
  async #chooseSize(spec: SizeChoice, signal?: AbortSignal, creating = false): Promise<Size> {
    if (spec.zone !== undefined) await this.#checkZone(spec.zone, creating, signal);
    const sizes = await this.listSizes(signal === undefined ? {} : { signal });
    if (spec.size !== undefined) {
      const size = sizes.find((s) => s.name === spec.size || s.extra.flavorId === spec.size);
      if (size === undefined)
        throw new ValidationError(
          `unknown flavor "${spec.size}"; flavors are ${sizes.map((s) => s.name).join(', ')}`,
          {
            provider: this.name,
            issues: [{ path: 'spec.size', message: 'unknown flavor' }],
          },
        );
      return size;
    }
    const chosen = selectSize(sizes, {
      resources: spec.resources!,
      zone: spec.zone,
      arch: spec.arch,
    });
    return chosen;
  }

  /**
   * Refuses a zone Nova does not have, so plan says so at the line (Nova itself answers
   * a create in an unknown zone with a bare 400); to a create, a zone Nova lists as down
   * is out of capacity for now (burst moves on to the next zone). Clouds whose policy
   * hides the zone list (403) leave the check to Nova.
   */
  async #checkZone(zone: string, creating: boolean, signal?: AbortSignal): Promise<void> {
    const zones = await this.#zoneList(signal);
    if (zones === undefined) return;
    const found = zones.find((z) => z.name === zone);
    if (found === undefined) {
      const known = zones.map((z) => z.name);
      throw new ValidationError(
        `unknown availability zone "${zone}"; ${known.length === 0 ? 'Nova lists no zone' : `zones are ${known.join(', ')}`}`,
        {
          provider: this.name,
          issues: [{ path: 'spec.zone', message: 'unknown availability zone' }],
        },
      );
    }
    if (creating && !found.available)
      throw new InsufficientCapacity(`availability zone "${zone}" is not available now`, {
        provider: this.name,
        cause: { code: 'ZoneUnavailable', message: `Nova lists ${zone} as not available` },
      });
  }

  /** Networks and security groups for a machine, cached briefly (200 creates, one lookup). */
  async #placement(
    network: string | undefined,
    subnet: string | undefined,
    signal?: AbortSignal,
  ): Promise<Placement> {
    const key = `${network ?? ''}/${subnet ?? ''}`;
    const now = this.#clock.now();
    const cached = this.#placements.get(key);
    if (cached !== undefined && now - cached.at < NETWORK_TTL_MS) return cached.value;
    const value = mapErrors(
      this.name,
      `finding network ${network ?? this.#config.network ?? '(default)'}`,
      () => this.#findPlacement(network, subnet, signal),
    );
    this.#placements.set(key, { at: now, value });
    value.catch(() => this.#placements.delete(key));
    return value;
  }

  async #findPlacement(
    network: string | undefined,
    subnet: string | undefined,
    signal?: AbortSignal,
  ): Promise<Placement> {
    const groups = [...this.#config.securityGroups];
    if (network !== undefined) {
      const net = await this.#networks.find(network, signal);
      if (net === undefined)
        throw new ValidationError(
          `spec.network: no kumo network "${network}" (make it with ensureNetwork first)`,
          {
            provider: this.name,
            issues: [{ path: 'spec.network', message: 'unknown network' }],
          },
        );
      const [group] = await this.#neutron.list(
        'security-groups',
        { name: `${network}-fw`, tags: [`kumo-net=${network}`] },
        signal,
      );
      if (group !== undefined) groups.push(group.id);
      if (subnet !== undefined) {
        const subnets = await this.#neutron.list(
          'subnets',
          { network_id: net.id, name: `${network}-${subnet}` },
          signal,
        );
        if (subnets.length === 0)
          throw new ValidationError(`spec.subnet: network ${network} has no subnet "${subnet}"`, {
            provider: this.name,
            issues: [{ path: 'spec.subnet', message: 'unknown subnet' }],
          });
        // NOTE: Nova places a port on any subnet of the network; a fixed subnet needs a
        // pre-made port that Nova would not delete with the server. Refuse rather than ignore.
        if (net.subnets.length > 1)
          throw new ValidationError(
            `spec.subnet: choosing one of ${net.subnets.length} subnets is not supported on OpenStack; use a network with one subnet`,
            {
              provider: this.name,
              issues: [{ path: 'spec.subnet', message: 'not supported with several subnets' }],
            },
          );
      }
      return { networks: [{ uuid: net.id }], securityGroups: groups };
    }
    const wanted = this.#config.network;
    if (wanted !== undefined) {
      const byName = await this.#neutron.list(
        'networks',
        UUID.test(wanted) ? { id: wanted } : { name: wanted },
        signal,
      );
      if (byName.length !== 1)
        throw new ValidationError(
          `network "${wanted}" ${byName.length === 0 ? 'not found' : `is ambiguous (${byName.length} networks have that name)`}`,
          {
            provider: this.name,
            issues: [{ path: 'network', message: byName.length === 0 ? 'not found' : 'ambiguous' }],
          },
        );
      return { networks: [{ uuid: byName[0]!.id }], securityGroups: groups };
    }
    const candidates = (
      await this.#neutron.list('networks', { 'router:external': false }, signal)
    ).filter((n) => n['router:external'] !== true);
    if (candidates.length === 1)
      return { networks: [{ uuid: candidates[0]!.id }], securityGroups: groups };
    if (candidates.length === 0)
      return {
        ...((await this.#nova.atLeast('2.37')) ? { networks: 'none' as const } : {}),
        securityGroups: groups,
      };
    throw new ValidationError(
      `the project sees ${candidates.length} networks (${candidates.map((n) => n.name).join(', ')}); set the provider's network option or the machine's network`,
      {
        provider: this.name,
        issues: [{ path: 'network', message: 'several networks; choose one' }],
      },
    );
  }

  /** Imports the key once under a name derived from it; a key pair already there is reused. */
  async #keypair(publicKey: string, signal?: AbortSignal): Promise<string> {
    const name = `kumo-${shortHash(publicKey.trim(), 16)}`;
    return mapErrors(this.name, 'importing the SSH key', async () => {
      if ((await this.#nova.findKeypair(name, signal)) !== undefined) return name;
      try {
        await this.#nova.importKeypair(name, publicKey.trim(), signal);
      } catch (error) {
        // NOTE: a concurrent create imported it first.
        if (!(error instanceof OpenStackApiError && error.status === 409)) throw error;
      }
      return name;
    });
  }

  async listMachines(filter: MachineFilter = {}, options: CallOptions = {}): Promise<Machine[]> {
    const [servers, flavors] = await Promise.all([
      mapErrors(this.name, 'listing servers', () =>
        this.#nova.listServers(
          this.#config.pageSize === undefined ? {} : { pageSize: this.#config.pageSize },
          options.signal,
        ),
      ),
      this.#flavorsById(options.signal),
    ]);
    return servers
      .map((s) => serverToMachine(s, { provider: this.name, region: this.region, flavors }))
      .filter(
        (m) =>
          (filter.states === undefined
            ? m.state !== 'terminated'
            : filter.states.includes(m.state)) &&
          (filter.zone === undefined || m.zone === filter.zone) &&
          matchesLabels(m.labels, filter.labels),
      );
  }

  async getMachine(providerId: string, options: CallOptions = {}): Promise<Machine> {
    const server = await this.#server(providerId, options.signal);
    const machine =
      server === undefined
        ? undefined
        : serverToMachine(server, {
            provider: this.name,
            region: this.region,
            flavors: await this.#flavorsById(options.signal),
          });
    if (machine === undefined || machine.state === 'terminated')
      throw new NotFound(`machine ${providerId} not found`, {
        provider: this.name,
        cause: { code: 'itemNotFound', status: 404 },
      });
    return machine;
  }

  async deleteMachines(providerIds: readonly string[], options: CallOptions = {}): Promise<void> {
    await Promise.all(
      [...new Set(providerIds)].map((id) =>
        mapErrors(this.name, `deleting server ${id}`, async () => {
          // NOTE: Nova answers 404 for a malformed id too; gone is gone (rule 2).
          await this.#nova.deleteServer(id, options.signal);
        }),
      ),
    );
  }

  async startMachine(providerId: string, options: CallOptions = {}): Promise<Machine> {
    return this.#powerAction(providerId, 'os-start', options.signal);
  }

  async stopMachine(providerId: string, options: CallOptions = {}): Promise<Machine> {
    return this.#powerAction(providerId, 'os-stop', options.signal);
  }

  async #powerAction(
    providerId: string,
    action: 'os-start' | 'os-stop',
    signal?: AbortSignal,
  ): Promise<Machine> {
    const verb = action === 'os-start' ? 'starting' : 'stopping';
    const done = action === 'os-start' ? ['running'] : ['stopped', 'stopping'];
    const before = await this.getMachine(providerId, signal === undefined ? {} : { signal });
    if (done.includes(before.state)) return before;
    if (
      before.state === 'error' ||
      (action === 'os-start' ? before.state !== 'stopped' : before.state !== 'running')
    )
      throw new Conflict(`${verb} machine ${before.id}: it is ${before.state}`, {
        provider: this.name,
        // NOTE: pending settles by itself; a retry later may well succeed.
        retryable: before.state === 'pending',
        cause: { code: 'InvalidState' },
      });
    try {
      await mapErrors(this.name, `${verb} machine ${before.id}`, () =>
        this.#nova.serverAction(providerId, action, signal),
      );
    } catch (error) {
      // NOTE: 409 when another caller's action is under way; fine if it is ours.
      const after = await this.getMachine(providerId, signal === undefined ? {} : { signal });
      if (done.includes(after.state) || (action === 'os-start' && after.state === 'pending'))
        return after;
      throw error;
    }
    return this.getMachine(providerId, signal === undefined ? {} : { signal });
  }

  async #server(id: string, signal?: AbortSignal): Promise<NovaServer | undefined> {
    return mapErrors(this.name, `getting server ${id}`, () => this.#nova.findServer(id, signal));
  }

  async #flavorsById(signal?: AbortSignal): Promise<Map<string, NovaFlavor>> {
    // NOTE: only needed below microversion 2.47, where servers name their flavor by id.
    if (await this.#nova.atLeast('2.47', signal)) return new Map();
    return new Map((await this.#flavorList(signal)).map((f) => [f.id, f]));
  }

  /** The current machines of `ids` (null for ids Nova does not know), in one or a few calls. */
  async #describe(
    ids: readonly string[],
    signal?: AbortSignal,
  ): Promise<Map<string, Machine | null>> {
    const out = new Map<string, Machine | null>();
    const flavors = await this.#flavorsById(signal);
    const ctx = { provider: this.name, region: this.region, flavors };
    if (ids.length <= 3) {
      await Promise.all(
        ids.map(async (id) => {
          const s = await this.#server(id, signal);
          // NOTE: not found right after create is pending (rule 5): leave it out.
          if (s !== undefined) out.set(id, serverToMachine(s, ctx));
        }),
      );
      return out;
    }
    const wanted = new Set(ids);
    const servers = await mapErrors(this.name, 'listing servers', () =>
      this.#nova.listServers(
        this.#config.pageSize === undefined ? {} : { pageSize: this.#config.pageSize },
        signal,
      ),
    );
    for (const s of servers) if (wanted.has(s.id)) out.set(s.id, serverToMachine(s, ctx));
    return out;
  }

  async #current(ids: readonly string[], signal?: AbortSignal): Promise<Machine[]> {
    const found = await this.#describe(ids, signal);
    return ids
      .map((id) => found.get(id))
      .filter((m): m is Machine => m !== undefined && m !== null);
  }
}
