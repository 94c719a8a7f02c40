import { StoreError } from "@sealtrail/core";
import {
  checkPruneRanges,
  type LegalHold,
  type LegalHoldRow,
  legalHoldOfRow,
  type PrunedRange,
  type RetentionPolicy,
  type RetentionStore,
} from "@sealtrail/engine";
import type Database from "better-sqlite3";
import { fieldsOfLeaf } from "./query-index.js";

const ROWS_PER_LOG = 2n ** 40n;

/**
 * The SQLite side of retention (engine `RetentionStore`): the prune ledger first, then the
 * deletes the ledger allows (schema.ts, migration 5), in one IMMEDIATE transaction; settings in
 * their own tables. `logId` and `sizeOf` come from the store, which caches log ids.
 */
export function createSqliteRetention(
  db: Database.Database,
  store: { logId(name: string): number | undefined; sizeOf(id: number): number },
): RetentionStore {
  const stmt = {
    ranges: db.prepare<[number], { start_idx: number; end_idx: number; pruned_at: string }>(
      "SELECT start_idx, end_idx, pruned_at FROM pruned_ranges WHERE log_id = ? ORDER BY start_idx",
    ),
    insertRange: db.prepare<[number, number, number, string]>(
      "INSERT INTO pruned_ranges (log_id, start_idx, end_idx, pruned_at) VALUES (?, ?, ?, ?)",
    ),
    entries: db.prepare<[bigint, bigint, bigint], { idx: number; leaf: Buffer }>(
      "SELECT rowid - ? AS idx, leaf FROM entries WHERE rowid >= ? AND rowid < ? ORDER BY rowid",
    ),
    deleteEntries: db.prepare<[bigint, bigint]>("DELETE FROM entries WHERE rowid >= ? AND rowid < ?"),
    // A log's events in commit order: a log's oldest events come first, where pruning works.
    seqs: db.prepare<[number], { seq: number; idx: number }>("SELECT seq, idx FROM events WHERE log_id = ? ORDER BY seq"),
    deleteEvent: db.prepare<[number, number]>("DELETE FROM events WHERE log_id = ? AND seq = ?"),
    deleteTarget: db.prepare<[number, string, string, number]>(
      "DELETE FROM event_targets WHERE log_id = ? AND id = ? AND type = ? AND seq = ?",
    ),
    deleteMetadata: db.prepare<[number, string, number]>("DELETE FROM event_metadata WHERE log_id = ? AND key = ? AND seq = ?"),
    deleteText: db.prepare<[number]>("DELETE FROM events_fts WHERE rowid = ?"),
    policies: db.prepare<[], { log: string; days: number; updated_at: string }>(
      "SELECT log, days, updated_at FROM retention_policies ORDER BY log",
    ),
    setPolicy: db.prepare<[string, number, string]>(
      "INSERT INTO retention_policies (log, days, updated_at) VALUES (?, ?, ?) ON CONFLICT (log) DO UPDATE SET days = excluded.days, updated_at = excluded.updated_at",
    ),
    clearPolicy: db.prepare<[string]>("DELETE FROM retention_policies WHERE log = ?"),
    insertHold: db.prepare<[string, string, string | null, string, string]>(
      "INSERT INTO legal_holds (id, log, query, reason, created_at) VALUES (?, ?, ?, ?, ?)",
    ),
    releaseHold: db.prepare<[string, string]>("UPDATE legal_holds SET released_at = ? WHERE id = ? AND released_at IS NULL"),
    holds: db.prepare<[], LegalHoldRow>("SELECT * FROM legal_holds ORDER BY created_at, id"),
  };

  const rangesOf = (logId: number): PrunedRange[] =>
    stmt.ranges.all(logId).map((r) => ({ start: r.start_idx, end: r.end_idx, prunedAt: r.pruned_at }));

  const pruneTx = db.transaction((log: string, ranges: readonly { start: number; end: number }[], at: string) => {
    const logId = store.logId(log);
    if (logId === undefined) throw new StoreError("log_not_found", `log ${log} does not exist`);
    const sorted = checkPruneRanges(log, ranges, store.sizeOf(logId), rangesOf(logId));
    const base = BigInt(logId) * ROWS_PER_LOG;
    const maxEnd = sorted.reduce((m, r) => Math.max(m, r.end), 0);
    const inRange = (idx: number) => sorted.some((r) => r.start <= idx && idx < r.end);
    // idx → seq of the query-index rows to remove, found by walking the log's events oldest first.
    const seqOf = new Map<number, number>();
    for (const row of stmt.seqs.iterate(logId) as IterableIterator<{ seq: number; idx: number }>) {
      if (row.idx >= maxEnd) break;
      if (inRange(row.idx)) seqOf.set(row.idx, row.seq);
    }
    for (const range of sorted) {
      stmt.insertRange.run(logId, range.start, range.end, at);
      const from = base + BigInt(range.start);
      const to = base + BigInt(range.end);
      // Read first: better-sqlite3 runs no other statement while one iterates. Ranges are chunked by the caller.
      for (const entry of stmt.entries.all(base, from, to)) {
        const seq = seqOf.get(entry.idx);
        if (seq === undefined) continue;
        const fields = fieldsOfLeaf(entry.leaf);
        for (const t of fields?.targets ?? []) stmt.deleteTarget.run(logId, t.id, t.type, seq);
        for (const m of fields?.metadata ?? []) stmt.deleteMetadata.run(logId, m.key, seq);
        stmt.deleteText.run(seq);
        stmt.deleteEvent.run(logId, seq);
      }
      stmt.deleteEntries.run(from, to);
    }
  });

  const guard = <T>(what: string, fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (cause) {
      if (cause instanceof StoreError) return Promise.reject(cause);
      return Promise.reject(new StoreError("store_failed", `sqlite: ${what} failed: ${(cause as Error).message}`, { cause }));
    }
  };

  return {
    pruneEntries: (log, ranges, at) =>
      guard("pruneEntries", () => {
        if (ranges.length > 0) pruneTx.immediate(log, ranges, at);
      }),
    listPrunedRanges: (log) =>
      guard("listPrunedRanges", () => {
        const logId = store.logId(log);
        return logId === undefined ? [] : rangesOf(logId);
      }),
    setRetentionPolicy: (log, days, at) =>
      guard("setRetentionPolicy", () => {
        if (days === undefined) stmt.clearPolicy.run(log);
        else stmt.setPolicy.run(log, days, at);
      }),
    listRetentionPolicies: () =>
      guard("listRetentionPolicies", (): RetentionPolicy[] =>
        stmt.policies.all().map((r) => ({ log: r.log, days: r.days, updatedAt: r.updated_at })),
      ),
    insertLegalHold: (hold: LegalHold) =>
      guard("insertLegalHold", () => {
        stmt.insertHold.run(hold.id, hold.log, hold.query ?? null, hold.reason, hold.createdAt);
      }),
    releaseLegalHold: (id, at) => guard("releaseLegalHold", () => stmt.releaseHold.run(at, id).changes > 0),
    listLegalHolds: () => guard("listLegalHolds", (): LegalHold[] => stmt.holds.all().map(legalHoldOfRow)),
  };
}
