import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { LogStore } from "@sealtrail/engine";
import {
  ALL,
  batchOf,
  checkpointOf,
  type LogTable,
  plainEntries,
  type StoreUnderTest,
  snapshot,
  type Tamper,
  testLogStore,
  withStore,
} from "@sealtrail/store-testkit";
import Database from "better-sqlite3";
import { MIGRATIONS } from "./schema.js";
import { createSqliteStore, type SqliteStoreOptions } from "./sqlite-store.js";

/** One row of each log table, by its key. */
const FIRST_ROW: Record<LogTable, string> = {
  logs: "id = (SELECT min(id) FROM logs)",
  entries: "rowid = (SELECT min(rowid) FROM entries)",
  tree_hashes: "(log_id, level, idx) = (SELECT log_id, level, idx FROM tree_hashes ORDER BY log_id, level, idx LIMIT 1)",
  checkpoints: "(log_id, tree_size) = (SELECT log_id, tree_size FROM checkpoints ORDER BY log_id, tree_size LIMIT 1)",
};

const FORGE: Record<LogTable, string> = {
  logs: "created_at = '1970-01-01T00:00:00.000Z'",
  entries: "leaf = x'00'",
  tree_hashes: "hash = zeroblob(32)",
  checkpoints: "note = 'forged'",
};

/** The same row again, forged, through INSERT OR REPLACE. */
const REPLACE: Record<LogTable, string> = {
  logs: "INSERT OR REPLACE INTO logs (id, name, created_at) SELECT id, name, '1970-01-01T00:00:00.000Z' FROM logs",
  entries: "INSERT OR REPLACE INTO entries (rowid, log_id, event_id, leaf) SELECT rowid, log_id, event_id, x'00' FROM entries",
  tree_hashes: "INSERT OR REPLACE INTO tree_hashes (log_id, level, idx, hash) SELECT log_id, level, idx, zeroblob(32) FROM tree_hashes",
  checkpoints:
    "INSERT OR REPLACE INTO checkpoints (log_id, tree_size, root_hash, note, created_at) SELECT log_id, tree_size, root_hash, 'forged', created_at FROM checkpoints",
};

interface SqliteHarness extends StoreUnderTest {
  readonly path: string;
  /** A second, raw connection to the same file (opened on first use, closed by cleanup). */
  raw(): Database.Database;
}

