/**
 * Refresh: what the providers actually have, compared with what state says. Machines
 * are found by kumo's tags (`kumo-dc`), so machines state does not know (orphans) are
 * found too.
 */
import {
  TAG_DC,
  TAG_KEY,
  TAG_POOL,
  withContext,
  isKumoError,
  type Machine,
  type Provider,
} from '../core/index.js';
import type { MachineRecord, Mutation, StateSnapshot } from './state/state-store.js';

/** How a machine differs from what state says. */
export type DriftKind = 'gone' | 'stopped' | 'error' | 'changed';

export interface DriftItem {
  readonly kind: DriftKind;
  readonly id: string;
  readonly pool: string;
  readonly provider: string;
  /** In plain words: "no longer on the provider", "size m5.large → m5.xlarge". */
  readonly detail: string;
}

export interface Observation {
  /** State as it would be after writing what was observed. */
  readonly snapshot: StateSnapshot;
  /** Writes that record the observation (empty when nothing changed). */
  readonly mutations: readonly Mutation[];
  readonly drift: readonly DriftItem[];
  readonly orphans: readonly Machine[];
  /** Machines seen running that state had as pending (they become agents). */
  readonly becameRunning: readonly MachineRecord[];
  /** Machines found gone or failed (their agents are lost). */
  readonly lost: readonly MachineRecord[];
  /** Deleting machines now confirmed gone (records removed). */
  readonly deleted: readonly MachineRecord[];
  readonly listed: number;
}

/** What differs between what state recorded and what the provider shows now. */
function changes(before: Machine, now: Machine): string[] {
  const out: string[] = [];
  for (const field of ['size', 'image', 'zone', 'spot'] as const)
    if (String(before[field]) !== String(now[field]))
      out.push(`${field} ${String(before[field])} → ${String(now[field])}`);
  for (const tag of [TAG_DC, TAG_POOL, TAG_KEY])
    if (before.labels[tag] !== now.labels[tag])
      out.push(`tag ${tag} ${before.labels[tag] ?? '(none)'} → ${now.labels[tag] ?? '(none)'}`);
  return out;
}

function sameRecord(
  a: Readonly<Record<string, string | number | boolean>>,
  b: Readonly<Record<string, string | number | boolean>>,
): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

/** Field by field rather than by JSON: refresh compares every machine of the datacenter. */
function sameObservation(a: Machine, b: Machine): boolean {
  return (
    a.state === b.state &&
    a.zone === b.zone &&
    a.size === b.size &&
    a.image === b.image &&
    a.spot === b.spot &&
    a.region === b.region &&
    a.error === b.error &&
    a.pricePerHour === b.pricePerHour &&
    a.createdAt === b.createdAt &&
    a.addresses.length === b.addresses.length &&
    a.addresses.every(
      (x, i) => x.address === b.addresses[i]?.address && x.type === b.addresses[i]?.type,
    ) &&
    sameRecord(a.resources, b.resources) &&
    sameRecord(a.labels, b.labels)
  );
}

/**
 * Lists every provider's machines of datacenter `dc` and compares them with `snapshot`.
 * Pure but for the listing: nothing is written (the caller commits `mutations`).
 *
 * @throws the provider's typed error, with the provider named, when a listing fails:
 *   planning against a provider we could not see would recreate its machines.
 */
