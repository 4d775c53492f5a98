/**
 * Compute Engine behaviours beyond the shared contract, against the stateful wire fake:
 * batching, request ids, custom and GPU sizes, Spot, metadata, networks, quotas,
 * eventual consistency, bounded operation waits and credentials.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { TAG_KEY } from '../../../src/core/index.js';
import { gcp, type GcpOptions } from '../../../src/providers/gcp/index.js';
import type { GceFake } from '../../fakes/gce/index.js';
import { harness, providerOn, type Harness } from './helpers.js';
import { caught } from '../../support/caught.js';
import { runCli } from '../../cli/run-cli.js';

// One provider and fake for most tests (the first Compute client of a process parses
// the protos, seconds); the fake is reset before each test. Tests that need other
// provider options make their own provider on the same fake.
let shared: Harness;
let h: Harness;
const extra: { close(): Promise<void> }[] = [];
beforeAll(() => {
  shared = harness();
});
afterAll(async () => {
  await shared.close();
});
beforeEach(() => {
  shared.fake.reset();
  h = shared;
});
afterEach(async () => {
  await Promise.all(extra.splice(0).map((p) => p.close()));
});

/** A provider with other options on the shared fake, closed after the test. */
function another(options: Partial<GcpOptions>): Harness['provider'] {
  const p = providerOn(shared.fake, options);
  extra.push(p);
  return p;
}

const spec = { resources: { cpus: 1, memoryMiB: 1024 }, image: 'ubuntu-22.04' };
let seq = 0;
const key = () => `t-${Date.now().toString(36)}-${++seq}`;

function instance(fake: GceFake, providerId: string): Record<string, unknown> {
  const rec = fake.instances.get(providerId);
  if (rec === undefined) throw new Error(`no instance ${providerId}`);
  return rec.json;
}

function calls(fake: GceFake, method: string): number {
  return fake.calls.get(method) ?? 0;
}

