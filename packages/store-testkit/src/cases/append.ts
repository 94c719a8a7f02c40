import assert from "node:assert/strict";
import { describe } from "node:test";
import type { LogAppend } from "@sealtrail/engine";
import type { ContractTest } from "../contract-test.js";
import { ALL, batchOf, checkpointOf, expectedEntries, logNames, plainEntries, rejectsWithStoreError, snapshot } from "../fixtures.js";

export function appendCases(test: ContractTest): void {
  describe("append transactions", () => {
    test("commits batches for several logs in one call", async ({ store }) => {
      const batches = [batchOf("acme", 0, 2), batchOf("globex", 0, 3), batchOf("initech", 0, 1)];
      await store.append(batches);
      for (const batch of batches) assert.deepEqual(plainEntries(await store.readEntries(batch.log, 0, ALL)), expectedEntries(batch));
    });

    test("rejects a batch whose startIndex is not the log's size (concurrent_writer)", async ({ store }) => {
      await store.append([batchOf("acme", 0, 3)]);
      const before = await snapshot(store);
      await rejectsWithStoreError(store.append([batchOf("acme", 2, 2, "behind")]), "concurrent_writer");
      await rejectsWithStoreError(store.append([batchOf("acme", 4, 2, "ahead")]), "concurrent_writer");
      await rejectsWithStoreError(store.append([batchOf("acme", 0, 1, "again")]), "concurrent_writer");
      await rejectsWithStoreError(store.append([batchOf("globex", 1, 1)]), "concurrent_writer");
      assert.deepEqual(await snapshot(store), before);
    });

    test("rejects the whole transaction when one of its batches has a wrong startIndex", async ({ store }) => {
      await store.append([batchOf("acme", 0, 2)]);
      await store.appendCheckpoint(checkpointOf("acme", 2));
      const before = await snapshot(store);
      // The good batch for a new log comes first: it must not survive the bad one after it.
      await rejectsWithStoreError(store.append([batchOf("fresh", 0, 3), batchOf("acme", 1, 2, "stale")]), "concurrent_writer");
      // And the other way round: a good batch for an existing log, then a bad one for a new log.
      await rejectsWithStoreError(store.append([batchOf("acme", 2, 2), batchOf("other", 1, 1)]), "concurrent_writer");
      assert.deepEqual(await snapshot(store), before);
      assert.equal(await store.getLog("fresh"), undefined);
      assert.deepEqual(await store.findEntriesById("fresh", ["fresh-0"]), []);
    });

    test("accepts the same batches once corrected, without mixing up the logs a failure created", async ({ store }) => {
      await store.append([batchOf("acme", 0, 2)]);
      await assert.rejects(store.append([batchOf("fresh", 0, 3), batchOf("acme", 5, 1)]));
      // A store that remembered the rolled-back log could now reuse its identity for "later".
      const later = batchOf("later", 0, 2);
      await store.append([later]);
      const fresh = batchOf("fresh", 0, 3);
      await store.append([fresh]);
      assert.deepEqual(plainEntries(await store.readEntries("fresh", 0, ALL)), expectedEntries(fresh));
      assert.deepEqual(plainEntries(await store.readEntries("later", 0, ALL)), expectedEntries(later));
      assert.deepEqual(await logNames(store), ["acme", "fresh", "later"]);
      assert.equal((await store.getLog("later"))?.size, 2);
    });

    test("rejects a duplicate event id within one batch and stores nothing", async ({ store }) => {
      await store.append([batchOf("acme", 0, 1)]);
      const before = await snapshot(store);
      const dup = batchOf("acme", 1, 3);
      const entries = dup.entries.map((e, i) => (i === 2 ? { ...e, id: dup.entries[0]?.id as string } : e));
      await rejectsWithStoreError(store.append([batchOf("globex", 0, 2), { ...dup, entries }]));
      assert.deepEqual(await snapshot(store), before);
    });

    test("rejects an event id already stored in the log and stores nothing", async ({ store }) => {
      await store.append([batchOf("acme", 0, 3)]);
      const before = await snapshot(store);
      const retry = batchOf("acme", 3, 2);
      const entries = retry.entries.map((e, i) => (i === 1 ? { ...e, id: "acme-1" } : e));
      await rejectsWithStoreError(store.append([batchOf("globex", 0, 2), { ...retry, entries }]));
      assert.deepEqual(await snapshot(store), before);
      assert.equal((await store.findEntriesById("acme", ["acme-1"]))[0]?.index, 1);
    });

    test("allows the same event id in two different logs", async ({ store }) => {
      const a = batchOf("acme", 0, 2, "shared");
      const b = batchOf("globex", 0, 2, "shared");
      await store.append([a]);
      await store.append([b]);
      assert.deepEqual(plainEntries(await store.findEntriesById("acme", ["shared-1"])), expectedEntries(a).slice(1));
      assert.deepEqual(plainEntries(await store.findEntriesById("globex", ["shared-1"])), expectedEntries(b).slice(1));
    });

    test("rejects entries that are not contiguous from startIndex and stores nothing", async ({ store }) => {
      await store.append([batchOf("acme", 0, 2)]);
      const before = await snapshot(store);
      const base = batchOf("acme", 2, 3);
      const renumber = (indexes: number[]): LogAppend => ({
        ...base,
        entries: base.entries.map((e, i) => ({ ...e, index: indexes[i] as number })),
      });
      for (const indexes of [
        [2, 3, 5],
        [3, 4, 5],
        [2, 2, 3],
        [2, 4, 3],
      ]) {
        await rejectsWithStoreError(store.append([batchOf("globex", 0, 1), renumber(indexes)]));
      }
      assert.deepEqual(await snapshot(store), before);
    });
  });

  describe("isolation between logs", () => {
    test("never returns one log's data through another log", async ({ store }) => {
      // Same ids, same indexes, and names that prefix each other (a LIKE or string-range bug shows).
      const logs = ["a", "a-b", "ab", "b"];
      const batches = logs.map((log, i) => batchOf(log, 0, 3 + i, "same"));
      await store.append(batches);
      for (const [i, log] of logs.entries()) await store.appendCheckpoint(checkpointOf(log, 3 + i));
      for (const [i, log] of logs.entries()) {
        const batch = batches[i] as LogAppend;
        assert.equal((await store.getLog(log))?.size, 3 + i);
        assert.deepEqual(plainEntries(await store.readEntries(log, 0, ALL)), expectedEntries(batch));
        assert.deepEqual(plainEntries(await store.findEntriesById(log, ["same-0", "same-2"])).length, 2);
        assert.deepEqual(
          plainEntries(await store.findEntriesById(log, ["same-2"])),
          expectedEntries(batch).filter((e) => e.id === "same-2"),
        );
        assert.equal((await store.readHashes(log, 0, 0, ALL)).length, 3 + i);
        assert.equal((await store.latestCheckpoint(log))?.treeSize, 3 + i);
        assert.deepEqual(
          (await store.listCheckpoints(log)).map((c) => [c.log, c.treeSize]),
          [[log, 3 + i]],
        );
      }
    });
  });
}
