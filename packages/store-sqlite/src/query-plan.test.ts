import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type EventDraft, GROUP_BY, type QueryFilter } from "@sealtrail/core";
import { eventBatches, NAMES, pick, type Rng, random, TARGET_TYPES, VERBS, WORDS } from "@sealtrail/store-testkit";
import Database from "better-sqlite3";
import { indexPathOf } from "./index-db.js";
import { createQueryExecutor, FETCH_SQL, LEAF_SQL, type LogPlan, type QueryExecutor } from "./query-executor.js";
import { ftsPhrase, PROBE_CAP, pageStatement, probeStatement, type Sql, windowStatement } from "./query-plan.js";
import { createSqliteStore, type SqliteStore } from "./sqlite-store.js";

const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);
const RESOURCES = ["document", "user", "project", "billing", "apikey"] as const;

/**
 * Events shaped like production: per-tenant cardinalities that grow with the tenant (thousands of
 * actors in a big tenant, a request id per request, a few hot service actors), mostly success,
 * occurredAt close to receivedAt with a few back-dated imports.
 */
function realisticDraft(rng: Rng, tenant: number, tenantSize: number, now: number): EventDraft {
  const skew = (n: number): number => Math.floor(rng() ** 3 * n);
  const actorN = skew(Math.max(10, tenantSize / 50));
  const targets = [];
  for (let i = 0, k = Math.floor(rng() * 3); i < k; i++) {
    const type = pick(rng, TARGET_TYPES);
    targets.push({
      type,
      id: `${type.slice(0, 3)}_${skew(Math.max(20, tenantSize / 10))}`,
      name: `${pick(rng, WORDS)} ${pick(rng, WORDS)}`,
    });
  }
  const r = rng();
  const draft: EventDraft = {
    action: `${RESOURCES[Math.floor(rng() ** 2 * RESOURCES.length)]}.${pick(rng, VERBS)}`,
    occurredAt: new Date(rng() < 0.02 ? START + Math.floor(rng() * (now - START)) : now - Math.floor(rng() * 5000)).toISOString(),
    actor: {
      type: actorN < 3 ? "service" : "user",
      id: actorN < 3 ? `svc_${actorN}` : `u_${actorN}`,
      ...(rng() < 0.7 ? { name: NAMES[actorN % NAMES.length] as string } : {}),
    },
    targets,
    outcome: r < 0.9 ? "success" : r < 0.97 ? "failure" : "denied",
    version: 1,
    context: {
      ip: `10.${tenant}.${skew(50)}.${Math.floor(rng() * 256)}`,
      requestId: `req_${tenant}_${now}_${Math.floor(rng() * 1e9)}`,
      ...(rng() < 0.8 ? { sessionId: `sess_${skew(Math.max(10, tenantSize / 30))}` } : {}),
    },
  };
  const metadata: Record<string, string | boolean> = {};
  if (rng() < 0.4) metadata.plan = pick(rng, ["free", "pro", "enterprise"]);
  if (rng() < 0.05) metadata.beta = true;
  if (rng() < 0.3) metadata.region = pick(rng, ["eu", "us", "ap"]);
  if (Object.keys(metadata).length > 0) draft.metadata = metadata;
  return draft;
}

/** `total` events over tenants t0…t7 (t0 holds half), appended in interleaved commits of 1000, over 200 days. */
async function seedRealistic(store: SqliteStore, total: number): Promise<void> {
  const rng = random(2026);
  const share = [0.5, 0.2, 0.1, 0.08, 0.05, 0.04, 0.02, 0.01];
  const sizes = share.map(() => 0);
  for (let done = 0; done < total; done += 1000) {
    const now = START + Math.floor((done / total) * 200 * DAY);
    const perTenant = share.map(() => [] as EventDraft[]);
    for (let i = 0; i < 1000; i++) {
      let r = rng();
      let t = 0;
      while (t < share.length - 1 && r >= (share[t] as number)) r -= share[t++] as number;
      perTenant[t]?.push(realisticDraft(rng, t, (share[t] as number) * total, now + i));
    }
    const items = perTenant.flatMap((drafts, t) => {
      if (drafts.length === 0) return [];
      const startIndex = sizes[t] as number;
      sizes[t] = startIndex + drafts.length;
      return [{ log: `t${t}`, startIndex, drafts, receivedAt: new Date(now).toISOString() }];
    });
    await store.append(eventBatches(items).batches);
  }
}

