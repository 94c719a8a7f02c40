import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { hashLeaf, toHex } from "@sealtrail/core";
import { batchOf, leafOf } from "@sealtrail/store-testkit";
import Database from "better-sqlite3";
import { openEntryReader } from "./entry-reader.js";
import { createSqliteStore } from "./sqlite-store.js";

const dir = mkdtempSync(join(tmpdir(), "sealtrail-entry-reader-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("openEntryReader (an audit worker's reader)", () => {
  it("reads exactly what the store reads: whole ranges, gaps, odd hashes, unknown logs", async () => {
    const path = join(dir, "log.db");
    const store = createSqliteStore({ path });
    await store.append([batchOf("acme", 0, 700), batchOf("beta", 0, 300)]);
    await store.pruneEntries("acme", [{ start: 100, end: 110 }], "2026-11-27T13:00:00Z");
    const db = new Database(path);
    db.exec("DROP TRIGGER tree_hashes_no_update; DROP TRIGGER entries_no_update");
    // A rewritten hash is served as stored, in its place: a leaf hash in its entry's row, and a
    // pruned entry's, which tree_hashes keeps.
    const acme = "log_id = (SELECT id FROM logs WHERE name = 'acme')";
    db.prepare(`UPDATE entries SET leaf_hash = ? WHERE ${acme} AND rowid - log_id * 1099511627776 = 600`).run(Buffer.alloc(32, 9));
    db.prepare(`UPDATE tree_hashes SET hash = ? WHERE level = 0 AND idx = 105 AND ${acme}`).run(Buffer.alloc(32, 8));
    db.close();
    assert.deepEqual(store.entryReader?.options, { path });
    // What both must serve: each leaf's hash as written, pruned ones included, the two rewritten.
    const written = (index: number) =>
      index === 600 ? "09".repeat(32) : index === 105 ? "08".repeat(32) : toHex(hashLeaf(leafOf("acme", index)));
    assert.deepEqual(
      (await store.readHashes("acme", 0, 0, 700)).map((h) => toHex(h)),
      Array.from({ length: 700 }, (_, i) => written(i)),
    );
    const reader = openEntryReader({ path });
    try {
      for (const [log, start, count] of [
        ["acme", 0, 256],
        ["acme", 0, 700],
        ["acme", 64, 128], // the pruned gap
        ["acme", 512, 188], // the rewritten hash
        ["acme", 690, 20], // past the end
        ["beta", 256, 256],
        ["nobody", 0, 10],
      ] as const) {
        assert.deepEqual(
          (await reader.readEntries(log, start, count)).map((e) => [e.index, e.id, Buffer.from(e.leaf).toString("hex")]),
          (await store.readEntries(log, start, count)).map((e) => [e.index, e.id, Buffer.from(e.leaf).toString("hex")]),
          `${log} entries ${start}+${count}`,
        );
        for (const level of [0, 1]) {
          assert.deepEqual(
            (await reader.readHashes(log, level, start, count)).map((h) => Buffer.from(h).toString("hex")),
            (await store.readHashes(log, level, start, count)).map((h) => Buffer.from(h).toString("hex")),
            `${log} level ${level} hashes ${start}+${count}`,
          );
        }
      }
      // In one piece: exactly the rows and hashes above, or nothing where the store has a gap or an odd hash.
      for (const [log, start, count] of [
        ["acme", 256, 444],
        ["acme", 512, 188], // the rewritten hash, served as stored
        ["beta", 0, 300],
      ] as const) {
        const packed = (await reader.readPackedChunk?.(log, start, count)) ?? assert.fail(`${log} ${start}+${count} in one piece`);
        const entries = await store.readEntries(log, start, count);
        assert.deepEqual(Buffer.from(packed.leaves), Buffer.concat(entries.map((e) => e.leaf)));
        assert.deepEqual(
          [...packed.leafEnds],
          entries.map((e) => e.leaf.length).map((_, i, all) => all.slice(0, i + 1).reduce((a, b) => a + b)),
        );
        assert.equal(Buffer.from(packed.ids).toString(), entries.map((e) => e.id).join(","));
        assert.deepEqual(Buffer.from(packed.leafHashes), Buffer.concat(await store.readHashes(log, 0, start, count)));
        assert.deepEqual(
          Buffer.from(packed.tileHashes),
          Buffer.concat(await store.readHashes(log, 1, start / 256, Math.floor(count / 256))),
        );
      }
      assert.equal(await reader.readPackedChunk?.("acme", 0, 256), undefined, "the pruned gap");
      assert.equal(await reader.readPackedChunk?.("beta", 256, 256), undefined, "past the end");
      assert.equal(await reader.readPackedChunk?.("nobody", 0, 10), undefined, "no such log");
      const odd = new Database(path);
      odd.pragma("ignore_check_constraints = ON");
      odd
        .prepare(
          "UPDATE entries SET leaf_hash = ? WHERE rowid - log_id * 1099511627776 = 3 AND log_id = (SELECT id FROM logs WHERE name = 'beta')",
        )
        .run(Buffer.alloc(31));
      odd.close();
      assert.equal(await reader.readPackedChunk?.("beta", 0, 300), undefined, "a 31-byte hash");
    } finally {
      await reader.close();
      await store.close();
    }
  });
});
