import assert from "node:assert/strict";
import { describe } from "node:test";
import type { ContractTest } from "../contract-test.js";
import { apiKeyOf, plainKey, rejectsWithStoreError } from "../fixtures.js";

export function apiKeyCases(test: ContractTest): void {
  describe("api keys", () => {
    test("inserts, finds and lists api keys byte-identical", async ({ store }) => {
      assert.deepEqual(await store.listApiKeys(), []);
      const keys = [
        apiKeyOf("k_ingest", { scope: "ingest", logs: ["acme"] }),
        apiKeyOf("k_admin", { scope: "admin", logs: [] }),
        apiKeyOf("k_read"),
      ];
      for (const key of keys) await store.insertApiKey(key);
      for (const key of keys) assert.deepEqual(plainKey(await store.findApiKey(key.id)), plainKey(key));
      const listed = (await store.listApiKeys()).map(plainKey).sort((a, b) => String(a?.id).localeCompare(String(b?.id)));
      assert.deepEqual(
        listed,
        keys.map(plainKey).sort((a, b) => String(a?.id).localeCompare(String(b?.id))),
      );
    });

    test("finds no unknown key", async ({ store }) => {
      await store.insertApiKey(apiKeyOf("k_read"));
      assert.equal(await store.findApiKey("k_other"), undefined);
      assert.equal(await store.findApiKey(""), undefined);
    });

    test("refuses a second key with the same id and keeps the first", async ({ store }) => {
      const key = apiKeyOf("k_read");
      await store.insertApiKey(key);
      await rejectsWithStoreError(store.insertApiKey(apiKeyOf("k_read", { scope: "admin", logs: [] })));
      assert.deepEqual(plainKey(await store.findApiKey("k_read")), plainKey(key));
      assert.equal((await store.listApiKeys()).length, 1);
    });

    test("revokes a key once: a second revoke, or one of an unknown key, returns false", async ({ store }) => {
      await store.insertApiKey(apiKeyOf("k_read"));
      await store.insertApiKey(apiKeyOf("k_other"));
      const at = "2026-11-28T08:30:00.000Z";
      assert.equal(await store.revokeApiKey("k_read", at), true);
      assert.equal(await store.revokeApiKey("k_read", "2026-11-29T00:00:00.000Z"), false);
      assert.equal(await store.revokeApiKey("k_missing", at), false);
      assert.deepEqual(plainKey(await store.findApiKey("k_read")), plainKey(apiKeyOf("k_read", { revokedAt: at })));
      assert.equal((await store.findApiKey("k_other"))?.revokedAt, undefined);
      const revoked = (await store.listApiKeys()).find((k) => k.id === "k_read");
      assert.equal(revoked?.revokedAt, at);
    });
  });
}
