import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { generateSignerKey, parseSignerKey, parseVerifierKey } from "@sealtrail/core";
import { auditLog, LogEngine, originSigner } from "@sealtrail/engine";
import { batchOf } from "@sealtrail/store-testkit";
import Database from "better-sqlite3";
import { createSqliteStore } from "./sqlite-store.js";

const ROW = (logId: number, index: number) => BigInt(logId) * 2n ** 40n + BigInt(index);

describe("SQLite prune ledger (migrations 5 and 7)", () => {
  it("lets the database delete an entry only inside a range the ledger recorded first, and never touch the ledger", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sealtrail-ledger-"));
    const path = join(dir, "log.db");
    const store = createSqliteStore({ path });
    try {
      await store.append([batchOf("acme", 0, 10)]);
      const db = new Database(path);
      try {
        const logId = (db.prepare("SELECT id FROM logs WHERE name = 'acme'").get() as { id: number }).id;
        const del = (index: number) => db.prepare("DELETE FROM entries WHERE rowid = ?").run(ROW(logId, index));
        assert.throws(() => del(3), /entries is append-only \(only ranges recorded in pruned_ranges/);
        db.prepare("INSERT INTO pruned_ranges (log_id, start_idx, end_idx, pruned_at) VALUES (?, 2, 4, 'now')").run(logId);
        const keepHash = (index: number, hash: string) =>
          db
            .prepare(`INSERT INTO tree_hashes (log_id, level, idx, hash) SELECT log_id, 0, ?, ${hash} FROM entries WHERE rowid = ?`)
            .run(index, ROW(logId, index));
        assert.throws(() => del(3), /only once their leaf hashes are kept in tree_hashes/, "inside the range, its leaf hash not kept");
        keepHash(2, "zeroblob(32)");
        assert.throws(() => del(2), /leaf hashes are kept/, "another hash is not its leaf hash");
        keepHash(3, "leaf_hash");
        assert.equal(del(3).changes, 1, "inside the recorded range, its leaf hash kept");
        assert.throws(() => del(4), /append-only/, "just past the recorded range");
        assert.throws(() => db.prepare("DELETE FROM pruned_ranges").run(), /pruned_ranges is append-only/);
        assert.throws(() => db.prepare("UPDATE pruned_ranges SET end_idx = 10").run(), /pruned_ranges is append-only/);
        assert.throws(
          () =>
            db.prepare("INSERT OR REPLACE INTO pruned_ranges (log_id, start_idx, end_idx, pruned_at) VALUES (?, 2, 10, 'x')").run(logId),
          /append-only/,
        );
        assert.throws(() => db.prepare("DELETE FROM tree_hashes").run(), /tree_hashes is append-only/, "hashes are never pruned");
      } finally {
        db.close();
      }
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the offline audit verifies a pruned log by its hashes, reports the ranges, and fails on any other missing entry", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sealtrail-ledger-"));
    const path = join(dir, "log.db");
    const signer = parseSignerKey(await generateSignerKey("audit.test"));
    const origin = "audit.test/acme";
    const verifiers = [parseVerifierKey((await originSigner(signer, origin)).verifierKey)];
    try {
      const engine = await LogEngine.open({ store: createSqliteStore({ path }), signer, originPrefix: "audit.test" });
      const event = (i: number) => ({ action: "a.b", occurredAt: "2026-11-27T12:00:00Z", actor: { type: "user", id: `u_${i}` } });
      await engine.append(
        "acme",
        Array.from({ length: 600 }, (_, i) => event(i)),
      );
      await engine.close();
      const store = createSqliteStore({ path });
      await store.pruneEntries(
        "acme",
        [
          { start: 0, end: 300 },
          { start: 400, end: 410 },
        ],
        "2026-11-27T13:00:00Z",
      );
      const result = await auditLog(store, "acme", { verifiers, origin });
      assert.equal(result.ok, true, result.problem);
      // Worker threads, each reading through its own connection, say the same.
      assert.deepEqual(await auditLog(store, "acme", { verifiers, origin, workers: 2, chunkEntries: 256 }), result);
      assert.deepEqual(
        result.pruned?.map((r) => [r.start, r.end]),
        [
          [0, 300],
          [400, 410],
        ],
      );
      await store.close();
      const db = new Database(path);
      db.exec("DROP TRIGGER entries_no_delete");
      db.prepare("DELETE FROM entries WHERE rowid = ?").run(ROW(1, 450));
      db.close();
      const reopened = createSqliteStore({ path, readonly: true });
      const failed = await auditLog(reopened, "acme", { verifiers, origin });
      assert.deepEqual(await auditLog(reopened, "acme", { verifiers, origin, workers: 2, chunkEntries: 256 }), failed);
      await reopened.close();
      assert.equal(failed.ok, false);
      assert.equal(failed.failedIndex, 450);
      assert.match(failed.problem ?? "", /entry 450 is missing/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
