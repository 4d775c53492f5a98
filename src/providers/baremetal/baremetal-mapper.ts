/**
 * Ironic nodes in kumo's terms: a node's properties are its resources, its resource
 * class is its size, its provision and power states are the machine's state, and
 * kumo's ownership record lives in the node's `extra`.
 */
import { z } from 'zod';
import {
  fromIronicExtra,
  SizeSchema,
  TAG_ID,
  type Arch,
  type Machine,
  type MachineAddress,
  type MachineState,
  type Resources,
  type Size,
} from '../../core/index.js';
import {
  POWER_OFF,
  POWER_ON,
  PROVISION_STATES as PS,
  type IronicNode,
} from '../../clients/openstack/ironic-types.js';

/** The key in a node's `extra` where kumo records the machine it deployed there. */
export const MACHINE_RECORD_KEY = 'kumo_machine';
/** The key in a node's `extra` holding the address(es) operators give at enrolment. */
export const ADDRESS_KEY = 'kumo_address';

/** What kumo writes into `extra.kumo_machine` when it claims a node (labels go to `extra.kumo_labels`). */
export const MachineRecordSchema = z.looseObject({
  /** The instance UUID (the machine's `providerId`): the allocation's UUID, or one kumo chose. */
  instance: z.string().min(1),
  /** The image as asked for (an alias or an id). */
  image: z.string(),
  /** The size as asked for or chosen (`bm-small`, `bm-gpu+CUSTOM_A100`). */
  size: z.string(),
  createdAt: z.string(),
});
export type MachineRecord = z.infer<typeof MachineRecordSchema>;

/** Node fields kumo reads in lists. NOTE: never `allocation_uuid`: Ironic 21 answers 500 when a list asks for it. */
export const NODE_FIELDS = [
  'uuid',
  'name',
  'provision_state',
  'target_provision_state',
  'power_state',
  'target_power_state',
  'maintenance',
  'maintenance_reason',
  'instance_uuid',
  'last_error',
  'resource_class',
  'properties',
  'extra',
  'instance_info',
  'traits',
  'provision_updated_at',
] as const;

/** Provision states in which a node belongs to the pool kumo draws from. */
const IN_SERVICE = new Set<string>([
  PS.available,
  PS.deploying,
  PS.waitCallBack,
  PS.deployFailed,
  PS.active,
  PS.deleting,
  PS.cleaning,
  PS.cleanWait,
  'rescue',
  'rescuing',
  'rescue wait',
  'rescue failed',
  'unrescuing',
]);

function num(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : 0;
}

/** A node's resources from its properties (`cpus`, `memory_mb`, `local_gb`; `gpus` where the operator set it). */
export function nodeResources(node: IronicNode): Resources {
  const p = node.properties ?? {};
  return {
    cpus: num(p.cpus),
    memoryMiB: Math.floor(num(p.memory_mb)),
    gpus: Math.floor(num(p.gpus)),
    diskGiB: Math.floor(num(p.local_gb)),
  };
}

/** `cpu_arch` in kumo's names; undefined when unset or unknown. */
export function nodeArch(node: IronicNode): Arch | undefined {
  const arch = node.properties?.cpu_arch;
  if (arch === 'x86_64' || arch === 'amd64') return 'x86_64';
  if (arch === 'aarch64' || arch === 'arm64') return 'arm64';
  return undefined;
}

export function resourceClassOf(node: IronicNode, fallback: string): string {
  return node.resource_class ?? fallback;
}

/** True when the node can be claimed now: available, not in maintenance, not claimed, with a known power state (allocations skip nodes without one). */
export function isFree(node: IronicNode): boolean {
  return (
    node.provision_state === PS.available &&
    node.maintenance !== true &&
    (node.instance_uuid ?? null) === null &&
    (node.power_state ?? null) !== null
  );
}

export function hasTraits(node: IronicNode, traits: readonly string[]): boolean {
  if (traits.length === 0) return true;
  const have = new Set(node.traits ?? []);
  return traits.every((t) => have.has(t));
}

/** kumo's record on a node, if kumo ever deployed there. */
export function machineRecord(node: IronicNode): MachineRecord | undefined {
  const parsed = MachineRecordSchema.safeParse(node.extra?.[MACHINE_RECORD_KEY]);
  return parsed.success ? parsed.data : undefined;
}

/**
 * The node's state as a machine's. A record whose instance the node no longer
 * carries means the machine was undeployed: `terminated`, whatever the node does now.
 */
export function machineState(node: IronicNode, instance: string): MachineState {
  if ((node.instance_uuid ?? null) !== instance) return 'terminated';
  switch (node.provision_state) {
    case PS.available:
    case PS.deploying:
    case PS.waitCallBack:
      return 'pending';
    case PS.active:
    case 'rescue':
    case 'rescuing':
    case 'rescue wait':
    case 'unrescuing':
      if (node.target_power_state === POWER_OFF) return 'stopping';
      if (node.target_power_state === POWER_ON) return 'pending';
      return node.power_state === POWER_OFF ? 'stopped' : 'running';
    case PS.deployFailed:
    case PS.error:
    case 'rescue failed':
      return 'error';
    case PS.deleting:
    case PS.cleaning:
    case PS.cleanWait:
      return 'terminated';
    default:
      return 'pending';
  }
}

