/**
 * The storage contract. Stores are dumb and append-only: all hashing and tree maths live in core
 * and the engine; a store has no update or delete method for log data, and the database itself
 * refuses UPDATE / DELETE on log tables. `@sealtrail/store-testkit` holds the contract suite.
 */
import type { EventIndexFields, GroupBy, QueryFilter } from "@sealtrail/core";

export interface StoredEntry {
  readonly index: number;
  readonly id: string;
  /** Leaf bytes exactly as hashed: never re-serialized. */
  readonly leaf: Uint8Array;
}

/** An entry as the engine appends it: with the fields a query index needs, taken from the event. */
export interface AppendedEntry extends StoredEntry {
  readonly fields?: EventIndexFields;
}

/** A stored tree hash: tile level 0 = leaf hashes, level L = perfect subtrees of height 8·L. */
export interface StoredHash {
  readonly level: number;
  readonly index: number;
  readonly hash: Uint8Array;
}

export interface LogAppend {
  readonly log: string;
  /** Must equal the log's size in the store, or the whole transaction fails (a second writer). */
  readonly startIndex: number;
  /** Contiguous from `startIndex`. A store with a query index writes it in the same transaction. */
  readonly entries: readonly AppendedEntry[];
  /** Every tile-level hash these entries complete, level 0 included. */
  readonly hashes: readonly StoredHash[];
}

export interface StoredCheckpoint {
  readonly log: string;
  readonly treeSize: number;
  readonly rootHash: Uint8Array;
  /** The signed note, exactly as served. */
  readonly note: string;
  readonly createdAt: string;
}

export interface LogSummary {
  readonly name: string;
  readonly size: number;
  readonly createdAt: string;
}

export type KeyScope = "ingest" | "read" | "admin";

export interface ApiKeyRecord {
  readonly id: string;
  /** SHA-256 of the secret part; the secret itself is never stored. */
  readonly secretHash: Uint8Array;
  readonly scope: KeyScope;
  /** Logs the key may touch; empty means every log (admin keys). */
  readonly logs: readonly string[];
  readonly label: string;
  readonly createdAt: string;
  readonly revokedAt?: string;
}

/** One page of a query: events in `order`, continuing after `after` (exclusive) when given. */
export interface EventQuery {
  /** Logs to search; undefined searches every log (admin cross-log search). */
  readonly logs?: readonly string[];
  readonly filter: QueryFilter;
  readonly order: "desc" | "asc";
  readonly limit: number;
  /** The `seq` of the last event of the previous page. */
  readonly after?: number;
}

/** A query result: the entry, its log, and its position in the store's global commit order. */
export interface QueriedEntry extends StoredEntry {
  readonly log: string;
  /** Increases with every stored event across all logs (commit order); the cursor of a page. */
  readonly seq: number;
}

export interface GroupCount {
  readonly key: string;
  readonly count: number;
}

/** Stores that keep a query index implement these (DESIGN §6); the engine refuses queries otherwise. */
export interface QueryableStore {
  queryEvents(query: EventQuery): Promise<QueriedEntry[]>;
  countEvents(query: Pick<EventQuery, "logs" | "filter">): Promise<number>;
  /** Counts per group, largest first (time buckets: chronological), at most `limit` groups. */
  groupEvents(query: Pick<EventQuery, "logs" | "filter"> & { groupBy: GroupBy; limit: number }): Promise<GroupCount[]>;
}

/** A range of entries [start, end) whose bodies retention removed; their hashes stay in the tiles. */
export interface PrunedRange {
  readonly start: number;
  readonly end: number;
  readonly prunedAt: string;
}

/** A log's retention period; events older than it (by receivedAt) may be pruned. */
export interface RetentionPolicy {
  readonly log: string;
  readonly days: number;
  readonly updatedAt: string;
}

/** Suspends pruning of a whole log (no query) or of the events a query matches. */
export interface LegalHold {
  readonly id: string;
  readonly log: string;
  /** Query language text (docs/query-language.md); absent: the whole log is held. */
  readonly query?: string;
  readonly reason: string;
  readonly createdAt: string;
  readonly releasedAt?: string;
}

/**
 * Retention (DESIGN §7), an optional capability. The only deletion a store ever makes: entry
 * bodies and their query-index rows, and only for ranges first recorded in an append-only prune
 * ledger, so the ledger says exactly what is gone and the database refuses any other delete.
 * Tree hashes and checkpoints are never pruned: the tree keeps verifying. Contract cases:
 * store-testkit `retentionCases`, skipped for a store without these methods.
 */
