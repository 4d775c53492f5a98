/**
 * Pure translations between EC2's shapes and kumo's neutral model: instance → Machine,
 * instance type → Size, image → Image, firewall rule ↔ IpPermission. No I/O here.
 */
import type {
  Image as Ec2Image,
  Instance,
  InstanceTypeInfo,
  IpPermission,
} from '@aws-sdk/client-ec2';
import {
  fromAwsTags,
  machineName,
  TAG_ID,
  type FirewallRule,
  type Image,
  type Machine,
  type MachineState,
  type Resources,
  type Size,
} from '../../core/index.js';

/** Tag on each launch naming the request's name prefix and the first slot of its chunk: `web-1a2b3c4d/100`. */
export const TAG_LAUNCH = 'kumo-launch';
/** The tag every console shows as the instance's name. */
export const TAG_NAME = 'Name';
/** Tag recording the root volume size kumo asked for on an EBS-only size, in GiB. */
export const TAG_DISK = 'kumo-disk-gib';
/** Tag naming the kumo network a VPC, subnet, route table or security group belongs to. */
export const TAG_NETWORK = 'kumo-network';
/** Tag naming the subnet of a kumo network. */
export const TAG_SUBNET = 'kumo-subnet';

/** EBS-only sizes take a root volume of any size up to a gp3 volume's maximum (16 TiB). */
export const EBS_MAX_GIB = 16_384;

const STATES: Readonly<Record<string, MachineState>> = {
  pending: 'pending',
  running: 'running',
  stopping: 'stopping',
  stopped: 'stopped',
  // NOTE: shutting-down only ever ends in terminated, and kumo lists it as such so a
  // deleted machine leaves the default listing at once.
  'shutting-down': 'terminated',
  terminated: 'terminated',
};

export function toMachineState(name: string | undefined): MachineState {
  return (name !== undefined ? STATES[name] : undefined) ?? 'error';
}

/** EC2 instance-state names that kumo's states stand for (for the `instance-state-name` filter). */
export function toInstanceStateNames(states: readonly MachineState[]): string[] {
  const out = new Set<string>();
  for (const [ec2, kumo] of Object.entries(STATES)) if (states.includes(kumo)) out.add(ec2);
  return [...out];
}

/**
 * kumo's name of an instance: its `kumo-id` tag, or — before that tag is written — the
 * name its launch tag and launch index imply, or else the instance id.
 */
export function machineIdOf(
  instance: Pick<Instance, 'InstanceId' | 'Tags' | 'AmiLaunchIndex'>,
): string {
  const tags = fromAwsTags(instance.Tags);
  const id = tags[TAG_ID];
  if (id !== undefined && id !== '') return id;
  const launch = parseLaunchTag(tags[TAG_LAUNCH]);
  if (launch !== undefined && instance.AmiLaunchIndex !== undefined)
    return machineName(launch.prefix, launch.first + instance.AmiLaunchIndex);
  return instance.InstanceId ?? 'unknown';
}

export function launchTag(prefix: string, first: number): string {
  return `${prefix}/${first}`;
}

export function parseLaunchTag(
  value: string | undefined,
): { prefix: string; first: number } | undefined {
  const m = value === undefined ? null : /^(.+)\/(\d+)$/.exec(value);
  return m === null ? undefined : { prefix: m[1]!, first: Number(m[2]) };
}

/** Labels as the user sees them: every tag but the console name and kumo's launch bookkeeping. */
export function labelsOf(tags: Instance['Tags']): Record<string, string> {
  const out = fromAwsTags(tags);
  delete out[TAG_NAME];
  delete out[TAG_LAUNCH];
  delete out[TAG_DISK];
  return out;
}

export interface MachineContext {
  readonly provider: string;
  readonly region: string;
  /** The size the instance type stands for, when the catalog knows it. */
  readonly size?: Size | undefined;
}

const ZERO: Resources = { cpus: 0, memoryMiB: 0, gpus: 0, diskGiB: 0 };

export function toMachine(instance: Instance, ctx: MachineContext): Machine {
  const state = toMachineState(instance.State?.Name);
  const spot = instance.InstanceLifecycle === 'spot';
  const addresses: Machine['addresses'][number][] = [];
  if (instance.PrivateIpAddress)
    addresses.push({ type: 'private', address: instance.PrivateIpAddress });
  if (instance.PublicIpAddress)
    addresses.push({ type: 'public', address: instance.PublicIpAddress });
  // An EBS-only size has the disk kumo gave it at launch, recorded in a tag.
  const rootGiB = Number(fromAwsTags(instance.Tags)[TAG_DISK] ?? 0);
  const resources =
    ctx.size === undefined
      ? ZERO
      : {
          ...ctx.size.resources,
          ...(ctx.size.extra.storage === 'ebs'
            ? { diskGiB: Number.isFinite(rootGiB) ? rootGiB : 0 }
            : {}),
        };
  const price =
    ctx.size === undefined
      ? undefined
      : spot
        ? (ctx.size.spotPricePerHour ?? ctx.size.pricePerHour)
        : ctx.size.pricePerHour;
  const reason = instance.StateReason?.Message;
  return {
    id: machineIdOf(instance),
    providerId: instance.InstanceId ?? '',
    provider: ctx.provider,
    region: ctx.region,
    zone: instance.Placement?.AvailabilityZone ?? '',
    size: instance.InstanceType ?? '',
    resources,
    image: instance.ImageId ?? '',
    state,
    spot,
    addresses,
    labels: labelsOf(instance.Tags),
    ...(price === undefined ? {} : { pricePerHour: price }),
    createdAt: (instance.LaunchTime ?? new Date(0)).toISOString(),
    ...((state === 'terminated' || state === 'error') && reason !== undefined && reason !== ''
      ? { error: reason }
      : {}),
  };
}

