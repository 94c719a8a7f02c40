import assert from "node:assert/strict";
import { describe } from "node:test";
import { hashLeaf, utf8 } from "@sealtrail/core";
import type { StoredEntry } from "@sealtrail/engine";
import type { ContractTest } from "../contract-test.js";
import { ALL, batchOf, expectedEntries, expectedHashes, plainEntries, plainHashes } from "../fixtures.js";

/** Leaves whose bytes a careless driver would alter: text columns, encodings, size limits. */
function awkwardLeaves(): Uint8Array[] {
  const big = new Uint8Array(65535);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) % 256;
  const window = utf8('xx{"note":"view into a larger buffer"}yy');
  return [
    utf8('{"action":"user.login","actor":{"id":"u_1"}}'),
    // Non-ASCII: precomposed and combining é, CJK, an astral-plane emoji, RTL text.
    utf8('{"name":"Zo\u00eb Zoe\u0301 日本語 🦊 שלום"}'),
    // Not UTF-8 at all, with NUL bytes: leaves are bytes, never text.
    new Uint8Array([0x00, 0xff, 0xfe, 0x80, 0x00, 0xc3, 0x28]),
    // The largest leaf an entry bundle can carry (16-bit length).
    big,
    // A view: only the viewed bytes are the leaf.
    window.subarray(2, window.length - 2),
  ];
}

export function entryCases(test: ContractTest): void {
  describe("entries", () => {
    test("reads entries back byte-identical, in index order", async ({ store }) => {
      const entries: StoredEntry[] = awkwardLeaves().map((leaf, index) => ({ index, id: `ev-${index}`, leaf }));
      const hashes = entries.map((e) => ({ level: 0, index: e.index, hash: hashLeaf(e.leaf) }));
      await store.append([{ log: "acme", startIndex: 0, entries, hashes }]);
      const read = await store.readEntries("acme", 0, entries.length);
      assert.deepEqual(plainEntries(read), plainEntries(entries));
      assert.equal(read[3]?.leaf.length, 65535);
      assert.equal(read[4]?.leaf.length, entries[4]?.leaf.length);
    });

    test("reads a range across many batches in index order", async ({ store }) => {
      const batches = [batchOf("acme", 0, 300), batchOf("acme", 300, 300), batchOf("acme", 600, 300)];
      for (const batch of batches) await store.append([batch]);
      assert.deepEqual(plainEntries(await store.readEntries("acme", 250, 400)), expectedEntries(...batches).slice(250, 650));
      assert.deepEqual(plainEntries(await store.readEntries("acme", 0, ALL)), expectedEntries(...batches));
      assert.deepEqual(plainHashes(await store.readHashes("acme", 0, 0, ALL)), expectedHashes(0, ...batches));
      assert.equal((await store.readHashes("acme", 1, 0, ALL)).length, 3);
    });

    test("returns only entries that exist: past the end, count 0, unknown log", async ({ store }) => {
      const batch = batchOf("acme", 0, 5);
      await store.append([batch]);
      const all = expectedEntries(batch);
      assert.deepEqual(plainEntries(await store.readEntries("acme", 3, 10)), all.slice(3));
      assert.deepEqual(await store.readEntries("acme", 5, 1), []);
      assert.deepEqual(await store.readEntries("acme", 100, 5), []);
      assert.deepEqual(await store.readEntries("acme", 2, 0), []);
      assert.deepEqual(await store.readEntries("acme", 2, -1), []);
      assert.deepEqual(await store.readEntries("globex", 0, 5), []);
    });

    test("clips a range with a negative start or a huge count to the log itself", async ({ store }) => {
      const a = batchOf("acme", 0, 3);
      const b = batchOf("globex", 0, 3);
      const c = batchOf("initech", 0, 3);
      await store.append([a, b, c]);
      assert.deepEqual(plainEntries(await store.readEntries("globex", -1, 2)), expectedEntries(b).slice(0, 1));
      assert.deepEqual(plainEntries(await store.readEntries("globex", -(2 ** 40), 2 ** 40 + 2)), expectedEntries(b).slice(0, 2));
      assert.deepEqual(plainEntries(await store.readEntries("globex", 1, Number.MAX_SAFE_INTEGER)), expectedEntries(b).slice(1));
      assert.deepEqual(plainEntries(await store.readEntries("acme", 0, 2 ** 41)), expectedEntries(a));
    });

    test("keeps its own copy of the bytes it is given and returns fresh ones", async ({ store }) => {
      const batch = batchOf("acme", 0, 2);
      const expected = expectedEntries(batch);
      await store.append([batch]);
      (batch.entries[0] as StoredEntry).leaf.fill(0);
      const [first] = await store.readEntries("acme", 0, 1);
      assert.deepEqual(plainEntries(first ? [first] : []), expected.slice(0, 1));
      first?.leaf.fill(0);
      assert.deepEqual(plainEntries(await store.readEntries("acme", 0, 2)), expected);
    });
  });

  describe("tree hashes", () => {
    test("keeps the hashes of each level apart", async ({ store }) => {
      const batch = batchOf("acme", 0, 4);
      const h = (n: number) => new Uint8Array(32).fill(n);
      const hashes = [...batch.hashes, { level: 1, index: 0, hash: h(0xa1) }, { level: 2, index: 0, hash: h(0xa2) }];
      await store.append([{ ...batch, hashes }]);
      assert.deepEqual(plainHashes(await store.readHashes("acme", 0, 0, 10)), expectedHashes(0, batch));
      assert.deepEqual(plainHashes(await store.readHashes("acme", 1, 0, 10)), plainHashes([h(0xa1)]));
      assert.deepEqual(plainHashes(await store.readHashes("acme", 2, 0, 10)), plainHashes([h(0xa2)]));
      assert.deepEqual(await store.readHashes("acme", 3, 0, 10), []);
    });

    test("returns only hashes that exist: past the end, count 0, unknown log", async ({ store }) => {
      const batch = batchOf("acme", 0, 5);
      await store.append([batch]);
      const all = expectedHashes(0, batch);
      assert.deepEqual(plainHashes(await store.readHashes("acme", 0, 1, 3)), all.slice(1, 4));
      assert.deepEqual(plainHashes(await store.readHashes("acme", 0, 3, 10)), all.slice(3));
      assert.deepEqual(plainHashes(await store.readHashes("acme", 0, -1, 3)), all.slice(0, 2));
      assert.deepEqual(await store.readHashes("acme", 0, 5, 1), []);
      assert.deepEqual(await store.readHashes("acme", 0, 2, 0), []);
      assert.deepEqual(await store.readHashes("globex", 0, 0, 5), []);
    });
  });

  describe("findEntriesById", () => {
    test("finds entries by event id, ignoring unknown and repeated ids", async ({ store }) => {
      const batch = batchOf("acme", 0, 5);
      await store.append([batch]);
      const found = await store.findEntriesById("acme", ["acme-3", "nope", "acme-1", "acme-3", ""]);
      const byIndex = plainEntries(found).sort((x, y) => x.index - y.index);
      assert.deepEqual(byIndex, [expectedEntries(batch)[1], expectedEntries(batch)[3]]);
    });

    test("finds nothing for an empty id list or an unknown log", async ({ store }) => {
      await store.append([batchOf("acme", 0, 2)]);
      assert.deepEqual(await store.findEntriesById("acme", []), []);
      assert.deepEqual(await store.findEntriesById("globex", ["acme-0"]), []);
    });
  });
}
