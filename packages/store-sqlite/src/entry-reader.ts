// Opened by an audit's worker threads (the store's `entryReader` recipe, engine audit-pool.ts):
// each reads the entries and tree hashes it verifies through read-only connections of its own.
import { TILE_WIDTH } from "@sealtrail/core";
import type { EntryReader, PackedChunk, StoredEntry } from "@sealtrail/engine";
import Database from "better-sqlite3";
import { rowBase } from "./log-sizes.js";
import { createSqliteStore } from "./sqlite-store.js";

/**
 * Reads what the store's `readEntries` and `readHashes` read, with less work per row, which is
 * most of an audit's cost. A whole chunk comes in one piece (`readPackedChunk`): its leaves, their
 * lengths and their ids as three blobs SQLite joins, and its tree hashes likewise, so the audit
 * makes no object per entry. Entries also come as `[id, leaf]` rows whose index follows from
 * their position when a range has no gap (rowids are unique, so a full count proves it), and a
 * range of 32-byte tree hashes as one blob. Anything else (a gap; a hash of another length, which
 * the schema's CHECK refuses unless the file was edited around it) is read by the store itself,
 * so what the audit sees, and names, is exactly what the store serves.
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
  // group_concat joins blobs byte for byte (NULs and invalid UTF-8 included), and in the order the
  // subquery reads its rows: by primary key, with no sorter (an ORDER BY inside group_concat sorts).
  // A NULL is skipped, so every caller checks the count and the lengths.
  const hashes = db
    .prepare<[number, number, number, number], [number, number | null, number | null, Buffer | null]>(
      `SELECT count(*), min(octet_length(hash)), max(octet_length(hash)), CAST(group_concat(hash, '') AS BLOB)
       FROM (SELECT hash FROM tree_hashes WHERE log_id = ? AND level = ? AND idx >= ? AND idx < ? ORDER BY idx)`,
    )
    .raw();
  // The leaf hashes come in the same scan (schema.ts, LEAF_HASH_IN_ROW): a chunk whose entries
  // predate that migration has none there, and reads them from tree_hashes.
  const packedEntries = db
    .prepare<[bigint, bigint], [number, Buffer | null, Buffer | null, Buffer | null, number, number | null, number | null, Buffer | null]>(
      `SELECT count(*), CAST(group_concat(leaf, '') AS BLOB), CAST(group_concat(octet_length(leaf)) AS BLOB),
         CAST(group_concat(event_id, ',') AS BLOB),
         count(leaf_hash), min(octet_length(leaf_hash)), max(octet_length(leaf_hash)), CAST(group_concat(leaf_hash, '') AS BLOB)
       FROM (SELECT leaf, event_id, leaf_hash FROM entries WHERE rowid >= ? AND rowid < ? ORDER BY rowid)`,
    )
    .raw();
  const rowHashes = db
    .prepare<[bigint, bigint], [number, number | null, number | null, Buffer | null]>(
      `SELECT count(leaf_hash), min(octet_length(leaf_hash)), max(octet_length(leaf_hash)), CAST(group_concat(leaf_hash, '') AS BLOB)
       FROM (SELECT leaf_hash FROM entries WHERE rowid >= ? AND rowid < ? ORDER BY rowid)`,
    )
    .raw();
  /** Hashes [start, start + count) of a level, end to end, when all are there and 32 bytes long. */
  const packedHashes = (id: number, level: number, start: number, count: number): Buffer | undefined => {
    if (count === 0) return Buffer.alloc(0);
    if (level === 0) {
      const base = rowBase(id);
      const inRow = whole(rowHashes.get(base + BigInt(start), base + BigInt(start + count)), count);
      if (inRow) return inRow;
    }
    return treeHashes(id, level, start, count);
  };
  const treeHashes = (id: number, level: number, start: number, count: number): Buffer | undefined =>
    count === 0 ? Buffer.alloc(0) : whole(hashes.get(id, level, start, start + count), count);
  const ids = new Map<string, number | undefined>();
  const idOf = (log: string) => {
    if (!ids.has(log)) ids.set(log, logId.get(log));
    return ids.get(log);
  };
  return {
    async readEntries(log, start, count) {
      const id = idOf(log);
      if (id === undefined || count <= 0) return store.readEntries(log, start, count);
      const base = rowBase(id);
      const rows = entries.all(base + BigInt(start), base + BigInt(start + count));
      if (rows.length !== count) return store.readEntries(log, start, count);
      return rows.map(([eventId, leaf], i): StoredEntry => ({ index: start + i, id: eventId, leaf }));
    },
    async readHashes(log, level, start, count) {
      const id = idOf(log);
      const bytes = id === undefined || count <= 0 ? undefined : packedHashes(id, level, start, count);
      if (bytes === undefined) return store.readHashes(log, level, start, count);
      return Array.from({ length: count }, (_, i) => bytes.subarray(i * 32, i * 32 + 32));
    },
    async readPackedChunk(log, start, count): Promise<PackedChunk | undefined> {
      const id = idOf(log);
      if (id === undefined || count <= 0) return undefined;
      const base = rowBase(id);
      const [found, leaves, lengths, ids, hashed, shortest, longest, inRow] = packedEntries.get(
        base + BigInt(start),
        base + BigInt(start + count),
      ) as [number, Buffer | null, Buffer | null, Buffer | null, number, number | null, number | null, Buffer | null];
      if (found !== count || leaves === null || lengths === null || ids === null) return undefined;
      const leafEnds = endsOf(lengths, count);
      if (leafEnds === undefined || leafEnds[count - 1] !== leaves.length) return undefined;
      // All in the rows, or none (then all in tree_hashes); a mix is left to the store's readHashes.
      const allInRow = hashed === count && shortest === 32 && longest === 32 && inRow?.length === count * 32;
      if (!allInRow && hashed !== 0) return undefined;
      const leafHashes = allInRow ? inRow : treeHashes(id, 0, start, count);
      const tileHashes = treeHashes(id, 1, start / TILE_WIDTH, Math.floor(count / TILE_WIDTH));
      if (leafHashes === undefined || tileHashes === undefined) return undefined;
      return { leaves, leafEnds, ids, leafHashes, tileHashes };
    },
    async close() {
      db.close();
      await store.close();
    },
  };
}

/** "582,590,…" (ASCII decimal lengths) → the running ends, or undefined unless exactly `count`. */
function endsOf(lengths: Uint8Array, count: number): Uint32Array | undefined {
  const ends = new Uint32Array(count);
  let n = 0;
  let total = 0;
  let value = -1;
  for (let at = 0; at <= lengths.length; at++) {
    const byte = at < lengths.length ? (lengths[at] as number) : 0x2c;
    if (byte === 0x2c) {
      if (value < 0 || n === count) return undefined;
      total += value;
      ends[n++] = total;
      value = -1;
    } else if (byte >= 0x30 && byte <= 0x39) {
      value = (value < 0 ? 0 : value * 10) + (byte - 0x30);
    } else {
      return undefined;
    }
  }
  return n === count ? ends : undefined;
}

/** The blob of a `[count, shortest, longest, blob]` row, when it holds exactly `count` 32-byte hashes. */
function whole(row: unknown, count: number): Buffer | undefined {
  const [found, shortest, longest, bytes] = row as [number, number | null, number | null, Buffer | null];
  return found === count && shortest === 32 && longest === 32 && bytes?.length === count * 32 ? bytes : undefined;
}
