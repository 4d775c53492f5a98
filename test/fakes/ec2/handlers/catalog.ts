/** What the region offers: instance types, where they are offered, spot prices, images, zones. */
import { OWNER_AMAZON, FAKE_ACCOUNT, type FakeImage, type FakeInstanceType } from '../catalog.js';
import { Ec2Error } from '../errors.js';
import { filters, list, matches, paginate } from '../query.js';
import { el, items, node } from '../xml.js';
import type { Handler } from './context.js';

function typeXml(t: FakeInstanceType): string {
  return [
    el('instanceType', t.name),
    el('currentGeneration', t.currentGeneration),
    el('freeTierEligible', t.name === 't3.micro'),
    items('supportedUsageClasses', t.spot ? ['on-demand', 'spot'] : ['on-demand'], (u) => u),
    items('supportedRootDeviceTypes', ['ebs'], (u) => u),
    items('supportedVirtualizationTypes', ['hvm'], (u) => u),
    el('bareMetal', false),
    el('hypervisor', 'nitro'),
    node(
      'processorInfo',
      items('supportedArchitectures', [t.arch], (a) => a),
      el('sustainedClockSpeedInGhz', 3.1),
    ),
    node(
      'vCpuInfo',
      el('defaultVCpus', t.vcpus),
      el('defaultCores', Math.max(1, t.vcpus / 2)),
      el('defaultThreadsPerCore', t.vcpus > 1 ? 2 : 1),
    ),
    node('memoryInfo', el('sizeInMiB', t.memoryMiB)),
    el('instanceStorageSupported', t.storageGB !== undefined),
    t.storageGB === undefined
      ? ''
      : node(
          'instanceStorageInfo',
          el('totalSizeInGB', t.storageGB),
          items(
            'disks',
            [t.storageGB],
            (g) => el('sizeInGB', g) + el('count', 1) + el('type', 'ssd'),
          ),
          el('nvmeSupport', 'required'),
        ),
    node(
      'ebsInfo',
      el('ebsOptimizedSupport', 'default'),
      el('encryptionSupport', 'supported'),
      el('nvmeSupport', 'required'),
    ),
    node(
      'networkInfo',
      el('networkPerformance', 'Up to 5 Gigabit'),
      el('maximumNetworkInterfaces', 3),
      el('ipv4AddressesPerInterface', 10),
    ),
    t.gpus === undefined
      ? ''
      : node(
          'gpuInfo',
          items(
            'gpus',
            [t.gpus],
            (g) =>
              el('name', g.name) +
              el('manufacturer', g.manufacturer) +
              el('count', g.count) +
              node('memoryInfo', el('sizeInMiB', g.memoryMiB)),
          ),
          el('totalGpuMemoryInMiB', t.gpus.count * t.gpus.memoryMiB),
        ),
    el('burstablePerformanceSupported', t.burstable === true),
    el('supportedInRegion', true),
  ].join('');
}

export const describeInstanceTypes: Handler = (ctx, params) => {
  const names = list(params, 'InstanceType');
  for (const n of names)
    if (!ctx.types.some((t) => t.name === n))
      throw new Ec2Error(
        'InvalidInstanceType',
        `The following supplied instance types do not exist: [${n}]`,
      );
  const fs = filters(params);
  const selected = ctx.types.filter(
    (t) =>
      (names.length === 0 || names.includes(t.name)) &&
      matches(fs, (f) => {
        switch (f) {
          case 'instance-type':
            return [t.name];
          case 'current-generation':
            return [String(t.currentGeneration)];
          case 'processor-info.supported-architecture':
            return [t.arch];
          case 'supported-usage-class':
            return t.spot ? ['on-demand', 'spot'] : ['on-demand'];
          default:
            return undefined;
        }
      }),
  );
  const { page, nextToken } = paginate(params, selected, { min: 5, max: 100, default: 100 });
  return items('instanceTypeSet', page, typeXml) + el('nextToken', nextToken);
};

