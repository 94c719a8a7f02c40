/** Append-only tables: the database itself refuses to change, remove or empty what they hold. */
export const LOG_TABLES = ["logs", "entries", "tree_hashes", "checkpoints"] as const;

/**
 * Advisory lock namespaces (the first key of the two-key form), so our locks never collide with an
 * application's own advisory locks on the same database. The second key is `hashtext(log)` or 0.
 */
export const LOCK = Object.freeze({
  /** Held (transaction) while migrating. */
  migrate: 0x53540001,
  /** Held (transaction) while appending to a log: its size cannot change under the check. */
  log: 0x53540002,
  /** Held (transaction) while storing a checkpoint of a log. */
  checkpoint: 0x53540003,
  /** Held (session) by the one process that integrates staged appends (cluster.ts). */
  integrator: 0x53540004,
});

/**
 * Storage options of every partition of the query index (a partitioned table itself takes none):
 * autovacuum visits an insert-only partition after 1 % of its rows were added (default 20 %), so
 * the visibility map keeps up and index-only scans stay index-only (COVERING_INDEXES).
 */
export const PARTITION_OPTIONS = "autovacuum_vacuum_insert_scale_factor = 0.01";

const refuse = (table: string): string => `
CREATE TRIGGER ${table}_no_update_delete BEFORE UPDATE OR DELETE ON ${table}
  FOR EACH ROW EXECUTE FUNCTION sealtrail_refuse_change();
CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
  FOR EACH STATEMENT EXECUTE FUNCTION sealtrail_refuse_change();`;

/**
 * The query index (DESIGN §6): one row per event, derived from the leaf and rebuildable from it,
 * so it is NOT append-only (retention drops its old partitions). Partitioned by month of the
 * server's receivedAt, which only moves forward, so a retention job drops whole partitions and
 * never touches entries or tiles. One-to-many parts (targets, metadata) are keys in `keys` (text[],
 * GIN); free text is a tsvector built from core's `searchTokens` with positions, so a phrase is
 * `<->` adjacency exactly as core's matcher defines it. See query-sql.ts for the encodings.
 */
const QUERY_INDEX = `
CREATE TABLE query_state (
  id integer PRIMARY KEY CHECK (id = 1),
  next_seq bigint NOT NULL
);
INSERT INTO query_state (id, next_seq) VALUES (1, 1);
CREATE TABLE events (
  log_id integer NOT NULL,
  seq bigint NOT NULL,
  idx bigint NOT NULL,
  occurred_ms bigint NOT NULL,
  received_ms bigint NOT NULL,
  action text NOT NULL,
  resource text NOT NULL,
  actor_type text NOT NULL,
  actor_id text NOT NULL,
  outcome text NOT NULL,
  ip text,
  request_id text,
  session_id text,
  targets integer NOT NULL,
  keys text[] NOT NULL,
  tsv tsvector NOT NULL
) PARTITION BY RANGE (received_ms);
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE INDEX events_log_seq ON events (log_id, seq);
CREATE INDEX events_seq ON events (seq);
CREATE INDEX events_occurred ON events (log_id, occurred_ms);
CREATE INDEX events_received ON events (log_id, received_ms);
CREATE INDEX events_actor ON events (log_id, actor_id, seq);
CREATE INDEX events_actor_type ON events (log_id, actor_type, seq);
CREATE INDEX events_action ON events (log_id, action, seq);
CREATE INDEX events_resource ON events (log_id, resource, seq);
CREATE INDEX events_outcome ON events (log_id, outcome, seq);
CREATE INDEX events_ip ON events (log_id, ip, seq) WHERE ip IS NOT NULL;
CREATE INDEX events_request ON events (log_id, request_id, seq) WHERE request_id IS NOT NULL;
CREATE INDEX events_session ON events (log_id, session_id, seq) WHERE session_id IS NOT NULL;
CREATE INDEX events_keys ON events USING gin (keys);
CREATE INDEX events_tsv ON events USING gin (tsv);
`;

/**
 * Multi-writer staging (cluster.ts): appends accepted by any instance wait here, durable, until
 * the integrator sequences them; its answer waits in `staged_results` for the accepting instance.
 * Neither is log data: rows are deleted once integrated and answered.
 */
const STAGING = `
CREATE TABLE staged (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  log text NOT NULL,
  drafts text NOT NULL,
  pointers text NOT NULL,
  staged_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE staged_results (
  id bigint PRIMARY KEY,
  result text NOT NULL,
  integrated_at timestamptz NOT NULL DEFAULT now()
);
`;

/**
 * Retention (DESIGN §7, docs/retention.md), as migration 5 of the SQLite store. `pruned_ranges` is
 * the prune ledger, append-only like the log tables. The one DELETE the database allows on
 * `entries`, and on the query index `events`, is of a row whose index a ledger range already
 * covers: pruning is recorded first, and nothing else can remove a leaf or hide an event from
 * search. UPDATE and TRUNCATE of entries stay refused; tree hashes and checkpoints stay fully
 * append-only. Ranges never overlap (the store checks under the log's lock), so the one range that
 * can cover an index is the last one starting at or before it: one probe of the primary key.
 * Retention periods and legal holds are settings: every change to them is a system-log event.
 */
