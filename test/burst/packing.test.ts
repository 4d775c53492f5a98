import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fractionalLowerBound,
  packDemand,
  pruneDominated,
  type PackCandidate,
  type PackItem,
  type PackLimits,
  type PackResult,
} from '../../src/logical-dc/burst/index.js';

function cand(
  id: string,
  cpus: number,
  memGiB: number,
  price: number,
  extra: { gpus?: number; zone?: string; group?: string; rank?: number } = {},
): PackCandidate {
  return {
    id,
    pricePerHour: price,
    capacity: { cpus, memoryMiB: memGiB * 1024, gpus: extra.gpus ?? 0, diskGiB: 0, ports: 1001 },
    attributes: { provider: 'cloud', zone: extra.zone ?? 'z1', labels: {} },
    group: extra.group ?? 'cloud',
    rank: extra.rank ?? 0,
  };
}

function item(key: string, cpus: number, memGiB: number, count: number, gpus = 0): PackItem {
  return {
    key,
    request: { resources: { cpus, memoryMiB: memGiB * 1024, gpus } },
    count,
    priority: 0,
  };
}

const roomy: PackLimits = {
  budgetPerHour: 1000,
  maxMachines: 1000,
  perGroup: new Map([['cloud', 1000]]),
};

/** Every bought machine holds what it was bought for, resource by resource. */
function expectFits(result: PackResult, items: readonly PackItem[]): void {
  for (const m of result.machines) {
    const used = { cpus: 0, memoryMiB: 0, gpus: 0 };
    for (const [key, n] of m.tasks) {
      const r = items.find((i) => i.key === key)!.request.resources;
      used.cpus += r.cpus * n;
      used.memoryMiB += r.memoryMiB * n;
      used.gpus += (r.gpus ?? 0) * n;
    }
    expect(used.cpus).toBeLessThanOrEqual(m.candidate.capacity.cpus + 1e-9);
    expect(used.memoryMiB).toBeLessThanOrEqual(m.candidate.capacity.memoryMiB);
    expect(used.gpus).toBeLessThanOrEqual(m.candidate.capacity.gpus);
  }
}

// The sim catalog's compute and general families (on-demand prices).
const CATALOG = [
  cand('cpu-2x4', 2, 4, 0.085),
  cand('cpu-4x8', 4, 8, 0.17),
  cand('cpu-8x16', 8, 16, 0.34),
  cand('std-2x8', 2, 8, 0.096),
  cand('std-4x16', 4, 16, 0.192),
  cand('std-16x64', 16, 64, 0.768),
];

