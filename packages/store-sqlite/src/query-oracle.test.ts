import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type EventDraft, GROUP_BY, matchesFilter, type QueryFilter, toHex } from "@sealtrail/core";
import type { EventQuery, QueriedEntry } from "@sealtrail/engine";
import {
  eventBatches,
  HOSTILE,
  ORACLE_LOGS,
  ORACLE_START,
  type OracleData,
  pick,
  random,
  randomDraft,
  randomFilter,
  referenceGroups,
  seedOracle,
  snapshot,
} from "@sealtrail/store-testkit";
import Database from "better-sqlite3";
import { indexPathOf } from "./index-db.js";
import { createQueryExecutor, type QueryExecutor } from "./query-executor.js";
import { createSqliteStore, type SqliteStore } from "./sqlite-store.js";

const keyOf = (e: { log: string; index: number }): string => `${e.log}/${e.index}`;
/** Calendar days (UTC) that [from, to) touches, for times after 1970. */
const daysIn = (from: number, to: number): number => Math.floor((to - 1) / 86_400_000) - Math.floor(from / 86_400_000) + 1;

function pages(executor: QueryExecutor, query: Omit<EventQuery, "after">): QueriedEntry[] {
  const out: QueriedEntry[] = [];
  let afterSeq: number | undefined;
  for (;;) {
    const page = executor.queryEvents({ ...query, ...(afterSeq === undefined ? {} : { after: afterSeq }) });
    if (page.length === 0) return out;
    assert.ok(page.length <= query.limit);
    out.push(...page);
    afterSeq = (page[page.length - 1] as QueriedEntry).seq;
  }
}

