/**
 * Provisioning 1,000 machines on the EC2 wire fake, with EC2's documented request and
 * resource rate limits and 5 % injected faults (transient 5xx, throttling, connections
 * dropped after the cloud acted, capacity errors, eventual consistency).
 *
 * Time runs on a virtual clock (`SettlingClock`) that moves only while no request is
 * in flight: waits (pacing, backoff, boot, polling) take their full virtual length and
 * requests take none, so the figures measure how well the provider uses EC2's token
 * buckets, not how fast this machine signs, intercepts and parses XML.
 *
 * Figures:
 * - `aws.provision_1000.calls_per_machine`: every HTTP request the fake received
 *   (retries, throttled and faulted ones included) per machine; target ≤ 1.2.
 * - `aws.provision_1000.time_vs_bound`: elapsed virtual time over the throttle-limited
 *   lower bound of the plan (below); target ≤ 1.1.
 * - `aws.provision_1000.duplicates`: instances beyond one per machine name; must be 0.
 *
 * The lower bound: each machine needs its own `kumo-id` tag, and EC2 gives every
 * instance of one RunInstances call the same tags, so a correct client makes at least
 * one CreateTags per instance (or one RunInstances per instance, whose bucket is five
 * times slower). With the documented buckets the bound is the largest of
 * - RunInstances requests for the chunks: (chunks − 5) / 2 s, plus the boot time;
 * - the RunInstances resource bucket: (1000 − 1000) / 2 s, plus the boot time;
 * - CreateTags, one per machine: (1000 − 100) / 10 s.
 */
import { seededRandom, TAG_ID, TAG_KEY } from '../src/core/index.js';
import { aws } from '../src/providers/aws/index.js';
import { planChunks } from '../src/providers/aws/aws-launch.js';
import {
  DOCUMENTED_EC2_LIMITS,
  Ec2Fake,
  FAKE_ZONES,
  SettlingClock,
  testCredentials,
} from '../test/fakes/ec2/index.js';
import { round, type Bench, type Figure } from './harness.js';

const MACHINES = 1000;
const BOOT_MS = 30_000;
const CHUNK = 100;

/** The throttle-limited lower bound of provisioning `n` machines, in ms (see the header). */
export function provisionBoundMs(n: number, chunks: number, bootMs: number): number {
  const L = DOCUMENTED_EC2_LIMITS;
  const afterBurst = (count: number, b: { size: number; refillPerSecond: number }) =>
    Math.max(0, ((count - b.size) / b.refillPerSecond) * 1000);
  const lastLaunch = Math.max(
    afterBurst(chunks, L.actions.RunInstances!),
    afterBurst(n, L.resources.RunInstances!),
  );
  const tags = afterBurst(n, L.actions.CreateTags!);
  return Math.max(lastLaunch + bootMs, tags);
}

async function provision1000(): Promise<Figure[]> {
  const start = Date.UTC(2026, 0, 1);
  const clock = new SettlingClock({ start });
  const fake = new Ec2Fake({
    clock,
    seed: 42,
    bootMs: BOOT_MS,
    limits: DOCUMENTED_EC2_LIMITS,
    // 5 % of requests fault; launches also meet capacity errors and eventual consistency.
    faultRates: {
      transient: 0.02,
      throttle: 0.015,
      timeoutAfterSuccess: 0.015,
      capacity: 0.05,
      eventualConsistency: 0.05,
    },
  }).install();
  // One of each launch fault for certain, whatever the random draws give.
  fake.faults.capacity();
  fake.faults.timeoutAfterCreate();
  fake.faults.eventualConsistency(1);
  const provider = aws(
    {
      region: 'us-east-1',
      credentials: testCredentials(),
      chunkSize: CHUNK,
      capacityFallback: 'next-zone',
    },
    { clock, random: seededRandom(7) },
  );
  clock.whileBusy(() => provider.requestsInFlight > 0);
  try {
    const machines = await provider.createMachines({
      spec: { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04' },
      count: MACHINES,
      idempotencyKey: 'bench-provision-1000',
      dc: 'bench',
      pool: 'web',
    });
    const elapsed = clock.now() - start;
    const running = machines.filter((m) => m.state === 'running').length;
    if (machines.length !== MACHINES || running !== MACHINES)
      throw new Error(
        `expected ${MACHINES} running machines, got ${machines.length} (${running} running)`,
      );
    const made = fake.state
      .liveInstances()
      .filter((i) => i.tags.get(TAG_KEY) === 'bench-provision-1000' && i.state !== 'terminated');
    const names = new Set(made.map((i) => i.tags.get(TAG_ID) ?? i.id));
    // Instances beyond one per name, plus names beyond the request's count.
    const duplicates = made.length - names.size + Math.max(0, names.size - MACHINES);
    const chunks = planChunks(MACHINES, CHUNK, FAKE_ZONES.length).length;
    const bound = provisionBoundMs(MACHINES, chunks, BOOT_MS);
    const faults = [...fake.injected].map(([k, v]) => `${k} ${v}`).join(', ');
    return [
      {
        name: 'aws.provision_1000.calls_per_machine',
        value: round(fake.requests / MACHINES, 3),
        unit: 'calls',
        note: `${fake.requests} requests; faults injected: ${faults}; target ≤ 1.2`,
      },
      {
        name: 'aws.provision_1000.time_vs_bound',
        value: round(elapsed / bound, 3),
        unit: 'ratio',
        note: `${round(elapsed / 1000, 1)} s virtual vs bound ${round(bound / 1000, 1)} s; target ≤ 1.1`,
      },
      {
        name: 'aws.provision_1000.duplicates',
        value: duplicates,
        unit: 'machines',
        note: `${made.length} instances for ${names.size} names; must be 0`,
      },
    ];
  } finally {
    provider.close();
    fake.uninstall();
  }
}

export const benches: Bench[] = [{ name: 'aws.provision_1000', run: provision1000 }];
