/**
 * Provisioning 1,000 machines on the Compute Engine wire fake, under Compute's
 * documented per-minute rate quotas and with 5 % injected faults (transient 5xx,
 * throttling, connections dropped after the cloud acted, zone capacity exhaustion).
 *
 * The quotas are the documented defaults ("Compute Engine rate quotas",
 * cloud.google.com/compute/api-quota): 1,500 queries, 1,500 read (get and list)
 * requests and 1,500 operation read requests per minute per project, counted in
 * synchronised 60 s windows, answered over quota with 403 `rateLimitExceeded`.
 *
 * Time runs on a virtual clock (`SettlingClock`) that moves only while no request is
 * in flight, so a minute-long quota window costs no real minute and the figures measure
 * how the provider uses Compute's quotas and operations, not how fast this machine
 * intercepts and parses JSON. An operation `wait` that the fake holds open until its
 * operation is DONE does not count as in flight (the server is the one waiting).
 *
 * Figures:
 * - `gcp.provision_1000.calls_per_machine`: every HTTP request the fake received
 *   (refused and faulted ones included) per machine; bulkInsert makes it well under 1.
 * - `gcp.provision_1000.time_vs_bound`: elapsed virtual time over the lower bound (below);
 *   target ≤ 1.1.
 * - `gcp.provision_1000.duplicates`: instances beyond one per machine name (names are
 *   unique per zone only, so the same name in two zones counts); must be 0.
 *
 * The lower bound: no machine runs before its create operation is DONE and it has
 * booted (`OPERATION_MS + BOOT_MS`); a machine whose create operation ended in
 * ZONE_RESOURCE_POOL_EXHAUSTED (known only when it is DONE) needs one more operation
 * after it, so each such operation on a machine's way adds `OPERATION_MS` (the run
 * forces one: the first bulkInsert meets a stock-out). The calls a correct client
 * cannot avoid fit in the quota windows only as fast as they refill. The fewest calls
 * are one bulkInsert
 * per zone and one operation wait each, plus one listing that sees the machines
 * running; with 1,500 queries a minute that fits the first window, so the cloud's own
 * time is the bound. (A client making one `insert` and one `wait` per machine needs
 * 2,000 queries and so at least one more window: 60 s more.)
 */
import { seededRandom, TAG_KEY, toGcpLabels } from '../src/core/index.js';
import { gcp } from '../src/providers/gcp/index.js';
import { SettlingClock } from '../test/fakes/ec2/index.js';
import { GceFake, testAuthClient, type GceFakeOptions } from '../test/fakes/gce/index.js';
import { round, type Bench, type Figure } from './harness.js';

const MACHINES = 1000;
const REGION = 'us-central1';
const ZONES = ['us-central1-a', 'us-central1-b', 'us-central1-c', 'us-central1-f'];
/** An insert or bulkInsert operation runs this long before it is DONE. */
const OPERATION_MS = 20_000;
/** PROVISIONING → RUNNING this long after the operation is DONE. */
const BOOT_MS = 30_000;
/** Compute's documented per-minute rate quotas (defaults per project). */
export const DOCUMENTED_GCE_QUOTA = {
  windowMs: 60_000,
  queries: 1500,
  reads: 1500,
  operationReads: 1500,
  status: 403,
} as const satisfies GceFakeOptions['quota'];
/** Share of requests that meet a fault. */
const FAULT_RATE = 0.05;

const CREATE = /\/zones\/[^/]+\/instances(\/bulkInsert)?(\?|$)/;
const WAIT = /\/operations\/([^/?]+)\/wait(\?|$)/;

/**
 * The fake with a fault drawn for 5 % of requests: throttling or a 5xx for any call,
 * and for creates also a dropped connection after the create took effect, or zone
 * capacity exhaustion. It also tells which `wait` calls it is holding open.
 */
class FaultyGce extends GceFake {
  readonly injected = new Map<string, number>();
  readonly #random = seededRandom(42);
  readonly #held: string[] = [];
  /** Machine names of each create operation started. */
  readonly createdBy = new Map<string, readonly string[]>();

  /** Operation waits the fake holds open on an operation that is not DONE yet. */
  get heldWaits(): number {
    return this.#held.filter((name) => this.operations.get(name)?.done === false).length;
  }

  /** Arms a fault of `kind` for the request about to be handled. */
  inject(kind: 'transient' | 'throttle' | 'timeoutAfterCreate' | 'capacity'): void {
    this.injected.set(kind, (this.injected.get(kind) ?? 0) + 1);
    if (kind === 'transient') this.faults.transient(1);
    else if (kind === 'throttle') this.faults.throttle(1);
    else if (kind === 'timeoutAfterCreate') this.faults.timeoutAfterCreate();
    else this.faults.capacity();
  }

