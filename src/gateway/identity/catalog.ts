/**
 * The service catalog handed out with every project-scoped token: identity, compute,
 * network and image, all pointing back at the gateway, as devstack lays them out
 * (`/compute/v2.1`, `/network`, `/image`, identity at the root).
 */
import { stableHexId } from '../ids.js';

export interface CatalogEndpoint {
  readonly id: string;
  readonly interface: 'public' | 'internal';
  readonly region: string;
  readonly region_id: string;
  readonly url: string;
}

export interface CatalogEntry {
  readonly id: string;
  readonly type: string;
  readonly name: string;
  readonly endpoints: readonly CatalogEndpoint[];
}

/** Where each service lives below the gateway's base URL. */
export const SERVICE_PATHS = Object.freeze({
  identity: '/v3',
  compute: '/compute/v2.1',
  network: '/network',
  image: '/image',
});

const SERVICES: readonly { type: keyof typeof SERVICE_PATHS; name: string }[] = [
  { type: 'identity', name: 'keystone' },
  { type: 'compute', name: 'nova' },
  { type: 'network', name: 'neutron' },
  { type: 'image', name: 'glance' },
];

/**
 * The catalog for a gateway reached at `baseUrl` (`http://127.0.0.1:5000`).
 *
 * @example
 * ```ts
 * serviceCatalog('http://127.0.0.1:5000', 'RegionOne').find((s) => s.type === 'compute')?.endpoints[0]?.url;
 * // 'http://127.0.0.1:5000/compute/v2.1'
 * ```
 */
export function serviceCatalog(baseUrl: string, region: string): CatalogEntry[] {
  const base = baseUrl.replace(/\/+$/, '');
  return SERVICES.map(({ type, name }) => ({
    id: stableHexId('service', type),
    type,
    name,
    endpoints: (['public', 'internal'] as const).map((iface) => ({
      id: stableHexId('endpoint', type, iface),
      interface: iface,
      region,
      region_id: region,
      url: `${base}${SERVICE_PATHS[type]}`,
    })),
  }));
}
