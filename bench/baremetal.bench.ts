/**
 * Bare metal on the real Ironic lab (scripts/ironic-lab/up.sh): time from a create
 * request to the machine active and running, for one machine and for 20 at once,
 * and Ironic API calls per machine. Skips, saying why, when the lab is not up.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { waitUntil } from '../src/core/index.js';
import {
  baremetal,
  ironicClientFor,
  type BaremetalProviderHandle,
} from '../src/providers/baremetal/index.js';
import { BaremetalOptionsSchema } from '../src/providers/baremetal/baremetal-config.js';
import { round, type Bench, type Figure } from './harness.js';

const LAB = join(
  process.env['KUMO_IRONIC_LAB_DIR'] ?? resolve(import.meta.dirname, '../.lab/ironic'),
  'lab.json',
);
const RUNS = 3;

function endpoint(): string | undefined {
  if (!existsSync(LAB)) return undefined;
  return (JSON.parse(readFileSync(LAB, 'utf8')) as { endpoint: string }).endpoint;
}

function provider(url: string): BaremetalProviderHandle {
  return baremetal({
    name: 'bench',
    endpoint: url,
    pollIntervalMs: 250,
    maxPollIntervalMs: 1000,
    concurrency: 16,
    ratePerSecond: 200,
    images: {
      'ubuntu-22.04': {
        url: 'http://127.0.0.1:8089/images/ubuntu-22.04-server-cloudimg-amd64.img',
        checksum: 'sha256:4f6a7f3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f',
      },
    },
  });
}

/** Creates `n` machines concurrently (one request each); ms until every one runs, and API calls made. */
async function once(url: string, n: number): Promise<{ ms: number; calls: number }> {
  const p = provider(url);
  const tag = randomBytes(3).toString('hex');
  const t0 = performance.now();
  const made = (
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        p.createMachines({
          spec: { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04' },
          count: 1,
          idempotencyKey: `bench-${tag}-${i}`,
          dc: 'bench',
          pool: `b${i}`,
        }),
      ),
    )
  ).flat();
  const ms = performance.now() - t0;
  if (made.length !== n || made.some((m) => m.state !== 'running'))
    throw new Error(`expected ${n} running machines, got ${made.map((m) => m.state).join(', ')}`);
  const calls = Object.values(p.apiCalls()).reduce((a, b) => a + b, 0);
  // Not timed: give the nodes back and wait until Ironic has cleaned them to available.
  await p.deleteMachines(made.map((m) => m.providerId));
  const ironic = ironicClientFor(BaremetalOptionsSchema.parse({ endpoint: url }));
  await waitUntil(
    async () =>
      (await ironic.listNodes({ associated: true, fields: ['uuid', 'instance_uuid'] })).length ===
      0,
    { timeoutMs: 300_000, intervalMs: 500, what: 'bench nodes back to available' },
  );
  await waitUntil(
    async () =>
      (
        await ironic.listNodes({ fields: ['uuid', 'provision_state'], resource_class: 'bm-small' })
      ).every((node) => node.provision_state === 'available'),
    { timeoutMs: 300_000, intervalMs: 500, what: 'bench nodes cleaned' },
  );
  return { ms, calls };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export const benches: Bench[] = [
  {
    name: 'baremetal.request_to_active',
    async run(): Promise<Figure[]> {
      const url = endpoint();
      if (url === undefined) {
        process.stdout.write(
          `  skipped: the Ironic lab is not up (no ${LAB}); run scripts/ironic-lab/up.sh first\n`,
        );
        return [];
      }
      const one: { ms: number; calls: number }[] = [];
      const twenty: { ms: number; calls: number }[] = [];
      for (let run = 0; run < RUNS; run++) {
        one.push(await once(url, 1));
        twenty.push(await once(url, 20));
      }
      const note = `Ironic lab on 127.0.0.1 (fake-hardware, deploy 0–2 s, power 0–1 s), median of ${RUNS}`;
      return [
        {
          name: 'baremetal.request_to_active_1_ms',
          value: round(median(one.map((r) => r.ms)), 0),
          unit: 'ms',
          note,
        },
        {
          name: 'baremetal.request_to_active_20_ms',
          value: round(median(twenty.map((r) => r.ms)), 0),
          unit: 'ms',
          note: `20 concurrent requests of 1 machine, until all run; ${note}`,
        },
        {
          name: 'baremetal.api_calls_per_machine_1',
          value: round(median(one.map((r) => r.calls)), 1),
          unit: 'calls',
          note: 'one machine alone, version negotiation and polling included',
        },
        {
          name: 'baremetal.api_calls_per_machine_20',
          value: round(median(twenty.map((r) => r.calls / 20)), 1),
          unit: 'calls',
          note: '20 at once: inventory reads and polling shared',
        },
      ];
    },
  },
];
