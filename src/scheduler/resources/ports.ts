/**
 * Port sets as sorted, disjoint, inclusive ranges flattened into one array
 * (`[b0, e0, b1, e1, …]`). Agents usually carry one or two ranges, so plain arrays
 * and linear merges beat anything cleverer.
 */
export type PortSet = readonly number[];

/** A public inclusive port range, `[begin, end]`. */
export type PortRange = readonly [number, number];

export const NO_PORTS: PortSet = Object.freeze([]);

/** Sorts and merges overlapping or adjacent ranges. */
export function portSetOf(ranges: readonly PortRange[]): PortSet {
  if (ranges.length === 0) return NO_PORTS;
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [b, e] of sorted) {
    const last = out.length - 1;
    if (last > 0 && b <= out[last]! + 1) out[last] = Math.max(out[last]!, e);
    else out.push(b, e);
  }
  return out;
}

export function toRanges(set: PortSet): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < set.length; i += 2) out.push([set[i]!, set[i + 1]!]);
  return out;
}

export function portCount(set: PortSet): number {
  let n = 0;
  for (let i = 0; i < set.length; i += 2) n += set[i + 1]! - set[i]! + 1;
  return n;
}

/** Union of two sets. */
export function addPorts(a: PortSet, b: PortSet): PortSet {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const ranges: PortRange[] = [];
  for (let i = 0; i < a.length; i += 2) ranges.push([a[i]!, a[i + 1]!]);
  for (let i = 0; i < b.length; i += 2) ranges.push([b[i]!, b[i + 1]!]);
  return portSetOf(ranges);
}

/** `a` without `b`. */
export function subtractPorts(a: PortSet, b: PortSet): PortSet {
  if (b.length === 0 || a.length === 0) return a;
  const out: number[] = [];
  for (let i = 0; i < a.length; i += 2) {
    let start = a[i]!;
    const end = a[i + 1]!;
    for (let j = 0; j < b.length && start <= end; j += 2) {
      const bs = b[j]!;
      const be = b[j + 1]!;
      if (be < start || bs > end) continue;
      if (bs > start) out.push(start, bs - 1);
      start = be + 1;
    }
    if (start <= end) out.push(start, end);
  }
  return out;
}

/** Every port of `b` is in `a`. */
export function containsPorts(a: PortSet, b: PortSet): boolean {
  for (let j = 0; j < b.length; j += 2) {
    const bs = b[j]!;
    const be = b[j + 1]!;
    let inside = false;
    for (let i = 0; i < a.length; i += 2) {
      if (a[i]! <= bs && be <= a[i + 1]!) {
        inside = true;
        break;
      }
    }
    if (!inside) return false;
  }
  return true;
}

/** The `n` lowest ports of `set`, or `undefined` when it has fewer. */
export function lowestPorts(set: PortSet, n: number): PortSet | undefined {
  if (n === 0) return NO_PORTS;
  const out: number[] = [];
  let left = n;
  for (let i = 0; i < set.length && left > 0; i += 2) {
    const b = set[i]!;
    const size = set[i + 1]! - b + 1;
    const take = Math.min(size, left);
    out.push(b, b + take - 1);
    left -= take;
  }
  return left > 0 ? undefined : out;
}

/** The individual ports, in order (for `PORT0`, `PORT1`, … in a task's environment). */
export function listPorts(set: PortSet, limit = Infinity): number[] {
  const out: number[] = [];
  for (let i = 0; i < set.length && out.length < limit; i += 2)
    for (let p = set[i]!; p <= set[i + 1]! && out.length < limit; p++) out.push(p);
  return out;
}
