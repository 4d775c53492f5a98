import { randomUUID } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Conflict, ProviderError } from '../../core/index.js';
import { acquireWithWait, holderAlive, sameHolder } from './lock.js';
import { migrate } from './migrations.js';
import type {
  Intent,
  LockHandle,
  LockHolder,
  LockOptions,
  MachineRecord,
  MachineStatus,
  Mutation,
  NetworkRecord,
  StateSnapshot,
  StateStore,
} from './state-store.js';

export interface SqliteStoreOptions {
  /** Milliseconds a writer waits for another process's transaction. Default 10000. */
  readonly busyTimeoutMs?: number;
}

/**
 * The default state store: one SQLite file (WAL, mode 0600, in a 0700 directory),
 * schema versioned with migrations, an exclusive apply lock that names its holder.
 *
 * @example
 * ```ts
 * const dc = new LogicalDatacenter({ name: 'hybrid-1', store: sqliteStore('.kumo/state.db'), providers: { onprem: sim() } });
 * ```
 */
export function sqliteStore(path: string, options: SqliteStoreOptions = {}): StateStore {
  return new SqliteStore(resolve(path), options);
}

interface MachineRow {
  id: string;
  pool: string;
  provider: string;
  provider_id: string;
  key: string;
  spec_hash: string;
  status: string;
  observed: string;
  updated_at: string;
  adopted: number;
}

interface NetworkRow {
  provider: string;
  name: string;
  spec_hash: string;
  status: string;
  observed: string;
  updated_at: string;
}

interface LockRow {
  token: string;
  pid: number;
  host: string;
  command: string;
  since: string;
}

class SqliteStore implements StateStore {
  readonly location: string;
  readonly #options: SqliteStoreOptions;
  #db: Database.Database | undefined;

  constructor(path: string, options: SqliteStoreOptions) {
    this.location = path;
    this.#options = options;
  }

