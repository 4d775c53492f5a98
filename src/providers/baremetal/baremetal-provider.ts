import { createHash } from 'node:crypto';
import {
  BatchPoller,
  Conflict,
  CreateMachinesRequestSchema,
  DEFAULT_CAPABILITIES,
  findImageAlias,
  imageAliasNames,
  InsufficientCapacity,
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
  ProviderError,
  retry,
  TAG_ID,
  TAG_KEY,
  toIronicExtra,
  IRONIC_LABELS_KEY,
  ValidationError,
  type CallOptions,
  type Clock,
  type CreateMachinesRequest,
  type CreateMachinesRequestInput,
  type CreateOptions,
  type Image,
  type Labels,
  type Machine,
  type MachineFilter,
  type Network,
  type NetworkSpecInput,
  type Provider,
  type ProviderCapabilities,
  type Size,
  type SizeQuery,
  fromIronicExtra,
} from '../../core/index.js';
import type { IronicClient } from '../../clients/openstack/ironic-client.js';
import { ironicFault } from '../../clients/openstack/ironic-errors.js';
import {
  POWER_OFF,
  POWER_ON,
  PROVISION_STATES as PS,
  type IronicAllocation,
  type IronicNode,
  type IronicPatchOp,
} from '../../clients/openstack/ironic-types.js';
import {
  candidates,
  chooseCatalogSize,
  chooseRequirement,
  freeSummary,
  type Inventory,
  type NodeRequirement,
} from './baremetal-claim.js';
import type { BaremetalConfig, BaremetalImage } from './baremetal-config.js';
import { configDriveIso, configDriveJson, type ConfigDriveInput } from './baremetal-configdrive.js';
import { isNodeLocked, toKumoError } from './baremetal-errors.js';
import {
  machineRecord,
  MACHINE_RECORD_KEY,
  NODE_FIELDS,
  nodeResources,
  toMachine,
  toSizes,
  type MapContext,
  type MachineRecord,
} from './baremetal-mapper.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ALLOCATION_FIELDS = [
  'uuid',
  'name',
  'state',
  'node_uuid',
  'last_error',
  'resource_class',
] as const;

const DEPLOY_UNDER_WAY = new Set<string>([
  PS.deploying,
  PS.waitCallBack,
  PS.active,
  PS.deployFailed,
]);

function isInvalidState(error: unknown): boolean {
  return (
    error instanceof Conflict &&
    (error.cause as { code?: string } | undefined)?.code === 'InvalidState'
  );
}

/** One machine of a request as it goes through claim → deploy → running. */
interface Slot {
  readonly index: number;
  readonly name: string;
  /** The instance UUID: the allocation's, or one kumo derived from the key. */
  instance?: string;
  node?: IronicNode;
  allocation?: IronicAllocation;
  /** Claimed by this call (released again if the request fails before deploying). */
  claimedNow?: boolean;
}

/** A UUID derived from `seed`, so a retried reserve names the same instance (RFC 4122 layout, version 5 bits). */
function derivedUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function checksumFields(checksum: string | undefined): Record<string, string> {
  if (checksum === undefined) return {};
  const m = /^(md5|sha256|sha512):(.+)$/i.exec(checksum);
  if (m === null || m[1]!.toLowerCase() === 'md5') return { image_checksum: m?.[2] ?? checksum };
  return { image_os_hash_algo: m[1]!.toLowerCase(), image_os_hash_value: m[2]! };
}

/**
 * Bare metal through OpenStack Ironic: a machine is a physical node kumo claims (an
 * allocation, or `instance_uuid` set by itself on older servers), deploys an image to
 * with a config drive, and hands over powered on; deleting undeploys it, and Ironic
 * cleans it back into the pool. The machine's `providerId` is the instance UUID, so
 * a node that returns to the pool and is claimed again is a new machine.
 */
export class BaremetalProvider implements Provider {
  readonly kind = 'baremetal';
  readonly name: string;
  readonly region: string;
  readonly capabilities: ProviderCapabilities = {
    ...DEFAULT_CAPABILITIES,
    startStop: true,
    networks: false,
    gpus: true,
  };
  readonly #config: BaremetalConfig;
  readonly #ironic: IronicClient;
  readonly #clock: Clock;
  readonly #context: MapContext;
  readonly #nodes: BatchPoller<IronicNode>;
  readonly #allocations: BatchPoller<IronicAllocation>;
  readonly #inflight = new Map<string, { started: number; promise: Promise<unknown> }>();
  #sequence = 0;