describe('creating machines', () => {
  it('makes many machines of one zone with a single bulkInsert naming each machine', async () => {
    const idempotencyKey = key();
    const made = await h.provider.createMachines({
      spec: { ...spec, zone: 'us-central1-c' },
      count: 12,
      idempotencyKey,
      pool: 'web',
    });
    expect(made.map((m) => m.id)).toEqual(
      Array.from({ length: 12 }, (_, i) => `web-${made[0]!.id.split('-')[1]}-${i}`),
    );
    expect(made.every((m) => m.zone === 'us-central1-c' && m.state === 'running')).toBe(true);
    expect(calls(h.fake, 'instances.bulkInsert')).toBe(1);
    expect(calls(h.fake, 'instances.insert')).toBe(0);
    expect(calls(h.fake, 'zoneOperations.wait')).toBe(1);
    expect(h.fake.created).toBe(12);
  });

  it('spreads a pool over the zones of the region, the same way on every try', async () => {
    const req = { spec, count: 8, idempotencyKey: key() };
    const made = await h.provider.createMachines(req);
    expect(new Set(made.map((m) => m.zone))).toEqual(
      new Set(['us-central1-a', 'us-central1-b', 'us-central1-c', 'us-central1-f']),
    );
    expect(calls(h.fake, 'instances.bulkInsert')).toBe(4);
    const again = await h.provider.createMachines(req);
    expect(again.map((m) => m.providerId)).toEqual(made.map((m) => m.providerId));
    expect(h.fake.created).toBe(8);
  });

  it('answers a retried bulkInsert that timed out after success from its request id, making nothing twice', async () => {
    const req = { spec: { ...spec, zone: 'us-central1-a' }, count: 6, idempotencyKey: key() };
    h.fake.faults.timeoutAfterCreate();
    const made = await h.provider.createMachines(req);
    expect(made).toHaveLength(6);
    expect(h.fake.created).toBe(6);
    expect(h.fake.refused.get('dropAfterCreate')).toBe(1);
    expect(calls(h.fake, 'instances.bulkInsert')).toBe(2);
  });

  it('creates only the missing machines when some of a request already exist', async () => {
    const idempotencyKey = key();
    await h.provider.createMachines({
      spec: { ...spec, zone: 'us-central1-b' },
      count: 3,
      idempotencyKey,
    });
    const made = await h.provider.createMachines({
      spec: { ...spec, zone: 'us-central1-b' },
      count: 5,
      idempotencyKey,
    });
    expect(made.map((m) => m.id.slice(-2))).toEqual(['-0', '-1', '-2', '-3', '-4']);
    expect(h.fake.created).toBe(5);
  });

  it('renews the request id when Compute Engine replays an old request whose machines are gone', async () => {
    const req = { spec: { ...spec, zone: 'us-central1-a' }, count: 2, idempotencyKey: key() };
    const first = await h.provider.createMachines(req);
    await h.provider.deleteMachines(first.map((m) => m.providerId));
    const second = await h.provider.createMachines(req);
    expect(second.map((m) => m.providerId)).toEqual(first.map((m) => m.providerId));
    expect(second.every((m) => m.state === 'running')).toBe(true);
    expect(h.fake.created).toBe(4);
  });

  it('returns at once with wait: false, machines not yet visible reported pending', async () => {
    h.fake.configure({ operationMs: 60_000, visibilityDelayMs: 60_000 });
    const made = await h.provider.createMachines(
      { spec, count: 2, idempotencyKey: key() },
      { wait: false },
    );
    expect(made.map((m) => m.state)).toEqual(['pending', 'pending']);
    expect(calls(h.fake, 'zoneOperations.wait')).toBe(0);
  });

  it('puts labels, ssh keys, the image and a shell user-data script into instance metadata the Google way', async () => {
    const [m] = await h.provider.createMachines({
      spec: {
        ...spec,
        sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC0 alice@laptop'],
        userData: '#!/bin/bash\necho hi',
        labels: { Team: 'Data Eng' },
      },
      count: 1,
      idempotencyKey: key(),
    });
    const json = instance(h.fake, m!.providerId);
    const items = Object.fromEntries(
      ((json['metadata'] as { items: { key: string; value: string }[] }).items ?? []).map((i) => [
        i.key,
        i.value,
      ]),
    );
    expect(items['startup-script']).toBe('#!/bin/bash\necho hi');
    expect(items['user-data']).toBeUndefined();
    expect(items['ssh-keys']).toBe('alice:ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC0 alice@laptop');
    expect(items['kumo-image']).toMatch(/ubuntu-os-cloud\/global\/images\/ubuntu-2204-jammy/);
    expect(json['labels']).toMatchObject({ 'k_-_54eam': '_44ata_20_45ng' });
    expect(m!.labels).toMatchObject({ Team: 'Data Eng' });
  });

  it('hands cloud-config user data to cloud-init as user-data', async () => {
    const [m] = await h.provider.createMachines({
      spec: { ...spec, userData: '#cloud-config\npackages: [nginx]' },
      count: 1,
      idempotencyKey: key(),
    });
    const items = (
      instance(h.fake, m!.providerId)['metadata'] as { items: { key: string; value: string }[] }
    ).items;
    expect(items.find((i) => i.key === 'user-data')?.value).toBe(
      '#cloud-config\npackages: [nginx]',
    );
  });

  it('asks for Spot with provisioningModel SPOT, deleted on preemption, priced at the Spot rate', async () => {
    const [m] = await h.provider.createMachines({
      spec: { ...spec, size: 'e2-standard-2', resources: undefined, spot: true },
      count: 1,
      idempotencyKey: key(),
    });
    expect(instance(h.fake, m!.providerId)['scheduling']).toMatchObject({
      provisioningModel: 'SPOT',
      instanceTerminationAction: 'DELETE',
      automaticRestart: false,
      onHostMaintenance: 'TERMINATE',
    });
    expect(m!.spot).toBe(true);
    expect(m!.pricePerHour).toBeCloseTo(2 * 0.006543 + 8 * 0.000877, 6);
  });
});

