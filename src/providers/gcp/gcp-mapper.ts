/**
 * Conversions between Compute Engine resources and kumo's neutral model: machine types
 * → sizes, instances → machines, and a machine spec → the instance body GCE takes.
 */
import {
  fromGcpLabels,
  SizeSchema,
  TAG_ID,
  type Machine,
  type MachineAddress,
  type MachineState,
  type Size,
} from '../../core/index.js';
import type { CustomType } from './gcp-custom-types.js';
import { customTypePrice } from './gcp-custom-types.js';
import type { GceInstance, GceMachineType } from './gcp-compute.js';
import { lastSegment, toProviderId } from './gcp-ids.js';
import { toArch } from './gcp-images.js';
import { familyOf, gpuPrice, predefinedPrice, SHARED_CORE } from './gcp-prices.js';

/**
 * Neutral `diskGiB` of every GCE size: boot disks are sized per machine, up to the
 * 64 TiB a persistent disk can hold, so any disk request fits any machine type.
 */
export const GCE_MAX_DISK_GIB = 65_536;

/** Families that cannot run as Spot VMs. */
const NO_SPOT = new Set(['f1', 'g1']);
/** Families of Arm machines, when the API leaves `architecture` out. */
const ARM_FAMILIES = new Set(['t2a', 'c4a']);

/** Instance status → neutral state (Libcloud's explicit map; unknown statuses are errors). */
const STATES: Readonly<Record<string, MachineState>> = {
  PROVISIONING: 'pending',
  STAGING: 'pending',
  REPAIRING: 'pending',
  RUNNING: 'running',
  STOPPING: 'stopping',
  SUSPENDING: 'stopping',
  // NOTE: TERMINATED is GCE's word for a stopped VM that keeps its disk and can start again.
  TERMINATED: 'stopped',
  SUSPENDED: 'stopped',
};

export function toState(status: string | null | undefined): MachineState {
  return STATES[String(status)] ?? 'error';
}

/** The attached-GPU part of a size name: `n1-standard-4+1xnvidia-tesla-t4`. */
export interface SizeName {
  readonly machineType: string;
  readonly accelerator?: { readonly type: string; readonly count: number };
}

export function parseSizeName(name: string): SizeName {
  const m = /^([a-z0-9-]+)\+(\d+)x([a-z0-9-]+)$/.exec(name);
  return m === null
    ? { machineType: name }
    : { machineType: m[1]!, accelerator: { type: m[3]!, count: Number(m[2]) } };
}

export function gpuSizeName(machineType: string, accelerator: string, count: number): string {
  return `${machineType}+${count}x${accelerator}`;
}

function gpusOf(mt: GceMachineType): number {
  return (mt.accelerators ?? []).reduce((n, a) => n + (a.guestAcceleratorCount ?? 0), 0);
}

/** A predefined machine type (as offered in `zones`) as a neutral size. */
export function machineTypeToSize(
  mt: GceMachineType,
  zones: readonly string[],
  provider: string,
): Size {
  const name = mt.name ?? '';
  const guestCpus = mt.guestCpus ?? 0;
  const memoryMiB = mt.memoryMb ?? 0;
  const family = familyOf(name);
  const shared = SHARED_CORE[name];
  const price = predefinedPrice(name, guestCpus, memoryMiB);
  const arch =
    toArch((mt as { architecture?: string | null }).architecture) ??
    (ARM_FAMILIES.has(family) ? 'arm64' : 'x86_64');
  return SizeSchema.parse({
    name,
    provider,
    resources: {
      cpus: shared?.cpus ?? guestCpus,
      memoryMiB,
      gpus: gpusOf(mt),
      diskGiB: GCE_MAX_DISK_GIB,
    },
    arch,
    ...(price.onDemand === undefined ? {} : { pricePerHour: price.onDemand }),
    ...(price.spot === undefined ? {} : { spotPricePerHour: price.spot }),
    zones: [...zones].sort(),
    spot: !NO_SPOT.has(family),
    extra: {
      family,
      guestCpus,
      sharedCpu: mt.isSharedCpu === true,
      ...(mt.accelerators?.length
        ? {
            accelerators: mt.accelerators.map((a) => ({
              type: a.guestAcceleratorType,
              count: a.guestAcceleratorCount,
            })),
          }
        : {}),
      ...(mt.deprecated?.state ? { deprecated: mt.deprecated.state } : {}),
      maximumPersistentDisks: mt.maximumPersistentDisks ?? undefined,
    },
  });
}

