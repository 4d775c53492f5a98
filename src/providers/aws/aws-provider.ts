/**
 * The AWS provider: kumo's neutral contract on EC2. Wiring lives here; the work is in
 * one module per concern (sizes, images, networks, launches, mapping, errors).
 */
import {
  DescribeInstancesCommand,
  ImportKeyPairCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type _InstanceType,
  type Instance,
} from '@aws-sdk/client-ec2';
import {
  BatchPoller,
  CreateMachinesRequestSchema,
  DEFAULT_CAPABILITIES,
  errorMessage,
  isKumoError,
  machineNamePrefix,
  matchesLabels,
  NetworkSpecSchema,
  NotFound,
  ownershipTags,
  parse,
  SizeChoiceSchema,
  type SizeChoice,
  type SizeChoiceInput,
  ProviderError,
  selectSize,
  shortHash,
  TAG_DC,
  TAG_KEY,
  TAG_POOL,
  toAwsTags,
  ValidationError,
  withContext,
  type CallOptions,
  type Clock,
  type CreateMachinesRequest,
  type CreateMachinesRequestInput,
  type CreateOptions,
  type Image,
  type Labels,
  type Machine,
  type MachineFilter,
  type MachineSpec,
  type MachineState,
  type Network,
  type NetworkSpecInput,
  type Provider,
  type ProviderCapabilities,
  type Random,
  type Size,
  type SizeQuery,
} from '../../core/index.js';
import type { Ec2 } from './aws-client.js';
import type { AwsConfig } from './aws-config.js';
import { awsCode, missingInstanceIds } from './aws-errors.js';
import { ImageResolver } from './aws-images.js';
import { Launcher, type LaunchPlan, type Placement } from './aws-launch.js';
import { TAG_DISK, toInstanceStateNames, toMachine } from './aws-mapper.js';
import { NetworkManager } from './aws-network.js';
import { SizeCatalog, withSpotPrices } from './aws-sizes.js';

const INSTANCE_ID = /^i-[0-9a-f]{8}([0-9a-f]{9})?$/;
/** EC2 takes at most 16 KB of user data (before base64). */
const MAX_USER_DATA_BYTES = 16 * 1024;
/** EC2 allows 50 tags per resource; kumo adds up to 6 of its own. */
const MAX_USER_TAGS = 44;
/** States a machine is still on its way out of. */
const SETTLED: ReadonlySet<MachineState> = new Set(['running', 'stopped', 'terminated', 'error']);

export class AwsProvider implements Provider {
  readonly kind = 'aws';
  readonly name: string;
  readonly region: string;
  readonly capabilities: ProviderCapabilities = {
    ...DEFAULT_CAPABILITIES,
    spot: true,
    batchCreate: true,
    gpus: true,
  };
  readonly catalog: SizeCatalog;
  readonly #config: AwsConfig;
  readonly #ec2: Ec2;
  readonly #clock: Clock;
  readonly #images: ImageResolver;
  readonly #networks: NetworkManager;
  readonly #launcher: Launcher;
  readonly #poller: BatchPoller<Instance>;
  readonly #keyPairs = new Set<string>();
  readonly #networkCache = new Map<string, { network: Network; at: number }>();