function addresses(node: IronicNode): MachineAddress[] {
  const raw = node.extra?.[ADDRESS_KEY];
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return list
    .filter((a): a is string => typeof a === 'string' && a !== '')
    .map((address) => ({ type: 'private' as const, address }));
}

export interface MapContext {
  readonly provider: string;
  readonly region: string;
  readonly zone: string;
  readonly defaultResourceClass: string;
}

/**
 * The machine kumo deployed on `node`, or undefined when kumo never did. `instance`
 * picks which machine when the caller asks by id (the node may carry a newer one).
 */
export function toMachine(
  node: IronicNode,
  context: MapContext,
  instance?: string,
): Machine | undefined {
  const record = machineRecord(node);
  const id = instance ?? record?.instance ?? node.instance_uuid ?? undefined;
  if (id === undefined) return undefined;
  const mine = record !== undefined && record.instance === id;
  const labels = mine ? fromIronicExtra(node.extra) : {};
  const state = machineState(node, id);
  const error =
    state === 'error'
      ? (node.last_error ?? `node ${node.uuid} is in "${node.provision_state}"`)
      : undefined;
  return {
    id: labels[TAG_ID] ?? node.name ?? node.uuid,
    providerId: id,
    provider: context.provider,
    region: context.region,
    zone: context.zone,
    size: mine ? record.size : resourceClassOf(node, context.defaultResourceClass),
    resources: nodeResources(node),
    image: mine
      ? record.image
      : typeof node.instance_info?.image_source === 'string'
        ? node.instance_info.image_source
        : '',
    state,
    spot: false,
    addresses: addresses(node),
    labels,
    createdAt:
      (mine ? record.createdAt : undefined) ??
      node.provision_updated_at ??
      new Date(0).toISOString(),
    ...(error === undefined ? {} : { error }),
  };
}

/**
 * Why kumo does not offer `node` as part of a size — not in service, or without the
 * provider's required traits — or `undefined` when it does.
 */
function whyNotOffered(node: IronicNode, requiredTraits: readonly string[]): string | undefined {
  if (!IN_SERVICE.has(node.provision_state ?? ''))
    return `is ${node.provision_state ?? 'in no provision state'}`;
  if (!hasTraits(node, requiredTraits)) return 'lacks the required traits';
  return undefined;
}

/**
 * Why the nodes of resource class `rc` are not sizes kumo offers, one phrase a node;
 * empty when none are.
 */
export function unofferedNodes(
  nodes: readonly IronicNode[],
  rc: string,
  context: { defaultResourceClass: string; requiredTraits: readonly string[] },
): string[] {
  return nodes
    .filter((n) => resourceClassOf(n, context.defaultResourceClass) === rc)
    .flatMap((n) => {
      const why = whyNotOffered(n, context.requiredTraits);
      return why === undefined ? [] : [`${n.name ?? n.uuid} ${why}`];
    });
}

/**
 * Sizes from nodes: one per resource class, whose resources are what every node of
 * the class has at least (so anything that fits the size fits any node), with
 * `available` = nodes free now.
 */
export function toSizes(
  nodes: readonly IronicNode[],
  context: MapContext & { requiredTraits: readonly string[] },
): Size[] {
  const classes = new Map<string, IronicNode[]>();
  for (const node of nodes) {
    if (whyNotOffered(node, context.requiredTraits) !== undefined) continue;
    const rc = resourceClassOf(node, context.defaultResourceClass);
    classes.set(rc, [...(classes.get(rc) ?? []), node]);
  }
  const sizes: Size[] = [];
  for (const [name, members] of [...classes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const all = members.map(nodeResources);
    const min = (k: keyof Resources): number => Math.min(...all.map((r) => r[k]));
    const archs = new Map<Arch, number>();
    for (const n of members) {
      const a = nodeArch(n);
      if (a !== undefined) archs.set(a, (archs.get(a) ?? 0) + 1);
    }
    const arch = [...archs].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'x86_64';
    const traits = [...new Set(members.flatMap((n) => n.traits ?? []))].sort();
    const free = members.filter(isFree);
    sizes.push(
      SizeSchema.parse({
        name,
        provider: context.provider,
        resources: {
          cpus: min('cpus'),
          memoryMiB: min('memoryMiB'),
          gpus: min('gpus'),
          diskGiB: min('diskGiB'),
        },
        arch,
        zones: [context.zone],
        available: free.length,
        extra: { resourceClass: name, nodes: members.length, traits },
      }),
    );
  }
  return sizes;
}

/**
 * A size name as a request: the resource class, then any traits the node must have,
 * joined by `+` — `bm-gpu+CUSTOM_A100+CUSTOM_NVME` (what a Nova flavor says with
 * `resources:CUSTOM_BM_GPU=1` and `trait:CUSTOM_A100=required`).
 */
export function parseSizeName(size: string): { resourceClass: string; traits: string[] } {
  const [resourceClass = '', ...traits] = size.split('+');
  return { resourceClass, traits };
}
