import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkCustomType,
  CUSTOM_FAMILIES,
  customTypePrice,
  proposeCustomType,
} from '../../../src/providers/gcp/gcp-custom-types.js';
import { customPrice, predefinedPrice } from '../../../src/providers/gcp/gcp-prices.js';

const family = (name: string) => CUSTOM_FAMILIES.find((r) => r.family === name)!;
const problems = (name: string): string[] => {
  const r = checkCustomType(name);
  return 'problems' in r ? r.problems : [];
};

describe('custom machine type rules', () => {
  it('accepts valid shapes of each family', () => {
    for (const name of [
      'custom-1-1024',
      'custom-2-13312',
      'e2-custom-2-4096',
      'e2-custom-32-131072',
      'n2-custom-36-36864',
      'n2d-custom-16-16384',
      'custom-4-30720-ext',
      'n2-custom-2-32768-ext',
    ])
      expect(problems(name), name).toEqual([]);
  });

  it('refuses memory that is no multiple of 256 MiB, saying what would be', () => {
    expect(problems('e2-custom-4-5000')).toEqual([
      'memory must be a multiple of 256 MiB (5000 is not; 5120 is)',
    ]);
  });

  it('refuses vCPU counts the family does not make', () => {
    expect(problems('e2-custom-3-4096')[0]).toMatch(
      /E2 custom types take an even number from 2 to 32 vCPUs, not 3/,
    );
    expect(problems('e2-custom-34-34816')[0]).toMatch(/not 34/);
    expect(problems('n2-custom-34-34816')[0]).toMatch(/multiple of 4/);
    expect(problems('n2d-custom-24-24576')[0]).toMatch(/one of 2, 4, 8, 16/);
    expect(problems('custom-3-3072')[0]).toMatch(/1 or an even number up to 96/);
  });

  it('refuses memory per vCPU outside the family bounds, suggesting -ext where the family has it', () => {
    expect(problems('custom-2-1536')).toEqual([
      expect.stringMatching(/at least 0.9 GB per vCPU: 2048 MiB for 2 vCPUs/),
    ]);
    expect(problems('custom-2-14336')).toEqual([
      expect.stringMatching(/at most 6.5 GB per vCPU: 13312 MiB for 2 vCPUs \(add -ext/),
    ]);
    expect(problems('e2-custom-2-17408')).toEqual([
      expect.stringMatching(/at most 8 GB per vCPU: 16384 MiB/),
    ]);
    expect(problems('e2-custom-2-16384-ext')).toEqual(['E2 custom types have no extended memory']);
  });

  it('refuses names that are no custom type', () => {
    expect(problems('c2-custom-4-4096')[0]).toMatch(/not a custom type name/);
  });
});

describe('proposing custom types', () => {
  it('rounds memory up to 256 MiB and vCPUs up to a valid count', () => {
    expect(proposeCustomType(family('e2'), 3, 5000)).toEqual({
      name: 'e2-custom-4-5120',
      family: 'e2',
      cpus: 4,
      memoryMiB: 5120,
      extended: false,
    });
    expect(proposeCustomType(family('n1'), 1, 100)?.name).toBe('custom-1-1024');
  });

  it('raises memory to the family minimum per vCPU', () => {
    expect(proposeCustomType(family('n1'), 8, 1024)?.name).toBe('custom-8-7424');
  });

  it('adds vCPUs when the memory needs them to stay under the per-vCPU maximum', () => {
    expect(proposeCustomType(family('e2'), 2, 40 * 1024)?.name).toBe('e2-custom-6-40960');
  });

  it('proposes nothing beyond the family limits', () => {
    expect(proposeCustomType(family('e2'), 33, 4096)).toBeUndefined();
    expect(proposeCustomType(family('e2'), 2, 200 * 1024)).toBeUndefined();
  });

  it('every proposal is valid under the rules, holds the request, and no smaller vCPU count would do', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CUSTOM_FAMILIES),
        fc.double({ min: 0.1, max: 130, noNaN: true }),
        fc.integer({ min: 1, max: 900 * 1024 }),
        (rule, cpus, mem) => {
          const t = proposeCustomType(rule, cpus, mem);
          if (t === undefined) return;
          expect(problems(t.name)).toEqual([]);
          expect(t.cpus).toBeGreaterThanOrEqual(cpus);
          expect(t.memoryMiB).toBeGreaterThanOrEqual(mem);
          const smaller = rule.cpus.filter((c) => c >= cpus && c < t.cpus);
          for (const c of smaller)
            expect(
              Math.max(Math.ceil(mem / 256) * 256, Math.ceil((rule.minMiBPerCpu * c) / 256) * 256),
            ).toBeGreaterThan(rule.maxMiBPerCpu * c);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('bundled prices', () => {
  it('reproduce the listed prices of predefined types from per-vCPU and per-GiB rates', () => {
    expect(predefinedPrice('e2-standard-2', 2, 8192).onDemand).toBe(0.067006);
    expect(predefinedPrice('n2-standard-2', 2, 8192).onDemand).toBe(0.097118);
    expect(predefinedPrice('n1-standard-1', 1, 3840).onDemand).toBe(0.0475);
    expect(predefinedPrice('e2-micro', 2, 1024).onDemand).toBe(0.008376);
  });

  it('price custom types at the custom rates, above predefined ones of the same shape', () => {
    const custom = customTypePrice({
      name: 'e2-custom-2-8192',
      family: 'e2',
      cpus: 2,
      memoryMiB: 8192,
      extended: false,
    });
    expect(custom.onDemand).toBe(0.070316);
    expect(custom.onDemand!).toBeGreaterThan(predefinedPrice('e2-standard-2', 2, 8192).onDemand!);
    expect(custom.spot!).toBeLessThan(custom.onDemand!);
  });

  it('know nothing of families missing from the table', () => {
    expect(predefinedPrice('z9-standard-4', 4, 16384)).toEqual({});
    expect(customPrice('z9', 4, 4096)).toEqual({});
  });
});
