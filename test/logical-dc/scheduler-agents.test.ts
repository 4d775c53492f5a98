import { describe, expect, it } from 'vitest';
import { LogicalDatacenter, memoryStore } from '../../src/logical-dc/index.js';
import { sim } from '../../src/providers/sim/index.js';
import { InstantExecutor, Scheduler } from '../../src/scheduler/index.js';

const FAST = { apiMs: 0, bootMs: 0, stopMs: 0, deleteMs: 0 };
const SPEC = {
  pools: {
    db: {
      provider: 'onprem',
      count: 2,
      machine: {
        resources: { cpus: 4, memoryMiB: 16384 },
        image: 'ubuntu-22.04',
        labels: { role: 'db' },
      },
    },
    batch: {
      provider: 'cloud',
      count: 1,
      machine: { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04', spot: true },
    },
  },
};

function setup() {
  const scheduler = new Scheduler({ executor: new InstantExecutor() });
  const cloud = sim({ name: 'cloud', seed: 2, latency: FAST });
  const store = memoryStore();
  const providers = {
    onprem: sim({ name: 'onprem', seed: 1, latency: FAST, region: 'dc-1' }),
    cloud,
  };
  const dc = new LogicalDatacenter({ name: 'sched', store, providers, scheduler });
  return { dc, scheduler, cloud, store, providers };
}

describe('running machines as scheduler agents', () => {
  it('registers each running machine as an agent with its resources and attributes', async () => {
    const { dc, scheduler } = setup();
    expect(dc.scheduler).toBe(scheduler);
    await dc.apply(SPEC);
    const agents = scheduler.agents();
    expect(agents).toHaveLength(3);
    const spot = agents.find((a) => a.attributes.pool === 'batch')!;
    expect(spot.attributes).toMatchObject({
      provider: 'cloud',
      region: 'sim-1',
      pool: 'batch',
      spot: true,
    });
    expect(spot.attributes.pricePerHour).toBeGreaterThan(0);
    const db = agents.find((a) => a.attributes.pool === 'db')!;
    expect(db.attributes).toMatchObject({
      provider: 'onprem',
      region: 'dc-1',
      spot: false,
      labels: { role: 'db', 'kumo-pool': 'db' },
    });
    expect(db.total).toMatchObject({ cpus: 4, memoryMiB: 16384 });
  });

  it('removes the agent of a machine kumo deletes, and marks lost the agent of one that vanished', async () => {
    const { dc, scheduler, cloud } = setup();
    await dc.apply(SPEC);
    const [batch] = await dc.machines({ pool: 'batch' });
    await cloud.deleteMachines([batch!.providerId]);
    await dc.refresh();
    expect(scheduler.agent(batch!.id)).toBeUndefined();
    await dc.apply({ pools: { db: { ...SPEC.pools.db, count: 1 } } });
    expect(scheduler.agents().map((a) => a.attributes.pool)).toEqual(['db']);
  });

  it('registers machines already running when a datacenter is opened on existing state', async () => {
    const first = setup();
    await first.dc.apply(SPEC);
    const scheduler = new Scheduler({ executor: new InstantExecutor() });
    const again = new LogicalDatacenter({
      name: 'sched',
      store: first.store,
      providers: first.providers,
      scheduler,
    });
    expect(await again.machines()).toHaveLength(3);
    expect(scheduler.agents()).toHaveLength(3);
  });
});
