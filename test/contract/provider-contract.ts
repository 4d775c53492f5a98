/**
 * The provider contract suite: one behavioural specification that every backend
 * runs (sim, the AWS and GCP wire fakes, the real OpenStack and Ironic labs). Each
 * test is one rule of `src/core/provider.ts`. A backend that cannot honour a rule
 * lists it in `skip` with the reason, which the report shows (Hono's pattern).
 *
 * @example
 * ```ts
 * describeProviderContract('sim', async () => ({ provider: sim(), image: 'ubuntu-22.04', small: { cpus: 1, memoryMiB: 1024 } }));
 * ```
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isKumoError,
  type SizeChoiceInput,
  TAG_DC,
  TAG_ID,
  TAG_KEY,
  TAG_POOL,
  waitUntil,
  type Clock,
  type CreateMachinesRequestInput,
  type ErrorCode,
  type Machine,
  type Provider,
  type ResourcesInput,
} from '../../src/core/index.js';

export interface ContractFaults {
  /** The next create succeeds in the cloud, then the client sees a timeout or a dropped connection. */
  timeoutAfterCreate(): void;
  /** The next `n` API calls are throttled. */
  throttle(n: number): void;
  /** The next `n` API calls fail with a transient 5xx. */
  transient(n: number): void;
  /** The next create fails for lack of capacity. */
  capacity(): void;
}

export interface ContractTarget {
  /** The provider as users get it (wrapped with retries). */
  provider: Provider;
  /** An image alias it resolves. */
  image: string;
  /** Resources some size fits. */
  small: ResourcesInput;
  faults?: ContractFaults;
  /** The clock the provider runs on, so the suite's waits move with it (a VirtualClock for sim). */
  clock?: Clock;
  /** A well-formed machine id that does not exist, for the NotFound rule. */
  unknownMachineId?: string;
  teardown?: () => Promise<void>;
}

export const CONTRACT_RULES = [
  'create-get-list',
  'deterministic-names',
  'idempotent-create',
  'timeout-after-success',
  'idempotent-delete',
  'labels-round-trip',
  'list-filter-labels',
  'unknown-image',
  'impossible-size',
  'choose-size',
  'bad-spec',
  'get-unknown',
  'concurrent-create',
  'start-stop',
  'network',
  'throttling',
  'transient-errors',
  'capacity-error',
] as const;
export type ContractRule = (typeof CONTRACT_RULES)[number];

export interface ContractOptions {
  /** Rules this backend skips, each with the written reason. */
  skip?: Partial<Record<ContractRule, string>>;
  /** Machines in the concurrency case. Default 200. */
  concurrency?: number;
  /** Per-test timeout in ms. Default 120 s. */
  timeoutMs?: number;
}

