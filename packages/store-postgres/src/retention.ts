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
import { inTransaction, type PgPool, type PgQueryable } from "./pg-client.js";
import { fromPgText, pgText } from "./query-sql.js";
import { LOCK } from "./schema.js";

/**
 * A log's size: one past its highest stored entry or pruned range, so pruning the newest entries
 * of a quiet log does not shrink it (`id`: a SQL expression for the log id).
 */
export const sizeSql = (id: string): string =>
  `coalesce(greatest((SELECT max(idx) + 1 FROM entries e WHERE e.log_id = ${id}), (SELECT max(end_idx) FROM pruned_ranges r WHERE r.log_id = ${id})), 0)`;

/** What a role needs to prune (schema.ts pruneRoleGrants), checked before a period is set or a prune starts. */
const MAY_PRUNE = `SELECT current_user AS role, has_table_privilege('pruned_ranges', 'INSERT') AND has_table_privilege('entries', 'DELETE')
  AND has_table_privilege('events', 'DELETE') AS ok`;

/**
 * The PostgreSQL side of retention (engine `RetentionStore`, DESIGN §7): in one transaction under
 * the log's append lock, the engine's range checks against the ledger, the ledger rows, then the
 * deletes the triggers allow (schema.ts RETENTION). Settings live in their own tables.
 */
export function createPostgresRetention(
  pool: PgPool,
  store: {
    logId(db: PgQueryable, name: string): Promise<number | undefined>;
    guard<T>(what: string, fn: () => Promise<T>): Promise<T>;
  },
): RetentionStore {
  const { guard } = store;
  const rangesOf = async (db: PgQueryable, id: number): Promise<PrunedRange[]> => {
    const { rows } = await db.query<{ start_idx: number; end_idx: number; pruned_at: string }>(
      "SELECT start_idx, end_idx, pruned_at FROM pruned_ranges WHERE log_id = $1 ORDER BY start_idx",
      [id],
    );
    return rows.map((r) => ({ start: r.start_idx, end: r.end_idx, prunedAt: r.pruned_at }));
  };
  const checkMayPrune = async (db: PgQueryable, what: string): Promise<void> => {
    const { rows } = await db.query<{ role: string; ok: boolean }>(MAY_PRUNE);
    if (rows[0]?.ok) return;
    throw new StoreError(
      "retention_not_permitted",
      `postgres: the database role ${rows[0]?.role} may not prune, so it cannot ${what}: grant it pruneRoleGrants (docs/deployment.md)`,
    );
  };

  const prune = (log: string, ranges: readonly { start: number; end: number }[], at: string) =>
    inTransaction(pool, async (db) => {
      await checkMayPrune(db, "prune");
      // The append lock: the log's size and ledger cannot change under the checks.
      await db.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [LOCK.log, log]);
      const id = await store.logId(db, log);
      if (id === undefined) throw new StoreError("log_not_found", `log ${log} does not exist`);
      const { rows } = await db.query<{ size: number }>(`SELECT ${sizeSql("$1::int")} AS size`, [id]);
      const sorted = checkPruneRanges(log, ranges, rows[0]?.size ?? 0, await rangesOf(db, id));
      await db.query(
        "INSERT INTO pruned_ranges (log_id, start_idx, end_idx, pruned_at) SELECT $1, s, e, $4 FROM unnest($2::bigint[], $3::bigint[]) AS r (s, e)",
        [id, sorted.map((r) => r.start), sorted.map((r) => r.end), at],
      );
      for (const { start, end } of sorted) {
        await db.query("DELETE FROM entries WHERE log_id = $1 AND idx >= $2 AND idx < $3", [id, start, end]);
        // Within a log, seq grows with idx (both follow commit order): the range's index rows are
        // one run of the (log_id, seq) index, from the first with idx >= start to the first with
        // idx >= end. Pruning goes oldest first, so the first probe starts where the last prune ended.
        await db.query(
          `WITH lo AS (SELECT seq FROM events WHERE log_id = $1 AND idx >= $2 ORDER BY seq LIMIT 1),
                hi AS (SELECT coalesce((SELECT ev.seq FROM events ev, lo WHERE ev.log_id = $1 AND ev.seq >= lo.seq AND ev.idx >= $3
                         ORDER BY ev.seq LIMIT 1), 9223372036854775807) AS seq)
           DELETE FROM events ev USING lo, hi WHERE ev.log_id = $1 AND ev.seq >= lo.seq AND ev.seq < hi.seq AND ev.idx >= $2 AND ev.idx < $3`,
          [id, start, end],
        );
      }
    });

  return {
    pruneEntries: (log, ranges, at) =>
      guard("pruneEntries", async () => {
        if (ranges.length > 0) await prune(log, ranges, at);
      }),
    listPrunedRanges: (log) =>
      guard("listPrunedRanges", async () => {
        const id = await store.logId(pool, log);
        return id === undefined ? [] : rangesOf(pool, id);
      }),
    setRetentionPolicy: (log, days, at) =>
      guard("setRetentionPolicy", async () => {
        if (days === undefined) {
          await pool.query("DELETE FROM retention_policies WHERE log = $1", [pgText(log)]);
          return;
        }
        // A period this deployment could never apply is refused now, not at every run of the job.
        await checkMayPrune(pool, "set a retention period");
        await pool.query(
          `INSERT INTO retention_policies (log, days, updated_at) VALUES ($1, $2, $3)
           ON CONFLICT (log) DO UPDATE SET days = excluded.days, updated_at = excluded.updated_at`,
          [pgText(log), days, at],
        );
      }),
    listRetentionPolicies: () =>
      guard("listRetentionPolicies", async (): Promise<RetentionPolicy[]> => {
        const { rows } = await pool.query<{ log: string; days: number; updated_at: string }>(
          `SELECT log, days, updated_at FROM retention_policies ORDER BY log COLLATE "C"`,
        );
        return rows.map((r) => ({ log: fromPgText(r.log), days: r.days, updatedAt: r.updated_at }));
      }),
    insertLegalHold: (hold: LegalHold) =>
      guard("insertLegalHold", async () => {
        await pool.query("INSERT INTO legal_holds (id, log, query, reason, created_at) VALUES ($1, $2, $3, $4, $5)", [
          pgText(hold.id),
          pgText(hold.log),
          hold.query === undefined ? null : pgText(hold.query),
          pgText(hold.reason),
          hold.createdAt,
        ]);
      }),
    releaseLegalHold: (id, at) =>
      guard("releaseLegalHold", async () => {
        const result = await pool.query("UPDATE legal_holds SET released_at = $1 WHERE id = $2 AND released_at IS NULL", [at, pgText(id)]);
        return (result.rowCount ?? 0) > 0;
      }),
    listLegalHolds: () =>
      guard("listLegalHolds", async (): Promise<LegalHold[]> => {
        const { rows } = await pool.query<LegalHoldRow>(`SELECT * FROM legal_holds ORDER BY created_at COLLATE "C", id COLLATE "C"`);
        return rows.map((r) =>
          legalHoldOfRow({
            ...r,
            id: fromPgText(r.id),
            log: fromPgText(r.log),
            query: r.query === null ? null : fromPgText(r.query),
            reason: fromPgText(r.reason),
          }),
        );
      }),
  };
}
