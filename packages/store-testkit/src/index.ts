export {
  ALL,
  apiKeyOf,
  batchOf,
  checkpointOf,
  entryOf,
  leafOf,
  plainEntries,
  plainHashes,
  rejectsWithStoreError,
  type StoreSnapshot,
  snapshot,
} from "./fixtures.js";
export { LOG_TABLES, type LogStoreSuiteOptions, type LogTable, type StoreUnderTest, type Tamper, withStore } from "./harness.js";
export { testLogStore } from "./suite.js";
