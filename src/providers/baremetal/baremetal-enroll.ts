/**
 * Enrolment for operators (`kumo baremetal enroll nodes.yaml`): makes each node of a
 * file exist in Ironic with its driver, BMC details, properties, ports and traits,
 * and takes it through `manage` and `provide` to `available`. Idempotent by node
 * name: a second run changes nothing that is already so, and never touches a node
 * that is deployed.
 */
import { z } from 'zod';
import {
  BatchPoller,
  errorMessage,
  parse,
  systemClock,
  Timeout,
  ValidationError,
  type Clock,
} from '../../core/index.js';
import type { IronicClient } from '../../clients/openstack/ironic-client.js';
import { ironicFault } from '../../clients/openstack/ironic-errors.js';
import {
  POWER_OFF,
  POWER_ON,
  PROVISION_STATES as PS,
  NODE_INTERFACES,
  type IronicNode,
  type IronicPatchOp,
  type NodeCreateRequest,
} from '../../clients/openstack/ironic-types.js';
import { TraitSchema } from './baremetal-config.js';
import { toKumoError } from './baremetal-errors.js';
import { ADDRESS_KEY } from './baremetal-mapper.js';

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;

const IpmiInfoSchema = z.looseObject({
  ipmi_address: z.string().min(1, 'driverInfo.ipmi_address (the BMC host) is required for ipmi'),
  ipmi_username: z.string().optional(),
  ipmi_password: z.string().optional(),
  ipmi_port: z.coerce.number().int().min(1).max(65535).optional(),
});

const RedfishInfoSchema = z.looseObject({
  redfish_address: z
    .string()
    .regex(/^https?:\/\/\S+$/, 'driverInfo.redfish_address is the BMC URL, e.g. https://10.0.0.5'),
  redfish_system_id: z.string().min(1).optional(),
  redfish_username: z.string().optional(),
  redfish_password: z.string().optional(),
  redfish_verify_ca: z.union([z.boolean(), z.string()]).optional(),
});

const PropertiesSchema = z.looseObject({
  cpus: z.number().int().positive('properties.cpus must be a positive whole number').optional(),
  memory_mb: z.number().int().positive().optional(),
  local_gb: z.number().int().nonnegative().optional(),
  cpu_arch: z.enum(['x86_64', 'aarch64', 'ppc64le']).optional(),
  /** GPUs on the node; kumo counts them into the node's resources. */
  gpus: z.number().int().nonnegative().optional(),
});

