/** RunInstances and the instance life cycle: describe, terminate, start, stop, tags, key pairs. */
import { createHash } from 'node:crypto';
import { FAKE_ACCOUNT } from '../catalog.js';
import { Ec2Error, notFoundMessage } from '../errors.js';
import {
  bool,
  filters,
  int,
  list,
  matches,
  paginate,
  required,
  struct,
  structList,
  tagFilterValues,
  tagSpecs,
  type Params,
} from '../query.js';
import {
  cidrBounds,
  numberToIp,
  STATE_CODES,
  type FakeInstance,
  type FakeSubnet,
} from '../state.js';
import { el, items, node, tagSet } from '../xml.js';
import type { Handler, HandlerContext } from './context.js';

const INSTANCE_ID = /^i-[0-9a-f]{8}([0-9a-f]{9})?$/;
const MAX_USER_DATA_BYTES = 16 * 1024;

export function instanceXml(ctx: HandlerContext, i: FakeInstance): string {
  const type = ctx.types.find((t) => t.name === i.type);
  return [
    el('instanceId', i.id),
    el('imageId', i.imageId),
    node('instanceState', el('code', STATE_CODES[i.state]), el('name', i.state)),
    el('privateDnsName', `ip-${i.privateIp.replace(/\./g, '-')}.ec2.internal`),
    el(
      'dnsName',
      i.publicIp === undefined
        ? ''
        : `ec2-${i.publicIp.replace(/\./g, '-')}.compute-1.amazonaws.com`,
    ),
    el('reason', i.stateReason === undefined ? '' : i.stateReason.message),
    el('keyName', i.keyName),
    el('amiLaunchIndex', i.amiLaunchIndex),
    '<productCodes/>',
    el('instanceType', i.type),
    el('launchTime', new Date(i.launchTime).toISOString()),
    node(
      'placement',
      el('availabilityZone', i.zone),
      el('groupName', ''),
      el('tenancy', 'default'),
    ),
    node('monitoring', el('state', 'disabled')),
    el('subnetId', i.subnetId),
    el('vpcId', i.vpcId),
    el('privateIpAddress', i.privateIp),
    el('ipAddress', i.publicIp),
    el('sourceDestCheck', true),
    items(
      'groupSet',
      i.groups,
      (g) => el('groupId', g) + el('groupName', ctx.state.securityGroups.get(g)?.name ?? ''),
    ),
    i.stateReason === undefined
      ? ''
      : node('stateReason', el('code', i.stateReason.code), el('message', i.stateReason.message)),
    el('architecture', i.arch),
    el('rootDeviceType', 'ebs'),
    el('rootDeviceName', '/dev/sda1'),
    items(
      'blockDeviceMapping',
      [i],
      () =>
        el('deviceName', '/dev/sda1') +
        node(
          'ebs',
          el('volumeId', `vol-${i.id.slice(2)}`),
          el('status', 'attached'),
          el('attachTime', new Date(i.launchTime).toISOString()),
          el('deleteOnTermination', true),
        ),
    ),
    i.spot
      ? el('instanceLifecycle', 'spot') + el('spotInstanceRequestId', `sir-${i.id.slice(2, 10)}`)
      : '',
    el('virtualizationType', 'hvm'),
    el('clientToken', i.clientToken ?? ''),
    i.tags.size > 0 ? tagSet(i.tags) : '',
    el('hypervisor', 'xen'),
    el('ebsOptimized', false),
    el('enaSupport', true),
    type === undefined
      ? ''
      : node(
          'cpuOptions',
          el('coreCount', Math.max(1, type.vcpus / 2)),
          el('threadsPerCore', type.vcpus > 1 ? 2 : 1),
        ),
  ].join('');
}

function reservationXml(
  ctx: HandlerContext,
  reservationId: string,
  instances: readonly FakeInstance[],
): string {
  const groups = ctx.state.reservations.get(reservationId)?.groups ?? [];
  return (
    el('reservationId', reservationId) +
    el('ownerId', FAKE_ACCOUNT) +
    items(
      'groupSet',
      groups,
      (g) => el('groupId', g) + el('groupName', ctx.state.securityGroups.get(g)?.name ?? ''),
    ) +
    items('instancesSet', instances, (i) => instanceXml(ctx, i))
  );
}

