import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type EventInput, generateSignerKey, parseQuery, parseSignerKey, seededRandom } from "@sealtrail/core";
import { EventQueries, LogEngine } from "@sealtrail/engine";
import { createPostgresStore, ensurePartitions } from "@sealtrail/store-postgres";
import pg from "pg";
import { startTestCluster, type TestCluster } from "../packages/store-postgres/src/test-cluster.ts";
import { dataset } from "./generate.ts";
import { paramsOf, SHAPES } from "./query-bench.ts";
import { fmt, type Latency, timeMany } from "./stats.ts";

/**
 * PostgreSQL benchmark (issue 5), every figure beside a baseline from the same run and server:
 *  - ingest: events/s through 1, 2 and 4 `sealtrail serve --store postgres://…` processes (HTTP,
 *    batches of BATCH, CLIENTS requests in flight, acknowledged once integrated), beside plain
 *    multi-row INSERT and COPY of the same events into an equivalent indexed table;
 *  - queries: p50/p99 of the first page (50 newest) per documented shape over `events` events
 *    (the 10M target: `--events 10000000 --defer-indexes`), beside the same question on the plain
 *    table. The query dataset is loaded through the engine and store themselves in large commits
 *    (no HTTP), so the tables are exactly what the store produces.
 * The cluster runs with fsync on: acknowledged means durable, on both sides.
 */