const NodeEntrySchema = z
  .object({
    /** Node name; with `count`, `{i}` becomes 1…count, zero-padded. */
    name: z.string().min(1),
    /** Makes `count` nodes from this entry. */
    count: z.number().int().min(1).max(255).optional(),
    /** `ipmi`, `redfish`, or another hardware type the conductors enable (`fake-hardware` in labs). */
    driver: z.string().min(1),
    /** The BMC: address and credentials, as Ironic names them (`ipmi_address`, `redfish_address`, …); with `count`, `{i}` in a value becomes the index. */
    driverInfo: z.record(z.string(), z.unknown()).default({}),
    resourceClass: z.string().min(1).max(80).optional(),
    /** As Ironic names them: `cpus`, `memory_mb`, `local_gb`, `cpu_arch`, `capabilities`, …; plus `gpus`. */
    properties: PropertiesSchema.default({}),
    /** MACs of the NICs to create ports for; with `count`, `{i}` becomes the index as two hex digits. */
    ports: z.array(z.string()).default([]),
    traits: z.array(TraitSchema).default([]),
    /** Interfaces by kind (`deploy: direct`, `raid: agent`), where the hardware type's default will not do. */
    interfaces: z.partialRecord(z.enum(NODE_INTERFACES), z.string().min(1)).default({}),
    /** Clean on every undeploy (Ironic's conductor default when absent). */
    automatedClean: z.boolean().optional(),
    /** The machine's address(es) once deployed (for nodes whose IP is known up front). */
    address: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
    /** Power the node on or off once available (a fake driver never reports power by itself). */
    power: z.enum(['on', 'off']).optional(),
    extra: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

/** A nodes file: nodes, and defaults merged under each. */
export const EnrollFileSchema = z
  .object({
    defaults: NodeEntrySchema.partial().strict().default({}),
    nodes: z.array(z.record(z.string(), z.unknown())).min(1, 'nodes lists at least one node'),
  })
  .strict();
export type EnrollFile = z.input<typeof EnrollFileSchema>;
type NodeEntry = z.output<typeof NodeEntrySchema>;

/** One node after templates are expanded. */
export interface EnrollNode extends Omit<NodeEntry, 'count' | 'name' | 'ports'> {
  readonly name: string;
  readonly ports: readonly string[];
}

function expand(entry: NodeEntry): EnrollNode[] {
  const { count, ...rest } = entry;
  if (count === undefined) return [{ ...rest, ports: rest.ports.map((m) => m.toLowerCase()) }];
  const width = String(count).length;
  return Array.from({ length: count }, (_, k) => {
    const i = k + 1;
    // {i} is zero-padded in names (sorting), hex in MACs, plain in addresses and BMC details.
    const plain = (v: string): string => v.replaceAll('{i}', String(i));
    return {
      ...rest,
      name: rest.name.replaceAll('{i}', String(i).padStart(width, '0')),
      ports: rest.ports.map((m) =>
        m.replaceAll('{i}', i.toString(16).padStart(2, '0')).toLowerCase(),
      ),
      driverInfo: Object.fromEntries(
        Object.entries(rest.driverInfo).map(([key, v]) => [
          key,
          typeof v === 'string' ? plain(v) : v,
        ]),
      ),
      ...(rest.address === undefined
        ? {}
        : { address: Array.isArray(rest.address) ? rest.address.map(plain) : plain(rest.address) }),
    };
  });
}

/**
 * Parses and checks a nodes file: every entry with the defaults under it, names and
 * MACs unique, driver details complete for ipmi and redfish.
 * @throws ValidationError naming each field at fault (`nodes.3.driverInfo.ipmi_address`).
 */
export function parseEnrollFile(input: unknown): EnrollNode[] {
  const file = parse(EnrollFileSchema, input, 'nodes file');
  const issues: { path: string; message: string }[] = [];
  const nodes: EnrollNode[] = [];
  file.nodes.forEach((raw, i) => {
    const merged = {
      ...file.defaults,
      ...raw,
      driverInfo: { ...file.defaults.driverInfo, ...(raw.driverInfo as object | undefined) },
      properties: { ...file.defaults.properties, ...(raw.properties as object | undefined) },
      extra: { ...file.defaults.extra, ...(raw.extra as object | undefined) },
      interfaces: { ...file.defaults.interfaces, ...(raw.interfaces as object | undefined) },
    };
    const result = NodeEntrySchema.safeParse(merged);
    if (!result.success) {
      for (const issue of result.error.issues)
        issues.push({ path: ['nodes', i, ...issue.path].join('.'), message: issue.message });
      return;
    }
    const entry = result.data;
    const info =
      entry.driver === 'ipmi'
        ? IpmiInfoSchema
        : entry.driver === 'redfish'
          ? RedfishInfoSchema
          : undefined;
    const checked = info?.safeParse(entry.driverInfo);
    if (checked !== undefined && !checked.success)
      for (const issue of checked.error.issues)
        issues.push({
          path: ['nodes', i, 'driverInfo', ...issue.path].join('.'),
          message: issue.message,
        });
    if (entry.count !== undefined && !entry.name.includes('{i}'))
      issues.push({
        path: `nodes.${i}.name`,
        message: 'with count, the name needs {i} where the number goes',
      });
    if (entry.count === undefined)
      for (const [key, value] of Object.entries(entry.driverInfo))
        if (typeof value === 'string' && value.includes('{i}'))
          issues.push({
            path: `nodes.${i}.driverInfo.${key}`,
            message: '{i} is numbered only for an entry with count',
          });
    for (const node of expand(entry)) {
      node.ports.forEach((mac, p) => {
        if (!MAC.test(mac))
          issues.push({ path: `nodes.${i}.ports.${p}`, message: `"${mac}" is not a MAC address` });
      });
      if (!/^[A-Za-z0-9._~-]+$/.test(node.name))
        issues.push({
          path: `nodes.${i}.name`,
          message: `"${node.name}": node names use letters, digits, ".", "_", "~", "-"`,
        });
      nodes.push(node);
    }
  });
  const seen = new Map<string, string>();
  for (const node of nodes) {
    if (seen.has(`name:${node.name}`))
      issues.push({ path: 'nodes', message: `node name "${node.name}" appears twice` });
    seen.set(`name:${node.name}`, node.name);
    for (const mac of node.ports) {
      const owner = seen.get(`mac:${mac}`);
      if (owner !== undefined)
        issues.push({
          path: 'nodes',
          message: `MAC ${mac} is given to both ${owner} and ${node.name}`,
        });
      seen.set(`mac:${mac}`, node.name);
    }
  }
  if (issues.length > 0)
    throw new ValidationError(
      `invalid nodes file: ${issues.map((x) => `${x.path}: ${x.message}`).join('; ')}`,
      { issues },
    );
  return nodes;
}

/** What enrolment did to one node. */
export interface EnrollResult {
  readonly name: string;
  readonly uuid?: string;
  /** The node's provision state at the end (`available` when all went well). */
  readonly state?: string;
  readonly powerState?: string | null;
  readonly created: boolean;
  /** Steps taken (`created`, `port 52:54:…`, `traits`, `manage`, `provide`, `power off`). */
  readonly changes: readonly string[];
  /** Differences kumo saw but did not change (a deployed node, the driver of an existing node). */
  readonly warnings: readonly string[];
  readonly error?: string;
}

/** A progress line: which node, what step, how it went. */
export interface EnrollEvent {
  readonly node: string;
  readonly step: string;
  readonly detail?: string;
}

export interface EnrollOptions {
  clock?: Clock;
  onEvent?: (event: EnrollEvent) => void;
  /** Longest wait for one node to reach available (cleaning can be slow on real hardware). Default 30 min. */
  timeoutMs?: number;
  /** Nodes worked on at once. Default 8. */
  concurrency?: number;
  /** Name used in errors. Default `baremetal`. */
  provider?: string;
  pollIntervalMs?: number;
}

const WATCH_FIELDS = [
  'uuid',
  'name',
  'instance_uuid',
  'provision_state',
  'target_provision_state',
  'power_state',
  'target_power_state',
  'last_error',
] as const;

/**
 * Enrols every node of a parsed file; one node's failure does not stop the others
 * (see each result's `error`).
 *
 * @example
 * ```ts
 * const results = await enrollNodes(ironic, parseEnrollFile(yaml.parse(text)), { onEvent: (e) => console.log(e) });
 * ```
 */
export async function enrollNodes(
  ironic: IronicClient,
  nodes: readonly EnrollNode[],
  options: EnrollOptions = {},
): Promise<EnrollResult[]> {
  const provider = options.provider ?? 'baremetal';
  const clock = options.clock ?? systemClock;
  await ironic.negotiate();
  const poller = new BatchPoller<IronicNode>({
    clock,
    provider,
    intervalMs: options.pollIntervalMs ?? 500,
    maxIntervalMs: 3000,
    maxBatch: 100_000,
    fetch: async () => {
      try {
        const list = await ironic.listNodes({ fields: WATCH_FIELDS });
        return new Map(list.map((n) => [n.uuid, n] as const));
      } catch (error) {
        throw toKumoError(error, provider, 'watching nodes');
      }
    },
  });
  const results: EnrollResult[] = new Array<EnrollResult>(nodes.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < nodes.length; i = next++) {
      results[i] = await enrollOne(ironic, nodes[i]!, poller, options, provider);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency ?? 8, nodes.length) }, worker),
  );
  return results;
}