function canonical(params: Params): string {
  const entries = [...params]
    .filter(([k]) => k !== 'ClientToken' && k !== 'Action' && k !== 'Version')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex');
}

function chooseSubnet(
  ctx: HandlerContext,
  params: Params,
  explicitZone: string | undefined,
): FakeSubnet {
  const subnetId = params.get('SubnetId') ?? params.get('NetworkInterface.1.SubnetId');
  if (subnetId !== undefined) {
    const subnet = ctx.state.subnets.get(subnetId);
    if (subnet === undefined)
      throw new Ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);
    if (explicitZone !== undefined && explicitZone !== subnet.zone)
      throw new Ec2Error(
        'InvalidParameterCombination',
        `The specified subnet ${subnetId} is not in the Availability Zone ${explicitZone}`,
      );
    return subnet;
  }
  const defaults = [...ctx.state.subnets.values()].filter((s) => s.defaultForAz);
  if (defaults.length === 0)
    throw new Ec2Error(
      'VPCIdNotSpecified',
      'No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.',
    );
  if (explicitZone !== undefined) {
    const s = defaults.find((d) => d.zone === explicitZone);
    if (s === undefined)
      throw new Ec2Error('InvalidParameterValue', `Invalid availability zone: [${explicitZone}]`);
    return s;
  }
  // EC2 picks a zone when none is given; the fake takes the emptiest default subnet.
  const load = (s: FakeSubnet) =>
    [...ctx.state.instances.values()].filter((i) => i.subnetId === s.id && i.state !== 'terminated')
      .length;
  return [...defaults].sort((a, b) => load(a) - load(b) || a.zone.localeCompare(b.zone))[0]!;
}