export async function runPostgresBench(options: {
  events: number;
  log: (line: string) => void;
  /** Events per ingest configuration (default min(events, 40,000)). */
  ingestEvents?: number;
  tenants?: number;
  iterations?: number;
  /** Only the query part (`--only pg-query`). */
  queriesOnly?: boolean;
  /** Build the query index and the plain table's indexes after loading (see deferQueryIndexes). */
  deferIndexes?: boolean;
  /** Keep the cluster in this directory (`--keep`), or measure the dataset it holds (`reuse`). */
  dir?: string;
  reuse?: boolean;
  /** Continue a load into `dir` that was stopped before its last event (`--resume`). */
  resume?: boolean;
}): Promise<Record<string, unknown>> {
  const log = options.log;
  if (options.reuse && !options.dir) throw new Error("reuse needs the directory of a kept cluster");
  const cluster = await startTestCluster({
    settings: {
      fsync: "on",
      full_page_writes: "on",
      shared_buffers: "4GB",
      max_wal_size: "4GB",
      checkpoint_timeout: "30min",
      maintenance_work_mem: "2GB",
      max_parallel_maintenance_workers: "2",
    },
    ...(options.dir ? { dir: options.dir } : {}),
  });
  log(`  cluster: ${options.dir ?? "throwaway"} on port ${cluster.port}`);
  const dir = mkdtempSync(join(tmpdir(), "sealtrail-pg-bench-"));
  try {
    let ingestFigures: Record<string, unknown> = {};
    if (!options.queriesOnly) {
      const ingestEvents = options.ingestEvents ?? Math.min(options.events, 40_000);
      log(`ingest: ${ingestEvents} events per run, batches of ${BATCH}, ${CLIENTS} requests in flight`);
      const ingest: Record<string, number> = {};
      for (const servers of [1, 2, 4]) {
        ingest[`servers_${servers}_eps`] = await ingestThroughServers(cluster, dir, servers, ingestEvents, INGEST_TENANTS);
        log(`  ${servers} server process${servers > 1 ? "es" : "  "}  ${String(ingest[`servers_${servers}_eps`]).padStart(8)} events/s`);
      }
      const baseline = await ingestBaselines(cluster, ingestEvents, INGEST_TENANTS);
      log(`  plain INSERT (${BATCH} rows)   ${String(baseline.insert).padStart(8)} events/s   (same table shape, no tree, no signing)`);
      log(`  plain COPY               ${String(baseline.copy).padStart(8)} events/s`);
      ingestFigures = {
        ingest_events: ingestEvents,
        ingest_eps: ingest,
        baseline_insert_eps: baseline.insert,
        baseline_copy_eps: baseline.copy,
      };
    }
    const queries = await queryBench(cluster, options, log);
    return { ...ingestFigures, ...queries };
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const BATCH = 50;
/** Ingest spreads over 100 tenants (zipf): batches of BATCH fill up for most of them. */
const INGEST_TENANTS = 100;
const CLIENTS = 16;
const ADMIN_KEY = "bench-admin-key-0123456789abcdef";
const SERVE = resolve(import.meta.dirname, "serve-source.ts");

interface Server {
  readonly url: string;
  stop(): Promise<void>;
}

async function startServe(dataDir: string, store: string, signingKey: string): Promise<Server> {
  const env = { ...process.env, SEALTRAIL_SIGNING_KEY: signingKey, SEALTRAIL_ADMIN_KEY: ADMIN_KEY } as Record<string, string>;
  delete env.NODE_OPTIONS;
  const child: ChildProcess = spawn(
    process.execPath,
    ["--conditions=source", "--import", "tsx", SERVE, "serve", "--data", dataDir, "--port", "0", "--store", store, "--pool-size", "8"],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const url = await new Promise<string>((done, fail) => {
    const check = (chunk: Buffer) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) done(match[1] as string);
    };
    child.stdout?.on("data", check);
    child.stderr?.on("data", check);
    child.once("exit", (code) => fail(new Error(`serve exited with ${code}:\n${output}`)));
  });
  return {
    url,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** The events of the ingest runs, pre-generated so generation is not measured. */
function ingestBatches(events: number, tenants: number): { tenant: string; events: EventInput[] }[] {
  const data = dataset({ total: events, tenants, seed: 11 });
  const batches: { tenant: string; events: EventInput[] }[] = [];
  // Batches per tenant, as an application's audit shipper sends them.
  const open = new Map<string, EventInput[]>();
  for (let i = 0; i < events; i++) {
    const { tenant, event } = data.next();
    const list = open.get(tenant) ?? [];
    list.push(event);
    if (list.length === BATCH) {
      batches.push({ tenant, events: list });
      open.delete(tenant);
    } else open.set(tenant, list);
  }
  for (const [tenant, list] of open) batches.push({ tenant, events: list });
  return batches;
}

async function ingestThroughServers(cluster: TestCluster, dir: string, count: number, events: number, tenants: number): Promise<number> {
  const url = await cluster.createDatabase();
  const signingKey = await generateSignerKey("bench.local");
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await startServe(join(dir, `ingest-${count}-${i}`), url, signingKey));
    const batches = ingestBatches(events, tenants);
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        const server = servers[client % servers.length] as Server;
        for (let b = next++; b < batches.length; b = next++) {
          const batch = batches[b] as { tenant: string; events: EventInput[] };
          const response = await fetch(`${server.url}/v1/logs/${batch.tenant}/events`, {
            method: "POST",
            headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
            body: JSON.stringify({ events: batch.events }),
          });
          if (response.status !== 201) throw new Error(`ingest answered ${response.status}: ${await response.text()}`);
          await response.arrayBuffer();
        }
      }),
    );
    return Math.round(events / ((performance.now() - started) / 1000));
  } finally {
    for (const server of servers) await server.stop();
    dropDatabase(cluster, url);
  }
}

const dropDatabase = (cluster: TestCluster, url: string): void => {
  cluster.psql("postgres", `DROP DATABASE ${new URL(url).pathname.slice(1)}`);
};

/** A plain table with the same events and btree indexes a user would build (the query-bench baseline, on PostgreSQL). */
const PLAIN_TABLE = `
CREATE TABLE plain_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant text NOT NULL, occurred_ms bigint NOT NULL, action text NOT NULL,
  actor_id text NOT NULL, outcome text NOT NULL, target_type text, target_id text, request_id text, body text NOT NULL
);`;
const PLAIN_INDEXES = `
CREATE INDEX plain_tenant_time ON plain_events (tenant, occurred_ms);
CREATE INDEX plain_tenant_actor ON plain_events (tenant, actor_id);
CREATE INDEX plain_tenant_action ON plain_events (tenant, action);
CREATE INDEX plain_tenant_target ON plain_events (tenant, target_type, target_id);
CREATE INDEX plain_tenant_outcome ON plain_events (tenant, outcome);
CREATE INDEX plain_tenant_request ON plain_events (tenant, request_id);
`;

