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
import { rowBase } from "./log-sizes.js";

/**
 * The SQLite side of retention (engine `RetentionStore`): the prune ledger first, then the
 * deletes the ledger allows (schema.ts, migration 5), in one IMMEDIATE transaction; settings in
 * their own tables. `logId` and `sizeOf` come from the store, which caches log ids.
 */
export function createSqliteRetention(
  db: Database.Database,
  store: {
    logId(name: string): number | undefined;
    sizeOf(id: number): number;
    /**
     * Removes the query index rows of entries about to be pruned and commits that (the index is
     * another database): if the process dies before the entries go, those entries are merely
     * unlisted until the pruning job, which resumes on the next start, removes them. Absent on a
     * read-only open, which never prunes.
     */
    unindex: ((logId: number, ranges: readonly { start: number; end: number }[]) => Promise<void>) | undefined;
  },
): RetentionStore {
  const stmt = {
    ranges: db.prepare<[number], { start_idx: number; end_idx: number; pruned_at: string }>(
      "SELECT start_idx, end_idx, pruned_at FROM pruned_ranges WHERE log_id = ? ORDER BY start_idx",
    ),
    insertRange: db.prepare<[number, number, number, string]>(
      "INSERT INTO pruned_ranges (log_id, start_idx, end_idx, pruned_at) VALUES (?, ?, ?, ?)",
    ),
    // A pruned entry's leaf hash stays in tree_hashes (every proof passing it needs it); the
    // database refuses the delete otherwise (schema.ts, LEAF_HASH_IN_ROW).
    keepLeafHashes: db.prepare<[bigint, bigint, bigint]>(
      `INSERT INTO tree_hashes (log_id, level, idx, hash)
       SELECT log_id, 0, rowid - ?, leaf_hash FROM entries WHERE rowid >= ? AND rowid < ? AND leaf_hash IS NOT NULL`,
    ),
    deleteEntries: db.prepare<[bigint, bigint]>("DELETE FROM entries WHERE rowid >= ? AND rowid < ?"),

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

  const validate = (log: string, ranges: readonly { start: number; end: number }[]) => {
    const logId = store.logId(log);
    if (logId === undefined) throw new StoreError("log_not_found", `log ${log} does not exist`);
    const sorted = checkPruneRanges(log, ranges, store.sizeOf(logId), rangesOf(logId));
    return { logId, sorted, base: rowBase(logId) };
  };

  // The ledger row first, then the deletes it allows, in one IMMEDIATE transaction (checked again inside it).
  const pruneTx = db.transaction((log: string, ranges: readonly { start: number; end: number }[], at: string) => {
    const { logId, sorted, base } = validate(log, ranges);
    for (const range of sorted) {
      stmt.insertRange.run(logId, range.start, range.end, at);
      stmt.keepLeafHashes.run(base, base + BigInt(range.start), base + BigInt(range.end));
      stmt.deleteEntries.run(base + BigInt(range.start), base + BigInt(range.end));
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
    pruneEntries: async (log, ranges, at) => {
      if (ranges.length === 0) return;
      const { logId, sorted } = await guard("pruneEntries", () => validate(log, ranges));
      try {
        await store.unindex?.(logId, sorted);
      } catch (cause) {
        throw new StoreError("store_failed", `sqlite: pruneEntries failed: ${(cause as Error).message}`, { cause });
      }
      await guard("pruneEntries", () => pruneTx.immediate(log, ranges, at));
    },
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
