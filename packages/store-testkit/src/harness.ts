import type { LogStore } from "@sealtrail/engine";

/** The four kinds of log data every store keeps append-only; a driver maps them to its own tables. */
export type LogTable = "logs" | "entries" | "tree_hashes" | "checkpoints";

export const LOG_TABLES: readonly LogTable[] = Object.freeze(["logs", "entries", "tree_hashes", "checkpoints"] as const);

/**
 * Raw access behind the store's back, to prove that the database itself refuses changes (the
 * store has no update or delete method to call). Every method must target at least one row that
 * exists, so that only the database's refusal can make it fail.
 */
export interface Tamper {
  /**
   * Matches the message of the database's refusal. A tamper that fails for another reason (a typo
   * in its SQL, a closed connection) must not pass for proof of append-only.
   */
  readonly refusal: RegExp;
  /** Changes one existing row of the table in place (SQL UPDATE). */
  update(table: LogTable): Promise<void>;
  /** Removes one existing row of the table (SQL DELETE). */
  delete(table: LogTable): Promise<void>;
  /**
   * Optional: rewrites an existing row through an insert that resolves the key conflict by
   * overwriting (SQLite `INSERT OR REPLACE`, PostgreSQL `INSERT … ON CONFLICT DO UPDATE`).
   */
  upsert?(table: LogTable): Promise<void>;
  /**
   * Optional: empties the table in one statement that skips row-level DELETE (PostgreSQL
   * `TRUNCATE`; SQLite `DELETE FROM t` without WHERE, its truncate optimization).
   */
  truncate?(table: LogTable): Promise<void>;
}

/** One test's store, over a fresh and empty location that nothing else uses. */
export interface StoreUnderTest {
  readonly store: LogStore;
  /**
   * Opens another store over the same location, as a restarted process would. The suite closes
   * `store` before calling it.
   */
  reopen(): Promise<LogStore>;
  readonly tamper: Tamper;
  /** Closes every store this harness opened (close is idempotent) and removes the location. */
  cleanup(): Promise<void>;
}

export interface LogStoreSuiteOptions {
  /** Names the suite in the test output. */
  readonly name: string;
  /** Called once per test. */
  create(): Promise<StoreUnderTest>;
  /** Time limit of each test; default 10 s. */
  readonly timeoutMs?: number;
}

/** Runs `fn` on a fresh store and always cleans up, even when `fn` throws. */
export async function withStore<H extends StoreUnderTest, T>(create: () => Promise<H>, fn: (harness: H) => Promise<T>): Promise<T> {
  const harness = await create();
  try {
    return await fn(harness);
  } finally {
    await harness.cleanup();
  }
}