export const runInstances: Handler = (ctx, params) => {
  const imageId = required(params, 'ImageId');
  const typeName = required(params, 'InstanceType');
  const min = int(params, 'MinCount');
  const max = int(params, 'MaxCount');
  if (min === undefined || max === undefined)
    throw new Ec2Error(
      'MissingParameter',
      'The request must contain the parameter MinCount and MaxCount',
    );
  if (min < 1 || max < min)
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${min}, ${max}) for parameters MinCount and MaxCount is invalid. MinCount must be at least 1 and at most MaxCount.`,
    );
  const explicitZone = params.get('Placement.AvailabilityZone');
  if (explicitZone !== undefined && !ctx.zones.includes(explicitZone))
    throw new Ec2Error('InvalidParameterValue', `Invalid availability zone: [${explicitZone}]`);
  const subnet = chooseSubnet(ctx, params, explicitZone);
  const zonal =
    explicitZone !== undefined ||
    params.has('SubnetId') ||
    params.has('NetworkInterface.1.SubnetId');

  // Idempotency first: a repeated token answers with what it made, whatever changed since.
  const token = params.get('ClientToken');
  const tokenKey = token === undefined ? undefined : `${token}|${zonal ? subnet.zone : 'regional'}`;
  if (token !== undefined && (token.length > 64 || !/^[\x20-\x7e]+$/.test(token)))
    throw new Ec2Error(
      'InvalidParameterValue',
      'Value for parameter clientToken is invalid: it must be at most 64 ASCII characters.',
    );
  const fingerprint = canonical(params);
  if (tokenKey !== undefined) {
    const seen = ctx.state.clientTokens.get(tokenKey);
    if (seen !== undefined) {
      if (seen.fingerprint !== fingerprint)
        throw new Ec2Error(
          'IdempotentParameterMismatch',
          'The client token you have provided is associated with a resource that is already deleted or was created with different parameters. Please use a different client token.',
        );
      const reservation = ctx.state.reservations.get(seen.reservationId)!;
      const instances = reservation.instanceIds
        .map((id) => ctx.state.instances.get(id))
        .filter((i): i is FakeInstance => i !== undefined);
      instances.forEach((i) => ctx.state.advance(i));
      return reservationXml(ctx, reservation.id, instances);
    }
  }

  if (!/^ami-[0-9a-f]{8}([0-9a-f]{9})?$/.test(imageId))
    throw new Ec2Error('InvalidAMIID.Malformed', `Invalid id: "${imageId}" (expecting "ami-...")`);
  const image = ctx.state.images.get(imageId);
  if (image === undefined || image.state === 'deregistered')
    throw new Ec2Error('InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
  const type = ctx.types.find((t) => t.name === typeName);
  if (type === undefined)
    throw new Ec2Error('InvalidParameterValue', `Invalid value '${typeName}' for InstanceType.`);
  if (type.arch !== image.arch)
    throw new Ec2Error(
      'InvalidParameterValue',
      `The architecture '${type.arch}' of the specified instance type does not match the architecture '${image.arch}' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again.`,
    );
  if (type.zones !== undefined && !type.zones.includes(subnet.zone))
    throw new Ec2Error(
      'Unsupported',
      `Your requested instance type (${typeName}) is not supported in your requested Availability Zone (${subnet.zone}). Please retry your request by not specifying an Availability Zone or choosing ${type.zones.join(', ')}.`,
    );
  const keyName = params.get('KeyName');
  if (keyName !== undefined && ![...ctx.state.keyPairs.values()].some((k) => k.name === keyName))
    throw new Ec2Error('InvalidKeyPair.NotFound', `The key pair '${keyName}' does not exist`);
  const userData = params.get('UserData');
  if (userData !== undefined) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(userData))
      throw new Ec2Error('InvalidUserData.Malformed', 'Invalid BASE64 encoding of user data.');
    if (Buffer.from(userData, 'base64').length > MAX_USER_DATA_BYTES)
      throw new Ec2Error(
        'InvalidParameterValue',
        `User data is limited to ${MAX_USER_DATA_BYTES} bytes`,
      );
  }
  const groupIds = [
    ...list(params, 'SecurityGroupId'),
    ...list(struct(params, 'NetworkInterface.1'), 'SecurityGroupId'),
  ];
  for (const g of groupIds) {
    const sg = ctx.state.securityGroups.get(g);
    if (sg === undefined)
      throw new Ec2Error('InvalidGroup.NotFound', `The security group '${g}' does not exist`);
    if (sg.vpcId !== subnet.vpcId)
      throw new Ec2Error(
        'InvalidParameter',
        `Security group ${g} and subnet ${subnet.id} belong to different networks.`,
      );
  }
  const groups =
    groupIds.length > 0
      ? groupIds
      : [...ctx.state.securityGroups.values()]
          .filter((g) => g.vpcId === subnet.vpcId && g.name === 'default')
          .map((g) => g.id);
  const spot = params.get('InstanceMarketOptions.MarketType') === 'spot';
  if (spot && !type.spot)
    throw new Ec2Error(
      'UnsupportedOperation',
      `The instance type ${typeName} is not supported for Spot Instances.`,
    );
  const volumeSize = structList(params, 'BlockDeviceMapping')
    .map((b) => Number(b.get('Ebs.VolumeSize')))
    .find((n) => Number.isFinite(n) && n > 0);

  // Capacity and quota are judged on the whole request: MinCount = MaxCount launches all or nothing.
  const live = ctx.state
    .liveInstances()
    .filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down');
  const capacity = ctx.zoneCapacity[subnet.zone];
  if (
    ctx.takeCapacityFault() ||
    (capacity !== undefined && live.filter((i) => i.zone === subnet.zone).length + min > capacity)
  ) {
    const others = ctx.zones.filter((z) => z !== subnet.zone).join(', ');
    throw new Ec2Error(
      'InsufficientInstanceCapacity',
      `We currently do not have sufficient ${typeName} capacity in the Availability Zone you requested (${subnet.zone}). Our system will be working on provisioning additional capacity. You can currently get ${typeName} capacity by not specifying an Availability Zone in your request or choosing ${others}.`,
      500,
    );
  }
  const vcpusInUse = live
    .filter((i) => !i.spot)
    .reduce((n, i) => n + (ctx.types.find((t) => t.name === i.type)?.vcpus ?? 0), 0);
  if (!spot && vcpusInUse + type.vcpus * max > ctx.vcpuLimit)
    throw new Ec2Error(
      'VcpuLimitExceeded',
      `You have requested more vCPU capacity than your current vCPU limit of ${ctx.vcpuLimit} allows for the instance bucket that the specified instance type belongs to. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.`,
    );

  // NOTE: only a launch spends instance tokens; an idempotent repeat (answered above) does not.
  if (!ctx.admitLaunch(max))
    throw new Ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503);

  const specs = tagSpecs(params);
  for (const s of specs) {
    if (
      s.resourceType !== 'instance' &&
      s.resourceType !== 'volume' &&
      s.resourceType !== 'network-interface'
    )
      throw new Ec2Error(
        'InvalidParameterValue',
        `'${s.resourceType}' is not a valid taggable resource type for this operation.`,
      );
    for (const k of s.tags.keys())
      if (k.toLowerCase().startsWith('aws:'))
        throw new Ec2Error(
          'InvalidParameterValue',
          `Tag keys starting with 'aws:' are reserved for internal use`,
        );
    if (s.tags.size > 50)
      throw new Ec2Error('TagLimitExceeded', 'The maximum number of tags per resource is 50');
  }
  const instanceTags =
    specs.find((s) => s.resourceType === 'instance')?.tags ?? new Map<string, string>();
  const volumeTags =
    specs.find((s) => s.resourceType === 'volume')?.tags ?? new Map<string, string>();
  const publicIp =
    subnet.mapPublicIp || bool(params, 'NetworkInterface.1.AssociatePublicIpAddress') === true;

  const reservationId = ctx.state.newId('r');
  const now = ctx.state.clock.now();
  const lag = ctx.visibilityLagMs();
  const made: FakeInstance[] = [];
  for (let n = 0; n < max; n++) {
    const { first } = cidrBounds(subnet.cidr);
    subnet.nextHost += 1;
    const instance: FakeInstance = {
      id: ctx.state.newId('i'),
      reservationId,
      imageId,
      type: typeName,
      arch: type.arch,
      zone: subnet.zone,
      subnetId: subnet.id,
      vpcId: subnet.vpcId,
      keyName,
      clientToken: token,
      amiLaunchIndex: n,
      launchTime: now,
      privateIp: numberToIp(first + 3 + subnet.nextHost),
      publicIp: publicIp ? ctx.state.nextPublicIp() : undefined,
      groups,
      spot,
      userData,
      rootVolumeGiB: volumeSize ?? 8,
      volumeTags: new Map(volumeTags),
      tags: new Map(instanceTags),
      state: 'pending',
      since: now,
      visibleAt: now + lag,
      stateReason: undefined,
    };
    ctx.state.instances.set(instance.id, instance);
    made.push(instance);
  }
  ctx.state.reservations.set(reservationId, {
    id: reservationId,
    instanceIds: made.map((i) => i.id),
    groups,
  });
  if (tokenKey !== undefined) ctx.state.clientTokens.set(tokenKey, { fingerprint, reservationId });
  return reservationXml(ctx, reservationId, made);
};

/** Instances by id, as EC2 checks them: malformed ids and unknown ids are errors for the whole call. */
function byIds(
  ctx: HandlerContext,
  ids: readonly string[],
  options: { includeInvisible?: boolean } = {},
): FakeInstance[] {
  const malformed = ids.find((id) => !INSTANCE_ID.test(id));
  if (malformed !== undefined)
    throw new Ec2Error('InvalidInstanceID.Malformed', `Invalid id: "${malformed}"`);
  const now = ctx.state.clock.now();
  const found: FakeInstance[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    const i = ctx.state.instances.get(id);
    if (i !== undefined) ctx.state.advance(i);
    const live = ctx.state.instances.get(id);
    if (live === undefined || (!options.includeInvisible && now < live.visibleAt)) missing.push(id);
    else found.push(live);
  }
  if (missing.length > 0)
    throw new Ec2Error('InvalidInstanceID.NotFound', notFoundMessage('instance', missing));
  return found;
}

function instanceFilterValues(i: FakeInstance, name: string): readonly string[] | undefined {
  switch (name) {
    case 'instance-id':
      return [i.id];
    case 'instance-state-name':
      return [i.state];
    case 'instance-state-code':
      return [String(STATE_CODES[i.state])];
    case 'availability-zone':
      return [i.zone];
    case 'instance-type':
      return [i.type];
    case 'image-id':
      return [i.imageId];
    case 'vpc-id':
      return [i.vpcId];
    case 'subnet-id':
      return [i.subnetId];
    case 'client-token':
      return i.clientToken === undefined ? [] : [i.clientToken];
    case 'reservation-id':
      return [i.reservationId];
    case 'instance-lifecycle':
      return i.spot ? ['spot'] : [];
    case 'key-name':
      return i.keyName === undefined ? [] : [i.keyName];
    default:
      return tagFilterValues(name, i.tags);
  }
}

export const describeInstances: Handler = (ctx, params) => {
  const ids = list(params, 'InstanceId');
  if (ids.length > 0 && params.has('MaxResults'))
    throw new Ec2Error(
      'InvalidParameterCombination',
      'The parameter instancesSet cannot be used with the parameter maxResults',
    );
  const fs = filters(params);
  const now = ctx.state.clock.now();
  const pool =
    ids.length > 0 ? byIds(ctx, ids) : ctx.state.liveInstances().filter((i) => now >= i.visibleAt);
  const selected = pool.filter((i) => matches(fs, (name) => instanceFilterValues(i, name)));
  const { page, nextToken } = paginate(params, selected, { min: 5, max: 1000 });
  // Reservations group consecutive instances of one launch, as EC2 pages them.
  const groups: { reservationId: string; instances: FakeInstance[] }[] = [];
  for (const i of page) {
    const last = groups[groups.length - 1];
    if (last !== undefined && last.reservationId === i.reservationId) last.instances.push(i);
    else groups.push({ reservationId: i.reservationId, instances: [i] });
  }
  return (
    items('reservationSet', groups, (g) => reservationXml(ctx, g.reservationId, g.instances)) +
    el('nextToken', nextToken)
  );
};

function stateChanges(
  changes: { id: string; previous: FakeInstance['state']; current: FakeInstance['state'] }[],
): string {
  return items(
    'instancesSet',
    changes,
    (c) =>
      el('instanceId', c.id) +
      node('currentState', el('code', STATE_CODES[c.current]), el('name', c.current)) +
      node('previousState', el('code', STATE_CODES[c.previous]), el('name', c.previous)),
  );
}

export const terminateInstances: Handler = (ctx, params) => {
  const ids = list(params, 'InstanceId');
  if (ids.length === 0)
    throw new Ec2Error('MissingParameter', 'The request must contain the parameter InstanceId');
  const instances = byIds(ctx, ids, { includeInvisible: true });
  const changes = instances.map((i) => {
    const previous = i.state;
    if (i.state !== 'terminated' && i.state !== 'shutting-down')
      ctx.state.setState(i, 'shutting-down');
    return { id: i.id, previous, current: i.state };
  });
  return stateChanges(changes);
};

export const startInstances: Handler = (ctx, params) => {
  const instances = byIds(ctx, list(params, 'InstanceId'), { includeInvisible: true });
  for (const i of instances)
    if (i.state !== 'stopped' && i.state !== 'running' && i.state !== 'pending')
      throw new Ec2Error(
        'IncorrectInstanceState',
        `The instance '${i.id}' is not in a state from which it can be started.`,
      );
  return stateChanges(
    instances.map((i) => {
      const previous = i.state;
      if (i.state === 'stopped') ctx.state.setState(i, 'pending');
      return { id: i.id, previous, current: i.state };
    }),
  );
};

export const stopInstances: Handler = (ctx, params) => {
  const instances = byIds(ctx, list(params, 'InstanceId'), { includeInvisible: true });
  for (const i of instances) {
    if (i.spot)
      throw new Ec2Error(
        'UnsupportedOperation',
        `You can't stop the Spot Instance '${i.id}' because it is associated with a one-time Spot Instance request. You can only stop Spot Instances associated with persistent Spot Instance requests.`,
      );
    if (i.state !== 'running' && i.state !== 'stopping' && i.state !== 'stopped')
      throw new Ec2Error(
        'IncorrectInstanceState',
        `This instance '${i.id}' is not in a state from which it can be stopped.`,
      );
  }
  return stateChanges(
    instances.map((i) => {
      const previous = i.state;
      if (i.state === 'running') ctx.state.setState(i, 'stopping');
      return { id: i.id, previous, current: i.state };
    }),
  );
};

