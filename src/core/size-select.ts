import { InsufficientCapacity, ValidationError } from './errors.js';
import { fits, formatResources, RESOURCE_NAMES, type Resources } from './model/resources.js';
import type { Arch, Size } from './model/size.js';

export interface SizeRequirement {
  readonly resources: Resources;
  /** Only sizes offered in this zone. */
  readonly zone?: string | undefined;
  /** Price as spot and only sizes that can be spot. */
  readonly spot?: boolean | undefined;
  readonly arch?: Arch | undefined;
  /** Only these size names (burst targets' allowed sizes). */
  readonly allowed?: readonly string[] | undefined;
}

/** The price `size` would cost per hour for this requirement; undefined when unknown. */
export function effectivePrice(size: Size, spot = false): number | undefined {
  return spot ? (size.spotPricePerHour ?? size.pricePerHour) : size.pricePerHour;
}

/** How much of the size goes unused, summed over dimensions as fractions of the size. */
function waste(size: Size, want: Resources): number {
  let total = 0;
  for (const r of RESOURCE_NAMES) {
    const have = size.resources[r];
    if (have > 0) total += (have - want[r]) / have;
  }
  return total;
}

function offered(size: Size, req: SizeRequirement): boolean {
  if (req.zone !== undefined && size.zones.length > 0 && !size.zones.includes(req.zone))
    return false;
  if (req.spot === true && !size.spot) return false;
  if (req.arch !== undefined && size.arch !== req.arch) return false;
  if (req.allowed !== undefined && !req.allowed.includes(size.name)) return false;
  return true;
}

/** Orders two fitting sizes: cheapest first; unknown prices last; then least waste; then name. */
function compare(a: Size, b: Size, req: SizeRequirement): number {
  const pa = effectivePrice(a, req.spot) ?? Number.POSITIVE_INFINITY;
  const pb = effectivePrice(b, req.spot) ?? Number.POSITIVE_INFINITY;
  if (pa !== pb) return pa < pb ? -1 : 1;
  const wa = waste(a, req.resources);
  const wb = waste(b, req.resources);
  if (Math.abs(wa - wb) > 1e-12) return wa < wb ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Every size that satisfies `req`, best first (deterministic). */
export function rankSizes(sizes: readonly Size[], req: SizeRequirement): Size[] {
  return sizes
    .filter((s) => offered(s, req) && fits(req.resources, s.resources))
    .sort((a, b) => compare(a, b, req));
}

/** How far a size falls short of `want`: 0 when it fits. */
function shortfall(size: Size, want: Resources): number {
  let total = 0;
  for (const r of RESOURCE_NAMES) {
    if (want[r] > size.resources[r]) total += (want[r] - size.resources[r]) / Math.max(want[r], 1);
  }
  return total;
}

/**
 * The cheapest size that satisfies `req`, ties broken by least waste, then name.
 * Sizes with `available: 0` (bare metal with no free node) are skipped.
 *
 * @throws ValidationError naming the nearest sizes when no size could ever fit.
 * @throws InsufficientCapacity when sizes fit but none is available now.
 *
 * @example
 * ```ts
 * const size = selectSize(await provider.listSizes(), { resources: { cpus: 2, memoryMiB: 4096, gpus: 0, diskGiB: 0 } });
 * ```
 */
export function selectSize(sizes: readonly Size[], req: SizeRequirement): Size {
  // One pass for the best: selection runs per request, over catalogs of hundreds of sizes.
  let best: Size | undefined;
  for (const s of sizes) {
    if (
      (s.available !== undefined && s.available <= 0) ||
      !offered(s, req) ||
      !fits(req.resources, s.resources)
    )
      continue;
    if (best === undefined || compare(s, best, req) < 0) best = s;
  }
  if (best !== undefined) return best;
  const ranked = rankSizes(sizes, req);
  const where = [
    req.zone && `in zone ${req.zone}`,
    req.spot && 'as spot',
    req.arch && `for ${req.arch}`,
  ]
    .filter(Boolean)
    .join(' ');
  if (ranked.length > 0)
    throw new InsufficientCapacity(
      `no ${ranked.map((s) => s.name).join(', ')} available now for ${formatResources(req.resources)}${where ? ` ${where}` : ''}`,
      { details: { fitting: ranked.map((s) => s.name) } },
    );
  const nearest = sizes
    .filter((s) => offered(s, req))
    .map((s) => ({ s, d: shortfall(s, req.resources) }))
    .sort(
      (a, b) =>
        a.d - b.d ||
        (effectivePrice(a.s) ?? Infinity) - (effectivePrice(b.s) ?? Infinity) ||
        (a.s.name < b.s.name ? -1 : 1),
    )
    .slice(0, 3)
    .map(({ s }) => `${s.name} (${formatResources(s.resources)})`);
  throw new ValidationError(
    `no size offers ${formatResources(req.resources)}${where ? ` ${where}` : ''}; nearest: ${nearest.length ? nearest.join(', ') : 'none'}`,
    { issues: [{ path: 'resources', message: 'no size fits' }], details: { nearest } },
  );
}