describe('packing waiting tasks onto machines to buy', () => {
  it('buys the cheapest machines that hold identical tasks', () => {
    const items = [item('render', 2, 4, 10)];
    const r = packDemand(items, [cand('c8', 8, 16, 0.34), cand('c16', 16, 32, 0.7)], roomy);
    expect(r.placed).toBe(10);
    expect(r.unplaced).toEqual([]);
    // 20 vCPUs: three 8-vCPU machines ($1.02/h) beat a 16 and an 8 ($1.04/h).
    expect(r.pricePerHour).toBeCloseTo(1.02, 6);
    expectFits(r, items);
  });

  it('mixes sizes where one size alone would waste money', () => {
    // Small machines cost more per vCPU: big ones for the bulk, a small one for the rest.
    const sizes = [cand('small', 2, 4, 0.1), cand('big', 8, 16, 0.34)];
    const items = [item('job', 2, 4, 9)];
    const r = packDemand(items, sizes, roomy);
    const ffd = packDemand(items, sizes, roomy, { strategies: 'ffd' });
    expect(r.placed).toBe(9);
    expect(r.pricePerHour).toBeCloseTo(0.78, 9);
    expect(ffd.pricePerHour).toBeCloseTo(0.9, 9);
    expect(r.machines.map((m) => m.candidate.id).sort()).toEqual(['big', 'big', 'small']);
    expectFits(r, items);
  });

  it('is never dearer than first-fit decreasing, and never below the fractional bound', () => {
    const shapes = fc.record({
      cpus: fc.constantFrom(0.5, 1, 2, 3, 4, 8),
      memGiB: fc.constantFrom(1, 2, 4, 8, 16),
      count: fc.integer({ min: 1, max: 25 }),
    });
    fc.assert(
      fc.property(fc.array(shapes, { minLength: 1, maxLength: 5 }), (raw) => {
        const items = raw.map((s, i) => item(`i${i}`, s.cpus, s.memGiB, s.count));
        const best = packDemand(items, CATALOG, roomy);
        const ffd = packDemand(items, CATALOG, roomy, { strategies: 'ffd' });
        expect(best.placed).toBe(ffd.placed);
        expect(best.pricePerHour).toBeLessThanOrEqual(ffd.pricePerHour + 1e-9);
        expect(best.pricePerHour).toBeGreaterThanOrEqual(best.lowerBoundPerHour - 1e-9);
        expectFits(best, items);
      }),
      { numRuns: 40, seed: 9 },
    );
  });

  it('stops at the budget and says the rest waits for budget', () => {
    const r = packDemand([item('job', 4, 8, 10)], [cand('c4', 4, 8, 0.17)], {
      ...roomy,
      budgetPerHour: 0.5,
    });
    expect(r.machines).toHaveLength(2);
    expect(r.pricePerHour).toBeLessThanOrEqual(0.5);
    expect(r.unplaced).toEqual([{ key: 'job', count: 8, reason: 'budget' }]);
  });

  it('keeps to the machines allowed per target and overall', () => {
    const candidates = [
      cand('a4', 4, 8, 0.17, { group: 'a' }),
      cand('b4', 4, 8, 0.2, { group: 'b' }),
    ];
    const perTarget = packDemand([item('job', 4, 8, 10)], candidates, {
      budgetPerHour: 100,
      maxMachines: 100,
      perGroup: new Map([
        ['a', 3],
        ['b', 2],
      ]),
    });
    expect(perTarget.machines.filter((m) => m.candidate.group === 'a')).toHaveLength(3);
    expect(perTarget.machines.filter((m) => m.candidate.group === 'b')).toHaveLength(2);
    expect(perTarget.unplaced).toEqual([{ key: 'job', count: 5, reason: 'max-machines' }]);
    const overall = packDemand([item('job', 4, 8, 10)], candidates, {
      budgetPerHour: 100,
      maxMachines: 4,
      perGroup: new Map([
        ['a', 10],
        ['b', 10],
      ]),
    });
    expect(overall.machines).toHaveLength(4);
  });

  it('names tasks no machine could ever hold', () => {
    const r = packDemand([item('gpu', 4, 16, 2, 1), item('cpu', 1, 2, 1)], CATALOG, roomy);
    expect(r.unplaced).toEqual([{ key: 'gpu', count: 2, reason: 'no-candidate' }]);
    expect(r.placed).toBe(1);
  });

  it('places by the scheduler rule: attribute and per-host constraints hold on bought machines', () => {
    const zoned: PackItem = {
      key: 'zoned',
      request: {
        resources: { cpus: 1, memoryMiB: 1024 },
        constraints: [{ op: 'equals', attribute: 'zone', value: 'z2' }, { op: 'uniqueHost' }],
      },
      count: 3,
      priority: 0,
    };
    const r = packDemand(
      [zoned],
      [cand('z1-big', 16, 64, 0.5, { zone: 'z1' }), cand('z2-small', 2, 4, 0.09, { zone: 'z2' })],
      roomy,
    );
    expect(r.machines).toHaveLength(3);
    for (const m of r.machines) {
      expect(m.candidate.id).toBe('z2-small');
      expect(m.tasks.get('zoned')).toBe(1);
    }
  });

  it('prefers the better-ranked provider between equal prices', () => {
    const r = packDemand(
      [item('job', 2, 4, 1)],
      [cand('later', 2, 4, 0.085, { rank: 1 }), cand('first', 2, 4, 0.085, { rank: 0 })],
      roomy,
    );
    expect(r.machines[0]!.candidate.id).toBe('first');
  });
});

describe('the fractional lower bound', () => {
  it('is the cheapest fractional cover of the demand', () => {
    const cpu = {
      pricePerHour: 0.34,
      capacity: { cpus: 8, memoryMiB: 16384, gpus: 0, diskGiB: 0 },
    };
    const mem = {
      pricePerHour: 0.504,
      capacity: { cpus: 8, memoryMiB: 65536, gpus: 0, diskGiB: 0 },
    };
    // CPU-bound demand: only the compute machine's vCPU price counts.
    expect(
      fractionalLowerBound({ cpus: 16, memoryMiB: 16384, gpus: 0, diskGiB: 0 }, [cpu, mem]),
    ).toBeCloseTo(0.68, 9);
    // Memory-bound demand: the memory machine is the cheaper way to 128 GiB.
    expect(
      fractionalLowerBound({ cpus: 4, memoryMiB: 131072, gpus: 0, diskGiB: 0 }, [cpu, mem]),
    ).toBeCloseTo(1.008, 9);
    // Both at once: a mix of the two beats either alone.
    const both = fractionalLowerBound({ cpus: 16, memoryMiB: 65536, gpus: 0, diskGiB: 0 }, [
      cpu,
      mem,
    ]);
    expect(both).toBeLessThan(Math.min(2 * 0.504, 4 * 0.34));
    // The optimum buys 4/3 compute and 2/3 memory machines.
    expect(both).toBeCloseTo((0.34 * 4) / 3 + (0.504 * 2) / 3, 9);
  });

  it('leaves out demand no candidate can host, and drops beaten candidates', () => {
    const cpu = {
      pricePerHour: 0.34,
      capacity: { cpus: 8, memoryMiB: 16384, gpus: 0, diskGiB: 0 },
    };
    const dear = {
      pricePerHour: 0.5,
      capacity: { cpus: 8, memoryMiB: 16384, gpus: 0, diskGiB: 0 },
    };
    expect(fractionalLowerBound({ cpus: 8, memoryMiB: 0, gpus: 2, diskGiB: 0 }, [cpu])).toBeCloseTo(
      0.34,
      9,
    );
    expect(pruneDominated([dear, cpu])).toEqual([cpu]);
  });
});
