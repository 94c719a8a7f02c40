import type Database from "better-sqlite3";

/**
 * Entries use a composite rowid, `logId · 2^40 + index`, so the primary key itself is the
 * (log, index) lookup: no second index to maintain on the hot append path. Rowids pass 2^53 from
 * log id 8192 on, so they are bound as bigint; only small offsets (`rowid - base`) come back.
 */
export const ROWS_PER_LOG = 2 ** 40;

export const rowBase = (logId: number): bigint => BigInt(logId) * BigInt(ROWS_PER_LOG);

export interface LogSizes {
  /** Entries the log has held: the stored ones and the pruned ones before and among them. */
  sizeOf(id: number): number;
  /** Every log with its size. */
  logs(): { id: number; name: string; size: number }[];
}

/** Log sizes as read from a log database (the store's own connection or the index thread's). */
export function createLogSizes(db: Database.Database): LogSizes {
  const stmt = {
    maxRow: db.prepare<[bigint, bigint, bigint], { r: number | null }>(
      "SELECT max(rowid) - ? AS r FROM entries WHERE rowid BETWEEN ? AND ?",
    ),
    // Retention may prune the newest entries of a quiet log: the prune ledger (append-only) still
    // counts them. A few rows per log; an entry deleted without a ledger row still shrinks the log.
    maxPruned: db.prepare<[number], { r: number | null }>("SELECT max(end_idx) AS r FROM pruned_ranges WHERE log_id = ?"),
    logs: db.prepare<[], { id: number; name: string }>("SELECT id, name FROM logs ORDER BY id"),
  };
  const sizeOf = (id: number): number => {
    const base = rowBase(id);
    const row = stmt.maxRow.get(base, base, base + BigInt(ROWS_PER_LOG - 1));
    return Math.max(row?.r == null ? 0 : row.r + 1, stmt.maxPruned.get(id)?.r ?? 0);
  };
  return { sizeOf, logs: () => stmt.logs.all().map((row) => ({ ...row, size: sizeOf(row.id) })) };
}