describe("queries against matchesFilter, the reference (a few thousand events, six logs)", () => {
  let dir: string;
  let store: SqliteStore;
  let db: Database.Database;
  let logDb: Database.Database;
  let seeded: OracleData;
  let seqOf: Map<string, number>;
  // The store's own planning, and one whose probe cap is tiny, so that every planning rule (probes,
  // rank ties, the rule-5 switch to seq order) fires on this little data and must not change results.
  const executors: { name: string; executor: QueryExecutor }[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "sealtrail-oracle-"));
    const path = join(dir, "audit.db");
    store = createSqliteStore({ path, durability: "normal" });
    seeded = await seedOracle(store, random(99), 80);
    await store.flushIndex();
    db = new Database(indexPathOf(path));
    logDb = new Database(path);
    db.exec("ANALYZE");
    for (const probeCap of [2000, 12, 1])
      executors.push({ name: `probe cap ${probeCap}`, executor: createQueryExecutor(db, logDb, { probeCap }) });
    const all = await store.queryEvents({ filter: {}, order: "asc", limit: 1_000_000 });
    seqOf = new Map(all.map((e) => [keyOf(e), e.seq]));
  });
  after(async () => {
    await store.close();
    db.close();
    logDb.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("holds enough events to mean something", () => {
    assert.ok(seeded.events.length > 2500, String(seeded.events.length));
    assert.equal(seqOf.size, seeded.events.length);
  });

  it("returns exactly the matching events in seq order, and counts them, for 250 random filters", () => {
    const rng = random(7);
    for (let i = 0; i < 250; i++) {
      const filter = randomFilter(rng, seeded.events);
      if (rng() < 0.3) filter.not = { ...(filter.not ?? {}), ...randomFilter(rng, seeded.events) };
      const r = rng();
      const logs = r < 0.25 ? undefined : r < 0.75 ? [pick(rng, ORACLE_LOGS)] : [pick(rng, ORACLE_LOGS), pick(rng, ORACLE_LOGS)];
      const order = rng() < 0.5 ? "desc" : "asc";
      const expected = seeded.events
        .filter((e) => (!logs || logs.includes(e.log)) && matchesFilter(e.event, filter))
        .map((e) => ({ key: keyOf(e), seq: seqOf.get(keyOf(e)) as number }))
        .sort((a, b) => (order === "desc" ? b.seq - a.seq : a.seq - b.seq));
      // Small pages exercise the cursor; at most ~40 of them per filter keep the test quick.
      const limit = Math.max(pick(rng, [1, 3, 10, 50, 1000]), Math.ceil(expected.length / 40));
      const { executor, name } = pick(rng, executors);
      const label = `${name} ${JSON.stringify({ logs, filter, order, limit })}`;
      const got = pages(executor, { ...(logs ? { logs } : {}), filter, order, limit });
      assert.deepEqual(
        got.map((e) => ({ key: keyOf(e), seq: e.seq })),
        expected,
        label,
      );
      assert.equal(executor.countEvents({ ...(logs ? { logs } : {}), filter }), expected.length, label);
    }
  });

  it("groups like the reference for random filters and every dimension", () => {
    const rng = random(8);
    for (let i = 0; i < 60; i++) {
      const filter = randomFilter(rng, seeded.events);
      const logs = rng() < 0.5 ? undefined : [pick(rng, ORACLE_LOGS)];
      const groupBy = GROUP_BY[i % GROUP_BY.length] as (typeof GROUP_BY)[number];
      const limit = pick(rng, [1, 5, 1000]);
      const matching = seeded.events.filter((e) => (!logs || logs.includes(e.log)) && matchesFilter(e.event, filter));
      const { executor } = pick(rng, executors);
      assert.deepEqual(
        executor.groupEvents({ ...(logs ? { logs } : {}), filter, groupBy, limit }),
        referenceGroups(
          matching.map((e) => e.fields),
          groupBy,
          limit,
        ),
        JSON.stringify({ filter, logs, groupBy, limit }),
      );
    }
  });

  it("reads a time window, or an actor's, day by day (rules 9 and 10), with exactly the reference's results", () => {
    const rng = random(11);
    const DAY = 86_400_000;
    let dayByDay = 0;
    for (let i = 0; i < 90; i++) {
      const e = pick(rng, seeded.events);
      const span = pick(rng, [3_600_000, DAY, 3 * DAY, 7 * DAY, 15 * DAY]);
      const from = e.fields.occurredMs - Math.floor(rng() * span);
      const actors = [e.fields.actorId, ...(rng() < 0.2 ? [pick(rng, seeded.events).fields.actorId] : [])];
      const filter: QueryFilter = {
        ...(i % 3 === 2 ? {} : { actor: actors }),
        occurredAfter: new Date(from).toISOString(),
        occurredBefore: new Date(from + span).toISOString(),
      };
      const logs = [e.log];
      const order = rng() < 0.5 ? "desc" : "asc";
      const expected = seeded.events
        .filter((x) => x.log === e.log && matchesFilter(x.event, filter))
        .map((x) => keyOf(x))
        .sort((a, b) => ((seqOf.get(a) as number) - (seqOf.get(b) as number)) * (order === "desc" ? -1 : 1));
      for (const { name, executor } of executors) {
        const label = `${name} ${JSON.stringify({ logs, filter, order })}`;
        const plan = executor.planPage({ logs, filter, order, limit: 5 })[0];
        if (plan && ["actorDays", "occurredAt"].includes(plan.driver) && plan.statements.length === daysIn(from, from + span)) dayByDay++;
        assert.deepEqual(pages(executor, { logs, filter, order, limit: 5 }).map(keyOf), expected, label);
        assert.equal(executor.countEvents({ logs, filter }), expected.length, label);
      }
    }
    assert.ok(dayByDay > 100, `a day-by-day plan was chosen ${dayByDay} times of 270`);
  });

  it("gives the same pages whichever plan each page takes", () => {
    const filter: QueryFilter = { occurredAfter: new Date(ORACLE_START).toISOString(), outcome: ["success", "failure"] };
    const results = executors.map(({ executor }) => pages(executor, { filter, order: "desc", limit: 7 }).map(keyOf));
    for (const result of results.slice(1)) assert.deepEqual(result, results[0]);
  });
});

