import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EventInput, generateSignerKey, parseQuery, parseSignerKey, seededRandom } from "@sealtrail/core";
import { EventQueries, LogEngine } from "@sealtrail/engine";
import { createSqliteStore } from "@sealtrail/store-sqlite";
import Database from "better-sqlite3";
import { dataset } from "./generate.ts";
import { fmt, type Latency, timeMany } from "./stats.ts";

export interface QueryBenchResult {
  events: number;
  tenants: number;
  load_eps: number;
  baseline_load_eps: number;
  query_p50_ms: Record<string, number>;
  query_p99_ms: Record<string, number>;
  query_p50_baseline_ms: Record<string, number>;
  query_p99_baseline_ms: Record<string, number>;
}

export interface Shape {
  name: string;
  /** Query language text for Sealtrail. */
  q: (p: Params) => string;
  /** The same question on the plain table: WHERE clause and parameters. */
  sql: (p: Params) => [string, unknown[]];
}

export interface Params {
  tenant: string;
  actor: string;
  action: string;
  resource: string;
  target: { type: string; id: string };
  requestId: string;
  word: string;
  dayStart: number;
}

const DAY = 86_400_000;

/** The documented query shapes (DESIGN §6), shared with the PostgreSQL benchmark (pg-bench.ts). */
export const SHAPES: Shape[] = [
  { name: "log", q: () => "", sql: (p) => ["tenant = ?", [p.tenant]] },
  { name: "actor", q: (p) => `actor:${p.actor}`, sql: (p) => ["tenant = ? AND actor_id = ?", [p.tenant, p.actor]] },
  { name: "action", q: (p) => `action:${p.action}`, sql: (p) => ["tenant = ? AND action = ?", [p.tenant, p.action]] },
  {
    name: "action_prefix",
    q: (p) => `action:${p.resource}.*`,
    sql: (p) => ["tenant = ? AND action >= ? AND action < ?", [p.tenant, `${p.resource}.`, `${p.resource}/`]],
  },
  {
    name: "target",
    q: (p) => `target:${p.target.type}/${p.target.id}`,
    sql: (p) => ["tenant = ? AND target_type = ? AND target_id = ?", [p.tenant, p.target.type, p.target.id]],
  },
  { name: "outcome", q: () => "outcome:denied", sql: (p) => ["tenant = ? AND outcome = 'denied'", [p.tenant]] },
  {
    name: "time_range",
    q: (p) => `after:${iso(p.dayStart)} before:${iso(p.dayStart + DAY)}`,
    sql: (p) => ["tenant = ? AND occurred_ms >= ? AND occurred_ms < ?", [p.tenant, p.dayStart, p.dayStart + DAY]],
  },
  {
    name: "actor_time",
    q: (p) => `actor:${p.actor} after:${iso(p.dayStart - 6 * DAY)} before:${iso(p.dayStart + DAY)}`,
    sql: (p) => [
      "tenant = ? AND actor_id = ? AND occurred_ms >= ? AND occurred_ms < ?",
      [p.tenant, p.actor, p.dayStart - 6 * DAY, p.dayStart + DAY],
    ],
  },
  {
    name: "prefix_outcome",
    q: (p) => `action:${p.resource}.* outcome:failure`,
    sql: (p) => ["tenant = ? AND action >= ? AND action < ? AND outcome = 'failure'", [p.tenant, `${p.resource}.`, `${p.resource}/`]],
  },
  { name: "request", q: (p) => `request:${p.requestId}`, sql: (p) => ["tenant = ? AND request_id = ?", [p.tenant, p.requestId]] },
  { name: "text", q: (p) => `"${p.word}"`, sql: (p) => ["tenant = ? AND body LIKE ?", [p.tenant, `%${p.word}%`]] },
];

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

const BASELINE_SCHEMA = `
CREATE TABLE events (
  id INTEGER PRIMARY KEY, tenant TEXT NOT NULL, occurred_ms INTEGER NOT NULL, action TEXT NOT NULL,
  actor_id TEXT NOT NULL, outcome TEXT NOT NULL, target_type TEXT, target_id TEXT, request_id TEXT, body TEXT NOT NULL
);
CREATE INDEX events_tenant_time ON events (tenant, occurred_ms);
CREATE INDEX events_tenant_actor ON events (tenant, actor_id);
CREATE INDEX events_tenant_action ON events (tenant, action);
CREATE INDEX events_tenant_target ON events (tenant, target_type, target_id);
CREATE INDEX events_tenant_outcome ON events (tenant, outcome);
CREATE INDEX events_tenant_request ON events (tenant, request_id);
`;

/**
 * Loads N events into Sealtrail (engine → SQLite with its query index) and into a plain indexed
 * SQLite table holding the same events, then asks both the documented query shapes: the first
 * page (50 newest) of each, for random tenants, actors, targets and days. The plain table is the
 * baseline a user would otherwise build; both run in this process, one after the other.
 */