  open(dc: string): Promise<void> {
    try {
      const db = this.#connect();
      const existing = db
        .prepare<[], { value: string }>(`SELECT value FROM meta WHERE key = 'dc'`)
        .get();
      if (existing !== undefined && existing.value !== dc)
        throw new Conflict(
          `state ${this.location} belongs to datacenter "${existing.value}", not "${dc}"; use another state path`,
        );
      if (existing === undefined) {
        const put = db.prepare(`INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)`);
        db.transaction(() => {
          put.run('dc', dc);
          put.run('lineage', randomUUID());
          put.run('serial', '0');
          put.run('createdAt', new Date().toISOString());
        }).immediate();
      }
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(this.#wrap(err));
    }
  }

  read(): Promise<StateSnapshot> {
    const db = this.#connect();
    const snapshot = db
      .transaction((): StateSnapshot => {
        const meta = new Map(
          db
            .prepare<[], { key: string; value: string }>(`SELECT key, value FROM meta`)
            .all()
            .map((r) => [r.key, r.value]),
        );
        const machines = db
          .prepare<[], MachineRow>(`SELECT * FROM machines ORDER BY pool, id`)
          .all()
          .map(toMachineRecord);
        const networks = db
          .prepare<[], NetworkRow>(`SELECT * FROM networks ORDER BY provider, name`)
          .all()
          .map(toNetworkRecord);
        const intents = db
          .prepare<[], { body: string }>(`SELECT body FROM intents ORDER BY seq`)
          .all()
          .map((r) => JSON.parse(r.body) as Intent);
        const specs = Object.fromEntries(
          db
            .prepare<[], { hash: string; spec: string }>(`SELECT hash, spec FROM specs`)
            .all()
            .map((r) => [r.hash, JSON.parse(r.spec) as unknown]),
        );
        return {
          dc: meta.get('dc') ?? '',
          lineage: meta.get('lineage') ?? '',
          serial: Number(meta.get('serial') ?? 0),
          machines,
          networks,
          intents,
          specs,
        };
      })
      .deferred();
    return Promise.resolve(snapshot);
  }

  serial(): Promise<number> {
    const row = this.#connect()
      .prepare<[], { value: string }>(`SELECT value FROM meta WHERE key = 'serial'`)
      .get();
    return Promise.resolve(Number(row?.value ?? 0));
  }

  commit(mutations: readonly Mutation[]): Promise<number> {
    const db = this.#connect();
    const putMachine = db.prepare(
      `INSERT OR REPLACE INTO machines (id, pool, provider, provider_id, key, spec_hash, status, observed, updated_at, adopted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const removeMachine = db.prepare(`DELETE FROM machines WHERE id = ?`);
    const putNetwork = db.prepare(
      `INSERT OR REPLACE INTO networks (provider, name, spec_hash, status, observed, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    const removeNetwork = db.prepare(`DELETE FROM networks WHERE provider = ? AND name = ?`);
    const putIntent = db.prepare(
      `INSERT OR REPLACE INTO intents (id, seq, body) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM intents), ?)`,
    );
    const removeIntent = db.prepare(`DELETE FROM intents WHERE id = ?`);
    const putSpec = db.prepare(`INSERT OR IGNORE INTO specs (hash, spec) VALUES (?, ?)`);
    const bump = db.prepare<[], { value: string }>(
      `UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'serial' RETURNING value`,
    );
    try {
      const serial = db
        .transaction(() => {
          for (const m of mutations) {
            switch (m.op) {
              case 'machine.put': {
                const r = m.record;
                putMachine.run(
                  r.id,
                  r.pool,
                  r.provider,
                  r.providerId,
                  r.key,
                  r.specHash,
                  r.status,
                  JSON.stringify(r.machine),
                  r.updatedAt,
                  r.adopted ? 1 : 0,
                );
                break;
              }
              case 'machine.remove':
                removeMachine.run(m.id);
                break;
              case 'network.put': {
                const r = m.record;
                putNetwork.run(
                  r.provider,
                  r.name,
                  r.specHash,
                  r.status,
                  JSON.stringify(r.network),
                  r.updatedAt,
                );
                break;
              }
              case 'network.remove':
                removeNetwork.run(m.provider, m.name);
                break;
              case 'intent.put':
                putIntent.run(m.intent.id, JSON.stringify(m.intent));
                break;
              case 'intent.remove':
                removeIntent.run(m.id);
                break;
              case 'spec.put':
                putSpec.run(m.hash, JSON.stringify(m.spec));
                break;
            }
          }
          return Number(bump.get()?.value ?? 0);
        })
        .immediate();
      return Promise.resolve(serial);
    } catch (err) {
      return Promise.reject(this.#wrap(err));
    }
  }

  lock(holder: LockHolder, options?: LockOptions): Promise<LockHandle> {
    const db = this.#connect();
    const token = randomUUID();
    const take = db.transaction(
      (): { taken: true; broke?: LockHolder } | { taken: false; holder: LockHolder } => {
        const row = db
          .prepare<[], LockRow>(`SELECT token, pid, host, command, since FROM lock WHERE id = 1`)
          .get();
        const current =
          row === undefined
            ? undefined
            : { pid: row.pid, host: row.host, command: row.command, since: row.since };
        if (current !== undefined && holderAlive(current)) return { taken: false, holder: current };
        db.prepare(
          `INSERT OR REPLACE INTO lock (id, token, pid, host, command, since) VALUES (1, ?, ?, ?, ?, ?)`,
        ).run(token, holder.pid, holder.host, holder.command, holder.since);
        return current === undefined ? { taken: true } : { taken: true, broke: current };
      },
    );
    return acquireWithWait(
      this.location,
      () => take.immediate(),
      () => {
        if (this.#db !== undefined)
          this.#db.prepare(`DELETE FROM lock WHERE id = 1 AND token = ?`).run(token);
      },
      options,
    );
  }

  breakLock(expected?: LockHolder): Promise<LockHolder | undefined> {
    const db = this.#connect();
    const take = db.transaction((): LockHolder | undefined => {
      const row = db
        .prepare<[], LockRow>(`SELECT token, pid, host, command, since FROM lock WHERE id = 1`)
        .get();
      if (row === undefined) return undefined;
      const holder = { pid: row.pid, host: row.host, command: row.command, since: row.since };
      if (expected !== undefined && !sameHolder(holder, expected)) return undefined;
      db.prepare(`DELETE FROM lock WHERE id = 1 AND token = ?`).run(row.token);
      return holder;
    });
    return Promise.resolve(take.immediate());
  }

  lockHolder(): Promise<LockHolder | undefined> {
    const row = this.#connect()
      .prepare<[], LockRow>(`SELECT token, pid, host, command, since FROM lock WHERE id = 1`)
      .get();
    return Promise.resolve(
      row === undefined
        ? undefined
        : { pid: row.pid, host: row.host, command: row.command, since: row.since },
    );
  }

  close(): Promise<void> {
    this.#db?.close();
    this.#db = undefined;
    return Promise.resolve();
  }

  #connect(): Database.Database {
    if (this.#db !== undefined) return this.#db;
    const dir = dirname(this.location);
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Made 0600 before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
    if (!existsSync(this.location)) closeSync(openSync(this.location, 'a', 0o600));
    chmodSync(this.location, 0o600);
    const db = new Database(this.location);
    try {
      db.pragma('journal_mode = WAL');
      // FULL: a commit is on disk before the cloud call it journals is made.
      db.pragma('synchronous = FULL');
      db.pragma(`busy_timeout = ${this.#options.busyTimeoutMs ?? 10_000}`);
      migrate(db);
    } catch (err) {
      db.close();
      throw this.#wrap(err);
    }
    this.#db = db;
    return db;
  }

  #wrap(err: unknown): Error {
    if (err instanceof Conflict || err instanceof ProviderError) return err;
    const message = err instanceof Error ? err.message : String(err);
    if (/newer than this kumo/.test(message))
      return new Conflict(`state ${this.location}: ${message}`);
    return new ProviderError(`state ${this.location}: ${message}`, {
      provider: 'state',
      cause: err,
    });
  }
}

function toMachineRecord(row: MachineRow): MachineRecord {
  return {
    id: row.id,
    pool: row.pool,
    provider: row.provider,
    providerId: row.provider_id,
    key: row.key,
    specHash: row.spec_hash,
    status: row.status as MachineStatus,
    machine: JSON.parse(row.observed) as MachineRecord['machine'],
    adopted: row.adopted === 1,
    updatedAt: row.updated_at,
  };
}

function toNetworkRecord(row: NetworkRow): NetworkRecord {
  return {
    provider: row.provider,
    name: row.name,
    specHash: row.spec_hash,
    status: row.status as NetworkRecord['status'],
    network: JSON.parse(row.observed) as NetworkRecord['network'],
    updatedAt: row.updated_at,
  };
}
