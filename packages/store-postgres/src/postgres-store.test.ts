import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { LogStore } from "@sealtrail/engine";
import type { DataKey, SubjectKeyStore } from "@sealtrail/privacy";
import { testSubjectKeyStore } from "@sealtrail/privacy/testkit";
import {
  ALL,
  batchOf,
  checkpointOf,
  eventBatches,
  type LogTable,
  random,
  randomDraft,
  type StoreUnderTest,
  snapshot,
  type Tamper,
  testLogStore,
} from "@sealtrail/store-testkit";
import pg from "pg";
import { createPostgresKeyStore } from "./key-store.js";
import { createPostgresStore, redactUrl } from "./postgres-store.js";
import { appRoleGrants, LOG_TABLES, MIGRATIONS, pruneRoleGrants } from "./schema.js";
import { startTestCluster, type TestCluster } from "./test-cluster.js";

let cluster: TestCluster;

/** A login role with appRoleGrants on the database of `url` (docs/deployment.md), and its URL. */
function appRole(url: string): { database: string; role: string; appUrl: string } {
  const database = new URL(url).pathname.slice(1);
  const role = `app_${database}`;
  cluster.psql(database, `CREATE ROLE ${role} LOGIN`);
  cluster.psql(database, appRoleGrants(role));
  return { database, role, appUrl: cluster.url(database, role) };
}
/** A migrated database that each test's database copies (CREATE DATABASE … TEMPLATE): no migration per test. */
let template: string;
before(async () => {
  cluster = await startTestCluster();
  const url = await cluster.createDatabase();
  await (await createPostgresStore({ connectionString: url, poolSize: 1 })).close();
  template = new URL(url).pathname.slice(1);
});
after(async () => {
  await cluster?.stop();
});

const AT = "2026-11-27T12:00:00.000Z";

const KEYS: Record<LogTable, string> = {
  logs: "id",
  entries: "log_id, idx",
  tree_hashes: "log_id, level, idx",
  checkpoints: "log_id, tree_size",
};

const FORGE: Record<LogTable, string> = {
  logs: "created_at = '1970-01-01T00:00:00.000Z'",
  entries: "leaf = '\\x00'",
  tree_hashes: "hash = decode(repeat('00', 32), 'hex')",
  checkpoints: "note = 'forged'",
};

/** The first row again, forged, through INSERT … ON CONFLICT DO UPDATE. */
const UPSERT: Record<LogTable, string> = {
  logs: "INSERT INTO logs (name, created_at) SELECT name, created_at FROM logs ORDER BY id LIMIT 1 ON CONFLICT (name) DO UPDATE SET created_at = 'x'",
  entries: "INSERT INTO entries SELECT * FROM entries ORDER BY log_id, idx LIMIT 1 ON CONFLICT (log_id, idx) DO UPDATE SET leaf = '\\x00'",
  tree_hashes:
    "INSERT INTO tree_hashes SELECT * FROM tree_hashes ORDER BY log_id, level, idx LIMIT 1 ON CONFLICT (log_id, level, idx) DO UPDATE SET hash = decode(repeat('00', 32), 'hex')",
  checkpoints:
    "INSERT INTO checkpoints SELECT * FROM checkpoints ORDER BY log_id, tree_size LIMIT 1 ON CONFLICT (log_id, tree_size) DO UPDATE SET note = 'forged'",
};

const firstRow = (table: LogTable): string => `(${KEYS[table]}) = (SELECT ${KEYS[table]} FROM ${table} ORDER BY ${KEYS[table]} LIMIT 1)`;

async function createHarness(): Promise<StoreUnderTest & { url: string }> {
  const url = await cluster.createDatabase(template);
  const stores: LogStore[] = [];
  const open = async (): Promise<LogStore> => {
    const store = await createPostgresStore({ connectionString: url, poolSize: 4 });
    stores.push(store);
    return store;
  };
  const raw = new pg.Client({ connectionString: url });
  let connected = false;
  const exec = async (sql: string): Promise<void> => {
    if (!connected) {
      await raw.connect();
      connected = true;
    }
    await raw.query(sql);
  };
  const tamper: Tamper = {
    refusal: /append-only/,
    update: (table) => exec(`UPDATE ${table} SET ${FORGE[table]} WHERE ${firstRow(table)}`),
    delete: (table) => exec(`DELETE FROM ${table} WHERE ${firstRow(table)}`),
    upsert: (table) => exec(UPSERT[table]),
    // CASCADE: without it, the foreign keys refuse first and the triggers never get asked.
    truncate: (table) => exec(`TRUNCATE ${table} CASCADE`),
  };
  return {
    url,
    store: await open(),
    reopen: open,
    tamper,
    cleanup: async () => {
      for (const store of stores) await store.close();
      if (connected) await raw.end();
    },
  };
}

testLogStore({ name: "PostgreSQL", create: createHarness, timeoutMs: 30_000 });

