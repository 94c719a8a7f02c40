import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type AuditEvent, matchesFilter } from "@sealtrail/core";
import { eventBatches, random, randomDraft, randomFilter } from "@sealtrail/store-testkit";
import Database from "better-sqlite3";
import { indexPathOf } from "./index-db.js";
import { fieldsOfLeaf } from "./query-index.js";
import { createSqliteStore, type SqliteStore } from "./sqlite-store.js";

const LOGS = ["acme", "globex"];

/** Every stored event, read back from the leaves: what the index must describe. */
async function storedEvents(store: SqliteStore) {
  const out = [];
  for (const log of LOGS) {
    const size = (await store.getLog(log))?.size ?? 0;
    for (const entry of await store.readEntries(log, 0, size)) {
      out.push({
        log,
        index: entry.index,
        event: JSON.parse(Buffer.from(entry.leaf).toString("utf8")) as AuditEvent,
        fields: fieldsOfLeaf(entry.leaf),
      });
    }
  }
  return out;
}

/** The index answers as the leaves do: every event once, filters as the reference matcher says. */
async function assertIndexMatchesLeaves(store: SqliteStore): Promise<void> {
  const events = await storedEvents(store);
  const all = await store.queryEvents({ filter: {}, order: "asc", limit: 100_000 });
  assert.equal(all.length, events.length);
  assert.deepEqual(new Set(all.map((e) => `${e.log}/${e.index}`)), new Set(events.map((e) => `${e.log}/${e.index}`)));
  assert.ok(
    all.every((e, i) => i === 0 || e.seq > (all[i - 1]?.seq as number)),
    "seq strictly increasing",
  );
  const rng = random(11);
  const generated = events.map((e) => ({ ...e, leaf: new Uint8Array(), fields: e.fields as NonNullable<typeof e.fields> }));
  for (let i = 0; i < 40; i++) {
    const filter = randomFilter(rng, generated);
    assert.equal(await store.countEvents({ filter }), events.filter((e) => matchesFilter(e.event, filter)).length, JSON.stringify(filter));
  }
}

async function appendRounds(store: SqliteStore, rounds: number, seed: number): Promise<void> {
  const rng = random(seed);
  for (let round = 0; round < rounds; round++) {
    const items = [];
    for (const log of LOGS) {
      const startIndex = (await store.getLog(log))?.size ?? 0;
      items.push({
        log,
        startIndex,
        drafts: [randomDraft(rng, Date.UTC(2026, 0, 1 + round))],
        receivedAt: new Date(Date.UTC(2026, 2, 1, round)).toISOString(),
      });
    }
    await store.append(eventBatches(items).batches);
  }
}

const indexedRows = (path: string): number => {
  const db = new Database(indexPathOf(path), { readonly: true });
  try {
    return (db.prepare<[], { n: number }>("SELECT count(*) AS n FROM events").get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe("the query index, committed apart from the log", () => {
  it("answers for an acknowledged event at once, while other connections see it only once committed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sealtrail-deferred-"));
    const path = join(dir, "audit.db");
    const store = createSqliteStore({ path });
    try {
      await appendRounds(store, 1, 1);
      await store.flushIndex();
      assert.equal(indexedRows(path), 2);
      await appendRounds(store, 3, 2);
      assert.equal(await store.countEvents({ filter: {} }), 8);
      // The index transaction is still open: its rows are not committed yet.
      assert.equal(indexedRows(path), 2);
      await store.flushIndex();
      assert.equal(indexedRows(path), 8);
      await assertIndexMatchesLeaves(store);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("re-derives from the leaves what a SIGKILLed writer had not committed to the index", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sealtrail-deferred-"));
    const path = join(dir, "audit.db");
    try {
      const child = spawn(
        process.execPath,
        ["--conditions=source", "--import", "tsx", join(import.meta.dirname, "test-append-child.ts"), path, "5"],
        {
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => {
          if (chunk.toString().includes("appended")) resolve();
        });
        child.on("exit", (code) => reject(new Error(`child exited early with ${code}`)));
      });
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
      // The entries are durable; the index rows of the rounds after the first died with the
      // child's open index transaction.
      assert.ok(indexedRows(path) < 200, `${indexedRows(path)} index rows committed`);
      const store = createSqliteStore({ path });
      try {
        assert.equal((await storedEvents(store)).length, 200);
        await assertIndexMatchesLeaves(store);
        // Appends continue the commit order after the re-derived events.
        const before = await store.queryEvents({ filter: {}, order: "desc", limit: 1 });
        await appendRounds(store, 1, 2);
        const [newest] = await store.queryEvents({ filter: {}, order: "desc", limit: 1 });
        assert.ok((newest?.seq as number) > (before[0]?.seq as number));
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rebuilds an index that was deleted, or that describes another database", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sealtrail-deferred-"));
    const path = join(dir, "audit.db");
    const other = join(dir, "other.db");
    try {
      const first = createSqliteStore({ path });
      await appendRounds(first, 4, 3);
      await first.close();
      // Another store whose logs have other ids: its index must not be taken for this one's.
      const second = createSqliteStore({ path: other });
      await second.append(
        eventBatches([
          { log: "zeta", startIndex: 0, drafts: [randomDraft(random(4), Date.UTC(2026, 0, 1))], receivedAt: "2026-01-01T00:00:00.000Z" },
        ]).batches,
      );
      await appendRounds(second, 6, 5);
      await second.close();

      rmSync(indexPathOf(path));
      let store = createSqliteStore({ path });
      await assertIndexMatchesLeaves(store);
      await store.close();

      copyFileSync(indexPathOf(other), indexPathOf(path));
      store = createSqliteStore({ path });
      try {
        await assertIndexMatchesLeaves(store);
        assert.equal(await store.countEvents({ logs: ["zeta"], filter: {} }), 0);
      } finally {
        await store.close();
      }
      assert.ok(existsSync(indexPathOf(path)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
