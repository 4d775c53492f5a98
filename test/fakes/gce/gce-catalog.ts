/**
 * What the fake Compute Engine offers: zones, machine types, accelerator types and
 * public images, shaped as the REST reference documents them (int64 fields as
 * strings, self-links on https://www.googleapis.com/compute/v1/…).
 */

export const API = 'https://www.googleapis.com/compute/v1';

export const DEFAULT_ZONES: Readonly<Record<string, readonly string[]>> = {
  'us-central1': ['us-central1-a', 'us-central1-b', 'us-central1-c', 'us-central1-f'],
  'us-east1': ['us-east1-b', 'us-east1-c', 'us-east1-d'],
  'europe-west1': ['europe-west1-b', 'europe-west1-c', 'europe-west1-d'],
};

export function regionOf(zone: string): string {
  return zone.replace(/-[a-z]$/, '');
}

let idCounter = 1_000_000_000_000_000n;
/** A fresh uint64 id, as a string (JSON carries int64 as strings). */
export function nextId(): string {
  idCounter += 7919n;
  return idCounter.toString();
}

export interface MachineTypeDef {
  readonly name: string;
  readonly guestCpus: number;
  readonly memoryMb: number;
  readonly shared?: boolean;
  readonly accelerators?: { guestAcceleratorType: string; guestAcceleratorCount: number }[];
  readonly arch?: 'X86_64' | 'ARM64';
  /** Zones (of any region) offering it; absent means every zone. */
  readonly zones?: readonly string[];
  readonly deprecated?: 'DEPRECATED' | 'OBSOLETE';
}

const shape = (
  family: string,
  kind: string,
  cpus: number[],
  mibPerCpu: number,
  extra: Partial<MachineTypeDef> = {},
): MachineTypeDef[] =>
  cpus.map((c) => ({
    name: `${family}-${kind}-${c}`,
    guestCpus: c,
    memoryMb: Math.round(c * mibPerCpu),
    ...extra,
  }));

const US_CENTRAL_ONLY = DEFAULT_ZONES['us-central1']!;

export const MACHINE_TYPES: readonly MachineTypeDef[] = [
  { name: 'e2-micro', guestCpus: 2, memoryMb: 1024, shared: true },
  { name: 'e2-small', guestCpus: 2, memoryMb: 2048, shared: true },
  { name: 'e2-medium', guestCpus: 2, memoryMb: 4096, shared: true },
  { name: 'f1-micro', guestCpus: 1, memoryMb: 614, shared: true },
  { name: 'g1-small', guestCpus: 1, memoryMb: 1740, shared: true },
  ...shape('e2', 'standard', [2, 4, 8, 16, 32], 4096),
  ...shape('e2', 'highmem', [2, 4, 8, 16], 8192),
  ...shape('e2', 'highcpu', [2, 4, 8, 16, 32], 1024),
  ...shape('n1', 'standard', [1, 2, 4, 8, 16, 32, 64, 96], 3840),
  ...shape('n1', 'highmem', [2, 4, 8, 16, 32, 64, 96], 6656),
  ...shape('n1', 'highcpu', [2, 4, 8, 16, 32, 64, 96], 921.6),
  ...shape('n2', 'standard', [2, 4, 8, 16, 32, 48, 64, 80, 96, 128], 4096),
  ...shape('n2', 'highmem', [2, 4, 8, 16, 32, 48, 64, 80, 96, 128], 8192),
  ...shape('n2', 'highcpu', [2, 4, 8, 16, 32, 48, 64, 80, 96], 1024),
  ...shape('n2d', 'standard', [2, 4, 8, 16, 32, 48, 64, 80, 96, 128, 224], 4096),
  ...shape('c2', 'standard', [4, 8, 16, 30, 60], 4096),
  ...shape('t2a', 'standard', [1, 2, 4, 8, 16, 32, 48], 4096, {
    arch: 'ARM64',
    zones: ['us-central1-a', 'us-central1-b', 'us-central1-f'],
  }),
  {
    name: 'a2-highgpu-1g',
    guestCpus: 12,
    memoryMb: 87040,
    accelerators: [{ guestAcceleratorType: 'nvidia-tesla-a100', guestAcceleratorCount: 1 }],
    zones: US_CENTRAL_ONLY,
  },
  {
    name: 'g2-standard-4',
    guestCpus: 4,
    memoryMb: 16384,
    accelerators: [{ guestAcceleratorType: 'nvidia-l4', guestAcceleratorCount: 1 }],
    zones: ['us-central1-a', 'us-central1-b', 'us-central1-c'],
  },
  {
    name: 'm1-megamem-96',
    guestCpus: 96,
    memoryMb: 1468006,
    deprecated: 'DEPRECATED',
    zones: ['us-central1-a'],
  },
  {
    name: 'n1-ultramem-40',
    guestCpus: 40,
    memoryMb: 961 * 1024,
    deprecated: 'OBSOLETE',
    zones: ['us-central1-a'],
  },
];

