import assert from "node:assert/strict";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { after, before } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import pg from "pg";
import { startTestCluster, type TestCluster } from "../../packages/store-postgres/src/test-cluster.ts";

/**
 * The store an end-to-end suite runs `sealtrail serve` on: SQLite in the data directory, or, with
 * SEALTRAIL_E2E_STORE=postgres (set by the `*-postgres.test.ts` files, which then import the
 * suite), `serve --store postgres://…` on a database of one throwaway PostgreSQL cluster per test
 * file. One test body, two stores (issue 5: the end-to-end suite passes on PostgreSQL).
 */
export const onPostgres = process.env.SEALTRAIL_E2E_STORE === "postgres";

/** The log tables the database itself keeps append-only (both stores). */
export type GuardedTable = "entries" | "tree_hashes" | "checkpoints";

/** One stored log, read and changed behind the engine's back: what a database superuser can do. */
export interface RawLog {
  entry(index: number): Promise<{ eventId: string; leaf: Buffer }>;
  updateEntry(index: number, eventId: string, leaf: Buffer): Promise<number>;
  deleteEntry(index: number): Promise<number>;
  treeHash(level: number, index: number): Promise<Buffer>;
  updateTreeHash(level: number, index: number, hash: Buffer): Promise<number>;
  latestCheckpoint(): Promise<{ treeSize: number; note: string }>;
  updateCheckpointNote(treeSize: number, note: string): Promise<number>;
  /** Removes the append-only guard on `table` (SQLite: DROP TRIGGER; PostgreSQL: ALTER TABLE … DISABLE TRIGGER). */
  dropGuard(table: GuardedTable, change: "update" | "delete"): Promise<void>;
  close(): Promise<void>;
}

export interface TestStore {
  readonly dataDir: string;
  /** The database's URL on PostgreSQL (the superuser's); undefined on SQLite. */
  readonly url: string | undefined;
  /** After `serve --data DIR`: [] on SQLite, ["--store", url] on PostgreSQL. */
  readonly serveArgs: readonly string[];
  /** For the commands that open the store with no server (verify, keys): --data DIR, plus --store url on PostgreSQL. */
  readonly offlineArgs: readonly string[];
  /** The data directory and the database copied under a new name (no server may be running on them). */
  copy(dataDir: string): Promise<TestStore>;
  /** Direct access to one log's rows; the guards are still in place until `dropGuard`. */
  open(log: string): Promise<RawLog>;
  /**
   * How many entries the store holds for `log` once nothing accepted waits to be sequenced. On
   * PostgreSQL an append is durable once staged and the integrator sequences it after
   * (docs/deployment.md): after a crash a staged but unanswered event appears once the restarted
   * server integrates it, and each instance's view follows the store by a notification. SQLite
   * sequences before it commits: nothing waits.
   */
  settledSize(log: string): Promise<number>;
}

export interface StoreUnderTest {
  readonly kind: "sqlite" | "postgres";
  /** A fresh, empty store for a server (and its restarts) over `dataDir`. */
  create(dataDir: string): Promise<TestStore>;
}

/**
 * Call once at the top of a test file: on PostgreSQL it starts the file's one cluster in before()
 * (or at the first `create`) and stops it in after(); every `create` is a new database on it
 * (CREATE DATABASE, cheap).
 */
export function storeUnderTest(): StoreUnderTest {
  let cluster: TestCluster | undefined;
  let starting: Promise<TestCluster> | undefined;
  const started = () => {
    starting ??= startTestCluster().then((c) => {
      cluster = c;
      return c;
    });
    return starting;
  };
  if (onPostgres) {
    // Started before the first test (not inside one's timeout); a file's own before() may come first.
    before(started);
    after(async () => {
      await cluster?.stop();
    });
  }
  const running = (): TestCluster => {
    assert.ok(cluster, "the PostgreSQL cluster is running");
    return cluster;
  };
  const postgresStore = (dataDir: string, url: string): TestStore => ({
    dataDir,
    url,
    serveArgs: ["--store", url],
    offlineArgs: ["--data", dataDir, "--store", url],
    async copy(to) {
      cpSync(dataDir, to, { recursive: true });
      return postgresStore(to, await running().createDatabase(new URL(url).pathname.slice(1)));
    },
    open: (log) => openPostgresLog(url, log),
    async settledSize(log) {
      const database = new URL(url).pathname.slice(1);
      const sql = (query: string) => running().psql(database, `COPY (${query}) TO STDOUT`).trim();
      for (const deadline = Date.now() + 10_000; sql("SELECT count(*) FROM staged") !== "0"; await sleep(50)) {
        assert.ok(Date.now() < deadline, "staged appends were not integrated within 10 s");
      }
      const size = sql(`SELECT coalesce(max(e.idx) + 1, 0) FROM entries e JOIN logs l ON l.id = e.log_id WHERE l.name = '${log}'`);
      return Number(size);
    },
  });
  const sqliteStore = (dataDir: string): TestStore => ({
    dataDir,
    url: undefined,
    serveArgs: [],
    offlineArgs: ["--data", dataDir],
    async copy(to) {
      cpSync(dataDir, to, { recursive: true });
      return sqliteStore(to);
    },
    open: async (log) => openSqliteLog(join(dataDir, "sealtrail.db"), log),
    settledSize: async (log) => {
      const db = new Database(join(dataDir, "sealtrail.db"), { readonly: true });
      try {
        const { id } = db.prepare("SELECT id FROM logs WHERE name = ?").get(log) as { id: number };
        const range = [id * ROWS_PER_LOG, (id + 1) * ROWS_PER_LOG];
        return (db.prepare("SELECT count(*) AS n FROM entries WHERE rowid >= ? AND rowid < ?").get(...range) as { n: number }).n;
      } finally {
        db.close();
      }
    },
  });
  return {
    kind: onPostgres ? "postgres" : "sqlite",
    create: async (dataDir) => (onPostgres ? postgresStore(dataDir, await (await started()).createDatabase()) : sqliteStore(dataDir)),
  };
}