const PLAIN_COLUMNS = "tenant, occurred_ms, action, actor_id, outcome, target_type, target_id, request_id, body";

function plainRow(tenant: string, event: EventInput): unknown[] {
  const target = event.targets?.[0];
  return [
    tenant,
    Date.parse(event.occurredAt),
    event.action,
    event.actor.id,
    event.outcome ?? "success",
    target?.type ?? null,
    target?.id ?? null,
    event.context?.requestId ?? null,
    JSON.stringify(event),
  ];
}

async function insertPlain(db: pg.Pool | pg.PoolClient, rows: readonly unknown[][]): Promise<void> {
  const columns = Array.from({ length: 9 }, (_, c) => rows.map((r) => r[c]));
  await db.query(
    `INSERT INTO plain_events (${PLAIN_COLUMNS}) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])`,
    columns,
  );
}

/** COPY text format: backslash, tab, newline and carriage return escaped; NULL as \N. */
const copyField = (value: unknown): string =>
  value === null || value === undefined
    ? "\\N"
    : String(value).replaceAll("\\", "\\\\").replaceAll("\t", "\\t").replaceAll("\n", "\\n").replaceAll("\r", "\\r");

async function ingestBaselines(cluster: TestCluster, events: number, tenants: number): Promise<{ insert: number; copy: number }> {
  const batches = ingestBatches(events, tenants);
  const url = await cluster.createDatabase();
  const pool = new pg.Pool({ connectionString: url, max: CLIENTS });
  try {
    await pool.query(PLAIN_TABLE + PLAIN_INDEXES);
    let next = 0;
    let started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let b = next++; b < batches.length; b = next++) {
          const batch = batches[b] as { tenant: string; events: EventInput[] };
          await insertPlain(
            pool,
            batch.events.map((e) => plainRow(batch.tenant, e)),
          );
        }
      }),
    );
    const insert = Math.round(events / ((performance.now() - started) / 1000));
    await pool.query("TRUNCATE plain_events");
    const text = batches.flatMap((b) => b.events.map((e) => `${plainRow(b.tenant, e).map(copyField).join("\t")}\n`)).join("");
    started = performance.now();
    await new Promise<void>((done, fail) => {
      const database = new URL(url).pathname.slice(1);
      const child = spawn(
        "psql",
        [
          "-X",
          "-q",
          "-h",
          "127.0.0.1",
          "-p",
          String(cluster.port),
          "-U",
          "postgres",
          "-d",
          database,
          "-c",
          `COPY plain_events (${PLAIN_COLUMNS}) FROM STDIN`,
        ],
        {
          stdio: ["pipe", "ignore", "inherit"],
          env: { ...process.env, PATH: `${process.env.PATH}:/usr/lib/postgresql/15/bin` },
        },
      );
      child.once("exit", (code) => (code === 0 ? done() : fail(new Error(`psql COPY exited with ${code}`))));
      child.stdin?.end(text);
    });
    const copy = Math.round(events / ((performance.now() - started) / 1000));
    return { insert, copy };
  } finally {
    await pool.end();
    dropDatabase(cluster, url);
  }
}

/** The database of the query dataset: a fixed name, so a kept cluster can be measured again. */
const QUERY_DATABASE = "sealtrail_bench";

/**
 * The sampled events whose fields parameterise the queries (every query has matches): a seeded
 * 0.2 % of the stream, at most 5,000, so `--reuse` regenerates exactly the samples of the load.
 */
function sampler(): {
  offer(row: { tenant: string; event: EventInput }): boolean;
  readonly samples: { tenant: string; event: EventInput }[];
} {
  const rand = seededRandom(99);
  const samples: { tenant: string; event: EventInput }[] = [];
  return {
    samples,
    offer(row) {
      if (rand() < 0.002 && samples.length < 5000) samples.push(row);
      return samples.length < 5000;
    },
  };
}

/**
 * For loading 10M events in reasonable time (`--defer-indexes`, as the SQLite suite): the query
 * index's secondary indexes (every index of `events`, all secondary) are dropped before loading and
 * created again afterwards (finishIndexes) from the definitions the migrations make, so PostgreSQL
 * builds each by one sort instead of row by row. The rows are the ones the store itself wrote
 * through its append path; entries, tiles and checkpoints keep their keys throughout.
 */
