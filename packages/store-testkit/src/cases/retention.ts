import assert from "node:assert/strict";
import { describe, type TestContext } from "node:test";
import type { LogStore, RetentionStore } from "@sealtrail/engine";
import type { ContractTest } from "../contract-test.js";
import { ALL, batchOf, checkpointOf, plainHashes, rejectsWithStoreError } from "../fixtures.js";
import type { StoreUnderTest } from "../harness.js";
import { eventBatches, random, randomDraft } from "../query-fixtures.js";

type Prunable = LogStore & RetentionStore;

const AT = "2026-11-27T12:00:00.000Z";

/** The store's retention capability, or a skip: it is optional (engine `RetentionStore`). */
function prunable(store: LogStore, t: TestContext): Prunable | undefined {
  const s = store as Partial<RetentionStore>;
  if (
    s.pruneEntries &&
    s.listPrunedRanges &&
    s.setRetentionPolicy &&
    s.listRetentionPolicies &&
    s.insertLegalHold &&
    s.releaseLegalHold &&
    s.listLegalHolds
  ) {
    return store as Prunable;
  }
  t.skip("this store does not implement RetentionStore");
  return undefined;
}

export function retentionCases(test: ContractTest): void {
  describe("retention (optional capability)", () => {
    test("prunes entry bodies of recorded ranges only, keeping hashes, checkpoints and the log's size", async ({ store }, t) => {
      const s = prunable(store, t);
      if (!s) return;
      await s.append([batchOf("acme", 0, 300), batchOf("globex", 0, 5)]);
      await s.appendCheckpoint(checkpointOf("acme", 300));
      const hashesBefore = plainHashes(await s.readHashes("acme", 0, 0, ALL));
      await s.pruneEntries(
        "acme",
        [
          { start: 0, end: 100 },
          { start: 150, end: 300 },
        ],
        AT,
      );
      const left = await s.readEntries("acme", 0, ALL);
      assert.deepEqual(
        left.map((e) => e.index),
        Array.from({ length: 50 }, (_, i) => 100 + i),
      );
      assert.deepEqual(plainHashes(await s.readHashes("acme", 0, 0, ALL)), hashesBefore, "level-0 hashes stay");
      assert.equal((await s.getLog("acme"))?.size, 300, "a pruned tail still counts");
      assert.equal((await s.latestCheckpoint("acme"))?.treeSize, 300);
      assert.deepEqual(await s.listPrunedRanges("acme"), [
        { start: 0, end: 100, prunedAt: AT },
        { start: 150, end: 300, prunedAt: AT },
      ]);
      assert.equal((await s.findEntriesById("acme", ["acme-5", "acme-120"])).length, 1);
      assert.equal((await s.readEntries("globex", 0, ALL)).length, 5, "other logs untouched");
      // The log keeps growing after its newest entries were pruned.
      await s.append([batchOf("acme", 300, 2)]);
      assert.equal((await s.getLog("acme"))?.size, 302);
    });

    test("refuses ranges beyond the log, overlapping each other or an earlier prune, and changes nothing then", async ({ store }, t) => {
      const s = prunable(store, t);
      if (!s) return;
      await s.append([batchOf("acme", 0, 10)]);
      await s.pruneEntries("acme", [{ start: 2, end: 4 }], AT);
      await rejectsWithStoreError(s.pruneEntries("acme", [{ start: 5, end: 11 }], AT));
      await rejectsWithStoreError(
        s.pruneEntries(
          "acme",
          [
            { start: 5, end: 7 },
            { start: 6, end: 8 },
          ],
          AT,
        ),
      );
      await rejectsWithStoreError(s.pruneEntries("acme", [{ start: 3, end: 5 }], AT));
      await rejectsWithStoreError(s.pruneEntries("acme", [{ start: 6, end: 6 }], AT));
      await rejectsWithStoreError(s.pruneEntries("nope", [{ start: 0, end: 1 }], AT));
      assert.equal((await s.readEntries("acme", 0, ALL)).length, 8);
      assert.deepEqual(await s.listPrunedRanges("acme"), [{ start: 2, end: 4, prunedAt: AT }]);
    });

    test("removes pruned events from the query index", async ({ store }, t) => {
      const s = prunable(store, t);
      if (!s?.queryEvents || !s.countEvents) {
        if (s) t.skip("this store keeps no query index");
        return;
      }
      const rng = random(8);
      const drafts = Array.from({ length: 40 }, () => randomDraft(rng, Date.UTC(2026, 0, 1)));
      const { batches } = eventBatches([{ log: "acme", startIndex: 0, drafts, receivedAt: AT }]);
      await s.append(batches);
      await s.pruneEntries("acme", [{ start: 0, end: 30 }], AT);
      const rows = await s.queryEvents({ logs: ["acme"], filter: {}, order: "asc", limit: 100 });
      assert.deepEqual(
        rows.map((r) => r.index),
        Array.from({ length: 10 }, (_, i) => 30 + i),
      );
      assert.equal(await s.countEvents({ logs: ["acme"], filter: {} }), 10);
      const text = drafts[0]?.action.split(".")[0] as string;
      const hits = await s.queryEvents({ logs: ["acme"], filter: { text: [text] }, order: "asc", limit: 100 });
      assert.ok(
        hits.every((r) => r.index >= 30),
        "free text finds no pruned event",
      );
    });

    test("keeps retention periods and legal holds (released holds stay listed)", async ({ store }, t) => {
      const s = prunable(store, t);
      if (!s) return;
      await s.setRetentionPolicy("acme", 30, AT);
      await s.setRetentionPolicy("acme", 90, AT);
      await s.setRetentionPolicy("globex", 7, AT);
      await s.setRetentionPolicy("globex", undefined, AT);
      assert.deepEqual(await s.listRetentionPolicies(), [{ log: "acme", days: 90, updatedAt: AT }]);
      await s.insertLegalHold({ id: "hold_1", log: "acme", query: "actor:u_1", reason: "case 1", createdAt: AT });
      await s.insertLegalHold({ id: "hold_2", log: "acme", reason: "case 2", createdAt: AT });
      assert.equal(await s.releaseLegalHold("hold_2", AT), true);
      assert.equal(await s.releaseLegalHold("hold_2", AT), false);
      assert.equal(await s.releaseLegalHold("nope", AT), false);
      assert.deepEqual(await s.listLegalHolds(), [
        { id: "hold_1", log: "acme", query: "actor:u_1", reason: "case 1", createdAt: AT },
        { id: "hold_2", log: "acme", reason: "case 2", createdAt: AT, releasedAt: AT },
      ]);
    });

    test("the prune ledger and the pruned state survive a reopen", async (harness: StoreUnderTest, t) => {
      const s = prunable(harness.store, t);
      if (!s) return;
      await s.append([batchOf("acme", 0, 10)]);
      await s.pruneEntries("acme", [{ start: 5, end: 10 }], AT);
      await s.close();
      const again = (await harness.reopen()) as Prunable;
      assert.deepEqual(await again.listPrunedRanges("acme"), [{ start: 5, end: 10, prunedAt: AT }]);
      assert.equal((await again.getLog("acme"))?.size, 10);
      assert.equal((await again.readEntries("acme", 0, ALL)).length, 5);
    });
  });
}
