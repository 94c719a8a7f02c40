import { StoreError } from "@sealtrail/core";
import { inTransaction, type PgPool } from "./pg-client.js";
import { LOCK, MIGRATIONS, PARTITION_OPTIONS } from "./schema.js";

/**
 * Applies pending migrations, each in its own transaction, under a transaction advisory lock: of
 * several instances starting at once, one migrates and the others wait, then find nothing to do.
 * With `apply: false` (a role without DDL rights), only checks that the schema is current.
 */
export async function migrate(pool: PgPool, options: { apply: boolean }): Promise<void> {
  const current = async (): Promise<number> => {
    const exists = await pool.query<{ r: string | null }>("SELECT to_regclass('schema_migrations')::text AS r");
    if (!exists.rows[0]?.r) return 0;
    const { rows } = await pool.query<{ v: number | null }>("SELECT max(version) AS v FROM schema_migrations");
    return rows[0]?.v ?? 0;
  };
  if ((await current()) === MIGRATIONS.length) return;
  if (!options.apply) {
    throw new StoreError(
      "schema_outdated",
      `postgres: the schema is at version ${await current()}, expected ${MIGRATIONS.length}; start once with the owner role to migrate`,
    );
  }
  await inTransaction(pool, async (db) => {
    await db.query("SELECT pg_advisory_xact_lock($1, 0)", [LOCK.migrate]);
    await db.query(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    const { rows } = await db.query<{ v: number | null }>("SELECT max(version) AS v FROM schema_migrations");
    for (let version = (rows[0]?.v ?? 0) + 1; version <= MIGRATIONS.length; version++) {
      await db.query(MIGRATIONS[version - 1] as string);
      await db.query("INSERT INTO schema_migrations (version) VALUES ($1)", [version]);
    }
  });
}

/** `events_p202611` holds November 2026 (UTC) by receivedAt. */
export const partitionName = (year: number, month: number): string => `events_p${year}${String(month + 1).padStart(2, "0")}`;

/** Months of the query index that exist ahead of time, so a write never needs DDL. */
const MONTHS_AHEAD = 12;

/**
 * Creates the monthly partitions of the query index from the month of `now` to MONTHS_AHEAD
 * later (pg_partman's idea, without the extension). Rows of other months land in the default
 * partition. Needs the owner role; instances run it on start, and operators via cron if a server
 * runs longer than a year without restart.
 */
export async function ensurePartitions(pool: PgPool, now: number): Promise<void> {
  const start = new Date(now);
  for (let i = 0; i <= MONTHS_AHEAD; i++) {
    const from = Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + i, 1);
    const to = Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + i + 1, 1);
    const month = new Date(from);
    const name = partitionName(month.getUTCFullYear(), month.getUTCMonth());
    const { rows } = await pool.query<{ r: string | null }>("SELECT to_regclass($1)::text AS r", [name]);
    if (rows[0]?.r) continue;
    await inTransaction(pool, async (db) => {
      await db.query("SELECT pg_advisory_xact_lock($1, 1)", [LOCK.migrate]);
      // pg_class read with a fresh snapshot: to_regclass may answer from a stale catalog cache.
      const again = await db.query("SELECT 1 FROM pg_class WHERE relname = $1 AND relnamespace = current_schema()::regnamespace", [name]);
      if (again.rows.length > 0) return;
      await db.query("SAVEPOINT p");
      try {
        await db.query(`CREATE TABLE ${name} PARTITION OF events FOR VALUES FROM (${from}) TO (${to}) WITH (${PARTITION_OPTIONS})`);
      } catch (error) {
        // 23514: the default partition already holds rows of that month; they stay there.
        if ((error as { code?: string }).code !== "23514") throw error;
        await db.query("ROLLBACK TO SAVEPOINT p");
      }
    });
  }
}

/**
 * Retention (DESIGN §7): drops the query index partitions of months wholly before `before`. Entries
 * and tiles are untouched, so every proof still verifies; pruned events are no longer searchable.
 */
export async function dropPartitionsBefore(pool: PgPool, before: number): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'events'::regclass AND c.relname ~ '^events_p[0-9]{6}$' ORDER BY 1`,
  );
  const dropped: string[] = [];
  for (const { name } of rows) {
    const year = Number(name.slice(8, 12));
    const month = Number(name.slice(12, 14)) - 1;
    if (Date.UTC(year, month + 1, 1) > before) continue;
    await pool.query(`DROP TABLE ${name}`);
    dropped.push(name);
  }
  return dropped;
}