describe('retries', () => {
  /** A provider on the shared fake counting the calls it starts (refused ones too), by method. */
  function counting(
    options: Partial<GcpOptions> = {},
    onCall: (method: string) => void = () => {},
  ): { provider: Harness['provider']; started: Map<string, number> } {
    const started = new Map<string, number>();
    const provider = providerOn(shared.fake, options, {
      onCall: (method) => {
        started.set(method, (started.get(method) ?? 0) + 1);
        onCall(method);
      },
    });
    extra.push(provider);
    return { provider, started };
  }

  it('sends an insert at most retry.attempts times under a persistent 5xx, not attempts × attempts', async () => {
    const { provider, started } = counting({ retry: { attempts: 5, baseMs: 1, maxMs: 2 } });
    const one = { spec: { ...spec, zone: 'us-central1-a' }, count: 1 };
    await provider.createMachines({ ...one, idempotencyKey: key() });
    started.clear();
    h.fake.faults.transient(10_000);
    const err = await caught(provider.createMachines({ ...one, idempotencyKey: key() }));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/gave up after 5 tries/);
    expect(started.get('instances.insert')).toBe(5);
  });

  it('repeats an insert that met a 5xx in place, under its request id, leaving the other zones’ inserts alone', async () => {
    let injected = false;
    const { provider } = counting({}, (method) => {
      // The first bulkInsert sent meets a 5xx; the three other zones' go through.
      if (method === 'instances.bulkInsert' && !injected) {
        injected = true;
        h.fake.faults.transient(1);
      }
    });
    const made = await provider.createMachines({ spec, count: 8, idempotencyKey: key() });
    expect(made).toHaveLength(8);
    expect(h.fake.refused.get('transient')).toBe(1);
    // Repeating the whole create instead would send all four zones' bulkInserts again.
    expect(calls(h.fake, 'instances.bulkInsert')).toBe(4);
    expect(h.fake.created).toBe(8);
  });

  it('keeps waiting for machines to boot when one listing fails, without creating again', async () => {
    let inserted = false;
    let injected = false;
    const { provider } = counting({}, (method) => {
      if (method === 'instances.bulkInsert') inserted = true;
      if (method === 'instances.aggregatedList' && inserted && !injected) {
        injected = true;
        h.fake.faults.transient(1);
      }
    });
    h.fake.configure({ bootMs: 200 });
    const made = await provider.createMachines({
      spec: { ...spec, zone: 'us-central1-a' },
      count: 2,
      idempotencyKey: key(),
    });
    expect(made.map((m) => m.state)).toEqual(['running', 'running']);
    expect(h.fake.refused.get('transient')).toBe(1);
    expect(calls(h.fake, 'instances.bulkInsert')).toBe(1);
  });

  it('sends machines a stock-out moved back to the zone they went to on a retry in the same process, while listings lag', async () => {
    let inserted = false;
    const { provider } = counting(
      {
        zoneFallback: true,
        zones: ['us-central1-a', 'us-central1-b'],
        retry: { attempts: 2, baseMs: 1, maxMs: 2 },
      },
      (method) => {
        if (method === 'instances.bulkInsert') inserted = true;
        // The stocked-out zone has room again by the time the first try is waiting.
        if (method === 'instances.aggregatedList' && inserted)
          h.fake.faults.exhaustZone('us-central1-a', false);
      },
    );
    h.fake.configure({ visibilityDelayMs: 60_000 });
    h.fake.faults.exhaustZone('us-central1-a');
    const idempotencyKey = key();
    const create = () =>
      caught(provider.createMachines({ spec, count: 4, idempotencyKey }, { timeoutMs: 800 }));
    // The wait for the machines runs out of the caller's time: not repeated inside.
    expect(await create()).toMatchObject({ code: 'Timeout', retryable: false });
    expect(calls(h.fake, 'instances.bulkInsert')).toBe(3);
    // The caller tries again with the same key.
    expect((await create()).code).toBe('Timeout');
    expect(h.fake.created).toBe(4);
    expect([...h.fake.instances.keys()].every((id) => id.startsWith('us-central1-b/'))).toBe(true);
    // First try: a (stocked out), the moved group in b, b's own; the retry: b's two only.
    expect(calls(h.fake, 'instances.bulkInsert')).toBe(5);
  });
});

