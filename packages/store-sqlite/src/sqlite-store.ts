import { chmodSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { assertLogName, SealtrailError, StoreError } from "@sealtrail/core";
import type {
  ApiKeyRecord,
  EventQuery,
  KeyScope,
  LogAppend,
  LogStore,
  LogSummary,
  QueryableStore,
  RetentionStore,
  StoredCheckpoint,
  StoredEntry,
} from "@sealtrail/engine";
import Database from "better-sqlite3";
import { indexPathOf } from "./index-db.js";
import { openIndexService } from "./index-service.js";
import { inlineIndex, openIndexThread, type QueryIndex } from "./index-thread.js";
import { createLogSizes, ROWS_PER_LOG, rowBase } from "./log-sizes.js";
import { applyMigrations, assertMigrated } from "./migrate.js";
import { fieldsOfLeaf, type IndexBatch } from "./query-index.js";
import { createSqliteRetention } from "./retention.js";
import { MIGRATIONS } from "./schema.js";

export interface SqliteStoreOptions {
  /** Database file; `:memory:` for a throwaway store. */
  readonly path: string;
  /**
   * `full` (default) fsyncs the WAL on every commit, so an acknowledged write survives power loss;
   * `normal` survives a process crash (kill -9) but not an OS crash.
   */
  readonly durability?: "full" | "normal";
  /**
   * Open an existing database for reading only, as audits do: no file created, no permission
   * or schema change, every write refused by SQLite itself.
   */
  readonly readonly?: boolean;
  /** The query index database (default: `indexPathOf(path)`, `<name>-index.db` beside the log). */
  readonly indexPath?: string;
  /**
   * Told, before it starts, that a database of an earlier version (the log's, or the query index's
   * on its thread) is being upgraded to this version's schema: a one-time step that can take
   * minutes on a large log (a server says so rather than seem to hang).
   */
  readonly onUpgrade?: (message: string) => void;
}

interface EntryRow {
  idx: number;
  event_id: string;
  leaf: Buffer;
}

interface KeyRow {
  id: string;
  secret_hash: Buffer;
  scope: KeyScope;
  logs: string;
  label: string;
  created_at: string;
  revoked_at: string | null;
}

interface CheckpointRow {
  tree_size: number;
  root_hash: Buffer;
  note: string;
  created_at: string;
}

/** entry-reader.ts, as built or, when running from source, as written. */
const ENTRY_READER_MODULE = new URL(import.meta.url.endsWith(".ts") ? "./entry-reader.ts" : "./entry-reader.js", import.meta.url).href;

function toBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** A SQLite store: every LogStore method, queries (DESIGN §6) and retention (DESIGN §7) included. */
export type SqliteStore = LogStore &
  QueryableStore &
  RetentionStore & {
    /**
     * Commits the query index now, for readers on other connections (it commits on its own every
     * second; this store's own queries always see every acknowledged event).
     */
    flushIndex(): Promise<void>;
  };

export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const config = Object.freeze({ durability: "full" as const, ...options });
  const db = config.readonly ? openReadonly(config.path) : openForWriting(config.path, config.durability, config.onUpgrade);

  const stmt = {
    logId: db.prepare<[string], { id: number }>("SELECT id FROM logs WHERE name = ?"),
    insertLog: db.prepare<[string, string]>("INSERT INTO logs (name, created_at) VALUES (?, ?)"),
    listLogs: db.prepare<[], { id: number; name: string; created_at: string }>("SELECT id, name, created_at FROM logs ORDER BY name"),
    logByName: db.prepare<[string], { id: number; name: string; created_at: string }>(
      "SELECT id, name, created_at FROM logs WHERE name = ?",
    ),
    insertEntry: db.prepare<[bigint, number, string, Uint8Array, Uint8Array | null]>(
      "INSERT INTO entries (rowid, log_id, event_id, leaf, leaf_hash) VALUES (?, ?, ?, ?, ?)",
    ),
    insertHash: db.prepare<[number, number, number, Uint8Array]>("INSERT INTO tree_hashes (log_id, level, idx, hash) VALUES (?, ?, ?, ?)"),
    readEntries: db.prepare<[bigint, bigint, bigint], EntryRow>(
      "SELECT rowid - ? AS idx, event_id, leaf FROM entries WHERE rowid >= ? AND rowid < ? ORDER BY rowid",
    ),
    readHashes: db.prepare<[number, number, number, number], { hash: Buffer }>(
      "SELECT hash FROM tree_hashes WHERE log_id = ? AND level = ? AND idx >= ? AND idx < ? ORDER BY idx",
    ),
    // Level 0: the leaf hashes in the entries' own rows (schema.ts, LEAF_HASH_IN_ROW), and those
    // of earlier or pruned entries in tree_hashes.
    readLeafHashes: db.prepare<[number, number, number, bigint, bigint, bigint], { hash: Buffer }>(
      `SELECT hash FROM (
         SELECT idx, hash FROM tree_hashes WHERE log_id = ? AND level = 0 AND idx >= ? AND idx < ?
         UNION ALL
         SELECT rowid - ? AS idx, leaf_hash AS hash FROM entries WHERE rowid >= ? AND rowid < ? AND leaf_hash IS NOT NULL
       ) ORDER BY idx`,
    ),
    byId: db.prepare<[bigint, number, string], EntryRow>(
      "SELECT rowid - ? AS idx, event_id, leaf FROM entries WHERE log_id = ? AND event_id = ?",
    ),
    insertCheckpoint: db.prepare<[number, number, Uint8Array, string, string]>(
      "INSERT INTO checkpoints (log_id, tree_size, root_hash, note, created_at) VALUES (?, ?, ?, ?, ?)",
    ),
    latestCheckpoint: db.prepare<[number], CheckpointRow>(
      "SELECT tree_size, root_hash, note, created_at FROM checkpoints WHERE log_id = ? ORDER BY tree_size DESC LIMIT 1",
    ),
    listCheckpoints: db.prepare<[number, number, number], CheckpointRow>(
      "SELECT tree_size, root_hash, note, created_at FROM checkpoints WHERE log_id = ? AND tree_size > ? ORDER BY tree_size LIMIT ?",
    ),
    insertKey: db.prepare("INSERT INTO api_keys (id, secret_hash, scope, logs, label, created_at) VALUES (?, ?, ?, ?, ?, ?)"),
    findKey: db.prepare<[string], KeyRow>("SELECT * FROM api_keys WHERE id = ?"),
    listKeys: db.prepare<[], KeyRow>("SELECT * FROM api_keys ORDER BY created_at, id"),
    revokeKey: db.prepare<[string, string]>("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"),
  };

  const logIds = new Map<string, number>();
  const logId = (name: string): number | undefined => {
    const cached = logIds.get(name);
    if (cached !== undefined) return cached;
    const row = stmt.logId.get(name);
    if (row) logIds.set(name, row.id);
    return row?.id;
  };
  const { sizeOf } = createLogSizes(db);
  const summary = (row: { id: number; name: string; created_at: string }): LogSummary => ({
    name: row.name,
    size: sizeOf(row.id),
    createdAt: row.created_at,
  });
  const toKey = (row: KeyRow): ApiKeyRecord => ({
    id: row.id,
    secretHash: toBytes(row.secret_hash),
    scope: row.scope,
    logs: JSON.parse(row.logs) as string[],
    label: row.label,
    createdAt: row.created_at,
    ...(row.revoked_at ? { revokedAt: row.revoked_at } : {}),
  });
  const toCheckpoint = (log: string, row: CheckpointRow): StoredCheckpoint => ({
    log,
    treeSize: row.tree_size,
    rootHash: toBytes(row.root_hash),
    note: row.note,
    createdAt: row.created_at,
  });

  const indexPath = config.indexPath ?? indexPathOf(config.path);
  const inMemory = config.path === ":memory:" || config.path === "";
  // A file's index runs on its own thread; a private in-memory database cannot be opened from one.
  const index: QueryIndex =
    config.readonly || inMemory
      ? inlineIndex(
          openIndexService({
            logDb: db,
            indexPath,
            readonly: config.readonly === true,
            ...(config.onUpgrade ? { onUpgrade: config.onUpgrade } : {}),
          }),
        )
      : openIndexThread({
          logPath: resolve(config.path),
          indexPath: resolve(indexPath),
          ...(config.onUpgrade ? { onNotice: config.onUpgrade } : {}),
        });

  // IMMEDIATE takes the write lock up front, so the size check below cannot race another writer.
  // Index rows are not part of it: they go to the index database once this commits (query-index.ts).
  const appendTx = db.transaction((batches: readonly LogAppend[]): IndexBatch[] => {
    const indexed: IndexBatch[] = [];
    for (const batch of batches) {
      assertLogName(batch.log);
      let id = logId(batch.log);
      if (id === undefined) {
        id = Number(stmt.insertLog.run(batch.log, new Date().toISOString()).lastInsertRowid);
        logIds.set(batch.log, id);
      }
      const size = sizeOf(id);
      if (size !== batch.startIndex) {
        throw new StoreError("concurrent_writer", `log ${batch.log} has ${size} entries, the batch expected ${batch.startIndex}`);
      }
      const base = rowBase(id);
      const end = batch.startIndex + batch.entries.length;
      // A leaf hash of this batch goes into its entry's row; every other hash into tree_hashes.
      const leafHashes: (Uint8Array | undefined)[] = new Array(batch.entries.length);
      for (const hash of batch.hashes) {
        const slot = hash.index - batch.startIndex;
        if (hash.level !== 0 || hash.index < batch.startIndex || hash.index >= end)
          stmt.insertHash.run(id, hash.level, hash.index, hash.hash);
        else if (leafHashes[slot] === undefined) leafHashes[slot] = hash.hash;
        // tree_hashes' key refuses a second hash for one node; so does the row.
        else throw new StoreError("duplicate_hash", `log ${batch.log}: two hashes for leaf ${hash.index}`);
      }
      const entries = batch.entries.map((entry, i) => {
        if (entry.index !== batch.startIndex + i) throw new StoreError("non_contiguous", `log ${batch.log}: entries are not contiguous`);
        stmt.insertEntry.run(base + BigInt(entry.index), id, entry.id, entry.leaf, leafHashes[i] ?? null);
        // The engine hands the fields over; other writers get them derived from the leaf, as a rebuild does.
        return { index: entry.index, fields: entry.fields ?? fieldsOfLeaf(entry.leaf) };
      });
      indexed.push({ logId: id, log: batch.log, entries, size: batch.startIndex + entries.length });
    }
    return indexed;
  });

  const insertCheckpoint = (checkpoint: StoredCheckpoint): void => {
    const id = logId(checkpoint.log);
    if (id === undefined) throw new StoreError("log_not_found", `log ${checkpoint.log} does not exist`);
    const latest = stmt.latestCheckpoint.get(id);
    if (latest && latest.tree_size >= checkpoint.treeSize) {
      throw new StoreError("checkpoint_rollback", `log ${checkpoint.log} already has a checkpoint of size ${latest.tree_size}`);
    }
    stmt.insertCheckpoint.run(id, checkpoint.treeSize, checkpoint.rootHash, checkpoint.note, checkpoint.createdAt);
  };
  // Many logs' checkpoints in one transaction: one fsync per checkpoint round, not one per log.
  const checkpointsTx = db.transaction((checkpoints: readonly StoredCheckpoint[]) => {
    for (const checkpoint of checkpoints) insertCheckpoint(checkpoint);
  });

  const guard = <T>(what: string, fn: () => T | Promise<T>): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (cause) {
      if (cause instanceof StoreError) return Promise.reject(cause);
      return Promise.reject(new StoreError("store_failed", `sqlite: ${what} failed: ${(cause as Error).message}`, { cause }));
    }
  };

  // Queries also let the caller's own errors through (an impossible time bound is an InputError).
  const guardQuery = <T>(what: string, answer: () => Promise<T>): Promise<T> =>
    answer().catch((cause: unknown) => {
      if (cause instanceof SealtrailError) throw cause;
      throw new StoreError("store_failed", `sqlite: ${what} failed: ${(cause as Error).message}`, { cause });
    });

  const retention = createSqliteRetention(db, {
    logId,
    sizeOf,
    unindex: config.readonly ? undefined : (logId, ranges) => index.unindex(logId, ranges),
  });

  let closed = false;
  return Object.freeze({
    ...retention,
    description: `sqlite:${config.path}`,
    // A file can be opened again from an audit's worker threads; a private in-memory database cannot.
    ...(inMemory ? {} : { entryReader: { module: ENTRY_READER_MODULE, options: { path: resolve(config.path) } } }),
    listLogs: () => guard("listLogs", () => stmt.listLogs.all().map(summary)),
    getLog: (name: string) =>
      guard("getLog", () => {
        const row = stmt.logByName.get(name);
        return row ? summary(row) : undefined;
      }),
    append: (batches: readonly LogAppend[]): Promise<void> =>
      guard("append", () => {
        let indexed: IndexBatch[];
        try {
          indexed = appendTx.immediate(batches);
        } catch (error) {
          // A rolled-back transaction may have cached the id of a log it created: forget it, or the
          // next append would write under an id that is gone (or that another log reuses).
          for (const batch of batches) logIds.delete(batch.log);
          throw error;
        }
        // Resolves at once unless the index thread is far behind (then the appender waits for it).
        return index.add(indexed);
      }),
    findEntriesById: (log: string, ids: readonly string[]) =>
      guard("findEntriesById", () => {
        const id = logId(log);
        if (id === undefined) return [];
        const out: StoredEntry[] = [];
        for (const eventId of new Set(ids)) {
          const row = stmt.byId.get(rowBase(id), id, eventId);
          if (row) out.push({ index: row.idx, id: row.event_id, leaf: toBytes(row.leaf) });
        }
        return out;
      }),
    readEntries: (log: string, start: number, count: number) =>
      guard("readEntries", () => {
        const id = logId(log);
        const rows = id === undefined ? undefined : rowRange(id, start, count);
        if (!rows) return [];
        return stmt.readEntries.all(rows.base, rows.from, rows.to).map((row) => ({
          index: row.idx,
          id: row.event_id,
          leaf: toBytes(row.leaf),
        }));
      }),
    readHashes: (log: string, level: number, start: number, count: number) =>
      guard("readHashes", () => {
        const id = logId(log);
        if (id === undefined || count <= 0) return [];
        if (level !== 0) return stmt.readHashes.all(id, level, start, start + count).map((row) => toBytes(row.hash));
        const rows = rowRange(id, start, count);
        if (!rows) return [];
        return stmt.readLeafHashes.all(id, start, start + count, rows.base, rows.from, rows.to).map((row) => toBytes(row.hash));
      }),
    appendCheckpoint: (checkpoint: StoredCheckpoint) => guard("appendCheckpoint", () => insertCheckpoint(checkpoint)),
    appendCheckpoints: (checkpoints: readonly StoredCheckpoint[]) =>
      guard("appendCheckpoints", () => {
        checkpointsTx.immediate(checkpoints);
      }),
    latestCheckpoint: (log: string) =>
      guard("latestCheckpoint", () => {
        const id = logId(log);
        const row = id === undefined ? undefined : stmt.latestCheckpoint.get(id);
        return row ? toCheckpoint(log, row) : undefined;
      }),
    listCheckpoints: (log: string, opts: { afterSize?: number; limit?: number } = {}) =>
      guard("listCheckpoints", () => {
        const id = logId(log);
        if (id === undefined) return [];
        return stmt.listCheckpoints.all(id, opts.afterSize ?? -1, opts.limit ?? 1000).map((row) => toCheckpoint(log, row));
      }),
    insertApiKey: (key: ApiKeyRecord) =>
      guard("insertApiKey", () => {
        stmt.insertKey.run(key.id, key.secretHash, key.scope, JSON.stringify(key.logs), key.label, key.createdAt);
      }),
    findApiKey: (id: string) =>
      guard("findApiKey", () => {
        const row = stmt.findKey.get(id);
        return row ? toKey(row) : undefined;
      }),
    listApiKeys: () => guard("listApiKeys", () => stmt.listKeys.all().map(toKey)),
    revokeApiKey: (id: string, at: string) => guard("revokeApiKey", () => stmt.revokeKey.run(at, id).changes > 0),
    queryEvents: (query: EventQuery) => guardQuery("queryEvents", () => index.queryEvents(query)),
    countEvents: (query: Pick<EventQuery, "logs" | "filter">) => guardQuery("countEvents", () => index.countEvents(query)),
    groupEvents: (query: Parameters<QueryableStore["groupEvents"]>[0]) => guardQuery("groupEvents", () => index.groupEvents(query)),
    flushIndex: () => guardQuery("flushIndex", () => index.flush()),
    close: async () => {
      if (closed) return;
      closed = true;
      try {
        await index.close();
      } finally {
        db.close();
      }
    },
  });
}