async function enrollOne(
  ironic: IronicClient,
  spec: EnrollNode,
  poller: BatchPoller<IronicNode>,
  options: EnrollOptions,
  provider: string,
): Promise<EnrollResult> {
  const changes: string[] = [];
  const warnings: string[] = [];
  const say = (step: string, detail?: string): void => {
    options.onEvent?.({ node: spec.name, step, ...(detail === undefined ? {} : { detail }) });
  };
  const step = (what: string, detail?: string): void => {
    changes.push(what);
    say(what, detail);
  };
  let node: IronicNode | undefined;
  let created = false;
  try {
    node = await findNode(ironic, spec.name);
    if (node === undefined) {
      try {
        node = await ironic.createNode(createBody(spec));
        created = true;
        step(
          'created',
          `driver ${spec.driver}${spec.resourceClass ? `, resource class ${spec.resourceClass}` : ''}`,
        );
      } catch (error) {
        // Another run enrolled it between our look and our create: carry on with that node.
        if (ironicFault(error) !== 'Duplicate') throw error;
        node = await ironic.getNode(spec.name);
      }
    }
    if (!created) {
      say('found', `${node.provision_state}${node.instance_uuid ? ', deployed' : ''}`);
      await reconcile(ironic, node, spec, step, warnings);
    }
    const uuid = node.uuid;
    await ensurePorts(ironic, uuid, spec.ports, step);
    if (spec.traits.length > 0 || (node.traits ?? []).length > 0) {
      const have = [...(node.traits ?? [])].sort();
      const want = [...spec.traits].sort();
      if (have.join() !== want.join()) {
        await ironic.setTraits(uuid, want);
        step('traits', want.join(', ') || '(none)');
      }
    }
    node = await toAvailable(ironic, uuid, poller, options, step);
    // Never power a deployed node off (or on) under its user: power is set only on free nodes.
    if (spec.power !== undefined && node.provision_state === PS.available && !node.instance_uuid) {
      const target = spec.power === 'on' ? POWER_ON : POWER_OFF;
      if (node.power_state !== target) {
        await ironic.setPowerState(uuid, target);
        step(target);
        node = await settle(
          poller,
          uuid,
          (n) => n.power_state === target && !n.target_power_state,
          options,
          `${spec.name} ${target}`,
        );
      }
    }
    if (node.provision_state !== PS.available && node.provision_state !== PS.active)
      throw new ValidationError(
        `ended in "${node.provision_state}"${node.last_error ? `: ${node.last_error}` : ''}`,
        { provider },
      );
    say('done', node.provision_state);
    return {
      name: spec.name,
      uuid,
      ...(node.provision_state === undefined ? {} : { state: node.provision_state }),
      powerState: node.power_state ?? null,
      created,
      changes,
      warnings,
    };
  } catch (error) {
    const message = errorMessage(toKumoError(error, provider, `enrolling ${spec.name}`));
    say('failed', message);
    return {
      name: spec.name,
      ...(node === undefined ? {} : { uuid: node.uuid }),
      ...(node?.provision_state === undefined ? {} : { state: node.provision_state }),
      created,
      changes,
      warnings,
      error: message,
    };
  }
}

