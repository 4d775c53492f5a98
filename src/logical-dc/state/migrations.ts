/**
 * The SQLite state schema, versioned by `PRAGMA user_version`. Each migration moves the
 * schema one version up inside one transaction; a state file made by a newer kumo is
 * refused rather than guessed at.
 */
import type { Database } from 'better-sqlite3';

export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'meta, machines, networks, specs and the intent journal',
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE machines (
        id TEXT PRIMARY KEY,
        pool TEXT NOT NULL,
        provider TEXT NOT NULL,
        provider_id TEXT NOT NULL,
        key TEXT NOT NULL,
        spec_hash TEXT NOT NULL,
        status TEXT NOT NULL,
        observed TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX machines_pool ON machines (pool);
      CREATE TABLE networks (
        provider TEXT NOT NULL,
        name TEXT NOT NULL,
        spec_hash TEXT NOT NULL,
        status TEXT NOT NULL,
        observed TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (provider, name)
      );
      CREATE TABLE specs (hash TEXT PRIMARY KEY, spec TEXT NOT NULL);
      CREATE TABLE intents (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, body TEXT NOT NULL);
    `,
  },
  {
    version: 2,
    description: 'the apply lock with its holder; machines adopted from orphans',
    sql: `
      CREATE TABLE lock (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        token TEXT NOT NULL,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        command TEXT NOT NULL,
        since TEXT NOT NULL
      );
      ALTER TABLE machines ADD COLUMN adopted INTEGER NOT NULL DEFAULT 0;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Moves `db` up to `target` (default: the latest). Returns the versions applied.
 * @throws Error when the file's version is newer than this kumo knows.
 */
export function migrate(db: Database, target = SCHEMA_VERSION): number[] {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION)
    throw new Error(
      `schema version ${current} is newer than this kumo knows (${SCHEMA_VERSION}); upgrade kumo`,
    );
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (m.version <= current || m.version > target) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
    applied.push(m.version);
  }
  return applied;
}
