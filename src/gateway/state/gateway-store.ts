/**
 * What the gateway remembers that the logical datacenter does not: Neutron objects
 * (networks, subnets, security groups and their rules), Nova key pairs, and each
 * server's OpenStack-only fields (its name, flavor, image, security groups). Machines
 * themselves live in the datacenter's state; this file only adds to them.
 *
 * Kept as one JSON file (mode 0600, written atomically through a rename), or in memory
 * when no path is given. Holds no secrets: public keys only, never private keys or
 * passwords.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { parse } from '../../core/index.js';

const Stamp = { createdAt: z.string(), updatedAt: z.string(), revision: z.number().int() };

export const NetworkObjectSchema = z.object({
  id: z.string(),
  projectId: z.string(),
  name: z.string(),
  description: z.string(),
  adminStateUp: z.boolean(),
  /** Provider name → the provider network made for it (ensured when a server first lands there). */
  bound: z.record(z.string(), z.string()),
  ...Stamp,
});
export type NetworkObject = z.infer<typeof NetworkObjectSchema>;

export const SubnetObjectSchema = z.object({
  id: z.string(),
  projectId: z.string(),
  networkId: z.string(),
  name: z.string(),
  description: z.string(),
  cidr: z.string(),
  gatewayIp: z.string().nullable(),
  allocationPools: z.array(z.object({ start: z.string(), end: z.string() })),
  enableDhcp: z.boolean(),
  dnsNameservers: z.array(z.string()),
  ...Stamp,
});
export type SubnetObject = z.infer<typeof SubnetObjectSchema>;

export const SecurityGroupObjectSchema = z.object({
  id: z.string(),
  projectId: z.string(),
  name: z.string(),
  description: z.string(),
  ...Stamp,
});
export type SecurityGroupObject = z.infer<typeof SecurityGroupObjectSchema>;

export const RuleObjectSchema = z.object({
  id: z.string(),
  projectId: z.string(),
  securityGroupId: z.string(),
  direction: z.enum(['ingress', 'egress']),
  ethertype: z.enum(['IPv4', 'IPv6']),
  /** `tcp`, `udp`, `icmp`, or null for any. */
  protocol: z.enum(['tcp', 'udp', 'icmp']).nullable(),
  portRangeMin: z.number().int().nullable(),
  portRangeMax: z.number().int().nullable(),
  remoteIpPrefix: z.string().nullable(),
  remoteGroupId: z.string().nullable(),
  description: z.string(),
  ...Stamp,
});
export type RuleObject = z.infer<typeof RuleObjectSchema>;

export const KeypairObjectSchema = z.object({
  id: z.number().int(),
  userId: z.string(),
  name: z.string(),
  publicKey: z.string(),
  fingerprint: z.string(),
  type: z.enum(['ssh', 'x509']),
  createdAt: z.string(),
});
export type KeypairObject = z.infer<typeof KeypairObjectSchema>;

export const ServerObjectSchema = z.object({
  /** The server's UUID, also the idempotency key of its machine. */
  id: z.string(),
  projectId: z.string(),
  userId: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  flavorId: z.string(),
  imageId: z.string(),
  availabilityZone: z.string(),
  networkId: z.string().nullable(),
  securityGroupIds: z.array(z.string()),
  keyName: z.string().nullable(),
  metadata: z.record(z.string(), z.string()),
  /** Whether the create carried user data (never kept here: it may hold secrets). */
  hasUserData: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** When the machine was first seen running (Nova's `OS-SRV-USG:launched_at`). */
  launchedAt: z.string().nullable(),
  /** Set once a delete was asked for: the server goes when its machine does. */
  deletedAt: z.string().nullable(),
  /** Set when the create failed before a machine existed: the server shows ERROR with this fault. */
  fault: z.object({ code: z.number().int(), message: z.string(), created: z.string() }).nullable(),
});
export type ServerObject = z.infer<typeof ServerObjectSchema>;

const FileSchema = z.object({
  format: z.literal('kumo-gateway/1'),
  networks: z.array(NetworkObjectSchema),
  subnets: z.array(SubnetObjectSchema),
  securityGroups: z.array(SecurityGroupObjectSchema),
  rules: z.array(RuleObjectSchema),
  keypairs: z.array(KeypairObjectSchema),
  servers: z.array(ServerObjectSchema),
});

/**
 * The gateway's own objects, by id.
 *
 * @example
 * ```ts
 * const store = await GatewayStore.open('.kumo/gateway.json');
 * store.networks.set(net.id, net);
 * await store.save();
 * ```
 */
export class GatewayStore {
  readonly networks = new Map<string, NetworkObject>();
  readonly subnets = new Map<string, SubnetObject>();
  readonly securityGroups = new Map<string, SecurityGroupObject>();
  readonly rules = new Map<string, RuleObject>();
  /** By `<userId>/<name>`. */
  readonly keypairs = new Map<string, KeypairObject>();
  readonly servers = new Map<string, ServerObject>();
  readonly path: string | undefined;
  #writing: Promise<void> = Promise.resolve();

  private constructor(path: string | undefined) {
    this.path = path;
  }

  /**
   * Opens the store at `path` (created on first save), or in memory without one.
   * @throws ValidationError when the file exists but is not a gateway store.
   */
  static async open(path?: string): Promise<GatewayStore> {
    const store = new GatewayStore(path);
    if (path === undefined) return store;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return store;
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const data = parse(FileSchema, json, `gateway store ${path}`);
    for (const n of data.networks) store.networks.set(n.id, n);
    for (const s of data.subnets) store.subnets.set(s.id, s);
    for (const g of data.securityGroups) store.securityGroups.set(g.id, g);
    for (const r of data.rules) store.rules.set(r.id, r);
    for (const k of data.keypairs) store.keypairs.set(`${k.userId}/${k.name}`, k);
    for (const s of data.servers) store.servers.set(s.id, s);
    return store;
  }

  /** Writes everything (writes are queued, so the file always holds a whole, recent state). */
  save(): Promise<void> {
    const path = this.path;
    if (path === undefined) return Promise.resolve();
    const body: z.input<typeof FileSchema> = {
      format: 'kumo-gateway/1',
      networks: [...this.networks.values()],
      subnets: [...this.subnets.values()],
      securityGroups: [...this.securityGroups.values()],
      rules: [...this.rules.values()],
      keypairs: [...this.keypairs.values()],
      servers: [...this.servers.values()],
    };
    const text = `${JSON.stringify(body, null, 2)}\n`;
    const run = this.#writing.then(async () => {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, text, { mode: 0o600 });
      await chmod(tmp, 0o600);
      await rename(tmp, path);
    });
    this.#writing = run.catch(() => undefined);
    return run;
  }
}
