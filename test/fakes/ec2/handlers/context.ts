import type { FakeInstanceType } from '../catalog.js';
import type { FakeState } from '../state.js';

/** What every action handler may read or change. */
export interface HandlerContext {
  readonly state: FakeState;
  readonly region: string;
  readonly zones: readonly string[];
  readonly types: readonly FakeInstanceType[];
  readonly spotPrices: Readonly<Record<string, number>>;
  /** Most live instances a zone holds; absent means no limit. */
  readonly zoneCapacity: Readonly<Record<string, number>>;
  /** The account's On-Demand vCPU limit (VcpuLimitExceeded above it). */
  readonly vcpuLimit: number;
  /** How long the instances of this launch stay invisible to lookups by id (eventual consistency). */
  visibilityLagMs(): number;
  /** True when a capacity fault is due for this launch (and uses it up). */
  takeCapacityFault(): boolean;
  /** Takes the resource tokens of launching `n` instances; false when the bucket is short. */
  admitLaunch(n: number): boolean;
}

export type Handler = (ctx: HandlerContext, params: ReadonlyMap<string, string>) => string;