/** SQLite keeps a log's entries at rowid = log id × 2^40 + index (store-sqlite's schema). */
const ROWS_PER_LOG = 2 ** 40;

function openSqliteLog(path: string, log: string): RawLog {
  const db = new Database(path);
  const { id } = db.prepare("SELECT id FROM logs WHERE name = ?").get(log) as { id: number };
  const rowid = (index: number) => id * ROWS_PER_LOG + index;
  return {
    entry: async (index) => {
      const row = db.prepare("SELECT event_id, leaf FROM entries WHERE rowid = ?").get(rowid(index)) as { event_id: string; leaf: Buffer };
      return { eventId: row.event_id, leaf: row.leaf };
    },
    updateEntry: async (index, eventId, leaf) =>
      db.prepare("UPDATE entries SET event_id = ?, leaf = ? WHERE rowid = ?").run(eventId, leaf, rowid(index)).changes,
    deleteEntry: async (index) => db.prepare("DELETE FROM entries WHERE rowid = ?").run(rowid(index)).changes,
    treeHash: async (level, index) =>
      (db.prepare("SELECT hash FROM tree_hashes WHERE log_id = ? AND level = ? AND idx = ?").get(id, level, index) as { hash: Buffer })
        .hash,
    updateTreeHash: async (level, index, hash) =>
      db.prepare("UPDATE tree_hashes SET hash = ? WHERE log_id = ? AND level = ? AND idx = ?").run(hash, id, level, index).changes,
    latestCheckpoint: async () => {
      const row = db.prepare("SELECT tree_size, note FROM checkpoints WHERE log_id = ? ORDER BY tree_size DESC LIMIT 1").get(id) as {
        tree_size: number;
        note: string;
      };
      return { treeSize: row.tree_size, note: row.note };
    },
    updateCheckpointNote: async (treeSize, note) =>
      db.prepare("UPDATE checkpoints SET note = ? WHERE log_id = ? AND tree_size = ?").run(note, id, treeSize).changes,
    dropGuard: async (table, change) => {
      db.exec(`DROP TRIGGER ${table}_no_${change}`);
    },
    close: async () => {
      db.close();
    },
  };
}

async function openPostgresLog(url: string, log: string): Promise<RawLog> {
  // The cluster's superuser, on a connection of its own: nothing of Sealtrail in between.
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const one = async <R>(sql: string, values: unknown[]): Promise<R> => {
    const { rows } = await client.query(sql, values);
    assert.equal(rows.length, 1, sql);
    return rows[0] as R;
  };
  const changed = async (sql: string, values: unknown[]): Promise<number> => (await client.query(sql, values)).rowCount ?? 0;
  const { id } = await one<{ id: number }>("SELECT id FROM logs WHERE name = $1", [log]);
  return {
    entry: async (index) => {
      const row = await one<{ event_id: string; leaf: Buffer }>("SELECT event_id, leaf FROM entries WHERE log_id = $1 AND idx = $2", [
        id,
        index,
      ]);
      return { eventId: row.event_id, leaf: row.leaf };
    },
    updateEntry: (index, eventId, leaf) =>
      changed("UPDATE entries SET event_id = $1, leaf = $2 WHERE log_id = $3 AND idx = $4", [eventId, leaf, id, index]),
    deleteEntry: (index) => changed("DELETE FROM entries WHERE log_id = $1 AND idx = $2", [id, index]),
    treeHash: async (level, index) =>
      (await one<{ hash: Buffer }>("SELECT hash FROM tree_hashes WHERE log_id = $1 AND level = $2 AND idx = $3", [id, level, index])).hash,
    updateTreeHash: (level, index, hash) =>
      changed("UPDATE tree_hashes SET hash = $1 WHERE log_id = $2 AND level = $3 AND idx = $4", [hash, id, level, index]),
    latestCheckpoint: async () => {
      const row = await one<{ tree_size: string; note: string }>(
        "SELECT tree_size, note FROM checkpoints WHERE log_id = $1 ORDER BY tree_size DESC LIMIT 1",
        [id],
      );
      return { treeSize: Number(row.tree_size), note: row.note };
    },
    updateCheckpointNote: (treeSize, note) =>
      changed("UPDATE checkpoints SET note = $1 WHERE log_id = $2 AND tree_size = $3", [note, id, treeSize]),
    // Row triggers refuse UPDATE and DELETE (store-postgres' schema); a superuser may disable them all.
    dropGuard: async (table) => {
      await client.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
    },
    close: () => client.end(),
  };
}
