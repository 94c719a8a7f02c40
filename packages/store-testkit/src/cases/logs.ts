import assert from "node:assert/strict";
import { describe } from "node:test";
import type { ContractTest } from "../contract-test.js";
import { batchOf, logNames, rejectsWithStoreError } from "../fixtures.js";

export function logCases(test: ContractTest): void {
  describe("logs", () => {
    test("lists no logs in an empty store", async ({ store }) => {
      assert.deepEqual(await store.listLogs(), []);
      assert.equal(await store.getLog("acme"), undefined);
    });

    test("describes itself with a non-empty string", async ({ store }) => {
      assert.equal(typeof store.description, "string");
      assert.ok(store.description.length > 0);
    });

    test("creates a log on its first append, with its size and creation time", async ({ store }) => {
      const before = Date.now();
      await store.append([batchOf("acme", 0, 3)]);
      const log = await store.getLog("acme");
      assert.ok(log, "the log exists after its first append");
      assert.equal(log.name, "acme");
      assert.equal(log.size, 3);
      const created = Date.parse(log.createdAt);
      assert.ok(Number.isFinite(created), `createdAt is a timestamp: ${log.createdAt}`);
      assert.ok(created >= before - 60_000 && created <= Date.now() + 60_000, "createdAt is about now");
      assert.deepEqual(await store.listLogs(), [log]);
    });

    test("keeps the creation time of a log when it grows", async ({ store }) => {
      await store.append([batchOf("acme", 0, 1)]);
      const first = await store.getLog("acme");
      await new Promise((resolve) => setTimeout(resolve, 5));
      await store.append([batchOf("acme", 1, 2)]);
      assert.deepEqual(await store.getLog("acme"), { ...first, size: 3 });
    });

    test("reports the size of every log it lists", async ({ store }) => {
      await store.append([batchOf("acme", 0, 2), batchOf("globex", 0, 5)]);
      await store.append([batchOf("acme", 2, 1), batchOf("initech.eu-1", 0, 1)]);
      const sizes = Object.fromEntries((await store.listLogs()).map((l) => [l.name, l.size]));
      assert.deepEqual(sizes, { acme: 3, globex: 5, "initech.eu-1": 1 });
      assert.equal((await store.getLog("globex"))?.size, 5);
      assert.equal(await store.getLog("umbrella"), undefined);
    });

    test("rejects an invalid log name and creates nothing", async ({ store }) => {
      for (const name of ["", "Acme", "../etc", "a/b", "-acme", "x".repeat(64)]) {
        await assert.rejects(store.append([batchOf(name, 0, 1)]), `log name ${JSON.stringify(name)} is refused`);
      }
      assert.deepEqual(await logNames(store), []);
    });

    test("never creates a log from a checkpoint", async ({ store }) => {
      await rejectsWithStoreError(
        store.appendCheckpoint({
          log: "acme",
          treeSize: 1,
          rootHash: new Uint8Array(32),
          note: "n\n",
          createdAt: new Date().toISOString(),
        }),
      );
      assert.deepEqual(await logNames(store), []);
    });
  });
}
