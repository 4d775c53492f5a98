import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VirtualClock, type CreateMachinesRequestInput } from '../../../src/core/index.js';
import { sim, type SimOptions } from '../../../src/providers/sim/index.js';

const fast = { apiMs: 0, bootMs: 10_000, stopMs: 1000, deleteMs: 1000 };
const setup = (options: SimOptions = {}) => {
  const clock = new VirtualClock({ start: 0, autoAdvance: true });
  return { clock, provider: sim({ latency: fast, ...options }, { clock }) };
};
const req = (
  key: string,
  extra: Partial<CreateMachinesRequestInput> = {},
): CreateMachinesRequestInput => ({
  spec: { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04' },
  count: 1,
  idempotencyKey: key,
  ...extra,
});

describe('the simulated cloud', () => {
  it('picks the cheapest size that fits and prices the machine', async () => {
    const { provider } = setup();
    const [m] = await provider.createMachines(req('a'));
    expect(m).toMatchObject({
      size: 'cpu-2x4',
      pricePerHour: 0.085,
      resources: { cpus: 2, memoryMiB: 4096 },
      image: 'img-ubuntu-2204',
      region: 'sim-1',
    });
  });

  it('prices spot machines at the spot price', async () => {
    const { provider } = setup();
    const [m] = await provider.createMachines(
      req('s', {
        spec: { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04', spot: true },
      }),
    );
    expect(m!.spot).toBe(true);
    expect(m!.pricePerHour).toBeCloseTo(0.0323, 4);
  });

  it('boots machines over its boot latency, pending until then', async () => {
    const { provider, clock } = setup();
    const [m] = await provider.createMachines(req('b'), { wait: false });
    expect(m!.state).toBe('pending');
    await clock.advance(20_000);
    expect((await provider.getMachine(m!.providerId)).state).toBe('running');
  });

  it('spreads a pool over the zones', async () => {
    const { provider } = setup();
    const made = await provider.createMachines(req('z', { count: 6 }));
    expect(new Set(made.map((m) => m.zone))).toEqual(new Set(['sim-1a', 'sim-1b', 'sim-1c']));
  });

  it('refuses, when choosing a size, a zone that create would refuse', async () => {
    const { provider } = setup();
    await expect(provider.chooseSize({ size: 'std-2x8', zone: 'mars-1a' })).rejects.toMatchObject({
      code: 'ValidationError',
      provider: 'sim',
      issues: [{ path: 'spec.zone' }],
    });
    expect((await provider.chooseSize({ size: 'std-2x8', zone: 'sim-1b' })).name).toBe('std-2x8');
  });

  it('puts every machine in the zone asked for, and refuses unknown zones', async () => {
    const { provider } = setup();
    const made = await provider.createMachines(
      req('zz', {
        count: 3,
        spec: { resources: { cpus: 1, memoryMiB: 1024 }, image: 'debian-12', zone: 'sim-1b' },
      }),
    );
    expect(made.every((m) => m.zone === 'sim-1b')).toBe(true);
    await expect(
      provider.createMachines(
        req('zq', {
          spec: { resources: { cpus: 1, memoryMiB: 1024 }, image: 'debian-12', zone: 'mars-1a' },
        }),
      ),
    ).rejects.toThrow(/unknown zone "mars-1a"; zones are sim-1a, sim-1b, sim-1c/);
  });

  it('refuses an idempotency key reused with other parameters', async () => {
    const { provider } = setup();
    await provider.createMachines(req('same'));
    await expect(provider.createMachines(req('same', { count: 2 }))).rejects.toMatchObject({
      code: 'Conflict',
    });
  });

  it('runs out of zone capacity with InsufficientCapacity', async () => {
    const { provider } = setup({ zoneCapacityCpus: 4 });
    await provider.createMachines(
      req('c1', {
        count: 2,
        spec: { resources: { cpus: 2, memoryMiB: 1024 }, image: 'debian-12', zone: 'sim-1a' },
      }),
    );
    await expect(
      provider.createMachines(
        req('c2', {
          spec: { resources: { cpus: 2, memoryMiB: 1024 }, image: 'debian-12', zone: 'sim-1a' },
        }),
      ),
    ).rejects.toMatchObject({
      code: 'InsufficientCapacity',
    });
  });

  it('enforces the account quota with QuotaExceeded', async () => {
    const { provider } = setup({ quota: { machines: 2, cpus: 1000 } });
    await expect(provider.createMachines(req('q', { count: 3 }))).rejects.toMatchObject({
      code: 'QuotaExceeded',
      cause: { code: 'InstanceLimitExceeded' },
    });
  });

  it('offers GPU sizes only in the zones that have them', async () => {
    const { provider } = setup();
    expect((await provider.listSizes({ zone: 'sim-1c' })).some((s) => s.resources.gpus > 0)).toBe(
      false,
    );
    const [m] = await provider.createMachines(
      req('g', {
        spec: { resources: { cpus: 4, memoryMiB: 8192, gpus: 1 }, image: 'ubuntu-22.04' },
      }),
    );
    expect(m!.size).toBe('gpu-4x16-1g');
    expect(['sim-1a', 'sim-1b']).toContain(m!.zone);
  });

  it('accepts an explicit size and refuses an unknown one', async () => {
    const { provider } = setup();
    const [m] = await provider.createMachines(
      req('e', { spec: { size: 'mem-4x32', image: 'img-debian-12' } }),
    );
    expect(m!.resources.memoryMiB).toBe(32768);
    await expect(
      provider.createMachines(req('e2', { spec: { size: 'huge', image: 'debian-12' } })),
    ).rejects.toThrow(/unknown size "huge"/);
  });

  it('reclaims spot machines on a spot interruption', async () => {
    const { provider } = setup();
    const [m] = await provider.createMachines(
      req('sp', {
        spec: { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04', spot: true },
      }),
    );
    provider.control.interrupt(m!.providerId);
    const [after] = await provider.listMachines({ states: ['terminated'] });
    expect(after).toMatchObject({
      providerId: m!.providerId,
      state: 'terminated',
      error: expect.stringMatching(/spot interruption/),
    });
  });

  it('interrupts spot machines at the configured rate, deterministically under a seed', async () => {
    const run = async () => {
      const { provider, clock } = setup({ seed: 3, faults: { spotInterruption: 0.5 } });
      await provider.createMachines(
        req('r', {
          count: 20,
          spec: { resources: { cpus: 1, memoryMiB: 1024 }, image: 'debian-12', spot: true },
        }),
      );
      await clock.advance(60 * 60_000);
      return (await provider.listMachines({ states: ['terminated'] })).map((m) => m.id).sort();
    };
    const first = await run();
    expect(first.length).toBeGreaterThan(3);
    expect(first.length).toBeLessThan(17);
    expect(await run()).toEqual(first);
  });

  it('refuses to delete a network machines still use', async () => {
    const { provider } = setup();
    await provider.ensureNetwork({
      name: 'app',
      cidr: '10.1.0.0/16',
      subnets: [{ name: 'a', cidr: '10.1.1.0/24', zone: 'sim-1a' }],
    });
    const [m] = await provider.createMachines(
      req('n', {
        spec: { resources: { cpus: 1, memoryMiB: 512 }, image: 'debian-12', network: 'app' },
      }),
    );
    await expect(provider.deleteNetwork('app')).rejects.toMatchObject({ code: 'Conflict' });
    await provider.deleteMachines([m!.providerId]);
    await provider.control.clock.sleep(5000);
    await provider.deleteNetwork('app');
  });

  it('reports a deleted machine terminated at once, and frees its zone capacity only when teardown ends', async () => {
    const { clock, provider } = setup({ zoneCapacityCpus: 2 });
    const one = { resources: { cpus: 2, memoryMiB: 1024 }, image: 'debian-12', zone: 'sim-1a' };
    const [m] = await provider.createMachines(req('d1', { spec: one }));
    await provider.deleteMachines([m!.providerId]);
    expect((await provider.listMachines({ states: ['terminated'] })).map((x) => x.id)).toEqual([
      m!.id,
    ]);
    await expect(provider.createMachines(req('d2', { spec: one }))).rejects.toMatchObject({
      code: 'InsufficientCapacity',
    });
    await clock.sleep(fast.deleteMs);
    expect(await provider.createMachines(req('d3', { spec: one }))).toHaveLength(1);
  });

  it("gives machines on a network addresses inside their zone's subnet", async () => {
    const { provider } = setup();
    await provider.ensureNetwork({
      name: 'lan',
      cidr: '10.10.0.0/16',
      subnets: [
        { name: 'a', cidr: '10.10.1.0/24', zone: 'sim-1a' },
        { name: 'b', cidr: '10.10.2.0/24', zone: 'sim-1b' },
      ],
    });
    const made = await provider.createMachines(
      req('lan', {
        count: 4,
        spec: {
          resources: { cpus: 1, memoryMiB: 512 },
          image: 'debian-12',
          network: 'lan',
          zone: 'sim-1b',
        },
      }),
    );
    for (const m of made)
      expect(m.addresses.find((a) => a.type === 'private')?.address).toMatch(/^10\.10\.2\.\d+$/);
    expect(new Set(made.map((m) => m.addresses[0]!.address)).size).toBe(4);
  });

  it('hands out the lowest free address of a subnet, and refuses a create that would overflow it', async () => {
    const { clock, provider } = setup();
    await provider.ensureNetwork({
      name: 'tiny',
      cidr: '10.30.0.0/16',
      subnets: [{ name: 's', cidr: '10.30.0.0/28' }], // 11 usable: .4 to .14
    });
    const spec = { resources: { cpus: 1, memoryMiB: 512 }, image: 'debian-12', network: 'tiny' };
    const first = await provider.createMachines(req('t1', { count: 11, spec }));
    const ip = (m: { addresses: readonly { address: string }[] }) => m.addresses[0]!.address;
    expect(first.map(ip)).toEqual(Array.from({ length: 11 }, (_, i) => `10.30.0.${i + 4}`));
    await expect(provider.createMachines(req('t2', { spec }))).rejects.toMatchObject({
      code: 'InsufficientCapacity',
      cause: { code: 'InsufficientFreeAddressesInSubnet' },
    });
    await provider.deleteMachines([first[2]!.providerId]);
    await clock.sleep(fast.deleteMs);
    const [again] = await provider.createMachines(req('t3', { spec }));
    expect(ip(again!)).toBe('10.30.0.6');
  });

  it('leaves a reclaimed spot machine gone when it is deleted, its capacity free', async () => {
    const { provider } = setup({ zoneCapacityCpus: 2 });
    const one = {
      resources: { cpus: 2, memoryMiB: 1024 },
      image: 'debian-12',
      zone: 'sim-1a',
      spot: true,
    };
    const [m] = await provider.createMachines(req('s1', { spec: one }));
    provider.control.interrupt(m!.providerId);
    await provider.deleteMachines([m!.providerId]);
    expect(await provider.createMachines(req('s2', { spec: one }))).toHaveLength(1);
  });

  it('refuses machines on a network that does not exist', async () => {
    const { provider } = setup();
    await expect(
      provider.createMachines(
        req('nn', {
          spec: { resources: { cpus: 1, memoryMiB: 512 }, image: 'debian-12', network: 'nope' },
        }),
      ),
    ).rejects.toMatchObject({
      code: 'NotFound',
    });
  });

  it('counts its API calls: one create and batched waits', async () => {
    const { provider } = setup();
    await provider.createMachines(req('calls', { count: 50 }));
    const calls = provider.control.calls();
    expect(calls.RunInstances).toBe(1);
    expect(calls.DescribeInstances).toBeLessThanOrEqual(10);
  });

  it('keeps its state in a file so another process sees the same cloud', async () => {
    const statePath = join(mkdtempSync(join(tmpdir(), 'kumo-sim-')), 'cloud.json');
    const a = sim({ statePath, latency: { apiMs: 0, bootMs: 0, stopMs: 0, deleteMs: 0 } });
    const made = await a.createMachines(req('p', { count: 3 }));
    expect(statSync(statePath).mode & 0o777).toBe(0o600);
    const b = sim({ statePath, latency: { apiMs: 0, bootMs: 0, stopMs: 0, deleteMs: 0 } });
    expect((await b.listMachines()).map((m) => m.providerId).sort()).toEqual(
      made.map((m) => m.providerId).sort(),
    );
    // The key is remembered too: a retry from the other process makes nothing new.
    expect(
      (await b.createMachines(req('p', { count: 3 }))).map((m) => m.providerId).sort(),
    ).toEqual(made.map((m) => m.providerId).sort());
  });

  it('validates its own options, naming the field', () => {
    expect(() => sim({ zones: [] })).toThrow(/zones/);
    expect(() => sim({ faults: { throttle: 2 } })).toThrow(/faults\.throttle/);
  });
});