describe('choosing sizes', () => {
  it('takes a custom machine type when it is cheaper than every predefined one that fits', async () => {
    const [m] = await h.provider.createMachines({
      spec: { ...spec, resources: { cpus: 3, memoryMiB: 5000 } },
      count: 1,
      idempotencyKey: key(),
    });
    expect(m!.size).toBe('e2-custom-4-5120');
    expect(m!.resources).toMatchObject({ cpus: 4, memoryMiB: 5120 });
    expect(instance(h.fake, m!.providerId)['machineType']).toMatch(
      /machineTypes\/e2-custom-4-5120$/,
    );
  });

  it('keeps a predefined type when it is cheaper than the custom one of the same shape', async () => {
    const [m] = await h.provider.createMachines({
      spec: { ...spec, resources: { cpus: 2, memoryMiB: 8192 } },
      count: 1,
      idempotencyKey: key(),
    });
    expect(m!.size).toBe('e2-standard-2');
  });

  it('lists custom types made to measure when asked for resources', async () => {
    const sizes = await h.provider.listSizes({ resources: { cpus: 6, memoryMiB: 20_000 } });
    expect(sizes.filter((s) => s.custom).map((s) => s.name)).toEqual([
      'custom-6-20224',
      'e2-custom-6-20224',
      'n2-custom-6-20224',
      'n2d-custom-8-20224',
    ]);
  });

  it('refuses an explicit custom type that breaks its family rules, before any create call', async () => {
    const err = await caught(
      h.provider.createMachines({
        spec: { size: 'e2-custom-3-4096', image: 'ubuntu-22.04' },
        count: 1,
        idempotencyKey: key(),
      }),
    );
    expect(err.code).toBe('ValidationError');
    expect(err.message).toMatch(/E2 custom types take an even number from 2 to 32 vCPUs, not 3/);
    expect(calls(h.fake, 'instances.insert')).toBe(0);
  });

  it('attaches a GPU to an N1 machine when that is the cheapest way to get one', async () => {
    const [m] = await h.provider.createMachines({
      spec: { ...spec, resources: { cpus: 4, memoryMiB: 8192, gpus: 1 } },
      count: 1,
      idempotencyKey: key(),
    });
    expect(m!.size).toBe('n1-standard-4+1xnvidia-tesla-t4');
    expect(m!.resources.gpus).toBe(1);
    const json = instance(h.fake, m!.providerId);
    expect(json['guestAccelerators']).toEqual([
      {
        acceleratorType: expect.stringMatching(/acceleratorTypes\/nvidia-tesla-t4$/),
        acceleratorCount: 1,
      },
    ]);
    expect(json['scheduling']).toMatchObject({ onHostMaintenance: 'TERMINATE' });
  });

  it('boots Arm machine types from the arm64 image family', async () => {
    const [m] = await h.provider.createMachines({
      spec: { ...spec, resources: { cpus: 2, memoryMiB: 8192 }, arch: 'arm64' },
      count: 1,
      idempotencyKey: key(),
    });
    expect(m!.size).toBe('t2a-standard-2');
    expect(m!.image).toMatch(/ubuntu-2204-jammy-arm64/);
  });

  it('fetches the catalog once however many creates ask at the same time', async () => {
    const fresh = another({}); // the shared provider has its catalog already
    await Promise.all(
      Array.from({ length: 10 }, () =>
        fresh.createMachines({ spec, count: 1, idempotencyKey: key() }),
      ),
    );
    expect(calls(h.fake, 'zones.list')).toBe(1);
    expect(calls(h.fake, 'machineTypes.list')).toBe(4);
    expect(calls(h.fake, 'images.getFromFamily')).toBe(1);
  });
});

describe('images', () => {
  it('resolves own-project images, families of other projects, and refuses a malformed path', async () => {
    expect((await h.provider.resolveImage('golden-web-1')).name).toBe('golden-web-1');
    expect(
      (await h.provider.resolveImage('projects/debian-cloud/global/images/family/debian-12')).name,
    ).toBe('debian-12-bookworm-v20240910');
    expect(
      (await caught(h.provider.resolveImage('projects/debian-cloud/images/debian-12'))).code,
    ).toBe('ValidationError');
    const cirros = await caught(h.provider.resolveImage('cirros-0.6'));
    expect(cirros.code).toBe('NotFound');
    expect(cirros.message).toMatch(/ubuntu-22.04/);
  });
});