/** Finds any taggable resource by id, with its tags. */
function taggable(ctx: HandlerContext, id: string): Map<string, string> {
  const now = ctx.state.clock.now();
  if (id.startsWith('i-')) {
    const i = ctx.state.instances.get(id);
    if (i !== undefined) ctx.state.advance(i);
    const live = ctx.state.instances.get(id);
    if (live === undefined || now < live.visibleAt)
      throw new Ec2Error('InvalidInstanceID.NotFound', notFoundMessage('instance', [id]));
    return live.tags;
  }
  const found =
    ctx.state.vpcs.get(id) ??
    ctx.state.subnets.get(id) ??
    ctx.state.securityGroups.get(id) ??
    ctx.state.internetGateways.get(id) ??
    ctx.state.routeTables.get(id) ??
    [...ctx.state.keyPairs.values()].find((k) => k.id === id);
  if (found === undefined) throw new Ec2Error('InvalidID', `The ID '${id}' is not valid`);
  return found.tags;
}

export const createTags: Handler = (ctx, params) => {
  const ids = list(params, 'ResourceId');
  if (ids.length === 0)
    throw new Ec2Error('MissingParameter', 'The request must contain the parameter ResourceId');
  const tags = structList(params, 'Tag').map(
    (t) => [t.get('Key') ?? '', t.get('Value') ?? ''] as const,
  );
  for (const [k] of tags) {
    if (k === '' || k.length > 128)
      throw new Ec2Error('InvalidParameterValue', `Tag key '${k}' must be 1 to 128 characters`);
    if (k.toLowerCase().startsWith('aws:'))
      throw new Ec2Error(
        'InvalidParameterValue',
        `Tag keys starting with 'aws:' are reserved for internal use`,
      );
  }
  const targets = ids.map((id) => taggable(ctx, id));
  for (const t of targets) {
    for (const [k, v] of tags) t.set(k, v);
    if (t.size > 50)
      throw new Ec2Error('TagLimitExceeded', 'The maximum number of tags per resource is 50');
  }
  return el('return', true);
};

