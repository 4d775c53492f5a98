/**
 * Ironic-specific behaviour on the real lab: placement over several node shapes, a
 * deploy that really fails, many deploys at once with no node claimed twice, the
 * way back to available, locks, config drives as Ironic stored them, and enrolment
 * run twice.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  isKumoError,
  machineName,
  machineNamePrefix,
  TAG_DC,
  TAG_KEY,
  waitUntil,
  type CreateMachinesRequestInput,
  type Machine,
} from '../../../src/core/index.js';
import type { FetchLike } from '../../../src/clients/openstack/http.js';
import type { IronicClient } from '../../../src/clients/openstack/ironic-client.js';
import type { IronicNode } from '../../../src/clients/openstack/ironic-types.js';
import { enrollNodes, parseEnrollFile } from '../../../src/providers/baremetal/baremetal-enroll.js';
import type { BaremetalProviderHandle } from '../../../src/providers/baremetal/index.js';
import { labClient, labProvider, readLab } from './lab.js';

const dc = `lab-${randomBytes(3).toString('hex')}`;
let seq = 0;
let provider: BaremetalProviderHandle;
let ironic: IronicClient;

function request(overrides: Partial<CreateMachinesRequestInput> = {}): CreateMachinesRequestInput {
  seq += 1;
  return {
    spec: { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04' },
    count: 1,
    idempotencyKey: `${dc}-k${seq}`,
    dc,
    pool: `p${seq}`,
    ...overrides,
  };
}

async function nodeOf(machine: Machine): Promise<IronicNode> {
  const [node] = await ironic.listNodes({ instance_uuid: machine.providerId });
  if (node === undefined) throw new Error(`no node carries ${machine.providerId}`);
  return node;
}

/** What Ironic stored for a node, read from its database: the API masks the config drive. */
function storedInstanceInfo(nodeUuid: string): Record<string, unknown> {
  const db = new Database(readLab().database, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT instance_info FROM nodes WHERE uuid = ?').get(nodeUuid) as
      { instance_info: string } | undefined;
    return JSON.parse(row?.instance_info ?? '{}') as Record<string, unknown>;
  } finally {
    db.close();
  }
}

async function allAvailable(uuids: readonly string[]): Promise<IronicNode[]> {
  return waitUntil(
    async () => {
      const nodes = (
        await ironic.listNodes({ fields: ['uuid', 'provision_state', 'instance_uuid'] })
      ).filter((n) => uuids.includes(n.uuid));
      return nodes.every((n) => n.provision_state === 'available' && !n.instance_uuid)
        ? nodes
        : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 500, what: 'nodes back to available' },
  );
}

beforeAll(() => {
  provider = labProvider();
  ironic = labClient();
});

afterAll(async () => {
  const left = await provider.listMachines({ labels: { [TAG_DC]: dc } });
  await provider.deleteMachines(left.map((m) => m.providerId));
});

