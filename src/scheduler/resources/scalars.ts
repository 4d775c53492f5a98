import type { Resources } from '../../core/index.js';

/**
 * The scheduler's internal resource vector. CPUs are held in thousandths (the fixed
 * point Mesos uses for scalars), so adding and subtracting fractional CPUs over
 * millions of launches is exact and "no resources leak" can be checked with `===`.
 * Vectors are mutable on purpose: the allocator updates them in place on hot paths.
 */
export interface Scalars {
  milliCpus: number;
  memoryMiB: number;
  gpus: number;
  diskGiB: number;
}

export function zeroScalars(): Scalars {
  return { milliCpus: 0, memoryMiB: 0, gpus: 0, diskGiB: 0 };
}

/**
 * The shared empty vector. Frozen: hot paths hand it out instead of allocating a new
 * zero (e.g. "no reserved part"), and compare against it by identity.
 */
export const NO_SCALARS: Scalars = Object.freeze(zeroScalars());

export function copyScalars(s: Readonly<Scalars>): Scalars {
  return { milliCpus: s.milliCpus, memoryMiB: s.memoryMiB, gpus: s.gpus, diskGiB: s.diskGiB };
}

/** CPUs to thousandths, rounding to the nearest (Mesos rounds scalars the same way). */
export function toMilliCpus(cpus: number): number {
  return Math.round(cpus * 1000);
}

/** From the neutral model (missing fields count as 0). */
export function scalarsOf(r: Readonly<Partial<Resources>>): Scalars {
  return {
    milliCpus: toMilliCpus(r.cpus ?? 0),
    memoryMiB: r.memoryMiB ?? 0,
    gpus: r.gpus ?? 0,
    diskGiB: r.diskGiB ?? 0,
  };
}

/** To the neutral model. */
export function resourcesOf(s: Readonly<Scalars>): Resources {
  return { cpus: s.milliCpus / 1000, memoryMiB: s.memoryMiB, gpus: s.gpus, diskGiB: s.diskGiB };
}

/** `a += b`. */
export function addInto(a: Scalars, b: Readonly<Scalars>): void {
  a.milliCpus += b.milliCpus;
  a.memoryMiB += b.memoryMiB;
  a.gpus += b.gpus;
  a.diskGiB += b.diskGiB;
}

/** `a -= b`. */
export function subtractInto(a: Scalars, b: Readonly<Scalars>): void {
  a.milliCpus -= b.milliCpus;
  a.memoryMiB -= b.memoryMiB;
  a.gpus -= b.gpus;
  a.diskGiB -= b.diskGiB;
}

export function plus(a: Readonly<Scalars>, b: Readonly<Scalars>): Scalars {
  return {
    milliCpus: a.milliCpus + b.milliCpus,
    memoryMiB: a.memoryMiB + b.memoryMiB,
    gpus: a.gpus + b.gpus,
    diskGiB: a.diskGiB + b.diskGiB,
  };
}

export function minus(a: Readonly<Scalars>, b: Readonly<Scalars>): Scalars {
  return {
    milliCpus: a.milliCpus - b.milliCpus,
    memoryMiB: a.memoryMiB - b.memoryMiB,
    gpus: a.gpus - b.gpus,
    diskGiB: a.diskGiB - b.diskGiB,
  };
}

/** Element-wise minimum. */
export function minOf(a: Readonly<Scalars>, b: Readonly<Scalars>): Scalars {
  return {
    milliCpus: Math.min(a.milliCpus, b.milliCpus),
    memoryMiB: Math.min(a.memoryMiB, b.memoryMiB),
    gpus: Math.min(a.gpus, b.gpus),
    diskGiB: Math.min(a.diskGiB, b.diskGiB),
  };
}

/** Element-wise `max(0, x)`. */
export function clampNonNegative(a: Scalars): Scalars {
  if (a.milliCpus < 0) a.milliCpus = 0;
  if (a.memoryMiB < 0) a.memoryMiB = 0;
  if (a.gpus < 0) a.gpus = 0;
  if (a.diskGiB < 0) a.diskGiB = 0;
  return a;
}

/** `have` covers `want` in every dimension. */
export function fitsIn(want: Readonly<Scalars>, have: Readonly<Scalars>): boolean {
  return (
    want.milliCpus <= have.milliCpus &&
    want.memoryMiB <= have.memoryMiB &&
    want.gpus <= have.gpus &&
    want.diskGiB <= have.diskGiB
  );
}

export function isZero(s: Readonly<Scalars>): boolean {
  return s.milliCpus === 0 && s.memoryMiB === 0 && s.gpus === 0 && s.diskGiB === 0;
}

export function equalScalars(a: Readonly<Scalars>, b: Readonly<Scalars>): boolean {
  return (
    a.milliCpus === b.milliCpus &&
    a.memoryMiB === b.memoryMiB &&
    a.gpus === b.gpus &&
    a.diskGiB === b.diskGiB
  );
}

/**
 * How many copies of `want` fit in `have` (`Infinity` when `want` is all zero).
 */
export function fitCount(want: Readonly<Scalars>, have: Readonly<Scalars>): number {
  let n = Infinity;
  if (want.milliCpus > 0) n = Math.min(n, Math.floor(have.milliCpus / want.milliCpus));
  if (want.memoryMiB > 0) n = Math.min(n, Math.floor(have.memoryMiB / want.memoryMiB));
  if (want.gpus > 0) n = Math.min(n, Math.floor(have.gpus / want.gpus));
  if (want.diskGiB > 0) n = Math.min(n, Math.floor(have.diskGiB / want.diskGiB));
  return n < 0 ? 0 : n;
}

/**
 * Mesos's "minimum allocatable": an offer is worth making when it carries at least a
 * hundredth of a CPU or 32 MiB of memory; smaller crumbs would only churn offers.
 */
export function isAllocatable(s: Readonly<Scalars>, min: Readonly<Scalars>): boolean {
  return s.milliCpus >= min.milliCpus || s.memoryMiB >= min.memoryMiB;
}
