import { createHash } from 'node:crypto';
import {
  BatchPoller,
  CreateMachinesRequestSchema,
  DEFAULT_CAPABILITIES,
  effectivePrice,
  findImageAlias,
  imageAliasNames,
  machineName,
  machineNamePrefix,
  matchesLabels,
  NetworkSpecSchema,
  NotFound,
  ownershipTags,
  parse,
  SizeChoiceSchema,
  type SizeChoice,
  type SizeChoiceInput,
  selectSize,
  SizeSchema,
  ValidationError,
  type CallOptions,
  type Clock,
  type CreateMachinesRequestInput,
  type CreateOptions,
  type Image,
  type Machine,
  type MachineFilter,
  type Network,
  type NetworkSpecInput,
  type Provider,
  type ProviderCapabilities,
  type RateLimiter,
  type Size,
  type SizeQuery,
} from '../../core/index.js';
import type { SimCloud, SimMachineRecord } from './sim-cloud.js';
import type { SimConfig } from './sim-config.js';
import { toMachine } from './sim-mapper.js';
import { SIM_IMAGES, simCatalog } from './sim-catalog.js';

const NATIVE_IMAGE = /^img-[a-z0-9-]+$/;

/** The client side of the simulated cloud, written as a provider for a real cloud is. */
export class SimProvider implements Provider {
  readonly kind = 'sim';
  readonly name: string;
  readonly region: string;
  readonly capabilities: ProviderCapabilities = {
    ...DEFAULT_CAPABILITIES,
    spot: true,
    batchCreate: true,
    gpus: true,
  };
  readonly zones: readonly string[];
  readonly #cloud: SimCloud;
  readonly #limiter: RateLimiter;
  readonly #sizes: Size[];
  readonly #poller: BatchPoller<Machine>;

  constructor(
    config: SimConfig,
    zones: readonly string[],
    cloud: SimCloud,
    clock: Clock,
    limiter: RateLimiter,
  ) {
    this.name = config.name;
    this.region = config.region;
    this.zones = zones;
    this.#cloud = cloud;
    this.#limiter = limiter;
    this.#sizes = simCatalog(zones).map((s) => SizeSchema.parse({ ...s, provider: config.name }));
    this.#poller = new BatchPoller({
      fetch: async (ids) => new Map((await this.#describe(ids)).map((m) => [m.providerId, m])),
      intervalMs: 500,
      clock,
      provider: config.name,
    });
  }

