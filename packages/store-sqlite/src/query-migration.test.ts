import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { matchesFilter, utf8 } from "@sealtrail/core";
import { eventBatches, type GeneratedEvent, random, randomDraft, randomFilter } from "@sealtrail/store-testkit";
import Database from "better-sqlite3";
import { indexPathOf } from "./index-db.js";
import { MIGRATIONS } from "./schema.js";
import { createSqliteStore } from "./sqlite-store.js";

const ROWS_PER_LOG = 2n ** 40n;

/** A database as the store left it before the query index (migrations 1 and 2), with entries written raw. */
function legacyDatabase(
  path: string,
  events: readonly GeneratedEvent[],
  junk: readonly { log: string; index: number; leaf: Uint8Array }[],
) {
  const db = new Database(path);
  db.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
  for (const [i, sql] of MIGRATIONS.slice(0, 2).entries()) {
    db.exec(sql as string);
    db.prepare("INSERT INTO schema_migrations VALUES (?, '2026-01-01T00:00:00.000Z')").run(i + 1);
  }
  const ids = new Map<string, number>();
  const insertLog = db.prepare("INSERT INTO logs (name, created_at) VALUES (?, '2026-01-01T00:00:00.000Z')");
  const insertEntry = db.prepare("INSERT INTO entries (rowid, log_id, event_id, leaf) VALUES (?, ?, ?, ?)");
  const idOf = (log: string): number => {
    let id = ids.get(log);
    if (id === undefined) {
      id = Number(insertLog.run(log).lastInsertRowid);
      ids.set(log, id);
    }
    return id;
  };
  for (const e of [...events, ...junk].sort((a, b) => a.log.localeCompare(b.log) || a.index - b.index)) {
    const id = idOf(e.log);
    insertEntry.run(BigInt(id) * ROWS_PER_LOG + BigInt(e.index), id, `${e.log}-${e.index}`, e.leaf);
  }
  db.close();
}

describe("migrations 3 and 6: the query index, in a database of its own", () => {
  it("backfills logs written before it, in receivedAt order, skipping leaves that are not events", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sealtrail-migrate-"));
    const path = join(dir, "audit.db");
    try {
      const rng = random(3);
      const events: GeneratedEvent[] = [];
      const sizes = new Map<string, number>();
      for (let round = 0; round < 12; round++) {
        // Rounds alternate logs: receivedAt interleaves them, while entries' rowids group them by log.
        const receivedAt = new Date(Date.UTC(2026, 0, 1, round)).toISOString();
        const log = ["acme", "globex", "initech"][round % 3] as string;
        const startIndex = sizes.get(log) ?? 0;
        const drafts = Array.from({ length: 5 + round }, () => randomDraft(rng, Date.UTC(2025, 11, 1 + round)));
        sizes.set(log, startIndex + drafts.length);
        events.push(...eventBatches([{ log, startIndex, drafts, receivedAt }]).events);
      }
      const junkIndex = sizes.get("acme") ?? 0;
      const junk = [
        { log: "acme", index: junkIndex, leaf: utf8('{"action":"not.an.event"}') },
        { log: "acme", index: junkIndex + 1, leaf: new Uint8Array([0xff, 0x00, 0xfe]) },
        { log: "acme", index: junkIndex + 2, leaf: utf8("[1,2,3]") },
      ];
      legacyDatabase(path, events, junk);

      const store = createSqliteStore({ path });
      try {
        const all = await store.queryEvents({ filter: {}, order: "asc", limit: 10_000 });
        const expected = [...events].sort(
          (a, b) => a.event.receivedAt.localeCompare(b.event.receivedAt) || a.log.localeCompare(b.log) || a.index - b.index,
        );
        assert.deepEqual(
          all.map((e) => `${e.log}/${e.index}`),
          expected.map((e) => `${e.log}/${e.index}`),
        );
        assert.ok(all.every((e, i) => i === 0 || e.seq > (all[i - 1]?.seq as number)));
        for (let i = 0; i < 60; i++) {
          const filter = randomFilter(rng, events);
          const want = events.filter((e) => matchesFilter(e.event, filter)).length;
          assert.equal(await store.countEvents({ filter }), want, JSON.stringify(filter));
        }
        // New appends continue the order after the backfilled events.
        const next = eventBatches([
          {
            log: "acme",
            startIndex: junkIndex + 3,
            drafts: [randomDraft(rng, Date.UTC(2026, 1, 1))],
            receivedAt: "2026-02-01T00:00:00.000Z",
          },
        ]);
        await store.append(next.batches);
        const [newest] = await store.queryEvents({ filter: {}, order: "desc", limit: 1 });
        assert.equal(newest?.index, junkIndex + 3);
        assert.ok((newest?.seq as number) > (all[all.length - 1]?.seq as number));
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("leaves the index tables prunable (no append-only triggers) and the log tables guarded", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sealtrail-migrate-"));
    const path = join(dir, "audit.db");
    const store = createSqliteStore({ path });
    try {
      await store.append(
        eventBatches([
          { log: "acme", startIndex: 0, drafts: [randomDraft(random(1), Date.UTC(2026, 0, 1))], receivedAt: "2026-01-01T00:00:00.000Z" },
        ]).batches,
      );
      await store.flushIndex();
      const db = new Database(path);
      const indexDb = new Database(indexPathOf(path));
      try {
        const triggers = db
          .prepare<[], { tbl_name: string }>("SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger' ORDER BY 1")
          .all();
        assert.deepEqual(
          triggers.map((t) => t.tbl_name),
          ["checkpoints", "entries", "logs", "pruned_ranges", "tree_hashes"],
        );
        // Retention will prune these; here a transaction proves it could, then rolls back.
        assert.deepEqual(indexDb.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all(), []);
        indexDb.exec("BEGIN");
        for (const table of ["events", "event_targets", "event_metadata", "events_fts"]) indexDb.exec(`DELETE FROM ${table}`);
        indexDb.exec("ROLLBACK");
        assert.throws(() => db.exec("DELETE FROM entries"), /append-only/);
      } finally {
        db.close();
        indexDb.close();
      }
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers queries on a read-only open (audits, the CLI)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sealtrail-migrate-"));
    const path = join(dir, "audit.db");
    try {
      const writer = createSqliteStore({ path });
      const { batches, events } = eventBatches([
        { log: "acme", startIndex: 0, drafts: [randomDraft(random(2), Date.UTC(2026, 0, 1))], receivedAt: "2026-01-01T00:00:00.000Z" },
      ]);
      await writer.append(batches);
      await writer.close();
      const reader = createSqliteStore({ path, readonly: true });
      try {
        const [found] = await reader.queryEvents({
          logs: ["acme"],
          filter: { actor: [events[0]?.fields.actorId as string] },
          order: "desc",
          limit: 5,
        });
        assert.equal(found?.id, events[0]?.event.id);
        assert.equal(await reader.countEvents({ filter: {} }), 1);
      } finally {
        await reader.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