export async function runQueryBench(options: {
  events: number;
  tenants?: number;
  iterations?: number;
  log: (line: string) => void;
}): Promise<QueryBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), "sealtrail-bench-"));
  const log = options.log;
  try {
    const data = dataset({ total: options.events, ...(options.tenants ? { tenants: options.tenants } : {}) });
    // Loading uses durability "normal" on both sides: this benchmark is about reads.
    const store = createSqliteStore({ path: join(dir, "sealtrail.db"), durability: "normal" });
    const signer = await parseSignerKey(await generateSignerKey("bench.local"));
    // Checkpoints every 10 s while loading: 1,000 logs signing every second would measure signing, not queries.
    const engine = await LogEngine.open({
      store,
      signer,
      originPrefix: "bench.local",
      maxEventsPerCommit: 20_000,
      checkpointIntervalMs: 10_000,
    });
    const plain = new Database(join(dir, "plain.db"));
    plain.pragma("journal_mode = WAL");
    plain.pragma("synchronous = NORMAL");
    plain.exec(BASELINE_SCHEMA);
    const insert = plain.prepare(
      "INSERT INTO events (tenant, occurred_ms, action, actor_id, outcome, target_type, target_id, request_id, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const insertMany = plain.transaction((rows: { tenant: string; event: EventInput }[]) => {
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

    const chunk = 20_000;
    const samples: { tenant: string; event: EventInput }[] = [];
    const rand = seededRandom(99);
    let engineMs = 0;
    let plainMs = 0;
    for (let done = 0; done < options.events; done += chunk) {
      const rows = Array.from({ length: Math.min(chunk, options.events - done) }, () => data.next());
      for (const row of rows) if (rand() < 0.002 && samples.length < 5000) samples.push(row);
      const byTenant = new Map<string, EventInput[]>();
      for (const row of rows) byTenant.set(row.tenant, [...(byTenant.get(row.tenant) ?? []), row.event]);
      let started = performance.now();
      await Promise.all([...byTenant].map(([tenant, events]) => engine.append(tenant, events)));
      engineMs += performance.now() - started;
      started = performance.now();
      insertMany(rows);
      plainMs += performance.now() - started;
      if ((done / chunk) % 25 === 0) log(`  loaded ${done + rows.length} events`);
    }
    plain.exec("ANALYZE");
    log(
      `  load: sealtrail ${Math.round(options.events / (engineMs / 1000))} events/s, plain table ${Math.round(options.events / (plainMs / 1000))} events/s`,
    );

    // Queries run on a quiet store: the engine is closed (its final checkpoints signed) first.
    await engine.close();
    const reader = createSqliteStore({ path: join(dir, "sealtrail.db"), readonly: true });
    const queries = new EventQueries({ store: reader, hasLog: async (name) => (await reader.getLog(name)) !== undefined });
    const iterations = options.iterations ?? 200;
    const params = (i: number): Params => paramsOf(samples[(i * 7919) % samples.length] as { tenant: string; event: EventInput });
    const result: QueryBenchResult = {
      events: options.events,
      tenants: data.tenants,
      load_eps: Math.round(options.events / (engineMs / 1000)),
      baseline_load_eps: Math.round(options.events / (plainMs / 1000)),
      query_p50_ms: {},
      query_p99_ms: {},
      query_p50_baseline_ms: {},
      query_p99_baseline_ms: {},
    };
    log(`  ${"shape".padEnd(16)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)}   baseline p50 / p99 ms   p99 ratio`);
    for (const shape of SHAPES) {
      const ours: Latency = await timeMany(iterations, async (i) => {
        const p = params(i);
        await queries.query({ logs: [p.tenant], filter: parseQuery(shape.q(p)), limit: 50 });
      });
      const statements = new Map<string, Database.Statement>();
      const theirs: Latency = await timeMany(iterations, (i) => {
        const [where, args] = shape.sql(params(i));
        let statement = statements.get(where);
        if (!statement) {
          statement = plain.prepare(`SELECT id, body FROM events WHERE ${where} ORDER BY id DESC LIMIT 50`);
          statements.set(where, statement);
        }
        // The app would parse what it read, as Sealtrail does.
        return (statement.all(...args) as { body: string }[]).map((row) => JSON.parse(row.body));
      });
      result.query_p50_ms[shape.name] = round(ours.p50);
      result.query_p99_ms[shape.name] = round(ours.p99);
      result.query_p50_baseline_ms[shape.name] = round(theirs.p50);
      result.query_p99_baseline_ms[shape.name] = round(theirs.p99);
      log(
        `  ${shape.name.padEnd(16)} ${fmt(ours.p50).padStart(8)} ${fmt(ours.p99).padStart(8)}   ${fmt(theirs.p50).padStart(9)} / ${fmt(theirs.p99).padEnd(9)}   ${(theirs.p99 / ours.p99).toFixed(2)}x`,
      );
    }
    log(`  storage: sealtrail ${mb(join(dir, "sealtrail.db"))} MB, plain table ${mb(join(dir, "plain.db"))} MB`);
    await reader.close();
    plain.close();
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A shape's parameters taken from one sampled event (so every query has matches). */
export function paramsOf(sample: { tenant: string; event: EventInput }): Params {
  const target = sample.event.targets?.[0] as { type: string; id: string };
  const name = sample.event.actor.name ?? "Ada";
  return {
    tenant: sample.tenant,
    actor: sample.event.actor.id,
    action: sample.event.action,
    resource: sample.event.action.split(".")[0] as string,
    target: { type: target.type, id: target.id },
    requestId: sample.event.context?.requestId as string,
    word: name.split(" ")[1] as string,
    dayStart: Math.floor(Date.parse(sample.event.occurredAt) / DAY) * DAY,
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

function mb(path: string): string {
  let bytes = 0;
  for (const suffix of ["", "-wal"]) {
    try {
      bytes += statSync(path + suffix).size;
    } catch {
      // no WAL file
    }
  }
  return (bytes / 1048576).toFixed(0);
}