export function machineTypeJson(
  def: MachineTypeDef,
  project: string,
  zone: string,
): Record<string, unknown> {
  const gib = def.memoryMb / 1024;
  return {
    kind: 'compute#machineType',
    id: String(900_000 + MACHINE_TYPES.indexOf(def)),
    creationTimestamp: '1969-12-31T16:00:00.000-08:00',
    name: def.name,
    description: def.shared
      ? `${def.name} shared core`
      : `${def.guestCpus} vCPU${def.guestCpus > 1 ? 's' : ''}, ${Number.isInteger(gib) ? gib : gib.toFixed(2)} GB RAM`,
    guestCpus: def.guestCpus,
    memoryMb: def.memoryMb,
    imageSpaceGb: 0,
    maximumPersistentDisks: def.shared ? 16 : 128,
    maximumPersistentDisksSizeGb: def.shared ? '3072' : '263168',
    zone,
    selfLink: `${API}/projects/${project}/zones/${zone}/machineTypes/${def.name}`,
    isSharedCpu: def.shared === true,
    architecture: def.arch ?? 'X86_64',
    ...(def.accelerators ? { accelerators: def.accelerators } : {}),
    ...(def.deprecated
      ? {
          deprecated: {
            state: def.deprecated,
            replacement: `${API}/projects/${project}/zones/${zone}/machineTypes/m2-megamem-416`,
          },
        }
      : {}),
  };
}

export interface AcceleratorDef {
  readonly name: string;
  readonly description: string;
  readonly maximumCardsPerInstance: number;
  readonly zones: readonly string[];
}

export const ACCELERATOR_TYPES: readonly AcceleratorDef[] = [
  {
    name: 'nvidia-tesla-t4',
    description: 'NVIDIA T4',
    maximumCardsPerInstance: 4,
    zones: US_CENTRAL_ONLY,
  },
  {
    name: 'nvidia-tesla-v100',
    description: 'NVIDIA V100',
    maximumCardsPerInstance: 8,
    zones: ['us-central1-a', 'us-central1-b', 'us-central1-c', 'us-central1-f'],
  },
  {
    name: 'nvidia-tesla-p4',
    description: 'NVIDIA P4',
    maximumCardsPerInstance: 4,
    zones: ['us-central1-a', 'us-central1-c'],
  },
  {
    name: 'nvidia-l4',
    description: 'NVIDIA L4',
    maximumCardsPerInstance: 8,
    zones: ['us-central1-a', 'us-central1-b', 'us-central1-c'],
  },
  {
    name: 'nvidia-tesla-a100',
    description: 'NVIDIA A100 40GB',
    maximumCardsPerInstance: 16,
    zones: US_CENTRAL_ONLY,
  },
];

export function acceleratorTypeJson(
  def: AcceleratorDef,
  project: string,
  zone: string,
): Record<string, unknown> {
  return {
    kind: 'compute#acceleratorType',
    id: String(10_000 + ACCELERATOR_TYPES.indexOf(def)),
    creationTimestamp: '1969-12-31T16:00:00.000-08:00',
    name: def.name,
    description: def.description,
    zone: `${API}/projects/${project}/zones/${zone}`,
    selfLink: `${API}/projects/${project}/zones/${zone}/acceleratorTypes/${def.name}`,
    maximumCardsPerInstance: def.maximumCardsPerInstance,
  };
}

export interface ImageDef {
  readonly project: string;
  readonly name: string;
  readonly family: string;
  readonly arch: 'X86_64' | 'ARM64';
  readonly created: string;
  readonly diskSizeGb: number;
  readonly deprecated?: 'DEPRECATED' | 'OBSOLETE';
}