/** One instance type as a neutral size; `zones` from DescribeInstanceTypeOfferings. */
export function toSize(
  info: InstanceTypeInfo,
  ctx: { provider: string; zones: readonly string[]; pricePerHour: number | undefined },
): Size | undefined {
  const name = info.InstanceType;
  const cpus = info.VCpuInfo?.DefaultVCpus;
  const memoryMiB = info.MemoryInfo?.SizeInMiB;
  const archs = info.ProcessorInfo?.SupportedArchitectures ?? [];
  const arch = archs.includes('arm64') ? 'arm64' : archs.includes('x86_64') ? 'x86_64' : undefined;
  // Mac types (x86_64_mac, arm64_mac) need dedicated hosts; kumo does not offer them.
  if (name === undefined || cpus === undefined || memoryMiB === undefined || arch === undefined)
    return undefined;
  const gpus = (info.GpuInfo?.Gpus ?? []).reduce((n, g) => n + (g.Count ?? 0), 0);
  const localGiB = info.InstanceStorageInfo?.TotalSizeInGB;
  const spot = (info.SupportedUsageClasses ?? []).includes('spot');
  return {
    name,
    provider: ctx.provider,
    resources: { cpus, memoryMiB, gpus, diskGiB: localGiB ?? EBS_MAX_GIB },
    arch,
    ...(ctx.pricePerHour === undefined ? {} : { pricePerHour: ctx.pricePerHour }),
    zones: [...ctx.zones].sort(),
    spot,
    custom: false,
    extra: {
      storage: localGiB === undefined ? 'ebs' : 'instance-store',
      currentGeneration: info.CurrentGeneration ?? false,
      burstable: info.BurstablePerformanceSupported ?? false,
      ...(gpus > 0 ? { gpuModel: info.GpuInfo?.Gpus?.[0]?.Name } : {}),
    },
  };
}

export function toImage(
  image: Ec2Image,
  ctx: { provider: string; alias?: { alias: string; os: string; version: string } },
): Image {
  const arch =
    image.Architecture === 'arm64'
      ? 'arm64'
      : image.Architecture === 'x86_64'
        ? 'x86_64'
        : undefined;
  return {
    id: image.ImageId ?? '',
    name: image.Name ?? image.ImageId ?? '',
    provider: ctx.provider,
    ...(ctx.alias === undefined
      ? {}
      : { alias: ctx.alias.alias, os: ctx.alias.os, version: ctx.alias.version }),
    ...(arch === undefined ? {} : { arch }),
    ...(image.CreationDate === undefined ? {} : { createdAt: image.CreationDate }),
    extra: {
      ownerId: image.OwnerId,
      rootDeviceName: image.RootDeviceName,
      ...(image.Description === undefined ? {} : { description: image.Description }),
    },
  };
}

/** One EC2 rule per (protocol, port range, CIDR): the unit kumo compares and changes. */
export interface Permission {
  readonly protocol: string;
  readonly from: number | undefined;
  readonly to: number | undefined;
  readonly cidr: string;
  readonly description?: string | undefined;
}

export function permissionKey(p: Permission): string {
  return `${p.protocol}|${p.from ?? ''}|${p.to ?? ''}|${p.cidr}`;
}

/** The EC2 permissions a neutral rule stands for. */
export function toPermissions(rule: FirewallRule): Permission[] {
  const protocol = rule.protocol === 'all' ? '-1' : rule.protocol;
  let from: number | undefined;
  let to: number | undefined;
  if (protocol === 'tcp' || protocol === 'udp') {
    from = rule.ports?.from ?? 0;
    to = rule.ports?.to ?? 65535;
  } else if (protocol === 'icmp') {
    // Every ICMP type and code.
    from = -1;
    to = -1;
  }
  return rule.cidrs.map((cidr) => ({ protocol, from, to, cidr, description: rule.description }));
}

/** Flattens what DescribeSecurityGroups reports into one permission per CIDR. */
export function fromIpPermissions(perms: readonly IpPermission[] | undefined): Permission[] {
  const out: Permission[] = [];
  for (const p of perms ?? []) {
    const protocol = p.IpProtocol ?? '-1';
    const ported = protocol !== '-1';
    for (const r of p.IpRanges ?? [])
      if (r.CidrIp !== undefined)
        out.push({
          protocol,
          from: ported ? p.FromPort : undefined,
          to: ported ? p.ToPort : undefined,
          cidr: r.CidrIp,
          description: r.Description,
        });
  }
  return out;
}

export function toIpPermissions(perms: readonly Permission[]): IpPermission[] {
  return perms.map((p) => ({
    IpProtocol: p.protocol,
    ...(p.from === undefined ? {} : { FromPort: p.from }),
    ...(p.to === undefined ? {} : { ToPort: p.to }),
    IpRanges: [
      { CidrIp: p.cidr, ...(p.description === undefined ? {} : { Description: p.description }) },
    ],
  }));
}
