import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { toHex } from "@sealtrail/core";
import { batchOf } from "@sealtrail/store-testkit";
import Database from "better-sqlite3";
import { indexPathOf } from "./index-db.js";
import { applyMigrations } from "./migrate.js";
import { MIGRATIONS } from "./schema.js";
import { createSqliteStore } from "./sqlite-store.js";

const dir = mkdtempSync(join(tmpdir(), "sealtrail-upgrade-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const hex = (hashes: readonly Uint8Array[]) => hashes.map((hash) => toHex(hash));

/** A log database as version 6 wrote it: every leaf hash a `tree_hashes` row, none in `entries`. */
function writeVersion6(path: string, batch: ReturnType<typeof batchOf>): void {
  const db = new Database(path);
  try {
    applyMigrations(db, "schema_migrations", MIGRATIONS.slice(0, 6));
    db.prepare("INSERT INTO logs (id, name, created_at) VALUES (1, ?, '2026-11-27T00:00:00Z')").run(batch.log);
    const entry = db.prepare("INSERT INTO entries (rowid, log_id, event_id, leaf) VALUES (?, 1, ?, ?)");
    for (const e of batch.entries) entry.run(2n ** 40n + BigInt(e.index), e.id, e.leaf);
    const hash = db.prepare("INSERT INTO tree_hashes (log_id, level, idx, hash) VALUES (1, ?, ?, ?)");
    for (const h of batch.hashes) hash.run(h.level, h.index, h.hash);
  } finally {
    db.close();
  }
}

describe("upgrading a log database from schema 6 (leaf hashes in tree_hashes) to 7 (in the entries' rows)", () => {
  it("announces the upgrade, then serves, appends, deduplicates and prunes across both layouts", async () => {
    const path = join(dir, "v6.db");
    const old = batchOf("acme", 0, 300);
    writeVersion6(path, old);
    const told: string[] = [];
    const store = createSqliteStore({ path, onUpgrade: (message) => told.push(message) });
    try {
      assert.equal(told.length, 1);
      assert.match(told[0] ?? "", /^upgrading .*v6\.db from schema 6 to 7: once, and it can take minutes on a large log$/);
      const added = batchOf("acme", 300, 100);
      await store.append([added]);
      const leafHashes = (batch: ReturnType<typeof batchOf>) => hex(batch.hashes.filter((h) => h.level === 0).map((h) => h.hash));
      const all = [...leafHashes(old), ...leafHashes(added)];
      assert.deepEqual(hex(await store.readHashes("acme", 0, 0, 400)), all);
      assert.deepEqual(hex(await store.readHashes("acme", 0, 290, 20)), all.slice(290, 310), "a range across the two layouts");
      assert.deepEqual(hex(await store.readHashes("acme", 1, 0, 1)), hex(old.hashes.filter((h) => h.level === 1).map((h) => h.hash)));
      // The idempotency index was rebuilt over the old rows: ids of both layouts are found, and reused ones refused.
      assert.deepEqual((await store.findEntriesById("acme", ["acme-5", "acme-350", "nope"])).map((e) => e.index).sort(), [350, 5]);
      const reused = { ...batchOf("acme", 400, 1), entries: [{ ...batchOf("acme", 400, 1).entries[0], id: "acme-5" }] } as ReturnType<
        typeof batchOf
      >;
      await assert.rejects(store.append([reused]), /UNIQUE|append-only/);
      // Pruning old and new entries keeps every leaf hash.
      await store.pruneEntries?.(
        "acme",
        [
          { start: 0, end: 100 },
          { start: 320, end: 350 },
        ],
        "2026-11-28T00:00:00Z",
      );
      assert.equal((await store.readEntries("acme", 0, 400)).length, 270);
      assert.deepEqual(hex(await store.readHashes("acme", 0, 0, 400)), all);
    } finally {
      await store.close();
    }
    const again: string[] = [];
    await createSqliteStore({ path, onUpgrade: (message) => again.push(message) }).close();
    const fresh: string[] = [];
    await createSqliteStore({ path: join(dir, "new.db"), onUpgrade: (message) => fresh.push(message) }).close();
    assert.deepEqual([again, fresh], [[], []], "nothing to announce for a current or a new database");
  });

  it("announces an upgrade of the query index database too, from its own thread", async () => {
    const path = join(dir, "index-v3.db");
    const store = createSqliteStore({ path });
    await store.append([batchOf("acme", 0, 10)]);
    await store.close();
    // As an index of the previous version: its newest migration (which drops and recreates two
    // indexes, so it can be applied again) not recorded.
    const index = new Database(indexPathOf(path));
    const newest = index.prepare<[], { v: number }>("SELECT max(version) AS v FROM index_migrations").get()?.v ?? 0;
    index.prepare("DELETE FROM index_migrations WHERE version = ?").run(newest);
    index.close();
    const told: string[] = [];
    const upgraded = createSqliteStore({ path, onUpgrade: (message) => told.push(message) });
    try {
      // The thread starts on first use; its notice comes before the answer to what started it.
      await upgraded.flushIndex();
      assert.deepEqual(told.length, 1, told.join("\n"));
      assert.match(
        told[0] ?? "",
        new RegExp(`^upgrading the query index .*index-v3-index\\.db from version ${newest - 1} to ${newest}: once; queries wait for it$`),
      );
    } finally {
      await upgraded.close();
    }
  });
});