  listSizes(query: SizeQuery = {}): Promise<Size[]> {
    const { zone } = query;
    if (zone !== undefined) this.#checkZone(zone, 'zone');
    return Promise.resolve(
      this.#sizes.filter(
        (s) => zone === undefined || s.zones.length === 0 || s.zones.includes(zone),
      ),
    );
  }

  // async, so a bad choice is a rejection like every other cloud's.
  // eslint-disable-next-line @typescript-eslint/require-await
  async chooseSize(choice: SizeChoiceInput, _options: CallOptions = {}): Promise<Size> {
    return this.#sizeFor(parse(SizeChoiceSchema, choice, 'size choice', 'spec'));
  }

  resolveImage(image: string): Promise<Image> {
    const alias = findImageAlias(image);
    const found =
      alias !== undefined
        ? SIM_IMAGES.find((i) => i.alias === alias.alias)
        : SIM_IMAGES.find((i) => i.id === image);
    if (found === undefined) {
      const hint = NATIVE_IMAGE.test(image)
        ? 'no image has that id'
        : `use an alias (${imageAliasNames().join(', ')}) or an id like img-ubuntu-2204`;
      return Promise.reject(
        new NotFound(`image "${image}" not found: ${hint}`, {
          provider: this.name,
          cause: { code: 'InvalidAMIID.NotFound' },
        }),
      );
    }
    return Promise.resolve({
      id: found.id,
      name: found.alias,
      provider: this.name,
      alias: found.alias,
      os: found.os,
      version: found.version,
      arch: 'x86_64',
      extra: {},
    });
  }

  async ensureNetwork(
    input: NetworkSpecInput,
    options: CallOptions & { labels?: Record<string, string> } = {},
  ): Promise<Network> {
    const spec = parse(NetworkSpecSchema, input, 'network spec');
    spec.subnets.forEach(
      (s, i) => s.zone !== undefined && this.#checkZone(s.zone, `subnets.${i}.zone`),
    );
    const record = await this.#limiter.run(() =>
      this.#cloud.putNetwork({
        name: spec.name,
        cidr: spec.cidr,
        subnets: spec.subnets,
        firewall: spec.firewall,
        labels: { ...spec.labels, ...options.labels },
      }),
    );
    return {
      id: record.id,
      name: record.name,
      provider: this.name,
      cidr: record.cidr,
      subnets: record.subnets,
      firewallId: record.firewallId,
      labels: record.labels,
    };
  }

  async deleteNetwork(name: string): Promise<void> {
    await this.#limiter.run(() => this.#cloud.deleteNetwork(name));
  }

  async createMachines(
    input: CreateMachinesRequestInput,
    options: CreateOptions = {},
  ): Promise<Machine[]> {
    const request = parse(CreateMachinesRequestSchema, input, 'create request');
    const { spec } = request;
    const size = this.#sizeFor(spec);
    const image = await this.resolveImage(spec.image);
    const prefix = machineNamePrefix(request);
    const names = Array.from({ length: request.count }, (_, i) => machineName(prefix, i));
    const offered =
      size.zones.length > 0 ? this.zones.filter((z) => size.zones.includes(z)) : [...this.zones];
    // Spread machines over zones, starting at a zone chosen by the key, so pools land
    // in every zone and a retry picks the same zones.
    const start =
      parseInt(createHash('sha256').update(request.idempotencyKey).digest('hex').slice(0, 8), 16) %
      offered.length;
    const zones =
      spec.zone !== undefined
        ? names.map(() => spec.zone!)
        : names.map((_, i) => offered[(start + i) % offered.length]!);
    const labels = { ...spec.labels, ...request.labels };
    const pricePerHour = effectivePrice(size, spec.spot);
    const fingerprint = createHash('sha256')
      .update(
        JSON.stringify([
          request.count,
          size.name,
          image.id,
          spec.spot,
          spec.network ?? null,
          spec.zone ?? null,
          prefix,
          request.dc,
          request.pool,
        ]),
      )
      .digest('hex');
    const records = await this.#limiter.run(() =>
      this.#cloud.runInstances({
        clientToken: request.idempotencyKey,
        fingerprint,
        names,
        zones,
        size: size.name,
        resources: size.resources,
        image: image.id,
        spot: spec.spot,
        ...(pricePerHour === undefined ? {} : { pricePerHour }),
        ...(spec.network === undefined ? {} : { network: spec.network }),
        publicIp: false,
        labels: (i) => ({
          ...labels,
          ...ownershipTags({
            dc: request.dc,
            pool: request.pool,
            key: request.idempotencyKey,
            id: names[i]!,
          }),
        }),
      }),
    );
    const ids = records.map((r) => r.providerId);
    if (options.wait === false) return this.#describe(ids);
    const settled = await this.#poller.waitFor(
      ids,
      (found) => ids.every((id) => found.has(id) && found.get(id)!.state !== 'pending'),
      {
        timeoutMs: options.timeoutMs ?? 900_000,
        what: `machines ${names[0]}…${names[names.length - 1]} to be running`,
      },
    );
    return ids.map((id) => settled.get(id)!);
  }

  async listMachines(filter: MachineFilter = {}): Promise<Machine[]> {
    const records = await this.#limiter.run(() => this.#cloud.describeInstances());
    const states = filter.states;
    return records
      .map((r) => this.#toMachine(r))
      .filter(
        (m) =>
          (states === undefined ? m.state !== 'terminated' : states.includes(m.state)) &&
          (filter.zone === undefined || m.zone === filter.zone) &&
          matchesLabels(m.labels, filter.labels),
      );
  }

  async getMachine(providerId: string): Promise<Machine> {
    const [machine] = await this.#describe([providerId]);
    if (machine === undefined || machine.state === 'terminated')
      throw new NotFound(`machine ${providerId} not found`, {
        provider: this.name,
        cause: { code: 'InvalidInstanceID.NotFound' },
      });
    return machine;
  }

  async deleteMachines(providerIds: readonly string[]): Promise<void> {
    if (providerIds.length === 0) return;
    // Batched as TerminateInstances is: up to 1000 ids per call.
    for (let i = 0; i < providerIds.length; i += 1000) {
      const chunk = providerIds.slice(i, i + 1000);
      await this.#limiter.run(() => this.#cloud.terminateInstances(chunk));
    }
  }

  async startMachine(providerId: string): Promise<Machine> {
    const record = await this.#limiter.run(() => this.#cloud.startInstance(providerId));
    return this.#toMachine(record);
  }

  async stopMachine(providerId: string): Promise<Machine> {
    const record = await this.#limiter.run(() => this.#cloud.stopInstance(providerId));
    return this.#toMachine(record);
  }

  async #describe(ids: readonly string[]): Promise<Machine[]> {
    const records = await this.#limiter.run(() => this.#cloud.describeInstances({ ids }));
    return records.map((r) => this.#toMachine(r));
  }

  #toMachine(record: SimMachineRecord): Machine {
    return toMachine(record, {
      provider: this.name,
      region: this.region,
      state: this.#cloud.stateOf(record),
      error: this.#cloud.errorOf(record),
    });
  }

  /** The size a create of `spec` gets, after the zone it names is checked. */
  #sizeFor(spec: SizeChoice): Size {
    if (spec.zone !== undefined) this.#checkZone(spec.zone, 'spec.zone');
    return this.#chooseSize(spec);
  }

  #chooseSize(spec: {
    size?: string | undefined;
    resources?: Size['resources'] | undefined;
    zone?: string | undefined;
    spot: boolean;
    arch?: Size['arch'] | undefined;
  }): Size {
    if (spec.size !== undefined) {
      const size = this.#sizes.find((s) => s.name === spec.size);
      if (size === undefined)
        throw new ValidationError(
          `unknown size "${spec.size}"; sizes are e.g. ${this.#sizes
            .slice(0, 4)
            .map((s) => s.name)
            .join(', ')} (see kumo sizes)`,
          {
            provider: this.name,
            issues: [{ path: 'spec.size', message: 'unknown size' }],
          },
        );
      return size;
    }
    return selectSize(this.#sizes, {
      resources: spec.resources!,
      zone: spec.zone,
      spot: spec.spot,
      arch: spec.arch,
    });
  }

  #checkZone(zone: string, path: string): void {
    if (!this.zones.includes(zone))
      throw new ValidationError(`unknown zone "${zone}"; zones are ${this.zones.join(', ')}`, {
        provider: this.name,
        issues: [{ path, message: 'unknown zone' }],
      });
  }
}