describe('zones and capacity', () => {
  it('runs two creates of one key in one process one after the other, the second finding what the first made', async () => {
    const p = another({ zoneFallback: true, zones: ['us-central1-a', 'us-central1-b'] });
    const request = { spec, count: 4, idempotencyKey: key() };
    const [first, second] = await Promise.all([
      p.createMachines(request),
      p.createMachines(request),
    ]);
    expect(second.map((m) => m.providerId)).toEqual(first.map((m) => m.providerId));
    expect(h.fake.created).toBe(4);
    // One bulkInsert per zone: the second create sent none.
    expect(calls(h.fake, 'instances.bulkInsert')).toBe(2);
  });

  it('reports a stocked-out zone as InsufficientCapacity by default', async () => {
    h.fake.faults.exhaustZone('us-central1-b');
    const err = await caught(
      h.provider.createMachines({
        spec: { ...spec, zone: 'us-central1-b' },
        count: 2,
        idempotencyKey: key(),
      }),
    );
    expect(err.code).toBe('InsufficientCapacity');
    expect(h.fake.instances.size).toBe(0);
  });

  it('moves machines to another zone on a stock-out when zoneFallback is on', async () => {
    const p = another({ zoneFallback: true, zones: ['us-central1-a', 'us-central1-b'] });
    h.fake.faults.exhaustZone('us-central1-a');
    const made = await p.createMachines({ spec, count: 4, idempotencyKey: key() });
    expect(made.every((m) => m.zone === 'us-central1-b')).toBe(true);
  });

  it('finds machines a stock-out moved to another zone when the request is made again by a new process', async () => {
    const options = { zoneFallback: true, zones: ['us-central1-a', 'us-central1-b'] };
    const request = { spec, count: 4, idempotencyKey: key() };
    h.fake.faults.capacity();
    const first = await another(options).createMachines(request);
    // One zone's bulkInsert met the stock-out, so its machines joined the other zone.
    expect(new Set(first.map((m) => m.zone)).size).toBe(1);
    // Names are unique per zone only: the moved machines must not be made again in their first zone.
    const again = await another(options).createMachines(request);
    expect(again.map((m) => m.providerId)).toEqual(first.map((m) => m.providerId));
    expect(h.fake.created).toBe(4);
  });

  it('retraces a stock-out move in a new process while listings still miss the moved machines, making none twice', async () => {
    const zones = ['us-central1-a', 'us-central1-b'];
    const options = { zoneFallback: true, zones, retry: { attempts: 1, baseMs: 1, maxMs: 2 } };
    const request = { spec, count: 4, idempotencyKey: key() };
    h.fake.configure({ visibilityDelayMs: 60_000 });
    h.fake.faults.exhaustZone('us-central1-a');
    // The first process moves a's machines to b, then gives up waiting for them to show.
    expect((await caught(another(options).createMachines(request, { timeoutMs: 500 }))).code).toBe(
      'Timeout',
    );
    h.fake.faults.exhaustZone('us-central1-a', false);
    // A new process: its listing shows nothing yet and a has room again.
    const again = await another(options).createMachines(request, { wait: false });
    expect(again.map((m) => m.zone)).toEqual(Array(4).fill('us-central1-b'));
    expect(h.fake.created).toBe(4);
    expect([...h.fake.instances.keys()].every((id) => id.startsWith('us-central1-b/'))).toBe(true);
  });

  it('creates afresh in a new process when an earlier one found every zone full and room has come back', async () => {
    const zones = ['us-central1-a', 'us-central1-b'];
    const options = { zoneFallback: true, zones, retry: { attempts: 1, baseMs: 1, maxMs: 2 } };
    const request = { spec, count: 4, idempotencyKey: key() };
    h.fake.faults.exhaustZone('us-central1-a');
    h.fake.faults.exhaustZone('us-central1-b');
    expect((await caught(another(options).createMachines(request))).code).toBe(
      'InsufficientCapacity',
    );
    h.fake.faults.exhaustZone('us-central1-a', false);
    // Compute Engine replays the first process's failures in both zones; no machine
    // exists anywhere, so the new process tries again under new request ids.
    const made = await another(options).createMachines(request);
    expect(made.map((m) => m.zone)).toEqual(Array(4).fill('us-central1-a'));
    expect(h.fake.created).toBe(4);
  });

  it('surfaces QUOTA_EXCEEDED from the operation as QuotaExceeded', async () => {
    h.fake.configure({ regionCpuQuota: 8 });
    const err = await caught(
      h.provider.createMachines({
        spec: { ...spec, size: 'e2-standard-4', resources: undefined, zone: 'us-central1-a' },
        count: 3,
        idempotencyKey: key(),
      }),
    );
    expect(err.code).toBe('QuotaExceeded');
    expect(err.message).toContain("Quota 'CPUS' exceeded.  Limit: 8.0 in region us-central1.");
  });
});

