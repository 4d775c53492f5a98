import { describe, expect, it } from 'vitest';
import { DEFAULT_CAPABILITIES, type Machine } from '../../src/core/index.js';
import {
  computePlan,
  DatacenterSpecSchema,
  formatPlan,
  poolSpecHash,
  resolvePools,
  type DatacenterSpecInput,
  type DriftItem,
  type MachineRecord,
  type StateSnapshot,
} from '../../src/logical-dc/index.js';
import { hashOf } from '../../src/logical-dc/hashing.js';

const MACHINE = { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04' };
const providers = new Map([
  ['a', { capabilities: DEFAULT_CAPABILITIES }],
  ['b', { capabilities: { ...DEFAULT_CAPABILITIES, startStop: false } }],
]);

function spec(input: DatacenterSpecInput) {
  return DatacenterSpecSchema.parse(input);
}

function hashFor(input: DatacenterSpecInput, pool: string): string {
  return poolSpecHash(resolvePools(spec(input)).find((p) => p.name === pool)!);
}

let n = 0;
function record(
  pool: string,
  specHash: string,
  overrides: Partial<Machine> = {},
  status: MachineRecord['status'] = 'present',
): MachineRecord {
  n++;
  const id = `${pool}-m-${n}`;
  return {
    id,
    pool,
    provider: overrides.provider ?? 'a',
    providerId: `p-${n}`,
    key: `${pool}:k`,
    specHash,
    status,
    adopted: false,
    updatedAt: '2024-01-01T00:00:00.000Z',
    machine: {
      id,
      providerId: `p-${n}`,
      provider: 'a',
      region: 'r',
      zone: 'r-a',
      size: 's',
      resources: { cpus: 2, memoryMiB: 4096, gpus: 0, diskGiB: 0 },
      image: 'img',
      state: 'running',
      spot: false,
      addresses: [],
      labels: {},
      createdAt: new Date(Date.UTC(2024, 0, 1, 0, n)).toISOString(),
      ...overrides,
    },
  };
}

function snapshot(machines: MachineRecord[], extra: Partial<StateSnapshot> = {}): StateSnapshot {
  return {
    dc: 'dc',
    lineage: 'L',
    serial: 7,
    machines,
    networks: [],
    intents: [],
    specs: {},
    ...extra,
  };
}

function plan(
  input: DatacenterSpecInput,
  machines: MachineRecord[],
  more: {
    drift?: DriftItem[];
    prune?: boolean;
    orphans?: Machine[];
    createBeforeDestroy?: boolean;
    snap?: Partial<StateSnapshot>;
  } = {},
) {
  return computePlan({
    dc: 'dc',
    snapshot: snapshot(machines, more.snap),
    spec: spec(input),
    providers,
    drift: more.drift ?? [],
    orphans: more.orphans ?? [],
    ...(more.prune ? { prune: true } : {}),
    ...(more.createBeforeDestroy ? { createBeforeDestroy: true } : {}),
    now: new Date(0),
  });
}

const web3: DatacenterSpecInput = { pools: { web: { provider: 'a', count: 3, machine: MACHINE } } };

describe('plan', () => {
  it('creates every machine of a new pool in one step', () => {
    const p = plan(web3, []);
    expect(p.steps).toEqual([
      expect.objectContaining({ kind: 'create', pool: 'web', provider: 'a', count: 3 }),
    ]);
    expect(p.summary).toMatchObject({ create: 3, delete: 0, replace: 0, unchanged: 0 });
  });

  it('changes nothing when the machines match', () => {
    const h = hashFor(web3, 'web');
    const p = plan(web3, [record('web', h), record('web', h), record('web', h)]);
    expect(p.steps).toEqual([]);
    expect(p.summary.unchanged).toBe(3);
    expect(formatPlan(p)).toBe('No changes. 3 machine(s) match the spec.');
  });

  it('creates only the shortfall', () => {
    const h = hashFor(web3, 'web');
    expect(plan(web3, [record('web', h)]).steps).toEqual([
      expect.objectContaining({ kind: 'create', count: 2 }),
    ]);
  });

  it('scales down by deleting the newest machines', () => {
    const h = hashFor(web3, 'web');
    const ms = [
      record('web', h),
      record('web', h),
      record('web', h),
      record('web', h),
      record('web', h),
    ];
    const p = plan(web3, ms);
    expect(p.steps.map((s) => (s.kind === 'delete' ? s.machine.id : s.kind))).toEqual([
      ms[4]!.id,
      ms[3]!.id,
    ]);
  });

  it('replaces machines of an older spec, saying what changed', () => {
    const old = hashOf('old');
    const p = plan(web3, [record('web', old), record('web', old), record('web', old)], {
      snap: { specs: { [old]: { ...MACHINE, image: 'debian-12' } } },
    });
    expect(p.steps.filter((s) => s.kind === 'replace')).toHaveLength(3);
    const step = p.steps[0]!;
    expect(step.kind === 'replace' && step.reason).toContain('image "debian-12" → "ubuntu-22.04"');
    expect(formatPlan(p)).toContain('~ web-m-');
  });

  it('replaces a machine whose spec is not known (adopted without a spec tag), saying so', () => {
    const adopted = { ...record('web', 'adopted'), adopted: true };
    const p = plan({ pools: { web: { provider: 'a', count: 1, machine: MACHINE } } }, [adopted]);
    expect(p.steps).toEqual([
      expect.objectContaining({
        kind: 'replace',
        reason: "spec unknown (no kumo-spec tag matching the pool's spec)",
      }),
    ]);
  });

  it('deletes extra old-spec machines instead of replacing them', () => {
    const old = hashOf('old2');
    const h = hashFor(web3, 'web');
    const p = plan(web3, [
      record('web', h),
      record('web', h),
      record('web', h),
      record('web', old),
    ]);
    expect(p.steps).toEqual([
      expect.objectContaining({
        kind: 'delete',
        reason: expect.stringContaining('scale down to 3'),
      }),
    ]);
  });

  it('replaces lost, failed and changed-outside-kumo machines', () => {
    const h = hashFor(web3, 'web');
    const lost = record('web', h, { state: 'terminated' }, 'lost');
    const failed = record('web', h, { state: 'error', error: 'boot failed' });
    const changed = record('web', h);
    const drift: DriftItem[] = [
      { kind: 'changed', id: changed.id, pool: 'web', provider: 'a', detail: 'size s → xl' },
    ];
    const p = plan(web3, [lost, failed, changed], { drift });
    const reasons = p.steps.map((s) => (s.kind === 'replace' ? s.reason : s.kind));
    expect(reasons.sort()).toEqual([
      'changed outside kumo: size s → xl',
      'failed: boot failed',
      'gone from the provider',
    ]);
  });

  it('starts stopped machines where the provider can, and replaces them where it cannot', () => {
    const onA = plan(web3, [
      record('web', hashFor(web3, 'web'), { state: 'stopped' }),
      record('web', hashFor(web3, 'web')),
      record('web', hashFor(web3, 'web')),
    ]);
    expect(onA.steps).toEqual([expect.objectContaining({ kind: 'start' })]);
    const onB: DatacenterSpecInput = {
      pools: { web: { provider: 'b', count: 1, machine: MACHINE } },
    };
    const p = plan(onB, [record('web', hashFor(onB, 'web'), { state: 'stopped', provider: 'b' })]);
    expect(p.steps).toEqual([
      expect.objectContaining({ kind: 'replace', reason: 'stopped and b cannot start machines' }),
    ]);
  });

  it('marks replacements create-before-destroy when the pool or the run asks', () => {
    const old = hashOf('x');
    const cbdPool: DatacenterSpecInput = {
      pools: { web: { provider: 'a', count: 1, createBeforeDestroy: true, machine: MACHINE } },
    };
    expect(plan(cbdPool, [record('web', old)]).steps[0]).toMatchObject({
      kind: 'replace',
      createBeforeDestroy: true,
    });
    expect(plan(web3, [record('web', old)], { createBeforeDestroy: true }).steps[0]).toMatchObject({
      kind: 'replace',
      createBeforeDestroy: true,
    });
    expect(plan(web3, [record('web', old)]).steps[0]).toMatchObject({
      kind: 'replace',
      createBeforeDestroy: false,
    });
  });

  it('deletes the machines of a pool no longer declared', () => {
    const p = plan(web3, [record('gone', 'h'), record('web', hashFor(web3, 'web'))]);
    expect(p.steps).toContainEqual(
      expect.objectContaining({
        kind: 'delete',
        pool: 'gone',
        reason: 'pool gone is no longer declared',
      }),
    );
  });

  it('keeps a min/max pool at its current size within the range', () => {
    const ranged: DatacenterSpecInput = {
      pools: { batch: { provider: 'a', min: 2, max: 4, machine: MACHINE } },
    };
    const h = hashFor(ranged, 'batch');
    expect(plan(ranged, []).steps).toEqual([expect.objectContaining({ kind: 'create', count: 2 })]);
    expect(
      plan(ranged, [record('batch', h), record('batch', h), record('batch', h)]).steps,
    ).toEqual([]);
    const six = Array.from({ length: 6 }, () => record('batch', h));
    expect(plan(ranged, six).summary.delete).toBe(2);
  });

  it('counts machines of a journaled create as coming, and shows the resume', () => {
    const p = plan(web3, [], {
      snap: {
        intents: [
          {
            id: 'create:web:k',
            kind: 'create',
            provider: 'a',
            key: 'web:k',
            pool: 'web',
            count: 2,
            specHash: hashFor(web3, 'web'),
            createdAt: '',
          },
        ],
      },
    });
    expect(p.steps).toEqual([
      expect.objectContaining({ kind: 'resume' }),
      expect.objectContaining({ kind: 'create', count: 1 }),
    ]);
    expect(formatPlan(p)).toContain('> resume create of 2 machine(s) in pool web on a');
  });

  it('deletes orphans only when pruning', () => {
    const orphan = { ...record('web', 'h').machine, labels: { 'kumo-pool': 'web' } };
    expect(plan(web3, [], { orphans: [orphan] }).steps.some((s) => s.kind === 'delete')).toBe(
      false,
    );
    const pruned = plan(web3, [], { orphans: [orphan], prune: true });
    expect(pruned.steps).toContainEqual(expect.objectContaining({ kind: 'delete', orphan: true }));
  });

  it('creates declared networks first and deletes undeclared ones last', () => {
    const withNet: DatacenterSpecInput = {
      networks: { lan: { provider: 'a', cidr: '10.0.0.0/16' } },
      pools: { web: { provider: 'a', count: 1, network: 'lan', machine: MACHINE } },
    };
    const p = plan(withNet, [], {
      snap: {
        networks: [
          {
            provider: 'a',
            name: 'old',
            specHash: 'x',
            status: 'present',
            network: {
              id: 'n',
              name: 'old',
              provider: 'a',
              cidr: '10.1.0.0/16',
              subnets: [],
              labels: {},
            },
            updatedAt: '',
          },
        ],
      },
    });
    expect(p.steps.map((s) => s.kind)).toEqual(['network.create', 'create', 'network.delete']);
    const create = p.steps[1]!;
    expect(create.kind === 'create' && create.spec.network).toBe('lan');
  });

  it('merges datacenter, pool and machine labels into the machine spec (machine wins)', () => {
    const labelled: DatacenterSpecInput = {
      labels: { env: 'prod', team: 'x' },
      pools: {
        web: {
          provider: 'a',
          count: 1,
          labels: { team: 'web' },
          machine: { ...MACHINE, labels: { role: 'fe' } },
        },
      },
    };
    const step = plan(labelled, []).steps[0]!;
    expect(step.kind === 'create' && step.spec.labels).toEqual({
      env: 'prod',
      team: 'web',
      role: 'fe',
    });
  });

  it('records the serial and lineage it was made against', () => {
    expect(plan(web3, [])).toMatchObject({
      format: 'kumo-plan/1',
      serial: 7,
      lineage: 'L',
      dc: 'dc',
    });
  });
});
