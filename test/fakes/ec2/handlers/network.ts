/** VPCs, subnets, internet gateways, route tables and security groups. */
import { FAKE_ACCOUNT } from '../catalog.js';
import { Ec2Error } from '../errors.js';
import {
  bool,
  filters,
  int,
  list,
  matches,
  required,
  structList,
  tagFilterValues,
  tagSpecs,
  type Params,
} from '../query.js';
import {
  cidrBounds,
  type FakePermission,
  type FakeRouteTable,
  type FakeSecurityGroup,
  type FakeState,
} from '../state.js';
import { el, items, node, tagSet } from '../xml.js';
import type { Handler } from './context.js';

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

function tagsFor(params: Params, resourceType: string): Map<string, string> {
  const spec = tagSpecs(params).find((s) => s.resourceType === resourceType);
  for (const k of spec?.tags.keys() ?? [])
    if (k.toLowerCase().startsWith('aws:'))
      throw new Ec2Error(
        'InvalidParameterValue',
        `Tag keys starting with 'aws:' are reserved for internal use`,
      );
  return new Map(spec?.tags ?? []);
}

function vpcOf(state: FakeState, id: string) {
  const vpc = state.vpcs.get(id);
  if (vpc === undefined)
    throw new Ec2Error('InvalidVpcID.NotFound', `The vpc ID '${id}' does not exist`);
  return vpc;
}

function idsExist<T>(
  map: ReadonlyMap<string, T>,
  ids: readonly string[],
  code: string,
  kind: string,
): void {
  for (const id of ids)
    if (!map.has(id)) throw new Ec2Error(code, `The ${kind} ID '${id}' does not exist`);
}

// --- VPCs ---------------------------------------------------------------------------

function vpcXml(state: FakeState, id: string): string {
  const v = state.vpcs.get(id)!;
  return (
    el('vpcId', v.id) +
    el('ownerId', FAKE_ACCOUNT) +
    el('state', 'available') +
    el('cidrBlock', v.cidr) +
    items(
      'cidrBlockAssociationSet',
      [v],
      () =>
        el('cidrBlock', v.cidr) +
        el('associationId', `vpc-cidr-assoc-${v.id.slice(4)}`) +
        node('cidrBlockState', el('state', 'associated')),
    ) +
    el('dhcpOptionsId', 'dopt-0a1b2c3d') +
    el('instanceTenancy', 'default') +
    el('isDefault', v.isDefault) +
    (v.tags.size > 0 ? tagSet(v.tags) : '')
  );
}

/** A VPC as EC2 makes one: with its main route table and its `default` security group. */
export function makeVpc(
  state: FakeState,
  cidr: string,
  tags: Map<string, string>,
  isDefault = false,
): string {
  const id = state.newId('vpc');
  state.vpcs.set(id, { id, cidr, isDefault, tags, dnsHostnames: isDefault });
  const rtb = state.newId('rtb');
  state.routeTables.set(rtb, {
    id: rtb,
    vpcId: id,
    main: true,
    tags: new Map(),
    routes: [{ destination: cidr, gatewayId: 'local', origin: 'CreateRouteTable' }],
    associations: [{ id: state.newId('rtbassoc'), subnetId: undefined, main: true }],
  });
  const sg = state.newId('sg');
  state.securityGroups.set(sg, {
    id: sg,
    name: 'default',
    description: 'default VPC security group',
    vpcId: id,
    tags: new Map(),
    ingress: [],
    egress: [
      { protocol: '-1', from: undefined, to: undefined, cidr: '0.0.0.0/0', description: undefined },
    ],
  });
  return id;
}

