import { describe } from "node:test";
import { apiKeyCases } from "./cases/api-keys.js";
import { appendCases } from "./cases/append.js";
import { appendOnlyCases } from "./cases/append-only.js";
import { checkpointCases } from "./cases/checkpoints.js";
import { concurrencyCases } from "./cases/concurrency.js";
import { durabilityCases } from "./cases/durability.js";
import { entryCases } from "./cases/entries.js";
import { logCases } from "./cases/logs.js";
import { queryCases } from "./cases/query.js";
import { retentionCases } from "./cases/retention.js";
import { contractTest } from "./contract-test.js";
import type { LogStoreSuiteOptions } from "./harness.js";

/**
 * The LogStore contract (packages/engine/src/store.ts), as one node:test suite that every store
 * driver runs with its own `create`. Each test gets a fresh, empty store and cleans it up.
 */
export function testLogStore(options: LogStoreSuiteOptions): void {
  const test = contractTest(options);
  describe(`LogStore contract: ${options.name}`, () => {
    logCases(test);
    entryCases(test);
    appendCases(test);
    checkpointCases(test);
    apiKeyCases(test);
    durabilityCases(test);
    concurrencyCases(test);
    appendOnlyCases(test);
    // Skipped, test by test, for a store without queryEvents / countEvents / groupEvents.
    queryCases(test);
    // Skipped, test by test, for a store without the RetentionStore methods.
    retentionCases(test);
  });
}
