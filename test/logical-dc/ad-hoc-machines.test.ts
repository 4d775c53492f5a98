import { describe, expect, it } from 'vitest';
import type { Provider } from '../../src/core/index.js';
import { AdHocMachines, LogicalDatacenter, memoryStore } from '../../src/logical-dc/index.js';
import { sim } from '../../src/providers/sim/index.js';

const spec = { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04' };
const fast = { apiMs: 0, bootMs: 10, stopMs: 10, deleteMs: 10 };

function datacenter(
  provider: Provider = sim({ name: 'onprem', latency: fast }),
): LogicalDatacenter {
  return new LogicalDatacenter({
    name: 'adhoc-test',
    store: memoryStore(),
    providers: { onprem: provider },
  });
}

async function until<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not met');
}

describe('ad-hoc machines', () => {
  it('are made one at a time into the pool adhoc.<group>, recorded in state with nothing left in the journal', async () => {
    const dc = datacenter();
    const adhoc = new AdHocMachines(dc, { maxAgeMs: 0 });
    const m = await adhoc.create({ group: 'demo', provider: 'onprem', key: 'k-1', spec });
    expect(m).toMatchObject({
      pool: 'adhoc.demo',
      key: 'k-1',
      provider: 'onprem',
      status: 'present',
    });
    expect(m.labels['kumo-pool']).toBe('adhoc.demo');
    const state = await dc.store.read();
    expect(state.machines.map((r) => r.id)).toEqual([m.id]);
    expect(state.intents).toEqual([]);
  });

  it('whose create timed out after the cloud acted are deleted by their key, and no later apply makes them', async () => {
    const cloud = sim({ name: 'onprem', latency: fast, retryAttempts: 1 });
    const dc = datacenter(cloud);
    const adhoc = new AdHocMachines(dc, { maxAgeMs: 0 });
    cloud.control.inject('timeoutAfterSuccess', 1);
    await expect(
      adhoc.create({ group: 'demo', provider: 'onprem', key: 'srv-1', spec }),
    ).rejects.toThrow();
    await adhoc.delete('demo', 'srv-1');
    const { summary } = await dc.apply({});
    expect(summary).toMatchObject({ ok: true, created: 0, pendingIntents: 0 });
    await until(async () =>
      (await cloud.listMachines()).every((m) => m.state === 'terminated') ? true : undefined,
    );
  });

  it('make one machine per key, however often the create is repeated', async () => {
    const dc = datacenter();
    const adhoc = new AdHocMachines(dc, { maxAgeMs: 0 });
    const a = await adhoc.create({ group: 'demo', provider: 'onprem', key: 'same', spec });
    const b = await adhoc.create({ group: 'demo', provider: 'onprem', key: 'same', spec });
    expect(b.id).toBe(a.id);
    expect(await dc.machines()).toHaveLength(1);
  });

  it('are left alone by a plan of the spec, and removed by destroy', async () => {
    const dc = datacenter();
    const adhoc = new AdHocMachines(dc, { maxAgeMs: 0 });
    await adhoc.create({ group: 'demo', provider: 'onprem', key: 'k', spec });
    const plan = await dc.plan({ pools: {} });
    expect(plan.steps).toEqual([]);
    await until(async () =>
      (await adhoc.list('demo'))[0]?.state === 'running' ? true : undefined,
    );
    await dc.destroy();
    expect(await dc.machines()).toEqual([]);
  });

  it('show their live state and leave state once deleted and gone', async () => {
    const dc = datacenter();
    const adhoc = new AdHocMachines(dc, { maxAgeMs: 0 });
    const m = await adhoc.create({ group: 'demo', provider: 'onprem', key: 'k', spec });
    await until(async () =>
      (await adhoc.get('demo', 'k'))?.state === 'running' ? true : undefined,
    );
    await adhoc.delete('demo', m.id);
    expect((await dc.store.read()).machines[0]?.status).toBe('deleting');
    await until(async () => ((await adhoc.list('demo')).length === 0 ? true : undefined));
    expect(await dc.machines({ status: ['present', 'deleting', 'lost'] })).toEqual([]);
  });

  it('stop and start', async () => {
    const dc = datacenter();
    const adhoc = new AdHocMachines(dc, { maxAgeMs: 0 });
    const m = await adhoc.create({ group: 'demo', provider: 'onprem', key: 'k', spec });
    await until(async () =>
      (await adhoc.get('demo', m.id))?.state === 'running' ? true : undefined,
    );
    await adhoc.stop('demo', m.id);
    await until(async () =>
      (await adhoc.get('demo', m.id))?.state === 'stopped' ? true : undefined,
    );
    await adhoc.start('demo', m.id);
    await until(async () =>
      (await adhoc.get('demo', m.id))?.state === 'running' ? true : undefined,
    );
  });

  it('are another group’s to touch only by that group', async () => {
    const dc = datacenter();
    const adhoc = new AdHocMachines(dc, { maxAgeMs: 0 });
    const m = await adhoc.create({ group: 'demo', provider: 'onprem', key: 'k', spec });
    expect(await adhoc.list('other')).toEqual([]);
    await expect(adhoc.delete('other', m.id)).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('are made once when a create that reached the cloud is resumed after a failure', async () => {
    const inner = sim({ name: 'onprem', latency: fast });
    let fail = true;
    const flaky: Provider = Object.assign(Object.create(inner) as Provider, {
      createMachines: async (...args: Parameters<Provider['createMachines']>) => {
        const made = await inner.createMachines(...args);
        if (fail) {
          fail = false;
          throw new Error('connection reset after the cloud acted');
        }
        return made;
      },
    });
    const dc = datacenter(flaky);
    const adhoc = new AdHocMachines(dc, { maxAgeMs: 0 });
    await expect(
      adhoc.create({ group: 'demo', provider: 'onprem', key: 'k', spec }),
    ).rejects.toThrow(/connection reset/);
    expect((await dc.store.read()).intents.map((i) => i.id)).toEqual(['create:k']);
    expect(await adhoc.resume()).toBe(1);
    expect(await dc.machines()).toHaveLength(1);
    expect(await inner.listMachines()).toHaveLength(1);
    expect((await dc.store.read()).intents).toEqual([]);
  });

  it('refuse an unknown provider and a bad group, naming the field', async () => {
    const adhoc = new AdHocMachines(datacenter());
    await expect(adhoc.create({ group: 'demo', provider: 'nope', key: 'k', spec })).rejects.toThrow(
      /provider "nope" is not registered/,
    );
    await expect(
      adhoc.create({ group: 'Not OK', provider: 'onprem', key: 'k', spec }),
    ).rejects.toThrow(/ad-hoc group "Not OK"/);
  });
});
