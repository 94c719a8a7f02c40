import { chmodSync, existsSync, rmSync } from "node:fs";
import Database from "better-sqlite3";
import { applyMigrations, assertMigrated } from "./migrate.js";

/**
 * The query index (DESIGN §6), derived from the leaves and rebuildable from them, so it is NOT
 * append-only: retention prunes it. One row per event in `events`, clustered by (log_id, seq) so a
 * log's events are contiguous in commit order; every secondary index on a WITHOUT ROWID table ends
 * with the primary key, so (log_id, col) is really (log_id, col, seq): `WHERE log_id = ? AND col = ?
 * ORDER BY seq DESC LIMIT n` reads n index entries. Those indexes also carry `occurred_ms` after seq:
 * a time range combined with them is checked inside the index, without visiting the event row.
 * Side tables hold the one-to-many parts (targets, metadata keys) under the same (log_id, …, seq)
 * scheme; free text is a contentless FTS5 table keyed by seq, with the log as a token column so a
 * search stays inside one tenant's postings. See query-plan.ts for the shapes each index serves.
 */
export const QUERY_INDEX = `
CREATE TABLE query_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  next_seq INTEGER NOT NULL
);
INSERT INTO query_state (id, next_seq) VALUES (1, 1);
CREATE TABLE events (
  log_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  occurred_ms INTEGER NOT NULL,
  received_ms INTEGER NOT NULL,
  action TEXT NOT NULL,
  resource TEXT NOT NULL,
  actor_type TEXT NOT NULL,
  actor_id TEXT NOT NULL,
  outcome TEXT NOT NULL,
  ip TEXT,
  request_id TEXT,
  session_id TEXT,
  targets INTEGER NOT NULL,
  PRIMARY KEY (log_id, seq)
) WITHOUT ROWID;
CREATE INDEX events_occurred ON events (log_id, occurred_ms);
CREATE INDEX events_received ON events (log_id, received_ms);
CREATE INDEX events_actor ON events (log_id, actor_id, seq, occurred_ms);
CREATE INDEX events_actor_type ON events (log_id, actor_type, seq, occurred_ms);
CREATE INDEX events_action ON events (log_id, action, seq, occurred_ms);
CREATE INDEX events_resource ON events (log_id, resource, seq, occurred_ms);
CREATE INDEX events_outcome ON events (log_id, outcome, seq, occurred_ms);
CREATE INDEX events_ip ON events (log_id, ip, seq, occurred_ms) WHERE ip IS NOT NULL;
CREATE INDEX events_request ON events (log_id, request_id, seq, occurred_ms) WHERE request_id IS NOT NULL;
CREATE INDEX events_session ON events (log_id, session_id, seq, occurred_ms) WHERE session_id IS NOT NULL;
CREATE TABLE event_targets (
  log_id INTEGER NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  seq INTEGER NOT NULL,
  occurred_ms INTEGER NOT NULL,
  PRIMARY KEY (log_id, id, type, seq)
) WITHOUT ROWID;
CREATE INDEX event_targets_type ON event_targets (log_id, type, seq, occurred_ms);
CREATE TABLE event_metadata (
  log_id INTEGER NOT NULL,
  key TEXT NOT NULL,
  seq INTEGER NOT NULL,
  value TEXT,
  occurred_ms INTEGER NOT NULL,
  PRIMARY KEY (log_id, key, seq)
) WITHOUT ROWID;
-- Partial: a key-only search then cannot pick it (it would sort), and objects/arrays have no value.
CREATE INDEX event_metadata_value ON event_metadata (log_id, key, value, seq, occurred_ms) WHERE value IS NOT NULL;
CREATE VIRTUAL TABLE events_fts USING fts5(log, text, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0');
`;

/**
 * The index database's own versioned migrations. Besides the query tables it mirrors the log
 * database's `logs` (same ids and names, so query SQL resolves names here) with each log's
 * `indexed_size`: entries [0, indexed_size) of that log are indexed (or are not audit events).
 */
const INDEX_MIGRATIONS: readonly string[] = [
  `${QUERY_INDEX}
-- seq → (log_id, seq): the event of an FTS hit, or all events in commit order (query-plan.ts, rule 7).
CREATE UNIQUE INDEX events_seq ON events (seq);
CREATE TABLE logs (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  indexed_size INTEGER NOT NULL DEFAULT 0
);`,
  // An actor's events per day of occurredAt, each day in seq order (query-plan.ts, "actorDays"): a
  // time window far back in a busy actor's history is read day by day, not walked to. The key is
  // SQLite's own integer division, which query-plan.ts's `ACTOR_DAY` repeats exactly.
  "CREATE INDEX events_actor_day ON events (log_id, actor_id, occurred_ms / 86400000, seq, occurred_ms);",
  // A time range the same way (query-plan.ts, "occurredAt"): a day in seq order, so the newest page
  // of an old day is its first rows, not a sort of the whole day.
  `DROP INDEX events_occurred;
CREATE INDEX events_occurred_day ON events (log_id, occurred_ms / 86400000, seq, occurred_ms);`,
  // An outcome beside an action or an action prefix (failed logins, denied exports) is checked
  // inside the index: walking back through a prefix's events to find its rare failures read an
  // event row per entry, cold at 10M (p99 57 ms; BENCHMARKS.md, session 7).
  `DROP INDEX events_action;
CREATE INDEX events_action ON events (log_id, action, seq, occurred_ms, outcome);
DROP INDEX events_resource;
CREATE INDEX events_resource ON events (log_id, resource, seq, occurred_ms, outcome);`,
];

/**
 * `audit/sealtrail.db` → `audit/sealtrail-index.db`. The index lives in a database of its own so
 * that it commits on its own schedule (docs/design-notes.md, "The query index commits apart"):
 * an append's durable commit writes only entries and tile hashes.
 */
export function indexPathOf(path: string): string {
  if (path === ":memory:") return path;
  return `${path.endsWith(".db") ? path.slice(0, -3) : path}-index.db`;
}

/**
 * Opens (creating and migrating) the index database for the store's writer; `onUpgrade` hears of
 * an upgrade of an existing one before it starts (queries wait for it).
 */
export function openIndexForWriting(path: string, onUpgrade?: (message: string) => void): Database.Database {
  const db = new Database(path);
  if (path !== ":memory:") chmodSync(path, 0o600);
  db.pragma("journal_mode = WAL");
  // Derived data: rebuilt from the leaves after a crash (indexed_size says from where), so its
  // commits need no fsync, and a large page cache keeps a long transaction's dirty pages in memory.
  db.pragma("synchronous = OFF");
  db.pragma("busy_timeout = 5000");
  db.pragma(`cache_size = ${-64 * 1024}`);
  db.pragma("wal_autocheckpoint = 16000");
  db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  applyMigrations(db, "index_migrations", INDEX_MIGRATIONS, (from, to) =>
    onUpgrade?.(`upgrading the query index ${path} from version ${from} to ${to}: once; queries wait for it`),
  );
  return db;
}

/** Opens the index database of a store opened read-only; undefined when there is none yet. */
export function openIndexReadonly(path: string): Database.Database | undefined {
  if (!existsSync(path)) return undefined;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma("busy_timeout = 5000");
  assertMigrated(db, "index_migrations", INDEX_MIGRATIONS, path);
  return db;
}

/** Deletes an index database and its WAL files (before a rebuild from the leaves). */
export function removeIndex(path: string): void {
  if (path === ":memory:") return;
  for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });
}