export const createVpc: Handler = (ctx, params) => {
  const cidr = required(params, 'CidrBlock');
  const m = CIDR.exec(cidr);
  if (m === null)
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${cidr}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`,
    );
  const bits = Number(m[5]);
  if (bits < 16 || bits > 28)
    throw new Ec2Error('InvalidVpc.Range', `The CIDR '${cidr}' is invalid.`);
  const id = makeVpc(ctx.state, cidr, tagsFor(params, 'vpc'));
  return node('vpc', vpcXml(ctx.state, id));
};

export const describeVpcs: Handler = (ctx, params) => {
  const ids = list(params, 'VpcId');
  idsExist(ctx.state.vpcs, ids, 'InvalidVpcID.NotFound', 'vpc');
  const fs = filters(params);
  const selected = [...ctx.state.vpcs.values()].filter(
    (v) =>
      (ids.length === 0 || ids.includes(v.id)) &&
      matches(fs, (f) =>
        f === 'vpc-id'
          ? [v.id]
          : f === 'cidr' || f === 'cidr-block-association.cidr-block'
            ? [v.cidr]
            : f === 'is-default'
              ? [String(v.isDefault)]
              : f === 'state'
                ? ['available']
                : tagFilterValues(f, v.tags),
      ),
  );
  return items('vpcSet', selected, (v) => vpcXml(ctx.state, v.id));
};

export const modifyVpcAttribute: Handler = (ctx, params) => {
  const vpc = vpcOf(ctx.state, required(params, 'VpcId'));
  const dns = bool(params, 'EnableDnsHostnames.Value');
  if (dns !== undefined) vpc.dnsHostnames = dns;
  return el('return', true);
};

export const deleteVpc: Handler = (ctx, params) => {
  const id = required(params, 'VpcId');
  vpcOf(ctx.state, id);
  const busy =
    [...ctx.state.subnets.values()].some((s) => s.vpcId === id) ||
    [...ctx.state.internetGateways.values()].some((g) => g.vpcId === id) ||
    [...ctx.state.securityGroups.values()].some((g) => g.vpcId === id && g.name !== 'default') ||
    [...ctx.state.routeTables.values()].some((r) => r.vpcId === id && !r.main);
  if (busy)
    throw new Ec2Error(
      'DependencyViolation',
      `The vpc '${id}' has dependencies and cannot be deleted.`,
    );
  ctx.state.vpcs.delete(id);
  for (const [k, r] of ctx.state.routeTables) if (r.vpcId === id) ctx.state.routeTables.delete(k);
  for (const [k, g] of ctx.state.securityGroups)
    if (g.vpcId === id) ctx.state.securityGroups.delete(k);
  return el('return', true);
};

// --- Subnets ------------------------------------------------------------------------

function subnetXml(state: FakeState, id: string): string {
  const s = state.subnets.get(id)!;
  const { first, last } = cidrBounds(s.cidr);
  return (
    el('subnetId', s.id) +
    el('subnetArn', `arn:aws:ec2:us-east-1:${FAKE_ACCOUNT}:subnet/${s.id}`) +
    el('state', 'available') +
    el('ownerId', FAKE_ACCOUNT) +
    el('vpcId', s.vpcId) +
    el('cidrBlock', s.cidr) +
    el('availableIpAddressCount', last - first + 1 - 5 - s.nextHost) +
    el('availabilityZone', s.zone) +
    el('defaultForAz', s.defaultForAz) +
    el('mapPublicIpOnLaunch', s.mapPublicIp) +
    (s.tags.size > 0 ? tagSet(s.tags) : '')
  );
}

export function makeSubnet(
  state: FakeState,
  vpcId: string,
  cidr: string,
  zone: string,
  tags: Map<string, string>,
  defaultForAz = false,
): string {
  const id = state.newId('subnet');
  state.subnets.set(id, {
    id,
    vpcId,
    cidr,
    zone,
    defaultForAz,
    tags,
    mapPublicIp: defaultForAz,
    nextHost: 0,
  });
  return id;
}

export const createSubnet: Handler = (ctx, params) => {
  const vpc = vpcOf(ctx.state, required(params, 'VpcId'));
  const cidr = required(params, 'CidrBlock');
  if (!CIDR.test(cidr))
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${cidr}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`,
    );
  const inner = cidrBounds(cidr);
  const outer = cidrBounds(vpc.cidr);
  if (inner.first < outer.first || inner.last > outer.last || inner.bits > 28)
    throw new Ec2Error('InvalidSubnet.Range', `The CIDR '${cidr}' is invalid.`);
  for (const s of ctx.state.subnets.values()) {
    if (s.vpcId !== vpc.id) continue;
    const o = cidrBounds(s.cidr);
    if (inner.first <= o.last && o.first <= inner.last)
      throw new Ec2Error(
        'InvalidSubnet.Conflict',
        `The CIDR '${cidr}' conflicts with another subnet`,
      );
  }
  const zone = params.get('AvailabilityZone') ?? ctx.zones[0]!;
  if (!ctx.zones.includes(zone))
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${zone}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: ${ctx.zones.join(', ')}.`,
    );
  const id = makeSubnet(ctx.state, vpc.id, cidr, zone, tagsFor(params, 'subnet'));
  return node('subnet', subnetXml(ctx.state, id));
};

export const describeSubnets: Handler = (ctx, params) => {
  const ids = list(params, 'SubnetId');
  idsExist(ctx.state.subnets, ids, 'InvalidSubnetID.NotFound', 'subnet');
  const fs = filters(params);
  const selected = [...ctx.state.subnets.values()].filter(
    (s) =>
      (ids.length === 0 || ids.includes(s.id)) &&
      matches(fs, (f) => {
        switch (f) {
          case 'vpc-id':
            return [s.vpcId];
          case 'subnet-id':
            return [s.id];
          case 'availability-zone':
            return [s.zone];
          case 'cidr-block':
          case 'cidr':
            return [s.cidr];
          case 'default-for-az':
            return [String(s.defaultForAz)];
          case 'map-public-ip-on-launch':
            return [String(s.mapPublicIp)];
          default:
            return tagFilterValues(f, s.tags);
        }
      }),
  );
  return items('subnetSet', selected, (s) => subnetXml(ctx.state, s.id));
};

export const modifySubnetAttribute: Handler = (ctx, params) => {
  const id = required(params, 'SubnetId');
  const subnet = ctx.state.subnets.get(id);
  if (subnet === undefined)
    throw new Ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`);
  const mapPublic = bool(params, 'MapPublicIpOnLaunch.Value');
  if (mapPublic !== undefined) subnet.mapPublicIp = mapPublic;
  return el('return', true);
};