export interface RetentionStore {
  /**
   * In ONE transaction: records each range in the prune ledger, then deletes those entries and
   * their query-index rows. Refuses a range beyond the log's size or overlapping a recorded one.
   */
  pruneEntries(log: string, ranges: readonly { start: number; end: number }[], at: string): Promise<void>;
  /** The prune ledger of a log, in index order. */
  listPrunedRanges(log: string): Promise<PrunedRange[]>;
  /** Sets (days) or clears (undefined) a log's retention period; the log need not exist yet. */
  setRetentionPolicy(log: string, days: number | undefined, at: string): Promise<void>;
  listRetentionPolicies(): Promise<RetentionPolicy[]>;
  insertLegalHold(hold: LegalHold): Promise<void>;
  /** Marks a hold released (it stays listed); false if no such active hold. */
  releaseLegalHold(id: string, at: string): Promise<boolean>;
  listLegalHolds(): Promise<LegalHold[]>;
}

/**
 * A whole chunk of a log, read at once for an audit (`EntryReader.readPackedChunk`): the leaves
 * end to end, the stored ids joined by commas, and the stored hashes end to end, so that checking
 * an entry allocates nothing per entry. A reader returns one only when the chunk has no gap and
 * every hash is 32 bytes; anything it cannot vouch for is left to `readEntries`/`readHashes`.
 */
export interface PackedChunk {
  /** The leaves of entries [start, start + count), end to end. */
  readonly leaves: Uint8Array;
  /** Where each leaf ends in `leaves`: `count` offsets, increasing. */
  readonly leafEnds: Uint32Array;
  /** The stored ids in index order, UTF-8, joined by "," (an id holding a comma cannot match). */
  readonly ids: Uint8Array;
  /** The stored leaf hashes (level 0), 32 bytes each, `count` of them. */
  readonly leafHashes: Uint8Array;
  /** The stored level-1 hashes of the chunk's full tiles, 32 bytes each. */
  readonly tileHashes: Uint8Array;
}

/** What an audit worker reads entries and tree hashes through: any LogStore is one. */
export type EntryReader = Pick<LogStore, "readEntries" | "readHashes" | "close"> & {
  /** Optional: a chunk in one piece (see PackedChunk), or undefined to read it entry by entry. */
  readPackedChunk?(log: string, start: number, count: number): Promise<PackedChunk | undefined>;
};

/**
 * How another thread opens its own read-only handle on a store's data: `module` (a URL) exports
 * `openEntryReader(options)`, which returns an EntryReader; `options` must survive structured clone.
 */
export interface EntryReaderRecipe {
  readonly module: string;
  readonly options: unknown;
}

export interface LogStore extends Partial<QueryableStore>, Partial<RetentionStore> {
  /** Human-readable description for logs and errors (never includes credentials). */
  readonly description: string;
  /**
   * Optional: lets a full audit read and hash entries on every core, each worker thread through
   * its own handle (audit.ts). Only for a handle that sees exactly the data this store serves: not
   * for an in-memory database, nor a wrapper that changes what it returns.
   */
  readonly entryReader?: EntryReaderRecipe;
  listLogs(): Promise<LogSummary[]>;
  getLog(name: string): Promise<LogSummary | undefined>;
  /**
   * Appends all batches in ONE transaction, durable when the promise resolves. Creates logs on
   * first write. Fails whole if a batch's startIndex is not the log's size or an id repeats.
   */
  append(batches: readonly LogAppend[]): Promise<void>;
  /** Entries with these event ids (any order; missing ids are simply absent). */
  findEntriesById(log: string, ids: readonly string[]): Promise<StoredEntry[]>;
  /** Entries [start, start + count) that exist, in index order. */
  readEntries(log: string, start: number, count: number): Promise<StoredEntry[]>;
  /** Hashes at one tile level, [start, start + count) that exist, in index order. */
  readHashes(log: string, level: number, start: number, count: number): Promise<Uint8Array[]>;
  /** Stores a signed checkpoint; refuses one smaller than the latest (no rollback). */
  appendCheckpoint(checkpoint: StoredCheckpoint): Promise<void>;
  /**
   * Optional: stores checkpoints of many logs in ONE transaction, all or nothing, each refused as
   * `appendCheckpoint` would. The engine signs every log's checkpoint in rounds; without this it
   * writes them one by one (one commit, one fsync, per log).
   */
  appendCheckpoints?(checkpoints: readonly StoredCheckpoint[]): Promise<void>;
  latestCheckpoint(log: string): Promise<StoredCheckpoint | undefined>;
  /** Checkpoints in increasing tree size, starting above `afterSize`. */
  listCheckpoints(log: string, options?: { afterSize?: number; limit?: number }): Promise<StoredCheckpoint[]>;
  insertApiKey(key: ApiKeyRecord): Promise<void>;
  findApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  revokeApiKey(id: string, at: string): Promise<boolean>;
  close(): Promise<void>;
}
