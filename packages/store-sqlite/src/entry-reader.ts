// Opened by an audit's worker threads (the store's `entryReader` recipe, engine audit-pool.ts):
// each reads the entries and tree hashes it verifies through its own read-only connection.
import type { EntryReader } from "@sealtrail/engine";
import { createSqliteStore } from "./sqlite-store.js";

export function openEntryReader(options: { path: string }): EntryReader {
  return createSqliteStore({ path: options.path, readonly: true });
}