export const deleteSubnet: Handler = (ctx, params) => {
  const id = required(params, 'SubnetId');
  if (!ctx.state.subnets.has(id))
    throw new Ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`);
  if (ctx.state.liveInstances().some((i) => i.subnetId === id && i.state !== 'terminated'))
    throw new Ec2Error(
      'DependencyViolation',
      `The subnet '${id}' has dependencies and cannot be deleted.`,
    );
  for (const r of ctx.state.routeTables.values())
    if (r.associations.some((a) => a.subnetId === id))
      r.associations = r.associations.filter((a) => a.subnetId !== id);
  ctx.state.subnets.delete(id);
  return el('return', true);
};

// --- Internet gateways --------------------------------------------------------------

function igwXml(state: FakeState, id: string): string {
  const g = state.internetGateways.get(id)!;
  return (
    el('internetGatewayId', g.id) +
    el('ownerId', FAKE_ACCOUNT) +
    items(
      'attachmentSet',
      g.vpcId === undefined ? [] : [g.vpcId],
      (v) => el('vpcId', v) + el('state', 'available'),
    ) +
    (g.tags.size > 0 ? tagSet(g.tags) : '')
  );
}

function igwOf(state: FakeState, id: string) {
  const g = state.internetGateways.get(id);
  if (g === undefined)
    throw new Ec2Error(
      'InvalidInternetGatewayID.NotFound',
      `The internetGateway ID '${id}' does not exist`,
    );
  return g;
}

export const createInternetGateway: Handler = (ctx, params) => {
  const id = ctx.state.newId('igw');
  ctx.state.internetGateways.set(id, {
    id,
    tags: tagsFor(params, 'internet-gateway'),
    vpcId: undefined,
  });
  return node('internetGateway', igwXml(ctx.state, id));
};

export const attachInternetGateway: Handler = (ctx, params) => {
  const g = igwOf(ctx.state, required(params, 'InternetGatewayId'));
  const vpc = vpcOf(ctx.state, required(params, 'VpcId'));
  if (g.vpcId !== undefined)
    throw new Ec2Error(
      'Resource.AlreadyAssociated',
      `resource ${g.id} is already attached to network ${g.vpcId}`,
    );
  if ([...ctx.state.internetGateways.values()].some((o) => o.vpcId === vpc.id))
    throw new Ec2Error(
      'InvalidParameterValue',
      `Network ${vpc.id} already has an internet gateway attached`,
    );
  g.vpcId = vpc.id;
  return el('return', true);
};

export const detachInternetGateway: Handler = (ctx, params) => {
  const g = igwOf(ctx.state, required(params, 'InternetGatewayId'));
  const vpcId = required(params, 'VpcId');
  if (g.vpcId !== vpcId)
    throw new Ec2Error(
      'Gateway.NotAttached',
      `resource ${g.id} is not attached to network ${vpcId}`,
    );
  g.vpcId = undefined;
  return el('return', true);
};

export const deleteInternetGateway: Handler = (ctx, params) => {
  const g = igwOf(ctx.state, required(params, 'InternetGatewayId'));
  if (g.vpcId !== undefined)
    throw new Ec2Error(
      'DependencyViolation',
      `The internetGateway '${g.id}' has dependencies and cannot be deleted.`,
    );
  ctx.state.internetGateways.delete(g.id);
  return el('return', true);
};

export const describeInternetGateways: Handler = (ctx, params) => {
  const ids = list(params, 'InternetGatewayId');
  idsExist(ctx.state.internetGateways, ids, 'InvalidInternetGatewayID.NotFound', 'internetGateway');
  const fs = filters(params);
  const selected = [...ctx.state.internetGateways.values()].filter(
    (g) =>
      (ids.length === 0 || ids.includes(g.id)) &&
      matches(fs, (f) =>
        f === 'internet-gateway-id'
          ? [g.id]
          : f === 'attachment.vpc-id'
            ? g.vpcId === undefined
              ? []
              : [g.vpcId]
            : f === 'attachment.state'
              ? g.vpcId === undefined
                ? []
                : ['available']
              : tagFilterValues(f, g.tags),
      ),
  );
  return items('internetGatewaySet', selected, (g) => igwXml(ctx.state, g.id));
};

// --- Route tables -------------------------------------------------------------------

function routeTableXml(r: FakeRouteTable): string {
  return (
    el('routeTableId', r.id) +
    el('vpcId', r.vpcId) +
    el('ownerId', FAKE_ACCOUNT) +
    items(
      'routeSet',
      r.routes,
      (rt) =>
        el('destinationCidrBlock', rt.destination) +
        el('gatewayId', rt.gatewayId) +
        el('state', 'active') +
        el('origin', rt.origin),
    ) +
    items(
      'associationSet',
      r.associations,
      (a) =>
        el('routeTableAssociationId', a.id) +
        el('routeTableId', r.id) +
        el('subnetId', a.subnetId) +
        el('main', a.main) +
        node('associationState', el('state', 'associated')),
    ) +
    '<propagatingVgwSet/>' +
    (r.tags.size > 0 ? tagSet(r.tags) : '')
  );
}

function routeTableOf(state: FakeState, id: string): FakeRouteTable {
  const r = state.routeTables.get(id);
  if (r === undefined)
    throw new Ec2Error('InvalidRouteTableID.NotFound', `The routeTable ID '${id}' does not exist`);
  return r;
}

export const createRouteTable: Handler = (ctx, params) => {
  const vpc = vpcOf(ctx.state, required(params, 'VpcId'));
  const id = ctx.state.newId('rtb');
  const table: FakeRouteTable = {
    id,
    vpcId: vpc.id,
    main: false,
    tags: tagsFor(params, 'route-table'),
    routes: [{ destination: vpc.cidr, gatewayId: 'local', origin: 'CreateRouteTable' }],
    associations: [],
  };
  ctx.state.routeTables.set(id, table);
  return node('routeTable', routeTableXml(table));
};

export const createRoute: Handler = (ctx, params) => {
  const table = routeTableOf(ctx.state, required(params, 'RouteTableId'));
  const destination = required(params, 'DestinationCidrBlock');
  const gatewayId = required(params, 'GatewayId');
  const gw = igwOf(ctx.state, gatewayId);
  if (gw.vpcId !== table.vpcId)
    throw new Ec2Error(
      'InvalidParameterValue',
      `route table ${table.id} and network gateway ${gatewayId} belong to different networks`,
    );
  if (table.routes.some((r) => r.destination === destination))
    throw new Ec2Error(
      'RouteAlreadyExists',
      `The route identified by ${destination} already exists.`,
    );
  table.routes.push({ destination, gatewayId, origin: 'CreateRoute' });
  return el('return', true);
};

export const associateRouteTable: Handler = (ctx, params) => {
  const table = routeTableOf(ctx.state, required(params, 'RouteTableId'));
  const subnetId = required(params, 'SubnetId');
  const subnet = ctx.state.subnets.get(subnetId);
  if (subnet === undefined)
    throw new Ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);
  if (subnet.vpcId !== table.vpcId)
    throw new Ec2Error(
      'InvalidParameterValue',
      `Route table ${table.id} and subnet ${subnetId} belong to different networks`,
    );
  if (
    [...ctx.state.routeTables.values()].some((r) =>
      r.associations.some((a) => a.subnetId === subnetId),
    )
  )
    throw new Ec2Error(
      'Resource.AlreadyAssociated',
      `the specified association for route table ${table.id} conflicts with an existing association`,
    );
  const id = ctx.state.newId('rtbassoc');
  table.associations.push({ id, subnetId, main: false });
  return el('associationId', id) + node('associationState', el('state', 'associated'));
};

export const disassociateRouteTable: Handler = (ctx, params) => {
  const id = required(params, 'AssociationId');
  const table = [...ctx.state.routeTables.values()].find((r) =>
    r.associations.some((a) => a.id === id && !a.main),
  );
  if (table === undefined)
    throw new Ec2Error(
      'InvalidAssociationID.NotFound',
      `The association ID '${id}' does not exist`,
    );
  table.associations = table.associations.filter((a) => a.id !== id);
  return el('return', true);
};

export const deleteRouteTable: Handler = (ctx, params) => {
  const table = routeTableOf(ctx.state, required(params, 'RouteTableId'));
  if (table.main || table.associations.length > 0)
    throw new Ec2Error(
      'DependencyViolation',
      `The routeTable '${table.id}' has dependencies and cannot be deleted.`,
    );
  ctx.state.routeTables.delete(table.id);
  return el('return', true);
};

export const describeRouteTables: Handler = (ctx, params) => {
  const ids = list(params, 'RouteTableId');
  idsExist(ctx.state.routeTables, ids, 'InvalidRouteTableID.NotFound', 'routeTable');
  const fs = filters(params);
  const selected = [...ctx.state.routeTables.values()].filter(
    (r) =>
      (ids.length === 0 || ids.includes(r.id)) &&
      matches(fs, (f) => {
        switch (f) {
          case 'vpc-id':
            return [r.vpcId];
          case 'route-table-id':
            return [r.id];
          case 'association.subnet-id':
            return r.associations.flatMap((a) => (a.subnetId === undefined ? [] : [a.subnetId]));
          case 'association.main':
            return [String(r.main)];
          default:
            return tagFilterValues(f, r.tags);
        }
      }),
  );
  return items('routeTableSet', selected, routeTableXml);
};

// --- Security groups ----------------------------------------------------------------

function permissionsXml(name: string, perms: readonly FakePermission[]): string {
  // EC2 groups CIDRs of the same protocol and port range into one IpPermission.
  const grouped = new Map<string, { p: FakePermission; cidrs: FakePermission[] }>();
  for (const p of perms) {
    const key = `${p.protocol}|${p.from ?? ''}|${p.to ?? ''}`;
    const g = grouped.get(key);
    if (g === undefined) grouped.set(key, { p, cidrs: [p] });
    else g.cidrs.push(p);
  }
  return items(
    name,
    [...grouped.values()],
    ({ p, cidrs }) =>
      el('ipProtocol', p.protocol) +
      el('fromPort', p.from) +
      el('toPort', p.to) +
      '<groups/>' +
      items('ipRanges', cidrs, (c) => el('cidrIp', c.cidr) + el('description', c.description)) +
      '<ipv6Ranges/><prefixListIds/>',
  );
}

function sgXml(g: FakeSecurityGroup): string {
  return (
    el('ownerId', FAKE_ACCOUNT) +
    el('groupId', g.id) +
    el('groupName', g.name) +
    el('groupDescription', g.description) +
    el('vpcId', g.vpcId) +
    permissionsXml('ipPermissions', g.ingress) +
    permissionsXml('ipPermissionsEgress', g.egress) +
    (g.tags.size > 0 ? tagSet(g.tags) : '')
  );
}

function sgOf(state: FakeState, id: string): FakeSecurityGroup {
  const g = state.securityGroups.get(id);
  if (g === undefined)
    throw new Ec2Error('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
  return g;
}

export const createSecurityGroup: Handler = (ctx, params) => {
  const name = required(params, 'GroupName');
  const description = required(params, 'GroupDescription');
  const vpcId = params.get('VpcId') ?? [...ctx.state.vpcs.values()].find((v) => v.isDefault)?.id;
  if (vpcId === undefined) throw new Ec2Error('VPCIdNotSpecified', 'No default VPC for this user');
  vpcOf(ctx.state, vpcId);
  if (name.startsWith('sg-'))
    throw new Ec2Error('InvalidParameterValue', `Group names may not be in the format sg-*.`);
  if ([...ctx.state.securityGroups.values()].some((g) => g.vpcId === vpcId && g.name === name))
    throw new Ec2Error(
      'InvalidGroup.Duplicate',
      `The security group '${name}' already exists for VPC '${vpcId}'`,
    );
  const id = ctx.state.newId('sg');
  const tags = tagsFor(params, 'security-group');
  ctx.state.securityGroups.set(id, {
    id,
    name,
    description,
    vpcId,
    tags,
    ingress: [],
    egress: [
      { protocol: '-1', from: undefined, to: undefined, cidr: '0.0.0.0/0', description: undefined },
    ],
  });
  return el('groupId', id) + (tags.size > 0 ? tagSet(tags) : '');
};

export const describeSecurityGroups: Handler = (ctx, params) => {
  const ids = list(params, 'GroupId');
  const names = list(params, 'GroupName');
  for (const id of ids) sgOf(ctx.state, id);
  const fs = filters(params);
  const selected = [...ctx.state.securityGroups.values()].filter(
    (g) =>
      (ids.length === 0 || ids.includes(g.id)) &&
      (names.length === 0 || names.includes(g.name)) &&
      matches(fs, (f) =>
        f === 'vpc-id'
          ? [g.vpcId]
          : f === 'group-name'
            ? [g.name]
            : f === 'group-id'
              ? [g.id]
              : f === 'description'
                ? [g.description]
                : tagFilterValues(f, g.tags),
      ),
  );
  return items('securityGroupInfo', selected, sgXml);
};

function readPermissions(params: Params): FakePermission[] {
  const out: FakePermission[] = [];
  for (const p of structList(params, 'IpPermissions')) {
    const protocol = p.get('IpProtocol') ?? '';
    const normalized = protocol === 'all' ? '-1' : protocol.toLowerCase();
    if (!['tcp', 'udp', 'icmp', '-1'].includes(normalized))
      throw new Ec2Error(
        'InvalidParameterValue',
        `Invalid value '${protocol}' for IP protocol. Unknown protocol.`,
      );
    const from = int(p, 'FromPort');
    const to = int(p, 'ToPort');
    if (
      (normalized === 'tcp' || normalized === 'udp') &&
      (from === undefined || to === undefined || from < 0 || to > 65535 || from > to)
    )
      throw new Ec2Error(
        'InvalidParameterValue',
        `Invalid value for portRange. Must specify both from and to ports with TCP/UDP.`,
      );
    for (const r of structList(p, 'IpRanges')) {
      const cidr = r.get('CidrIp') ?? '';
      if (!CIDR.test(cidr))
        throw new Ec2Error(
          'InvalidParameterValue',
          `Value (${cidr}) for parameter cidrIp is invalid. This is not a valid CIDR block.`,
        );
      out.push({
        protocol: normalized,
        from: normalized === '-1' ? undefined : from,
        to: normalized === '-1' ? undefined : to,
        cidr,
        description: r.get('Description'),
      });
    }
  }
  return out;
}

const same = (a: FakePermission, b: FakePermission): boolean =>
  a.protocol === b.protocol && a.from === b.from && a.to === b.to && a.cidr === b.cidr;

function authorize(direction: 'ingress' | 'egress'): Handler {
  return (ctx, params) => {
    const g = sgOf(ctx.state, required(params, 'GroupId'));
    const perms = readPermissions(params);
    const existing = g[direction];
    const dup = perms.find((p) => existing.some((e) => same(e, p)));
    if (dup !== undefined)
      throw new Ec2Error(
        'InvalidPermission.Duplicate',
        `the specified rule "peer: ${dup.cidr}, ${dup.protocol.toUpperCase()}, from port: ${dup.from ?? 'all'}, to port: ${dup.to ?? 'all'}, ALLOW" already exists`,
      );
    g[direction] = [...existing, ...perms];
    return el('return', true);
  };
}

function revoke(direction: 'ingress' | 'egress'): Handler {
  return (ctx, params) => {
    const g = sgOf(ctx.state, required(params, 'GroupId'));
    const perms = readPermissions(params);
    const unknown = perms.filter((p) => !g[direction].some((e) => same(e, p)));
    g[direction] = g[direction].filter((e) => !perms.some((p) => same(e, p)));
    return (
      el('return', true) +
      (unknown.length > 0 ? permissionsXml('unknownIpPermissionSet', unknown) : '')
    );
  };
}

export const authorizeSecurityGroupIngress = authorize('ingress');
export const authorizeSecurityGroupEgress = authorize('egress');
export const revokeSecurityGroupIngress = revoke('ingress');
export const revokeSecurityGroupEgress = revoke('egress');

export const deleteSecurityGroup: Handler = (ctx, params) => {
  const g = sgOf(ctx.state, required(params, 'GroupId'));
  if (g.name === 'default')
    throw new Ec2Error(
      'CannotDelete',
      `the specified group: "${g.id}" name: "default" cannot be deleted by a user`,
    );
  if (ctx.state.liveInstances().some((i) => i.state !== 'terminated' && i.groups.includes(g.id)))
    throw new Ec2Error('DependencyViolation', `resource ${g.id} has a dependent object`);
  ctx.state.securityGroups.delete(g.id);
  return el('return', true) + el('groupId', g.id);
};