describe('baremetal on the Ironic lab', () => {
  it('places each request on the node shape that fits its resources, GPUs, architecture and traits', async () => {
    const [large] = await provider.createMachines(
      request({ spec: { resources: { cpus: 16, memoryMiB: 65536 }, image: 'ubuntu-22.04' } }),
    );
    const [gpu] = await provider.createMachines(
      request({
        spec: { resources: { cpus: 8, memoryMiB: 16384, gpus: 2 }, image: 'ubuntu-22.04' },
      }),
    );
    const [arm] = await provider.createMachines(
      request({ spec: { resources: { cpus: 8, memoryMiB: 8192 }, image: 'debian-12-arm64' } }),
    );
    const [nvme] = await provider.createMachines(
      request({ spec: { size: 'bm-gpu+CUSTOM_NVME', image: 'debian-12' } }),
    );
    expect([large!.size, gpu!.size, arm!.size, nvme!.size]).toEqual([
      'bm-large',
      'bm-gpu',
      'bm-arm',
      'bm-gpu+CUSTOM_NVME',
    ]);
    expect(gpu!.resources.gpus).toBe(4);
    for (const [m, rc] of [
      [large!, 'bm-large'],
      [gpu!, 'bm-gpu'],
      [arm!, 'bm-arm'],
      [nvme!, 'bm-gpu'],
    ] as const) {
      const node = await nodeOf(m);
      expect(node.resource_class).toBe(rc);
      expect(node.provision_state).toBe('active');
      expect(node.power_state).toBe('power on');
    }
    const nvmeNode = await nodeOf(nvme!);
    expect(nvmeNode.traits).toContain('CUSTOM_NVME');
    // Deploy templates match on instance_info.traits, as with Nova's flavors.
    expect(nvmeNode.instance_info?.traits).toEqual(['CUSTOM_NVME']);
    // md5 goes to image_checksum, sha-2 to os_hash (Ironic reads both).
    expect(nvmeNode.instance_info).toMatchObject({
      image_checksum: '0123456789abcdef0123456789abcdef',
    });
    expect((await nodeOf(large!)).instance_info).toMatchObject({ image_os_hash_algo: 'sha256' });

    let caught: unknown;
    try {
      await provider.createMachines(
        request({ spec: { size: 'bm-arm+CUSTOM_NVME', image: 'debian-12-arm64' } }),
      );
    } catch (error) {
      caught = error;
    }
    expect(isKumoError(caught) && caught.code).toBe('InsufficientCapacity');
    expect(String((caught as Error).message)).toMatch(
      /0 free with those traits \(.*bm-small: \d+ free/,
    );
    await provider.deleteMachines([large!, gpu!, arm!, nvme!].map((m) => m.providerId));
  });

  it('surfaces a deploy that fails with Ironic’s last_error and gives the node back', async () => {
    const seen = new Set<string>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const n of await ironic.listNodes({
          resource_class: 'bm-agent',
          fields: ['uuid', 'provision_state'],
        }))
          if (n.provision_state) seen.add(n.provision_state);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const req = request({ spec: { size: 'bm-agent', image: 'ubuntu-22.04' } });
    let caught: unknown;
    try {
      await provider.createMachines(req);
    } catch (error) {
      caught = error;
    } finally {
      watching = false;
      await watcher;
    }
    expect(isKumoError(caught) && caught.code).toBe('ProviderError');
    expect((caught as Error).message).toMatch(
      /Timeout reached while waiting for callback for node/,
    );
    expect((caught as { cause?: { code?: string } }).cause?.code).toBe('DeployFailed');
    // The deploy really went the agent's way: deploying, then waiting for a call-back that
    // never came. ('deploy failed' itself lasts only until kumo undeploys the node, too
    // briefly for a watcher polling every 250 ms to be sure to see it; the DeployFailed
    // cause above is kumo's reading of that state.)
    expect(seen).toContain('wait call-back');
    const agents = await ironic.listNodes({ resource_class: 'bm-agent', fields: ['uuid'] });
    await allAvailable(agents.map((n) => n.uuid));
    expect(await provider.listMachines({ labels: { [TAG_KEY]: req.idempotencyKey } })).toEqual([]);
    const name = machineName(
      machineNamePrefix({ pool: req.pool!, idempotencyKey: req.idempotencyKey }),
      0,
    );
    expect((await ironic.listAllocations()).filter((a) => a.name === name)).toEqual([]);
  });

  it('deploys 20 machines at once on 20 different nodes, and undeploying returns every node to available', async () => {
    const reqs = Array.from({ length: 20 }, () => request());
    const made = (await Promise.all(reqs.map((r) => provider.createMachines(r)))).flat();
    expect(made).toHaveLength(20);
    expect(made.every((m) => m.state === 'running')).toBe(true);
    const nodes = await ironic.listNodes({
      associated: true,
      fields: ['uuid', 'instance_uuid', 'provision_state'],
    });
    const mine = made.map((m) => nodes.filter((n) => n.instance_uuid === m.providerId));
    // Each machine on exactly one node, and no node under two machines.
    expect(mine.every((list) => list.length === 1)).toBe(true);
    const uuids = mine.map((list) => list[0]!.uuid);
    expect(new Set(uuids).size).toBe(20);
    const allocations = (await ironic.listAllocations()).filter((a) =>
      made.some((m) => m.providerId === a.uuid),
    );
    expect(new Set(allocations.map((a) => a.node_uuid)).size).toBe(20);

    await provider.deleteMachines(made.map((m) => m.providerId));
    const back = await allAvailable(uuids);
    expect(back).toHaveLength(20);
    for (const m of made)
      await expect(provider.getMachine(m.providerId)).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('retries a node locked by the conductor (409) until the call goes through', async () => {
    const [m] = await provider.createMachines(request());
    const node = await nodeOf(m!);
    let locked = 0;
    const observing: FetchLike = async (url, init) => {
      const res = await fetch(url, init);
      if (res.status === 409) locked += 1;
      return res;
    };
    const watched = labProvider({}, { fetch: observing });
    // A power change holds the node's lock for up to a second (the lab's fake power
    // delay); a stop sent meanwhile meets 409 "locked". Try a few times: the delay is random.
    for (let attempt = 0; attempt < 6 && locked === 0; attempt++) {
      await ironic.setPowerState(node.uuid, 'rebooting');
      const stopped = await watched.stopMachine(m!.providerId);
      expect(stopped.state).toBe('stopped');
      await watched.startMachine(m!.providerId);
    }
    expect(locked).toBeGreaterThan(0);
    await provider.deleteMachines([m!.providerId]);
  });

  it('hands Ironic 1.56+ a JSON config drive with the metadata, SSH keys, labels and user data', async () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKumoTestKeyOnly kumo@test';
    const [m] = await provider.createMachines(
      request({
        spec: {
          resources: { cpus: 2, memoryMiB: 4096 },
          image: 'ubuntu-22.04',
          sshKeys: [key],
          userData: '#cloud-config\nhostname: web\n',
        },
        labels: { team: 'Data Eng' },
      }),
    );
    const drive = storedInstanceInfo((await nodeOf(m!)).uuid).configdrive as Record<
      string,
      unknown
    >;
    expect(drive.user_data).toBe('#cloud-config\nhostname: web\n');
    expect(drive.meta_data).toMatchObject({
      uuid: m!.providerId,
      hostname: m!.id,
      public_keys: { 'key-0': key },
      meta: { team: 'Data Eng', [TAG_KEY]: m!.labels[TAG_KEY] },
    });
    await provider.deleteMachines([m!.providerId]);
  });

  it('on an older API claims nodes itself and builds an ISO 9660 config drive that standard tools read', async () => {
    const old = labProvider({ claim: 'reserve', microversion: '1.51' });
    const req = request({
      spec: {
        resources: { cpus: 2, memoryMiB: 4096 },
        image: 'ubuntu-22.04',
        userData: 'echo hello\n',
      },
    });
    const made = await old.createMachines({ ...req, count: 2 });
    expect(made.map((m) => m.state)).toEqual(['running', 'running']);
    expect(old.apiCalls()['POST /v1/allocations']).toBeUndefined();
    expect(new Set(made.map((m) => m.providerId)).size).toBe(2);
    // A retry finds both by the record written in the same PATCH as the claim.
    expect(
      (await old.createMachines({ ...req, count: 2 })).map((m) => m.providerId).sort(),
    ).toEqual(made.map((m) => m.providerId).sort());

    const node = await nodeOf(made[0]!);
    const drive = storedInstanceInfo(node.uuid).configdrive;
    expect(typeof drive).toBe('string');
    const dir = mkdtempSync(join(tmpdir(), 'kumo-cd-'));
    const iso = join(dir, 'config.iso');
    writeFileSync(iso, gunzipSync(Buffer.from(drive as string, 'base64')));
    expect(execFileSync('isoinfo', ['-d', '-i', iso], { encoding: 'utf8' })).toMatch(
      /Volume id: config-2/,
    );
    const meta = JSON.parse(
      execFileSync('isoinfo', ['-J', '-x', '/openstack/latest/meta_data.json', '-i', iso], {
        encoding: 'utf8',
      }),
    ) as Record<string, unknown>;
    expect(meta).toMatchObject({ uuid: made[0]!.providerId, hostname: made[0]!.id });
    expect(
      execFileSync('isoinfo', ['-J', '-x', '/openstack/2012-08-10/user_data', '-i', iso], {
        encoding: 'utf8',
      }),
    ).toBe('echo hello\n');

    await old.deleteMachines(made.map((m) => m.providerId));
    await allAvailable([node.uuid]);
  });

  it('enrolling the lab’s nodes again changes nothing', async () => {
    const nodes = parseEnrollFile(parseYaml(readFileSync(readLab().nodesFile, 'utf8')));
    // The first run may set power back to what the file says on nodes the tests used.
    await enrollNodes(ironic, nodes, { concurrency: 16 });
    const again = await enrollNodes(ironic, nodes, { concurrency: 16 });
    expect(again.filter((r) => r.error !== undefined)).toEqual([]);
    expect(again.filter((r) => r.created || r.changes.length > 0)).toEqual([]);
    expect(again).toHaveLength(nodes.length);
  });
});