const RETENTION = `
CREATE TABLE pruned_ranges (
  log_id integer NOT NULL REFERENCES logs (id),
  start_idx bigint NOT NULL CHECK (start_idx >= 0),
  end_idx bigint NOT NULL CHECK (end_idx > start_idx),
  pruned_at text NOT NULL,
  PRIMARY KEY (log_id, start_idx)
);
${refuse("pruned_ranges")}
CREATE FUNCTION sealtrail_delete_pruned_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (
    SELECT 1 FROM (
      SELECT end_idx FROM pruned_ranges WHERE log_id = OLD.log_id AND start_idx <= OLD.idx ORDER BY start_idx DESC LIMIT 1
    ) AS r WHERE r.end_idx > OLD.idx
  ) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'sealtrail: % is append-only (DELETE refused: only entries inside ranges recorded in pruned_ranges may be pruned)',
    TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
DROP TRIGGER entries_no_update_delete ON entries;
CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries FOR EACH ROW EXECUTE FUNCTION sealtrail_refuse_change();
CREATE TRIGGER entries_delete_pruned_only BEFORE DELETE ON entries FOR EACH ROW EXECUTE FUNCTION sealtrail_delete_pruned_only();
CREATE TRIGGER events_no_update BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION sealtrail_refuse_change();
CREATE TRIGGER events_delete_pruned_only BEFORE DELETE ON events FOR EACH ROW EXECUTE FUNCTION sealtrail_delete_pruned_only();
CREATE TABLE retention_policies (
  log text PRIMARY KEY,
  days double precision NOT NULL CHECK (days > 0),
  updated_at text NOT NULL
);
CREATE TABLE legal_holds (
  id text PRIMARY KEY,
  log text NOT NULL,
  query text,
  reason text NOT NULL,
  created_at text NOT NULL,
  released_at text
);
`;

/**
 * Query index pages without heap reads (migration 4, EXPLAINs in BENCHMARKS.md). A first page is
 * "the newest `limit` of a log matching F": the (log_id, col, seq) btrees answer it by walking one
 * index backwards, but each hit then read the heap row for `idx` (a random read per row once the
 * table outgrows memory), and a time bound was checked on the heap too. INCLUDE carries what the
 * page needs (`idx`, `occurred_ms`; `outcome` beside action and resource, the usual companion of
 * a prefix), so the walk is an index-only scan; the occurredAt index carries `seq` and `idx`, so
 * "a day of a log" reads that day's index range and sorts it, never the heap. (log_id, received_ms)
 * stays as it was: its keys repeat (one receivedAt per commit), so btree deduplication, which
 * INCLUDE turns off, keeps it ~6x smaller, and it is the index the planner reads the rows of a log
 * from when it ANDs a GIN bitmap (target, metadata, text) with `log_id = …` (a log of 668,740
 * rows: 4,032 pages from a covering index, 607 from this one). New indexes are built before the
 * old ones are dropped: the build holds SHARE on `events` (appends wait, queries go on), the
 * drops take ACCESS EXCLUSIVE only at the end. CREATE INDEX on a partitioned table attaches a
 * matching index a partition already has instead of building it, so an operator can build them
 * beforehand with CONCURRENTLY, partition by partition (docs/deployment.md).
 * Index-only scans skip the heap only for pages the visibility map marks all-visible, which for an
 * insert-only table is autovacuum's insert trigger (PostgreSQL 13+): by default after 20 % of the
 * partition's rows; each partition here asks for 1 % (PARTITION_OPTIONS).
 */
const COVERING_INDEXES = (() => {
  const page = "INCLUDE (idx, occurred_ms)";
  const withOutcome = "INCLUDE (idx, occurred_ms, outcome)";
  const indexes: [old: string, columns: string, include: string, where?: string][] = [
    ["events_log_seq", "log_id, seq", page],
    ["events_occurred", "log_id, occurred_ms", "INCLUDE (seq, idx)"],
    ["events_actor", "log_id, actor_id, seq", page],
    ["events_actor_type", "log_id, actor_type, seq", page],
    ["events_action", "log_id, action, seq", withOutcome],
    ["events_resource", "log_id, resource, seq", withOutcome],
    ["events_outcome", "log_id, outcome, seq", page],
    ["events_ip", "log_id, ip, seq", page, "ip IS NOT NULL"],
    ["events_request", "log_id, request_id, seq", page, "request_id IS NOT NULL"],
    ["events_session", "log_id, session_id, seq", page, "session_id IS NOT NULL"],
  ];
  const create = indexes.map(
    ([old, columns, include, where]) => `CREATE INDEX ${old}_page ON events (${columns}) ${include}${where ? ` WHERE ${where}` : ""};`,
  );
  return `
${create.join("\n")}
DROP INDEX ${indexes.map(([old]) => old).join(", ")};
DO $$
DECLARE part regclass;
BEGIN
  FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'events'::regclass LOOP
    EXECUTE format('ALTER TABLE %s SET (${PARTITION_OPTIONS})', part);
  END LOOP;
END $$;
`;
})();

