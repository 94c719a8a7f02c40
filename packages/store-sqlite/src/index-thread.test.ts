import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { eventBatches, random, randomDraft } from "@sealtrail/store-testkit";
import Database from "better-sqlite3";
import { indexPathOf, removeIndex } from "./index-db.js";
import { openIndexThread } from "./index-thread.js";
import { fieldsOfLeaf, type IndexBatch } from "./query-index.js";
import { createSqliteStore } from "./sqlite-store.js";

/** Every entry of the log database as the store would have posted it, one batch per log. */
function batchesOf(path: string): IndexBatch[] {
  const db = new Database(path, { readonly: true });
  try {
    const logs = db.prepare<[], { id: number; name: string }>("SELECT id, name FROM logs ORDER BY id").all();
    return logs.map((log) => {
      const rows = db
        .prepare<[number], { idx: number; leaf: Buffer }>(
          "SELECT rowid - log_id * 1099511627776 AS idx, leaf FROM entries WHERE log_id = ? ORDER BY rowid",
        )
        .all(log.id);
      return {
        logId: log.id,
        log: log.name,
        entries: rows.map((r) => ({ index: r.idx, fields: fieldsOfLeaf(r.leaf) })),
        size: rows.length,
      };
    });
  } finally {
    db.close();
  }
}

describe("the index thread", () => {
  it("says why it could not open the index database (a worker's SqliteError would arrive without its message)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sealtrail-index-thread-"));
    const path = join(dir, "audit.db");
    try {
      const store = createSqliteStore({ path });
      await store.close();
      writeFileSync(indexPathOf(path), "not a database ".repeat(400));
      const reopened = createSqliteStore({ path });
      try {
        await assert.rejects(reopened.flushIndex(), (error: Error) => {
          assert.match(error.message, /could not be opened: file is not a database \(SQLITE_NOTADB\)/);
          return true;
        });
      } finally {
        await reopened.close().catch(() => undefined);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("makes the appender wait while too many entries are unindexed, and adds what a catch-up already read only once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sealtrail-index-thread-"));
    const path = join(dir, "audit.db");
    try {
      const store = createSqliteStore({ path });
      const rng = random(3);
      const drafts = () => Array.from({ length: 15 }, () => randomDraft(rng, Date.UTC(2026, 0, 1)));
      await store.append(
        eventBatches([
          { log: "acme", startIndex: 0, drafts: drafts(), receivedAt: "2026-01-01T00:00:00.000Z" },
          { log: "globex", startIndex: 0, drafts: drafts(), receivedAt: "2026-01-01T00:00:01.000Z" },
        ]).batches,
      );
      await store.close();
      // As if the index had been lost: the thread's first add catches up from the leaves, then
      // receives the same 30 entries again, as a batch posted before the thread read the log.
      removeIndex(indexPathOf(path));
      const index = openIndexThread({ logPath: path, indexPath: indexPathOf(path), maxUnindexed: 10 });
      try {
        const batches = batchesOf(path);
        const waiting = index.add(batches);
        assert.ok(waiting instanceof Promise, "30 unindexed entries are over the bound of 10: the appender waits");
        await waiting;
        assert.equal(index.add([{ ...(batches[0] as IndexBatch), entries: (batches[0] as IndexBatch).entries.slice(0, 5) }]), undefined);
        assert.equal(await index.countEvents({ filter: {} }), 30, "each entry indexed once");
        assert.equal(await index.countEvents({ logs: ["acme"], filter: {} }), 15);
      } finally {
        await index.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
