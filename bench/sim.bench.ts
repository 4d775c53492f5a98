import { VirtualClock } from '../src/core/index.js';
import { sim } from '../src/providers/sim/index.js';
import { round, type Bench } from './harness.js';

export const benches: Bench[] = [
  {
    name: 'sim.create_10k',
    async run() {
      const times: number[] = [];
      for (let run = 0; run < 3; run++) {
        const clock = new VirtualClock({ autoAdvance: true });
        const provider = sim(
          {
            latency: { apiMs: 0, bootMs: 0, stopMs: 0, deleteMs: 0 },
            quota: { machines: 1_000_000, cpus: 1e9 },
          },
          { clock },
        );
        const t0 = performance.now();
        const made = await provider.createMachines({
          spec: { resources: { cpus: 1, memoryMiB: 1024 }, image: 'ubuntu-22.04' },
          count: 10_000,
          idempotencyKey: `bench-${run}`,
        });
        times.push(performance.now() - t0);
        if (made.length !== 10_000) throw new Error(`made ${made.length} machines, not 10000`);
      }
      times.sort((a, b) => a - b);
      return [
        {
          name: 'sim.create_10k_ms',
          value: round(times[1]!, 1),
          unit: 'ms',
          note: 'one createMachines of 10,000 on sim, zero latency, median of 3',
        },
      ];
    },
  },
];
