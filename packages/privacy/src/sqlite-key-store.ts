import { chmodSync, closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { StoreError } from "@sealtrail/core";
import Database from "better-sqlite3";
import { type DataKey, type KeyScope, newDataKey, type SubjectKeyStore, scopeName } from "./key-store.js";

export interface SqliteKeyStoreOptions {
  /** Its own file (the server uses `<data>/keys.db`), never the log database; created 0600. */
  readonly path: string;
  /** Open an existing key store for reading only (the CLI reading a data directory). */
  readonly readonly?: boolean;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS subject_keys (
  kid TEXT PRIMARY KEY,
  log TEXT NOT NULL,
  subject TEXT NOT NULL,
  key BLOB NOT NULL CHECK (length(key) = 32),
  created_at TEXT NOT NULL,
  UNIQUE (log, subject)
);
CREATE TABLE IF NOT EXISTS erasures (
  kid TEXT PRIMARY KEY,
  log TEXT NOT NULL,
  subject TEXT NOT NULL,
  erased_at TEXT NOT NULL
);
`;

/**
 * Data keys in a SQLite file of their own. Erasing must leave no copy of a key in this file:
 * `secure_delete` overwrites freed content with zeros, and a TRUNCATE checkpoint after each
 * erasure copies the zeroed pages into the database file and empties the WAL (sqlite.org/pragma.html
 * #pragma_secure_delete). Copies outside this file (backups, the file system's freed blocks) are
 * out of its reach: docs/personal-data.md, threat model.
 */
export function createSqliteKeyStore(options: SqliteKeyStoreOptions): SubjectKeyStore {
  const db = options.readonly ? openReadonly(options.path) : openForWriting(options.path);
  const stmt = {
    byScope: db.prepare<[string, string], { kid: string; key: Buffer }>("SELECT kid, key FROM subject_keys WHERE log = ? AND subject = ?"),
    byId: db.prepare<[string], { kid: string; key: Buffer }>("SELECT kid, key FROM subject_keys WHERE kid = ?"),
    insert: options.readonly
      ? undefined
      : db.prepare<[string, string, string, Buffer, string]>(
          "INSERT INTO subject_keys (kid, log, subject, key, created_at) VALUES (?, ?, ?, ?, ?)",
        ),
    ofSubject: db.prepare<[string], { kid: string; log: string }>("SELECT kid, log FROM subject_keys WHERE subject = ?"),
  };
  const toKey = (row: { kid: string; key: Buffer }): DataKey => ({ kid: row.kid, key: new Uint8Array(row.key) });

  // Every missing key of the queued calls in one transaction: one fsync however many subjects.
  const createAll = db.transaction((scopes: readonly KeyScope[]): Map<string, DataKey> => {
    const created = new Map<string, DataKey>();
    for (const scope of scopes) {
      const name = scopeName(scope);
      if (created.has(name)) continue;
      const existing = stmt.byScope.get(scope.log, scope.subject);
      if (existing) {
        created.set(name, toKey(existing));
        continue;
      }
      const { kid, key } = newDataKey();
      stmt.insert?.run(kid, scope.log, scope.subject, key, new Date().toISOString());
      created.set(name, { kid, key: new Uint8Array(key) });
    }
    return created;
  });
  /**
   * Calls that need new keys wait for the next turn of the event loop, so concurrent requests (each
   * with subjects of its own) share one durable commit, as the engine's group commit does for
   * entries. A synchronous fsync per subject blocked the event loop for most of an ingest's time.
   */
  let queued: { scopes: KeyScope[]; settle: (created: Map<string, DataKey> | Error) => void }[] = [];
  const createQueued = () => {
    const calls = queued;
    queued = [];
    let created: Map<string, DataKey> | Error;
    try {
      created = createAll.immediate(calls.flatMap((call) => call.scopes));
    } catch (cause) {
      created = new StoreError("key_store_failed", `key store: keysFor failed: ${(cause as Error).message}`, { cause });
    }
    for (const call of calls) call.settle(created);
  };
  const create = (scopes: KeyScope[]): Promise<Map<string, DataKey>> =>
    new Promise((resolve, reject) => {
      if (queued.length === 0) setImmediate(createQueued);
      queued.push({ scopes, settle: (created) => (created instanceof Error ? reject(created) : resolve(created)) });
    });
  const erase = db.transaction((subject: string, log: string | undefined, at: string): string[] => {
    const rows = stmt.ofSubject.all(subject).filter((r) => log === undefined || r.log === log);
    for (const row of rows) {
      db.prepare("DELETE FROM subject_keys WHERE kid = ?").run(row.kid);
      db.prepare("INSERT OR IGNORE INTO erasures (kid, log, subject, erased_at) VALUES (?, ?, ?, ?)").run(row.kid, row.log, subject, at);
    }
    return rows.map((r) => r.kid);
  });

  const guard = <T>(what: string, fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (cause) {
      return Promise.reject(new StoreError("key_store_failed", `key store: ${what} failed: ${(cause as Error).message}`, { cause }));
    }
  };

  let closed = false;
  return Object.freeze({
    description: `sqlite-keys:${options.path}`,
    keysFor: async (scopes: readonly KeyScope[]) => {
      const found = await guard("keysFor", () => scopes.map((scope) => stmt.byScope.get(scope.log, scope.subject)));
      const missing = scopes.filter((_, i) => !found[i]);
      if (missing.length > 0 && options.readonly)
        throw new StoreError("key_store_failed", "key store: keysFor failed: the key store is open read-only");
      const created = missing.length > 0 ? await create(missing) : undefined;
      return scopes.map((scope, i) => {
        const row = found[i];
        return row ? toKey(row) : (created?.get(scopeName(scope)) as DataKey);
      });
    },
    keyById: (kid: string) =>
      guard("keyById", () => {
        const row = stmt.byId.get(kid);
        return row ? toKey(row) : undefined;
      }),
    erase: (subject: string, opts: { log?: string; at: string }) =>
      guard("erase", () => {
        if (options.readonly) throw new Error("the key store is open read-only");
        const kids = erase.immediate(subject, opts.log, opts.at);
        // The zeroed pages go into the database file and the WAL is emptied: no old page image stays.
        db.pragma("wal_checkpoint(TRUNCATE)");
        return kids;
      }),
    close: async () => {
      if (closed) return;
      closed = true;
      if (queued.length > 0) createQueued();
      db.close();
    },
  });
}

function openForWriting(path: string): Database.Database {
  if (path !== ":memory:") {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Created 0600 before SQLite opens it; SQLite gives the WAL and shm files the same mode.
    closeSync(openSync(path, "a", 0o600));
    chmodSync(path, 0o600);
  }
  const db = new Database(path);
  db.pragma("secure_delete = ON");
  db.pragma("journal_mode = WAL");
  // A key must be durable before any leaf encrypted under it is acknowledged.
  db.pragma("synchronous = FULL");
  db.pragma("busy_timeout = 5000");
  db.exec(SCHEMA);
  return db;
}

function openReadonly(path: string): Database.Database {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma("busy_timeout = 5000");
    return db;
  } catch (cause) {
    throw new StoreError("key_store_failed", `key store: cannot open ${path} for reading: ${(cause as Error).message}`, { cause });
  }
}
