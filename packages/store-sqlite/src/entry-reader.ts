// Opened by an audit's worker threads (the store's `entryReader` recipe, engine audit-pool.ts):
// each reads the entries and tree hashes it verifies through read-only connections of its own.
import type { EntryReader, StoredEntry } from "@sealtrail/engine";
import Database from "better-sqlite3";
import { createSqliteStore } from "./sqlite-store.js";

const ROWS_PER_LOG = 2n ** 40n; // entries.rowid = log_id · 2^40 + index (sqlite-store.ts)

/**
 * Reads what the store's `readEntries` and `readHashes` read, with less work per row, which is
 * most of an audit's cost: entries come as `[id, leaf]` rows whose index follows from their
 * position when a range has no gap (rowids are unique, so a full count proves it), and a range of
 * 32-byte tree hashes comes as one blob SQLite builds (hex, joined in index order, then unhex:
 * group_concat has no blob form), instead of a Buffer per row. Anything else (a gap; a hash of another length, which the schema's CHECK refuses unless
 * the file was edited around it) is read by the store itself, so what the audit sees, and names,
 * is exactly what the store serves.
 */
export function openEntryReader(options: { path: string }): EntryReader {
  // The store checks the schema version and answers the uncommon cases.
  const store = createSqliteStore({ path: options.path, readonly: true });
  const db = new Database(options.path, { readonly: true, fileMustExist: true });
  db.pragma("busy_timeout = 5000");
  const logId = db.prepare<[string], number>("SELECT id FROM logs WHERE name = ?").pluck();
  const entries = db
    .prepare<[bigint, bigint], [string, Buffer]>("SELECT event_id, leaf FROM entries WHERE rowid >= ? AND rowid < ? ORDER BY rowid")
    .raw();
  const hashes = db
    .prepare<[number, number, number, number], [number, number | null, number | null, Buffer | null]>(
      `SELECT count(*), min(length(hash)), max(length(hash)), unhex(group_concat(hex(hash), '' ORDER BY idx))
       FROM tree_hashes WHERE log_id = ? AND level = ? AND idx >= ? AND idx < ?`,
    )
    .raw();
  const ids = new Map<string, number | undefined>();
  const idOf = (log: string) => {
    if (!ids.has(log)) ids.set(log, logId.get(log));
    return ids.get(log);
  };
  return {
    async readEntries(log, start, count) {
      const id = idOf(log);
      if (id === undefined || count <= 0) return store.readEntries(log, start, count);
      const base = BigInt(id) * ROWS_PER_LOG;
      const rows = entries.all(base + BigInt(start), base + BigInt(start + count));
      if (rows.length !== count) return store.readEntries(log, start, count);
      return rows.map(([eventId, leaf], i): StoredEntry => ({ index: start + i, id: eventId, leaf }));
    },
    async readHashes(log, level, start, count) {
      const id = idOf(log);
      if (id === undefined || count <= 0) return store.readHashes(log, level, start, count);
      const [found, shortest, longest, bytes] = hashes.get(id, level, start, start + count) as [
        number,
        number | null,
        number | null,
        Buffer | null,
      ];
      if (found !== count || shortest !== 32 || longest !== 32 || bytes === null) return store.readHashes(log, level, start, count);
      return Array.from({ length: count }, (_, i) => bytes.subarray(i * 32, i * 32 + 32));
    },
    async close() {
      db.close();
      await store.close();
    },
  };
}