  constructor(config: AwsConfig, ec2: Ec2, deps: { clock: Clock; random: Random }) {
    this.#config = config;
    this.name = config.name;
    this.region = config.region;
    this.#ec2 = ec2;
    this.#clock = deps.clock;
    this.catalog = new SizeCatalog(ec2, config, deps.clock);
    this.#images = new ImageResolver(ec2, config.name, deps.clock);
    this.#networks = new NetworkManager(ec2, config.name);
    this.#launcher = new Launcher(ec2, deps.clock, deps.random);
    this.#poller = new BatchPoller<Instance>({
      fetch: (ids) => this.#describeVisible(ids),
      maxBatch: 1000,
      intervalMs: config.pollIntervalMs,
      clock: deps.clock,
      provider: config.name,
    });
  }

  /** The EC2 client's HTTP attempts by API (retries included), for metrics and benches. */
  get apiAttempts(): ReadonlyMap<string, number> {
    return this.#ec2.pacer.attempts;
  }

  /** EC2 requests under way now; a simulation clock moves only when this is 0. */
  get requestsInFlight(): number {
    return this.#ec2.pacer.inFlight;
  }

  /** Closes the SDK client's connections. */
  close(): void {
    this.#ec2.destroy();
  }

  async listSizes(query: SizeQuery = {}): Promise<Size[]> {
    let sizes = await this.catalog.sizes(query.signal);
    if (query.spot === true)
      sizes = withSpotPrices(sizes, await this.catalog.spotPrices(query.signal), query.zone);
    const zone = query.zone;
    return zone === undefined
      ? sizes
      : sizes.filter((s) => s.zones.length === 0 || s.zones.includes(zone));
  }

  async chooseSize(choice: SizeChoiceInput, options: CallOptions = {}): Promise<Size> {
    return this.#chooseSize(parse(SizeChoiceSchema, choice, 'size choice', 'spec'), options.signal);
  }

  resolveImage(image: string, options: CallOptions & { arch?: Size['arch'] } = {}): Promise<Image> {
    return this.#images.resolve(image, { arch: options.arch, signal: options.signal });
  }

  async ensureNetwork(
    input: NetworkSpecInput,
    options: CallOptions & { labels?: Record<string, string> } = {},
  ): Promise<Network> {
    const spec = parse(NetworkSpecSchema, input, 'network spec');
    const network = await this.#networks.ensure(spec, options.labels ?? {}, options.signal);
    this.#networkCache.set(spec.name, { network, at: this.#clock.now() });
    return network;
  }

  async deleteNetwork(name: string, options: CallOptions = {}): Promise<void> {
    this.#networkCache.delete(name);
    await this.#networks.delete(name, options.signal);
  }

  async createMachines(
    input: CreateMachinesRequestInput | CreateMachinesRequest,
    options: CreateOptions = {},
  ): Promise<Machine[]> {
    const request = parse(CreateMachinesRequestSchema, input, 'create request');
    const { spec } = request;
    const signal = options.signal;
    const labels: Labels = { ...spec.labels, ...request.labels };
    if (Object.keys(labels).length > MAX_USER_TAGS)
      throw new ValidationError(
        `${Object.keys(labels).length} labels: EC2 allows 50 tags per resource and kumo uses up to 6`,
        {
          provider: this.name,
          issues: [{ path: 'labels', message: `at most ${MAX_USER_TAGS} labels on AWS` }],
        },
      );
    const tags: Labels = {
      ...labels,
      ...ownershipTags({ dc: request.dc, pool: request.pool, key: request.idempotencyKey }),
    };
    toAwsTags(tags); // refuses what AWS would refuse, naming the label
    const userData = this.#userData(spec);

    const size = await this.#chooseSize(spec, signal);
    const image = await this.#images.resolve(spec.image, { arch: size.arch, signal });
    const placements = await this.#placements(spec, size, signal);
    const keyName =
      spec.sshKeys[0] === undefined
        ? undefined
        : await this.#keyPair(spec.sshKeys[0], request, signal);
    const ebsDisk =
      size.extra.storage === 'ebs' && (spec.resources?.diskGiB ?? 0) > 0
        ? spec.resources!.diskGiB
        : undefined;
    const rootDevice =
      typeof image.extra.rootDeviceName === 'string' ? image.extra.rootDeviceName : '/dev/sda1';
    const prefix = machineNamePrefix(request);

    const plan: LaunchPlan = {
      dc: request.dc,
      key: request.idempotencyKey,
      prefix,
      count: request.count,
      chunkSize: this.#config.chunkSize,
      placements,
      capacityFallback: this.#config.capacityFallback,
      base: {
        ImageId: image.id,
        // NOTE: the SDK types instance types as a closed union; EC2 adds types faster than SDK releases.
        InstanceType: size.name as _InstanceType,
        ...(keyName === undefined ? {} : { KeyName: keyName }),
        ...(userData === undefined
          ? {}
          : { UserData: Buffer.from(userData, 'utf8').toString('base64') }),
        ...(ebsDisk === undefined
          ? {}
          : {
              BlockDeviceMappings: [
                {
                  DeviceName: rootDevice,
                  Ebs: { VolumeSize: ebsDisk, VolumeType: 'gp3', DeleteOnTermination: true },
                },
              ],
            }),
        ...(spec.spot
          ? {
              InstanceMarketOptions: {
                MarketType: 'spot',
                SpotOptions: {
                  SpotInstanceType: 'one-time',
                  InstanceInterruptionBehavior: 'terminate',
                },
              },
            }
          : {}),
      },
      tags: ebsDisk === undefined ? tags : { ...tags, [TAG_DISK]: String(ebsDisk) },
      signal,
    };
    const started = this.#clock.now();
    const launched = await this.#launcher.launch(plan);
    if (launched.failure !== undefined) {
      const err = launched.failure;
      if (isKumoError(err)) {
        err.details.launched = launched.bySlot.size;
        throw withContext(
          err,
          `creating ${request.count} machine(s) of ${size.name} for ${request.pool}`,
        );
      }
      throw err instanceof Error
        ? err
        : new ProviderError(errorMessage(err), { provider: this.name });
    }
    const slots = [...launched.bySlot.keys()].sort((a, b) => a - b);
    let instances = slots.map((s) => launched.bySlot.get(s)!);
    if (options.wait !== false) {
      let ids = instances.filter((i) => !SETTLED.has(this.#state(i))).map((i) => i.InstanceId!);
      // A large launch is often running by the time every instance is tagged: look
      // once now, and poll only for what is still pending.
      if (ids.length > 0 && this.#clock.now() - started >= this.#config.pollIntervalMs) {
        const now = await this.#describeVisible(ids);
        instances = instances.map((i) => now.get(i.InstanceId!) ?? i);
        ids = ids.filter((id) => {
          const seen = now.get(id);
          return seen === undefined || !SETTLED.has(this.#state(seen));
        });
      }
      if (ids.length > 0) {
        const settled = await this.#poller.waitFor(
          ids,
          (found) => ids.every((id) => found.has(id) && SETTLED.has(this.#state(found.get(id)!))),
          {
            timeoutMs: options.timeoutMs ?? 900_000,
            what: `${ids.length} machine(s) ${prefix}-… to be running`,
          },
        );
        instances = instances.map((i) => settled.get(i.InstanceId!) ?? i);
      }
    }
    const sizes = await this.catalog.sizes(signal);
    return instances.map((i) => this.#toMachine(i, sizes));
  }

  async listMachines(filter: MachineFilter = {}, options: CallOptions = {}): Promise<Machine[]> {
    const states =
      filter.states ?? (['pending', 'running', 'stopping', 'stopped', 'error'] as const);
    const filters = [{ Name: 'tag-key', Values: [TAG_KEY] }];
    for (const [k, v] of Object.entries(filter.labels ?? {}))
      // Wildcards in a value would widen an EC2 filter; such labels are matched here instead.
      if (v !== '' && !/[*?\\]/.test(v)) filters.push({ Name: `tag:${k}`, Values: [v] });
    const stateNames = toInstanceStateNames(states.filter((s) => s !== 'error'));
    if (!states.includes('error') && stateNames.length > 0)
      filters.push({ Name: 'instance-state-name', Values: stateNames });
    if (filter.zone !== undefined)
      filters.push({ Name: 'availability-zone', Values: [filter.zone] });
    const instances: Instance[] = [];
    let token: string | undefined;
    do {
      const page = await this.#ec2.call(
        'DescribeInstances',
        (c, s) =>
          c.send(
            new DescribeInstancesCommand({
              Filters: filters,
              MaxResults: 1000,
              ...(token === undefined ? {} : { NextToken: token }),
            }),
            { abortSignal: s },
          ),
        options.signal,
      );
      for (const r of page.Reservations ?? []) instances.push(...(r.Instances ?? []));
      token = page.NextToken || undefined;
    } while (token !== undefined);
    const sizes = await this.catalog.sizes(options.signal);
    return instances
      .map((i) => this.#toMachine(i, sizes))
      .filter(
        (m) =>
          states.includes(m.state) &&
          (filter.zone === undefined || m.zone === filter.zone) &&
          matchesLabels(m.labels, filter.labels),
      );
  }

  async getMachine(providerId: string, options: CallOptions = {}): Promise<Machine> {
    const instance = await this.#describeOne(providerId, options.signal);
    if (this.#state(instance) === 'terminated')
      throw new NotFound(`machine ${providerId} is terminated`, {
        provider: this.name,
        cause: { code: 'terminated', message: instance.StateReason?.Message },
      });
    return this.#toMachine(instance, await this.catalog.sizes(options.signal));
  }

  async deleteMachines(providerIds: readonly string[], options: CallOptions = {}): Promise<void> {
    // Ids that cannot be EC2 instance ids never existed: nothing to delete (rule 2).
    const pending = [...new Set(providerIds.filter((id) => INSTANCE_ID.test(id)))];
    for (let i = 0; i < pending.length; i += 1000) {
      let batch = pending.slice(i, i + 1000);
      while (batch.length > 0) {
        try {
          const ids = batch;
          await this.#ec2.call(
            'TerminateInstances',
            (c, s) =>
              c.send(new TerminateInstancesCommand({ InstanceIds: ids }), { abortSignal: s }),
            options.signal,
          );
          break;
        } catch (err) {
          // EC2 refuses the whole batch when one id is unknown; the unknown ones are gone already.
          const missing =
            awsCode(err) === 'InvalidInstanceID.NotFound' ? missingInstanceIds(err) : [];
          if (missing.length === 0) throw err;
          batch = batch.filter((id) => !missing.includes(id));
        }
      }
    }
  }

  async startMachine(providerId: string, options: CallOptions = {}): Promise<Machine> {
    let instance = await this.#describeOne(providerId, options.signal);
    if (this.#state(instance) === 'stopping') instance = await this.#waitFor(providerId, 'stopped');
    if (this.#state(instance) === 'stopped')
      await this.#ec2.call(
        'StartInstances',
        (c, s) =>
          c.send(new StartInstancesCommand({ InstanceIds: [providerId] }), { abortSignal: s }),
        options.signal,
      );
    instance = await this.#waitFor(providerId, 'running');
    return this.#toMachine(instance, await this.catalog.sizes(options.signal));
  }

  async stopMachine(providerId: string, options: CallOptions = {}): Promise<Machine> {
    let instance = await this.#describeOne(providerId, options.signal);
    if (this.#state(instance) === 'pending') instance = await this.#waitFor(providerId, 'running');
    if (this.#state(instance) === 'running')
      await this.#ec2.call(
        'StopInstances',
        (c, s) =>
          c.send(new StopInstancesCommand({ InstanceIds: [providerId] }), { abortSignal: s }),
        options.signal,
      );
    instance = await this.#waitFor(providerId, 'stopped');
    return this.#toMachine(instance, await this.catalog.sizes(options.signal));
  }

  // --- helpers ----------------------------------------------------------------------

  #state(instance: Instance): MachineState {
    return toMachine(instance, { provider: this.name, region: this.region }).state;
  }

  #toMachine(instance: Instance, sizes: readonly Size[]): Machine {
    return toMachine(instance, {
      provider: this.name,
      region: this.region,
      size: sizes.find((s) => s.name === instance.InstanceType),
    });
  }

  async #describeOne(providerId: string, signal?: AbortSignal): Promise<Instance> {
    if (!INSTANCE_ID.test(providerId))
      throw new NotFound(
        `machine ${providerId} not found: EC2 instance ids look like i-0123456789abcdef0`,
        { provider: this.name, cause: { code: 'InvalidInstanceID.Malformed' } },
      );
    const out = await this.#ec2.call(
      'DescribeInstances',
      (c, s) =>
        c.send(new DescribeInstancesCommand({ InstanceIds: [providerId] }), { abortSignal: s }),
      signal,
    );
    const instance = out.Reservations?.[0]?.Instances?.[0];
    if (instance === undefined)
      throw new NotFound(`machine ${providerId} not found`, {
        provider: this.name,
        cause: { code: 'InvalidInstanceID.NotFound' },
      });
    return instance;
  }

  /**
   * The instances among `ids` that EC2 shows now. Right after a launch some may be
   * unknown yet (eventual consistency): EC2 then refuses the whole call, naming them,
   * so they are left out and the rest asked again — they count as still pending.
   */
  async #describeVisible(ids: readonly string[]): Promise<Map<string, Instance>> {
    let ask = [...ids];
    const out = new Map<string, Instance>();
    while (ask.length > 0) {
      try {
        const batch = ask;
        const page = await this.#ec2.call('DescribeInstances', (c, s) =>
          c.send(new DescribeInstancesCommand({ InstanceIds: batch }), { abortSignal: s }),
        );
        for (const r of page.Reservations ?? [])
          for (const i of r.Instances ?? [])
            if (i.InstanceId !== undefined) out.set(i.InstanceId, i);
        break;
      } catch (err) {
        const missing =
          awsCode(err) === 'InvalidInstanceID.NotFound' ? missingInstanceIds(err) : [];
        if (missing.length === 0) throw err;
        ask = ask.filter((id) => !missing.includes(id));
      }
    }
    return out;
  }

  #waitFor(providerId: string, state: MachineState): Promise<Instance> {
    return this.#poller
      .waitFor(
        [providerId],
        (found) => {
          const i = found.get(providerId);
          if (i === undefined) return false;
          const now = this.#state(i);
          if (now === 'terminated')
            throw new NotFound(`machine ${providerId} was terminated while waiting for ${state}`, {
              provider: this.name,
              cause: { code: 'terminated' },
            });
          return now === state;
        },
        { timeoutMs: 900_000, what: `machine ${providerId} to be ${state}` },
      )
      .then((found) => found.get(providerId)!);
  }

  #userData(spec: MachineSpec): string | undefined {
    const extraKeys = spec.sshKeys.slice(1);
    if (extraKeys.length > 0 && spec.userData !== undefined)
      throw new ValidationError(
        'EC2 launches with one key pair: give one ssh key, or add the others through userData yourself',
        {
          provider: this.name,
          issues: [{ path: 'spec.sshKeys', message: 'more than one key together with userData' }],
        },
      );
    // Keys beyond the first (the key pair) go in as cloud-config, which every alias's image runs.
    const text =
      extraKeys.length > 0
        ? `#cloud-config\nssh_authorized_keys:\n${extraKeys.map((k) => `  - ${JSON.stringify(k)}`).join('\n')}\n`
        : spec.userData;
    if (text !== undefined && Buffer.byteLength(text, 'utf8') > MAX_USER_DATA_BYTES)
      throw new ValidationError(
        `userData is ${Buffer.byteLength(text, 'utf8')} bytes; EC2 takes at most ${MAX_USER_DATA_BYTES}`,
        {
          provider: this.name,
          issues: [
            { path: 'spec.userData', message: `at most ${MAX_USER_DATA_BYTES} bytes on EC2` },
          ],
        },
      );
    return text;
  }

  async #chooseSize(spec: SizeChoice, signal?: AbortSignal): Promise<Size> {
    let sizes = await this.catalog.sizes(signal);
    if (spec.size !== undefined) {
      const size = sizes.find((s) => s.name === spec.size);
      if (size === undefined)
        throw new ValidationError(
          `unknown instance type "${spec.size}" in ${this.region}; e.g. ${sizes
            .slice(0, 4)
            .map((s) => s.name)
            .join(', ')} (see kumo sizes)`,
          {
            provider: this.name,
            issues: [{ path: 'spec.size', message: 'unknown instance type' }],
          },
        );
      if (spec.zone !== undefined && size.zones.length > 0 && !size.zones.includes(spec.zone))
        throw new ValidationError(
          `${size.name} is not offered in ${spec.zone}; it is in ${size.zones.join(', ')}`,
          {
            provider: this.name,
            issues: [{ path: 'spec.zone', message: `${size.name} not offered here` }],
          },
        );
      if (spec.spot && !size.spot)
        throw new ValidationError(`${size.name} cannot run as spot`, {
          provider: this.name,
          issues: [{ path: 'spec.spot', message: 'not offered as spot' }],
        });
      return size;
    }
    if (spec.spot) sizes = withSpotPrices(sizes, await this.catalog.spotPrices(signal), spec.zone);
    return selectSize(sizes, {
      resources: spec.resources!,
      zone: spec.zone,
      spot: spec.spot,
      arch: spec.arch,
    });
  }

  async #network(name: string, signal?: AbortSignal): Promise<Network> {
    const cached = this.#networkCache.get(name);
    if (cached !== undefined && this.#clock.now() - cached.at < 60_000) return cached.network;
    const network = await this.#networks.lookup(name, signal);
    if (network === undefined)
      throw new NotFound(
        `network "${name}" not found in ${this.region}; declare it so ensureNetwork creates it`,
        { provider: this.name, cause: { code: 'InvalidVpcID.NotFound' } },
      );
    this.#networkCache.set(name, { network, at: this.#clock.now() });
    return network;
  }

  /** Where the chunks may go, in the order to spread them: the network's subnets, a zone, or every zone offering the size. */
  async #placements(spec: MachineSpec, size: Size, signal?: AbortSignal): Promise<Placement[]> {
    const offered = (zone: string | undefined) =>
      zone === undefined || size.zones.length === 0 || size.zones.includes(zone);
    if (spec.network !== undefined) {
      const network = await this.#network(spec.network, signal);
      const subnets = network.subnets.filter(
        (s) =>
          (spec.subnet === undefined || s.name === spec.subnet || s.id === spec.subnet) &&
          (spec.zone === undefined || s.zone === spec.zone) &&
          offered(s.zone),
      );
      if (subnets.length === 0)
        throw new ValidationError(
          `no subnet of network "${spec.network}" fits${spec.subnet === undefined ? '' : ` subnet ${spec.subnet}`}${spec.zone === undefined ? '' : ` zone ${spec.zone}`} and ${size.name}'s zones (${size.zones.join(', ')})`,
          {
            provider: this.name,
            issues: [
              {
                path: spec.subnet === undefined ? 'spec.network' : 'spec.subnet',
                message: 'no matching subnet',
              },
            ],
          },
        );
      return subnets.map((s) => ({
        zone: s.zone,
        subnetId: s.id,
        securityGroupIds: network.firewallId === undefined ? [] : [network.firewallId],
      }));
    }
    if (spec.subnet !== undefined) {
      if (!/^subnet-[0-9a-f]{8,17}$/.test(spec.subnet))
        throw new ValidationError(
          `subnet "${spec.subnet}" needs a network, or give a subnet id (subnet-…)`,
          {
            provider: this.name,
            issues: [{ path: 'spec.subnet', message: 'not a subnet id and no network given' }],
          },
        );
      return [{ subnetId: spec.subnet }];
    }
    if (spec.zone !== undefined) {
      if (!offered(spec.zone))
        throw new ValidationError(
          `${size.name} is not offered in ${spec.zone}; it is in ${size.zones.join(', ')}`,
          {
            provider: this.name,
            issues: [{ path: 'spec.zone', message: `${size.name} not offered here` }],
          },
        );
      return [{ zone: spec.zone }];
    }
    return size.zones.length === 0 ? [{}] : size.zones.map((zone) => ({ zone }));
  }

  /** Imports the key once under a name derived from its material; a duplicate means it is there already. */
  async #keyPair(
    publicKey: string,
    request: CreateMachinesRequest,
    signal?: AbortSignal,
  ): Promise<string> {
    const material = publicKey.trim().split(/\s+/).slice(0, 2).join(' ');
    const name = `kumo-${shortHash(material, 16)}`;
    if (this.#keyPairs.has(name)) return name;
    try {
      await this.#ec2.call(
        'ImportKeyPair',
        (c, s) =>
          c.send(
            new ImportKeyPairCommand({
              KeyName: name,
              PublicKeyMaterial: new TextEncoder().encode(material),
              TagSpecifications: [
                {
                  ResourceType: 'key-pair',
                  Tags: toAwsTags({
                    [TAG_DC]: request.dc,
                    [TAG_POOL]: request.pool,
                    [TAG_KEY]: request.idempotencyKey,
                  }),
                },
              ],
            }),
            { abortSignal: s },
          ),
        signal,
      );
    } catch (err) {
      if (awsCode(err) !== 'InvalidKeyPair.Duplicate') throw err;
    }
    this.#keyPairs.add(name);
    return name;
  }
}
