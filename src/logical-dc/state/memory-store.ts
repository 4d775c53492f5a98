import { randomUUID } from 'node:crypto';
import { Conflict } from '../../core/index.js';
import { acquireWithWait, holderAlive, sameHolder } from './lock.js';
import type {
  Intent,
  LockHandle,
  LockHolder,
  LockOptions,
  MachineRecord,
  Mutation,
  NetworkRecord,
  StateSnapshot,
  StateStore,
} from './state-store.js';

/**
 * A state store in memory: for tests and short-lived SDK use. Same contract as
 * {@link sqliteStore}, lost when the process ends.
 *
 * @example
 * ```ts
 * const dc = new LogicalDatacenter({ name: 'test', store: memoryStore(), providers: { sim: sim() } });
 * ```
 */
export function memoryStore(options: { location?: string } = {}): StateStore {
  return new MemoryStore(options.location ?? 'memory');
}

class MemoryStore implements StateStore {
  constructor(readonly location: string) {}
  #dc: string | undefined;
  readonly #lineage = randomUUID();
  #serial = 0;
  readonly #machines = new Map<string, MachineRecord>();
  readonly #networks = new Map<string, NetworkRecord>();
  readonly #intents = new Map<string, Intent>();
  readonly #specs = new Map<string, unknown>();
  #lock: { holder: LockHolder; token: string } | undefined;

  open(dc: string): Promise<void> {
    if (this.#dc !== undefined && this.#dc !== dc)
      return Promise.reject(
        new Conflict(`state ${this.location} belongs to datacenter "${this.#dc}", not "${dc}"`),
      );
    this.#dc = dc;
    return Promise.resolve();
  }

  read(): Promise<StateSnapshot> {
    // NOTE: records are stored as clones made at commit and never changed in place
    // (every change replaces a record), so a snapshot can share them: no copy per read.
    return Promise.resolve({
      dc: this.#dc ?? '',
      lineage: this.#lineage,
      serial: this.#serial,
      machines: [...this.#machines.values()],
      networks: [...this.#networks.values()],
      intents: [...this.#intents.values()],
      specs: Object.fromEntries(this.#specs),
    });
  }

  serial(): Promise<number> {
    return Promise.resolve(this.#serial);
  }

  commit(mutations: readonly Mutation[]): Promise<number> {
    for (const m of structuredClone(mutations)) {
      switch (m.op) {
        case 'machine.put':
          this.#machines.set(m.record.id, m.record);
          break;
        case 'machine.remove':
          this.#machines.delete(m.id);
          break;
        case 'network.put':
          this.#networks.set(`${m.record.provider}/${m.record.name}`, m.record);
          break;
        case 'network.remove':
          this.#networks.delete(`${m.provider}/${m.name}`);
          break;
        case 'intent.put':
          this.#intents.set(m.intent.id, m.intent);
          break;
        case 'intent.remove':
          this.#intents.delete(m.id);
          break;
        case 'spec.put':
          this.#specs.set(m.hash, m.spec);
          break;
      }
    }
    return Promise.resolve(++this.#serial);
  }

  lock(holder: LockHolder, options?: LockOptions): Promise<LockHandle> {
    const token = randomUUID();
    return acquireWithWait(
      this.location,
      () => {
        const current = this.#lock;
        if (current !== undefined && holderAlive(current.holder) && current.token !== token)
          return { taken: false, holder: current.holder };
        this.#lock = { holder, token };
        return current === undefined ? { taken: true } : { taken: true, broke: current.holder };
      },
      () => {
        if (this.#lock?.token === token) this.#lock = undefined;
      },
      options,
    );
  }

  breakLock(expected?: LockHolder): Promise<LockHolder | undefined> {
    const current = this.#lock?.holder;
    if (current === undefined || (expected !== undefined && !sameHolder(current, expected)))
      return Promise.resolve(undefined);
    this.#lock = undefined;
    return Promise.resolve(current);
  }

  lockHolder(): Promise<LockHolder | undefined> {
    return Promise.resolve(this.#lock?.holder);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
