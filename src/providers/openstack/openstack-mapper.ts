/**
 * OpenStack objects in kumo's neutral terms: flavors → sizes, servers → machines
 * (with an explicit state map and a fallback), Glance images → images.
 */
import {
  toOpenStackMetadata,
  SizeSchema,
  TAG_ID,
  type Image,
  type Machine,
  type MachineAddress,
  type MachineState,
  type Size,
} from '../../core/index.js';
import type { NovaFlavor, NovaServer } from '../../clients/openstack/nova.js';
import type { GlanceImage } from '../../clients/openstack/glance.js';

/**
 * Nova server status → kumo state (Libcloud keeps such a map per driver). Statuses
 * not listed map to `pending`: something is happening that kumo does not model.
 */
export const SERVER_STATES: Readonly<Record<string, MachineState>> = {
  BUILD: 'pending',
  ACTIVE: 'running',
  REBOOT: 'running',
  HARD_REBOOT: 'running',
  PASSWORD: 'running',
  REBUILD: 'pending',
  MIGRATING: 'running',
  RESIZE: 'running',
  VERIFY_RESIZE: 'running',
  REVERT_RESIZE: 'running',
  RESCUE: 'running',
  PAUSED: 'stopped',
  SUSPENDED: 'stopped',
  SHUTOFF: 'stopped',
  STOPPED: 'stopped',
  SHELVED: 'stopped',
  SHELVED_OFFLOADED: 'stopped',
  ERROR: 'error',
  DELETED: 'terminated',
  SOFT_DELETED: 'terminated',
};

/** The state of a server, its task state refining the status (powering off, deleting). */
export function serverState(
  server: Pick<NovaServer, 'status' | 'OS-EXT-STS:task_state'>,
): MachineState {
  const task = server['OS-EXT-STS:task_state'] ?? undefined;
  // NOTE: a server being deleted is gone as far as kumo is concerned: it is never coming back.
  if (task === 'deleting' || task === 'soft-deleting') return 'terminated';
  const state = SERVER_STATES[server.status.toUpperCase()] ?? 'pending';
  if (state === 'running' && task === 'powering-off') return 'stopping';
  if (state === 'stopped' && task === 'powering-on') return 'pending';
  return state;
}

/**
 * Labels as Nova metadata. Nova's metadata keys allow letters, digits and `-_:. `
 * only (its JSON schema: `^[a-zA-Z0-9-_:. ]{1,255}$`); label keys may also hold `/`
 * and never `:`, so `/` travels as `:` and comes back unchanged.
 */