async function dropQueryIndexes(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<{ name: string }>(
    "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'events' ORDER BY 1",
  );
  for (const { name } of rows) await pool.query(`DROP INDEX ${name}`);
}

/**
 * Builds whatever index of the query index or the plain table is missing, from the definitions the
 * migrations make (read from a scratch database migrated for the purpose): the end of a deferred
 * load, and `--reuse` of one stopped while building them. Returns how many it built.
 */
async function finishIndexes(cluster: TestCluster, url: string, events: number, log: (line: string) => void): Promise<number> {
  const scratch = `${QUERY_DATABASE}_schema`;
  cluster.psql("postgres", `DROP DATABASE IF EXISTS ${scratch}`);
  cluster.psql("postgres", `CREATE DATABASE ${scratch}`);
  const fresh = await createPostgresStore({ connectionString: cluster.url(scratch), poolSize: 1 });
  const { rows: wanted } = await fresh.pool.query<{ name: string; def: string }>(
    "SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'events' ORDER BY 1",
  );
  await fresh.close();
  cluster.psql("postgres", `DROP DATABASE ${scratch}`);
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    // A load stopped before its last row must not pass for the dataset asked for.
    const { rows: counted } = await pool.query<{ ours: string; theirs: string }>(
      "SELECT (SELECT count(*) FROM entries) AS ours, (SELECT count(*) FROM plain_events) AS theirs",
    );
    const [ours, theirs] = [Number(counted[0]?.ours), Number(counted[0]?.theirs)];
    if (ours !== events || theirs !== events) throw new Error(`the kept dataset holds ${ours} / ${theirs} events, not ${events}`);
    const { rows } = await pool.query<{ name: string }>("SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema()");
    const present = new Set(rows.map((r) => r.name));
    const missing = [
      ...wanted.filter((w) => !present.has(w.name)).map((w) => ({ name: w.name, def: w.def.replace(" ON ONLY ", " ON ") })),
      ...PLAIN_INDEXES.trim()
        .split("\n")
        .map((def) => ({ name: def.split(" ")[2] as string, def }))
        .filter((p) => !present.has(p.name)),
    ];
    for (const { name, def } of missing) {
      const started = performance.now();
      await pool.query(def);
      log(`  built ${name} in ${Math.round((performance.now() - started) / 1000)} s`);
    }
    return missing.length;
  } finally {
    await pool.end();
  }
}

