/**
 * Availability zones: one per provider zone, named `<provider>:<zone>` (Nova's own
 * `zone:host` syntax, read as "provider, then its zone"), plus `<provider>` alone for
 * "any zone of that provider". `--availability-zone` thus chooses where a server lands.
 */
import type { Size } from '../../core/index.js';
import { badRequest } from '../http/errors.js';

export interface Zone {
  /** `onprem:sim-1a`, or `onprem` for a provider whose sizes name no zones. */
  readonly name: string;
  readonly provider: string;
  readonly zone: string | undefined;
}

/** The zones of each provider, from the zones its sizes are offered in. */
export function zonesFromSizes(sizesByProvider: ReadonlyMap<string, readonly Size[]>): Zone[] {
  const out: Zone[] = [];
  for (const [provider, sizes] of [...sizesByProvider].sort(([a], [b]) => a.localeCompare(b))) {
    const zones = [...new Set(sizes.flatMap((s) => s.zones))].sort();
    if (zones.length === 0) out.push({ name: provider, provider, zone: undefined });
    for (const zone of zones) out.push({ name: `${provider}:${zone}`, provider, zone });
  }
  return out;
}

/**
 * Where a server asked for in `requested` lands: a provider and maybe a zone.
 * @throws HttpError 400 naming the zones there are, for an unknown zone.
 */
export function placeInZone(
  requested: string | undefined,
  zones: readonly Zone[],
  fallback: string,
): { provider: string; zone: string | undefined; name: string } {
  const wanted = requested === undefined || requested === '' ? fallback : requested;
  const exact = zones.find((z) => z.name === wanted);
  if (exact !== undefined) return { provider: exact.provider, zone: exact.zone, name: exact.name };
  const provider = zones.find((z) => z.provider === wanted);
  if (provider !== undefined)
    return { provider: provider.provider, zone: undefined, name: provider.provider };
  const names = [
    ...new Set(zones.flatMap((z) => (z.zone === undefined ? [z.name] : [z.provider, z.name]))),
  ];
  throw badRequest(
    `The requested availability zone is not available: "${wanted}". Zones are ${names.join(', ')}.`,
  );
}