export const PUBLIC_IMAGES: readonly ImageDef[] = [
  {
    project: 'ubuntu-os-cloud',
    name: 'ubuntu-2204-jammy-v20240701',
    family: 'ubuntu-2204-lts',
    arch: 'X86_64',
    created: '2024-07-01T10:00:00.000-07:00',
    diskSizeGb: 10,
    deprecated: 'DEPRECATED',
  },
  {
    project: 'ubuntu-os-cloud',
    name: 'ubuntu-2204-jammy-v20240927',
    family: 'ubuntu-2204-lts',
    arch: 'X86_64',
    created: '2024-09-27T10:00:00.000-07:00',
    diskSizeGb: 10,
  },
  {
    project: 'ubuntu-os-cloud',
    name: 'ubuntu-2204-jammy-arm64-v20240927',
    family: 'ubuntu-2204-lts-arm64',
    arch: 'ARM64',
    created: '2024-09-27T10:00:00.000-07:00',
    diskSizeGb: 10,
  },
  {
    project: 'ubuntu-os-cloud',
    name: 'ubuntu-2004-focal-v20240927',
    family: 'ubuntu-2004-lts',
    arch: 'X86_64',
    created: '2024-09-27T10:00:00.000-07:00',
    diskSizeGb: 10,
  },
  {
    project: 'ubuntu-os-cloud',
    name: 'ubuntu-2004-focal-arm64-v20240927',
    family: 'ubuntu-2004-lts-arm64',
    arch: 'ARM64',
    created: '2024-09-27T10:00:00.000-07:00',
    diskSizeGb: 10,
  },
  {
    project: 'ubuntu-os-cloud',
    name: 'ubuntu-2404-noble-amd64-v20240927',
    family: 'ubuntu-2404-lts-amd64',
    arch: 'X86_64',
    created: '2024-09-27T10:00:00.000-07:00',
    diskSizeGb: 10,
  },
  {
    project: 'ubuntu-os-cloud',
    name: 'ubuntu-2404-noble-arm64-v20240927',
    family: 'ubuntu-2404-lts-arm64',
    arch: 'ARM64',
    created: '2024-09-27T10:00:00.000-07:00',
    diskSizeGb: 10,
  },
  {
    project: 'debian-cloud',
    name: 'debian-12-bookworm-v20240910',
    family: 'debian-12',
    arch: 'X86_64',
    created: '2024-09-10T10:00:00.000-07:00',
    diskSizeGb: 10,
  },
  {
    project: 'debian-cloud',
    name: 'debian-12-bookworm-arm64-v20240910',
    family: 'debian-12-arm64',
    arch: 'ARM64',
    created: '2024-09-10T10:00:00.000-07:00',
    diskSizeGb: 10,
  },
  {
    project: 'debian-cloud',
    name: 'debian-11-bullseye-v20240910',
    family: 'debian-11',
    arch: 'X86_64',
    created: '2024-09-10T10:00:00.000-07:00',
    diskSizeGb: 10,
  },
  {
    project: 'debian-cloud',
    name: 'debian-11-bullseye-arm64-v20240910',
    family: 'debian-11-arm64',
    arch: 'ARM64',
    created: '2024-09-10T10:00:00.000-07:00',
    diskSizeGb: 10,
  },
  {
    project: 'rocky-linux-cloud',
    name: 'rocky-linux-9-v20240910',
    family: 'rocky-linux-9',
    arch: 'X86_64',
    created: '2024-09-10T10:00:00.000-07:00',
    diskSizeGb: 20,
  },
  {
    project: 'rocky-linux-cloud',
    name: 'rocky-linux-9-arm64-v20240910',
    family: 'rocky-linux-9-arm64',
    arch: 'ARM64',
    created: '2024-09-10T10:00:00.000-07:00',
    diskSizeGb: 20,
  },
];

export function imageJson(def: ImageDef): Record<string, unknown> {
  return {
    kind: 'compute#image',
    id: String(5_000_000 + PUBLIC_IMAGES.indexOf(def)),
    creationTimestamp: def.created,
    name: def.name,
    description: `${def.family}, built ${def.created.slice(0, 10)}`,
    sourceType: 'RAW',
    status: 'READY',
    archiveSizeBytes: '2147483648',
    diskSizeGb: String(def.diskSizeGb),
    licenses: [`${API}/projects/${def.project}/global/licenses/${def.family}`],
    family: def.family,
    selfLink: `${API}/projects/${def.project}/global/images/${def.name}`,
    labelFingerprint: '42WmSpB8rSM=',
    guestOsFeatures: [
      { type: 'VIRTIO_SCSI_MULTIQUEUE' },
      { type: 'UEFI_COMPATIBLE' },
      { type: 'GVNIC' },
    ],
    storageLocations: ['us', 'eu', 'asia'],
    architecture: def.arch,
    ...(def.deprecated
      ? {
          deprecated: {
            state: def.deprecated,
            replacement: `${API}/projects/${def.project}/global/images/family/${def.family}`,
          },
        }
      : {}),
  };
}
