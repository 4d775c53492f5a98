import { selectSize, SizeSchema, type Size } from '../src/core/index.js';
import { round, type Bench } from './harness.js';

/** A 1,000-size catalog: 10 families × 100 shapes, prices per vCPU and GiB with family premiums. */
function catalog(): Size[] {
  const sizes: Size[] = [];
  for (let f = 0; f < 10; f++) {
    for (let i = 0; i < 100; i++) {
      const cpus = 1 + ((i * 7 + f) % 96);
      const memoryMiB = cpus * 1024 * (1 + (f % 4)) * (1 + (i % 3));
      sizes.push(
        SizeSchema.parse({
          name: `f${f}-s${i}`,
          provider: 'bench',
          resources: { cpus, memoryMiB, gpus: f === 9 ? 1 + (i % 4) : 0, diskGiB: 0 },
          pricePerHour: cpus * (0.03 + f * 0.002) + (memoryMiB / 1024) * 0.004,
          zones: i % 5 === 0 ? ['z1'] : [],
        }),
      );
    }
  }
  return sizes;
}

export const benches: Bench[] = [
  {
    name: 'core.size_select',
    async run() {
      const sizes = catalog();
      const wants = Array.from({ length: 200 }, (_, i) => ({
        cpus: 1 + (i % 48),
        memoryMiB: 1024 * (1 + (i % 64)),
        gpus: i % 10 === 0 ? 1 : 0,
        diskGiB: 0,
      }));
      for (const w of wants) selectSize(sizes, { resources: w }); // warm up
      const rounds = 20;
      const t0 = performance.now();
      for (let r = 0; r < rounds; r++)
        for (const w of wants) selectSize(sizes, { resources: w, zone: r % 2 ? 'z1' : undefined });
      const perSelectUs = ((performance.now() - t0) * 1000) / (rounds * wants.length);
      return [
        {
          name: 'core.size_select_1k_us',
          value: round(perSelectUs, 2),
          unit: 'us',
          note: 'one selectSize over a 1,000-size catalog',
        },
      ];
    },
  },
];
