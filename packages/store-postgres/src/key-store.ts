import { StoreError } from "@sealtrail/core";
import { type DataKey, type KeyScope, newDataKey, type SubjectKeyStore, scopeName } from "@sealtrail/privacy";
import { migrate } from "./migrate.js";
import { createPgPool, inTransaction, type PgPool } from "./pg-client.js";
import { redactUrl } from "./postgres-store.js";

export interface PostgresKeyStoreOptions {
  /** The database of the log store (`serve --store`): every instance then shares the same keys. */
  readonly connectionString: string;
  /** Connections of its own (default 2): key look-ups never wait behind the log store's pool. */
  readonly poolSize?: number;
  /** Apply pending migrations on start (default true); a least-privilege role only checks the schema. */
  readonly migrate?: boolean;
}

interface KeyRow {
  kid: string;
  key: Buffer;
}

/** How many times `keysFor` looks again when an erasure removes the key it just raced to create. */
const CREATE_ATTEMPTS = 3;

/**
 * Data keys in PostgreSQL (`subject_keys`, schema.ts migration 2), so that every server instance
 * behind a load balancer seals and reveals with the same keys, and an erasure through any instance
 * destroys the key for all of them (docs/personal-data.md). No key is cached in the process: an
 * instance that cached one would keep showing what another instance erased.
 *
 * Destroying is a DELETE; PostgreSQL keeps the deleted row's bytes in the table file until its
 * space is reused, so after each erasure the table is rewritten (VACUUM FULL: a new file holding
 * only the live rows; the old one is truncated at once, postgresql.org/docs/15/sql-vacuum.html).
 * Only the table's owner may do that: a least-privilege app role skips it and the owner runs it on
 * a schedule instead (docs/deployment.md). The write-ahead log, its archive and backups keep a copy
 * until they are recycled or expire, as backups of SQLite's keys.db do.
 */
export async function createPostgresKeyStore(options: PostgresKeyStoreOptions): Promise<SubjectKeyStore> {
  const description = `postgres-keys:${redactUrl(options.connectionString)}`;
  const pool = await createPgPool(options.connectionString, options.poolSize ?? 2, "sealtrail-keys");
  let compact: boolean;
  try {
    await migrate(pool, { apply: options.migrate ?? true });
    const { rows } = await pool.query<{ owner: boolean }>(
      "SELECT pg_has_role(relowner, 'USAGE') AS owner FROM pg_class WHERE oid = 'subject_keys'::regclass",
    );
    compact = rows[0]?.owner === true;
  } catch (cause) {
    await pool.end();
    if (cause instanceof StoreError) throw cause;
    throw new StoreError("key_store_failed", `key store: cannot open ${description}: ${(cause as Error).message}`, { cause });
  }
  return postgresKeyStore(pool, description, compact);
}

function postgresKeyStore(pool: PgPool, description: string, compact: boolean): SubjectKeyStore {
  const toKey = (row: KeyRow): DataKey => ({ kid: row.kid, key: new Uint8Array(row.key) });
  const byScopes = async (scopes: readonly KeyScope[]): Promise<Map<string, DataKey>> => {
    const { rows } = await pool.query<KeyRow & { log: string; subject: string }>(
      `SELECT k.kid, k.key, k.log, k.subject FROM subject_keys k
       JOIN unnest($1::text[], $2::text[]) AS want (log, subject) ON k.log = want.log AND k.subject = want.subject`,
      [scopes.map((s) => s.log), scopes.map((s) => s.subject)],
    );
    return new Map(rows.map((row) => [scopeName(row), toKey(row)]));
  };
  const guard = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (cause) {
      throw new StoreError("key_store_failed", `key store: ${what} failed: ${(cause as Error).message}`, { cause });
    }
  };

  let closed = false;
  return Object.freeze({
    description,
    keysFor: (scopes: readonly KeyScope[]) =>
      guard("keysFor", async () => {
        const keys = new Map<string, DataKey>();
        // Sorted: instances inserting overlapping batches then lock the (log, subject) entries in
        // the same order, so they wait on each other instead of deadlocking.
        let missing = [...new Map(scopes.map((scope) => [scopeName(scope), scope])).entries()]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([, scope]) => scope);
        for (let attempt = 0; attempt < CREATE_ATTEMPTS && missing.length > 0; attempt++) {
          for (const [name, key] of await byScopes(missing)) keys.set(name, key);
          missing = missing.filter((scope) => !keys.has(scopeName(scope)));
          if (missing.length === 0) break;
          // Instances racing to create the first key: one INSERT wins per subject, the others do
          // nothing and read the winner's key on the next turn (committed, so durable, before any
          // leaf is sealed under it). All of a batch's new keys go in one statement: one commit.
          const fresh = missing.map(newDataKey);
          const { rows } = await pool.query<{ kid: string }>(
            `INSERT INTO subject_keys (kid, log, subject, key)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[])
             ON CONFLICT (log, subject) DO NOTHING RETURNING kid`,
            [fresh.map((f) => f.kid), missing.map((s) => s.log), missing.map((s) => s.subject), fresh.map((f) => f.key)],
          );
          const won = new Set(rows.map((row) => row.kid));
          for (const [i, scope] of missing.entries()) {
            const mine = fresh[i] as { kid: string; key: Buffer };
            if (won.has(mine.kid)) keys.set(scopeName(scope), { kid: mine.kid, key: new Uint8Array(mine.key) });
          }
          missing = missing.filter((scope) => !keys.has(scopeName(scope)));
        }
        if (missing.length > 0) {
          throw new Error(`no key for ${missing.length} subject(s) after ${CREATE_ATTEMPTS} attempts (erased as fast as created)`);
        }
        return scopes.map((scope) => keys.get(scopeName(scope)) as DataKey);
      }),
    keyById: (kid: string) =>
      guard("keyById", async () => {
        const { rows } = await pool.query<KeyRow>("SELECT kid, key FROM subject_keys WHERE kid = $1", [kid]);
        return rows[0] ? toKey(rows[0]) : undefined;
      }),
    erase: (subject: string, opts: { log?: string; at: string }) =>
      guard("erase", async () => {
        const kids = await inTransaction(pool, async (db) => {
          const { rows } = await db.query<{ kid: string; log: string }>(
            "DELETE FROM subject_keys WHERE subject = $1 AND ($2::text IS NULL OR log = $2) RETURNING kid, log",
            [subject, opts.log ?? null],
          );
          if (rows.length > 0) {
            await db.query(
              `INSERT INTO subject_key_erasures (kid, log, subject, erased_at)
               SELECT kid, log, $3, $4 FROM unnest($1::text[], $2::text[]) AS e (kid, log) ON CONFLICT (kid) DO NOTHING`,
              [rows.map((r) => r.kid), rows.map((r) => r.log), subject, opts.at],
            );
          }
          return rows.map((r) => r.kid);
        });
        // Outside the transaction (VACUUM cannot run in one): the deleted rows' bytes leave the table
        // file. The keys are destroyed for every reader already; if the rewrite fails (a lock it
        // cannot get), the owner's scheduled VACUUM FULL does it (docs/deployment.md).
        if (kids.length > 0 && compact) await pool.query("VACUUM (FULL) subject_keys").catch(() => undefined);
        return kids;
      }),
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  });
}