async function expectKumoError(
  promise: Promise<unknown>,
  codes: readonly ErrorCode[],
  provider?: string,
): Promise<void> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected one of ${codes.join(', ')}`).toBeDefined();
  expect(isKumoError(caught), `expected a kumo error, got ${String(caught)}`).toBe(true);
  if (isKumoError(caught)) {
    expect(codes).toContain(caught.code);
    if (provider !== undefined && caught.provider !== undefined)
      expect(caught.provider).toBe(provider);
  }
}

export function describeProviderContract(
  name: string,
  setup: () => Promise<ContractTarget>,
  options: ContractOptions = {},
): void {
  const skip = options.skip ?? {};
  const timeout = options.timeoutMs ?? 120_000;
  const dc = `ct-${randomBytes(3).toString('hex')}`;
  let target: ContractTarget;
  let seq = 0;

  /** A fresh request with its own key and pool, so tests never see each other's machines. */
  const request = (
    overrides: Partial<CreateMachinesRequestInput> = {},
  ): CreateMachinesRequestInput => {
    seq += 1;
    return {
      spec: { resources: target.small, image: target.image },
      count: 1,
      idempotencyKey: `${dc}-k${seq}`,
      dc,
      pool: `p${seq}`,
      ...overrides,
    };
  };
  const byKey = async (key: string): Promise<Machine[]> =>
    target.provider.listMachines({ labels: { [TAG_KEY]: key } });
  const gone = (ids: string[]) =>
    waitUntil(
      async () =>
        (await target.provider.listMachines({ labels: { [TAG_DC]: dc } })).every(
          (m) => !ids.includes(m.providerId),
        ),
      {
        timeoutMs: timeout,
        intervalMs: 200,
        what: 'deleted machines to leave the list',
        ...(target.clock === undefined ? {} : { clock: target.clock }),
      },
    );

  const rule = (id: ContractRule, title: string, fn: () => Promise<void>): void => {
    const reason = skip[id];
    if (reason !== undefined) it.skip(`${title} — skipped: ${reason}`, fn);
    else it(title, fn, timeout);
  };

  describe(`provider contract: ${name}`, () => {
    beforeAll(async () => {
      target = await setup();
    }, 600_000);

    afterAll(async () => {
      if (target === undefined) return;
      const left = await target.provider.listMachines({ labels: { [TAG_DC]: dc } });
      await target.provider.deleteMachines(left.map((m) => m.providerId));
      await target.teardown?.();
    }, 600_000);

    rule(
      'create-get-list',
      'creates machines that get and list return, running and tagged with kumo ownership',
      async () => {
        const req = request({ count: 2, labels: { role: 'web' } });
        const made = await target.provider.createMachines(req);
        expect(made).toHaveLength(2);
        for (const m of made) {
          expect(m.state).toBe('running');
          expect(m.provider).toBe(target.provider.name);
          expect(m.labels).toMatchObject({
            [TAG_DC]: dc,
            [TAG_POOL]: req.pool,
            [TAG_KEY]: req.idempotencyKey,
            [TAG_ID]: m.id,
            role: 'web',
          });
          expect(m.resources.cpus).toBeGreaterThanOrEqual(Number(target.small.cpus));
          const got = await target.provider.getMachine(m.providerId);
          expect(got.id).toBe(m.id);
          expect(got.providerId).toBe(m.providerId);
        }
        const listed = await byKey(req.idempotencyKey);
        expect(listed.map((m) => m.providerId).sort()).toEqual(
          made.map((m) => m.providerId).sort(),
        );
      },
    );

    rule(
      'deterministic-names',
      'names machines deterministically from the request, each unique',
      async () => {
        const req = request({ count: 3 });
        const made = await target.provider.createMachines(req);
        const ids = made.map((m) => m.id).sort();
        expect(new Set(ids).size).toBe(3);
        expect(ids.every((id) => /-[0-2]$/.test(id))).toBe(true);
        const again = await target.provider.createMachines(req);
        expect(again.map((m) => m.id).sort()).toEqual(ids);
      },
    );

    rule('idempotent-create', 'never makes a second machine for a key already used', async () => {
      const req = request({ count: 2 });
      const first = await target.provider.createMachines(req);
      const second = await target.provider.createMachines(req);
      expect(second.map((m) => m.providerId).sort()).toEqual(first.map((m) => m.providerId).sort());
      expect(await byKey(req.idempotencyKey)).toHaveLength(2);
    });

    rule(
      'timeout-after-success',
      'a create that timed out after the cloud acted, retried, makes no duplicate',
      async () => {
        if (target.faults === undefined)
          throw new Error('this backend gives no fault hooks; skip the rule with a reason');
        const req = request({ count: 2 });
        target.faults.timeoutAfterCreate();
        const made = await target.provider.createMachines(req);
        expect(made).toHaveLength(2);
        expect(await byKey(req.idempotencyKey)).toHaveLength(2);
      },
    );

    rule('idempotent-delete', 'deleting what is already gone succeeds', async () => {
      const req = request();
      const [m] = await target.provider.createMachines(req);
      await target.provider.deleteMachines([m!.providerId]);
      await target.provider.deleteMachines([m!.providerId]);
      await gone([m!.providerId]);
      await target.provider.deleteMachines([m!.providerId]);
      await expectKumoError(target.provider.getMachine(m!.providerId), ['NotFound']);
    });

    rule(
      'labels-round-trip',
      'labels come back exactly as given, whatever the cloud’s label syntax',
      async () => {
        const labels = {
          team: 'Data Eng',
          'app.example.com/name': 'Web_API',
          'cost-center': 'CC-42',
          empty: '',
        };
        const req = request({ labels });
        const [m] = await target.provider.createMachines(req);
        expect(m!.labels).toMatchObject(labels);
        const got = await target.provider.getMachine(m!.providerId);
        expect(got.labels).toMatchObject(labels);
      },
    );

    rule(
      'list-filter-labels',
      'listMachines returns only machines whose labels match the filter',
      async () => {
        const a = request({ labels: { tier: 'alpha' } });
        const b = request({ labels: { tier: 'beta' } });
        await Promise.all([target.provider.createMachines(a), target.provider.createMachines(b)]);
        const alpha = await target.provider.listMachines({
          labels: { [TAG_DC]: dc, tier: 'alpha' },
        });
        expect(alpha.length).toBeGreaterThan(0);
        expect(
          alpha.every((m) => m.labels.tier === 'alpha' && m.labels[TAG_KEY] === a.idempotencyKey),
        ).toBe(true);
      },
    );

    rule('unknown-image', 'an unknown image is NotFound', async () => {
      await expectKumoError(
        target.provider.resolveImage('no-such-os-1.0'),
        ['NotFound'],
        target.provider.name,
      );
      const req = request({ spec: { resources: target.small, image: 'no-such-os-1.0' } });
      await expectKumoError(target.provider.createMachines(req), ['NotFound']);
      expect(await byKey(req.idempotencyKey)).toHaveLength(0);
    });

    rule(
      'impossible-size',
      'resources no size could fit are a ValidationError naming the nearest sizes',
      async () => {
        const req = request({
          spec: { resources: { cpus: 100_000, memoryMiB: 512 * 1024 * 1024 }, image: target.image },
        });
        await expectKumoError(target.provider.createMachines(req), ['ValidationError']);
        expect(await byKey(req.idempotencyKey)).toHaveLength(0);
      },
    );

    rule(
      'choose-size',
      'chooseSize names the size a create would get, and refuses an unknown one',
      async () => {
        const { provider } = target;
        const fit = await provider.chooseSize({ resources: target.small });
        expect(fit.resources.cpus).toBeGreaterThanOrEqual(Number(target.small.cpus));
        expect((await provider.chooseSize({ size: fit.name })).name).toBe(fit.name);
        // Each asked only when the one before has answered (none left unhandled).
        const refused: SizeChoiceInput[] = [
          { size: 'no-such-size-9' },
          { resources: { cpus: 100_000, memoryMiB: 1024 } },
          {},
          // What a create refuses, plan must too.
          ...(provider.capabilities.spot ? [] : [{ resources: target.small, spot: true }]),
        ];
        for (const choice of refused) {
          const err = await provider.chooseSize(choice).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(isKumoError(err) && err.code).toBe('ValidationError');
          expect(isKumoError(err) && err.provider).toBe(provider.name);
        }
      },
    );

    rule('bad-spec', 'a malformed request is a ValidationError naming each field', async () => {
      let caught: unknown;
      try {
        await target.provider.createMachines({
          spec: { resources: { cpus: -1, memoryMiB: 1 }, image: '' },
          count: 0,
          idempotencyKey: 'has spaces',
        });
      } catch (err) {
        caught = err;
      }
      expect(isKumoError(caught) && caught.code).toBe('ValidationError');
      const paths = (caught as { issues: { path: string }[] }).issues.map((i) => i.path);
      expect(paths).toEqual(
        expect.arrayContaining(['spec.resources.cpus', 'spec.image', 'count', 'idempotencyKey']),
      );
    });

    rule('get-unknown', 'getMachine of an id that never existed is NotFound', async () => {
      if (target.unknownMachineId === undefined)
        throw new Error('set unknownMachineId or skip the rule with a reason');
      await expectKumoError(
        target.provider.getMachine(target.unknownMachineId),
        ['NotFound'],
        target.provider.name,
      );
      await target.provider.deleteMachines([target.unknownMachineId]);
    });

    rule(
      'concurrent-create',
      'many machines created concurrently stay within rate limits and all succeed',
      async () => {
        const n = options.concurrency ?? 200;
        const reqs = Array.from({ length: n }, () => request());
        const made = await Promise.all(reqs.map((r) => target.provider.createMachines(r)));
        expect(made.flat()).toHaveLength(n);
        expect(new Set(made.flat().map((m) => m.providerId)).size).toBe(n);
        const pools = new Set(reqs.map((r) => r.pool));
        const listed = (await target.provider.listMachines({ labels: { [TAG_DC]: dc } })).filter(
          (m) => pools.has(m.labels[TAG_POOL] ?? ''),
        );
        expect(listed).toHaveLength(n);
        await target.provider.deleteMachines(listed.map((m) => m.providerId));
      },
    );

    rule('start-stop', 'stop then start brings the same machine back to running', async () => {
      if (!target.provider.capabilities.startStop) return;
      const [m] = await target.provider.createMachines(request());
      await target.provider.stopMachine(m!.providerId);
      await target.provider.stopMachine(m!.providerId);
      await waitUntil(
        async () => (await target.provider.getMachine(m!.providerId)).state === 'stopped',
        {
          timeoutMs: timeout,
          intervalMs: 200,
          what: 'stopped',
          ...(target.clock ? { clock: target.clock } : {}),
        },
      );
      await target.provider.startMachine(m!.providerId);
      await waitUntil(
        async () => (await target.provider.getMachine(m!.providerId)).state === 'running',
        {
          timeoutMs: timeout,
          intervalMs: 200,
          what: 'running',
          ...(target.clock ? { clock: target.clock } : {}),
        },
      );
      await target.provider.startMachine(m!.providerId);
      expect((await target.provider.getMachine(m!.providerId)).id).toBe(m!.id);
    });

    rule(
      'network',
      'ensureNetwork is idempotent and deleteNetwork tolerates what is gone',
      async () => {
        if (!target.provider.capabilities.networks) return;
        const spec = {
          name: `${dc}-net`,
          cidr: '10.42.0.0/16',
          subnets: [{ name: 'a', cidr: '10.42.1.0/24' }],
          firewall: [
            {
              direction: 'ingress' as const,
              protocol: 'tcp' as const,
              ports: 22,
              cidrs: ['0.0.0.0/0'],
            },
          ],
        };
        const first = await target.provider.ensureNetwork(spec, { labels: { [TAG_DC]: dc } });
        const second = await target.provider.ensureNetwork(spec, { labels: { [TAG_DC]: dc } });
        expect(second.id).toBe(first.id);
        expect(second.subnets.map((s) => s.id)).toEqual(first.subnets.map((s) => s.id));
        await target.provider.deleteNetwork(spec.name);
        await target.provider.deleteNetwork(spec.name);
      },
    );

    rule('throttling', 'throttled calls are retried inside the provider', async () => {
      if (target.faults === undefined) throw new Error('no fault hooks; skip with a reason');
      target.faults.throttle(3);
      const [m] = await target.provider.createMachines(request());
      expect(m!.state).toBe('running');
    });

    rule('transient-errors', 'transient 5xx errors are retried inside the provider', async () => {
      if (target.faults === undefined) throw new Error('no fault hooks; skip with a reason');
      target.faults.transient(2);
      const req = request();
      const [m] = await target.provider.createMachines(req);
      expect(m!.state).toBe('running');
      expect(await byKey(req.idempotencyKey)).toHaveLength(1);
    });

    rule(
      'capacity-error',
      'lack of capacity is InsufficientCapacity and leaves nothing behind',
      async () => {
        if (target.faults === undefined) throw new Error('no fault hooks; skip with a reason');
        const req = request();
        target.faults.capacity();
        await expectKumoError(target.provider.createMachines(req), ['InsufficientCapacity']);
        expect(await byKey(req.idempotencyKey)).toHaveLength(0);
      },
    );
  });
}