async function createHarness(options: Partial<SqliteStoreOptions> = {}): Promise<SqliteHarness> {
  const dir = mkdtempSync(join(tmpdir(), "sealtrail-sqlite-"));
  const path = join(dir, "data", "audit.db");
  const stores: LogStore[] = [];
  const open = (): LogStore => {
    const store = createSqliteStore({ ...options, path });
    stores.push(store);
    return store;
  };
  let raw: Database.Database | undefined;
  const connection = (): Database.Database => {
    raw ??= new Database(path, { fileMustExist: true });
    return raw;
  };
  const exec = async (sql: string): Promise<void> => {
    connection().prepare(sql).run();
  };
  const tamper: Tamper = {
    refusal: /append-only/,
    update: (table) => exec(`UPDATE ${table} SET ${FORGE[table]} WHERE ${FIRST_ROW[table]}`),
    delete: (table) => exec(`DELETE FROM ${table} WHERE ${FIRST_ROW[table]}`),
    upsert: (table) => exec(`${REPLACE[table]} WHERE ${FIRST_ROW[table]}`),
    truncate: (table) => exec(`DELETE FROM ${table}`),
  };
  return {
    path,
    store: open(),
    reopen: async () => open(),
    tamper,
    raw: connection,
    cleanup: async () => {
      for (const store of stores) await store.close();
      raw?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

testLogStore({ name: "SQLite", create: () => createHarness() });

const mode = (path: string): number => statSync(path).mode & 0o777;

/** Captures the store's own connection (better-sqlite3 keeps it private) by spying on pragma(). */
function captureConnections(): { connections: () => Database.Database[]; restore: () => void } {
  const prototype = Database.prototype;
  const original = prototype.pragma;
  const seen = new Set<Database.Database>();
  prototype.pragma = function (this: Database.Database, ...args: Parameters<typeof original>) {
    seen.add(this);
    return original.apply(this, args);
  } as typeof original;
  return {
    connections: () => [...seen],
    restore: () => {
      prototype.pragma = original;
    },
  };
}

describe("SQLite store", () => {
  it("creates the database file and its WAL and shared-memory files with mode 0600, whatever the umask", () => {
    const previous = process.umask(0);
    return withStore(createHarness, async ({ store, path }) => {
      process.umask(previous);
      await store.append([batchOf("acme", 0, 1)]);
      for (const file of [path, `${path}-wal`, `${path}-shm`]) assert.equal(mode(file).toString(8), "600", file);
    }).finally(() => process.umask(previous));
  });

  it("tightens an existing database file to mode 0600", () => {
    const dir = mkdtempSync(join(tmpdir(), "sealtrail-sqlite-"));
    const path = join(dir, "audit.db");
    writeFileSync(path, "");
    chmodSync(path, 0o644);
    const store = createSqliteStore({ path });
    try {
      assert.equal(mode(path).toString(8), "600");
    } finally {
      void store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const [durability, synchronous] of [
    [undefined, 2],
    ["full", 2],
    ["normal", 1],
  ] as const) {
    it(`opens in WAL mode with synchronous=${synchronous === 2 ? "FULL" : "NORMAL"} when durability is ${durability ?? "not set"}`, async () => {
      const spy = captureConnections();
      const harness = await createHarness(durability ? { durability } : {}).finally(spy.restore);
      try {
        const [own] = spy.connections();
        assert.ok(own, "the store's connection was seen");
        assert.equal(own.pragma("journal_mode", { simple: true }), "wal");
        assert.equal(own.pragma("synchronous", { simple: true }), synchronous);
        assert.equal(own.pragma("foreign_keys", { simple: true }), 1);
        // journal_mode=WAL is a property of the file: a fresh connection sees it too.
        assert.equal(harness.raw().pragma("journal_mode", { simple: true }), "wal");
      } finally {
        await harness.cleanup();
      }
    });
  }

  it("applies each migration once, however often the file is opened", () =>
    withStore(createHarness, async ({ store, reopen, raw }) => {
      await store.append([batchOf("acme", 0, 2)]);
      await store.close();
      await (await reopen()).close();
      const again = await reopen();
      const versions = raw()
        .prepare<[], { version: number }>("SELECT version FROM schema_migrations ORDER BY version")
        .all()
        .map((r) => r.version);
      assert.deepEqual(
        versions,
        MIGRATIONS.map((_, i) => i + 1),
      );
      const triggers = raw().prepare<[], { n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'trigger'").get();
      assert.equal(triggers?.n, 15, "update, delete and replace triggers on four tables and the prune ledger");
      assert.equal((await again.getLog("acme"))?.size, 2);
    }));

  it("upgrades a database created by the first migration, keeping its data", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sealtrail-sqlite-"));
    const path = join(dir, "audit.db");
    try {
      const old = new Database(path);
      old.exec(MIGRATIONS[0] as string);
      old.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
      old.prepare("INSERT INTO schema_migrations VALUES (1, '2026-01-01T00:00:00.000Z')").run();
      old.close();
      const first = createSqliteStore({ path });
      await first.append([batchOf("acme", 0, 3)]);
      await first.close();
      const store = createSqliteStore({ path });
      try {
        assert.deepEqual(plainEntries(await store.readEntries("acme", 0, ALL)), plainEntries(batchOf("acme", 0, 3).entries));
        const raw = new Database(path);
        try {
          assert.equal(raw.prepare<[], { n: number }>("SELECT count(*) AS n FROM schema_migrations").get()?.n, MIGRATIONS.length);
          assert.throws(
            () =>
              raw
                .prepare(
                  "INSERT OR REPLACE INTO entries (rowid, log_id, event_id, leaf) SELECT rowid, log_id, event_id, x'00' FROM entries",
                )
                .run(),
            /append-only/,
          );
        } finally {
          raw.close();
        }
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("lays entries out at rowid log_id·2^40 + index, with no collision between logs", () =>
    withStore(createHarness, async ({ store, raw }) => {
      await store.append([batchOf("acme", 0, 3), batchOf("globex", 0, 2)]);
      await store.append([batchOf("acme", 3, 1)]);
      const rows = raw()
        .prepare<[], { rowid: bigint; log_id: bigint; event_id: string }>("SELECT rowid, log_id, event_id FROM entries ORDER BY rowid")
        .safeIntegers(true)
        .all();
      const ids = raw()
        .prepare<[], { id: number; name: string }>("SELECT id, name FROM logs")
        .all()
        .reduce<Record<string, bigint>>((acc, r) => Object.assign(acc, { [r.name]: BigInt(r.id) }), {});
      const expected = [...[0, 1, 2, 3].map((i) => ({ log: "acme", i })), ...[0, 1].map((i) => ({ log: "globex", i }))].map(
        ({ log, i }) => ({ rowid: (ids[log] as bigint) * 2n ** 40n + BigInt(i), log_id: ids[log] as bigint, event_id: `${log}-${i}` }),
      );
      assert.deepEqual(rows, expected);
    }));

  it("keeps logs apart past log id 8192, where rowids exceed 2^53", () =>
    withStore(createHarness, async ({ store, raw }) => {
      await store.append([batchOf("acme", 0, 1)]);
      // Logs are append-only but inserts are allowed: jump the ids where double precision runs out.
      const insert = raw().prepare("INSERT INTO logs (id, name, created_at) VALUES (?, ?, '2026-11-27T12:00:00.000Z')");
      const tenants = [8191, 8192, 8193, 2 ** 22].map((id) => ({ id, name: `tenant-${id}` }));
      for (const { id, name } of tenants) insert.run(id, name);
      for (const { name } of tenants) await store.append([batchOf(name, 0, 3)]);
      for (const { name } of tenants) await store.append([batchOf(name, 3, 2)]);
      for (const { name } of tenants) {
        assert.equal((await store.getLog(name))?.size, 5, name);
        assert.deepEqual(plainEntries(await store.readEntries(name, 0, ALL)), plainEntries(batchOf(name, 0, 5).entries), name);
        assert.deepEqual(plainEntries(await store.findEntriesById(name, [`${name}-4`])), plainEntries(batchOf(name, 4, 1).entries));
      }
      const [top] = raw().prepare<[], { r: bigint }>("SELECT max(rowid) AS r FROM entries").safeIntegers(true).all();
      assert.equal(top?.r, 2n ** 22n * 2n ** 40n + 4n);
    }));

  it("proves something: the same tampering succeeds once the triggers are dropped", () =>
    withStore(createHarness, async ({ store, tamper, raw }) => {
      // A whole tile: tree_hashes then holds a row (its level-1 hash); leaf hashes are in the entries' rows.
      await store.append([batchOf("acme", 0, 256)]);
      await store.appendCheckpoint(checkpointOf("acme", 256));
      const triggers = raw().prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'trigger'").all();
      for (const { name } of triggers) raw().exec(`DROP TRIGGER ${name}`);
      for (const table of ["entries", "tree_hashes", "checkpoints", "logs"] as const) {
        const before = await snapshot(store);
        await tamper.update(table);
        assert.notDeepEqual(await snapshot(store), before, `update ${table} changed nothing`);
      }
      for (const table of ["entries", "tree_hashes", "checkpoints"] as const) {
        const before = await snapshot(store);
        await tamper.delete(table);
        assert.notDeepEqual(await snapshot(store), before, `delete ${table} changed nothing`);
      }
      const replaced = raw().prepare<[], { n: number }>("SELECT count(*) AS n FROM entries").get();
      await tamper.upsert?.("entries");
      assert.equal(raw().prepare<[], { n: number }>("SELECT count(*) AS n FROM entries").get()?.n, replaced?.n);
      assert.equal(
        raw().prepare<[], { leaf: Buffer }>("SELECT leaf FROM entries ORDER BY rowid LIMIT 1").get()?.leaf.toString("hex"),
        "00",
      );
    }));

  it("opens read-only for audits: reads work, writes are refused, the file is not touched", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sealtrail-ro-"));
    const path = join(dir, "audit.db");
    try {
      const writer = createSqliteStore({ path });
      await writer.append([batchOf("acme", 0, 3)]);
      await writer.close();
      chmodSync(path, 0o640);
      const reader = createSqliteStore({ path, readonly: true });
      try {
        assert.equal((await reader.getLog("acme"))?.size, 3);
        assert.deepEqual(plainEntries(await reader.readEntries("acme", 0, ALL)), plainEntries(batchOf("acme", 0, 3).entries));
        await assert.rejects(reader.append([batchOf("acme", 3, 1)]), /readonly/i);
        assert.equal(statSync(path).mode & 0o777, 0o640, "a read-only open changes no permission");
      } finally {
        await reader.close();
      }
      assert.throws(() => createSqliteStore({ path: join(dir, "missing.db"), readonly: true }), /cannot open/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a read-only open of a database whose schema is older than this code", () => {
    const dir = mkdtempSync(join(tmpdir(), "sealtrail-ro-"));
    const path = join(dir, "old.db");
    try {
      const raw = new Database(path);
      raw.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
      raw.exec(MIGRATIONS[0] as string);
      raw.prepare("INSERT INTO schema_migrations VALUES (1, 'then')").run();
      raw.close();
      assert.throws(
        () => createSqliteStore({ path, readonly: true }),
        (error: Error & { code?: string }) => error.code === "schema_outdated",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("works in memory", async () => {
    const store = createSqliteStore({ path: ":memory:" });
    try {
      await store.append([batchOf("acme", 0, 2)]);
      assert.deepEqual(plainEntries(await store.readEntries("acme", 0, ALL)), plainEntries(batchOf("acme", 0, 2).entries));
      assert.equal(store.description, "sqlite::memory:");
    } finally {
      await store.close();
    }
  });
});
