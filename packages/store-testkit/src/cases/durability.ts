import assert from "node:assert/strict";
import { describe } from "node:test";
import type { ContractTest } from "../contract-test.js";
import { apiKeyOf, batchOf, checkpointOf, expectedEntries, plainEntries, plainKey, rejectsWithStoreError, snapshot } from "../fixtures.js";

export function durabilityCases(test: ContractTest): void {
  describe("durability", () => {
    test("keeps every log, entry, hash, checkpoint and api key across close and reopen", async ({ store, reopen }) => {
      await store.append([batchOf("acme", 0, 300), batchOf("globex", 0, 2)]);
      await store.append([batchOf("acme", 300, 5)]);
      await store.appendCheckpoint(checkpointOf("acme", 300));
      await store.appendCheckpoint(checkpointOf("acme", 305));
      await store.insertApiKey(apiKeyOf("k_read"));
      await store.insertApiKey(apiKeyOf("k_gone"));
      await store.revokeApiKey("k_gone", "2026-11-28T00:00:00.000Z");
      const before = await snapshot(store);
      const keys = (await store.listApiKeys()).map(plainKey);
      await store.close();

      const reopened = await reopen();
      try {
        assert.deepEqual(await snapshot(reopened), before);
        assert.deepEqual((await reopened.listApiKeys()).map(plainKey), keys);
        // The reopened store knows each log's size: it refuses a stale index and takes the next one.
        await rejectsWithStoreError(reopened.append([batchOf("acme", 300, 1, "stale")]), "concurrent_writer");
        await reopened.append([batchOf("acme", 305, 1)]);
        assert.deepEqual(plainEntries(await reopened.readEntries("acme", 305, 1)), expectedEntries(batchOf("acme", 305, 1)));
        await rejectsWithStoreError(reopened.appendCheckpoint(checkpointOf("acme", 305)), "checkpoint_rollback");
      } finally {
        await reopened.close();
      }
    });

    test("refuses reads and writes after close with a StoreError", async ({ store }) => {
      await store.append([batchOf("acme", 0, 1)]);
      await store.close();
      await rejectsWithStoreError(store.append([batchOf("acme", 1, 1)]));
      await rejectsWithStoreError(store.readEntries("acme", 0, 1));
      await rejectsWithStoreError(store.listLogs());
    });

    test("can be closed twice", async ({ store }) => {
      await store.append([batchOf("acme", 0, 1)]);
      await store.close();
      await store.close();
    });
  });
}
