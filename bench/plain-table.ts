import type { EventInput } from "@sealtrail/core";
import Database from "better-sqlite3";

/**
 * The baseline every figure is compared against: what a user would build instead of Sealtrail, one
 * better-sqlite3 table of events with an index for each documented query shape (tenant + time,
 * actor, action, target, outcome, request; free text is a LIKE scan, as it would be).
 */
const TABLE = `
CREATE TABLE events (
  id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, occurred_ms INTEGER NOT NULL, action TEXT NOT NULL,
  actor_id TEXT NOT NULL, outcome TEXT NOT NULL, target_type TEXT, target_id TEXT, request_id TEXT, body TEXT NOT NULL
);`;
const INDEXES = `CREATE INDEX events_tenant_time ON events (tenant, occurred_ms);
CREATE INDEX events_tenant_actor ON events (tenant, actor_id);
CREATE INDEX events_tenant_action ON events (tenant, action);
CREATE INDEX events_tenant_target ON events (tenant, target_type, target_id);
CREATE INDEX events_tenant_outcome ON events (tenant, outcome);
CREATE INDEX events_tenant_request ON events (tenant, request_id);
`;

export interface PlainRow {
  readonly tenant: string;
  readonly event: EventInput;
}

export interface PlainTable {
  readonly db: Database.Database;
  /** Inserts rows in one transaction, as a batching app would. */
  insertBatch(rows: readonly PlainRow[]): void;
  /** Builds the indexes deferred at open, if any. */
  finishLoad(): void;
  close(): void;
}

/** `full` fsyncs every commit (WAL, synchronous=FULL), the durability Sealtrail acknowledges with. */
export function openPlainTable(path: string, options: { durability: "full" | "normal"; deferIndexes?: boolean }): PlainTable {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${options.durability === "full" ? "FULL" : "NORMAL"}`);
  db.exec(TABLE);
  if (!options.deferIndexes) db.exec(INDEXES);
  const insert = db.prepare(
    "INSERT INTO events (tenant, occurred_ms, action, actor_id, outcome, target_type, target_id, request_id, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const insertBatch = db.transaction((rows: readonly PlainRow[]) => {
    for (const { tenant, event } of rows) {
      const target = event.targets?.[0];
      insert.run(
        tenant,
        Date.parse(event.occurredAt),
        event.action,
        event.actor.id,
        event.outcome ?? "success",
        target?.type,
        target?.id,
        event.context?.requestId,
        JSON.stringify(event),
      );
    }
  });
  return {
    db,
    insertBatch,
    finishLoad: () => {
      if (options.deferIndexes) db.exec(INDEXES);
    },
    close: () => db.close(),
  };
}
