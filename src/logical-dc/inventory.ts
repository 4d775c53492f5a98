/** Queries over the datacenter's machines: by pool, provider, zone, label and state; capacity totals. */
import {
  addResources,
  matchesLabels,
  ZERO_RESOURCES,
  type Machine,
  type MachineState,
  type Resources,
} from '../core/index.js';
import type { MachineRecord, MachineStatus } from './state/state-store.js';

/** A machine as the datacenter sees it: the machine, its pool and kumo's status of it. */
export interface InventoryMachine extends Machine {
  readonly pool: string;
  readonly status: MachineStatus;
  readonly adopted: boolean;
}

export interface MachineQuery {
  readonly pool?: string;
  readonly provider?: string;
  readonly zone?: string;
  /** Every given label must match. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly state?: MachineState | readonly MachineState[];
  /** kumo's status; by default `present` and `lost` (not machines being deleted). */
  readonly status?: MachineStatus | readonly MachineStatus[];
}

export interface CapacityTotals {
  readonly machines: number;
  readonly byState: Readonly<Partial<Record<MachineState, number>>>;
  /** Resources of running machines. */
  readonly running: Resources;
  /** Resources of every machine counted (pending and stopped included). */
  readonly total: Resources;
  /** Sum of known prices of machines not terminated, USD per hour. */
  readonly pricePerHour: number;
}

export interface CapacityReport extends CapacityTotals {
  readonly byPool: Readonly<Record<string, CapacityTotals>>;
  readonly byProvider: Readonly<Record<string, CapacityTotals>>;
}

const asList = <T>(v: T | readonly T[] | undefined): readonly T[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? (v as readonly T[]) : [v as T];

export function toInventory(record: MachineRecord): InventoryMachine {
  return { ...record.machine, pool: record.pool, status: record.status, adopted: record.adopted };
}

export function queryMachines(
  records: readonly MachineRecord[],
  query: MachineQuery = {},
): InventoryMachine[] {
  const states = asList(query.state);
  const statuses = asList(query.status) ?? ['present', 'lost'];
  return records
    .filter(
      (r) =>
        statuses.includes(r.status) &&
        (query.pool === undefined || r.pool === query.pool) &&
        (query.provider === undefined || r.provider === query.provider) &&
        (query.zone === undefined || r.machine.zone === query.zone) &&
        (states === undefined || states.includes(r.machine.state)) &&
        matchesLabels(r.machine.labels, query.labels),
    )
    .map(toInventory);
}

function totals(machines: readonly InventoryMachine[]): CapacityTotals {
  const byState: Partial<Record<MachineState, number>> = {};
  let running: Resources = { ...ZERO_RESOURCES };
  let total: Resources = { ...ZERO_RESOURCES };
  let price = 0;
  for (const m of machines) {
    byState[m.state] = (byState[m.state] ?? 0) + 1;
    total = addResources(total, m.resources);
    if (m.state === 'running') running = addResources(running, m.resources);
    if (m.state !== 'terminated' && m.pricePerHour !== undefined) price += m.pricePerHour;
  }
  return {
    machines: machines.length,
    byState,
    running,
    total,
    pricePerHour: Math.round(price * 1e6) / 1e6,
  };
}

export function capacityOf(machines: readonly InventoryMachine[]): CapacityReport {
  const group = (key: (m: InventoryMachine) => string): Record<string, CapacityTotals> => {
    const groups = new Map<string, InventoryMachine[]>();
    for (const m of machines) {
      const k = key(m);
      const list = groups.get(k);
      if (list === undefined) groups.set(k, [m]);
      else list.push(m);
    }
    return Object.fromEntries(
      [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([k, ms]) => [k, totals(ms)]),
    );
  };
  return {
    ...totals(machines),
    byPool: group((m) => m.pool),
    byProvider: group((m) => m.provider),
  };
}
