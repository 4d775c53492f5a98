/**
 * The logical datacenter's own overhead: planning over a large datacenter, and
 * applying many machines on a zero-latency sim cloud (so the figure is kumo's work:
 * journaling in SQLite, recording, refresh and the diff, not a cloud's latency).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LogicalDatacenter,
  memoryStore,
  sqliteStore,
  type DatacenterSpecInput,
} from '../src/logical-dc/index.js';
import { sim } from '../src/providers/sim/index.js';
import { medianMs, round, type Bench } from './harness.js';

const FAST = { apiMs: 0, bootMs: 0, stopMs: 0, deleteMs: 0 };
const BIG = {
  quota: { machines: 1_000_000, cpus: 1e9 },
  apiRate: { perSecond: 1e6, burst: 1e6 },
  zoneCapacityCpus: 1e9,
};

function spec(pools: number, perPool: number): DatacenterSpecInput {
  return {
    pools: Object.fromEntries(
      Array.from({ length: pools }, (_, i) => [
        `pool-${i}`,
        {
          provider: i % 2 === 0 ? 'onprem' : 'cloud',
          count: perPool,
          machine: { resources: { cpus: 1 + (i % 4), memoryMiB: 2048 }, image: 'ubuntu-22.04' },
        },
      ]),
    ),
  };
}

export const benches: Bench[] = [
  {
    name: 'ldc.plan_10k',
    async run() {
      const dc = new LogicalDatacenter({
        name: 'bench',
        store: memoryStore(),
        providers: {
          onprem: sim({ name: 'onprem', latency: FAST, ...BIG }),
          cloud: sim({ name: 'cloud', seed: 2, latency: FAST, ...BIG }),
        },
      });
      const desired = spec(20, 500);
      const { summary } = await dc.apply(desired, { batchSize: 500 });
      if (summary.created !== 10_000 || !summary.ok)
        throw new Error(`setup made ${summary.created} machines`);
      // A changed spec, so the plan has real work: 2 pools replaced, 2 scaled, the rest unchanged.
      const changed = spec(20, 500);
      changed.pools!['pool-0']!.machine.image = 'debian-12';
      changed.pools!['pool-1']!.count = 450;
      changed.pools!['pool-2']!.count = 600;
      changed.pools!['pool-3']!.machine.labels = { tier: 'gold' };
      let steps = 0;
      const ms = await medianMs(async () => {
        steps = (await dc.plan(changed)).steps.length;
      }, 5);
      return [
        {
          name: 'ldc.plan_10k_ms',
          value: round(ms, 1),
          unit: 'ms',
          note: `plan over 10,000 machines in 20 pools on 2 sim providers, refresh included; ${steps} steps; median of 5`,
        },
      ];
    },
  },
  {
    name: 'ldc.apply_1000_sim',
    async run() {
      const times: number[] = [];
      for (let run = 0; run < 3; run++) {
        const dir = mkdtempSync(join(tmpdir(), 'kumo-bench-'));
        try {
          const dc = new LogicalDatacenter({
            name: 'bench',
            store: sqliteStore(join(dir, 'state.db')),
            providers: {
              onprem: sim({ name: 'onprem', latency: FAST, ...BIG }),
              cloud: sim({ name: 'cloud', seed: 2, latency: FAST, ...BIG }),
            },
          });
          const t0 = performance.now();
          const { summary } = await dc.apply(spec(4, 250));
          times.push(performance.now() - t0);
          if (summary.created !== 1000 || !summary.ok)
            throw new Error(`made ${summary.created} machines`);
          await dc.close();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
      times.sort((a, b) => a - b);
      return [
        {
          name: 'ldc.apply_1000_sim_ms',
          value: round(times[1]!, 1),
          unit: 'ms',
          note: '1,000 machines in 4 pools on 2 zero-latency sims, SQLite state (journaled, synchronous=FULL), default batch 100 and parallelism 8; median of 3',
        },
      ];
    },
  },
];