async function loadQueryDataset(
  cluster: TestCluster,
  url: string,
  options: { events: number; tenants?: number; deferIndexes?: boolean; resume?: boolean },
  log: (line: string) => void,
): Promise<{ tenant: string; event: EventInput }[]> {
  const total = options.events;
  const data = dataset({ total, ...(options.tenants ? { tenants: options.tenants } : {}) });
  const defer = options.deferIndexes ?? false;
  log(
    `query: loading ${total} events across ${data.tenants} tenants through the engine and store (commits of 20,000)${defer ? ", indexes built after loading" : ""}`,
  );
  const store = await createPostgresStore({ connectionString: url, poolSize: 4 });
  // receivedAt is the load time; the partitions of the current month onwards exist already.
  await ensurePartitions(store.pool, Date.now());
  const admin = new pg.Pool({ connectionString: url, max: 4 });
  const database = new URL(url).pathname.slice(1);
  if (defer) {
    // A bulk load: commits need not wait for the WAL flush (they are not acknowledgements here).
    cluster.psql("postgres", `ALTER DATABASE ${database} SET synchronous_commit = off`);
    await dropQueryIndexes(admin);
  }
  const signer = await parseSignerKey(await generateSignerKey("bench.local"));
  const engine = await LogEngine.open({
    store,
    signer,
    originPrefix: "bench.local",
    maxEventsPerCommit: 20_000,
    checkpointIntervalMs: 60_000,
  });
  // A resumed load skips, per tenant, the events each side already holds (per-tenant order is the
  // stream's on both sides, whatever chunk a stopped load was in the middle of).
  const skipStore = new Map<string, number>();
  const skipPlain = new Map<string, number>();
  if (options.resume) {
    for (const stored of await store.listLogs()) skipStore.set(stored.name, stored.size);
    const { rows } = await admin.query<{ tenant: string; n: string }>("SELECT tenant, count(*) AS n FROM plain_events GROUP BY tenant");
    for (const row of rows) skipPlain.set(row.tenant, Number(row.n));
    const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    log(`  resuming: ${sum(skipStore)} events already in the store, ${sum(skipPlain)} in the plain table`);
  } else await admin.query(defer ? PLAIN_TABLE : PLAIN_TABLE + PLAIN_INDEXES);
  const take = (skip: Map<string, number>, tenant: string): boolean => {
    const left = skip.get(tenant) ?? 0;
    if (left > 0) skip.set(tenant, left - 1);
    return left === 0;
  };
  const samples = sampler();
  let appended = 0;
  let engineMs = 0;
  let plainMs = 0;
  const chunk = 20_000;
  const started = performance.now();
  // A bulk load overlaps the next chunk's engine work (hashing, signing) with this chunk's commit.
  let inflight: Promise<unknown> = Promise.resolve();
  for (let done = 0; done < total; done += chunk) {
    const rows = Array.from({ length: Math.min(chunk, total - done) }, () => data.next());
    for (const row of rows) samples.offer(row);
    const byTenant = new Map<string, EventInput[]>();
    for (const row of rows) {
      if (!take(skipStore, row.tenant)) continue;
      appended++;
      const list = byTenant.get(row.tenant);
      if (list) list.push(row.event);
      else byTenant.set(row.tenant, [row.event]);
    }
    const plainRows = rows.filter((r) => take(skipPlain, r.tenant)).map((r) => plainRow(r.tenant, r.event));
    // The plain table receives the chunks in stream order, after the previous chunk's rows.
    const appendChunk = async (before: Promise<unknown>) => {
      let at = performance.now();
      await Promise.all([...byTenant].map(([tenant, events]) => engine.append(tenant, events)));
      engineMs += performance.now() - at;
      await before;
      at = performance.now();
      for (let i = 0; i < plainRows.length; i += 5000) await insertPlain(admin, plainRows.slice(i, i + 5000));
      plainMs += performance.now() - at;
    };
    if (defer) {
      const previous = inflight;
      inflight = appendChunk(previous);
      await previous;
    } else await appendChunk(inflight);
    if ((done / chunk) % 25 === 0) log(`  loaded ${done + rows.length} events (${Math.round((performance.now() - started) / 1000)} s)`);
  }
  await inflight;
  // The engine signs its final checkpoints and closes the store.
  await engine.close();
  if (defer) {
    log(
      `  bulk load: ${Math.round(appended / ((performance.now() - started) / 1000))} events/s, both sides together (a load rate, not ingest)`,
    );
    const at = performance.now();
    await finishIndexes(cluster, url, total, log);
    cluster.psql("postgres", `ALTER DATABASE ${database} RESET synchronous_commit`);
    log(`  indexes built in ${Math.round((performance.now() - at) / 1000)} s`);
  } else {
    log(
      `  load: sealtrail ${Math.round(total / (engineMs / 1000))} events/s, plain table ${Math.round(total / (plainMs / 1000))} events/s (bulk, 20,000 per commit)`,
    );
  }
  // What autovacuum does to an insert-only table in production, on both sides before measuring.
  await admin.query("VACUUM ANALYZE");
  await admin.end();
  return samples.samples;
}

