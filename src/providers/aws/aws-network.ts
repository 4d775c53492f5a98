/**
 * kumo networks on EC2: a VPC, one subnet per declared subnet (in its zone), an
 * internet gateway and a route table for the public ones, and a security group
 * holding the firewall rules. Everything is found again by its `kumo-network` tag,
 * so ensuring twice changes nothing, and deletion walks dependants first, shrugging
 * at whatever is already gone.
 */
import {
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteInternetGatewayCommand,
  DeleteRouteTableCommand,
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeInternetGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  DetachInternetGatewayCommand,
  DisassociateRouteTableCommand,
  ModifySubnetAttributeCommand,
  ModifyVpcAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type ResourceType,
  type SecurityGroup,
  type InternetGateway,
  type Subnet,
  type Vpc,
} from '@aws-sdk/client-ec2';
import {
  Conflict,
  fromAwsTags,
  isKumoError,
  toAwsTags,
  type Labels,
  type Network,
  type NetworkSpec,
} from '../../core/index.js';
import type { Ec2 } from './aws-client.js';
import { awsCode } from './aws-errors.js';
import {
  fromIpPermissions,
  permissionKey,
  TAG_NAME,
  TAG_NETWORK,
  TAG_SUBNET,
  toIpPermissions,
  toPermissions,
  type Permission,
} from './aws-mapper.js';

const ANYWHERE: Permission = { protocol: '-1', from: undefined, to: undefined, cidr: '0.0.0.0/0' };

/** Errors that mean "already gone" while deleting. */
const GONE = new Set(['Gateway.NotAttached', 'InvalidAssociationID.NotFound']);

export function securityGroupName(network: string): string {
  return `kumo-${network}`;
}

function tagSpec(type: ResourceType, tags: Labels) {
  return [{ ResourceType: type, Tags: toAwsTags(tags) }];
}

export class NetworkManager {
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(
    readonly ec2: Ec2,
    readonly provider: string,
  ) {}

  /** One ensure/delete per network name at a time in this process: two would race to create two VPCs. */
  #serialized<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(name) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(fn);
    this.#locks.set(name, next);
    void next
      .finally(() => this.#locks.get(name) === next && this.#locks.delete(name))
      .catch(() => undefined);
    return next;
  }

  ensure(spec: NetworkSpec, labels: Labels, signal?: AbortSignal): Promise<Network> {
    return this.#serialized(spec.name, () => this.#ensure(spec, labels, signal));
  }

  delete(name: string, signal?: AbortSignal): Promise<void> {
    return this.#serialized(name, () => this.#delete(name, signal));
  }

