import assert from "node:assert/strict";
import { describe } from "node:test";
import type { ContractTest } from "../contract-test.js";
import { batchOf, checkpointOf, plainCheckpoint, rejectsWithStoreError } from "../fixtures.js";

export function checkpointCases(test: ContractTest): void {
  describe("checkpoints", () => {
    test("has no checkpoint for an unknown log or a log that was never signed", async ({ store }) => {
      await store.append([batchOf("acme", 0, 2)]);
      for (const log of ["acme", "globex"]) {
        assert.equal(await store.latestCheckpoint(log), undefined);
        assert.deepEqual(await store.listCheckpoints(log), []);
      }
    });

    test("returns the latest checkpoint byte-identical", async ({ store }) => {
      await store.append([batchOf("acme", 0, 5)]);
      await store.appendCheckpoint(checkpointOf("acme", 3));
      const latest = checkpointOf("acme", 5);
      await store.appendCheckpoint(latest);
      assert.deepEqual(plainCheckpoint(await store.latestCheckpoint("acme")), plainCheckpoint(latest));
    });

    test("lists checkpoints in increasing tree size, paged by afterSize and limit", async ({ store }) => {
      await store.append([batchOf("acme", 0, 13)]);
      const sizes = [1, 2, 3, 5, 8, 13];
      for (const size of sizes) await store.appendCheckpoint(checkpointOf("acme", size));
      const list = async (options?: { afterSize?: number; limit?: number }) =>
        (await store.listCheckpoints("acme", options)).map((c) => c.treeSize);
      assert.deepEqual(await list(), sizes);
      assert.deepEqual(await list({ afterSize: 0 }), sizes);
      assert.deepEqual(await list({ afterSize: 3 }), [5, 8, 13]);
      assert.deepEqual(await list({ afterSize: 4 }), [5, 8, 13]);
      assert.deepEqual(await list({ afterSize: 3, limit: 2 }), [5, 8]);
      assert.deepEqual(await list({ limit: 1 }), [1]);
      assert.deepEqual(await list({ afterSize: 13 }), []);
      assert.deepEqual(
        (await store.listCheckpoints("acme", { afterSize: 7 })).map(plainCheckpoint),
        [checkpointOf("acme", 8), checkpointOf("acme", 13)].map(plainCheckpoint),
      );
    });

    test("refuses a checkpoint not larger than the latest (no rollback)", async ({ store }) => {
      await store.append([batchOf("acme", 0, 8)]);
      await store.appendCheckpoint(checkpointOf("acme", 3));
      await store.appendCheckpoint(checkpointOf("acme", 5));
      const forged = { ...checkpointOf("acme", 5), note: "forged\n" };
      await rejectsWithStoreError(store.appendCheckpoint(forged), "checkpoint_rollback");
      await rejectsWithStoreError(store.appendCheckpoint(checkpointOf("acme", 4)), "checkpoint_rollback");
      await rejectsWithStoreError(store.appendCheckpoint(checkpointOf("acme", 3)), "checkpoint_rollback");
      assert.deepEqual(plainCheckpoint(await store.latestCheckpoint("acme")), plainCheckpoint(checkpointOf("acme", 5)));
      assert.deepEqual(
        (await store.listCheckpoints("acme")).map(plainCheckpoint),
        [checkpointOf("acme", 3), checkpointOf("acme", 5)].map(plainCheckpoint),
      );
      await store.appendCheckpoint(checkpointOf("acme", 8));
      assert.equal((await store.latestCheckpoint("acme"))?.treeSize, 8);
    });

    test("stores many logs' checkpoints in one call, all or nothing (optional appendCheckpoints)", async ({ store }) => {
      if (!store.appendCheckpoints) return;
      await store.append([batchOf("acme", 0, 4), batchOf("globex", 0, 3)]);
      await store.appendCheckpoints([checkpointOf("acme", 4), checkpointOf("globex", 3)]);
      assert.equal((await store.latestCheckpoint("acme"))?.treeSize, 4);
      assert.equal((await store.latestCheckpoint("globex"))?.treeSize, 3);
      await store.append([batchOf("acme", 4, 2), batchOf("globex", 3, 2)]);
      // globex 3 is a rollback: acme 6 must not be stored either.
      await rejectsWithStoreError(store.appendCheckpoints([checkpointOf("acme", 6), checkpointOf("globex", 3)]), "checkpoint_rollback");
      assert.equal((await store.latestCheckpoint("acme"))?.treeSize, 4);
      assert.deepEqual(
        (await store.listCheckpoints("globex")).map((c) => c.treeSize),
        [3],
      );
    });
  });
}