async function queryBench(
  cluster: TestCluster,
  options: {
    events: number;
    tenants?: number;
    iterations?: number;
    deferIndexes?: boolean;
    reuse?: boolean;
    resume?: boolean;
    dir?: string;
  },
  log: (line: string) => void,
): Promise<Record<string, unknown>> {
  const total = options.events;
  let url: string;
  let samples: { tenant: string; event: EventInput }[];
  if (options.reuse) {
    url = cluster.url(QUERY_DATABASE);
    const regenerated = sampler();
    const data = dataset({ total, ...(options.tenants ? { tenants: options.tenants } : {}) });
    for (let i = 0; i < total && regenerated.offer(data.next()); i++);
    samples = regenerated.samples;
    log(`query: on the ${total} events kept in ${options.dir}`);
    // The kept dataset is a real upgrade: the store's pending migrations (new indexes included) run
    // first, timed, so finishIndexes below sees the current index names.
    const at = performance.now();
    await (await createPostgresStore({ connectionString: url, poolSize: 1 })).close();
    log(`  migrated to the current schema in ${Math.round((performance.now() - at) / 1000)} s`);
    // What autovacuum does to an insert-only table in production, on both sides before measuring.
    if ((await finishIndexes(cluster, url, total, log)) > 0) cluster.psql(QUERY_DATABASE, "VACUUM ANALYZE");
  } else if (options.dir) {
    const exists = cluster.psql("postgres", `SELECT 1 FROM pg_database WHERE datname = '${QUERY_DATABASE}'`).includes("1");
    if (exists && !options.resume)
      throw new Error(
        `${options.dir} already holds a dataset: measure it with --reuse, finish loading it with --resume, or load elsewhere`,
      );
    if (!exists) cluster.psql("postgres", `CREATE DATABASE ${QUERY_DATABASE}`);
    url = cluster.url(QUERY_DATABASE);
    samples = await loadQueryDataset(cluster, url, { ...options, resume: exists }, log);
  } else {
    url = await cluster.createDatabase();
    samples = await loadQueryDataset(cluster, url, options, log);
  }
  const plain = new pg.Pool({ connectionString: url, max: 4 });
  const reader = await createPostgresStore({ connectionString: url, poolSize: 4 });
  const queries = new EventQueries({ store: reader, hasLog: async (name) => (await reader.getLog(name)) !== undefined });
  const iterations = options.iterations ?? 200;
  const params = (i: number) => paramsOf(samples[(i * 7919) % samples.length] as { tenant: string; event: EventInput });
  const result = {
    query_events: total,
    query_p50_ms: {} as Record<string, number>,
    query_p99_ms: {} as Record<string, number>,
    query_p50_baseline_ms: {} as Record<string, number>,
    query_p99_baseline_ms: {} as Record<string, number>,
  };
  log(`  ${"shape".padEnd(16)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)}   baseline p50 / p99 ms   p99 ratio`);
  for (const shape of SHAPES) {
    let ourRows = 0;
    let theirRows = 0;
    const ours: Latency = await timeMany(iterations, async (i) => {
      const p = params(i);
      ourRows += (await queries.query({ logs: [p.tenant], filter: parseQuery(shape.q(p)), limit: 50 })).events.length;
    });
    const theirs: Latency = await timeMany(iterations, async (i) => {
      const [where, args] = shape.sql(params(i));
      let n = 0;
      const text = where.replaceAll("?", () => `$${++n}`).replace("body LIKE", "body ILIKE");
      const { rows } = await plain.query<{ body: string }>(
        `SELECT id, body FROM plain_events WHERE ${text} ORDER BY id DESC LIMIT 50`,
        args,
      );
      theirRows += rows.length;
      return rows.map((row) => JSON.parse(row.body));
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
  const { rows } = await plain.query<{ ours: string; theirs: string }>(
    `SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid)) FILTER (WHERE c.relname <> 'plain_events')) AS ours,
            pg_size_pretty(pg_total_relation_size('plain_events')) AS theirs
     FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace`,
  );
  log(`  storage: sealtrail ${rows[0]?.ours}, plain table ${rows[0]?.theirs}`);
  await reader.close();
  await plain.end();
  return result;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      events: { type: "string", default: "200000" },
      "ingest-events": { type: "string" },
      tenants: { type: "string", default: "1000" },
      iterations: { type: "string", default: "200" },
      json: { type: "boolean", default: false },
    },
  });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  // Ctrl-C still stops the throwaway cluster (test-cluster.ts stops it on exit).
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));
  log(`Sealtrail PostgreSQL benchmark (node ${process.version}, PostgreSQL 15, fsync on)`);
  const result = await runPostgresBench({
    events: Number(values.events),
    tenants: Number(values.tenants),
    iterations: Number(values.iterations),
    ...(values["ingest-events"] ? { ingestEvents: Number(values["ingest-events"]) } : {}),
    log,
  });
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
}
