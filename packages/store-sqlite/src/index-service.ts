import { StoreError } from "@sealtrail/core";
import type { QueryableStore } from "@sealtrail/engine";
import type Database from "better-sqlite3";
import { openIndexForWriting, openIndexReadonly, removeIndex } from "./index-db.js";
import { createLogSizes, rowBase } from "./log-sizes.js";
import { createQueryExecutor } from "./query-executor.js";
import { createDeferredIndex, fieldsOfLeaf, type IndexBatch } from "./query-index.js";

type Sync<F> = F extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : never;

/** Entries [start, end) of one log, sorted and disjoint (engine `checkPruneRanges`). */
export interface IndexRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Everything the store asks of its query index, synchronously, on one connection to the index
 * database and one to the log database: run on the index thread (index-thread.ts) for a file, on
 * the store's own thread for `:memory:` or a read-only open. One owner of the index connection
 * keeps read-your-writes: a query runs after every add that was asked before it.
 */
export interface IndexService {
  add(batches: readonly IndexBatch[]): void;
  queryEvents: Sync<QueryableStore["queryEvents"]>;
  countEvents: Sync<QueryableStore["countEvents"]>;
  groupEvents: Sync<QueryableStore["groupEvents"]>;
  /** Removes the index rows of entries retention is about to delete, and commits that. */
  unindex(logId: number, ranges: readonly IndexRange[]): void;
  /** Catches up with the log and commits, for readers on other connections. */
  flush(): void;
  close(): void;
}

export interface IndexServiceOptions {
  /** The log database (read here: leaves for query pages, catch-up and unindexing; log sizes). */
  readonly logDb: Database.Database;
  readonly indexPath: string;
  /** A read-only open: no index file is created, caught up or written. */
  readonly readonly: boolean;
  /** Told before an existing index database is upgraded to this version's schema. */
  readonly onUpgrade?: (message: string) => void;
}

export function openIndexService(options: IndexServiceOptions): IndexService {
  const { logDb } = options;
  if (options.readonly) {
    const indexDb = openIndexReadonly(options.indexPath);
    const queries = indexDb && createQueryExecutor(indexDb, logDb);
    const executor = () => {
      if (!queries) throw new StoreError("index_missing", `sqlite: ${options.indexPath} does not exist; start the server once to build it`);
      return queries;
    };
    const refuse = () => {
      throw new StoreError("store_failed", "sqlite: the store is open read-only");
    };
    return {
      add: refuse,
      unindex: refuse,
      queryEvents: (query) => executor().queryEvents(query),
      countEvents: (query) => executor().countEvents(query),
      groupEvents: (query) => executor().groupEvents(query),
      flush: () => undefined,
      close: () => indexDb?.close(),
    };
  }

  const sizes = createLogSizes(logDb);
  const logs = sizes.logs();
  const names = new Map(logs.map((log) => [log.id, log]));
  const indexDb = openIndexMatching(
    options.indexPath,
    (row) => {
      const log = names.get(row.id);
      return log?.name === row.name && row.indexed_size <= log.size;
    },
    options.onUpgrade,
  );
  const deferred = createDeferredIndex(indexDb, { db: logDb, logs: sizes.logs });
  const queries = createQueryExecutor(indexDb, logDb);
  const entries = logDb.prepare<[bigint, bigint, bigint], { idx: number; leaf: Buffer }>(
    "SELECT rowid - ? AS idx, leaf FROM entries WHERE rowid >= ? AND rowid < ? ORDER BY rowid",
  );
  const unindexStmt = {
    // A log's events in commit order: a log's oldest events come first, where pruning works.
    seqs: indexDb.prepare<[number], { seq: number; idx: number }>("SELECT seq, idx FROM events WHERE log_id = ? ORDER BY seq"),
    deleteEvent: indexDb.prepare<[number, number]>("DELETE FROM events WHERE log_id = ? AND seq = ?"),
    deleteTarget: indexDb.prepare<[number, string, string, number]>(
      "DELETE FROM event_targets WHERE log_id = ? AND id = ? AND type = ? AND seq = ?",
    ),
    deleteMetadata: indexDb.prepare<[number, string, number]>("DELETE FROM event_metadata WHERE log_id = ? AND key = ? AND seq = ?"),
    deleteText: indexDb.prepare<[number]>("DELETE FROM events_fts WHERE rowid = ?"),
  };

  return {
    add: (batches) => deferred.add(batches),
    queryEvents(query) {
      deferred.ready();
      return queries.queryEvents(query);
    },
    countEvents(query) {
      deferred.ready();
      return queries.countEvents(query);
    },
    groupEvents(query) {
      deferred.ready();
      return queries.groupEvents(query);
    },
    unindex(logId, ranges) {
      deferred.ready();
      const maxEnd = ranges.reduce((m, r) => Math.max(m, r.end), 0);
      const inRange = (idx: number) => ranges.some((r) => r.start <= idx && idx < r.end);
      // idx → seq of the query-index rows to remove, found by walking the log's events oldest first.
      const seqOf = new Map<number, number>();
      for (const row of unindexStmt.seqs.iterate(logId) as IterableIterator<{ seq: number; idx: number }>) {
        if (row.idx >= maxEnd) break;
        if (inRange(row.idx)) seqOf.set(row.idx, row.seq);
      }
      deferred.commit();
      const base = rowBase(logId);
      indexDb
        .transaction(() => {
          for (const range of ranges) {
            for (const entry of entries.all(base, base + BigInt(range.start), base + BigInt(range.end))) {
              const seq = seqOf.get(entry.idx);
              if (seq === undefined) continue;
              const fields = fieldsOfLeaf(entry.leaf);
              for (const t of fields?.targets ?? []) unindexStmt.deleteTarget.run(logId, t.id, t.type, seq);
              for (const m of fields?.metadata ?? []) unindexStmt.deleteMetadata.run(logId, m.key, seq);
              unindexStmt.deleteText.run(seq);
              unindexStmt.deleteEvent.run(logId, seq);
            }
          }
        })
        .immediate();
    },
    flush() {
      deferred.ready();
      deferred.commit();
    },
    close() {
      deferred.close();
      indexDb.close();
    },
  };
}

/**
 * The index database of this log database, rebuilt from scratch when it describes another one (a
 * log id with another name, or more entries indexed than the log holds: a copied or restored file).
 */
function openIndexMatching(
  path: string,
  isOurs: (row: { id: number; name: string; indexed_size: number }) => boolean,
  onUpgrade: ((message: string) => void) | undefined,
): Database.Database {
  const db = openIndexForWriting(path, onUpgrade);
  const rows = db.prepare<[], { id: number; name: string; indexed_size: number }>("SELECT id, name, indexed_size FROM logs").all();
  if (rows.every(isOurs)) return db;
  db.close();
  removeIndex(path);
  return openIndexForWriting(path);
}