  constructor(config: BaremetalConfig, ironic: IronicClient, clock: Clock) {
    this.#config = config;
    this.#ironic = ironic;
    this.#clock = clock;
    this.name = config.name;
    this.region = config.region;
    this.#context = {
      provider: config.name,
      region: config.region,
      zone: config.zone,
      defaultResourceClass: config.defaultResourceClass,
    };
    const polling = {
      intervalMs: config.pollIntervalMs,
      maxIntervalMs: config.maxPollIntervalMs,
      clock,
      provider: config.name,
    };
    // One list call per round answers every waiting create, delete and power change.
    this.#nodes = new BatchPoller({
      ...polling,
      maxBatch: 100_000,
      fetch: async () => {
        const nodes = await this.#call('watching nodes', () =>
          this.#ironic.listNodes({ fields: NODE_FIELDS, associated: true }),
        );
        return new Map(
          nodes.flatMap((n) => (n.instance_uuid ? [[n.instance_uuid, n] as const] : [])),
        );
      },
    });
    this.#allocations = new BatchPoller({
      ...polling,
      maxBatch: 100_000,
      fetch: async () => {
        const list = await this.#call('watching allocations', () =>
          this.#ironic.listAllocations({ fields: ALLOCATION_FIELDS }),
        );
        return new Map(list.map((a) => [a.uuid, a] as const));
      },
    });
  }

  // --- inventory --------------------------------------------------------------------

  async listSizes(query: SizeQuery = {}): Promise<Size[]> {
    if (query.zone !== undefined) this.#checkZone(query.zone, 'zone');
    return this.#sizes(await this.#allNodes(this.#now()));
  }

  #sizes(nodes: readonly IronicNode[]): Size[] {
    return toSizes(nodes, { ...this.#context, requiredTraits: this.#config.requiredTraits });
  }

  async chooseSize(choice: SizeChoiceInput, _options: CallOptions = {}): Promise<Size> {
    const parsed = parse(SizeChoiceSchema, choice, 'size choice', 'spec');
    this.#checkWhere(parsed);
    return chooseCatalogSize(parsed, this.#inventory(await this.#allNodes(this.#now())));
  }

  #inventory(nodes: readonly IronicNode[]): Inventory {
    return {
      nodes,
      sizes: this.#sizes(nodes),
      requiredTraits: this.#config.requiredTraits,
      defaultResourceClass: this.#config.defaultResourceClass,
      provider: this.name,
    };
  }

  /** What bare metal cannot offer whatever the size: spot, or a zone it does not have. */
  #checkWhere(spec: SizeChoice): void {
    if (spec.spot)
      throw new ValidationError('bare metal has no spot machines', {
        provider: this.name,
        issues: [{ path: 'spec.spot', message: 'not offered by bare metal' }],
      });
    if (spec.zone !== undefined) this.#checkZone(spec.zone, 'spec.zone');
  }

  resolveImage(image: string, _options: CallOptions = {}): Promise<Image> {
    const configured = this.#config.images[image] ?? this.#config.images[image.toLowerCase()];
    const alias = findImageAlias(image);
    if (configured !== undefined) return Promise.resolve(this.#image(image, configured));
    if (/^(https?|file):\/\/\S+$/.test(image) || UUID.test(image))
      return Promise.resolve({
        id: image,
        name: image.split('/').pop() || image,
        provider: this.name,
        extra: { type: 'whole-disk' },
      });
    const known = Object.keys(this.#config.images);
    const hint =
      alias !== undefined
        ? `the alias is not configured for bare metal; add it to the provider's images (url and checksum)`
        : `use a configured image (${known.join(', ') || 'none configured'}), an http(s)/file URL or a Glance UUID; aliases: ${imageAliasNames().join(', ')}`;
    return Promise.reject(
      new NotFound(`image "${image}" not found: ${hint}`, {
        provider: this.name,
        cause: { code: 'ImageNotFound' },
      }),
    );
  }

  #image(key: string, image: BaremetalImage): Image {
    const alias = findImageAlias(key);
    return {
      id: image.url,
      name: key,
      provider: this.name,
      ...(alias === undefined ? {} : { alias: alias.alias }),
      ...((image.os ?? alias?.os) === undefined ? {} : { os: image.os ?? alias?.os }),
      ...((image.version ?? alias?.version) === undefined
        ? {}
        : { version: image.version ?? alias?.version }),
      arch: image.arch,
      extra: {
        type: image.type,
        ...(image.checksum === undefined ? {} : { checksum: image.checksum }),
        capabilities: image.capabilities,
      },
    };
  }

  // --- networks ---------------------------------------------------------------------

  /** Bare metal attaches to the configured provisioning network; it cannot make one. */
  ensureNetwork(input: NetworkSpecInput): Promise<Network> {
    const spec = parse(NetworkSpecSchema, input, 'network spec');
    const net = this.#config.network;
    if (net === undefined || net.name !== spec.name)
      return Promise.reject(
        new ValidationError(
          `bare metal cannot create networks: nodes attach to the provisioning network the operator set up${net === undefined ? ' (none is configured: set the provider option network)' : ` ("${net.name}")`}`,
          {
            provider: this.name,
            issues: [{ path: 'name', message: 'not the configured provisioning network' }],
          },
        ),
      );
    return Promise.resolve({
      id: net.name,
      name: net.name,
      provider: this.name,
      cidr: net.cidr,
      subnets: [],
      labels: {},
    });
  }

  /** Nothing to delete: kumo never makes bare-metal networks. */
  deleteNetwork(_name: string): Promise<void> {
    return Promise.resolve();
  }

  // --- machines ---------------------------------------------------------------------

  async createMachines(
    input: CreateMachinesRequestInput | CreateMachinesRequest,
    options: CreateOptions = {},
  ): Promise<Machine[]> {
    const began = this.#now();
    const request = parse(CreateMachinesRequestSchema, input, 'create request');
    const { spec } = request;
    this.#checkWhere(spec);
    if (spec.network !== undefined && spec.network !== this.#config.network?.name)
      throw new ValidationError(
        `network "${spec.network}" is not the provisioning network${this.#config.network ? ` ("${this.#config.network.name}")` : ' (none is configured)'}`,
        {
          provider: this.name,
          issues: [
            {
              path: 'spec.network',
              message: 'bare metal attaches only to its provisioning network',
            },
          ],
        },
      );
    const image = await this.resolveImage(spec.image);
    const signal = options.signal;
    const prefix = machineNamePrefix(request);
    const slots: Slot[] = Array.from({ length: request.count }, (_, index) => ({
      index,
      name: machineName(prefix, index),
    }));
    const labelsOf = (slot: Slot): Labels => ({
      ...this.#config.labels,
      ...spec.labels,
      ...request.labels,
      ...ownershipTags({
        dc: request.dc,
        pool: request.pool,
        key: request.idempotencyKey,
        id: slot.name,
      }),
    });
    const useAllocations = await this.#useAllocations(signal);
    let requirement: NodeRequirement | undefined;
    /** kumo's ownership of a slot's node: labels and the machine record, kept if an earlier try wrote them. */
    const ownership = (slot: Slot): IronicPatchOp[] => {
      const earlier = slot.node === undefined ? undefined : machineRecord(slot.node);
      const record: MachineRecord =
        earlier?.instance === slot.instance
          ? earlier!
          : {
              instance: slot.instance!,
              image: spec.image,
              size:
                requirement?.size ?? slot.node?.resource_class ?? this.#config.defaultResourceClass,
              createdAt: new Date(this.#clock.now()).toISOString(),
            };
      return [
        { op: 'add', path: `/extra/${IRONIC_LABELS_KEY}`, value: labelsOf(slot) },
        { op: 'add', path: `/extra/${MACHINE_RECORD_KEY}`, value: record },
      ];
    };

    // 1. What earlier tries with this key made (rule 1), from one read of nodes and allocations.
    const [nodes, allocations] = await Promise.all([
      this.#allNodes(began),
      useAllocations ? this.#allAllocations(began) : Promise.resolve([]),
    ]);
    await this.#adopt(slots, nodes, allocations, request.idempotencyKey, signal);

    // 2. Claim nodes for the rest: all of them or none.
    const missing = slots.filter((s) => s.instance === undefined);
    if (missing.length > 0) {
      // An image built for one architecture picks nodes of that one unless the spec says otherwise.
      const arch = spec.arch ?? image.arch;
      requirement = chooseRequirement(
        { ...spec, ...(arch === undefined ? {} : { arch }) },
        missing.length,
        this.#inventory(nodes),
      );
      const free = candidates(nodes, requirement, this.#config.defaultResourceClass);
      if (useAllocations)
        await this.#claimByAllocation(missing, requirement, free, labelsOf, signal);
      else
        await this.#claimByReserve(
          missing,
          free,
          request.idempotencyKey,
          (slot) => ownership(slot),
          signal,
        );
    }
    await this.#awaitAllocations(slots, signal);

    // 3. Record ownership, set instance_info and deploy every claimed node not yet deploying.
    try {
      await Promise.all(
        slots.map(async (slot) => {
          if (slot.node!.provision_state !== PS.available) return;
          await this.#deploy(slot, ownership(slot), image, requirement?.traits ?? [], spec, signal);
        }),
      );
    } catch (error) {
      // Nothing deploys on a node kumo cannot describe: give back what this call claimed.
      await this.#releaseClaims(
        slots.filter((s) => s.claimedNow && s.node?.provision_state === PS.available),
        useAllocations,
      );
      throw error;
    }

    const instances = slots.map((s) => s.instance!);
    if (options.wait === false) return this.#describe(instances, signal);
    return this.#awaitRunning(slots, options.timeoutMs ?? this.#config.deployTimeoutMs);
  }

  /** Fills slots from what an earlier try made: deployed nodes and allocations by name. */
  async #adopt(
    slots: Slot[],
    nodes: readonly IronicNode[],
    allocations: readonly IronicAllocation[],
    key: string,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const byName = new Map(slots.map((s) => [s.name, s]));
    for (const node of nodes) {
      const record = machineRecord(node);
      if (record === undefined || node.instance_uuid !== record.instance) continue;
      const labels = fromIronicExtra(node.extra);
      const slot = labels[TAG_KEY] === key ? byName.get(labels[TAG_ID] ?? '') : undefined;
      if (slot === undefined) continue;
      if (node.provision_state === PS.deployFailed) {
        // A failed deploy of an earlier try: give the node back and claim afresh.
        await this.#undeploy(node, signal);
        continue;
      }
      slot.instance = record.instance;
      slot.node = node;
    }
    for (const allocation of allocations) {
      const slot = byName.get(allocation.name ?? '');
      if (slot === undefined || slot.instance !== undefined) continue;
      if (allocation.state === 'error') {
        await this.#deleteAllocation(allocation.uuid, signal);
        continue;
      }
      slot.instance = allocation.uuid;
      slot.allocation = allocation;
      const node = nodes.find((n) => n.uuid === allocation.node_uuid);
      if (node !== undefined) slot.node = node;
    }
  }

  async #claimByAllocation(
    slots: readonly Slot[],
    req: NodeRequirement,
    free: readonly IronicNode[],
    labelsOf: (slot: Slot) => Labels,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const candidateNodes = free.map((n) => n.uuid);
    await Promise.all(
      slots.map(async (slot) => {
        const body = {
          name: slot.name,
          resource_class: req.resourceClass,
          ...(req.traits.length === 0 ? {} : { traits: req.traits }),
          candidate_nodes: candidateNodes,
          extra: toIronicExtra(labelsOf(slot)),
        };
        let allocation: IronicAllocation;
        try {
          allocation = await this.#ironic.createAllocation(body, { signal });
        } catch (error) {
          // A try whose answer was lost made it already: the name is ours (it hashes our key).
          if (ironicFault(error) !== 'Duplicate')
            throw toKumoError(error, this.name, `claiming a node for ${slot.name}`);
          allocation = await this.#call(`reading allocation ${slot.name}`, () =>
            this.#ironic.getAllocation(slot.name, { signal }),
          );
        }
        slot.instance = allocation.uuid;
        slot.allocation = allocation;
        slot.claimedNow = true;
      }),
    );
  }

  /** Waits for allocations still being worked on; on any failure releases this call's claims and reports capacity. */
  async #awaitAllocations(slots: Slot[], signal: AbortSignal | undefined): Promise<void> {
    const pending = slots.filter((s) => s.node === undefined && s.allocation !== undefined);
    if (pending.length === 0) return;
    const ids = pending.map((s) => s.allocation!.uuid);
    const settled = await this.#allocations.waitFor(
      ids,
      (found) => ids.every((id) => found.get(id)?.state !== 'allocating'),
      { timeoutMs: 300_000, what: `allocations for ${pending[0]!.name}…` },
    );
    const failed: { name: string; error: string }[] = [];
    for (const slot of pending) {
      const allocation = settled.get(slot.allocation!.uuid);
      if (allocation?.state === 'active' && allocation.node_uuid) slot.allocation = allocation;
      else
        failed.push({
          name: slot.name,
          error: allocation?.last_error ?? 'the allocation disappeared',
        });
    }
    if (failed.length === 0) {
      // An active allocation has set the node's instance_uuid in the same transaction.
      const instances = pending.map((s) => s.allocation!.uuid);
      const claimed = await this.#nodes.waitFor(
        instances,
        (found) => instances.every((id) => found.has(id)),
        { timeoutMs: 60_000, what: `claimed nodes of ${pending[0]!.name}…` },
      );
      for (const slot of pending) {
        const node = claimed.get(slot.allocation!.uuid);
        if (node?.uuid === slot.allocation!.node_uuid) slot.node = node;
      }
      const lost = pending.find((s) => s.node === undefined);
      if (lost === undefined) return;
      failed.push({
        name: lost.name,
        error: `node ${lost.allocation!.node_uuid} is no longer claimed`,
      });
    }
    // All or nothing: never hold nodes for a request that cannot be met.
    await Promise.all(
      slots
        .filter((s) => s.claimedNow || pending.includes(s))
        .filter((s) => s.node === undefined || s.node.provision_state === PS.available)
        .map((s) => this.#deleteAllocation(s.allocation!.uuid, signal)),
    );
    // NOTE: "could not reserve any of N suitable nodes" means the nodes were locked by
    // concurrent work, not taken: the same request can succeed a moment later.
    if (failed.every((f) => /could not reserve any of/i.test(f.error)))
      throw new Conflict(
        `nodes were busy while claiming ${failed.map((f) => f.name).join(', ')}: ${failed[0]!.error}`,
        {
          provider: this.name,
          retryable: true,
          cause: { code: 'AllocationContention', message: failed[0]!.error },
        },
      );
    const sizes = this.#sizes(await this.#allNodes(this.#now()));
    throw new InsufficientCapacity(
      `no node could be claimed for ${failed.map((f) => f.name).join(', ')}: ${failed[0]!.error} (free now: ${freeSummary(sizes)})`,
      {
        provider: this.name,
        cause: { code: 'AllocationFailed', message: failed[0]!.error },
        details: {
          failed,
          sizes: sizes.map((s) => ({ name: s.name, available: s.available ?? 0 })),
        },
      },
    );
  }

  /**
   * Claims nodes without the allocations API: sets `instance_uuid`, which Ironic
   * refuses (409) on a node that already has one, so two clients never share a node.
   */
  async #claimByReserve(
    slots: readonly Slot[],
    free: readonly IronicNode[],
    key: string,
    ownership: (slot: Slot) => IronicPatchOp[],
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const taken = new Set<string>();
    const order = (slot: Slot): IronicNode[] => {
      // Concurrent requests start at different nodes, so they rarely collide.
      const start =
        parseInt(createHash('sha256').update(`${key}/${slot.name}`).digest('hex').slice(0, 8), 16) %
        Math.max(free.length, 1);
      return [...free.slice(start), ...free.slice(0, start)];
    };
    const failed: Slot[] = [];
    await Promise.all(
      slots.map(async (slot) => {
        const instance = derivedUuid(`${key}/${slot.name}`);
        for (const node of order(slot)) {
          if (taken.has(node.uuid)) continue;
          taken.add(node.uuid);
          try {
            // One PATCH, so a node is never claimed without kumo's record on it (a retry finds it by that).
            const claim = { ...slot, instance };
            slot.node = await this.#ironic.patchNode(
              node.uuid,
              [{ op: 'add', path: '/instance_uuid', value: instance }, ...ownership(claim)],
              { signal },
            );
            slot.instance = instance;
            slot.claimedNow = true;
            return;
          } catch (error) {
            const fault = ironicFault(error);
            if (fault !== 'NodeAssociated' && fault !== 'NodeLocked' && fault !== 'Duplicate')
              throw toKumoError(error, this.name, `claiming node ${node.uuid} for ${slot.name}`);
          }
        }
        failed.push(slot);
      }),
    );
    if (failed.length === 0) return;
    await this.#releaseClaims(
      slots.filter((s) => s.claimedNow),
      false,
    );
    const sizes = this.#sizes(await this.#allNodes(this.#now()));
    throw new InsufficientCapacity(
      `no free node could be claimed for ${failed.map((s) => s.name).join(', ')}; others took them first (free now: ${freeSummary(sizes)})`,
      {
        provider: this.name,
        cause: { code: 'NodeAssociated' },
        details: { failed: failed.map((s) => s.name) },
      },
    );
  }

  async #deploy(
    slot: Slot,
    ownership: IronicPatchOp[],
    image: Image,
    traits: readonly string[],
    spec: CreateMachinesRequest['spec'],
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const node = slot.node!;
    const resources = nodeResources(node);
    const extra = image.extra as {
      checksum?: string;
      type?: string;
      capabilities?: Record<string, string>;
    };
    const configured = this.#config.images[image.name];
    const instanceInfo: Record<string, unknown> = {
      image_source: image.id,
      ...checksumFields(extra.checksum),
      image_type: extra.type ?? 'whole-disk',
      root_gb: spec.resources?.diskGiB ? spec.resources.diskGiB : resources.diskGiB,
      capabilities: extra.capabilities ?? {},
      // NOTE: deploy templates match on instance_info.traits (Nova copies the flavor's here).
      ...(traits.length === 0 ? {} : { traits: [...traits] }),
      ...(configured?.kernel === undefined ? {} : { kernel: configured.kernel }),
      ...(configured?.ramdisk === undefined ? {} : { ramdisk: configured.ramdisk }),
      display_name: slot.name,
    };
    const ops: IronicPatchOp[] = [
      { op: 'add', path: '/instance_info', value: instanceInfo },
      ...ownership,
    ];
    const labels = ownership[0]!.value as Labels;
    const what = `deploying ${slot.name} on node ${node.name ?? node.uuid}`;
    slot.node = await this.#locked(
      what,
      () => this.#ironic.patchNode(node.uuid, ops, { signal }),
      signal,
    );
    const drive: ConfigDriveInput = {
      instance: slot.instance!,
      name: slot.name,
      zone: this.#config.zone,
      sshKeys: spec.sshKeys,
      userData: spec.userData,
      labels,
    };
    const configdrive = (await this.#ironic.supports('configDriveJson', { signal }))
      ? configDriveJson(drive)
      : configDriveIso(drive, new Date(this.#clock.now()));
    try {
      await this.#locked(
        what,
        () =>
          this.#ironic.setProvisionState(node.uuid, { target: 'active', configdrive }, { signal }),
        signal,
      );
    } catch (error) {
      if (!isInvalidState(error)) throw error;
      // Already deploying: an earlier try's request got through after all. Anything
      // else (an operator moved the node) is a real conflict.
      const now = await this.#call(what, () =>
        this.#ironic.getNode(node.uuid, { fields: NODE_FIELDS, signal }),
      );
      if (!DEPLOY_UNDER_WAY.has(now.provision_state ?? '') || now.instance_uuid !== slot.instance)
        throw error;
    }
  }

  /** Waits until every machine runs or failed; powers on nodes a deploy left off; gives back failed nodes. */
  async #awaitRunning(slots: readonly Slot[], timeoutMs: number): Promise<Machine[]> {
    const instances = slots.map((s) => s.instance!);
    const deadline = this.#clock.now() + timeoutMs;
    const poweredOn = new Set<string>();
    for (;;) {
      const found = await this.#nodes.waitFor(
        instances,
        (nodes) =>
          instances.every((id) => {
            const n = nodes.get(id);
            if (n === undefined) return true;
            const m = toMachine(n, this.#context, id);
            if (
              m === undefined ||
              m.state === 'running' ||
              m.state === 'error' ||
              m.state === 'terminated'
            )
              return true;
            // Deployed but left powered off (fake and some real drivers do): turn it on once.
            return m.state === 'stopped' && !poweredOn.has(id);
          }),
        {
          timeoutMs: Math.max(1, deadline - this.#clock.now()),
          what: `machines ${slots[0]!.name}… running`,
        },
      );
      const off = instances.filter((id) => {
        const n = found.get(id);
        return (
          n !== undefined &&
          toMachine(n, this.#context, id)?.state === 'stopped' &&
          !poweredOn.has(id)
        );
      });
      if (off.length === 0) return this.#settle(slots, found);
      await Promise.all(
        off.map((id) => {
          poweredOn.add(id);
          const node = found.get(id)!;
          return this.#locked(`powering on ${node.name ?? node.uuid}`, () =>
            this.#ironic.setPowerState(node.uuid, POWER_ON),
          );
        }),
      );
    }
  }

  /** The machines of settled slots; a failed deploy is undeployed and reported with Ironic's last_error. */
  async #settle(
    slots: readonly Slot[],
    found: ReadonlyMap<string, IronicNode>,
  ): Promise<Machine[]> {
    const machines: Machine[] = [];
    const failed: { id: string; node: string; error: string }[] = [];
    for (const slot of slots) {
      const node = found.get(slot.instance!);
      const machine =
        node === undefined ? undefined : toMachine(node, this.#context, slot.instance);
      if (node === undefined || machine === undefined || machine.state === 'terminated') {
        failed.push({
          id: slot.name,
          node: slot.node?.uuid ?? '?',
          error: 'the node was released while deploying',
        });
        continue;
      }
      if (machine.state === 'error') {
        failed.push({
          id: slot.name,
          node: node.name ?? node.uuid,
          error:
            node.last_error ?? (await this.#lastError(node)) ?? machine.error ?? 'deploy failed',
        });
        // Never leave a node claimed by a failed create: undeploying also frees the allocation.
        await this.#undeploy(node, undefined);
        continue;
      }
      machines.push(machine);
    }
    if (failed.length > 0)
      throw new ProviderError(
        `deploy failed for ${failed.map((f) => `${f.id} on node ${f.node}: ${f.error}`).join('; ')} — the node${failed.length > 1 ? 's were' : ' was'} undeployed; ${machines.length} other machine(s) of the request run and a retry with the same key makes only the missing ones`,
        {
          provider: this.name,
          cause: { code: 'DeployFailed', message: failed[0]!.error },
          details: { failed, running: machines.map((m) => m.id) },
        },
      );
    return machines;
  }

  async listMachines(filter: MachineFilter = {}, _options: CallOptions = {}): Promise<Machine[]> {
    const nodes = await this.#allNodes(this.#now());
    const states = filter.states;
    return nodes
      .filter((n) => machineRecord(n) !== undefined)
      .map((n) => toMachine(n, this.#context)!)
      .filter(
        (m) =>
          (states === undefined ? m.state !== 'terminated' : states.includes(m.state)) &&
          (filter.zone === undefined || m.zone === filter.zone) &&
          matchesLabels(m.labels, filter.labels),
      );
  }

  async getMachine(providerId: string, options: CallOptions = {}): Promise<Machine> {
    const node = await this.#nodeOf(providerId, options.signal);
    const machine = node === undefined ? undefined : toMachine(node, this.#context, providerId);
    if (machine === undefined || machine.state === 'terminated')
      throw new NotFound(`machine ${providerId} not found: no node carries that instance`, {
        provider: this.name,
        cause: { code: 'NodeNotFound' },
      });
    return machine;
  }

  async deleteMachines(providerIds: readonly string[], options: CallOptions = {}): Promise<void> {
    if (providerIds.length === 0) return;
    providerIds.forEach((id, i) => this.#checkId(id, `providerIds.${i}`));
    const signal = options.signal;
    const useAllocations = await this.#useAllocations(signal);
    const nodes = await this.#call('listing claimed nodes', () =>
      this.#ironic.listNodes({ fields: NODE_FIELDS, associated: true }, { signal }),
    );
    const allocations = useAllocations
      ? await this.#call('listing allocations', () =>
          this.#ironic.listAllocations({ fields: ALLOCATION_FIELDS }, { signal }),
        )
      : [];
    await Promise.all(
      providerIds.map(async (id) => {
        let node = nodes.find((n) => n.instance_uuid === id);
        if (node === undefined) {
          // Claimed but never reached a node (or a failed allocation): just drop the claim.
          if (allocations.some((a) => a.uuid === id)) await this.#deleteAllocation(id, signal);
          return;
        }
        if (node.provision_state === PS.deploying) {
          // Ironic cannot undeploy mid-deploy; wait for the deploy to end either way.
          const settled = await this.#nodes.waitFor(
            [id],
            (m) => m.get(id)?.provision_state !== PS.deploying,
            {
              timeoutMs: 600_000,
              what: `node ${node.name ?? node.uuid} to finish deploying before undeploying`,
            },
          );
          node = settled.get(id);
          if (node === undefined) return;
        }
        if (node.provision_state === PS.available) {
          await this.#releaseClaims(
            [{ index: 0, name: id, instance: id, node, claimedNow: true }],
            useAllocations,
          );
          return;
        }
        await this.#undeploy(node, signal);
      }),
    );
  }

  async startMachine(providerId: string, options: CallOptions = {}): Promise<Machine> {
    return this.#power(providerId, POWER_ON, options.signal);
  }

  async stopMachine(providerId: string, options: CallOptions = {}): Promise<Machine> {
    return this.#power(providerId, POWER_OFF, options.signal);
  }

  async #power(
    providerId: string,
    target: typeof POWER_ON | typeof POWER_OFF,
    signal: AbortSignal | undefined,
  ): Promise<Machine> {
    const node = await this.#nodeOf(providerId, signal);
    const machine = node === undefined ? undefined : toMachine(node, this.#context, providerId);
    if (node === undefined || machine === undefined || machine.state === 'terminated')
      throw new NotFound(`machine ${providerId} not found: no node carries that instance`, {
        provider: this.name,
        cause: { code: 'NodeNotFound' },
      });
    const want = target === POWER_ON ? 'running' : 'stopped';
    if (machine.state === want) return machine;
    // Power is the user's once the node is deployed, even mid-reboot; before that it is the deploy's.
    if (node.provision_state !== PS.active)
      throw new Conflict(
        `machine ${machine.id} is ${machine.state}; only a deployed machine can be ${target === POWER_ON ? 'started' : 'stopped'}`,
        {
          provider: this.name,
          cause: { code: 'InvalidState' },
        },
      );
    if (node.target_power_state !== target)
      await this.#locked(
        `${target} ${machine.id}`,
        () => this.#ironic.setPowerState(node.uuid, target, { signal }),
        signal,
      );
    const settled = await this.#nodes.waitFor(
      [providerId],
      (m) => {
        const n = m.get(providerId);
        return n === undefined || (n.power_state === target && !n.target_power_state);
      },
      { timeoutMs: 300_000, what: `machine ${machine.id} ${want}` },
    );
    const now = settled.get(providerId);
    const out = now === undefined ? undefined : toMachine(now, this.#context, providerId);
    if (out === undefined)
      throw new NotFound(`machine ${providerId} went away while ${target}`, {
        provider: this.name,
      });
    return out;
  }

  // --- helpers ----------------------------------------------------------------------

  /**
   * Ironic moves a node to "deploy failed" and records why in two writes; a read in
   * between sees no last_error. Ask again briefly rather than report a failure without its reason.
   */
  async #lastError(node: IronicNode): Promise<string | undefined> {
    for (let i = 0; i < 10; i++) {
      await this.#clock.sleep(300);
      const now = await this.#call('reading why the deploy failed', () =>
        this.#ironic.getNode(node.uuid, { fields: ['uuid', 'last_error'] }),
      );
      if (now.last_error) return now.last_error;
    }
    return undefined;
  }

  async #useAllocations(signal: AbortSignal | undefined): Promise<boolean> {
    if (this.#config.claim === 'reserve') return false;
    const supported = await this.#call('negotiating the API version', () =>
      this.#ironic.supports('allocations', { signal }),
    );
    if (this.#config.claim === 'allocations' && !supported)
      throw new ValidationError(
        `claim: allocations needs Ironic API 1.52; the server speaks ${this.#ironic.versionInfo?.version}`,
        {
          provider: this.name,
          issues: [{ path: 'claim', message: 'allocations unsupported by the server' }],
        },
      );
    return supported;
  }

  /**
   * Every node, read once for all callers that began before the read did: 20
   * concurrent creates cost one inventory read, and each still sees every write that
   * finished before it began (an earlier try's claim, say).
   */
  #allNodes(since: number): Promise<IronicNode[]> {
    return this.#shared('nodes', since, () =>
      this.#call('listing nodes', () => this.#ironic.listNodes({ fields: NODE_FIELDS })),
    );
  }

  #allAllocations(since: number): Promise<IronicAllocation[]> {
    return this.#shared('allocations', since, () =>
      this.#call('listing allocations', () =>
        this.#ironic.listAllocations({ fields: ALLOCATION_FIELDS }),
      ),
    );
  }

  /** A point in the order of calls and reads, for {@link #shared}. */
  #now(): number {
    return ++this.#sequence;
  }

  #shared<T>(key: string, since: number, read: () => Promise<T>): Promise<T> {
    const running = this.#inflight.get(key);
    if (running !== undefined && running.started > since) return running.promise as Promise<T>;
    const started = this.#now();
    const promise = read().finally(() => {
      if (this.#inflight.get(key)?.promise === promise) this.#inflight.delete(key);
    });
    this.#inflight.set(key, { started, promise });
    return promise;
  }

  async #nodeOf(
    providerId: string,
    signal: AbortSignal | undefined,
  ): Promise<IronicNode | undefined> {
    this.#checkId(providerId, 'providerId');
    const [node] = await this.#call(`reading machine ${providerId}`, () =>
      this.#ironic.listNodes({ fields: NODE_FIELDS, instance_uuid: providerId }, { signal }),
    );
    return node;
  }

  async #describe(
    instances: readonly string[],
    signal: AbortSignal | undefined,
  ): Promise<Machine[]> {
    const nodes = await this.#call('listing claimed nodes', () =>
      this.#ironic.listNodes({ fields: NODE_FIELDS, associated: true }, { signal }),
    );
    return instances.flatMap((id) => {
      const node = nodes.find((n) => n.instance_uuid === id);
      const m = node === undefined ? undefined : toMachine(node, this.#context, id);
      return m === undefined ? [] : [m];
    });
  }

  /** Undeploys a node (`deleted`): Ironic tears down, frees the allocation and cleans the node back to available. */
  async #undeploy(node: IronicNode, signal: AbortSignal | undefined): Promise<void> {
    const state = node.provision_state;
    if (state === PS.deleting || state === PS.cleaning || state === PS.cleanWait) return;
    try {
      await this.#locked(`undeploying node ${node.name ?? node.uuid}`, () =>
        this.#ironic.setProvisionState(node.uuid, { target: 'deleted' }, { signal }),
      );
    } catch (error) {
      // Someone else started the teardown in between: it is under way, which is all we promise.
      if (isInvalidState(error)) {
        const now = await this.#call('re-reading node', () =>
          this.#ironic.getNode(node.uuid, { fields: NODE_FIELDS, signal }),
        );
        if (
          [PS.deleting, PS.cleaning, PS.cleanWait, PS.available].includes(
            now.provision_state as never,
          )
        )
          return;
      }
      throw error;
    }
  }

  /** Gives back claims on nodes that never started deploying. */
  async #releaseClaims(slots: readonly Slot[], useAllocations: boolean): Promise<void> {
    await Promise.all(
      slots.map(async (slot) => {
        if (useAllocations) {
          await this.#deleteAllocation(slot.instance!, undefined);
          return;
        }
        const node = slot.node!;
        const ops: IronicPatchOp[] = [{ op: 'remove', path: '/instance_uuid' }];
        if (node.extra?.[MACHINE_RECORD_KEY] !== undefined)
          ops.push({ op: 'remove', path: `/extra/${MACHINE_RECORD_KEY}` });
        if (node.extra?.[IRONIC_LABELS_KEY] !== undefined)
          ops.push({ op: 'remove', path: `/extra/${IRONIC_LABELS_KEY}` });
        try {
          await this.#locked(`releasing node ${node.uuid}`, () =>
            this.#ironic.patchNode(node.uuid, ops),
          );
        } catch (error) {
          if (!(error instanceof NotFound)) throw error;
        }
      }),
    );
  }

  async #deleteAllocation(id: string, signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.#locked(
        `releasing allocation ${id}`,
        () => this.#ironic.deleteAllocation(id, { signal }),
        signal,
      );
    } catch (error) {
      if (!(error instanceof NotFound)) throw error;
    }
  }

  /** One Ironic call, its failures as kumo errors. */
  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw toKumoError(error, this.name, what);
    }
  }

  /** A call on a node, retried while the conductor holds the node's lock (409 NodeLocked). */
  #locked<T>(what: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return retry(() => this.#call(what, fn), {
      attempts: this.#config.lockRetryAttempts,
      baseMs: 200,
      maxMs: 3000,
      clock: this.#clock,
      retryable: isNodeLocked,
      ...(signal === undefined ? {} : { signal }),
    });
  }

  #checkId(id: string, path: string): void {
    if (!UUID.test(id))
      throw new ValidationError(`"${id}" is not a bare-metal machine id (an instance UUID)`, {
        provider: this.name,
        issues: [{ path, message: 'must be a UUID' }],
      });
  }

  #checkZone(zone: string, path: string): void {
    if (zone !== this.#config.zone)
      throw new ValidationError(
        `unknown zone "${zone}"; bare metal here has one zone, "${this.#config.zone}"`,
        {
          provider: this.name,
          issues: [{ path, message: 'unknown zone' }],
        },
      );
  }
}