  async #vpcs(name: string, signal?: AbortSignal): Promise<Vpc[]> {
    const out = await this.ec2.call(
      'DescribeVpcs',
      (c, s) =>
        c.send(
          new DescribeVpcsCommand({ Filters: [{ Name: `tag:${TAG_NETWORK}`, Values: [name] }] }),
          { abortSignal: s },
        ),
      signal,
    );
    return out.Vpcs ?? [];
  }

  async #subnets(vpcId: string, signal?: AbortSignal): Promise<Subnet[]> {
    const out = await this.ec2.call(
      'DescribeSubnets',
      (c, s) =>
        c.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }), {
          abortSignal: s,
        }),
      signal,
    );
    return out.Subnets ?? [];
  }

  async #internetGateways(vpcId: string, signal?: AbortSignal): Promise<InternetGateway[]> {
    const out = await this.ec2.call(
      'DescribeInternetGateways',
      (c, s) =>
        c.send(
          new DescribeInternetGatewaysCommand({
            Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }],
          }),
          { abortSignal: s },
        ),
      signal,
    );
    return out.InternetGateways ?? [];
  }

  async #securityGroup(
    vpcId: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<SecurityGroup | undefined> {
    const out = await this.ec2.call(
      'DescribeSecurityGroups',
      (c, s) =>
        c.send(
          new DescribeSecurityGroupsCommand({
            Filters: [
              { Name: 'vpc-id', Values: [vpcId] },
              { Name: 'group-name', Values: [securityGroupName(name)] },
            ],
          }),
          { abortSignal: s },
        ),
      signal,
    );
    return out.SecurityGroups?.[0];
  }

  /** The network as it exists now, or undefined; used to place machines. */
  async lookup(name: string, signal?: AbortSignal): Promise<Network | undefined> {
    const [vpc] = await this.#vpcs(name, signal);
    if (vpc?.VpcId === undefined) return undefined;
    const [subnets, sg] = await Promise.all([
      this.#subnets(vpc.VpcId, signal),
      this.#securityGroup(vpc.VpcId, name, signal),
    ]);
    return this.#toNetwork(
      name,
      vpc,
      subnets.filter((s) => fromAwsTags(s.Tags)[TAG_SUBNET] !== undefined),
      sg?.GroupId,
    );
  }

  #toNetwork(
    name: string,
    vpc: Vpc,
    subnets: readonly Subnet[],
    firewallId: string | undefined,
  ): Network {
    return {
      id: vpc.VpcId ?? '',
      name,
      provider: this.provider,
      cidr: vpc.CidrBlock ?? '',
      subnets: subnets.map((s) => ({
        id: s.SubnetId ?? '',
        name: fromAwsTags(s.Tags)[TAG_SUBNET] ?? s.SubnetId ?? '',
        cidr: s.CidrBlock ?? '',
        ...(s.AvailabilityZone === undefined ? {} : { zone: s.AvailabilityZone }),
        public: s.MapPublicIpOnLaunch === true,
      })),
      ...(firewallId === undefined ? {} : { firewallId }),
      labels: fromAwsTags(vpc.Tags),
    };
  }

  async #ensure(spec: NetworkSpec, extra: Labels, signal?: AbortSignal): Promise<Network> {
    const labels: Labels = { ...spec.labels, ...extra, [TAG_NETWORK]: spec.name };
    const call = this.ec2.call.bind(this.ec2);

    // 1. The VPC.
    const found = await this.#vpcs(spec.name, signal);
    if (found.length > 1)
      throw new Conflict(
        `network "${spec.name}" matches ${found.length} VPCs (${found.map((v) => v.VpcId).join(', ')}); delete the extra ones`,
        { provider: this.provider },
      );
    let vpc = found[0];
    if (vpc !== undefined && vpc.CidrBlock !== spec.cidr)
      throw new Conflict(
        `network "${spec.name}" exists as ${vpc.VpcId} with CIDR ${vpc.CidrBlock}; EC2 cannot change a VPC's CIDR to ${spec.cidr} (delete the network first)`,
        {
          provider: this.provider,
        },
      );
    if (vpc === undefined) {
      const made = await call(
        'CreateVpc',
        (c, s) =>
          c.send(
            new CreateVpcCommand({
              CidrBlock: spec.cidr,
              TagSpecifications: tagSpec('vpc', { [TAG_NAME]: spec.name, ...labels }),
            }),
            { abortSignal: s },
          ),
        signal,
      );
      vpc = made.Vpc!;
      const vpcId = vpc.VpcId!;
      // Public subnets hand out DNS names only with DNS hostnames on.
      await call(
        'ModifyVpcAttribute',
        (c, s) =>
          c.send(
            new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } }),
            { abortSignal: s },
          ),
        signal,
      );
    }
    const vpcId = vpc.VpcId!;

    // 2. Subnets, by their kumo-subnet tag.
    const existing = await this.#subnets(vpcId, signal);
    const byName = new Map(
      existing.flatMap((s) => {
        const n = fromAwsTags(s.Tags)[TAG_SUBNET];
        return n === undefined ? [] : [[n, s] as const];
      }),
    );
    const subnets: Subnet[] = [];
    for (const want of spec.subnets) {
      let subnet = byName.get(want.name);
      if (
        subnet !== undefined &&
        (subnet.CidrBlock !== want.cidr ||
          (want.zone !== undefined && subnet.AvailabilityZone !== want.zone))
      )
        throw new Conflict(
          `subnet "${want.name}" of network "${spec.name}" exists as ${subnet.SubnetId} (${subnet.CidrBlock} in ${subnet.AvailabilityZone}); it cannot become ${want.cidr}${want.zone === undefined ? '' : ` in ${want.zone}`}`,
          { provider: this.provider },
        );
      if (subnet === undefined) {
        const made = await call(
          'CreateSubnet',
          (c, s) =>
            c.send(
              new CreateSubnetCommand({
                VpcId: vpcId,
                CidrBlock: want.cidr,
                ...(want.zone === undefined ? {} : { AvailabilityZone: want.zone }),
                TagSpecifications: tagSpec('subnet', {
                  [TAG_NAME]: `${spec.name}-${want.name}`,
                  ...labels,
                  [TAG_SUBNET]: want.name,
                }),
              }),
              { abortSignal: s },
            ),
          signal,
        );
        subnet = made.Subnet!;
      }
      if ((subnet.MapPublicIpOnLaunch === true) !== want.public) {
        const subnetId = subnet.SubnetId!;
        await call(
          'ModifySubnetAttribute',
          (c, s) =>
            c.send(
              new ModifySubnetAttributeCommand({
                SubnetId: subnetId,
                MapPublicIpOnLaunch: { Value: want.public },
              }),
              { abortSignal: s },
            ),
          signal,
        );
        subnet = { ...subnet, MapPublicIpOnLaunch: want.public };
      }
      subnets.push(subnet);
    }
    // Subnets kumo made earlier that the spec no longer declares.
    const declared = new Set(spec.subnets.map((s) => s.name));
    for (const [name, s] of byName)
      if (!declared.has(name))
        await call(
          'DeleteSubnet',
          (c, sig) =>
            c.send(new DeleteSubnetCommand({ SubnetId: s.SubnetId! }), { abortSignal: sig }),
          signal,
        );

    // 3. Internet access for public subnets: a gateway and a route table with a default route.
    const publicIds = new Set(
      spec.subnets.flatMap((want, i) => (want.public ? [subnets[i]!.SubnetId!] : [])),
    );
    if (publicIds.size > 0)
      await this.#ensureInternet(
        spec.name,
        vpcId,
        labels,
        publicIds,
        subnets.map((s) => s.SubnetId!),
        signal,
      );

    // 4. The security group and its rules.
    let sg = await this.#securityGroup(vpcId, spec.name, signal);
    let have: { ingress: Permission[]; egress: Permission[] };
    if (sg === undefined) {
      const made = await call(
        'CreateSecurityGroup',
        (c, s) =>
          c.send(
            new CreateSecurityGroupCommand({
              GroupName: securityGroupName(spec.name),
              Description: `kumo network ${spec.name}`,
              VpcId: vpcId,
              TagSpecifications: tagSpec('security-group', { [TAG_NAME]: spec.name, ...labels }),
            }),
            { abortSignal: s },
          ),
        signal,
      );
      sg = { GroupId: made.GroupId! };
      // A new group allows all egress and no ingress, as EC2 documents.
      have = { ingress: [], egress: [ANYWHERE] };
    } else
      have = {
        ingress: fromIpPermissions(sg.IpPermissions),
        egress: fromIpPermissions(sg.IpPermissionsEgress),
      };
    const want = {
      ingress: spec.firewall.filter((r) => r.direction === 'ingress').flatMap(toPermissions),
      // NOTE: with no egress rule declared, the cloud's default (all egress) stands.
      egress: spec.firewall.some((r) => r.direction === 'egress')
        ? spec.firewall.filter((r) => r.direction === 'egress').flatMap(toPermissions)
        : [ANYWHERE],
    };
    await this.#syncRules(sg.GroupId!, have, want, signal);
    return this.#toNetwork(spec.name, vpc, subnets, sg.GroupId);
  }

  async #ensureInternet(
    name: string,
    vpcId: string,
    labels: Labels,
    publicIds: ReadonlySet<string>,
    allIds: readonly string[],
    signal?: AbortSignal,
  ): Promise<void> {
    const call = this.ec2.call.bind(this.ec2);
    let igwId = (await this.#internetGateways(vpcId, signal))[0]?.InternetGatewayId;
    if (igwId === undefined) {
      const made = await call(
        'CreateInternetGateway',
        (c, s) =>
          c.send(
            new CreateInternetGatewayCommand({
              TagSpecifications: tagSpec('internet-gateway', { [TAG_NAME]: name, ...labels }),
            }),
            { abortSignal: s },
          ),
        signal,
      );
      const id = made.InternetGateway!.InternetGatewayId!;
      await call(
        'AttachInternetGateway',
        (c, s) =>
          c.send(new AttachInternetGatewayCommand({ InternetGatewayId: id, VpcId: vpcId }), {
            abortSignal: s,
          }),
        signal,
      );
      igwId = id;
    }
    const gatewayId = igwId;
    const tables = await call(
      'DescribeRouteTables',
      (c, s) =>
        c.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }), {
          abortSignal: s,
        }),
      signal,
    );
    let table = (tables.RouteTables ?? []).find(
      (t) =>
        fromAwsTags(t.Tags)[TAG_NETWORK] === name &&
        !(t.Associations ?? []).some((a) => a.Main === true),
    );
    if (table === undefined) {
      const made = await call(
        'CreateRouteTable',
        (c, s) =>
          c.send(
            new CreateRouteTableCommand({
              VpcId: vpcId,
              TagSpecifications: tagSpec('route-table', {
                [TAG_NAME]: `${name}-public`,
                ...labels,
              }),
            }),
            { abortSignal: s },
          ),
        signal,
      );
      table = made.RouteTable!;
    }
    const tableId = table.RouteTableId!;
    if (!(table.Routes ?? []).some((r) => r.DestinationCidrBlock === '0.0.0.0/0'))
      await call(
        'CreateRoute',
        (c, s) =>
          c.send(
            new CreateRouteCommand({
              RouteTableId: tableId,
              DestinationCidrBlock: '0.0.0.0/0',
              GatewayId: gatewayId,
            }),
            { abortSignal: s },
          ),
        signal,
      );
    const associated = new Map(
      (table.Associations ?? [])
        .filter((a) => a.SubnetId !== undefined)
        .map((a) => [a.SubnetId!, a.RouteTableAssociationId!]),
    );
    for (const subnetId of allIds) {
      if (publicIds.has(subnetId) && !associated.has(subnetId))
        await call(
          'AssociateRouteTable',
          (c, s) =>
            c.send(new AssociateRouteTableCommand({ RouteTableId: tableId, SubnetId: subnetId }), {
              abortSignal: s,
            }),
          signal,
        );
      const association = associated.get(subnetId);
      if (!publicIds.has(subnetId) && association !== undefined)
        await call(
          'DisassociateRouteTable',
          (c, s) =>
            c.send(new DisassociateRouteTableCommand({ AssociationId: association }), {
              abortSignal: s,
            }),
          signal,
        );
    }
  }

  async #syncRules(
    groupId: string,
    have: { ingress: Permission[]; egress: Permission[] },
    want: { ingress: Permission[]; egress: Permission[] },
    signal?: AbortSignal,
  ): Promise<void> {
    const call = this.ec2.call.bind(this.ec2);
    for (const direction of ['ingress', 'egress'] as const) {
      const haveKeys = new Set(have[direction].map(permissionKey));
      const wantKeys = new Set(want[direction].map(permissionKey));
      const add = want[direction].filter(
        (p, i, all) =>
          !haveKeys.has(permissionKey(p)) &&
          all.findIndex((q) => permissionKey(q) === permissionKey(p)) === i,
      );
      const remove = have[direction].filter((p) => !wantKeys.has(permissionKey(p)));
      if (remove.length > 0) {
        const IpPermissions = toIpPermissions(remove);
        if (direction === 'ingress')
          await call(
            'RevokeSecurityGroupIngress',
            (c, s) =>
              c.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions }), {
                abortSignal: s,
              }),
            signal,
          );
        else
          await call(
            'RevokeSecurityGroupEgress',
            (c, s) =>
              c.send(new RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions }), {
                abortSignal: s,
              }),
            signal,
          );
      }
      if (add.length > 0) {
        const IpPermissions = toIpPermissions(add);
        if (direction === 'ingress')
          await call(
            'AuthorizeSecurityGroupIngress',
            (c, s) =>
              c.send(
                new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions }),
                { abortSignal: s },
              ),
            signal,
          );
        else
          await call(
            'AuthorizeSecurityGroupEgress',
            (c, s) =>
              c.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions }), {
                abortSignal: s,
              }),
            signal,
          );
      }
    }
  }

  /** Runs a deletion step; "already gone" counts as done. */
  async #gone(step: () => Promise<unknown>): Promise<void> {
    try {
      await step();
    } catch (err) {
      const code = awsCode(err);
      if (isKumoError(err) && (err.code === 'NotFound' || (code !== undefined && GONE.has(code))))
        return;
      if (code === 'DependencyViolation' && isKumoError(err)) {
        err.message = `${err.message} — the network still has machines or other resources in it; delete them first`;
      }
      throw err;
    }
  }

  async #delete(name: string, signal?: AbortSignal): Promise<void> {
    const call = this.ec2.call.bind(this.ec2);
    for (const vpc of await this.#vpcs(name, signal)) {
      const vpcId = vpc.VpcId!;
      const byVpc = [{ Name: 'vpc-id', Values: [vpcId] }];
      // Dependants first: security groups, route tables, the gateway, subnets; then the VPC.
      const groups = await call(
        'DescribeSecurityGroups',
        (c, s) => c.send(new DescribeSecurityGroupsCommand({ Filters: byVpc }), { abortSignal: s }),
        signal,
      );
      for (const g of groups.SecurityGroups ?? [])
        if (g.GroupName !== 'default')
          await this.#gone(() =>
            call(
              'DeleteSecurityGroup',
              (c, s) =>
                c.send(new DeleteSecurityGroupCommand({ GroupId: g.GroupId! }), { abortSignal: s }),
              signal,
            ),
          );
      const tables = await call(
        'DescribeRouteTables',
        (c, s) => c.send(new DescribeRouteTablesCommand({ Filters: byVpc }), { abortSignal: s }),
        signal,
      );
      for (const t of tables.RouteTables ?? []) {
        if ((t.Associations ?? []).some((a) => a.Main === true)) continue;
        for (const a of t.Associations ?? [])
          await this.#gone(() =>
            call(
              'DisassociateRouteTable',
              (c, s) =>
                c.send(
                  new DisassociateRouteTableCommand({ AssociationId: a.RouteTableAssociationId! }),
                  { abortSignal: s },
                ),
              signal,
            ),
          );
        await this.#gone(() =>
          call(
            'DeleteRouteTable',
            (c, s) =>
              c.send(new DeleteRouteTableCommand({ RouteTableId: t.RouteTableId! }), {
                abortSignal: s,
              }),
            signal,
          ),
        );
      }
      for (const g of await this.#internetGateways(vpcId, signal)) {
        const igwId = g.InternetGatewayId!;
        await this.#gone(() =>
          call(
            'DetachInternetGateway',
            (c, s) =>
              c.send(new DetachInternetGatewayCommand({ InternetGatewayId: igwId, VpcId: vpcId }), {
                abortSignal: s,
              }),
            signal,
          ),
        );
        await this.#gone(() =>
          call(
            'DeleteInternetGateway',
            (c, s) =>
              c.send(new DeleteInternetGatewayCommand({ InternetGatewayId: igwId }), {
                abortSignal: s,
              }),
            signal,
          ),
        );
      }
      for (const sn of await this.#subnets(vpcId, signal))
        await this.#gone(() =>
          call(
            'DeleteSubnet',
            (c, s) =>
              c.send(new DeleteSubnetCommand({ SubnetId: sn.SubnetId! }), { abortSignal: s }),
            signal,
          ),
        );
      await this.#gone(() =>
        call(
          'DeleteVpc',
          (c, s) => c.send(new DeleteVpcCommand({ VpcId: vpcId }), { abortSignal: s }),
          signal,
        ),
      );
    }
  }
}