describe("paging while events arrive", () => {
  it("shows every event present at the first page exactly once, desc, across logs, under every plan", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sealtrail-oracle-"));
    const path = join(dir, "audit.db");
    const store = createSqliteStore({ path, durability: "normal" });
    const db = new Database(indexPathOf(path));
    const logDb = new Database(path);
    try {
      const rng = random(5);
      const state = await seedOracle(store, rng, 12);
      await store.flushIndex();
      // Between two pages, a commit lands in two logs (one the pages already passed).
      const arrive = async (): Promise<void> => {
        const received = new Date(ORACLE_START + 1e9 + state.events.length * 1000).toISOString();
        const items = [pick(rng, ORACLE_LOGS), pick(rng, ORACLE_LOGS)]
          .filter((l, i, all) => all.indexOf(l) === i)
          .map((log) => {
            const startIndex = state.sizes.get(log) ?? 0;
            state.sizes.set(log, startIndex + 2);
            return {
              log,
              startIndex,
              drafts: [randomDraft(rng, ORACLE_START), randomDraft(rng, ORACLE_START + 5e9)],
              receivedAt: received,
            };
          });
        const { batches, events } = eventBatches(items);
        await store.append(batches);
        // This test reads through its own connections, which see what the index has committed.
        await store.flushIndex();
        state.events.push(...events);
      };
      for (const probeCap of [2000, 3]) {
        const executor = createQueryExecutor(db, logDb, { probeCap });
        for (const filter of [
          {},
          { outcome: ["success"] },
          { occurredAfter: new Date(ORACLE_START - 86_400_000).toISOString() },
        ] as QueryFilter[]) {
          const present = new Set(state.events.filter((e) => matchesFilter(e.event, filter)).map(keyOf));
          const seen: string[] = [];
          let afterSeq: number | undefined;
          for (;;) {
            const page = executor.queryEvents({ filter, order: "desc", limit: 23, ...(afterSeq === undefined ? {} : { after: afterSeq }) });
            if (page.length === 0) break;
            seen.push(...page.map(keyOf));
            afterSeq = (page[page.length - 1] as QueriedEntry).seq;
            await arrive();
          }
          assert.equal(new Set(seen).size, seen.length, "no event twice");
          assert.deepEqual(new Set(seen), present, JSON.stringify(filter));
        }
      }
    } finally {
      db.close();
      logDb.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("hostile input", () => {
  it("runs every hostile value through every field and leaves the schema, the data and the FTS index intact", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sealtrail-hostile-"));
    const path = join(dir, "audit.db");
    const store = createSqliteStore({ path });
    const db = new Database(indexPathOf(path));
    try {
      const drafts: EventDraft[] = HOSTILE.map((value, i) => ({
        action: "document.shared",
        occurredAt: new Date(ORACLE_START + i).toISOString(),
        actor: { type: "user", id: value, name: `secret ${value}` },
        targets: [{ type: "document", id: value }],
        outcome: "success",
        context: { requestId: value, sessionId: value },
        metadata: { [value]: value },
        version: 1,
      }));
      const { batches, events } = eventBatches([{ log: "acme", startIndex: 0, drafts, receivedAt: new Date(ORACLE_START).toISOString() }]);
      await store.append(batches);
      await store.flushIndex();
      const schema = () => db.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name").all();
      const schemaBefore = schema();
      const dataBefore = await snapshot(store);
      const tables = ["events", "event_targets", "event_metadata", "query_state"];
      const counts = () => tables.map((t) => db.prepare(`SELECT count(*) AS n FROM ${t}`).get());
      const countsBefore = counts();
      for (const value of HOSTILE) {
        for (const field of ["actor", "actorType", "action", "actionPrefix", "outcome", "ip", "requestId", "sessionId", "text"] as const) {
          for (const filter of [{ [field]: [value] }, { not: { [field]: [value] } }] as QueryFilter[]) {
            const expected = events.filter((e) => matchesFilter(e.event, filter)).map((e) => toHex(e.leaf));
            const got = await store.queryEvents({ filter, order: "asc", limit: 1000 });
            assert.deepEqual(
              got.map((e) => toHex(e.leaf)),
              expected,
              JSON.stringify(filter),
            );
          }
        }
        for (const filter of [
          { target: [{ id: value }] },
          { target: [{ type: value, id: value }] },
          { metadata: [{ key: value }] },
          { metadata: [{ key: value, value }] },
          { text: [value, "secret"] },
        ] as QueryFilter[]) {
          const expected = events.filter((e) => matchesFilter(e.event, filter)).length;
          assert.equal((await store.queryEvents({ filter, order: "desc", limit: 1000 })).length, expected, JSON.stringify(filter));
          assert.equal(await store.countEvents({ filter }), expected);
        }
      }
      // The literal values match themselves: an id is found by its own text, never as syntax.
      assert.equal(await store.countEvents({ filter: { actor: ["'; DROP TABLE entries; --"] } }), 1);
      assert.equal(await store.countEvents({ filter: { metadata: [{ key: "a\u0000b", value: "a\u0000b" }] } }), 1);
      assert.equal(await store.countEvents({ filter: { requestId: ["\u0000"] } }), 1);
      // Typed parameters smuggled in as strings: the order picks a constant, the rest are bound.
      const sneaky = "asc; DROP TABLE entries; --" as "asc";
      assert.equal((await store.queryEvents({ filter: {}, order: sneaky, limit: 3 })).length, 3);
      await assert.rejects(store.queryEvents({ filter: {}, order: "desc", limit: "1; DROP TABLE entries" as unknown as number }));
      await assert.rejects(store.queryEvents({ filter: {}, order: "desc", limit: 3, after: "1 OR 1=1" as unknown as number }));
      assert.deepEqual(schema(), schemaBefore);
      assert.deepEqual(await snapshot(store), dataBefore);
      assert.deepEqual(counts(), countsBefore);
      assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
      db.prepare("INSERT INTO events_fts (events_fts, rank) VALUES ('integrity-check', 0)").run();
    } finally {
      db.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