export async function observe(
  dc: string,
  snapshot: StateSnapshot,
  providers: ReadonlyMap<string, Provider>,
  signal?: AbortSignal,
  /** Destroying: machines of journaled creates are orphans too (the creates are dropped). */
  destroying = false,
): Promise<Observation> {
  const listings = await Promise.all(
    [...providers].map(async ([name, provider]) => {
      try {
        const machines = await provider.listMachines(
          { labels: { [TAG_DC]: dc } },
          signal ? { signal } : {},
        );
        return [name, machines] as const;
      } catch (err) {
        throw isKumoError(err) ? withContext(err, `refreshing provider ${name}`) : err;
      }
    }),
  );
  const now = new Date().toISOString();
  const seen = new Map<string, Machine>();
  for (const [name, machines] of listings)
    for (const m of machines) if (m.state !== 'terminated') seen.set(`${name}/${m.providerId}`, m);

  const inFlightKeys = new Set(
    snapshot.intents.filter((i) => i.kind === 'create').map((i) => i.key),
  );
  const known = new Set(snapshot.machines.map((r) => `${r.provider}/${r.providerId}`));
  const mutations: Mutation[] = [];
  const drift: DriftItem[] = [];
  const machines: MachineRecord[] = [];
  const becameRunning: MachineRecord[] = [];
  const lost: MachineRecord[] = [];
  const deleted: MachineRecord[] = [];

  for (const record of snapshot.machines) {
    if (!providers.has(record.provider)) {
      machines.push(record);
      continue;
    }
    const live = seen.get(`${record.provider}/${record.providerId}`);
    if (record.status === 'deleting') {
      if (live === undefined) {
        deleted.push(record);
        mutations.push({ op: 'machine.remove', id: record.id });
      } else machines.push(record);
      continue;
    }
    if (live === undefined) {
      const gone: MachineRecord = {
        ...record,
        status: 'lost',
        machine: { ...record.machine, state: 'terminated' },
        updatedAt: now,
      };
      if (record.status !== 'lost') {
        drift.push({
          kind: 'gone',
          id: record.id,
          pool: record.pool,
          provider: record.provider,
          detail: 'no longer on the provider',
        });
        lost.push(gone);
        mutations.push({ op: 'machine.put', record: gone });
      }
      machines.push(gone);
      continue;
    }
    const changed = changes(record.machine, live);
    // NOTE: what kumo made (size, image, zone, spot, its tags) stays as recorded, so a
    // change made outside kumo keeps showing as drift, and plan replaces the machine,
    // until it matches again; only the live facts (state, addresses, …) are taken.
    const made = record.machine;
    const merged: Machine = {
      ...live,
      size: made.size,
      image: made.image,
      zone: made.zone,
      spot: made.spot,
      labels: { ...live.labels, ...pick(made.labels, [TAG_DC, TAG_POOL, TAG_KEY]) },
    };
    const next: MachineRecord = { ...record, status: 'present', machine: merged, updatedAt: now };
    if (changed.length > 0)
      drift.push({
        kind: 'changed',
        id: record.id,
        pool: record.pool,
        provider: record.provider,
        detail: changed.join(', '),
      });
    if (live.state === 'stopped' || live.state === 'stopping')
      drift.push({
        kind: 'stopped',
        id: record.id,
        pool: record.pool,
        provider: record.provider,
        detail: `${live.state} (not by kumo)`,
      });
    if (live.state === 'error') {
      drift.push({
        kind: 'error',
        id: record.id,
        pool: record.pool,
        provider: record.provider,
        detail: live.error ?? 'in error',
      });
      if (record.machine.state !== 'error') lost.push(next);
    }
    if (
      live.state === 'running' &&
      (record.machine.state !== 'running' || record.status === 'lost')
    )
      becameRunning.push(next);
    if (record.status !== 'present' || !sameObservation(record.machine, merged))
      mutations.push({ op: 'machine.put', record: next });
    machines.push(next);
  }

  const orphans: Machine[] = [];
  for (const [key, m] of seen) {
    if (known.has(key)) continue;
    // A machine of a journaled create is not an orphan: resuming the intent records it.
    if (!destroying && inFlightKeys.has(m.labels[TAG_KEY] ?? '')) continue;
    orphans.push(m);
  }

  return {
    snapshot: { ...snapshot, machines },
    mutations,
    drift,
    orphans,
    becameRunning,
    lost,
    deleted,
    listed: seen.size,
  };
}

function pick(
  labels: Readonly<Record<string, string>>,
  keys: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) if (labels[k] !== undefined) out[k] = labels[k];
  return out;
}

/** The pool an orphan says it belongs to (its `kumo-pool` tag). */
export function orphanPool(machine: Machine): string | undefined {
  return machine.labels[TAG_POOL];
}