async function findNode(ironic: IronicClient, name: string): Promise<IronicNode | undefined> {
  try {
    return await ironic.getNode(name);
  } catch (error) {
    if (ironicFault(error) === 'NotFound') return undefined;
    throw error;
  }
}

function createBody(spec: EnrollNode): NodeCreateRequest {
  const interfaces: Record<string, string> = {};
  for (const [kind, name] of Object.entries(spec.interfaces))
    interfaces[`${kind}_interface`] = name;
  return {
    name: spec.name,
    driver: spec.driver,
    driver_info: spec.driverInfo,
    properties: spec.properties,
    extra: {
      ...spec.extra,
      ...(spec.address === undefined ? {} : { [ADDRESS_KEY]: spec.address }),
    },
    ...(spec.resourceClass === undefined ? {} : { resource_class: spec.resourceClass }),
    ...(spec.automatedClean === undefined ? {} : { automated_clean: spec.automatedClean }),
    ...interfaces,
  };
}

/**
 * Brings an existing node's properties, resource class, extra and cleaning setting
 * in line with the file — only while nothing is deployed on it. The driver and BMC
 * details of an existing node are left alone (Ironic masks passwords, so kumo cannot
 * tell whether they differ) and reported instead.
 */
async function reconcile(
  ironic: IronicClient,
  node: IronicNode,
  spec: EnrollNode,
  step: (what: string, detail?: string) => void,
  warnings: string[],
): Promise<void> {
  const full = await ironic.getNode(node.uuid);
  const ops: IronicPatchOp[] = [];
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  for (const [key, value] of Object.entries(spec.properties))
    if (!same(full.properties?.[key], value))
      ops.push({ op: 'add', path: `/properties/${key}`, value });
  if (spec.resourceClass !== undefined && full.resource_class !== spec.resourceClass)
    ops.push({ op: 'add', path: '/resource_class', value: spec.resourceClass });
  const extra = {
    ...spec.extra,
    ...(spec.address === undefined ? {} : { [ADDRESS_KEY]: spec.address }),
  };
  for (const [key, value] of Object.entries(extra))
    if (!same(full.extra?.[key], value)) ops.push({ op: 'add', path: `/extra/${key}`, value });
  const clean = (full as { automated_clean?: boolean | null }).automated_clean ?? undefined;
  if (spec.automatedClean !== undefined && clean !== spec.automatedClean)
    ops.push({ op: 'add', path: '/automated_clean', value: spec.automatedClean });
  if (full.driver !== spec.driver)
    warnings.push(`driver is ${full.driver}, the file says ${spec.driver}; not changed`);
  for (const [kind, name] of Object.entries(spec.interfaces)) {
    const have = (full as Record<string, unknown>)[`${kind}_interface`];
    if (have !== name)
      warnings.push(`${kind} interface is ${String(have)}, the file says ${name}; not changed`);
  }
  if (ops.length === 0) return;
  if (full.instance_uuid) {
    warnings.push(
      `deployed (instance ${full.instance_uuid}): ${ops.map((o) => o.path).join(', ')} differ; not changed`,
    );
    return;
  }
  await ironic.patchNode(node.uuid, ops);
  step('updated', ops.map((o) => o.path.slice(1)).join(', '));
}