describe('listing, power and deletion', () => {
  it('follows every page of a long listing', async () => {
    const idempotencyKey = key();
    await h.provider.createMachines({
      spec: { ...spec, zone: 'us-central1-f' },
      count: 620,
      idempotencyKey,
    });
    const before = calls(h.fake, 'instances.aggregatedList');
    const listed = await h.provider.listMachines({ labels: { [TAG_KEY]: idempotencyKey } });
    expect(listed).toHaveLength(620);
    expect(calls(h.fake, 'instances.aggregatedList') - before).toBe(2);
  });

  it('filters by kumo-id through the instance name, which bulk-made machines carry instead of a label', async () => {
    const made = await h.provider.createMachines({
      spec: { ...spec, zone: 'us-central1-a' },
      count: 3,
      idempotencyKey: key(),
    });
    const one = await h.provider.listMachines({ labels: { 'kumo-id': made[1]!.id } });
    expect(one.map((m) => m.providerId)).toEqual([made[1]!.providerId]);
  });

  it('stops, starts and stops again: each power cycle is a new request', async () => {
    const [m] = await h.provider.createMachines({ spec, count: 1, idempotencyKey: key() });
    expect((await h.provider.stopMachine(m!.providerId)).state).toBe('stopped');
    expect((await h.provider.startMachine(m!.providerId)).state).toBe('running');
    expect((await h.provider.stopMachine(m!.providerId)).state).toBe('stopped');
    expect(calls(h.fake, 'instances.stop')).toBe(2);
  });

  it('treats deleting a machine that is gone as done', async () => {
    await h.provider.deleteMachines(['us-central1-a/never-was-0', 'us-central1-b/never-was-1']);
    // Both deletes were asked and answered 404, which is success.
    expect(calls(h.fake, 'instances.delete')).toBe(2);
  });
});

describe('networks', () => {
  const net = {
    name: 'prod-net',
    cidr: '10.42.0.0/16',
    subnets: [
      { name: 'web', cidr: '10.42.1.0/24', public: true },
      { name: 'db', cidr: '10.42.2.0/24' },
    ],
    firewall: [
      {
        direction: 'ingress' as const,
        protocol: 'tcp' as const,
        ports: '80-443',
        cidrs: ['0.0.0.0/0'],
      },
      { direction: 'egress' as const, protocol: 'udp' as const, ports: 53, cidrs: ['10.0.0.0/8'] },
    ],
  };

  it('makes a custom-mode VPC, regional subnetworks and tagged firewall rules, and a second run changes nothing', async () => {
    const made = await h.provider.ensureNetwork(net, { labels: { 'kumo-dc': 'prod' } });
    expect(h.fake.networks.get('prod-net')).toMatchObject({
      autoCreateSubnetworks: false,
      routingConfig: { routingMode: 'REGIONAL' },
    });
    expect(h.fake.subnetworks.get('us-central1/prod-net-db')).toMatchObject({
      ipCidrRange: '10.42.2.0/24',
      privateIpGoogleAccess: true,
    });
    const rules = [...h.fake.firewalls.values()];
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          direction: 'INGRESS',
          priority: 1000,
          sourceRanges: ['0.0.0.0/0'],
          allowed: [{ IPProtocol: 'tcp', ports: ['80-443'] }],
          targetTags: ['kumo-prod-net'],
        }),
        expect.objectContaining({
          direction: 'EGRESS',
          destinationRanges: ['10.0.0.0/8'],
          allowed: [{ IPProtocol: 'udp', ports: ['53'] }],
        }),
      ]),
    );
    expect(made.subnets.map((s) => [s.name, s.public])).toEqual([
      ['web', true],
      ['db', false],
    ]);
    const mutations = () =>
      ['networks.insert', 'subnetworks.insert', 'firewalls.insert', 'firewalls.delete'].reduce(
        (n, m) => n + calls(h!.fake, m),
        0,
      );
    const before = mutations();
    const again = await h.provider.ensureNetwork(net, { labels: { 'kumo-dc': 'prod' } });
    expect(again).toEqual(made);
    expect(mutations()).toBe(before);
  });

  it('replaces a firewall rule whose declaration changed', async () => {
    await h.provider.ensureNetwork(net);
    await h.provider.ensureNetwork({
      ...net,
      firewall: [{ direction: 'ingress', protocol: 'tcp', ports: 22, cidrs: ['203.0.113.0/24'] }],
    });
    expect(
      [...h.fake.firewalls.values()].map((f) => f['sourceRanges'] ?? f['destinationRanges']),
    ).toEqual([['203.0.113.0/24']]);
  });

  it('puts machines in the declared subnet with the network tag, and no external address in a private subnet', async () => {
    await h.provider.ensureNetwork(net);
    const [m] = await h.provider.createMachines({
      spec: { ...spec, network: 'prod-net', subnet: 'db' },
      count: 1,
      idempotencyKey: key(),
    });
    const json = instance(h.fake, m!.providerId);
    expect(json['tags']).toMatchObject({ items: ['kumo-prod-net'] });
    expect((json['networkInterfaces'] as Record<string, unknown>[])[0]).toMatchObject({
      subnetwork: expect.stringMatching(/subnetworks\/prod-net-db$/),
    });
    expect(m!.addresses.map((a) => a.type)).toEqual(['private']);
    expect(m!.addresses[0]!.address).toMatch(/^10\.42\.2\./);
  });

  it('deletes dependants first, refuses while machines use the network, and leaves networks it did not make alone', async () => {
    await h.provider.ensureNetwork(net);
    const [m] = await h.provider.createMachines({
      spec: { ...spec, network: 'prod-net', subnet: 'web' },
      count: 1,
      idempotencyKey: key(),
    });
    expect((await caught(h.provider.deleteNetwork('prod-net'))).code).toBe('Conflict');
    await h.provider.deleteMachines([m!.providerId]);
    await h.provider.deleteNetwork('prod-net');
    expect(h.fake.networks.has('prod-net')).toBe(false);
    expect([...h.fake.subnetworks.keys()].filter((k) => k.includes('prod-net'))).toEqual([]);
    await h.provider.deleteNetwork('prod-net');
    expect((await caught(h.provider.deleteNetwork('default'))).message).toMatch(/not made by kumo/);
  });
});

