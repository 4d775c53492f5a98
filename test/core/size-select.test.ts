import { describe, expect, it } from 'vitest';
import {
  InsufficientCapacity,
  rankSizes,
  selectSize,
  SizeSchema,
  ValidationError,
  type Size,
  type SizeInput,
} from '../../src/core/index.js';

const size = (
  s: Partial<SizeInput> & { name: string; cpus: number; mem: number; gpus?: number },
): Size =>
  SizeSchema.parse({
    provider: 't',
    resources: { cpus: s.cpus, memoryMiB: s.mem, gpus: s.gpus ?? 0, diskGiB: 0 },
    ...s,
  });
const want = (cpus: number, memoryMiB: number, gpus = 0) => ({ cpus, memoryMiB, gpus, diskGiB: 0 });

const catalog = [
  size({ name: 'big', cpus: 8, mem: 32768, pricePerHour: 0.4 }),
  size({
    name: 'small',
    cpus: 2,
    mem: 4096,
    pricePerHour: 0.1,
    spotPricePerHour: 0.03,
    spot: true,
  }),
  size({ name: 'medium', cpus: 4, mem: 8192, pricePerHour: 0.2, zones: ['z1'] }),
  size({ name: 'gpu', cpus: 8, mem: 32768, gpus: 1, pricePerHour: 1.2 }),
];

describe('size selection', () => {
  it('picks the cheapest size that fits', () => {
    expect(selectSize(catalog, { resources: want(3, 4096) }).name).toBe('medium');
  });
  it('skips sizes not offered in the zone asked for', () => {
    expect(selectSize(catalog, { resources: want(3, 4096), zone: 'z2' }).name).toBe('big');
  });
  it('prices spot requests at spot prices and only spot-capable sizes', () => {
    expect(rankSizes(catalog, { resources: want(1, 1024), spot: true }).map((s) => s.name)).toEqual(
      ['small'],
    );
  });
  it('breaks price ties by least waste, then by name', () => {
    const tied = [
      size({ name: 'b', cpus: 4, mem: 4096, pricePerHour: 1 }),
      size({ name: 'a', cpus: 4, mem: 4096, pricePerHour: 1 }),
      size({ name: 'c', cpus: 8, mem: 4096, pricePerHour: 1 }),
    ];
    expect(rankSizes(tied, { resources: want(4, 4096) }).map((s) => s.name)).toEqual([
      'a',
      'b',
      'c',
    ]);
  });
  it('ranks sizes of unknown price after priced ones, smallest waste first', () => {
    const flavors = [
      size({ name: 'x-large', cpus: 16, mem: 65536 }),
      size({ name: 'x-small', cpus: 2, mem: 4096 }),
    ];
    expect(selectSize(flavors, { resources: want(1, 2048) }).name).toBe('x-small');
  });
  it('honours an allowed list', () => {
    expect(selectSize(catalog, { resources: want(1, 1024), allowed: ['big'] }).name).toBe('big');
  });
  it('needs GPUs when GPUs are asked for', () => {
    expect(selectSize(catalog, { resources: want(1, 1024, 1) }).name).toBe('gpu');
  });
  it('names the nearest sizes when none fits', () => {
    let caught: unknown;
    try {
      selectSize(catalog, { resources: want(64, 1 << 20) });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as Error).message).toMatch(
      /no size offers 64 vCPU, 1048576 MiB; nearest: big \(8 vCPU, 32768 MiB\)/,
    );
  });
  it('says capacity is short when sizes fit but none is available', () => {
    const metal = [size({ name: 'metal', cpus: 32, mem: 131072, available: 0 })];
    expect(() => selectSize(metal, { resources: want(8, 1024) })).toThrow(InsufficientCapacity);
  });
});
