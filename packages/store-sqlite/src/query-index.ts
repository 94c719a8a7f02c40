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
 * Writes the query index rows of new entries (DESIGN §6). Runs inside the append transaction, so
 * an entry and its index rows commit together. `seq` is the global commit order of indexed events:
 * a counter kept in `query_state`, read once and written once per transaction, so it only grows,
 * even after retention prunes the newest rows of a quiet server.
 */
export interface IndexWriter {
  /** Indexes one entry; call between `begin` and `end` of one transaction. */
  add(logId: number, index: number, fields: EventIndexFields): void;
  begin(): void;
  end(): void;
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
  };
}

const ROWS_PER_LOG = 2n ** 40n;

/**
 * Indexes entries stored before the query index existed (migration 3). Their true commit order
 * across logs is not recorded, so `seq` follows `receivedAt` (the engine stamps it at commit),
 * then log and index: within a log, the order is exactly the log's own.
 */
export function backfillIndex(db: Database.Database): void {
  // Two number arrays, not row objects: a store of millions of entries sorts in SQL and fits here.
  const logIds: number[] = [];
  const indexes: number[] = [];
  const order = db
    .prepare(
      `SELECT log_id, rowid - log_id * ${ROWS_PER_LOG} AS idx FROM entries
       ORDER BY CASE WHEN json_valid(CAST(leaf AS TEXT)) THEN json_extract(CAST(leaf AS TEXT), '$.receivedAt') END, log_id, rowid`,
    )
    .raw(true);
  for (const [logId, idx] of order.iterate() as IterableIterator<[number, number]>) {
    logIds.push(logId);
    indexes.push(idx);
  }
  const leaf = db.prepare<[bigint], { leaf: Buffer }>("SELECT leaf FROM entries WHERE rowid = ?");
  const writer = createIndexWriter(db);
  writer.begin();
  for (let i = 0; i < logIds.length; i++) {
    const logId = logIds[i] as number;
    const idx = indexes[i] as number;
    const row = leaf.get(BigInt(logId) * ROWS_PER_LOG + BigInt(idx));
    const fields = row ? fieldsOfLeaf(row.leaf) : undefined;
    if (fields) writer.add(logId, idx, fields);
  }
  writer.end();
}