export function toNovaMetadata(labels: Readonly<Record<string, string>>): Record<string, string> {
  const checked = toOpenStackMetadata({ ...labels });
  return Object.fromEntries(Object.entries(checked).map(([k, v]) => [k.replace(/\//g, ':'), v]));
}

export function fromNovaMetadata(
  metadata: Readonly<Record<string, string>> | null | undefined,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(metadata ?? {}).map(([k, v]) => [k.replace(/:/g, '/'), v]),
  );
}

const GPU_ALIAS = /gpu|nvidia|tesla|radeon|instinct|^[ahlvt]\d{2,3}/i;

/** GPUs a flavor asks for: `resources:VGPU`, `resources:PGPU`, `resources:CUSTOM_*GPU*`, or GPU PCI aliases. */
export function flavorGpus(extraSpecs: Readonly<Record<string, string>> | undefined): number {
  let gpus = 0;
  for (const [key, value] of Object.entries(extraSpecs ?? {})) {
    const resource = /^resources\d*:(.+)$/.exec(key)?.[1];
    if (resource !== undefined && /^(VGPU|PGPU)$|GPU/i.test(resource)) gpus += Number(value) || 0;
    if (key === 'pci_passthrough:alias')
      for (const part of value.split(',')) {
        const [alias = '', count = '1'] = part.split(':');
        if (GPU_ALIAS.test(alias.trim())) gpus += Number(count) || 0;
      }
  }
  return gpus;
}

function flavorArch(extraSpecs: Readonly<Record<string, string>> | undefined): Size['arch'] {
  const specs = extraSpecs ?? {};
  const arch = specs['hw:cpu_arch'] ?? specs['capabilities:cpu_arch'] ?? '';
  if (/aarch64|arm64/i.test(arch) || specs['trait:HW_ARCH_AARCH64'] === 'required') return 'arm64';
  return 'x86_64';
}

/** A flavor as a size; disabled flavors are left out by the caller. */
export function flavorToSize(flavor: NovaFlavor, provider: string): Size {
  const ephemeral = flavor['OS-FLV-EXT-DATA:ephemeral'] ?? 0;
  return SizeSchema.parse({
    name: flavor.name,
    provider,
    resources: {
      cpus: flavor.vcpus,
      memoryMiB: flavor.ram,
      gpus: flavorGpus(flavor.extra_specs),
      diskGiB: flavor.disk + ephemeral,
    },
    arch: flavorArch(flavor.extra_specs),
    extra: {
      flavorId: flavor.id,
      isPublic: flavor['os-flavor-access:is_public'] ?? true,
      ...(ephemeral > 0 ? { ephemeralGiB: ephemeral } : {}),
      extraSpecs: flavor.extra_specs ?? {},
    },
  });
}

function addresses(server: NovaServer): MachineAddress[] {
  const out: MachineAddress[] = [];
  for (const list of Object.values(server.addresses ?? {}))
    for (const a of list)
      out.push({
        type: a['OS-EXT-IPS:type'] === 'floating' ? 'public' : 'private',
        address: a.addr,
      });
  return out;
}

export interface ServerContext {
  readonly provider: string;
  readonly region: string;
  /** Flavors by id, for servers listed at a microversion below 2.47 (flavor by reference). */
  readonly flavors: ReadonlyMap<string, NovaFlavor>;
}

/** A server as a machine. */
export function serverToMachine(server: NovaServer, ctx: ServerContext): Machine {
  const flavor = server.flavor;
  const known = flavor?.id === undefined ? undefined : ctx.flavors.get(flavor.id);
  const labels = fromNovaMetadata(server.metadata);
  const state = serverState(server);
  const image = typeof server.image === 'object' ? server.image.id : '';
  return {
    id: labels[TAG_ID] ?? server.name,
    providerId: server.id,
    provider: ctx.provider,
    region: ctx.region,
    zone: server['OS-EXT-AZ:availability_zone'] ?? '',
    size: flavor?.original_name ?? known?.name ?? flavor?.id ?? '',
    resources: {
      cpus: flavor?.vcpus ?? known?.vcpus ?? 0,
      memoryMiB: flavor?.ram ?? known?.ram ?? 0,
      gpus: flavorGpus(flavor?.extra_specs ?? known?.extra_specs),
      diskGiB: flavor?.disk ?? known?.disk ?? 0,
    },
    image,
    state,
    spot: false,
    addresses: addresses(server),
    labels,
    createdAt: server.created ?? new Date(0).toISOString(),
    ...(state === 'error'
      ? { error: server.fault?.message ?? 'server is in ERROR (no fault recorded)' }
      : {}),
  };
}

/** A Glance image as a kumo image. */
export function glanceToImage(image: GlanceImage, provider: string, alias?: string): Image {
  const arch = image.architecture;
  return {
    id: image.id,
    name: image.name ?? image.id,
    provider,
    ...(alias === undefined ? {} : { alias }),
    ...(image.os_distro === undefined ? {} : { os: image.os_distro }),
    ...(image.os_version === undefined ? {} : { version: image.os_version }),
    ...(arch === undefined
      ? {}
      : { arch: /aarch64|arm64/i.test(arch) ? ('arm64' as const) : ('x86_64' as const) }),
    ...(image.created_at === undefined ? {} : { createdAt: image.created_at }),
    extra: {
      status: image.status,
      ...(image.visibility === undefined ? {} : { visibility: image.visibility }),
      ...(image.min_ram ? { minRamMiB: image.min_ram } : {}),
      ...(image.min_disk ? { minDiskGiB: image.min_disk } : {}),
    },
  };
}
