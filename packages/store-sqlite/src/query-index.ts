import type { EventIndexFields } from "@sealtrail/core";
import { fieldsOfLeaf } from "@sealtrail/engine";
import type Database from "better-sqlite3";

/** The FTS token that confines a text search to one log (column `log` of `events_fts`). */
export const logToken = (logId: number): string => `l${logId}`;

/**
 * `document.shared` → `document.`: the first segment of the action with its dot, so that the action
 * prefix `document.*` is exactly the equality `resource = 'document.'` (no dot: empty).
 */
export const resourceOf = (action: string): string => action.slice(0, action.indexOf(".") + 1);

export { fieldsOfLeaf };

/**
 * Writes the query index rows of new entries (DESIGN §6) inside a transaction of the index
 * database. `seq` is the global commit order of indexed events: a counter kept in `query_state`,
 * read once and written once per transaction, so it only grows, even after retention prunes the
 * newest rows of a quiet server.
 */
export interface IndexWriter {
  /** Indexes one entry; call between `begin` and `end` of one transaction. */
  add(logId: number, index: number, fields: EventIndexFields): void;
  begin(): void;
  end(): void;
  /** Forgets the transaction's seqs without writing them (it is being rolled back). */
  discard(): void;
}

export function createIndexWriter(db: Database.Database): IndexWriter {
  const stmt = {
    nextSeq: db.prepare<[], { next_seq: number }>("SELECT next_seq FROM query_state WHERE id = 1"),
    setSeq: db.prepare<[number]>("UPDATE query_state SET next_seq = ? WHERE id = 1"),
    event: db.prepare(
      `INSERT INTO events (log_id, seq, idx, occurred_ms, received_ms, action, resource, actor_type, actor_id, outcome, ip,
        request_id, session_id, targets) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    // An event may name the same target twice: one row is enough.
    target: db.prepare("INSERT OR IGNORE INTO event_targets (log_id, id, type, seq, occurred_ms) VALUES (?, ?, ?, ?, ?)"),
    metadata: db.prepare("INSERT OR IGNORE INTO event_metadata (log_id, key, seq, value, occurred_ms) VALUES (?, ?, ?, ?, ?)"),
    text: db.prepare("INSERT INTO events_fts (rowid, log, text) VALUES (?, ?, ?)"),
  };
  let next: number | undefined;
  return {
    begin() {
      next = stmt.nextSeq.get()?.next_seq ?? 1;
    },
    add(logId, index, f) {
      if (next === undefined) throw new Error("IndexWriter.add outside begin/end");
      const seq = next++;
      stmt.event.run(
        logId,
        seq,
        index,
        f.occurredMs,
        f.receivedMs,
        f.action,
        resourceOf(f.action),
        f.actorType,
        f.actorId,
        f.outcome,
        f.ip ?? null,
        f.requestId ?? null,
        f.sessionId ?? null,
        f.targets.length,
      );
      for (const t of f.targets) stmt.target.run(logId, t.id, t.type, seq, f.occurredMs);
      for (const m of f.metadata) stmt.metadata.run(logId, m.key, seq, m.value ?? null, f.occurredMs);
      stmt.text.run(seq, logToken(logId), f.text);
    },
    end() {
      if (next !== undefined) stmt.setSeq.run(next);
      next = undefined;
    },
    discard() {
      next = undefined;
    },
  };
}

const ROWS_PER_LOG = 2n ** 40n;
/** Events per commit of the index database, and how long its transaction may stay open. */
const DEFAULT_MAX_PENDING = 50_000;
const DEFAULT_MAX_OPEN_MS = 1000;

/** Entries just committed to the log database, for the index. */
export interface IndexBatch {
  readonly logId: number;
  readonly log: string;
  readonly entries: readonly { readonly index: number; readonly fields: EventIndexFields | undefined }[];
  /** The log's size after these entries. */
  readonly size: number;
}

/** What the index reads of the log database: its leaves, and its logs with their sizes (pruned entries counted). */
export interface IndexSource {
  readonly db: Database.Database;
  logs(): readonly { id: number; name: string; size: number }[];
}

/**
 * The query index, committed apart from the log (docs/design-notes.md, "The query index commits
 * apart"). An append's durable transaction writes only entries and tile hashes; its index rows
 * then go into a long transaction of the index database, committed every `maxPending` events or
 * `maxOpenMs`, so a page of a random-order index (actor, request id, …) is written once for many
 * events instead of once per commit. Queries run on this same connection, so they see the rows of
 * the open transaction: an acknowledged event is queryable at once (read-your-writes). After a
 * crash, the rows of the open transaction are lost with it, and `ready()` re-derives them from the
 * leaves, starting at each log's committed `indexed_size`.
 */
export interface DeferredIndex {
  /**
   * Indexes entries the log database has committed, after catching up with it; entries the
   * catch-up already indexed are skipped, so a batch may arrive after the catch-up read it. Never
   * throws: a failure is caught up later.
   */
  add(batches: readonly IndexBatch[]): void;
  /** Before a query: indexes whatever the log database holds that the index lacks. */
  ready(): void;
  /** Commits the open index transaction, if any. */
  commit(): void;
  close(): void;
}

export function createDeferredIndex(
  db: Database.Database,
  source: IndexSource,
  options: { maxPending?: number; maxOpenMs?: number } = {},
): DeferredIndex {
  const maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
  const maxOpenMs = options.maxOpenMs ?? DEFAULT_MAX_OPEN_MS;
  const writer = createIndexWriter(db);
  const stmt = {
    mirrorLog: db.prepare<[number, string]>("INSERT INTO logs (id, name) VALUES (?, ?) ON CONFLICT (id) DO NOTHING"),
    indexedSizes: db.prepare<[], { id: number; indexed_size: number }>("SELECT id, indexed_size FROM logs"),
    setIndexedSize: db.prepare<[number, number]>("UPDATE logs SET indexed_size = ? WHERE id = ?"),
  };
  const mirrored = new Set<number>();
  /** Per log, the size to record as indexed when the open transaction commits. */
  const sizes = new Map<number, number>();
  /** Per log, how many of its entries are indexed, committed or in the open transaction. */
  const indexedTo = new Map<number, number>();
  let pending = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let caughtUp = false;

  const begin = () => {
    if (db.inTransaction) return;
    db.exec("BEGIN IMMEDIATE");
    writer.begin();
  };
  const mirror = (id: number, name: string) => {
    if (mirrored.has(id)) return;
    stmt.mirrorLog.run(id, name);
    mirrored.add(id);
  };
  const commit = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!db.inTransaction) return;
    writer.end();
    for (const [id, size] of sizes) stmt.setIndexedSize.run(size, id);
    db.exec("COMMIT");
    sizes.clear();
    pending = 0;
  };
  const rollback = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    writer.discard();
    if (db.inTransaction) db.exec("ROLLBACK");
    sizes.clear();
    mirrored.clear();
    indexedTo.clear();
    pending = 0;
    caughtUp = false;
  };

  /** Every entry past a log's committed indexed_size, indexed in receivedAt order across logs. */
  const catchUp = () => {
    commit();
    const indexed = new Map(stmt.indexedSizes.all().map((r) => [r.id, r.indexed_size]));
    const logs = source.logs();
    const lagging = logs.filter((log) => (indexed.get(log.id) ?? 0) < log.size);
    const done = () => {
      for (const log of logs) indexedTo.set(log.id, log.size);
    };
    if (lagging.length === 0) return done();
    // The order is sorted by SQLite in a temp table, so a rebuild of millions of entries runs in bounded memory.
    source.db.exec("CREATE TEMP TABLE IF NOT EXISTS index_catchup (received TEXT, rid INTEGER NOT NULL); DELETE FROM temp.index_catchup;");
    const collect = source.db.prepare<[bigint, bigint]>(
      `INSERT INTO temp.index_catchup (received, rid) SELECT
         CASE WHEN json_valid(CAST(leaf AS TEXT)) THEN json_extract(CAST(leaf AS TEXT), '$.receivedAt') END, rowid
       FROM entries WHERE rowid >= ? AND rowid < ?`,
    );
    for (const log of lagging) {
      const base = BigInt(log.id) * ROWS_PER_LOG;
      collect.run(base + BigInt(indexed.get(log.id) ?? 0), base + BigInt(log.size));
    }
    const ordered = source.db
      .prepare<[], { rid: bigint; leaf: Buffer }>(
        "SELECT c.rid AS rid, e.leaf AS leaf FROM temp.index_catchup c JOIN entries e ON e.rowid = c.rid ORDER BY c.received, c.rid",
      )
      .safeIntegers(true);
    begin();
    try {
      for (const log of lagging) mirror(log.id, log.name);
      for (const row of ordered.iterate()) {
        const fields = fieldsOfLeaf(row.leaf);
        if (fields) writer.add(Number(row.rid / ROWS_PER_LOG), Number(row.rid % ROWS_PER_LOG), fields);
      }
      for (const log of lagging) sizes.set(log.id, log.size);
      commit();
      done();
    } catch (error) {
      rollback();
      throw error;
    } finally {
      source.db.exec("DROP TABLE IF EXISTS temp.index_catchup");
    }
  };

  return {
    add(batches) {
      try {
        ready();
        begin();
        for (const batch of batches) {
          mirror(batch.logId, batch.log);
          const from = indexedTo.get(batch.logId) ?? 0;
          for (const entry of batch.entries) if (entry.fields && entry.index >= from) writer.add(batch.logId, entry.index, entry.fields);
          if (batch.size > from) {
            sizes.set(batch.logId, batch.size);
            indexedTo.set(batch.logId, batch.size);
          }
          pending += batch.entries.length;
        }
        if (pending >= maxPending) commit();
        else timer ??= setTimeout(() => commitQuietly(), maxOpenMs).unref();
      } catch {
        // The entries are durable in the log database; the next catch-up derives their rows from the leaves.
        rollback();
      }
    },
    ready,
    commit,
    close() {
      commitQuietly();
    },
  };

  function ready(): void {
    if (caughtUp) return;
    catchUp();
    caughtUp = true;
  }

  function commitQuietly(): void {
    try {
      commit();
    } catch {
      rollback();
    }
  }
}