async function ensurePorts(
  ironic: IronicClient,
  uuid: string,
  macs: readonly string[],
  step: (what: string, detail?: string) => void,
): Promise<void> {
  if (macs.length === 0) return;
  const have = new Set(
    (await ironic.listPorts({ node_uuid: uuid })).map((p) => p.address.toLowerCase()),
  );
  for (const mac of macs) {
    if (have.has(mac)) continue;
    await ironic.createPort({ address: mac, node_uuid: uuid });
    step(`port ${mac}`);
  }
}

/** enroll → manage → manageable → provide → available, waiting through verifying and cleaning. */
async function toAvailable(
  ironic: IronicClient,
  uuid: string,
  poller: BatchPoller<IronicNode>,
  options: EnrollOptions,
  step: (what: string, detail?: string) => void,
): Promise<IronicNode> {
  let node = await settle(poller, uuid, stable, options, `node ${uuid} to settle`);
  for (let round = 0; round < 3; round++) {
    const state = node.provision_state;
    const target = state === PS.enroll ? 'manage' : state === PS.manageable ? 'provide' : undefined;
    if (target === undefined) return node;
    await ironic.setProvisionState(uuid, { target });
    step(target, target === 'manage' ? 'checking the BMC' : 'cleaning');
    node = await settle(poller, uuid, stable, options, `node ${uuid} to ${target}`);
    if (node.provision_state === state)
      throw new ValidationError(
        `"${target}" left the node in "${state}": ${node.last_error ?? 'no error recorded'}`,
      );
  }
  return node;
}

function stable(node: IronicNode): boolean {
  return !node.target_provision_state && !node.target_power_state;
}

async function settle(
  poller: BatchPoller<IronicNode>,
  uuid: string,
  done: (node: IronicNode) => boolean,
  options: EnrollOptions,
  what: string,
): Promise<IronicNode> {
  const found = await poller.waitFor(
    [uuid],
    (m) => {
      const n = m.get(uuid);
      return n === undefined || done(n);
    },
    { timeoutMs: options.timeoutMs ?? 30 * 60_000, what },
  );
  const node = found.get(uuid);
  if (node === undefined) throw new Timeout(`node ${uuid} disappeared while waiting for ${what}`);
  return node;
}