describe('quotas and time', () => {
  it('waits out a per-minute query quota instead of failing', async () => {
    // The quota window is shortened to half a second so the test waits little; Compute's is a minute.
    h.fake.configure({ quota: { windowMs: 500, queries: 8, status: 403 } });
    // Windows are aligned to the clock, so how long the wait is depends on where in a
    // window the test starts: it asserts refusals happened and the create still succeeded.
    const p = another({ retry: { attempts: 20, baseMs: 100, maxMs: 500 } });
    const made = await p.createMachines({ spec, count: 8, idempotencyKey: key() });
    expect(made).toHaveLength(8);
    expect(h.fake.refused.get('quota')).toBeGreaterThan(0);
  });

  it('treats machines not visible right after their insert as pending, not gone', async () => {
    h.fake.configure({ visibilityDelayMs: 300, bootMs: 200 });
    const made = await h.provider.createMachines({ spec, count: 3, idempotencyKey: key() });
    expect(made.map((m) => m.state)).toEqual(['running', 'running', 'running']);
    expect(h.fake.created).toBe(3);
  });

  it('reports a retry that times out while listings still miss its own machines as a Timeout, not a Conflict', async () => {
    h.fake.configure({ visibilityDelayMs: 60_000 });
    // Two tries of the whole create: the caller's second repeats the first's bulkInsert
    // while the machines it made are not listed yet.
    const p = another({ retry: { attempts: 2, baseMs: 1, maxMs: 2 } });
    const idempotencyKey = key();
    const create = () =>
      caught(
        p.createMachines(
          { spec: { ...spec, zone: 'us-central1-a' }, count: 3, idempotencyKey },
          { timeoutMs: 800 },
        ),
      );
    expect(await create()).toMatchObject({ code: 'Timeout', retryable: false });
    expect((await create()).code).toBe('Timeout');
    expect(h.fake.created).toBe(3);
  });

  it('waits on a slow operation with long-poll waits, never a tight loop, and times out on its deadline', async () => {
    h.fake.configure({ operationMs: 60_000, waitMaxMs: 300 });
    const err = await caught(
      h.provider.createMachines(
        { spec: { ...spec, zone: 'us-central1-a' }, count: 1, idempotencyKey: key() },
        { timeoutMs: 1500 },
      ),
    );
    expect(err.code).toBe('Timeout');
    expect(err.message).toMatch(/retry with the same idempotency key/);
    // 1.5 s of waits the server holds 0.3 s each: about five, not hundreds.
    expect(calls(h.fake, 'zoneOperations.wait')).toBeLessThanOrEqual(6);
  });
});

