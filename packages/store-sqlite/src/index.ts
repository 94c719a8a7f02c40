export { indexPathOf } from "./index-db.js";
export { createSqliteStore, type SqliteStore, type SqliteStoreOptions } from "./sqlite-store.js";