function explain(db: Database.Database, q: Sql): string[] {
  return (db.prepare(`EXPLAIN QUERY PLAN ${q.text}`).all(...q.params) as { detail: string }[]).map((r) => r.detail);
}

/**
 * No full scan of a big table: every access is an index or primary key search, or the FTS5 index.
 * A SCAN of a co-routine reads the rows of a capped subquery (a probe's LIMIT), not a table.
 */
function assertNoScan(lines: readonly string[], label: string): void {
  const coroutines = new Set(lines.flatMap((l) => (l.startsWith("CO-ROUTINE ") ? [l.slice("CO-ROUTINE ".length)] : [])));
  for (const line of lines) {
    const scanned = /^SCAN (.*)$/.exec(line)?.[1];
    if (scanned !== undefined && !/VIRTUAL TABLE/.test(scanned) && !coroutines.has(scanned))
      assert.fail(`${label}: ${line}\n${lines.join("\n")}`);
    if (/^SEARCH /.test(line)) assert.match(line, /USING (COVERING INDEX|INDEX|PRIMARY KEY|INTEGER PRIMARY KEY)/, label);
  }
}

interface Shape {
  readonly name: string;
  readonly filter: QueryFilter;
  /**
   * The driver the planner should pick, and the index its first statement must search. Where the
   * choice depends on the data (probes, rule 5), `or` lists other acceptable drivers.
   */
  readonly driver: string;
  readonly or?: readonly string[];
  readonly index: RegExp;
  /** True when the driving index yields seq order (no sort of the range). */
  readonly ordered: boolean;
}

