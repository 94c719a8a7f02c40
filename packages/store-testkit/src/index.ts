export { HOSTILE } from "./cases/query.js";
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
export {
  ACTOR_TYPES,
  eventBatches,
  type GeneratedEvent,
  NAMES,
  ORACLE_LOGS,
  ORACLE_START,
  type OracleData,
  pick,
  pickSkewed,
  RESOURCES,
  type Rng,
  random,
  randomDraft,
  randomFilter,
  referenceGroups,
  referenceMatch,
  seedOracle,
  TARGET_TYPES,
  VERBS,
  WORDS,
} from "./query-fixtures.js";
export { testLogStore } from "./suite.js";
