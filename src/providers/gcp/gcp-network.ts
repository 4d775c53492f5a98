/**
 * Networks the GCP way: a custom-mode VPC, one subnetwork per declared subnet in the
 * provider's region, and firewall rules (direction, priority, source or destination
 * ranges) that apply to kumo's machines on that network through a target tag.
 *
 * Idempotent by name: each piece is read first and made only when missing. VPCs,
 * subnetworks and firewalls take no labels, so the ownership tags travel in their
 * `description` as `kumo {json}`; deletion touches only pieces marked so.
 */
import {
  Conflict,
  NetworkSpecSchema,
  NotFound,
  parse,
  shortHash,
  type FirewallRule,
  type Network,
  type NetworkSpecInput,
} from '../../core/index.js';
import type {
  ComputeApi,
  ListFirewallsRequest,
  ListSubnetworksRequest,
  GceFirewall,
  GceNetwork,
  GceOperation,
  GceSubnetwork,
  OperationScope,
} from './gcp-compute.js';
import { lastSegment } from './gcp-ids.js';

const MARK = 'kumo ';

/** The `description` that marks a resource as kumo's, with its ownership tags. */
export function ownerDescription(data: Record<string, unknown>): string {
  return `${MARK}${JSON.stringify(data)}`;
}

/** The data of a kumo `description`, or undefined for a resource kumo did not make. */
export function readOwner(
  description: string | null | undefined,
): Record<string, unknown> | undefined {
  if (!description?.startsWith(MARK)) return undefined;
  try {
    const value: unknown = JSON.parse(description.slice(MARK.length));
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The network tag firewall rules of network `name` target; kumo puts it on machines in that network. */
export function networkTag(name: string): string {
  return `kumo-${name}`.slice(0, 63).replace(/-+$/, '');
}

/** The GCE name of declared subnet `subnet` of network `network` (subnet names are per region, not per network). */
export function subnetworkName(network: string, subnet: string): string {
  const full = `${network}-${subnet}`;
  return full.length <= 63 ? full : `${full.slice(0, 54).replace(/-+$/, '')}-${shortHash(full, 8)}`;
}

/** Firewall names carry a hash of the rule, so a changed rule is a new firewall and the old one goes. */
export function firewallName(network: string, rule: FirewallRule): string {
  return `${network}-fw-${shortHash(JSON.stringify(rule), 10)}`;
}

function firewallBody(
  network: string,
  networkLink: string,
  rule: FirewallRule,
  name: string,
): GceFirewall {
  const ports =
    rule.ports === undefined
      ? undefined
      : [
          rule.ports.from === rule.ports.to
            ? String(rule.ports.from)
            : `${rule.ports.from}-${rule.ports.to}`,
        ];
  const allowed = [{ IPProtocol: rule.protocol, ...(ports === undefined ? {} : { ports }) }];
  return {
    name,
    network: networkLink,
    direction: rule.direction === 'ingress' ? 'INGRESS' : 'EGRESS',
    priority: 1000,
    allowed,
    ...(rule.direction === 'ingress'
      ? { sourceRanges: rule.cidrs }
      : { destinationRanges: rule.cidrs }),
    targetTags: [networkTag(network)],
    description: ownerDescription({
      network,
      ...(rule.description === undefined ? {} : { note: rule.description }),
    }),
  };
}

export interface NetworkContext {
  readonly api: ComputeApi;
  readonly provider: string;
  readonly region: string;
  readonly project: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

function isNotFound(err: unknown): boolean {
  return err instanceof NotFound;
}

async function getOrUndefined<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Runs a mutation and waits for its operation; "already exists" counts as done. */
async function mutateAndWait(
  c: NetworkContext,
  method: string,
  context: string,
  scope: OperationScope,
  fn: (o: { timeout: number }) => Promise<readonly unknown[]>,
): Promise<void> {
  let op: GceOperation;
  try {
    op = await c.api.mutate(method, context, fn, c.signal);
  } catch (err) {
    if (err instanceof Conflict && /already exists/i.test(err.message)) return;
    throw err;
  }
  try {
    await c.api.awaitOperation(op, scope, c.project, context, c.timeoutMs, c.signal);
  } catch (err) {
    if (err instanceof Conflict && /already exists/i.test(err.message)) return;
    throw err;
  }
}

/** Makes the network exist as declared (see the module comment). */
export async function ensureNetwork(
  c: NetworkContext,
  input: NetworkSpecInput,
  labels: Record<string, string>,
): Promise<Network> {
  const spec = parse(NetworkSpecSchema, input, 'network spec');
  const { api, project, region } = c;
  const name = spec.name;
  const owner = { ...spec.labels, ...labels };
  let net = await getOrUndefined(() =>
    api.call(
      'networks.get',
      `reading network ${name}`,
      (o) => api.networks.get({ project, network: name }, o),
      c.signal,
    ),
  );
  if (net === undefined) {
    const body: GceNetwork = {
      name,
      autoCreateSubnetworks: false,
      routingConfig: { routingMode: 'REGIONAL' },
      mtu: 1460,
      description: ownerDescription({ labels: owner, cidr: spec.cidr }),
    };
    await mutateAndWait(c, 'networks.insert', `creating network ${name}`, 'global', (o) =>
      api.networks.insert({ project, networkResource: body }, o),
    );
    net = await api.call(
      'networks.get',
      `reading network ${name}`,
      (o) => api.networks.get({ project, network: name }, o),
      c.signal,
    );
  }
  const [network] = net;
  if (network.autoCreateSubnetworks === true)
    throw new Conflict(
      `network ${name} is an auto-mode VPC; kumo declares subnets itself and needs a custom-mode network (pick another name)`,
      {
        provider: c.provider,
        cause: { code: 'AUTO_MODE_NETWORK' },
      },
    );
  const networkLink = network.selfLink ?? `projects/${project}/global/networks/${name}`;

  // Subnetworks are regional; a neutral subnet's zone is kept in the description only.
  const declared =
    spec.subnets.length > 0
      ? spec.subnets
      : [{ name: 'main', cidr: spec.cidr, public: true, zone: undefined }];
  const subnets = await Promise.all(
    declared.map(async (s) => {
      const subName = subnetworkName(name, s.name);
      const read = (): Promise<[GceSubnetwork, ...unknown[]]> =>
        api.call(
          'subnetworks.get',
          `reading subnetwork ${subName}`,
          (o) => api.subnetworks.get({ project, region, subnetwork: subName }, o),
          c.signal,
        );
      let sub = await getOrUndefined(read);
      if (sub === undefined) {
        const body: GceSubnetwork = {
          name: subName,
          network: networkLink,
          region,
          ipCidrRange: s.cidr,
          // Machines in a private subnet have no external address; let them reach Google APIs anyway.
          privateIpGoogleAccess: !s.public,
          description: ownerDescription({
            network: name,
            subnet: s.name,
            public: s.public,
            ...(s.zone === undefined ? {} : { zone: s.zone }),
          }),
        };
        await mutateAndWait(
          c,
          'subnetworks.insert',
          `creating subnetwork ${subName}`,
          { region },
          (o) => api.subnetworks.insert({ project, region, subnetworkResource: body }, o),
        );
        sub = await read();
      }
      const [subnetwork] = sub;
      if (lastSegment(subnetwork.network) !== name)
        throw new Conflict(
          `subnetwork ${subName} in ${region} belongs to network ${lastSegment(subnetwork.network)}, not ${name}`,
          { provider: c.provider },
        );
      if (subnetwork.ipCidrRange !== s.cidr)
        throw new Conflict(
          `subnetwork ${subName} has range ${subnetwork.ipCidrRange ?? '?'}, not ${s.cidr}; a subnetwork's range cannot be changed in place`,
          {
            provider: c.provider,
            cause: { code: 'SUBNET_RANGE_MISMATCH' },
          },
        );
      return {
        id: subnetwork.selfLink ?? subName,
        name: s.name,
        cidr: s.cidr,
        ...(s.zone === undefined ? {} : { zone: s.zone }),
        public: s.public,
      };
    }),
  );

  // Firewall rules: make the declared ones, remove kumo's rules of this network that are no longer declared.
  const wanted = new Map(spec.firewall.map((r) => [firewallName(name, r), r] as const));
  const existing = (await listFirewalls(c)).filter(
    (f) =>
      lastSegment(f.network) === name &&
      f.name?.startsWith(`${name}-fw-`) &&
      readOwner(f.description) !== undefined,
  );
  const have = new Set(existing.map((f) => f.name));
  await Promise.all([
    ...[...wanted]
      .filter(([fwName]) => !have.has(fwName))
      .map(([fwName, rule]) =>
        mutateAndWait(c, 'firewalls.insert', `creating firewall ${fwName}`, 'global', (o) =>
          api.firewalls.insert(
            { project, firewallResource: firewallBody(name, networkLink, rule, fwName) },
            o,
          ),
        ),
      ),
    ...existing
      .filter((f) => !wanted.has(f.name ?? ''))
      .map((f) =>
        deleteQuietly(c, 'firewalls.delete', `deleting firewall ${f.name}`, 'global', (o) =>
          api.firewalls.delete({ project, firewall: f.name! }, o),
        ),
      ),
  ]);
  return {
    id: networkLink,
    name,
    provider: c.provider,
    cidr: spec.cidr,
    subnets,
    firewallId: `${name}-fw-`,
    labels: owner,
  };
}

async function listFirewalls(c: NetworkContext): Promise<GceFirewall[]> {
  return c.api.listAll<ListFirewallsRequest, GceFirewall>(
    'firewalls.list',
    'listing firewalls',
    (r, o) => c.api.firewalls.list(r, o),
    { project: c.project },
    c.signal,
  );
}

/** Deletes and waits; gone already is fine. */
async function deleteQuietly(
  c: NetworkContext,
  method: string,
  context: string,
  scope: OperationScope,
  fn: (o: { timeout: number }) => Promise<readonly unknown[]>,
): Promise<void> {
  try {
    const op = await c.api.mutate(method, context, fn, c.signal);
    await c.api.awaitOperation(op, scope, c.project, context, c.timeoutMs, c.signal);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/**
 * Deletes network `name` and kumo's pieces of it, dependants first: firewall rules,
 * then subnetworks, then the VPC. Gone already is success.
 * @throws Conflict when the network is not kumo's, or machines still use it.
 */
export async function deleteNetwork(c: NetworkContext, name: string): Promise<void> {
  const { api, project, region } = c;
  const net = await getOrUndefined(() =>
    api.call(
      'networks.get',
      `reading network ${name}`,
      (o) => api.networks.get({ project, network: name }, o),
      c.signal,
    ),
  );
  if (net === undefined) return;
  if (readOwner(net[0].description) === undefined)
    throw new Conflict(
      `network ${name} was not made by kumo (its description has no kumo mark); not deleting it`,
      { provider: c.provider },
    );
  const firewalls = (await listFirewalls(c)).filter(
    (f) => lastSegment(f.network) === name && readOwner(f.description) !== undefined,
  );
  await Promise.all(
    firewalls.map((f) =>
      deleteQuietly(c, 'firewalls.delete', `deleting firewall ${f.name}`, 'global', (o) =>
        api.firewalls.delete({ project, firewall: f.name! }, o),
      ),
    ),
  );
  const subnets = (
    await api.listAll<ListSubnetworksRequest, GceSubnetwork>(
      'subnetworks.list',
      `listing subnetworks in ${region}`,
      (r, o) => api.subnetworks.list(r, o),
      { project, region },
      c.signal,
    )
  ).filter((s) => lastSegment(s.network) === name && readOwner(s.description) !== undefined);
  await Promise.all(
    subnets.map((s) =>
      deleteQuietly(c, 'subnetworks.delete', `deleting subnetwork ${s.name}`, { region }, (o) =>
        api.subnetworks.delete({ project, region, subnetwork: s.name! }, o),
      ),
    ),
  );
  await deleteQuietly(c, 'networks.delete', `deleting network ${name}`, 'global', (o) =>
    api.networks.delete({ project, network: name }, o),
  );
}
