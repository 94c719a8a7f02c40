import assert from "node:assert/strict";
import { describe } from "node:test";
import { type EventDraft, GROUP_BY, type QueryFilter, toHex } from "@sealtrail/core";
import type { EventQuery, LogStore, QueriedEntry, QueryableStore } from "@sealtrail/engine";
import type { ContractTest } from "../contract-test.js";
import { snapshot } from "../fixtures.js";
import type { StoreUnderTest } from "../harness.js";
import {
  eventBatches,
  type GeneratedEvent,
  pick,
  type Rng,
  random,
  randomDraft,
  randomFilter,
  referenceGroups,
  referenceMatch,
} from "../query-fixtures.js";

type Queryable = LogStore & QueryableStore;

const LOGS = ["acme", "globex", "initech", "umbrella"] as const;
const START = Date.UTC(2026, 10, 1);

/** Appends like the engine: `rounds` transactions, each with events for a random subset of logs. */
async function seed(store: Queryable, options: { seed: number; rounds: number; perRound: number; sizes?: Map<string, number> }) {
  const rng = random(options.seed);
  const sizes = options.sizes ?? new Map<string, number>();
  const events: GeneratedEvent[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const received = START + round * 3_600_000 + Math.floor(rng() * 1000);
    const items = LOGS.filter(() => rng() < 0.7).map((log) => {
      // Skewed: acme gets most events.
      const n = Math.max(1, Math.floor((log === "acme" ? 3 : 1) * options.perRound * rng()));
      const drafts = Array.from({ length: n }, () => randomDraft(rng, received - Math.floor(rng() ** 4 * 5 * 86_400_000)));
      const startIndex = sizes.get(log) ?? 0;
      sizes.set(log, startIndex + n);
      return { log, startIndex, drafts, receivedAt: new Date(received).toISOString() };
    });
    if (items.length === 0) continue;
    const { batches, events: appended } = eventBatches(items);
    await store.append(batches);
    events.push(...appended);
  }
  return { events, sizes };
}

const keyOf = (e: { log: string; index: number }): string => `${e.log}/${e.index}`;

/** Every result of a query, paging with the cursor (small pages exercise it). */
async function everything(store: Queryable, query: Omit<EventQuery, "after" | "limit">, limit = 1000): Promise<QueriedEntry[]> {
  const out: QueriedEntry[] = [];
  let after: number | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await store.queryEvents({ ...query, limit, ...(after === undefined ? {} : { after }) });
    if (page.length === 0) return out;
    out.push(...page);
    after = (page[page.length - 1] as QueriedEntry).seq;
  }
  throw new Error("paging did not end");
}

/** Asserts that a query returns exactly the reference matches, in seq order, with the stored bytes. */
async function assertMatches(
  store: Queryable,
  events: readonly GeneratedEvent[],
  seqOf: Map<string, number>,
  query: Omit<EventQuery, "after" | "limit">,
  limit = 1000,
): Promise<void> {
  const logs = query.logs;
  const expected = events
    .filter((e) => (logs === undefined || logs.includes(e.log)) && referenceMatch(e.event, query.filter))
    .map((e) => ({ key: keyOf(e), seq: seqOf.get(keyOf(e)) as number, leaf: toHex(e.leaf) }))
    .sort((a, b) => (query.order === "desc" ? b.seq - a.seq : a.seq - b.seq));
  const got = await everything(store, query, limit);
  const label = JSON.stringify(query);
  assert.deepEqual(
    got.map((e) => ({ key: keyOf(e), seq: e.seq, leaf: toHex(e.leaf) })),
    expected,
    label,
  );
  assert.equal(await store.countEvents({ ...(logs ? { logs } : {}), filter: query.filter }), expected.length, `count of ${label}`);
}

/** The seq the store gave each event, from one unfiltered query (checked against commit order). */
async function seqsOf(store: Queryable, events: readonly GeneratedEvent[]): Promise<Map<string, number>> {
  const all = await everything(store, { filter: {}, order: "asc" });
  assert.equal(all.length, events.length, "every appended event is indexed");
  return new Map(all.map((e) => [keyOf(e), e.seq]));
}

