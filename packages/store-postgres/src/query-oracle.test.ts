import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type EventDraft, GROUP_BY, matchesFilter, type QueryFilter } from "@sealtrail/core";
import type { EventQuery, QueriedEntry } from "@sealtrail/engine";
import {
  eventBatches,
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
import pg from "pg";
import { dropPartitionsBefore, partitionName } from "./migrate.js";
import { createPostgresStore, type PostgresStore } from "./postgres-store.js";
import { startTestCluster, type TestCluster } from "./test-cluster.js";

const keyOf = (e: { log: string; index: number }): string => `${e.log}/${e.index}`;

async function pages(store: PostgresStore, query: Omit<EventQuery, "after">): Promise<QueriedEntry[]> {
  const out: QueriedEntry[] = [];
  let afterSeq: number | undefined;
  for (;;) {
    const page = await store.queryEvents({ ...query, ...(afterSeq === undefined ? {} : { after: afterSeq }) });
    if (page.length === 0) return out;
    assert.ok(page.length <= query.limit);
    out.push(...page);
    afterSeq = (page[page.length - 1] as QueriedEntry).seq;
  }
}

let cluster: TestCluster;
before(async () => {
  cluster = await startTestCluster();
});
after(async () => {
  await cluster?.stop();
});

describe("PostgreSQL queries against matchesFilter, the reference (a few thousand events, six logs)", () => {
  let store: PostgresStore;
  let seeded: OracleData;
  let seqOf: Map<string, number>;

  before(async () => {
    // Queries go through readConnectionString (here the same server, as a replica would be).
    const url = await cluster.createDatabase();
    store = await createPostgresStore({ connectionString: url, readConnectionString: url, poolSize: 4 });
    seeded = await seedOracle(store, random(99), 80);
    await store.pool.query("ANALYZE");
    const all = await store.queryEvents({ filter: {}, order: "asc", limit: 1_000_000 });
    seqOf = new Map(all.map((e) => [keyOf(e), e.seq]));
  });
  after(async () => {
    await store?.close();
  });

  it("holds enough events to mean something", () => {
    assert.ok(seeded.events.length > 2500, String(seeded.events.length));
    assert.equal(seqOf.size, seeded.events.length);
  });

  it("returns exactly the matching events in seq order, and counts them, for 200 random filters", async () => {
    const rng = random(7);
    for (let i = 0; i < 200; i++) {
      const filter = randomFilter(rng, seeded.events);
      if (rng() < 0.3) filter.not = { ...(filter.not ?? {}), ...randomFilter(rng, seeded.events) };
      const r = rng();
      const logs = r < 0.25 ? undefined : r < 0.75 ? [pick(rng, ORACLE_LOGS)] : [pick(rng, ORACLE_LOGS), pick(rng, ORACLE_LOGS)];
      const order = rng() < 0.5 ? "desc" : "asc";
      const expected = seeded.events
        .filter((e) => (!logs || logs.includes(e.log)) && matchesFilter(e.event, filter))
        .map((e) => ({ key: keyOf(e), seq: seqOf.get(keyOf(e)) as number }))
        .sort((a, b) => (order === "desc" ? b.seq - a.seq : a.seq - b.seq));
      const limit = Math.max(pick(rng, [1, 3, 10, 50, 1000]), Math.ceil(expected.length / 40));
      const label = JSON.stringify({ logs, filter, order, limit });
      const got = await pages(store, { ...(logs ? { logs } : {}), filter, order, limit });
      assert.deepEqual(
        got.map((e) => ({ key: keyOf(e), seq: e.seq })),
        expected,
        label,
      );
      assert.equal(await store.countEvents({ ...(logs ? { logs } : {}), filter }), expected.length, label);
    }
  });

  it("groups like the reference for random filters and every dimension", async () => {
    const rng = random(8);
    for (let i = 0; i < 60; i++) {
      const filter = randomFilter(rng, seeded.events);
      const logs = rng() < 0.5 ? undefined : [pick(rng, ORACLE_LOGS)];
      const groupBy = GROUP_BY[i % GROUP_BY.length] as (typeof GROUP_BY)[number];
      const limit = pick(rng, [1, 5, 1000]);
      const matching = seeded.events.filter((e) => (!logs || logs.includes(e.log)) && matchesFilter(e.event, filter));
      assert.deepEqual(
        await store.groupEvents({ ...(logs ? { logs } : {}), filter, groupBy, limit }),
        referenceGroups(
          matching.map((e) => e.fields),
          groupBy,
          limit,
        ),
        JSON.stringify({ filter, logs, groupBy, limit }),
      );
    }
  });

  it("finds phrases exactly as the reference tokenizer does, where PostgreSQL's own parser would not", async () => {
    const drafts: EventDraft[] = ["report.pdf", "Zoë's café", "a-b_c 42x"].map((name, i) => ({
      action: "document.shared",
      occurredAt: new Date(ORACLE_START + i).toISOString(),
      actor: { type: "user", id: `phrase-${i}`, name },
      targets: [],
      outcome: "success",
      version: 1,
    }));
    const start = seeded.sizes.get("stark") ?? 0;
    const { batches, events } = eventBatches([
      { log: "stark", startIndex: start, drafts, receivedAt: new Date(ORACLE_START).toISOString() },
    ]);
    await store.append(batches);
    seeded.sizes.set("stark", start + drafts.length);
    for (const text of ["report pdf", "report.pdf", "ZOË S", "café", "cafe", "b c 42x", "c 42"]) {
      const filter: QueryFilter = { text: [text] };
      const expected = events.filter((e) => matchesFilter(e.event, filter)).map((e) => e.index);
      const got = (await store.queryEvents({ logs: ["stark"], filter, order: "asc", limit: 100 }))
        .map((e) => e.index)
        .filter((i) => i >= start);
      assert.deepEqual(got, expected, text);
    }
  });
});

describe("paging while events arrive", () => {
  it("shows every event present at the first page exactly once, desc, across logs", async () => {
    const store = await createPostgresStore({ connectionString: await cluster.createDatabase(), poolSize: 4 });
    try {
      const rng = random(5);
      const state = await seedOracle(store, rng, 12);
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
        state.events.push(...events);
      };
      for (const filter of [
        {},
        { outcome: ["success"] },
        { occurredAfter: new Date(ORACLE_START - 86_400_000).toISOString() },
      ] as QueryFilter[]) {
        const present = new Set(state.events.filter((e) => matchesFilter(e.event, filter)).map(keyOf));
        const seen: string[] = [];
        let afterSeq: number | undefined;
        for (;;) {
          const page = await store.queryEvents({
            filter,
            order: "desc",
            limit: 23,
            ...(afterSeq === undefined ? {} : { after: afterSeq }),
          });
          if (page.length === 0) break;
          seen.push(...page.map(keyOf));
          afterSeq = (page[page.length - 1] as QueriedEntry).seq;
          await arrive();
        }
        assert.equal(new Set(seen).size, seen.length, "no event twice");
        assert.deepEqual(new Set(seen), present, JSON.stringify(filter));
      }
    } finally {
      await store.close();
    }
  });
});

