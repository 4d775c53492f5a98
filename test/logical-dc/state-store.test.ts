import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isKumoError } from '../../src/core/index.js';
import {
  memoryStore,
  migrate,
  MIGRATIONS,
  SCHEMA_VERSION,
  sqliteStore,
  type MachineRecord,
  type StateStore,
} from '../../src/logical-dc/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kumo-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const record: MachineRecord = {
  id: 'web-1',
  pool: 'web',
  provider: 'sim',
  providerId: 'sim-1',
  key: 'web:k',
  specHash: 'h',
  status: 'present',
  adopted: false,
  updatedAt: '2024-01-01T00:00:00.000Z',
  machine: {
    id: 'web-1',
    providerId: 'sim-1',
    provider: 'sim',
    region: 'r',
    zone: 'z',
    size: 's',
    resources: { cpus: 1, memoryMiB: 512, gpus: 0, diskGiB: 0 },
    image: 'i',
    state: 'running',
    spot: false,
    addresses: [],
    labels: {},
    createdAt: '2024-01-01T00:00:00.000Z',
  },
};

function holder(command: string, pid = process.pid) {
  return { pid, host: hostname(), command, since: '2024-01-01T00:00:00.000Z' };
}

/** A pid that surely does not exist: a child that has already exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid;
}

describe.each([
  ['sqlite', () => sqliteStore(join(dir, '.kumo', 'state.db'))],
  ['memory', () => memoryStore()],
] as const)('%s state store', (_name, make: () => StateStore) => {
  it('commits mutations atomically and bumps the serial each time', async () => {
    const store = make();
    await store.open('dc');
    expect(await store.serial()).toBe(0);
    const s1 = await store.commit([
      { op: 'machine.put', record },
      {
        op: 'intent.put',
        intent: {
          id: 'create:k',
          kind: 'create',
          provider: 'sim',
          key: 'k',
          count: 1,
          createdAt: '',
        },
      },
      { op: 'spec.put', hash: 'h', spec: { image: 'i' } },
    ]);
    const s2 = await store.commit([{ op: 'intent.remove', id: 'create:k' }]);
    expect([s1, s2]).toEqual([1, 2]);
    const snap = await store.read();
    expect(snap).toMatchObject({
      dc: 'dc',
      serial: 2,
      machines: [record],
      intents: [],
      specs: { h: { image: 'i' } },
    });
    expect(snap.lineage).toMatch(/[0-9a-f-]{36}/);
    await store.close();
  });

  it('refuses state that belongs to another datacenter', async () => {
    const store = make();
    await store.open('one');
    await expect(store.open('two')).rejects.toThrow(/belongs to datacenter "one"/);
    await store.close();
  });

  it('lets one holder lock at a time and names the holder to the other', async () => {
    const store = make();
    await store.open('dc');
    const lock = await store.lock(holder('kumo apply'));
    const err: unknown = await store.lock(holder('kumo destroy')).catch((e: unknown) => e);
    expect(isKumoError(err) && err.code).toBe('Conflict');
    expect((err as Error).message).toContain(
      `locked by pid ${process.pid} on host ${hostname()} (kumo apply, since 2024-01-01T00:00:00.000Z)`,
    );
    await lock.release();
    const again = await store.lock(holder('kumo destroy'));
    expect(await store.lockHolder()).toMatchObject({ command: 'kumo destroy' });
    await again.release();
    expect(await store.lockHolder()).toBeUndefined();
    await store.close();
  });

  it('waits for the lock when given a timeout', async () => {
    const store = make();
    await store.open('dc');
    const first = await store.lock(holder('first'));
    const waited: string[] = [];
    setTimeout(() => void first.release(), 150);
    const second = await store.lock(holder('second'), {
      timeoutMs: 5000,
      onWait: (h) => waited.push(h.command),
    });
    expect(waited).toEqual(['first']);
    await second.release();
    await store.close();
  });

  it('removes the lock on request, only while the holder is the one expected', async () => {
    const store = make();
    await store.open('dc');
    const elsewhere = {
      pid: 7,
      host: 'runner-gone',
      command: 'kumo apply',
      since: '2024-01-01T00:00:00.000Z',
    };
    await store.lock(elsewhere);
    expect(
      await store.breakLock({ ...elsewhere, since: '2025-01-01T00:00:00.000Z' }),
    ).toBeUndefined();
    expect(await store.lockHolder()).toEqual(elsewhere);
    expect(await store.breakLock(elsewhere)).toEqual(elsewhere);
    expect(await store.lockHolder()).toBeUndefined();
    expect(await store.breakLock()).toBeUndefined();
    await (await store.lock(holder('kumo apply'))).release();
    await store.close();
  });

  it('stops waiting for the lock when its signal aborts', async () => {
    const store = make();
    await store.open('dc');
    const first = await store.lock(holder('first'));
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stop')), 50);
    const started = Date.now();
    await expect(
      store.lock(holder('second'), { timeoutMs: 60_000, signal: controller.signal }),
    ).rejects.toThrow('stop');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await store.lockHolder()).toMatchObject({ command: 'first' });
    await first.release();
    await store.close();
  });

  it('breaks the lock of a holder that died on this host', async () => {
    const store = make();
    await store.open('dc');
    const dead = deadPid();
    await store.lock(holder('crashed apply', dead));
    const lock = await store.lock(holder('kumo apply'));
    expect(lock.broke).toMatchObject({ pid: dead, command: 'crashed apply' });
    await lock.release();
    await store.close();
  });
});

describe('sqlite state store', () => {
  it('keeps its file at mode 0600 in a 0700 directory, in WAL mode', async () => {
    const path = join(dir, '.kumo', 'state.db');
    const store = sqliteStore(path);
    await store.open('dc');
    await store.commit([{ op: 'machine.put', record }]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, '.kumo')).mode & 0o777).toBe(0o700);
    expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
    await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('is seen by another connection (another process) as soon as committed', async () => {
    const path = join(dir, 'state.db');
    const a = sqliteStore(path);
    const b = sqliteStore(path);
    await a.open('dc');
    await b.open('dc');
    await a.commit([{ op: 'machine.put', record }]);
    expect((await b.read()).machines.map((m) => m.id)).toEqual(['web-1']);
    const lock = await a.lock(holder('a'));
    await expect(b.lock(holder('b'))).rejects.toThrow(/locked by pid/);
    await lock.release();
    await a.close();
    await b.close();
  });

  it('migrates a version 1 file to the current schema, keeping its data', async () => {
    const path = join(dir, 'v1.db');
    const db = new Database(path);
    expect(migrate(db, 1)).toEqual([1]);
    db.prepare(
      `INSERT INTO meta (key, value) VALUES ('dc', 'old'), ('lineage', 'L1'), ('serial', '5')`,
    ).run();
    db.prepare(
      `INSERT INTO machines (id, pool, provider, provider_id, key, spec_hash, status, observed, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      record.id,
      record.pool,
      record.provider,
      record.providerId,
      record.key,
      record.specHash,
      record.status,
      JSON.stringify(record.machine),
      record.updatedAt,
    );
    db.close();
    const store = sqliteStore(path);
    await store.open('old');
    const snap = await store.read();
    expect(snap).toMatchObject({ dc: 'old', lineage: 'L1', serial: 5 });
    expect(snap.machines).toEqual([{ ...record, adopted: false }]);
    // Version 2 brought the lock table: locking works on the migrated file.
    const lock = await store.lock(holder('kumo apply'));
    await lock.release();
    await store.close();
    const after = new Database(path, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)!.version);
    after.close();
  });

  it('refuses a file made by a newer kumo', async () => {
    const path = join(dir, 'future.db');
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const err: unknown = await sqliteStore(path)
      .open('dc')
      .catch((e: unknown) => e);
    expect(isKumoError(err) && err.code).toBe('Conflict');
    expect((err as Error).message).toContain('newer than this kumo knows');
  });

  it('applies migrations in order, each once', () => {
    const db = new Database(':memory:');
    expect(migrate(db)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(migrate(db)).toEqual([]);
    db.close();
  });
});