/** A custom machine type as a neutral size, offered where its family is. */
export function customTypeToSize(
  type: CustomType,
  zones: readonly string[],
  provider: string,
): Size {
  const price = customTypePrice(type);
  return SizeSchema.parse({
    name: type.name,
    provider,
    resources: { cpus: type.cpus, memoryMiB: type.memoryMiB, gpus: 0, diskGiB: GCE_MAX_DISK_GIB },
    arch: 'x86_64',
    ...(price.onDemand === undefined ? {} : { pricePerHour: price.onDemand }),
    ...(price.spot === undefined ? {} : { spotPricePerHour: price.spot }),
    zones: [...zones].sort(),
    spot: true,
    custom: true,
    extra: { family: type.family, guestCpus: type.cpus, extendedMemory: type.extended },
  });
}

/** An N1 machine type with GPUs attached (`n1-standard-4+1xnvidia-tesla-t4`) as a neutral size. */
export function gpuComboToSize(
  base: Size,
  accelerator: string,
  count: number,
  zones: readonly string[],
  provider: string,
): Size {
  const gpu = gpuPrice(accelerator, count);
  return SizeSchema.parse({
    ...base,
    name: gpuSizeName(base.name, accelerator, count),
    provider,
    resources: { ...base.resources, gpus: count },
    ...(base.pricePerHour === undefined || gpu === undefined
      ? { pricePerHour: undefined }
      : { pricePerHour: Math.round((base.pricePerHour + gpu) * 1e6) / 1e6 }),
    // NOTE: Spot GPUs are discounted too, but the bundled table has no Spot GPU rates.
    spotPricePerHour: undefined,
    zones: [...zones].sort(),
    extra: { ...base.extra, accelerators: [{ type: accelerator, count }], attached: true },
  });
}

function addresses(inst: GceInstance): MachineAddress[] {
  const out: MachineAddress[] = [];
  for (const nic of inst.networkInterfaces ?? []) {
    if (nic.networkIP) out.push({ type: 'private', address: nic.networkIP });
    for (const ac of nic.accessConfigs ?? [])
      if (ac.natIP) out.push({ type: 'public', address: ac.natIP });
  }
  return out;
}

/** The instance's metadata value for `key`. */
export function metadataValue(inst: GceInstance, key: string): string | undefined {
  return inst.metadata?.items?.find((i) => i.key === key)?.value ?? undefined;
}

/** Metadata key where kumo records the image a machine was made from (GCE does not report it). */
export const IMAGE_METADATA_KEY = 'kumo-image';
/** Metadata key where kumo records a size name with attached GPUs. */
export const SIZE_METADATA_KEY = 'kumo-size';

function bootDiskGiB(inst: GceInstance): number {
  const boot = inst.disks?.find((d) => d.boot) ?? inst.disks?.[0];
  const n = Number(boot?.diskSizeGb ?? 0);
  return Number.isFinite(n) ? n : 0;
}

/** An instance as a neutral machine; `size` is its size from the catalog, when known. */
export function instanceToMachine(
  inst: GceInstance,
  context: { provider: string; region: string; size?: Size | undefined },
): Machine {
  const zone = lastSegment(inst.zone);
  const name = inst.name ?? '';
  const labels = fromGcpLabels(inst.labels ?? {});
  const state = toState(inst.status);
  const spot =
    String(inst.scheduling?.provisioningModel) === 'SPOT' || inst.scheduling?.preemptible === true;
  const size = context.size;
  const price =
    size === undefined
      ? undefined
      : spot
        ? (size.spotPricePerHour ?? size.pricePerHour)
        : size.pricePerHour;
  const created = inst.creationTimestamp ? new Date(inst.creationTimestamp) : undefined;
  return {
    id: labels[TAG_ID] ?? name,
    providerId: toProviderId({ zone, name }),
    provider: context.provider,
    region: context.region,
    zone,
    size: metadataValue(inst, SIZE_METADATA_KEY) ?? lastSegment(inst.machineType),
    resources: {
      cpus: size?.resources.cpus ?? 0,
      memoryMiB: size?.resources.memoryMiB ?? 0,
      gpus:
        size?.resources.gpus ??
        (inst.guestAccelerators ?? []).reduce((n, a) => n + (a.acceleratorCount ?? 0), 0),
      diskGiB: bootDiskGiB(inst),
    },
    image: metadataValue(inst, IMAGE_METADATA_KEY) ?? '',
    state,
    spot,
    addresses: addresses(inst),
    labels,
    ...(price === undefined ? {} : { pricePerHour: price }),
    createdAt:
      created !== undefined && !Number.isNaN(created.getTime())
        ? created.toISOString()
        : new Date(0).toISOString(),
    ...(state === 'error'
      ? { error: inst.statusMessage ?? `unknown Compute Engine status ${String(inst.status)}` }
      : {}),
  };
}
