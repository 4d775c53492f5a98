/**
 * What the logical datacenter remembers between runs, behind one interface: SQLite by
 * default (`sqliteStore`), in memory for tests (`memoryStore`), etcd later for several
 * controllers. State holds machines, networks, the specs they were made from and the
 * journal of intents; never credentials (providers are not stored at all).
 *
 * Every change is a list of {@link Mutation}s committed atomically, which bumps the
 * state's `serial`; a saved plan remembers the serial it was made against.
 */
import type { Machine, Network } from '../../core/index.js';

/** kumo's view of a machine: `deleting` once a delete was decided, `lost` once the cloud no longer has it. */
export type MachineStatus = 'present' | 'deleting' | 'lost';

export interface MachineRecord {
  /** kumo's machine id (`Machine.id`), unique in the datacenter. */
  readonly id: string;
  readonly pool: string;
  readonly provider: string;
  readonly providerId: string;
  /** Idempotency key of the create that made it (its `kumo-key` tag). */
  readonly key: string;
  /** Hash of the machine spec it was made from; differs from the pool's → replace. */
  readonly specHash: string;
  readonly status: MachineStatus;
  /** The machine as last observed on its provider. */
  readonly machine: Machine;
  /** Taken into state by `adopt` rather than made by this state's applies. */
  readonly adopted: boolean;
  /** ISO 8601. */
  readonly updatedAt: string;
}

export interface NetworkRecord {
  readonly provider: string;
  readonly name: string;
  readonly specHash: string;
  readonly status: 'present' | 'deleting';
  readonly network: Network;
  readonly updatedAt: string;
}

export type IntentKind = 'create' | 'delete' | 'ensure-network' | 'delete-network';

/**
 * A cloud call decided and journaled before it is made. A crash leaves it in the
 * journal, and the next apply makes the same call again: creates with the same
 * idempotency key (provider rule 1), deletes by the same ids (rule 2).
 */
export interface Intent {
  /** Unique: `<kind>:<key>`. */
  readonly id: string;
  readonly kind: IntentKind;
  readonly provider: string;
  /** Idempotency key (creates) or a unique key of the decision (others). */
  readonly key: string;
  readonly pool?: string;
  /** Creates: how many machines, from which spec. */
  readonly count?: number;
  readonly specHash?: string;
  /** Creates: the machine spec sent; network intents: the network spec. */
  readonly spec?: unknown;
  /** Deletes: the machines. */
  readonly machineIds?: readonly string[];
  readonly providerIds?: readonly string[];
  /** Network intents: the network's name. */
  readonly network?: string;
  readonly createdAt: string;
}

export interface StateSnapshot {
  readonly dc: string;
  /** Random id made with the state; a plan from another state is refused. */
  readonly lineage: string;
  /** Bumped by every commit. */
  readonly serial: number;
  readonly machines: readonly MachineRecord[];
  readonly networks: readonly NetworkRecord[];
  readonly intents: readonly Intent[];
  /** Specs by hash, for showing what changed. */
  readonly specs: Readonly<Record<string, unknown>>;
}

export type Mutation =
  | { readonly op: 'machine.put'; readonly record: MachineRecord }
  | { readonly op: 'machine.remove'; readonly id: string }
  | { readonly op: 'network.put'; readonly record: NetworkRecord }
  | { readonly op: 'network.remove'; readonly provider: string; readonly name: string }
  | { readonly op: 'intent.put'; readonly intent: Intent }
  | { readonly op: 'intent.remove'; readonly id: string }
  | { readonly op: 'spec.put'; readonly hash: string; readonly spec: unknown };

/** Who holds the apply lock, named in the error another run sees. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** What it is doing: `kumo apply`, `sdk apply`, … */
  readonly command: string;
  /** ISO 8601. */
  readonly since: string;
}

export interface LockOptions {
  /** Wait up to this long for another holder to finish. Default 0: fail at once. */
  readonly timeoutMs?: number;
  /** Told once when the lock is held by someone else and we wait. */
  readonly onWait?: (holder: LockHolder) => void;
  /** Stops the wait: the lock is not taken and the signal's reason is thrown. */
  readonly signal?: AbortSignal;
}

export interface LockHandle {
  /** The dead holder whose lock was broken to take it, if one was. */
  readonly broke?: LockHolder;
  release(): Promise<void>;
}

/**
 * The state store contract. Implementations: {@link sqliteStore}, {@link memoryStore}.
 *
 * @example
 * ```ts
 * const store = sqliteStore('.kumo/state.db');
 * await store.open('hybrid-1');
 * const lock = await store.lock({ pid: process.pid, host: hostname(), command: 'my tool', since: new Date().toISOString() });
 * try { await store.commit([{ op: 'spec.put', hash: 'abc', spec: {} }]); } finally { await lock.release(); }
 * ```
 */
export interface StateStore {
  /** Where the state lives, for messages (`.kumo/state.db`, `memory`). */
  readonly location: string;
  /**
   * Creates or migrates the state for datacenter `dc`.
   * @throws Conflict when the state belongs to another datacenter or a newer kumo.
   */
  open(dc: string): Promise<void>;
  read(): Promise<StateSnapshot>;
  serial(): Promise<number>;
  /** Applies mutations atomically and returns the new serial. */
  commit(mutations: readonly Mutation[]): Promise<number>;
  /**
   * Takes the exclusive apply lock. A holder that died on this host is detected and
   * its lock broken.
   * @throws Conflict naming the holder when it is held and `timeoutMs` ran out.
   */
  lock(holder: LockHolder, options?: LockOptions): Promise<LockHandle>;
  /** Who holds the lock now, if anyone. */
  lockHolder(): Promise<LockHolder | undefined>;
  /**
   * Removes the lock whoever holds it — for a holder that is gone but cannot be seen to
   * be (it ran on another host: a CI runner or container that died). With `expected`,
   * only when that is still the holder (same pid, host and start), so a lock taken
   * meanwhile by a live run is left alone. Returns the holder removed, if any.
   */
  breakLock(expected?: LockHolder): Promise<LockHolder | undefined>;
  close(): Promise<void>;
}