describe("retention by partition", () => {
  it("drops the query index of old months without touching entries, hashes or checkpoints", async () => {
    const url = await cluster.createDatabase();
    const store = await createPostgresStore({ connectionString: url, poolSize: 2 });
    try {
      const rng = random(3);
      const now = Date.now();
      const thisMonth = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
      const { batches } = eventBatches([
        { log: "acme", startIndex: 0, drafts: [randomDraft(rng, now), randomDraft(rng, now)], receivedAt: new Date(now).toISOString() },
      ]);
      await store.append(batches);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query("SELECT tableoid::regclass::text AS part FROM events");
      const month = new Date(thisMonth);
      assert.deepEqual(
        rows.map((r) => r.part),
        [partitionName(month.getUTCFullYear(), month.getUTCMonth()), partitionName(month.getUTCFullYear(), month.getUTCMonth())],
        "rows land in the partition of their receivedAt month",
      );
      await client.end();
      const before = await snapshot(store);
      assert.equal(await store.countEvents({ filter: {} }), 2);
      const dropped = await dropPartitionsBefore(store.pool, Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth() + 1, 1));
      assert.deepEqual(dropped, [partitionName(month.getUTCFullYear(), month.getUTCMonth())]);
      assert.equal(await store.countEvents({ filter: {} }), 0, "pruned events are no longer searchable");
      assert.deepEqual(await snapshot(store), before, "entries, hashes and checkpoints are untouched");
    } finally {
      await store.close();
    }
  });
});

describe("read replica", () => {
  it("answers queries from the replica (readConnectionString), and everything else from the primary", async () => {
    const url = await cluster.createDatabase();
    const database = new URL(url).pathname.slice(1);
    const replica = await cluster.startReplica();
    const store = await createPostgresStore({ connectionString: url, readConnectionString: replica.url(database), poolSize: 2 });
    const standby = new pg.Client({ connectionString: replica.url(database) });
    await standby.connect();
    try {
      const rng = random(4);
      const drafts = Array.from({ length: 20 }, () => randomDraft(rng, ORACLE_START));
      const { batches } = eventBatches([{ log: "acme", startIndex: 0, drafts, receivedAt: new Date().toISOString() }]);
      await store.append(batches);
      // Tiles and entries come from the primary: readable at once.
      assert.equal((await store.readEntries("acme", 0, 100)).length, 20);
      // Queries come from the replica: they see the events once it has replayed them.
      const deadline = Date.now() + 20_000;
      while ((await store.countEvents({ logs: ["acme"], filter: {} })) < 20) {
        assert.ok(Date.now() < deadline, "the replica never caught up");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal((await store.queryEvents({ logs: ["acme"], filter: {}, order: "desc", limit: 50 })).length, 20);
      const { rows } = await standby.query(
        "SELECT pg_is_in_recovery() AS standby, (SELECT count(*)::int FROM pg_stat_activity WHERE application_name = 'sealtrail-read') AS readers",
      );
      assert.equal(rows[0].standby, true);
      assert.ok(rows[0].readers > 0, "the store's read pool is connected to the replica");
    } finally {
      await standby.end();
      await store.close();
    }
  });
});