/** Versioned migrations, applied in order on start under an advisory lock; never edit a released one. */
export const MIGRATIONS: readonly string[] = [
  `
CREATE FUNCTION sealtrail_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'sealtrail: % is append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TABLE logs (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE,
  created_at text NOT NULL
);
CREATE TABLE entries (
  log_id integer NOT NULL REFERENCES logs (id),
  idx bigint NOT NULL,
  event_id text NOT NULL,
  -- The leaf bytes exactly as hashed (DESIGN §3): bytea, never a re-serialized jsonb.
  leaf bytea NOT NULL,
  PRIMARY KEY (log_id, idx),
  UNIQUE (log_id, event_id)
);
CREATE TABLE tree_hashes (
  log_id integer NOT NULL REFERENCES logs (id),
  level smallint NOT NULL,
  idx bigint NOT NULL,
  hash bytea NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (log_id, level, idx)
);
CREATE TABLE checkpoints (
  log_id integer NOT NULL REFERENCES logs (id),
  tree_size bigint NOT NULL,
  root_hash bytea NOT NULL CHECK (length(root_hash) = 32),
  note text NOT NULL,
  created_at text NOT NULL,
  PRIMARY KEY (log_id, tree_size)
);
CREATE TABLE api_keys (
  id text PRIMARY KEY,
  secret_hash bytea NOT NULL,
  scope text NOT NULL CHECK (scope IN ('ingest', 'read', 'admin')),
  logs text NOT NULL,
  label text NOT NULL,
  created_at text NOT NULL,
  revoked_at text
);
${LOG_TABLES.map(refuse).join("\n")}
${QUERY_INDEX}
${STAGING}
`,
  RETENTION,
  // 3: data keys for crypto-shredding (key-store.ts), shared by every instance. Not append-only:
  // erasing a subject deletes its keys; the record of each erasure is append-only.
  `
CREATE TABLE subject_keys (
  kid text PRIMARY KEY,
  log text NOT NULL,
  subject text NOT NULL,
  key bytea NOT NULL CHECK (length(key) = 32),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (log, subject)
);
-- ANALYZE would copy sample key values into pg_statistic, where erasing the row cannot reach them.
ALTER TABLE subject_keys ALTER COLUMN key SET STATISTICS 0;
CREATE INDEX subject_keys_subject ON subject_keys (subject);
CREATE TABLE subject_key_erasures (
  kid text PRIMARY KEY,
  log text NOT NULL,
  subject text NOT NULL,
  erased_at text NOT NULL
);
${refuse("subject_key_erasures")}
`,
  COVERING_INDEXES,
];

/**
 * The grants of the least-privilege application role (docs/deployment.md): INSERT and SELECT on
 * log tables, nothing else there; the few mutable tables get exactly what the server does to them
 * (data keys: read, create, and destroy by DELETE, never UPDATE).
 * Run by the schema owner after migrating; `role` must be a plain SQL identifier.
 */
export function appRoleGrants(role: string): string {
  checkRole(role);
  return `
GRANT USAGE ON SCHEMA public TO ${role};
GRANT SELECT ON schema_migrations TO ${role};
GRANT SELECT, INSERT ON ${LOG_TABLES.join(", ")} TO ${role};
GRANT SELECT, INSERT ON events TO ${role};
GRANT SELECT, UPDATE ON query_state TO ${role};
GRANT SELECT, INSERT, UPDATE ON api_keys TO ${role};
GRANT SELECT, INSERT, DELETE ON staged, staged_results TO ${role};
GRANT SELECT ON pruned_ranges TO ${role};
GRANT SELECT, INSERT, UPDATE, DELETE ON retention_policies TO ${role};
GRANT SELECT, INSERT, UPDATE ON legal_holds TO ${role};
GRANT SELECT, INSERT, DELETE ON subject_keys TO ${role};
GRANT SELECT, INSERT ON subject_key_erasures TO ${role};
`;
}

/**
 * What a role needs, beyond appRoleGrants, to prune (run the retention job): record ranges in the
 * ledger and delete the rows the triggers then allow. Even with these, it can remove only bodies
 * of ranges it recorded first, in a ledger nobody can change; it still cannot alter any row.
 * Granted to the app role of the instances that should prune (docs/deployment.md).
 */
export function pruneRoleGrants(role: string): string {
  checkRole(role);
  return `
GRANT INSERT ON pruned_ranges TO ${role};
GRANT DELETE ON entries, events TO ${role};
`;
}

function checkRole(role: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) throw new Error(`not a plain role name: ${role}`);
}