describe('credentials', () => {
  const key = () =>
    generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    }).privateKey;

  it('signs requests with an explicit service-account key, as a self-signed JWT for Compute', async () => {
    const p = gcp({
      region: 'us-central1',
      zones: ['us-central1-a'],
      credentials: {
        client_email: 'kumo@kumo-test.iam.gserviceaccount.com',
        private_key: key(),
        project_id: 'kumo-test',
      },
    });
    extra.push(p);
    await p.listSizes();
    const claims = [...h.fake.seenTokens].map(
      (t) =>
        JSON.parse(Buffer.from(t.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
          string,
          unknown
        >,
    );
    expect(claims).toEqual([
      expect.objectContaining({
        iss: 'kumo@kumo-test.iam.gserviceaccount.com',
        aud: 'https://compute.googleapis.com/',
      }),
    ]);
  });

  describe('with none to be found (no GOOGLE_APPLICATION_CREDENTIALS, no gcloud file, no metadata server)', () => {
    beforeEach(() => {
      vi.stubEnv('HOME', mkdtempSync(join(tmpdir(), 'kumo-gcp-home-')));
      vi.stubEnv('GOOGLE_APPLICATION_CREDENTIALS', undefined);
      vi.stubEnv('CLOUDSDK_CONFIG', undefined);
      vi.stubEnv('GOOGLE_CLOUD_PROJECT', undefined);
      vi.stubEnv('GCLOUD_PROJECT', undefined);
      // The library would otherwise probe the metadata server (nock refuses it anyway).
      vi.stubEnv('METADATA_SERVER_DETECTION', 'none');
    });
    afterEach(() => {
      vi.unstubAllEnvs();
    });

    it('listing machines is an AuthError (exit 3), not a bare library error', async () => {
      const p = gcp({ project: 'kumo-test', region: 'us-central1' });
      extra.push(p);
      expect(await caught(p.listMachines())).toMatchObject({
        code: 'AuthError',
        provider: 'gcp',
        message: expect.stringContaining('Could not load the default credentials') as string,
      });
    });

    it('kumo plan on a spec with a gcp provider exits 3 (credentials), not 1', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kumo-gcp-cli-'));
      const spec = join(dir, 'kumo.yaml');
      writeFileSync(
        spec,
        'name: gcp-nocreds\nproviders:\n  cloud: { kind: gcp, project: kumo-test, region: us-central1 }\npools:\n  web:\n    provider: cloud\n    count: 1\n    machine: { size: e2-small, image: debian-12 }\n',
      );
      const r = await runCli(['plan', '-f', spec]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('Could not load the default credentials');
    });

    it('finding the project is an AuthError that says to set it', async () => {
      const p = gcp({ region: 'us-central1' });
      extra.push(p);
      expect(await caught(p.listMachines())).toMatchObject({
        code: 'AuthError',
        message: expect.stringMatching(
          /^finding the project \(set the `project` option\): Unable to detect a Project Id/,
        ) as string,
      });
    });
  });

  it('reads user credentials from a file in the gcloud ADC format and refreshes them at the token endpoint', async () => {
    const file = join(
      mkdtempSync(join(tmpdir(), 'kumo-gcp-')),
      'application_default_credentials.json',
    );
    writeFileSync(
      file,
      JSON.stringify({
        type: 'authorized_user',
        client_id: 'kumo-client.apps.googleusercontent.com',
        client_secret: 'not-a-secret',
        refresh_token: '1//fake-refresh',
      }),
    );
    const p = gcp({
      project: 'kumo-test',
      region: 'us-central1',
      zones: ['us-central1-a'],
      keyFilename: file,
    });
    extra.push(p);
    await p.listSizes();
    expect(h.fake.tokenRequests).toEqual([{ iss: 'kumo-client.apps.googleusercontent.com' }]);
    expect([...h.fake.seenTokens]).toEqual(['fake-user-token-1']);
  });
});
