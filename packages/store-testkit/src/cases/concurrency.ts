import assert from "node:assert/strict";
import { describe } from "node:test";
import { StoreError } from "@sealtrail/core";
import type { ContractTest } from "../contract-test.js";
import { ALL, batchOf, expectedEntries, plainEntries } from "../fixtures.js";

export function concurrencyCases(test: ContractTest): void {
  describe("concurrency", () => {
    test("lets exactly one of several concurrent appends at the same index win", async ({ store }) => {
      await store.append([batchOf("acme", 0, 2)]);
      const contenders = Array.from({ length: 8 }, (_, i) => batchOf("acme", 2, 3, `writer${i}`));
      const results = await Promise.allSettled(contenders.map((batch) => store.append([batch])));
      const won = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
      assert.equal(won.length, 1, "exactly one writer wins");
      for (const r of results) if (r.status === "rejected") assert.ok(r.reason instanceof StoreError, String(r.reason));
      const winner = contenders[won[0] as number];
      assert.ok(winner);
      assert.equal((await store.getLog("acme"))?.size, 5);
      assert.deepEqual(plainEntries(await store.readEntries("acme", 2, ALL)), expectedEntries(winner));
      assert.equal((await store.readHashes("acme", 0, 0, ALL)).length, 5);
    });

    test("lets exactly one of several concurrent first appends create a log", async ({ store }) => {
      const contenders = Array.from({ length: 8 }, (_, i) => batchOf("acme", 0, 2, `writer${i}`));
      const results = await Promise.allSettled(contenders.map((batch) => store.append([batch])));
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
      assert.deepEqual(
        (await store.listLogs()).map((l) => [l.name, l.size]),
        [["acme", 2]],
      );
    });

    test("commits concurrent appends to different logs", async ({ store }) => {
      const logs = Array.from({ length: 10 }, (_, i) => `tenant-${i}`);
      await Promise.all(
        logs.map(async (log) => {
          for (let round = 0; round < 5; round++) await store.append([batchOf(log, round * 4, 4)]);
        }),
      );
      for (const log of logs) {
        assert.equal((await store.getLog(log))?.size, 20);
        assert.deepEqual(plainEntries(await store.readEntries(log, 0, ALL)), expectedEntries(batchOf(log, 0, 20)));
      }
    });

    test("never shows a concurrent reader part of a batch", async ({ store }) => {
      const batchSize = 7;
      const rounds = 20;
      let writing = true;
      const writer = (async () => {
        try {
          for (let round = 0; round < rounds; round++) await store.append([batchOf("acme", round * batchSize, batchSize)]);
        } finally {
          writing = false;
        }
      })();
      const seen: number[] = [];
      const reader = (async () => {
        while (writing) {
          const size = (await store.getLog("acme"))?.size ?? 0;
          const entries = await store.readEntries("acme", 0, ALL);
          const hashes = await store.readHashes("acme", 0, 0, ALL);
          for (const n of [size, entries.length, hashes.length]) assert.equal(n % batchSize, 0, `saw ${n} entries`);
          assert.ok(entries.length >= size && hashes.length >= size);
          seen.push(size);
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      await Promise.all([writer, reader]);
      assert.deepEqual(
        seen,
        [...seen].sort((a, b) => a - b),
        "sizes never go backwards",
      );
      assert.equal((await store.getLog("acme"))?.size, batchSize * rounds);
    });
  });
}
