/**
 * The cloud side of a journaled create, shared by apply and ad-hoc machines: the call
 * under the intent's idempotency key, then one commit that records the machines and
 * closes the intent. A crash between the two leaves the intent for a resume, whose
 * call under the same key returns the same machines.
 */
import {
  Conflict,
  isKumoError,
  type Machine,
  type MachineSpec,
  type Provider,
} from '../core/index.js';
import type { Intent, MachineRecord, Mutation, StateStore } from './state/state-store.js';

/** The tag holding a machine's spec hash, so plan can tell a changed spec. */
export const TAG_SPEC = 'kumo-spec';

/** Errors after which the cloud certainly did not act: the intent can be dropped. */
const DEFINITIVE = new Set([
  'ValidationError',
  'NotFound',
  'AuthError',
  'QuotaExceeded',
  'InsufficientCapacity',
  'Conflict',
]);

export function isDefinitive(err: unknown): boolean {
  return isKumoError(err) && DEFINITIVE.has(err.code);
}

export interface JournaledCreate {
  readonly provider: Provider;
  readonly intent: Intent;
  readonly store: StateStore;
  /** The datacenter's name, tagged on every machine. */
  readonly dc: string;
  readonly pool: string;
  /** When, as an ISO timestamp (the records' updatedAt). */
  readonly now: string;
  readonly signal?: AbortSignal;
}

/** Makes the intent's machines (not waiting for them to run) and records them. */
export async function createJournaled(c: JournaledCreate): Promise<MachineRecord[]> {
  const { intent, pool } = c;
  const specHash = intent.specHash ?? '';
  let machines: Machine[];
  try {
    machines = await c.provider.createMachines(
      {
        spec: intent.spec as MachineSpec,
        count: intent.count ?? 1,
        idempotencyKey: intent.key,
        dc: c.dc,
        pool,
        labels: { [TAG_SPEC]: specHash },
      },
      { ...(c.signal ? { signal: c.signal } : {}), wait: false },
    );
  } catch (err) {
    // The cloud refused: nothing was made under this key, so the intent is done with.
    // Otherwise it stays for a resume.
    if (isDefinitive(err)) await c.store.commit([{ op: 'intent.remove', id: intent.id }]);
    throw err;
  }
  // Ids come from a short hash of the key: two keys can meet. Recording over another
  // machine would lose it from state (and prune would then delete it as an orphan).
  const known = new Map((await c.store.read()).machines.map((r) => [r.id, r]));
  for (const m of machines) {
    const other = known.get(m.id);
    if (
      other === undefined ||
      (other.provider === intent.provider && other.providerId === m.providerId)
    )
      continue;
    await c.store.commit([{ op: 'intent.remove', id: intent.id }]);
    throw new Conflict(
      `machine id ${m.id} of key ${intent.key} (${m.providerId} on ${intent.provider}) is already the id of ${other.providerId} on ${other.provider} (key ${other.key}); nothing was recorded over it, and the new machine is an orphan (kumo apply --prune deletes it; the next apply makes the pool's machines under a new key)`,
      { provider: intent.provider },
    );
  }
  const records: MachineRecord[] = machines.map((m) => ({
    id: m.id,
    pool,
    provider: intent.provider,
    providerId: m.providerId,
    key: intent.key,
    specHash,
    status: 'present',
    machine: m,
    adopted: false,
    updatedAt: c.now,
  }));
  await c.store.commit([
    ...records.map((record): Mutation => ({ op: 'machine.put', record })),
    { op: 'intent.remove', id: intent.id },
  ]);
  return records;
}
