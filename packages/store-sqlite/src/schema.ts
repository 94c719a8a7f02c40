import { QUERY_INDEX } from "./index-db.js";

/** Append-only tables: the database itself refuses to change or remove what they hold. */
const LOG_TABLES = ["logs", "entries", "tree_hashes", "checkpoints"] as const;

function appendOnlyTriggers(table: string): string {
  return `
CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table}
BEGIN SELECT RAISE(ABORT, 'sealtrail: ${table} is append-only'); END;
CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table}
BEGIN SELECT RAISE(ABORT, 'sealtrail: ${table} is append-only'); END;`;
}

function noReplaceTrigger(table: string, sameKey: string): string {
  return `
CREATE TRIGGER ${table}_no_replace BEFORE INSERT ON ${table}
WHEN EXISTS (SELECT 1 FROM ${table} WHERE ${sameKey})
BEGIN SELECT RAISE(ABORT, 'sealtrail: ${table} is append-only and already holds this key'); END;`;
}

/** In a DELETE trigger on entries: a ledger range covers the entry being deleted. */
const OLD_ENTRY_PRUNED = `EXISTS (
  SELECT 1 FROM pruned_ranges
  WHERE log_id = OLD.log_id AND start_idx <= OLD.rowid - OLD.log_id * 1099511627776
    AND end_idx > OLD.rowid - OLD.log_id * 1099511627776
)`;

/**
 * Retention (DESIGN §7, docs/retention.md). `pruned_ranges` is the prune ledger: append-only like
 * the log tables. The one delete the database allows on `entries` is of an entry inside a range
 * the ledger already holds, so pruning is always recorded first, and nothing else can remove a
 * leaf. Tree hashes and checkpoints stay fully append-only. Retention periods and legal holds are
 * settings, not log data: every change to them is recorded as an event in the system log.
 */
const RETENTION = `
CREATE TABLE pruned_ranges (
  log_id INTEGER NOT NULL REFERENCES logs(id),
  start_idx INTEGER NOT NULL,
  end_idx INTEGER NOT NULL CHECK (end_idx > start_idx),
  pruned_at TEXT NOT NULL,
  PRIMARY KEY (log_id, start_idx)
) WITHOUT ROWID;
${appendOnlyTriggers("pruned_ranges")}
${noReplaceTrigger("pruned_ranges", "log_id = NEW.log_id AND start_idx = NEW.start_idx")}
DROP TRIGGER entries_no_delete;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
WHEN NOT ${OLD_ENTRY_PRUNED}
BEGIN SELECT RAISE(ABORT, 'sealtrail: entries is append-only (only ranges recorded in pruned_ranges may be pruned)'); END;
CREATE TABLE retention_policies (
  log TEXT PRIMARY KEY,
  days REAL NOT NULL CHECK (days > 0),
  updated_at TEXT NOT NULL
);
CREATE TABLE legal_holds (
  id TEXT PRIMARY KEY,
  log TEXT NOT NULL,
  query TEXT,
  reason TEXT NOT NULL,
  created_at TEXT NOT NULL,
  released_at TEXT
);
`;

/**
 * Fewer B-trees per append (docs/design-notes.md, "One B-tree per log on the append path"). A
 * durable commit over many logs dirtied a page per log in each of three B-trees clustered by log:
 * entries, their (log_id, event_id) index, and tree_hashes' level-0 rows (one per entry). Now an
 * entry's leaf hash (level 0 of the tree) is stored in its own row, and the id index leads with
 * the id: ids the engine generates are ULIDs, so their index rows land at its right edge. Earlier
 * entries keep their level-0 hashes in tree_hashes; `readHashes` reads both. Retention copies a
 * leaf hash into tree_hashes before it prunes the entry, and the database refuses the delete
 * otherwise: a pruned leaf's hash is needed by every proof that passes it.
 */
const LEAF_HASH_IN_ROW = `
ALTER TABLE entries ADD COLUMN leaf_hash BLOB CHECK (leaf_hash IS NULL OR length(leaf_hash) = 32);
DROP INDEX entries_event_id;
CREATE UNIQUE INDEX entries_id_log ON entries (event_id, log_id);
DROP TRIGGER entries_no_delete;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
WHEN NOT ${OLD_ENTRY_PRUNED} OR (OLD.leaf_hash IS NOT NULL AND NOT EXISTS (
  SELECT 1 FROM tree_hashes
  WHERE log_id = OLD.log_id AND level = 0 AND idx = OLD.rowid - OLD.log_id * 1099511627776 AND hash = OLD.leaf_hash
))
BEGIN SELECT RAISE(ABORT, 'sealtrail: entries is append-only (only ranges recorded in pruned_ranges may be pruned, and only once their leaf hashes are kept in tree_hashes)'); END;
`;

/** Versioned migrations, applied in order on open; never edit a released one, add a new one. */
export const MIGRATIONS: readonly string[] = [
  `
CREATE TABLE logs (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);
-- rowid = log_id * 2^40 + index (see sqlite-store.ts)
CREATE TABLE entries (
  rowid INTEGER PRIMARY KEY,
  log_id INTEGER NOT NULL REFERENCES logs(id),
  event_id TEXT NOT NULL,
  leaf BLOB NOT NULL
);
CREATE UNIQUE INDEX entries_event_id ON entries (log_id, event_id);
CREATE TABLE tree_hashes (
  log_id INTEGER NOT NULL REFERENCES logs(id),
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (log_id, level, idx)
) WITHOUT ROWID;
CREATE TABLE checkpoints (
  log_id INTEGER NOT NULL REFERENCES logs(id),
  tree_size INTEGER NOT NULL,
  root_hash BLOB NOT NULL CHECK (length(root_hash) = 32),
  note TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (log_id, tree_size)
) WITHOUT ROWID;
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  secret_hash BLOB NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('ingest', 'read', 'admin')),
  logs TEXT NOT NULL,
  label TEXT NOT NULL,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
${LOG_TABLES.map(appendOnlyTriggers).join("\n")}
`,
  // INSERT OR REPLACE deletes the conflicting row without firing DELETE triggers unless the
  // connection enabled recursive_triggers (sqlite.org/lang_conflict.html, REPLACE), so it could
  // rewrite a leaf, hash or signed note. Refuse any insert that collides on any unique key.
  `
${noReplaceTrigger("logs", "id = NEW.id OR name = NEW.name")}
${noReplaceTrigger("entries", "rowid = NEW.rowid OR (log_id = NEW.log_id AND event_id = NEW.event_id)")}
${noReplaceTrigger("tree_hashes", "log_id = NEW.log_id AND level = NEW.level AND idx = NEW.idx")}
${noReplaceTrigger("checkpoints", "log_id = NEW.log_id AND tree_size = NEW.tree_size")}
`,
  // The query index, first kept in this database; migration 6 moved it to its own (index-db.ts),
  // which is built from the leaves, so this step no longer backfills rows that 6 drops.
  QUERY_INDEX,
  // seq → (log_id, seq): the event of an FTS hit, or all events in commit order, for a search over
  // every log (query-plan.ts, rule 7). Inserts land at its right edge (seq only grows).
  "CREATE UNIQUE INDEX events_seq ON events (seq);",
  RETENTION,
  // The query index moved to a database of its own (index-db.ts), rebuilt there from the leaves.
  `
DROP TABLE events_fts;
DROP TABLE event_metadata;
DROP TABLE event_targets;
DROP TABLE events;
DROP TABLE query_state;
`,
  LEAF_HASH_IN_ROW,
];