function keyFingerprint(material: string): string {
  const blob = material.trim().split(/\s+/)[1] ?? '';
  return createHash('sha256')
    .update(Buffer.from(blob, 'base64'))
    .digest('base64')
    .replace(/=+$/, '');
}

export const importKeyPair: Handler = (ctx, params) => {
  const name = required(params, 'KeyName');
  const material = Buffer.from(required(params, 'PublicKeyMaterial'), 'base64').toString('utf8');
  if (
    !/^(ssh-(rsa|ed25519)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?$/.test(
      material.trim(),
    )
  )
    throw new Ec2Error('InvalidKeyPair.Format', 'Key is not in valid OpenSSH public key format');
  if ([...ctx.state.keyPairs.values()].some((k) => k.name === name))
    throw new Ec2Error('InvalidKeyPair.Duplicate', `The keypair already exists`);
  const tags =
    tagSpecs(params).find((s) => s.resourceType === 'key-pair')?.tags ?? new Map<string, string>();
  const key = {
    id: ctx.state.newId('key'),
    name,
    fingerprint: keyFingerprint(material),
    material,
    tags: new Map(tags),
  };
  ctx.state.keyPairs.set(key.id, key);
  return (
    el('keyFingerprint', key.fingerprint) +
    el('keyName', name) +
    el('keyPairId', key.id) +
    (key.tags.size > 0 ? tagSet(key.tags) : '')
  );
};

export const describeKeyPairs: Handler = (ctx, params) => {
  const names = list(params, 'KeyName');
  const fs = filters(params);
  const keys = [...ctx.state.keyPairs.values()];
  for (const n of names)
    if (!keys.some((k) => k.name === n))
      throw new Ec2Error('InvalidKeyPair.NotFound', `The key pair '${n}' does not exist`);
  const selected = keys.filter(
    (k) =>
      (names.length === 0 || names.includes(k.name)) &&
      matches(fs, (f) =>
        f === 'key-name'
          ? [k.name]
          : f === 'key-pair-id'
            ? [k.id]
            : f === 'fingerprint'
              ? [k.fingerprint]
              : tagFilterValues(f, k.tags),
      ),
  );
  return items(
    'keySet',
    selected,
    (k) =>
      el('keyPairId', k.id) +
      el('keyName', k.name) +
      el('keyFingerprint', k.fingerprint) +
      el('keyType', k.material.startsWith('ssh-ed25519') ? 'ed25519' : 'rsa') +
      tagSet(k.tags),
  );
};

export const deleteKeyPair: Handler = (ctx, params) => {
  const name = params.get('KeyName');
  const id = params.get('KeyPairId');
  for (const k of [...ctx.state.keyPairs.values()])
    if (k.name === name || k.id === id) ctx.state.keyPairs.delete(k.id);
  return el('return', true);
};
