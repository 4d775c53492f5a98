import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { isKumoError, QuotaExceeded, type Machine, type Provider } from '../../src/core/index.js';
import {
  LogicalDatacenter,
  memoryStore,
  type AgentSink,
  type DatacenterEvent,
  type DatacenterSpecInput,
  type MachineAgent,
  type Plan,
  type StateStore,
} from '../../src/logical-dc/index.js';
import { sim } from '../../src/providers/sim/index.js';

const FAST = { apiMs: 0, bootMs: 0, stopMs: 0, deleteMs: 0 };
const MACHINE = { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04' };

/** The provider as the datacenter sees it, with some methods replaced (the rest pass through). */
function tap(provider: Provider, overrides: Partial<Provider>): Provider {
  return new Proxy(provider, {
    get: (target, prop) =>
      prop in overrides
        ? (overrides as Record<PropertyKey, unknown>)[prop]
        : (Reflect.get(target, prop, target) as unknown),
  });
}

function setup(
  options: {
    store?: StateStore;
    agents?: AgentSink;
    wrap?: (name: string, provider: Provider) => Provider;
  } = {},
) {
  const onprem = sim({
    name: 'onprem',
    seed: 1,
    latency: FAST,
    region: 'dc-1',
    zones: ['dc-1a', 'dc-1b'],
  });
  const cloud = sim({ name: 'cloud', seed: 2, latency: FAST });
  const store = options.store ?? memoryStore();
  const dc = new LogicalDatacenter({
    name: 'test',
    store,
    providers: {
      onprem: options.wrap?.('onprem', onprem) ?? onprem,
      cloud: options.wrap?.('cloud', cloud) ?? cloud,
    },
    ...(options.agents ? { agents: options.agents } : {}),
  });
  const events: DatacenterEvent[] = [];
  dc.events.on((e) => events.push(e));
  return { dc, onprem, cloud, store, events };
}

const SPEC: DatacenterSpecInput = {
  labels: { env: 'test' },
  networks: { lan: { provider: 'onprem', cidr: '10.0.0.0/16' } },
  pools: {
    db: {
      provider: 'onprem',
      count: 2,
      network: 'lan',
      machine: { ...MACHINE, labels: { role: 'db' } },
    },
    web: { provider: 'cloud', count: 3, machine: MACHINE },
  },
};

describe('LogicalDatacenter', () => {
  it('makes the declared pools on their providers, tagged as this datacenter', async () => {
    const { dc, onprem, cloud } = setup();
    const { summary } = await dc.apply(SPEC);
    expect(summary).toMatchObject({ ok: true, created: 5, networks: 1, failed: [] });
    expect(
      await onprem.listMachines({ labels: { 'kumo-dc': 'test', 'kumo-pool': 'db' } }),
    ).toHaveLength(2);
    expect(
      await cloud.listMachines({ labels: { 'kumo-dc': 'test', 'kumo-pool': 'web' } }),
    ).toHaveLength(3);
    const [db] = await dc.machines({ pool: 'db' });
    expect(db?.labels).toMatchObject({ env: 'test', role: 'db', 'kumo-pool': 'db' });
  });

  it('plans no changes once applied', async () => {
    const { dc } = setup();
    await dc.apply(SPEC);
    const plan = await dc.plan(SPEC);
    expect(plan.steps).toEqual([]);
    expect(plan.summary.unchanged).toBe(5);
  });

  it("hands apply's plan to check before anything changes; a throw there stops the apply", async () => {
    const { dc, store } = setup();
    const before = (await store.read()).serial;
    const seen: number[] = [];
    const refused = dc.apply(SPEC, {
      check: (plan) => {
        seen.push(plan.summary.create);
        throw new Error('vetoed');
      },
    });
    await expect(refused).rejects.toThrow('vetoed');
    expect(seen).toEqual([5]);
    expect((await store.read()).serial).toBe(before);
    expect(await dc.machines()).toEqual([]);
  });

  it('replaces a pool delete-first even when another pool fails in the same apply', async () => {
    const { dc, cloud } = setup({
      wrap: (name, p) =>
        name === 'onprem'
          ? tap(p, {
              createMachines: () =>
                Promise.reject(new QuotaExceeded('no room', { provider: name })),
            })
          : tap(p, {
              // The delete takes a while, so the other pool's failure lands meanwhile.
              deleteMachines: async (ids, options) => {
                await new Promise((r) => setTimeout(r, 30));
                return p.deleteMachines(ids, options);
              },
            }),
    });
    const web = { provider: 'cloud', count: 2, machine: MACHINE };
    await dc.apply({ pools: { web } });
    const { summary } = await dc.apply({
      pools: {
        web: { ...web, machine: { ...MACHINE, image: 'debian-12' } },
        db: { provider: 'onprem', count: 1, machine: MACHINE },
      },
    });
    expect(summary.replaced).toBe(2);
    expect(summary.failed.map((f) => f.step)).toEqual([expect.stringContaining('db')]);
    const live = await cloud.listMachines({ labels: { 'kumo-pool': 'web' } });
    expect(live.filter((m) => m.state !== 'terminated')).toHaveLength(2);
  });

  it('answers inventory queries by pool, provider, zone, label and state, with capacity totals', async () => {
    const { dc } = setup();
    await dc.apply(SPEC);
    expect(await dc.machines({ provider: 'cloud' })).toHaveLength(3);
    expect(await dc.machines({ labels: { role: 'db' } })).toHaveLength(2);
    expect(await dc.machines({ state: 'running' })).toHaveLength(5);
    expect(await dc.machines({ state: 'stopped' })).toHaveLength(0);
    const zones = new Set((await dc.machines({ pool: 'db' })).map((m) => m.zone));
    for (const zone of zones)
      expect((await dc.machines({ zone })).every((m) => m.zone === zone)).toBe(true);
    const capacity = await dc.capacity();
    expect(capacity).toMatchObject({
      machines: 5,
      byState: { running: 5 },
      running: { cpus: 10, memoryMiB: 5 * 4096 },
    });
    expect(capacity.byPool['web']).toMatchObject({ machines: 3 });
    expect(capacity.byProvider['onprem']).toMatchObject({ machines: 2 });
    expect(capacity.pricePerHour).toBeGreaterThan(0);
  });

  it('tells every change as an event', async () => {
    const { dc, events } = setup();
    await dc.apply(SPEC);
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'machine.created')).toHaveLength(5);
    expect(types.filter((t) => t === 'intent.journaled')).toHaveLength(3);
    expect(types).toContain('network.ensured');
    expect(types.at(-1)).toBe('apply.finished');
    // Journaled before made: each create batch's intent comes before its machines.
    const firstJournal = types.indexOf('intent.journaled');
    expect(firstJournal).toBeLessThan(types.indexOf('machine.created'));
  });

  it('can be iterated as an async stream of events', async () => {
    const { dc } = setup();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const e of dc.events) {
        seen.push(e.type);
        if (e.type === 'apply.finished') break;
      }
    })();
    await dc.apply(SPEC);
    await reading;
    expect(seen).toContain('machine.created');
  });

  it('scales down by deleting the newest machines, and destroy removes everything, networks last', async () => {
    const { dc, onprem, cloud, events } = setup();
    await dc.apply(SPEC);
    const scaled = {
      ...SPEC,
      pools: { ...SPEC.pools, web: { provider: 'cloud', count: 1, machine: MACHINE } },
    };
    expect((await dc.apply(scaled)).summary).toMatchObject({ ok: true, deleted: 2 });
    expect(await dc.machines({ pool: 'web' })).toHaveLength(1);
    const result = await dc.destroy();
    expect(result.summary).toMatchObject({ ok: true, deleted: 3, networks: 1 });
    expect(await onprem.listMachines()).toHaveLength(0);
    expect(await cloud.listMachines()).toHaveLength(0);
    expect(await dc.machines()).toHaveLength(0);
    const types = events.map((e) => e.type);
    expect(types.lastIndexOf('network.deleted')).toBeGreaterThan(
      types.lastIndexOf('machine.deleted'),
    );
  });

  it('replaces machines when their spec changes, creating first when asked', async () => {
    const { dc, events } = setup();
    const one: DatacenterSpecInput = {
      pools: { web: { provider: 'cloud', count: 2, machine: MACHINE } },
    };
    await dc.apply(one);
    const before = (await dc.machines()).map((m) => m.id);
    events.length = 0;
    const changed: DatacenterSpecInput = {
      pools: {
        web: {
          provider: 'cloud',
          count: 2,
          createBeforeDestroy: true,
          machine: { ...MACHINE, image: 'debian-12' },
        },
      },
    };
    const plan = await dc.plan(changed);
    expect(plan.steps.map((s) => s.kind)).toEqual(['replace', 'replace']);
    const { summary } = await dc.apply(changed);
    expect(summary).toMatchObject({ ok: true, replaced: 2 });
    const after = await dc.machines();
    expect(after).toHaveLength(2);
    expect(after.every((m) => m.image === 'img-debian-12' && !before.includes(m.id))).toBe(true);
    const types = events.map((e) => e.type);
    expect(types.indexOf('machine.created')).toBeLessThan(types.indexOf('machine.deleting'));
  });

  it('finds drift: machines gone or stopped outside kumo, and puts them right on apply', async () => {
    const { dc, cloud } = setup();
    await dc.apply(SPEC);
    const [a, b] = await dc.machines({ pool: 'web' });
    await cloud.deleteMachines([a!.providerId]);
    await cloud.stopMachine(b!.providerId);
    const report = await dc.refresh();
    expect(report.drift.map((d) => [d.id, d.kind]).sort()).toEqual(
      [
        [a!.id, 'gone'],
        [b!.id, 'stopped'],
      ].sort(),
    );
    expect((await dc.machines({ pool: 'web' })).find((m) => m.id === a!.id)?.status).toBe('lost');
    const plan = await dc.plan(SPEC);
    expect(plan.steps.map((s) => s.kind).sort()).toEqual(['replace', 'start']);
    const { summary } = await dc.apply(SPEC);
    expect(summary).toMatchObject({ ok: true, replaced: 1, started: 1 });
    expect(await dc.machines({ pool: 'web', state: 'running' })).toHaveLength(3);
    expect((await dc.plan(SPEC)).steps).toEqual([]);
  });

  it('finds a machine changed outside kumo (its size), and replaces it on apply', async () => {
    const target = { providerId: '' };
    // Someone resized a machine in the cloud's console: the provider now reports another size.
    const resized = (m: Machine): Machine =>
      m.providerId === target.providerId ? { ...m, size: 'mem-2x16' } : m;
    const { dc } = setup({
      wrap: (name, p) =>
        name !== 'cloud'
          ? p
          : tap(p, {
              listMachines: async (...args) => (await p.listMachines(...args)).map(resized),
              getMachine: async (...args) => resized(await p.getMachine(...args)),
            }),
    });
    await dc.apply(SPEC);
    const [victim] = await dc.machines({ pool: 'web' });
    target.providerId = victim!.providerId;
    const report = await dc.refresh();
    expect(report.drift).toEqual([
      expect.objectContaining({
        kind: 'changed',
        id: victim!.id,
        detail: `size ${victim!.size} → mem-2x16`,
      }),
    ]);
    expect((await dc.plan(SPEC)).steps).toEqual([expect.objectContaining({ kind: 'replace' })]);
    expect((await dc.apply(SPEC)).summary).toMatchObject({ ok: true, replaced: 1 });
    expect((await dc.machines({ pool: 'web' })).map((m) => m.id)).not.toContain(victim!.id);
    expect((await dc.plan(SPEC)).steps).toEqual([]);
  });

  it('keeps at most `parallelism` cloud calls in flight on each provider', async () => {
    const peaks: Record<string, number> = {};
    const watch = (name: string, p: Provider): Provider => {
      let inFlight = 0;
      return tap(p, {
        createMachines: async (...args) => {
          inFlight++;
          peaks[name] = Math.max(peaks[name] ?? 0, inFlight);
          try {
            await new Promise((resolve) => setTimeout(resolve, 5));
            return await p.createMachines(...args);
          } finally {
            inFlight--;
          }
        },
      });
    };
    const { dc } = setup({ wrap: watch });
    const { summary } = await dc.apply(
      {
        pools: {
          a: { provider: 'onprem', count: 12, machine: MACHINE },
          b: { provider: 'cloud', count: 12, machine: MACHINE },
        },
      },
      { parallelism: 3, batchSize: 1 },
    );
    expect(summary).toMatchObject({ ok: true, created: 24 });
    expect(peaks).toEqual({ onprem: 3, cloud: 3 });
  });

  it('stops at an interrupt, counting the steps it did not run apart from failures, and the next apply carries on', async () => {
    const interrupt = new AbortController();
    const slow = (_: string, p: Provider): Provider =>
      tap(p, {
        createMachines: async (...args) => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          return p.createMachines(...args);
        },
      });
    const { dc, events } = setup({ wrap: slow });
    dc.events.on((e) => {
      if (e.type === 'machine.created') interrupt.abort(new Error('interrupted'));
    });
    const spec: DatacenterSpecInput = {
      pools: { a: { provider: 'onprem', count: 12, machine: MACHINE } },
    };
    const { summary } = await dc.apply(spec, {
      parallelism: 1,
      batchSize: 1,
      signal: interrupt.signal,
    });
    expect(summary).toMatchObject({ ok: false, interrupted: true, failed: [] });
    expect(summary.created).toBeGreaterThan(0);
    expect(summary.created + summary.notRun).toBe(12);
    expect(events.filter((e) => e.type === 'step.failed')).toEqual([]);
    const again = await dc.apply(spec);
    expect(again.summary).toMatchObject({ ok: true, interrupted: false, notRun: 0 });
    expect(await dc.machines({ pool: 'a' })).toHaveLength(12);
  });

  it('reports orphans, adopts them, and prunes them', async () => {
    const { dc, cloud } = setup();
    await dc.apply(SPEC);
    // Machines tagged for this datacenter that state does not know: as after a lost state file.
    const made = await cloud.createMachines({
      spec: MACHINE,
      count: 2,
      idempotencyKey: 'stray-1',
      dc: 'test',
      pool: 'web',
    });
    const report = await dc.refresh();
    expect(report.orphans.map((m) => m.id).sort()).toEqual(made.map((m) => m.id).sort());
    expect((await dc.plan(SPEC)).orphans).toHaveLength(2);
    const adopted = await dc.adopt([made[0]!.id]);
    expect(adopted.map((m) => m.id)).toEqual([made[0]!.id]);
    expect(
      (await dc.machines({ pool: 'web' })).some((m) => m.id === made[0]!.id && m.adopted),
    ).toBe(true);
    await expect(dc.adopt(['nope'])).rejects.toThrow(/not orphans of datacenter test: nope/);
    const { summary } = await dc.apply(SPEC, { prune: true });
    expect(summary.ok).toBe(true);
    expect(await cloud.listMachines({ labels: { 'kumo-dc': 'test' } })).toHaveLength(3);
    expect((await dc.refresh()).orphans).toEqual([]);
  });

  it('keeps going when one step fails, and reports each failure', async () => {
    const { dc, cloud } = setup();
    const spec: DatacenterSpecInput = {
      pools: {
        good: { provider: 'onprem', count: 2, machine: MACHINE },
        bad: {
          provider: 'cloud',
          count: 2,
          machine: { size: 'no-such-size', image: 'ubuntu-22.04' },
        },
      },
    };
    const { summary } = await dc.apply(spec);
    expect(summary.ok).toBe(false);
    expect(summary.created).toBe(2);
    expect(summary.failed).toEqual([
      expect.objectContaining({
        code: 'ValidationError',
        resumable: false,
        step: expect.stringContaining('+ bad: 2 machine(s) on cloud'),
      }),
    ]);
    expect(await cloud.listMachines()).toHaveLength(0);
    expect(summary.pendingIntents).toBe(0);
  });

  it('refuses to record a new machine over another whose id it shares, keeping the one recorded', async () => {
    const clash: { with?: string } = {};
    const { dc } = setup({
      wrap: (_name, p) =>
        tap(p, {
          // Two keys whose short hashes meet: the new machine comes back with a taken id.
          createMachines: async (request, options) =>
            (await p.createMachines(request, options)).map((m) =>
              clash.with === undefined ? m : { ...m, id: clash.with },
            ),
        }),
    });
    await dc.apply({ pools: { web: { provider: 'cloud', count: 1, machine: MACHINE } } });
    const [first] = await dc.machines({ pool: 'web' });
    clash.with = first!.id;
    const { summary } = await dc.apply({
      pools: { web: { provider: 'cloud', count: 2, machine: MACHINE } },
    });
    expect(summary.failed).toEqual([
      expect.objectContaining({
        code: 'Conflict',
        message: expect.stringContaining(`machine id ${first!.id}`),
      }),
    ]);
    expect(summary.pendingIntents).toBe(0);
    expect((await dc.machines({ pool: 'web' })).map((m) => m.providerId)).toEqual([
      first!.providerId,
    ]);
  });

  it('makes no duplicates when the cloud acts but the call times out', async () => {
    const { dc, cloud } = setup();
    cloud.control.inject('timeoutAfterSuccess', 1);
    const { summary } = await dc.apply({
      pools: { web: { provider: 'cloud', count: 4, machine: MACHINE } },
    });
    expect(summary.ok).toBe(true);
    expect(await cloud.listMachines()).toHaveLength(4);
  });

  it('destroy drops journaled creates and networks, deleting what they made, and makes nothing', async () => {
    const store = memoryStore();
    const deletedNetworks: string[] = [];
    const { dc, cloud, onprem } = setup({
      store,
      wrap: (_name, p) =>
        tap(p, {
          deleteNetwork: (name, options) => {
            deletedNetworks.push(name);
            return p.deleteNetwork(name, options);
          },
        }),
    });
    await store.open('test');
    const create = (key: string) => ({
      id: `create:${key}`,
      kind: 'create' as const,
      provider: 'cloud',
      key,
      pool: 'web',
      count: 2,
      specHash: 'h1',
      spec: { ...MACHINE, spot: false, sshKeys: [], labels: {} },
      createdAt: '',
    });
    await store.commit([
      // One whose call the crashed run had made, one it never made.
      { op: 'intent.put', intent: create('web:made') },
      { op: 'intent.put', intent: create('web:never') },
      {
        op: 'intent.put',
        intent: {
          id: 'ensure-network:onprem/lan',
          kind: 'ensure-network',
          provider: 'onprem',
          key: 'onprem/lan',
          network: 'lan',
          specHash: 'n1',
          spec: { name: 'lan', cidr: '10.0.0.0/16' },
          createdAt: '',
        },
      },
    ]);
    await cloud.createMachines({
      spec: MACHINE,
      count: 2,
      idempotencyKey: 'web:made',
      dc: 'test',
      pool: 'web',
    });
    await onprem.ensureNetwork({ name: 'lan', cidr: '10.0.0.0/16' });
    const { summary } = await dc.destroy();
    expect(summary).toMatchObject({ ok: true, created: 0, deleted: 2, pendingIntents: 0 });
    expect((await cloud.listMachines()).filter((m) => m.state !== 'terminated')).toEqual([]);
    expect(deletedNetworks).toEqual(['lan']);
  });

  it('resumes an intent journaled by a crashed apply with the same key, without duplicates', async () => {
    const store = memoryStore();
    const { dc, cloud } = setup({ store });
    await store.open('test');
    const intent = {
      id: 'create:web:crash',
      kind: 'create' as const,
      provider: 'cloud',
      key: 'web:crash',
      pool: 'web',
      count: 3,
      specHash: 'h1',
      spec: { ...MACHINE, spot: false, sshKeys: [], labels: {} },
      createdAt: '',
    };
    await store.commit([{ op: 'intent.put', intent }]);
    // The crashed run had made the call: the cloud has the machines, state does not.
    const made = await cloud.createMachines({
      spec: MACHINE,
      count: 3,
      idempotencyKey: 'web:crash',
      dc: 'test',
      pool: 'web',
    });
    expect((await dc.refresh()).orphans).toEqual([]); // in flight, not orphans
    const plan = await dc.plan({
      pools: { web: { provider: 'cloud', count: 3, machine: MACHINE } },
    });
    expect(plan.steps[0]).toMatchObject({ kind: 'resume' });
    const { summary } = await dc.apply({
      pools: { web: { provider: 'cloud', count: 3, machine: MACHINE } },
    });
    expect(summary).toMatchObject({ ok: true, resumed: 1, pendingIntents: 0 });
    expect((await cloud.listMachines()).map((m) => m.id).sort()).toEqual(
      made
        .map((m) => m.id)
        .sort()
        .concat([])
        .sort(),
    );
    expect((await dc.machines()).map((m) => m.providerId).sort()).toEqual(
      made.map((m) => m.providerId).sort(),
    );
  });

  it('applies a saved plan made with createBeforeDestroy as it was made, without the option again', async () => {
    const { dc } = setup();
    const web = { provider: 'cloud', count: 1, machine: MACHINE };
    await dc.apply({ pools: { web } });
    const changed = { pools: { web: { ...web, machine: { ...MACHINE, image: 'debian-12' } } } };
    const saved: unknown = JSON.parse(
      JSON.stringify(await dc.plan(changed, { createBeforeDestroy: true })),
    );
    const { summary } = await dc.apply(saved as Plan);
    expect(summary).toMatchObject({ ok: true, replaced: 1 });
  });

  it('applies a saved plan only while state has not moved', async () => {
    const { dc } = setup();
    const plan = JSON.parse(JSON.stringify(await dc.plan(SPEC))) as Parameters<typeof dc.apply>[0];
    const stale = JSON.parse(JSON.stringify(plan)) as typeof plan;
    expect((await dc.apply(plan)).summary.ok).toBe(true);
    const err: unknown = await dc.apply(stale).catch((e: unknown) => e);
    expect(isKumoError(err) && err.code).toBe('Conflict');
    expect((err as Error).message).toMatch(
      /state has moved since the plan was made \(serial 0, now \d+\)/,
    );
  });

  it('refuses a file that is not a plan, naming the problem', async () => {
    const { dc } = setup();
    await expect(dc.apply({ format: 'nope' } as unknown as DatacenterSpecInput)).rejects.toThrow(
      /not a kumo plan/,
    );
  });

  it('refuses to apply while another run holds the lock, naming it', async () => {
    const store = memoryStore();
    const { dc } = setup({ store });
    await store.open('test');
    const lock = await store.lock({
      pid: process.pid,
      host: hostname(),
      command: 'kumo apply (other)',
      since: '2024-01-01T00:00:00.000Z',
    });
    await expect(dc.apply(SPEC)).rejects.toThrow(
      /locked by pid \d+ on host .* \(kumo apply \(other\)/,
    );
    await lock.release();
    expect((await dc.apply(SPEC)).summary.ok).toBe(true);
  });

  it('refuses pools on providers that are not registered, naming them', async () => {
    const { dc } = setup();
    await expect(
      dc.plan({ pools: { x: { provider: 'aws', count: 1, machine: MACHINE } } }),
    ).rejects.toThrow(
      /pools.x.provider: provider "aws" is not registered \(registered: onprem, cloud\)/,
    );
  });

  it('turns running machines into agents, and tells when they leave or are lost', async () => {
    const running = new Map<string, MachineAgent>();
    const left: string[] = [];
    const lost: string[] = [];
    const agents: AgentSink = {
      machineRunning: (a) => running.set(a.id, a),
      machineLeft: (id) => left.push(id),
      machineLost: (id) => lost.push(id),
    };
    const { dc, cloud } = setup({ agents });
    await dc.apply(SPEC);
    expect(running.size).toBe(5);
    const db = [...running.values()].find((a) => a.attributes.pool === 'db')!;
    expect(db.attributes).toMatchObject({
      provider: 'onprem',
      region: 'dc-1',
      pool: 'db',
      spot: false,
      labels: { env: 'test', role: 'db', 'kumo-pool': 'db' },
    });
    expect(db.attributes.labels['kumo-key']).toBeUndefined();
    expect(db.resources).toMatchObject({ cpus: 2, memoryMiB: 4096 });
    const [victim] = await dc.machines({ pool: 'web' });
    await cloud.deleteMachines([victim!.providerId]);
    await dc.refresh();
    expect(lost).toEqual([victim!.id]);
    await dc.destroy();
    expect(left).toHaveLength(5);
    expect(await dc.syncAgents()).toBe(0);
  });
});
