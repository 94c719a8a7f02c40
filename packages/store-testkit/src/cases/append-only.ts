import assert from "node:assert/strict";
import { describe } from "node:test";
import type { ContractTest } from "../contract-test.js";
import { batchOf, checkpointOf, expectedEntries, plainEntries, snapshot } from "../fixtures.js";
import { LOG_TABLES, type LogTable, type Tamper } from "../harness.js";

type Attack = "update" | "delete" | "upsert" | "truncate";

const WORDING: Record<Attack, string> = {
  update: "an UPDATE of",
  delete: "a DELETE from",
  upsert: "an overwriting INSERT (upsert) into",
  truncate: "a TRUNCATE of",
};

export function appendOnlyCases(test: ContractTest): void {
  describe("append-only below the store", () => {
    for (const attack of Object.keys(WORDING) as Attack[]) {
      for (const table of LOG_TABLES) {
        test(`the database refuses ${WORDING[attack]} ${table}, and the data is unchanged`, async ({ store, tamper }, t) => {
          const run = bind(tamper, attack);
          if (!run) {
            t.skip(`this store's Tamper has no ${attack}`);
            return;
          }
          await store.append([batchOf("acme", 0, 256), batchOf("globex", 0, 3)]);
          await store.appendCheckpoint(checkpointOf("acme", 200));
          await store.appendCheckpoint(checkpointOf("acme", 256));
          await store.appendCheckpoint(checkpointOf("globex", 3));
          const before = await snapshot(store);
          await assert.rejects(run(table), (error: unknown) => {
            const message = error instanceof Error ? error.message : String(error);
            assert.match(message, tamper.refusal, `${attack} ${table} failed for another reason than append-only`);
            return true;
          });
          assert.deepEqual(await snapshot(store), before);
          // A refused tamper leaves the store working.
          await store.append([batchOf("acme", 256, 1)]);
          assert.deepEqual(plainEntries(await store.readEntries("acme", 256, 1)), expectedEntries(batchOf("acme", 256, 1)));
        });
      }
    }
  });
}

function bind(tamper: Tamper, attack: Attack): ((table: LogTable) => Promise<void>) | undefined {
  const method = tamper[attack];
  return method ? (table) => method.call(tamper, table) : undefined;
}