/** Contract test that skips stores without a query index (they may refuse queries; the engine checks). */
function queryTest(test: ContractTest) {
  return (name: string, fn: (store: Queryable, harness: StoreUnderTest, rng: Rng) => Promise<void>): void =>
    test(name, async (harness, t) => {
      const { store } = harness;
      if (!store.queryEvents || !store.countEvents || !store.groupEvents) {
        t.skip("this store keeps no query index");
        return;
      }
      await fn(store as Queryable, harness, random(name.length));
    });
}

/** Values an attacker would try in every field: SQL, FTS5 syntax, quotes, NUL bytes, LIKE wildcards. */
export const HOSTILE = [
  "'",
  "''",
  '"',
  "'; DROP TABLE entries; --",
  "x' OR '1'='1",
  '" OR 1=1 --',
  "NEAR(secret report)",
  "secret*",
  "*",
  '"unterminated',
  "OR",
  "secret OR report",
  "-secret",
  "text:secret",
  "log:l1",
  "{log text}: x",
  "^secret",
  "a\u0000b",
  "\u0000",
  "%",
  "_",
  "\\",
  "()",
  "secret AND NOT report",
] as const;

export function queryCases(test: ContractTest): void {
  const qtest = queryTest(test);
  describe("queries", () => {
    qtest("orders every event by a seq that follows commit order across logs, with its log, index, id and stored bytes", async (store) => {
      const { events } = await seed(store, { seed: 1, rounds: 12, perRound: 10 });
      const asc = await everything(store, { filter: {}, order: "asc" }, 7);
      assert.equal(asc.length, events.length);
      // Commit order: events of a later append have larger seqs; within a log, seq follows index.
      const position = new Map(events.map((e, i) => [keyOf(e), i]));
      const byKey = new Map(events.map((e) => [keyOf(e), e]));
      let last = -Infinity;
      const lastIndex = new Map<string, number>();
      for (const entry of asc) {
        assert.ok(Number.isSafeInteger(entry.seq) && entry.seq > last, "seqs strictly increase");
        last = entry.seq;
        assert.ok((lastIndex.get(entry.log) ?? -1) < entry.index, "a log's events come in index order");
        lastIndex.set(entry.log, entry.index);
        const source = byKey.get(keyOf(entry));
        assert.ok(source, `unknown result ${keyOf(entry)}`);
        assert.equal(entry.id, source.event.id);
        assert.equal(toHex(entry.leaf), toHex(source.leaf), "leaf bytes exactly as stored");
        assert.ok(entry.leaf instanceof Uint8Array);
      }
      const transactionOf = (key: string): string => (byKey.get(key) as GeneratedEvent).event.receivedAt;
      for (let i = 1; i < asc.length; i++) {
        const a = keyOf(asc[i - 1] as QueriedEntry);
        const b = keyOf(asc[i] as QueriedEntry);
        assert.ok(transactionOf(a) <= transactionOf(b), "a later transaction never sorts first");
        if (transactionOf(a) !== transactionOf(b)) assert.ok((position.get(a) as number) < (position.get(b) as number));
      }
      const desc = await everything(store, { filter: {}, order: "desc" }, 5);
      assert.deepEqual(desc.map(keyOf), [...asc].reverse().map(keyOf));
    });

    qtest("matches each kind of condition exactly like the reference", async (store) => {
      const { events } = await seed(store, { seed: 2, rounds: 10, perRound: 15 });
      const seqOf = await seqsOf(store, events);
      const e = events[Math.floor(events.length / 2)] as GeneratedEvent;
      const withTarget = events.find((x) => x.event.targets.length > 1) as GeneratedEvent;
      const t = withTarget.event.targets[0] as { type: string; id: string };
      const withMeta = events.find((x) => x.fields.metadata.some((m) => m.value !== undefined)) as GeneratedEvent;
      const meta = withMeta.fields.metadata.find((m) => m.value !== undefined) as { key: string; value: string };
      const withContext = events.find((x) => x.fields.ip && x.fields.requestId && x.fields.sessionId) as GeneratedEvent;
      const filters: QueryFilter[] = [
        {},
        { actor: [e.fields.actorId] },
        { actor: [e.fields.actorId, "u_1", "nobody"] },
        { actorType: ["service"] },
        { action: [e.fields.action] },
        { actionPrefix: ["document."] },
        { actionPrefix: ["user.", "billing."] },
        { actionPrefix: [`${e.fields.action}.`] },
        { target: [{ type: t.type, id: t.id }] },
        { target: [{ type: t.type }] },
        { target: [{ id: t.id }] },
        { target: [{ type: "folder" }, { type: t.type, id: t.id }] },
        { outcome: ["denied"] },
        { outcome: ["failure", "denied"] },
        { ip: [withContext.fields.ip as string] },
        { requestId: [withContext.fields.requestId as string] },
        { sessionId: [withContext.fields.sessionId as string] },
        { metadata: [{ key: meta.key }] },
        { metadata: [{ key: meta.key, value: meta.value }] },
        { metadata: [{ key: "tags" }] },
        { metadata: [{ key: "tags", value: "alpha" }] },
        { metadata: [{ key: "plan" }, { key: "region", value: "eu" }] },
        { metadata: [{ key: "size", value: "3" }] },
        { metadata: [{ key: "beta", value: "true" }] },
        { text: ["ada"] },
        { text: ["QUARTERLY report"] },
        { text: ["report quarterly"] },
        { text: ["zoë"] },
        { text: ["Łukasz"] },
        { text: ["document"] },
        { text: ["u_3"] },
        { text: ["beta", "draft"] },
        { occurredAfter: e.event.occurredAt },
        { occurredBefore: e.event.occurredAt },
        { occurredAfter: new Date(START + 86_400_000).toISOString(), occurredBefore: new Date(START + 3 * 86_400_000).toISOString() },
        { receivedAfter: e.event.receivedAt },
        { receivedBefore: e.event.receivedAt, receivedAfter: new Date(START).toISOString() },
        { actionPrefix: ["document."], outcome: ["success"], occurredAfter: e.event.occurredAt },
        { actor: [e.fields.actorId], target: [{ type: t.type }], text: ["document"] },
        { not: { outcome: ["success"] } },
        { not: { ip: [withContext.fields.ip as string] } },
        { not: { target: [{ type: "document" }], actionPrefix: ["user."] } },
        { not: { metadata: [{ key: "plan" }, { key: "region", value: "eu" }] } },
        { not: { text: ["report", "ada"] } },
        { actionPrefix: ["document."], not: { action: ["document.viewed"], actorType: ["apikey"] } },
      ];
      for (const filter of filters) {
        await assertMatches(store, events, seqOf, { filter, order: "desc" });
        await assertMatches(store, events, seqOf, { logs: ["acme"], filter, order: "asc" }, 9);
      }
    });

    qtest("agrees with the reference on random filters, logs, orders and page sizes", async (store, _h, rng) => {
      const { events } = await seed(store, { seed: 3, rounds: 14, perRound: 12 });
      const seqOf = await seqsOf(store, events);
      for (let i = 0; i < 60; i++) {
        const filter = randomFilter(rng, events);
        const r = rng();
        const logs = r < 0.3 ? undefined : r < 0.8 ? [pick(rng, LOGS)] : [pick(rng, LOGS), pick(rng, LOGS), "no-such-log"];
        await assertMatches(
          store,
          events,
          seqOf,
          { ...(logs ? { logs } : {}), filter, order: rng() < 0.6 ? "desc" : "asc" },
          1 + Math.floor(rng() * 40),
        );
      }
    });

    qtest("searches every log when logs is undefined, only the listed ones otherwise", async (store) => {
      const { events } = await seed(store, { seed: 4, rounds: 6, perRound: 8 });
      const seqOf = await seqsOf(store, events);
      await assertMatches(store, events, seqOf, { filter: { outcome: ["success"] }, order: "desc" }, 3);
      await assertMatches(store, events, seqOf, { logs: ["globex", "initech"], filter: {}, order: "desc" }, 4);
      assert.deepEqual(await store.queryEvents({ logs: ["no-such-log"], filter: {}, order: "desc", limit: 10 }), []);
      assert.deepEqual(await store.queryEvents({ logs: [], filter: {}, order: "desc", limit: 10 }), []);
      assert.equal(await store.countEvents({ logs: ["no-such-log"], filter: {} }), 0);
      const twice = await store.queryEvents({ logs: ["acme", "acme"], filter: {}, order: "desc", limit: 1000 });
      assert.equal(twice.length, events.filter((e) => e.log === "acme").length, "a log listed twice is searched once");
    });

    qtest("an empty list of values matches nothing, and excludes nothing under not", async (store) => {
      const { events } = await seed(store, { seed: 5, rounds: 4, perRound: 6 });
      for (const filter of [{ actor: [] }, { outcome: [] }, { target: [] }, { actionPrefix: [] }, { requestId: [] }] as QueryFilter[]) {
        assert.deepEqual(await store.queryEvents({ filter, order: "desc", limit: 10 }), [], JSON.stringify(filter));
        assert.equal(await store.countEvents({ filter }), 0);
      }
      assert.equal(await store.countEvents({ filter: { not: { actor: [], target: [] } } }), events.length);
    });

    qtest("pages continue after the cursor without repeating or skipping, in both orders", async (store) => {
      const { events } = await seed(store, { seed: 6, rounds: 10, perRound: 10 });
      for (const order of ["desc", "asc"] as const) {
        for (const limit of [1, 2, 7, 50]) {
          const all = await everything(store, { filter: { outcome: ["success", "failure"] }, order }, limit);
          const keys = all.map(keyOf);
          assert.equal(new Set(keys).size, keys.length, "no event twice");
          assert.equal(keys.length, events.filter((e) => e.fields.outcome !== "denied").length);
        }
      }
      const [first] = await store.queryEvents({ filter: {}, order: "desc", limit: 1 });
      assert.ok(first);
      assert.deepEqual(await store.queryEvents({ filter: {}, order: "asc", limit: 5, after: first.seq }), []);
    });

    qtest("desc pages stay exact while events arrive: every event present at the first page appears once", async (store) => {
      const { events, sizes } = await seed(store, { seed: 7, rounds: 6, perRound: 10 });
      const before = new Set(events.map(keyOf));
      const seen: string[] = [];
      let after: number | undefined;
      let round = 0;
      for (;;) {
        const page = await store.queryEvents({ filter: {}, order: "desc", limit: 9, ...(after === undefined ? {} : { after }) });
        if (page.length === 0) break;
        seen.push(...page.map(keyOf));
        after = (page[page.length - 1] as QueriedEntry).seq;
        // New events commit between pages, in logs the pages already passed and in new ones.
        await seed(store, { seed: 100 + round++, rounds: 1, perRound: 5, sizes });
      }
      assert.equal(new Set(seen).size, seen.length, "no event twice");
      assert.deepEqual(new Set(seen), before, "exactly the events present when paging started");
    });

    qtest("counts and groups by action, actor, outcome, hour and day like the reference", async (store, _h, rng) => {
      const { events } = await seed(store, { seed: 8, rounds: 10, perRound: 12 });
      const filters: QueryFilter[] = [{}, { actionPrefix: ["document."] }, { target: [{ type: "document" }] }, randomFilter(rng, events)];
      for (const filter of filters) {
        for (const groupBy of GROUP_BY) {
          for (const logs of [undefined, ["acme"], ["globex", "initech"]]) {
            for (const limit of [1, 3, 1000]) {
              const expected = referenceGroups(
                events.filter((e) => (!logs || logs.includes(e.log)) && referenceMatch(e.event, filter)).map((e) => e.fields),
                groupBy,
                limit,
              );
              const got = await store.groupEvents({ ...(logs ? { logs } : {}), filter, groupBy, limit });
              assert.deepEqual(got, expected, `${groupBy} ${JSON.stringify({ filter, logs, limit })}`);
            }
          }
        }
      }
    });

    qtest("buckets hours and days in UTC, before 1970 too, and bounds times at the millisecond", async (store) => {
      const at = (iso: string, action = "user.login"): EventDraft => ({
        action,
        occurredAt: iso,
        actor: { type: "user", id: "u_1" },
        targets: [],
        outcome: "success",
        version: 1,
      });
      const drafts = [
        at("1969-12-31T23:59:59.999Z"),
        at("1970-01-01T00:00:00.000Z"),
        at("2026-11-01T10:59:59.999Z"),
        at("2026-11-01T11:00:00.000Z"),
        at("2026-11-01T11:00:00.001Z"),
        at("2026-11-02T00:30:00.000Z"),
      ];
      const { batches } = eventBatches([{ log: "acme", startIndex: 0, drafts, receivedAt: "2026-11-02T01:00:00.000Z" }]);
      await store.append(batches);
      assert.deepEqual(await store.groupEvents({ filter: {}, groupBy: "hour", limit: 100 }), [
        { key: "1969-12-31T23", count: 1 },
        { key: "1970-01-01T00", count: 1 },
        { key: "2026-11-01T10", count: 1 },
        { key: "2026-11-01T11", count: 2 },
        { key: "2026-11-02T00", count: 1 },
      ]);
      assert.deepEqual(await store.groupEvents({ filter: {}, groupBy: "day", limit: 2 }), [
        { key: "2026-11-01", count: 3 },
        { key: "2026-11-02", count: 1 },
      ]);
      const count = (filter: QueryFilter) => store.countEvents({ filter });
      assert.equal(await count({ occurredAfter: "2026-11-01T11:00:00.000Z" }), 3, "after is inclusive");
      assert.equal(await count({ occurredBefore: "2026-11-01T11:00:00.000Z" }), 3, "before is exclusive");
      assert.equal(await count({ occurredAfter: "2026-11-01T11:00:00.000Z", occurredBefore: "2026-11-01T11:00:00.001Z" }), 1);
      assert.equal(await count({ occurredAfter: "2026-11-01T11:00:00.001Z", occurredBefore: "2026-11-01T11:00:00.001Z" }), 0);
      assert.equal(await count({ occurredBefore: "1970-01-01T00:00:00.000Z" }), 1);
      assert.equal(await count({ receivedAfter: "2026-11-02T01:00:00.000Z" }), 6);
      assert.equal(await count({ receivedBefore: "2026-11-02T01:00:00.000Z" }), 0);
    });

    qtest("finds text as case-insensitive whole words and phrases, beyond ASCII", async (store) => {
      const event = (action: string, name: string, extra: Partial<EventDraft> = {}): EventDraft => ({
        action,
        occurredAt: "2026-11-01T10:00:00.000Z",
        actor: { type: "user", id: "u_42", name },
        targets: [{ type: "document", id: "doc_9", name: "Q3 Quarterly Report" }],
        outcome: "success",
        version: 1,
        ...extra,
      });
      const drafts = [
        event("document.shared", "Zoë Åberg"),
        event("document.viewed", "Ada Lovelace", { metadata: { note: "secret roadmap", plan: "pro", nested: { hidden: "words" } } }),
        event("user.login", "Reporter Quartz", { targets: [] }),
        event("billing.paid", "日本 太郎", { targets: [] }),
      ];
      const { batches } = eventBatches([{ log: "acme", startIndex: 0, drafts, receivedAt: "2026-11-01T10:00:01.000Z" }]);
      await store.append(batches);
      const found = async (...text: string[]) =>
        (await store.queryEvents({ filter: { text }, order: "asc", limit: 10 })).map((e) => e.index);
      assert.deepEqual(await found("ZOË"), [0]);
      assert.deepEqual(await found("åberg"), [0]);
      assert.deepEqual(await found("quarterly report"), [0, 1]);
      assert.deepEqual(await found("report quarterly"), []);
      assert.deepEqual(await found("report"), [0, 1], "whole words: not Reporter");
      assert.deepEqual(await found("repo"), []);
      assert.deepEqual(await found("secret roadmap"), [1], "metadata string values");
      assert.deepEqual(await found("words"), [], "nested metadata is not searchable text");
      assert.deepEqual(await found("u_42"), [0, 1, 2, 3]);
      assert.deepEqual(await found("doc_9", "document"), [0, 1]);
      assert.deepEqual(await found("日本"), [3]);
      assert.deepEqual(await found("billing"), [3], "the action is searchable");
    });

    qtest("treats hostile values in every field as data: exact matches only, and every table intact", async (store) => {
      const drafts: EventDraft[] = HOSTILE.map((value, i) => ({
        action: "document.shared",
        occurredAt: new Date(START + i * 1000).toISOString(),
        actor: { type: `t${i}`, id: value, name: value },
        targets: [{ type: "document", id: value, name: `secret report ${value}` }],
        outcome: "success",
        context: { ip: value, requestId: value, sessionId: value },
        metadata: { [value]: value, note: `${value} secret` },
        version: 1,
      }));
      const { batches, events } = eventBatches([
        { log: "acme", startIndex: 0, drafts, receivedAt: new Date(START + 60_000).toISOString() },
      ]);
      await store.append(batches);
      const seqOf = await seqsOf(store, events);
      const before = await snapshot(store);
      for (const value of HOSTILE) {
        const filters: QueryFilter[] = [
          { actor: [value] },
          { actorType: [value] },
          { action: [value] },
          { actionPrefix: [value] },
          { target: [{ type: value }] },
          { target: [{ id: value }] },
          { target: [{ type: "document", id: value }] },
          { outcome: [value as "success"] },
          { ip: [value] },
          { requestId: [value] },
          { sessionId: [value] },
          { metadata: [{ key: value }] },
          { metadata: [{ key: value, value }] },
          { metadata: [{ key: "note", value }] },
          { text: [value] },
          { text: [value, "secret"] },
          { not: { actor: [value], text: [value], metadata: [{ key: value }] } },
        ];
        for (const filter of filters) {
          await assertMatches(store, events, seqOf, { filter, order: "desc" });
          await store.groupEvents({ filter, groupBy: "actor", limit: 5 });
        }
      }
      assert.deepEqual(await snapshot(store), before, "nothing changed");
      const more = eventBatches([
        { log: "acme", startIndex: HOSTILE.length, drafts: drafts.slice(0, 1), receivedAt: new Date().toISOString() },
      ]);
      await store.append(more.batches);
      assert.equal(await store.countEvents({ filter: {} }), HOSTILE.length + 1, "still appends and indexes");
    });

    qtest("matches nothing for a time bound that is not a timestamp, as the reference", async (store) => {
      const { events } = await seed(store, { seed: 9, rounds: 1, perRound: 3 });
      for (const occurredAfter of ["yesterday", "'; DROP TABLE entries; --", ""]) {
        assert.equal(referenceMatch((events[0] as GeneratedEvent).event, { occurredAfter }), false);
        assert.deepEqual(await store.queryEvents({ filter: { occurredAfter }, order: "desc", limit: 5 }), []);
        assert.equal(await store.countEvents({ filter: { receivedBefore: occurredAfter } }), 0);
        assert.deepEqual(await store.groupEvents({ filter: { occurredAfter }, groupBy: "day", limit: 5 }), []);
      }
      assert.equal(await store.countEvents({ filter: {} }), events.length);
    });

    qtest("indexes nothing of a rolled-back append", async (store) => {
      const { events, sizes } = await seed(store, { seed: 10, rounds: 3, perRound: 5 });
      const stale = eventBatches([
        { log: "fresh", startIndex: 0, drafts: [randomDraft(random(1), START)], receivedAt: new Date(START).toISOString() },
        {
          log: "acme",
          startIndex: (sizes.get("acme") ?? 0) + 5,
          drafts: [randomDraft(random(2), START)],
          receivedAt: new Date(START).toISOString(),
        },
      ]);
      await assert.rejects(store.append(stale.batches));
      assert.equal(await store.countEvents({ filter: {} }), events.length);
      assert.deepEqual(await store.queryEvents({ logs: ["fresh"], filter: {}, order: "desc", limit: 5 }), []);
    });

    qtest("keeps the index and its order across close and reopen", async (store, { reopen }) => {
      const { events, sizes } = await seed(store, { seed: 11, rounds: 4, perRound: 6 });
      const seqs = await seqsOf(store, events);
      const top = Math.max(...seqs.values());
      await store.close();
      const again = (await reopen()) as Queryable;
      try {
        assert.deepEqual(await seqsOf(again, events), seqs);
        const { events: more } = await seed(again, { seed: 12, rounds: 2, perRound: 4, sizes });
        const [newest] = await again.queryEvents({ filter: {}, order: "desc", limit: 1 });
        assert.ok(newest && newest.seq > top, "seq keeps growing after a restart");
        assert.equal(await again.countEvents({ filter: {} }), events.length + more.length);
      } finally {
        await again.close();
      }
    });
  });
}
