import { describe, expect, it } from 'vitest';
import { OfferFilters, type Scalars } from '../../src/index.js';
import { portSetOf } from '../../src/scheduler/resources/ports.js';

const v = (milliCpus: number, memoryMiB: number): Scalars => ({
  milliCpus,
  memoryMiB,
  gpus: 0,
  diskGiB: 0,
});
const ports = portSetOf([[31000, 31009]]);

describe('offer filters', () => {
  it('refuse the same resources again until they expire', () => {
    const f = new OfferFilters();
    f.add('r', 1, v(4000, 4096), ports, 5_000);
    expect(f.blocks('r', 1, v(4000, 4096), ports, 4_999)).toBe(true);
    expect(f.blocks('r', 1, v(4000, 4096), ports, 5_000)).toBe(false);
  });

  it('refuse a subset of what was declined', () => {
    const f = new OfferFilters();
    f.add('r', 1, v(4000, 4096), ports, 5_000);
    expect(f.blocks('r', 1, v(2000, 1024), portSetOf([[31000, 31001]]), 0)).toBe(true);
  });

  it('let more than was declined through (a task ended there)', () => {
    const f = new OfferFilters();
    f.add('r', 1, v(2000, 4096), ports, 5_000);
    expect(f.blocks('r', 1, v(3000, 4096), ports, 0)).toBe(false);
  });

  it('only concern the agent they were made for', () => {
    const f = new OfferFilters();
    f.add('r', 1, v(4000, 4096), ports, 5_000);
    expect(f.blocks('r', 2, v(4000, 4096), ports, 0)).toBe(false);
  });

  it('only concern the role they were made for', () => {
    const f = new OfferFilters();
    f.add('a', 1, v(4000, 4096), ports, 5_000);
    expect(f.blocks('b', 1, v(4000, 4096), ports, 0)).toBe(false);
  });

  it('are kept side by side: a later, shorter refusal does not cut an earlier one short', () => {
    const f = new OfferFilters();
    f.add('r', 1, v(4000, 4096), ports, 60_000);
    f.add('r', 1, v(1000, 1024), ports, 1_000);
    expect(f.blocks('r', 1, v(4000, 4096), ports, 5_000)).toBe(true);
    expect(f.size).toBe(1); // the short one expired when looked at
  });

  it('all go on revive', () => {
    const f = new OfferFilters();
    f.add('r', 1, v(4000, 4096), ports, 5_000);
    f.clear();
    expect(f.blocks('r', 1, v(4000, 4096), ports, 0)).toBe(false);
  });
});