  override async handle(
    method: string,
    uri: string,
    rawBody: unknown,
    authorization: string,
  ): Promise<Awaited<ReturnType<GceFake['handle']>>> {
    const create = method === 'POST' && CREATE.test(uri);
    if (this.#random() < FAULT_RATE) {
      const kinds = create
        ? (['transient', 'throttle', 'timeoutAfterCreate', 'capacity'] as const)
        : (['transient', 'throttle'] as const);
      this.inject(kinds[Math.floor(this.#random() * kinds.length)]!);
    }
    if (create) {
      const reply = await super.handle(method, uri, rawBody, authorization);
      const op = 'body' in reply ? (reply.body as { name?: unknown }).name : undefined;
      if (typeof op === 'string' && !this.createdBy.has(op))
        this.createdBy.set(op, namesOf(rawBody));
      return reply;
    }
    const wait = method === 'POST' ? WAIT.exec(uri)?.[1] : undefined;
    if (wait === undefined) return super.handle(method, uri, rawBody, authorization);
    this.#held.push(wait);
    try {
      return await super.handle(method, uri, rawBody, authorization);
    } finally {
      this.#held.splice(this.#held.indexOf(wait), 1);
    }
  }

  /**
   * The most create operations any one machine went through that ended in
   * ZONE_RESOURCE_POOL_EXHAUSTED: each is known only once the operation is DONE, so its
   * machines are created again after it.
   */
  exhaustedChain(): number {
    const count = new Map<string, number>();
    for (const [op, names] of this.createdBy) {
      const error = this.operations.get(op)?.json['error'] as
        { errors?: { code?: string }[] } | undefined;
      if (!error?.errors?.some((e) => e.code?.startsWith('ZONE_RESOURCE_POOL_EXHAUSTED'))) continue;
      for (const n of names) count.set(n, (count.get(n) ?? 0) + 1);
    }
    return Math.max(0, ...count.values());
  }
}

/** Instance names an insert or bulkInsert body asks for. */
function namesOf(rawBody: unknown): string[] {
  const body = (typeof rawBody === 'string' ? JSON.parse(rawBody || '{}') : rawBody) as {
    name?: string;
    perInstanceProperties?: Record<string, unknown>;
  } | null;
  if (body?.name !== undefined) return [body.name];
  return Object.keys(body?.perInstanceProperties ?? {});
}

/**
 * The lower bound of provisioning on `zones` zones, in ms (see the header), when some
 * machine had to be created again after `exhausted` operations failed for lack of capacity.
 */
export function provisionBoundMs(zones: number, exhausted: number): number {
  const fewestCalls = 2 * zones + 1;
  const extraWindows = Math.ceil(fewestCalls / DOCUMENTED_GCE_QUOTA.queries) - 1;
  return Math.max(
    (1 + exhausted) * OPERATION_MS + BOOT_MS,
    extraWindows * DOCUMENTED_GCE_QUOTA.windowMs,
  );
}

async function provision1000(): Promise<Figure[]> {
  const start = Date.UTC(2026, 0, 1);
  const clock = new SettlingClock({ start });
  const fake = new FaultyGce({
    clock,
    zones: { [REGION]: ZONES },
    operationMs: OPERATION_MS,
    bootMs: BOOT_MS,
    quota: DOCUMENTED_GCE_QUOTA,
  }).install();
  const provider = gcp(
    {
      project: fake.project,
      region: REGION,
      authClient: testAuthClient(),
      zoneFallback: true,
    },
    { clock, random: seededRandom(7) },
  );
  clock.whileBusy(() => provider.requestsInFlight > fake.heldWaits);
  // One of each create fault for certain, whatever the random draws give: the first
  // bulkInsert meets an exhausted zone, and its answer is lost on the way back.
  fake.inject('capacity');
  fake.inject('timeoutAfterCreate');
  try {
    const key = 'bench-provision-1000';
    const machines = await provider.createMachines({
      spec: { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04' },
      count: MACHINES,
      idempotencyKey: key,
      dc: 'bench',
      pool: 'web',
    });
    const elapsed = clock.now() - start;
    const running = machines.filter((m) => m.state === 'running').length;
    if (machines.length !== MACHINES || running !== MACHINES)
      throw new Error(
        `expected ${MACHINES} running machines, got ${machines.length} (${running} running)`,
      );
    const [labelKey, labelValue] = Object.entries(toGcpLabels({ [TAG_KEY]: key }))[0]!;
    const made = [...fake.instances.values()].filter(
      (i) => (i.json['labels'] as Record<string, string> | undefined)?.[labelKey] === labelValue,
    );
    const names = new Set(made.map((i) => String(i.json['name'])));
    // Instances beyond one per name, plus names beyond the request's count.
    const duplicates = made.length - names.size + Math.max(0, names.size - MACHINES);
    const zonesUsed = new Set(made.map((i) => i.zone)).size;
    const exhausted = fake.exhaustedChain();
    const bound = provisionBoundMs(ZONES.length, exhausted);
    const requests = fake.totalCalls + [...fake.refused.values()].reduce((a, b) => a + b, 0);
    const faults = [...fake.injected].map(([k, v]) => `${k} ${v}`).join(', ');
    const bulk = fake.calls.get('instances.bulkInsert') ?? 0;
    return [
      {
        name: 'gcp.provision_1000.calls_per_machine',
        value: round(requests / MACHINES, 3),
        unit: 'calls',
        note: `${requests} requests (${bulk} bulkInsert accepted; quota ${DOCUMENTED_GCE_QUOTA.queries}/min); faults injected: ${faults}; well under 1`,
      },
      {
        name: 'gcp.provision_1000.time_vs_bound',
        value: round(elapsed / bound, 3),
        unit: 'ratio',
        note: `${round(elapsed / 1000, 1)} s virtual vs bound ${round(bound / 1000, 1)} s (${exhausted} exhausted zone(s) on the way); target ≤ 1.1`,
      },
      {
        name: 'gcp.provision_1000.duplicates',
        value: duplicates,
        unit: 'machines',
        note: `${made.length} instances for ${names.size} names in ${zonesUsed} zones (${fake.created} ever created); must be 0`,
      },
    ];
  } finally {
    await provider.close();
    fake.restore();
  }
}

export const benches: Bench[] = [{ name: 'gcp.provision_1000', run: provision1000 }];
