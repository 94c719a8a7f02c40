import { type EventInput, parseQuery } from "@sealtrail/core";
import { EventQueries } from "@sealtrail/engine";
import { createSqliteStore } from "@sealtrail/store-sqlite";
import Database from "better-sqlite3";
import type { LoadedData } from "./ingest-bench.ts";
import { fmt, type Latency, timeMany } from "./stats.ts";

export interface QueryBenchResult {
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
  /** False where the plain table can only approximate (free text is LIKE, not word search). */
  exact?: boolean;
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
  { name: "text", q: (p) => `"${p.word}"`, sql: (p) => ["tenant = ? AND body LIKE ?", [p.tenant, `%${p.word}%`]], exact: false },
];

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The documented query shapes, asked of the store the ingest benchmark loaded and of the plain
 * indexed table holding the same events: the first page (50 newest) of each, for sampled tenants,
 * actors, targets and days. Both run in this process, one after the other, on quiet databases.
 */
export async function runQueryBench(options: {
  data: LoadedData;
  iterations?: number;
  log: (line: string) => void;
}): Promise<QueryBenchResult> {
  const { data, log } = options;
  const samples = data.samples;
  const reader = createSqliteStore({ path: data.storePath, readonly: true });
  const plain = new Database(data.plainPath, { readonly: true });
  const queries = new EventQueries({ store: reader, hasLog: async (name) => (await reader.getLog(name)) !== undefined });
  const iterations = options.iterations ?? 200;
  const params = (i: number): Params => paramsOf(samples[(i * 7919) % samples.length] as { tenant: string; event: EventInput });
  const result: QueryBenchResult = {
    query_p50_ms: {},
    query_p99_ms: {},
    query_p50_baseline_ms: {},
    query_p99_baseline_ms: {},
  };
  log(`  ${"shape".padEnd(16)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)}   baseline p50 / p99 ms   p99 ratio`);
  for (const shape of SHAPES) {
    let ourRows = 0;
    let theirRows = 0;
    const ours: Latency = await timeMany(iterations, async (i) => {
      const p = params(i);
      ourRows += (await queries.query({ logs: [p.tenant], filter: parseQuery(shape.q(p)), limit: 50 })).events.length;
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
      const rows = (statement.all(...args) as { body: string }[]).map((row) => JSON.parse(row.body));
      theirRows += rows.length;
      return rows;
    });
    // Both sides must have answered the same question: same number of events found.
    if (shape.exact !== false && ourRows !== theirRows)
      log(`  ${shape.name}: sealtrail found ${ourRows} events, the plain table ${theirRows}`);
    result.query_p50_ms[shape.name] = round(ours.p50);
    result.query_p99_ms[shape.name] = round(ours.p99);
    result.query_p50_baseline_ms[shape.name] = round(theirs.p50);
    result.query_p99_baseline_ms[shape.name] = round(theirs.p99);
    log(
      `  ${shape.name.padEnd(16)} ${fmt(ours.p50).padStart(8)} ${fmt(ours.p99).padStart(8)}   ${fmt(theirs.p50).padStart(9)} / ${fmt(theirs.p99).padEnd(9)}   ${(theirs.p99 / ours.p99).toFixed(2)}x`,
    );
  }
  await reader.close();
  plain.close();
  return result;
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
