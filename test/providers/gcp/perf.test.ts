import { it } from 'vitest';
import { harness } from './helpers.js';

it('perf', async () => {
  const h = harness();
  await h.provider.createMachines({
    spec: { resources: { cpus: 1, memoryMiB: 1024 }, image: 'ubuntu-22.04', zone: 'us-central1-a' },
    count: 1,
    idempotencyKey: 'p1',
  });
  let t = performance.now();
  for (let i = 0; i < 50; i++)
    await h.provider.getMachine(
      'us-central1-a/default-' +
        (await import('../../../src/core/index.js')).shortHash('p1', 8) +
        '-0',
    );
  console.log('get x50', Math.round(performance.now() - t));
  t = performance.now();
  for (let i = 0; i < 50; i++) await h.provider.listMachines({ labels: { 'kumo-key': 'p1' } });
  console.log('list x50', Math.round(performance.now() - t));
  t = performance.now();
  await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      h.provider.createMachines({
        spec: { resources: { cpus: 1, memoryMiB: 1024 }, image: 'ubuntu-22.04' },
        count: 1,
        idempotencyKey: 'c' + i,
      }),
    ),
  );
  console.log('create x50 concurrent', Math.round(performance.now() - t));
  t = performance.now();
  console.log(Object.fromEntries(h.fake.calls));
  await h.close();
}, 120000);
