import { describe, expect, it } from 'vitest';
import {
  addPorts,
  containsPorts,
  lowestPorts,
  portCount,
  portSetOf,
  subtractPorts,
  toRanges,
} from '../../src/scheduler/resources/ports.js';

describe('port sets', () => {
  it('merge overlapping and adjacent ranges', () => {
    expect(
      toRanges(
        portSetOf([
          [10, 20],
          [15, 25],
          [26, 30],
          [40, 41],
        ]),
      ),
    ).toEqual([
      [10, 30],
      [40, 41],
    ]);
  });

  it('count every port of every range', () => {
    expect(
      portCount(
        portSetOf([
          [1, 10],
          [20, 20],
        ]),
      ),
    ).toBe(11);
  });

  it('subtract a range from the middle, leaving both sides', () => {
    expect(toRanges(subtractPorts(portSetOf([[1, 100]]), portSetOf([[40, 60]])))).toEqual([
      [1, 39],
      [61, 100],
    ]);
  });

  it('add back what was subtracted to get the original', () => {
    const all = portSetOf([[31000, 32000]]);
    const some = portSetOf([
      [31005, 31007],
      [31500, 31500],
    ]);
    expect(addPorts(subtractPorts(all, some), some)).toEqual(all);
  });

  it('know whether one set lies inside another', () => {
    const all = portSetOf([
      [1, 10],
      [20, 30],
    ]);
    expect(
      containsPorts(
        all,
        portSetOf([
          [2, 3],
          [25, 30],
        ]),
      ),
    ).toBe(true);
    expect(containsPorts(all, portSetOf([[9, 21]]))).toBe(false);
  });

  it('take the lowest ports across ranges, or nothing when there are too few', () => {
    const set = portSetOf([
      [10, 11],
      [20, 29],
    ]);
    expect(toRanges(lowestPorts(set, 3)!)).toEqual([
      [10, 11],
      [20, 20],
    ]);
    expect(lowestPorts(set, 13)).toBeUndefined();
  });
});
