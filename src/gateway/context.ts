/** Everything the gateway's routers share: the datacenter, the stores and the catalogs. */
import type { Clock } from '../core/index.js';
import type { AdHocMachines } from '../logical-dc/ad-hoc-machines.js';
import type { LogicalDatacenter } from '../logical-dc/logical-datacenter.js';
import type { DatacenterCatalog } from './datacenter-catalog.js';
import type { Directory } from './identity/directory.js';
import type { LoginThrottle } from './identity/login-throttle.js';
import type { TokenStore } from './identity/token-store.js';
import type { GatewayStore } from './state/gateway-store.js';

export interface GatewayContext {
  readonly dc: LogicalDatacenter;
  readonly machines: AdHocMachines;
  readonly store: GatewayStore;
  readonly directory: Directory;
  readonly tokens: TokenStore;
  readonly throttle: LoginThrottle;
  readonly catalog: DatacenterCatalog;
  readonly clock: Clock;
  /** Region name in the catalog. */
  readonly region: string;
  readonly tokenTtlMs: number;
  /** Where servers land when a request names no zone: `<provider>` or `<provider>:<zone>`. */
  readonly defaultZone: string;
  /** The URL clients reach the gateway at (`http://127.0.0.1:5000`), known once listening. */
  baseUrl(): string;
  /** One line for the operator's log; never given secrets. */
  log(line: string): void;
}

/** Now, as an ISO 8601 string. */
export function nowIso(ctx: Pick<GatewayContext, 'clock'>): string {
  return new Date(ctx.clock.now()).toISOString();
}
