import { toMilliCpus, type Scalars } from '../resources/scalars.js';
import type { PartialResources } from '../resources/resource-schemas.js';
import type { RoleQuota } from '../sorter/drf-sorter.js';

/**
 * Turns a role's configured quota into scalars: an unset guarantee dimension is 0, an
 * unset limit dimension is unlimited (`Infinity`).
 */
export function roleQuotaOf(quota: {
  guarantee?: PartialResources;
  limit?: PartialResources;
}): RoleQuota {
  const g = quota.guarantee ?? {};
  const l = quota.limit ?? {};
  return {
    guarantee: {
      milliCpus: toMilliCpus(g.cpus ?? 0),
      memoryMiB: g.memoryMiB ?? 0,
      gpus: g.gpus ?? 0,
      diskGiB: g.diskGiB ?? 0,
    },
    limit: {
      milliCpus: l.cpus === undefined ? Infinity : toMilliCpus(l.cpus),
      memoryMiB: l.memoryMiB ?? Infinity,
      gpus: l.gpus ?? Infinity,
      diskGiB: l.diskGiB ?? Infinity,
    },
    hasGuarantee: Object.values(g).some((v) => v !== undefined && v > 0),
    hasLimit: Object.values(l).some((v) => v !== undefined),
  };
}

/** `out = max(0, limit - consumed)` per dimension (unlimited stays `Infinity`). */
export function limitHeadroomInto(
  out: Scalars,
  limit: Readonly<Scalars>,
  consumed: Readonly<Scalars>,
): Scalars {
  out.milliCpus = Math.max(0, limit.milliCpus - consumed.milliCpus);
  out.memoryMiB = Math.max(0, limit.memoryMiB - consumed.memoryMiB);
  out.gpus = Math.max(0, limit.gpus - consumed.gpus);
  out.diskGiB = Math.max(0, limit.diskGiB - consumed.diskGiB);
  return out;
}

/** `acc += max(0, guarantee - consumed)` per dimension: what a guarantee still needs. */
export function addDeficitInto(
  acc: Scalars,
  guarantee: Readonly<Scalars>,
  consumed: Readonly<Scalars>,
): boolean {
  const c = Math.max(0, guarantee.milliCpus - consumed.milliCpus);
  const m = Math.max(0, guarantee.memoryMiB - consumed.memoryMiB);
  const g = Math.max(0, guarantee.gpus - consumed.gpus);
  const d = Math.max(0, guarantee.diskGiB - consumed.diskGiB);
  acc.milliCpus += c;
  acc.memoryMiB += m;
  acc.gpus += g;
  acc.diskGiB += d;
  return c > 0 || m > 0 || g > 0 || d > 0;
}