/** The shapes of DESIGN §6 with values drawn from a tenant's data. */
function shapes(db: Database.Database, log: string): Shape[] {
  const sample = db
    .prepare<[string], Record<string, string | number>>(
      "SELECT * FROM events WHERE log_id = (SELECT id FROM logs WHERE name = ?) ORDER BY seq DESC LIMIT 1 OFFSET 300",
    )
    .get(log) as Record<string, string | number>;
  const target = db
    .prepare<[number, number], { type: string; id: string }>(
      "SELECT type, id FROM event_targets WHERE log_id = ? AND seq <= ? ORDER BY seq DESC LIMIT 1",
    )
    .get(sample.log_id as number, sample.seq as number) as { type: string; id: string };
  const at = (ms: number): string => new Date(ms).toISOString();
  const now = sample.occurred_ms as number;
  const oldDay = { occurredAfter: at(now - 120 * DAY), occurredBefore: at(now - 119 * DAY) };
  return [
    { name: "log only", filter: {}, driver: "log", index: /USING PRIMARY KEY \(log_id=\?/, ordered: true },
    { name: "actor", filter: { actor: [String(sample.actor_id)] }, driver: "actor", index: /events_actor /, ordered: true },
    { name: "hot service actor", filter: { actor: ["svc_0"] }, driver: "actor", index: /events_actor /, ordered: true },
    { name: "actor type", filter: { actorType: ["service"] }, driver: "actorType", index: /events_actor_type/, ordered: true },
    { name: "action", filter: { action: [String(sample.action)] }, driver: "action", index: /events_action/, ordered: true },
    { name: "action prefix", filter: { actionPrefix: ["billing."] }, driver: "actionPrefix", index: /events_resource/, ordered: true },
    {
      name: "target type and id",
      filter: { target: [target] },
      driver: "target",
      index: /event_targets USING PRIMARY KEY|AS t USING PRIMARY KEY|t USING PRIMARY KEY/,
      ordered: true,
    },
    { name: "target type", filter: { target: [{ type: "folder" }] }, driver: "target", index: /event_targets_type/, ordered: true },
    {
      name: "target id",
      filter: { target: [{ id: target.id }] },
      driver: "target",
      // Split into one stream per type the id has: each in seq order.
      index: /t USING PRIMARY KEY \(log_id=\? AND id=\? AND type=\?\)/,
      ordered: true,
    },
    { name: "outcome", filter: { outcome: ["denied"] }, driver: "outcome", index: /events_outcome/, ordered: true },
    { name: "ip", filter: { ip: [String(sample.ip)] }, driver: "ip", index: /events_ip/, ordered: true },
    { name: "request id", filter: { requestId: [String(sample.request_id)] }, driver: "requestId", index: /events_request/, ordered: true },
    { name: "session id", filter: { sessionId: ["sess_1"] }, driver: "sessionId", index: /events_session/, ordered: true },
    {
      name: "metadata key",
      filter: { metadata: [{ key: "beta" }] },
      driver: "metadataKey",
      index: /m USING PRIMARY KEY \(log_id=\? AND key=\?\)/,
      ordered: true,
    },
    {
      name: "metadata key=value",
      filter: { metadata: [{ key: "plan", value: "pro" }] },
      driver: "metadataValue",
      index: /event_metadata_value/,
      ordered: true,
    },
    { name: "text", filter: { text: ["quarterly report"] }, driver: "text", index: /VIRTUAL TABLE/, ordered: true },
    {
      name: "occurredAt, a day long ago (seq order within the day)",
      filter: oldDay,
      driver: "occurredAt",
      index: /events_occurred_day/,
      ordered: true,
    },
    {
      name: "occurredAt, an old fortnight (a stream per day)",
      filter: { occurredAfter: at(now - 134 * DAY), occurredBefore: at(now - 120 * DAY) },
      driver: "occurredAt",
      index: /events_occurred_day/,
      ordered: true,
    },
    {
      name: "occurredAt, an old quarter (one range of days)",
      filter: { occurredAfter: at(now - 210 * DAY), occurredBefore: at(now - 120 * DAY) },
      driver: "occurredAt",
      or: ["log"],
      index: /events_occurred_day/,
      ordered: false,
    },
    {
      name: "occurredAt, the recent past",
      filter: { occurredAfter: at(now - 30 * DAY) },
      driver: "log",
      // A small tenant's last month is a small range: sorting it costs as little.
      or: ["occurredAt"],
      index: /USING PRIMARY KEY \(log_id=\?/,
      ordered: true,
    },
    {
      name: "receivedAt range",
      filter: { receivedAfter: at(now - 100 * DAY), receivedBefore: at(now - 99 * DAY) },
      driver: "receivedAt",
      index: /events_received/,
      ordered: false,
    },
    {
      name: "actor in a recent window",
      filter: { actor: ["svc_1"], occurredAfter: at(now - 10 * DAY) },
      driver: "actor",
      or: ["occurredAt"],
      index: /events_actor /,
      ordered: true,
    },
    {
      name: "hot actor on an old day",
      filter: { actor: ["svc_0"], ...oldDay },
      driver: "actorDays",
      index: /events_actor_day/,
      ordered: true,
    },
    {
      name: "two actors over an old week (one stream per actor and day)",
      filter: { actor: ["svc_0", String(sample.actor_id)], occurredAfter: at(now - 127 * DAY), occurredBefore: at(now - 120 * DAY) },
      driver: "actorDays",
      index: /events_actor_day/,
      ordered: true,
    },
    {
      name: "hot actor over a quarter (more actor-days than streams)",
      filter: { actor: ["svc_0"], occurredAfter: at(now - 120 * DAY), occurredBefore: at(now - 30 * DAY) },
      driver: "occurredAt",
      or: ["actor"],
      index: /events_occurred/,
      ordered: false,
    },
    {
      name: "request id on an old day",
      filter: { requestId: [String(sample.request_id)], ...oldDay },
      driver: "requestId",
      or: ["occurredAt"],
      index: /events_request/,
      ordered: true,
    },
    {
      name: "target type on an old day",
      filter: { target: [{ type: "folder" }], ...oldDay },
      driver: "occurredAt",
      or: ["target"],
      index: /events_occurred_day/,
      ordered: true,
    },
    {
      name: "text on an old day",
      filter: { text: ["document"], ...oldDay },
      driver: "occurredAt",
      or: ["text"],
      index: /events_occurred_day/,
      ordered: true,
    },
    {
      name: "outcome and action prefix",
      filter: { outcome: ["denied"], actionPrefix: ["document."] },
      driver: "outcome",
      or: ["actionPrefix"],
      index: /events_outcome/,
      ordered: true,
    },
    {
      name: "actor over outcome and type",
      filter: { actor: [String(sample.actor_id)], outcome: ["success"], actorType: ["user"] },
      driver: "actor",
      or: ["outcome", "actorType"],
      index: /events_actor /,
      ordered: true,
    },
    {
      name: "metadata key=value and text",
      filter: { metadata: [{ key: "region", value: "eu" }], text: ["secret"] },
      driver: "text",
      or: ["metadataValue"],
      index: /VIRTUAL TABLE/,
      ordered: true,
    },
    { name: "two actors (one stream each)", filter: { actor: ["svc_0", "svc_1"] }, driver: "actor", index: /events_actor /, ordered: true },
    {
      name: "exclusions only",
      filter: { not: { outcome: ["success"], actor: ["svc_0"] } },
      driver: "log",
      index: /USING PRIMARY KEY \(log_id=\?/,
      ordered: true,
    },
  ];
}

const SEQ_SORT = /USE TEMP B-TREE FOR ORDER BY/;

function assertShapePlans(db: Database.Database, executor: QueryExecutor, log: string, shape: Shape): void {
  const query = { logs: [log], filter: shape.filter, order: "desc" as const, limit: 50 };
  const [page] = executor.planPage(query) as [LogPlan];
  const expected = page.driver === shape.driver;
  if (!expected) assert.ok(shape.or?.includes(page.driver), `${shape.name}: driver ${page.driver}, expected ${shape.driver}`);
  for (const [i, statement] of page.statements.entries()) {
    const lines = explain(db, statement);
    assertNoScan(lines, `${shape.name} page`);
    if (i === 0 && expected) assert.match(lines.join("\n"), shape.index, `${shape.name}: index\n${lines.join("\n")}`);
    if (shape.ordered && expected) {
      assert.doesNotMatch(lines.join("\n"), SEQ_SORT, `${shape.name}: seq order from the index\n${lines.join("\n")}`);
    }
  }
  const cursor = executor.planPage({ ...query, after: 1_000_000_000, order: "asc" });
  for (const statement of cursor.flatMap((p) => p.statements))
    assertNoScan(explain(db, statement), `${shape.name} asc page after a cursor`);
  for (const statement of executor.planCount(query).flatMap((p) => p.statements))
    assertNoScan(explain(db, statement), `${shape.name} count`);
  for (const groupBy of GROUP_BY) {
    for (const statement of executor.planGroup({ ...query, groupBy }).flatMap((p) => p.statements)) {
      assertNoScan(explain(db, statement), `${shape.name} group by ${groupBy}`);
    }
  }
}

describe("query plans", () => {
  describe("on ANALYZEd, skewed data (30k events over 8 tenants)", () => {
    let dir: string;
    let store: SqliteStore;
    let db: Database.Database;
    let logDb: Database.Database;
    let executor: QueryExecutor;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "sealtrail-plans-"));
      const path = join(dir, "audit.db");
      store = createSqliteStore({ path, durability: "normal" });
      await seedRealistic(store, 30_000);
      await store.flushIndex();
      db = new Database(indexPathOf(path));
      logDb = new Database(path);
      db.exec("ANALYZE");
      executor = createQueryExecutor(db, logDb);
    });
    after(async () => {
      await store.close();
      db.close();
      logDb.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("the big tenant holds about half the events, and the statistics are there", () => {
      const [big] = db
        .prepare<[], { n: number }>("SELECT count(*) AS n FROM events WHERE log_id = (SELECT id FROM logs WHERE name = 't0')")
        .all();
      assert.ok((big?.n ?? 0) > 13_000, String(big?.n));
      assert.ok((db.prepare<[], { n: number }>("SELECT count(*) AS n FROM sqlite_stat1").get()?.n ?? 0) > 10);
    });

    for (const log of ["t0", "t6"]) {
      it(`plans every documented shape of a ${log === "t0" ? "big" : "small"} tenant without a scan, seq order from the index`, () => {
        for (const shape of shapes(db, log)) assertShapePlans(db, executor, log, shape);
      });
    }

    it("reads each result by primary key: the index row, then the entry, a page's results in one statement each", () => {
      const list = "SCAN j VIRTUAL TABLE INDEX 1:";
      assert.deepEqual(explain(db, { text: FETCH_SQL, params: ["[1,2]", 1] }), [list, "SEARCH e USING PRIMARY KEY (log_id=? AND seq=?)"]);
      assert.deepEqual(explain(logDb, { text: LEAF_SQL, params: ["[1,2]", 1] }), [list, "SEARCH e USING INTEGER PRIMARY KEY (rowid=?)"]);
    });

    it("probes and rule-5 windows are capped index ranges", () => {
      const [actor] = shapes(db, "t0").filter((s) => s.driver === "actor");
      assert.ok(actor);
      const probe = probeStatement(
        {
          from: "events AS ev INDEXED BY events_actor",
          seq: "ev.seq",
          where: { text: "ev.log_id = ? AND ev.actor_id = ?", params: [1, "svc_0"] },
          onEvents: true,
          ordered: true,
          unique: true,
        },
        PROBE_CAP,
      );
      const probeLines = explain(db, probe);
      assertNoScan(probeLines, "probe");
      assert.ok(probeLines.includes("SEARCH ev USING COVERING INDEX events_actor (log_id=? AND actor_id=?)"), probeLines.join("\n"));
      const window = windowStatement(
        { from: "events AS ev", seq: "ev.seq", where: { text: "ev.log_id = ?", params: [1] }, onEvents: true, ordered: true, unique: true },
        [{ sql: { text: "+ev.outcome = ?", params: ["denied"] } }],
        1,
        { order: "desc", limit: 50, after: 20_000 },
        PROBE_CAP,
      );
      const windowLines = explain(db, window);
      assertNoScan(windowLines, "window");
      assert.ok(windowLines.includes("SEARCH ev USING PRIMARY KEY (log_id=? AND seq<?)"), windowLines.join("\n"));
    });

    it("checks an outcome beside an action or an action prefix inside the index (index migration 4)", () => {
      for (const [index, column, value] of [
        ["events_action", "action", "document.shared"],
        ["events_resource", "resource", "document."],
      ] as const) {
        const page = pageStatement(
          {
            from: `events AS ev INDEXED BY ${index}`,
            seq: "ev.seq",
            where: { text: `ev.log_id = ? AND ev.${column} = ?`, params: [1, value] },
            onEvents: true,
            ordered: true,
            unique: true,
          },
          [{ sql: { text: "+ev.outcome = ?", params: ["denied"] } }],
          { order: "desc", limit: 50 },
        );
        // Covering: no event row is read for the entries whose outcome does not match.
        assert.deepEqual(explain(db, page), [`SEARCH ev USING COVERING INDEX ${index} (log_id=? AND ${column}=?)`]);
      }
    });

    it("searches several logs, and every log, one index search per log", () => {
      for (const logs of [["t0", "t3", "t7"], undefined]) {
        const plans = executor.planPage({
          ...(logs ? { logs } : {}),
          filter: { actor: ["svc_1"], outcome: ["failure"] },
          order: "desc",
          limit: 50,
        });
        assert.equal(plans.length, logs ? 3 : 8);
        for (const plan of plans) for (const statement of plan.statements) assertNoScan(explain(db, statement), `${plan.log}`);
      }
    });

    it("searches every log at once when no per-log index applies: the FTS index, or all events in seq order", () => {
      const text = executor.planPage({ filter: { text: ["quarterly report"] }, order: "desc", limit: 50 });
      assert.deepEqual(
        text.map((p) => [p.log, p.driver]),
        [["*", "text"]],
      );
      const textLines = explain(db, text[0]?.statements[0] as Sql);
      assertNoScan(textLines, "cross-log text");
      assert.ok(
        textLines.some((l) => l.startsWith("SEARCH ev USING COVERING INDEX events_seq (seq=?)")),
        textLines.join("\n"),
      );
      for (const filter of [{}, { not: { outcome: ["success"] } }] as QueryFilter[]) {
        const [walk] = executor.planPage({ filter, order: "desc", limit: 50, after: 20_000 });
        assert.equal(walk?.driver, "all logs");
        const lines = explain(db, walk?.statements[0] as Sql);
        assertNoScan(lines, "cross-log walk after a cursor");
        // The first page walks events_seq from its end and stops after the page: no sort.
        const first = explain(db, executor.planPage({ filter, order: "desc", limit: 50 })[0]?.statements[0] as Sql);
        assert.match(first.join("\n"), /events_seq/);
        assert.doesNotMatch(first.join("\n"), SEQ_SORT);
      }
      // With a per-log index in the filter, each log is planned on its own (rule 6).
      assert.equal(executor.planPage({ filter: { text: ["report"], actor: ["svc_0"] }, order: "desc", limit: 50 }).length, 8);
    });
  });

  describe("on a fresh store (no statistics)", () => {
    it("plans every documented shape without a scan", async () => {
      const dir = mkdtempSync(join(tmpdir(), "sealtrail-plans-"));
      const path = join(dir, "audit.db");
      const store = createSqliteStore({ path });
      try {
        await seedRealistic(store, 2_000);
        await store.flushIndex();
        const db = new Database(indexPathOf(path));
        const logDb = new Database(path);
        try {
          const executor = createQueryExecutor(db, logDb);
          for (const shape of shapes(db, "t0")) {
            // Without statistics, probes still pick drivers; only plan shapes are checked here.
            const [page] = executor.planPage({ logs: ["t0"], filter: shape.filter, order: "desc", limit: 50 }) as [LogPlan];
            for (const statement of page.statements) assertNoScan(explain(db, statement), `${shape.name} (fresh)`);
          }
        } finally {
          db.close();
          logDb.close();
        }
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

describe("FTS5 phrases", () => {
  it("keep only word tokens inside one quoted phrase", () => {
    assert.equal(ftsPhrase("Quarterly Report"), '"quarterly report"');
    assert.equal(ftsPhrase('a" OR text:secret NEAR(x y) *'), '"a or text secret near x y"');
    assert.equal(ftsPhrase("'; DROP TABLE entries; --"), '"drop table entries"');
    assert.equal(ftsPhrase("-secret ^start {log text}: x"), '"secret start log text x"');
    assert.equal(ftsPhrase("a\u0000b"), '"a b"');
    assert.equal(ftsPhrase("Zoë 日本"), '"zoë 日本"');
    for (const nothing of ["", "*", '"', "()", "\u0000", " - ^ : "]) assert.equal(ftsPhrase(nothing), undefined, JSON.stringify(nothing));
  });
});