/**
 * The rowids of entries [start, start + count) of a log, clamped to its rowid band (an unclamped
 * range reads into the neighbouring logs); undefined when that leaves nothing.
 */
function rowRange(logId: number, start: number, count: number): { base: bigint; from: bigint; to: bigint } | undefined {
  const from = Math.ceil(Math.max(start, 0));
  const to = Math.ceil(Math.min(start + count, ROWS_PER_LOG));
  if (!(to > from)) return undefined;
  const base = rowBase(logId);
  return { base, from: base + BigInt(from), to: base + BigInt(to) };
}

function openForWriting(path: string, durability: "full" | "normal", onUpgrade?: (message: string) => void): Database.Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  if (path !== ":memory:") chmodSync(path, 0o600);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`);
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  // The query index makes a commit dirty pages all over its B-trees. Checkpointing at SQLite's
  // default (1000 pages, so after nearly every commit) copied each of them to the database file
  // again, and made ingest I/O-bound; 16,000 pages (64 MiB of WAL) lets a page dirtied by many
  // commits be copied once. The WAL is truncated back to that size after a checkpoint.
  db.pragma("wal_autocheckpoint = 16000");
  db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  applyMigrations(db, "schema_migrations", MIGRATIONS, (from, to) =>
    onUpgrade?.(`upgrading ${path} from schema ${from} to ${to}: once, and it can take minutes on a large log`),
  );
  return db;
}

function openReadonly(path: string): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (cause) {
    throw new StoreError("store_failed", `sqlite: cannot open ${path} for reading: ${(cause as Error).message}`, { cause });
  }
  db.pragma("busy_timeout = 5000");
  assertMigrated(db, "schema_migrations", MIGRATIONS, path);
  return db;
}