export const describeInstanceTypeOfferings: Handler = (ctx, params) => {
  const locationType = params.get('LocationType') ?? 'region';
  if (!['region', 'availability-zone', 'availability-zone-id'].includes(locationType))
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${locationType}) for parameter locationType is invalid.`,
    );
  const rows: { type: string; location: string }[] = [];
  for (const t of ctx.types) {
    if (locationType === 'region') rows.push({ type: t.name, location: ctx.region });
    else
      for (const [i, z] of ctx.zones.entries())
        if (t.zones === undefined || t.zones.includes(z))
          rows.push({
            type: t.name,
            location: locationType === 'availability-zone' ? z : `use1-az${i + 1}`,
          });
  }
  const fs = filters(params);
  const selected = rows.filter((r) =>
    matches(fs, (f) =>
      f === 'instance-type' ? [r.type] : f === 'location' ? [r.location] : undefined,
    ),
  );
  const { page, nextToken } = paginate(params, selected, { min: 5, max: 1000, default: 1000 });
  return (
    items(
      'instanceTypeOfferingSet',
      page,
      (r) =>
        el('instanceType', r.type) + el('locationType', locationType) + el('location', r.location),
    ) + el('nextToken', nextToken)
  );
};

export const describeSpotPriceHistory: Handler = (ctx, params) => {
  const types = list(params, 'InstanceType');
  const products = list(params, 'ProductDescription');
  const zone = params.get('AvailabilityZone');
  const now = new Date(ctx.state.clock.now()).toISOString();
  const rows: { type: string; zone: string; price: number }[] = [];
  for (const t of ctx.types) {
    const base = ctx.spotPrices[t.name];
    if (!t.spot || base === undefined || (types.length > 0 && !types.includes(t.name))) continue;
    for (const [i, z] of ctx.zones.entries()) {
      if ((t.zones !== undefined && !t.zones.includes(z)) || (zone !== undefined && z !== zone))
        continue;
      rows.push({ type: t.name, zone: z, price: Math.round(base * (1 + 0.04 * i) * 1e6) / 1e6 });
    }
  }
  const wanted =
    products.length === 0 ||
    products.some((p) => p === 'Linux/UNIX' || p === 'Linux/UNIX (Amazon VPC)');
  const { page, nextToken } = paginate(params, wanted ? rows : [], {
    min: 1,
    max: 1000,
    default: 1000,
  });
  return (
    items(
      'spotPriceHistorySet',
      page,
      (r) =>
        el('instanceType', r.type) +
        el('productDescription', 'Linux/UNIX') +
        el('spotPrice', r.price.toFixed(6)) +
        el('timestamp', now) +
        el('availabilityZone', r.zone),
    ) + el('nextToken', nextToken ?? '')
  );
};

function imageXml(i: FakeImage): string {
  return [
    el('imageId', i.id),
    el('imageLocation', `${i.owner}/${i.name}`),
    el('imageState', i.state ?? 'available'),
    el('imageOwnerId', i.owner),
    el('creationDate', i.creationDate),
    el('isPublic', i.owner !== FAKE_ACCOUNT),
    el('architecture', i.arch),
    el('imageType', 'machine'),
    i.owner === OWNER_AMAZON ? el('imageOwnerAlias', 'amazon') : '',
    el('name', i.name),
    el('description', i.description),
    el('rootDeviceType', 'ebs'),
    el('rootDeviceName', '/dev/sda1'),
    items(
      'blockDeviceMapping',
      [i],
      () =>
        el('deviceName', '/dev/sda1') +
        node(
          'ebs',
          el('snapshotId', `snap-${i.id.slice(4)}`),
          el('volumeSize', 8),
          el('deleteOnTermination', true),
          el('volumeType', 'gp3'),
        ),
    ),
    el('virtualizationType', 'hvm'),
    el('hypervisor', 'xen'),
    el('enaSupport', true),
    el('platformDetails', 'Linux/UNIX'),
    el('bootMode', 'uefi-preferred'),
  ].join('');
}

export const describeImages: Handler = (ctx, params) => {
  const ids = list(params, 'ImageId');
  const owners = list(params, 'Owner');
  for (const id of ids) {
    if (!/^ami-[0-9a-f]{8}([0-9a-f]{9})?$/.test(id))
      throw new Ec2Error('InvalidAMIID.Malformed', `Invalid id: "${id}" (expecting "ami-...")`);
    if (!ctx.state.images.has(id))
      throw new Ec2Error('InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);
  }
  const ownerMatches = (i: FakeImage): boolean =>
    owners.length === 0 ||
    owners.some(
      (o) =>
        o === i.owner ||
        (o === 'self' && i.owner === FAKE_ACCOUNT) ||
        (o === 'amazon' && i.owner === OWNER_AMAZON),
    );
  const fs = filters(params);
  const selected = [...ctx.state.images.values()].filter(
    (i) =>
      (ids.length === 0 || ids.includes(i.id)) &&
      ownerMatches(i) &&
      matches(fs, (f) => {
        switch (f) {
          case 'name':
            return [i.name];
          case 'architecture':
            return [i.arch];
          case 'state':
            return [i.state ?? 'available'];
          case 'owner-id':
            return [i.owner];
          case 'image-id':
            return [i.id];
          case 'image-type':
            return ['machine'];
          case 'is-public':
            return [String(i.owner !== FAKE_ACCOUNT)];
          case 'root-device-type':
            return ['ebs'];
          case 'virtualization-type':
            return ['hvm'];
          default:
            return undefined;
        }
      }),
  );
  const { page, nextToken } = paginate(params, selected, { min: 5, max: 1000 });
  return items('imagesSet', page, imageXml) + el('nextToken', nextToken);
};

export const describeAvailabilityZones: Handler = (ctx) =>
  items(
    'availabilityZoneInfo',
    [...ctx.zones],
    (z) =>
      el('zoneName', z) +
      el('zoneState', 'available') +
      el('regionName', ctx.region) +
      el('zoneId', `use1-az${ctx.zones.indexOf(z) + 1}`) +
      el('zoneType', 'availability-zone') +
      el('optInStatus', 'opt-in-not-required'),
  );
