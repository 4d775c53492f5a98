import { describe, expect, it } from 'vitest';
import { DrfSorter, type Scalars } from '../../src/index.js';

const v = (milliCpus: number, memoryMiB: number): Scalars => ({
  milliCpus,
  memoryMiB,
  gpus: 0,
  diskGiB: 0,
});

function order(sorter: DrfSorter<string>): string[] {
  return [...sorter.clients()].map((c) => c.payload!);
}

describe('the DRF sorter', () => {
  it('measures a share as the largest fraction of any resource of the cluster', () => {
    const sorter = new DrfSorter<string>();
    sorter.setTotal(v(10_000, 100_000));
    const a = sorter.addClient('r', 'a');
    sorter.allocate(a, v(1_000, 50_000));
    expect(sorter.shareOf(a)).toBeCloseTo(0.5);
  });

  it('puts the client with the smallest dominant share first', () => {
    const sorter = new DrfSorter<string>();
    sorter.setTotal(v(10_000, 10_000));
    const a = sorter.addClient('r', 'a');
    const b = sorter.addClient('r', 'b');
    sorter.allocate(a, v(3_000, 1_000)); // cpu-heavy: share 0.3
    sorter.allocate(b, v(1_000, 2_000)); // memory-heavy: share 0.2
    expect(order(sorter)).toEqual(['b', 'a']);
  });

  it('breaks ties by registration order', () => {
    const sorter = new DrfSorter<string>();
    sorter.setTotal(v(10_000, 10_000));
    sorter.addClient('r', 'first');
    sorter.addClient('r', 'second');
    expect(order(sorter)).toEqual(['first', 'second']);
  });

  it('divides a share by the weight', () => {
    const sorter = new DrfSorter<string>();
    sorter.setTotal(v(10_000, 10_000));
    const heavy = sorter.addClient('r', 'heavy', 4);
    const light = sorter.addClient('r', 'light');
    sorter.allocate(heavy, v(4_000, 0)); // 0.4 / 4 = 0.1
    sorter.allocate(light, v(2_000, 0)); // 0.2
    expect(order(sorter)).toEqual(['heavy', 'light']);
  });

  it('orders roles first, then frameworks within the chosen role', () => {
    const sorter = new DrfSorter<string>();
    sorter.setTotal(v(10_000, 10_000));
    const web1 = sorter.addClient('eng/web', 'web1');
    const web2 = sorter.addClient('eng/web', 'web2');
    const batch = sorter.addClient('eng/batch', 'batch');
    const ops = sorter.addClient('ops', 'ops');
    sorter.allocate(web1, v(1_000, 0));
    sorter.allocate(web2, v(1_000, 0));
    sorter.allocate(batch, v(3_000, 0));
    sorter.allocate(ops, v(4_000, 0));
    // eng (0.5) vs ops (0.4): ops first; within eng, web (0.2) before batch (0.3).
    expect(order(sorter)).toEqual(['ops', 'web1', 'web2', 'batch']);
  });

  it('weights hierarchical roles', () => {
    const sorter = new DrfSorter<string>();
    sorter.setTotal(v(10_000, 10_000));
    const a = sorter.addClient('team-a', 'a');
    const b = sorter.addClient('team-b', 'b');
    sorter.setWeight('team-a', 3);
    sorter.allocate(a, v(3_000, 0)); // 0.3 / 3
    sorter.allocate(b, v(2_000, 0)); // 0.2
    expect(order(sorter)).toEqual(['a', 'b']);
  });

  it('re-orders everything when the cluster total changes', () => {
    const sorter = new DrfSorter<string>();
    sorter.setTotal(v(10_000, 10_000));
    const cpu = sorter.addClient('r', 'cpu');
    const mem = sorter.addClient('r', 'mem');
    sorter.allocate(cpu, v(2_000, 0)); // 0.2
    sorter.allocate(mem, v(0, 3_000)); // 0.3
    expect(order(sorter)).toEqual(['cpu', 'mem']);
    sorter.setTotal(v(4_000, 100_000)); // cpu 0.5, mem 0.03
    expect(order(sorter)).toEqual(['mem', 'cpu']);
  });

  it('takes a removed client’s allocation out of its roles', () => {
    const sorter = new DrfSorter<string>();
    sorter.setTotal(v(10_000, 10_000));
    const a = sorter.addClient('eng/web', 'a');
    sorter.allocate(a, v(5_000, 0));
    sorter.removeClient(a);
    expect(sorter.findRole('eng')!.alloc).toEqual(v(0, 0));
  });

  it('keeps every other client when a late allocation reaches a removed one', () => {
    const sorter = new DrfSorter<string>();
    sorter.setTotal(v(10_000, 10_000));
    sorter.ensureSorted();
    const a = sorter.addClient('r', 'a');
    const b = sorter.addClient('r', 'b');
    const c = sorter.addClient('r', 'c');
    sorter.allocate(b, v(1_000, 0));
    sorter.allocate(c, v(2_000, 0));
    sorter.removeClient(a);
    sorter.allocate(a, v(5_000, 0));
    expect(order(sorter).sort()).toEqual(['b', 'c']);
  });
});