testSubjectKeyStore({
  name: "PostgreSQL",
  timeoutMs: 30_000,
  create: async () => {
    const url = await cluster.createDatabase(template);
    const opened: SubjectKeyStore[] = [];
    const open = async () => {
      const store = await createPostgresKeyStore({ connectionString: url });
      opened.push(store);
      return store;
    };
    return {
      keyStore: await open(),
      open,
      rawBytes: async () => cluster.databaseFiles(new URL(url).pathname.slice(1)),
      cleanup: async () => {
        for (const store of opened) await store.close();
      },
    };
  },
});

describe("PostgreSQL store", () => {
  it("never puts credentials in its description", () => {
    assert.equal(redactUrl("postgres://app:s3cret@db.internal:5432/audit?sslmode=require"), "postgres://db.internal:5432/audit");
  });

  it("stores leaf bytes as bytea exactly as given", async () => {
    const { store, url, cleanup } = await createHarness();
    try {
      const batch = batchOf("acme", 0, 2);
      await store.append([batch]);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query("SELECT pg_typeof(leaf)::text AS type, leaf FROM entries ORDER BY idx");
      await client.end();
      assert.equal(rows[0].type, "bytea");
      assert.deepEqual(new Uint8Array(rows[1].leaf), batch.entries[1]?.leaf);
    } finally {
      await cleanup();
    }
  });

  it("migrates once when several instances start at the same time", async () => {
    const url = await cluster.createDatabase();
    const stores = await Promise.all(Array.from({ length: 4 }, () => createPostgresStore({ connectionString: url, poolSize: 2 })));
    try {
      await stores[0]?.append([batchOf("acme", 0, 3)]);
      assert.equal((await stores[3]?.getLog("acme"))?.size, 3);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query("SELECT count(*)::int AS n FROM schema_migrations");
      await client.end();
      assert.equal(rows[0].n, MIGRATIONS.length);
    } finally {
      for (const store of stores) await store.close();
    }
  });

  it("runs with the least-privilege app role, which can insert and select but never update, delete or truncate log tables", async () => {
    const url = await cluster.createDatabase();
    const owner = await createPostgresStore({ connectionString: url, poolSize: 2 });
    await owner.append([batchOf("acme", 0, 3)]);
    await owner.appendCheckpoint(checkpointOf("acme", 3));
    await owner.close();
    const { appUrl } = appRole(url);
    const app = await createPostgresStore({ connectionString: appUrl, poolSize: 2, migrate: false });
    try {
      // Everything the server does works as the app role.
      await app.append([batchOf("acme", 3, 2), batchOf("globex", 0, 1)]);
      await app.appendCheckpoint(checkpointOf("acme", 5));
      const before = await snapshot(app);
      assert.equal((await app.queryEvents({ filter: {}, order: "desc", limit: 10 })).length, 0, "fixture leaves are not events");
      const client = new pg.Client({ connectionString: appUrl });
      await client.connect();
      try {
        for (const table of LOG_TABLES) {
          for (const sql of [
            `UPDATE ${table} SET ${FORGE[table]}`,
            `DELETE FROM ${table}`,
            `TRUNCATE ${table} CASCADE`,
            `ALTER TABLE ${table} DISABLE TRIGGER ALL`,
          ]) {
            await assert.rejects(client.query(sql), /permission denied|must be owner/, sql);
          }
        }
      } finally {
        await client.end();
      }
      assert.deepEqual(await snapshot(app), before);
    } finally {
      await app.close();
    }
  });

  it("lets only a role with the prune grants prune, and even then only rows of ranges it recorded first in the ledger", async () => {
    const url = await cluster.createDatabase();
    const owner = await createPostgresStore({ connectionString: url, poolSize: 2 });
    const rng = random(5);
    const drafts = Array.from({ length: 20 }, () => randomDraft(rng, Date.UTC(2026, 0, 1)));
    await owner.append(eventBatches([{ log: "acme", startIndex: 0, drafts, receivedAt: AT }]).batches);
    await owner.close();
    const { database, role, appUrl } = appRole(url);
    const raw = new pg.Client({ connectionString: appUrl });
    await raw.connect();
    let app = await createPostgresStore({ connectionString: appUrl, poolSize: 2, migrate: false });
    try {
      // The app role alone keeps holds but may not prune, and says so before anything is recorded.
      await app.insertLegalHold({ id: "hold_1", log: "acme", reason: "case 1", createdAt: AT });
      assert.equal((await app.listLegalHolds()).length, 1);
      for (const attempt of [app.setRetentionPolicy("acme", 30, AT), app.pruneEntries("acme", [{ start: 0, end: 5 }], AT)]) {
        await assert.rejects(attempt, (error: Error & { code?: string }) => {
          assert.equal(error.code, "retention_not_permitted");
          assert.match(error.message, new RegExp(`role ${role} may not prune`));
          return true;
        });
      }
      assert.deepEqual(await app.listPrunedRanges("acme"), []);
      assert.equal((await app.readEntries("acme", 0, ALL)).length, 20);
      for (const sql of ["INSERT INTO pruned_ranges VALUES (1, 0, 20, 'x')", "DELETE FROM entries", "DELETE FROM events"]) {
        await assert.rejects(raw.query(sql), /permission denied/, sql);
      }

      cluster.psql(database, pruneRoleGrants(role));
      await app.close();
      app = await createPostgresStore({ connectionString: appUrl, poolSize: 2, migrate: false });
      await app.setRetentionPolicy("acme", 30, AT);
      await app.pruneEntries("acme", [{ start: 0, end: 5 }], AT);
      assert.deepEqual(
        (await app.readEntries("acme", 0, ALL)).map((e) => e.index),
        Array.from({ length: 15 }, (_, i) => 5 + i),
      );
      assert.equal(await app.countEvents({ logs: ["acme"], filter: {} }), 15);
      // Rows outside the ledger's ranges stay, whoever asks; the ledger itself never changes.
      const superuser = new pg.Client({ connectionString: url });
      await superuser.connect();
      try {
        for (const sql of ["DELETE FROM entries WHERE idx = 7", "DELETE FROM events WHERE idx = 7"]) {
          await assert.rejects(raw.query(sql), /append-only/, sql);
          await assert.rejects(superuser.query(sql), /append-only/, sql);
        }
        for (const sql of ["UPDATE events SET outcome = 'success'", "UPDATE entries SET leaf = '\\x00' WHERE idx = 7"]) {
          await assert.rejects(raw.query(sql), /permission denied/, sql);
          await assert.rejects(superuser.query(sql), /append-only/, sql);
        }
        for (const sql of ["UPDATE pruned_ranges SET end_idx = 20", "DELETE FROM pruned_ranges", "TRUNCATE pruned_ranges CASCADE"]) {
          await assert.rejects(raw.query(sql), /permission denied/, sql);
          await assert.rejects(superuser.query(sql), /append-only/, sql);
        }
      } finally {
        await superuser.end();
      }
      assert.deepEqual(await app.listPrunedRanges("acme"), [{ start: 0, end: 5, prunedAt: AT }]);
      assert.equal((await app.readEntries("acme", 0, ALL)).length, 15);
      assert.equal(await app.countEvents({ logs: ["acme"], filter: {} }), 15);
    } finally {
      await raw.end();
      await app.close();
    }
  });

  it("refuses to start as a role without DDL rights on an outdated schema, with a clear error", async () => {
    const url = await cluster.createDatabase();
    await assert.rejects(createPostgresStore({ connectionString: url, migrate: false }), (error: Error & { code?: string }) => {
      assert.equal(error.code, "schema_outdated");
      return true;
    });
  });

  it("lets the app role read, create and destroy data keys, but never change a key or an erasure record", async () => {
    const url = await cluster.createDatabase(template);
    const { appUrl } = appRole(url);
    const keys = await createPostgresKeyStore({ connectionString: appUrl, migrate: false });
    const client = new pg.Client({ connectionString: appUrl });
    await client.connect();
    try {
      const [key] = (await keys.keysFor([
        { log: "acme", subject: "u_42" },
        { log: "acme", subject: "u_7" },
      ])) as [DataKey, DataKey];
      assert.deepEqual(await keys.keyById(key.kid), key);
      for (const sql of [
        "UPDATE subject_keys SET key = decode(repeat('00', 32), 'hex')",
        "TRUNCATE subject_keys",
        "ALTER TABLE subject_keys ALTER COLUMN key SET STATISTICS 100",
      ]) {
        await assert.rejects(client.query(sql), /permission denied|must be owner/, sql);
      }
      // Not the table's owner: the erasure deletes the row and leaves the table's rewrite to the owner.
      assert.deepEqual(await keys.erase("u_42", { at: "2026-11-27T13:00:00.000Z" }), [key.kid]);
      assert.equal(await keys.keyById(key.kid), undefined);
      const { rows } = await client.query("SELECT kid, log, subject FROM subject_key_erasures");
      assert.deepEqual(rows, [{ kid: key.kid, log: "acme", subject: "u_42" }]);
      for (const sql of [
        "UPDATE subject_key_erasures SET erased_at = 'x'",
        "DELETE FROM subject_key_erasures",
        "TRUNCATE subject_key_erasures",
      ]) {
        await assert.rejects(client.query(sql), /permission denied/, sql);
      }
    } finally {
      await client.end();
      await keys.close();
    }
  });

  it("keeps the erasure record append-only even for its owner", async () => {
    const url = await cluster.createDatabase(template);
    const keys = await createPostgresKeyStore({ connectionString: url });
    await keys.keysFor([{ log: "acme", subject: "u_42" }]);
    await keys.erase("u_42", { at: "2026-11-27T13:00:00.000Z" });
    await keys.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (const sql of [
        "UPDATE subject_key_erasures SET erased_at = 'x'",
        "DELETE FROM subject_key_erasures",
        "TRUNCATE subject_key_erasures",
      ]) {
        await assert.rejects(client.query(sql), /append-only/, sql);
      }
    } finally {
      await client.end();
    }
  });
});
