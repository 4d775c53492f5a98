import { describe, expect, it } from 'vitest';
import { parseTrace, TRACE_HEADER } from '../../src/logical-dc/simulate/index.js';
import { caught } from '../support/caught.js';

const parse =
  (...rows: string[]) =>
  () =>
    parseTrace([TRACE_HEADER, ...rows].join('\n'), 't.csv');

describe('reading a trace', () => {
  it('reads decimal numbers, exponents included', () => {
    expect(parse('0,1.5,2048,0,1e2,3')()).toEqual([
      { submit_s: 0, cpus: 1.5, memory_mib: 2048, gpus: 0, duration_s: 100, count: 3 },
    ]);
  });

  it('refuses numbers written as hex, binary or Infinity, showing the cell', () => {
    expect(parse('0,0x10,2048,0,60,1')).toThrow(
      't.csv:2 cpus: cpus must be a decimal number (got "0x10")',
    );
    expect(parse('0,1,0b1,0,60,1')).toThrow('memory_mib must be a decimal number (got "0b1")');
    expect(parse('0,1,2048,0,Infinity,1')).toThrow('duration_s must be a decimal number');
  });

  it('names a missing cell', () => {
    expect(parse('0,,2048,0,60,1')).toThrow('t.csv:2 cpus: cpus is missing');
  });

  it('says when it stopped reading after the first 20 problems', async () => {
    const bad = Array.from({ length: 50 }, () => '0,-1,2048,0,60,1');
    const err = await caught(Promise.resolve().then(parse(...bad)));
    expect(String(err)).toContain(
      'has 20 or more problem(s) (the first 20 shown; 30 line(s) after them not read)',
    );
  });
});
