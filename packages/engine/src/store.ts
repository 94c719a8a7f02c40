/**
 * The storage contract. Stores are dumb and append-only: all hashing and tree maths live in core
 * and the engine; a store has no update or delete method for log data, and the database itself
 * refuses UPDATE / DELETE on log tables. `@sealtrail/store-testkit` holds the contract suite.
 */
export interface StoredEntry {
  readonly index: number;
  readonly id: string;
  /** Leaf bytes exactly as hashed: never re-serialized. */
  readonly leaf: Uint8Array;
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
  /** Contiguous from `startIndex`. */
  readonly entries: readonly StoredEntry[];
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

export interface LogStore {
  /** Human-readable description for logs and errors (never includes credentials). */
  readonly description: string;
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
  latestCheckpoint(log: string): Promise<StoredCheckpoint | undefined>;
  /** Checkpoints in increasing tree size, starting above `afterSize`. */
  listCheckpoints(log: string, options?: { afterSize?: number; limit?: number }): Promise<StoredCheckpoint[]>;
  insertApiKey(key: ApiKeyRecord): Promise<void>;
  findApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  revokeApiKey(id: string, at: string): Promise<boolean>;
  close(): Promise<void>;
}
