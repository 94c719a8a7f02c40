import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateSignerKey, parseSignerKey } from "@sealtrail/core";
import { type LogAppend, LogEngine, type LogStore } from "@sealtrail/engine";
import { createSqliteStore, indexPathOf } from "@sealtrail/store-sqlite";
import Database from "better-sqlite3";
import { dataset, type Generated } from "./generate.ts";
import { openPlainTable } from "./plain-table.ts";
import { diskBytes } from "./stats.ts";

export interface LoadedData {
  readonly dir: string;
  readonly storePath: string;
  readonly plainPath: string;
  readonly events: number;
  readonly tenants: number;
  /** A seeded sample of loaded events, the parameters of the query benchmark. */
  readonly samples: readonly Generated[];
  /** The engine's signing key (Go note format) and origin prefix, to reopen the store. */
  readonly signerKey: string;
  readonly originPrefix: string;
  readonly figures: Record<string, number>;
}

const ORIGIN_PREFIX = "bench.local";

/**
 * Embedded ingest, the way an app uses the library: `callers` concurrent callers, each appending
 * one event at a time and waiting until it is durable (the engine batches them: group commit).
 * The baseline inserts the same events, in the same order and in transactions of the same average
 * size the engine committed, into the plain indexed table at the same durability (fsync per commit).
 * The loaded store is what the query, proof, verify and storage benchmarks then read.
 */
export async function runIngestBench(options: {
  dir: string;
  events: number;
  tenants: number;
  callers: number;
  /** `full` (default): every commit fsync'd, on both sides; `normal` survives a process crash only. */
  durability?: "full" | "normal";
  /**
   * For the 10M-event query runs: build the query index and the plain table's indexes after
   * loading (SQLite sorts once) instead of row by row, so loading takes minutes, not hours.
   * Such a run's ingest figures measure that bulk load, not ingest.
   */
  deferIndexes?: boolean;
  log: (line: string) => void;
}): Promise<LoadedData> {
  const { dir, events, log } = options;
  const storePath = join(dir, "sealtrail.db");
  const plainPath = join(dir, "plain.db");
  const deferred = options.deferIndexes ? await deferSecondaryIndexes(storePath) : undefined;
  const durability = options.durability ?? "full";
  const sqlite = createSqliteStore({ path: storePath, durability });
  const counted = countingStore(sqlite);
  const signerKey = await generateSignerKey(ORIGIN_PREFIX);
  // Kept beside the databases (mode 0600, like the server's), so `--reuse DIR --only proof` can
  // verify the checkpoints this run signs without loading the log again.
  writeFileSync(signerKeyPath(dir), signerKey, { mode: 0o600 });
  const signer = await parseSignerKey(signerKey);
  const engine = await LogEngine.open({ store: counted.store, signer, originPrefix: ORIGIN_PREFIX });

  const data = dataset({ total: events, tenants: options.tenants });
  const samples: Generated[] = [];
  let issued = 0;
  const started = performance.now();
  let nextReport = events / 10;
  const caller = async () => {
    while (issued < events) {
      const row = data.next();
      const i = issued++;
      if (isSample(i, samples.length)) samples.push(row);
      await engine.append(row.tenant, [row.event]);
      if (issued >= nextReport) {
        nextReport += events / 10;
        log(`  ingested ${issued} events`);
      }
    }
  };
  await Promise.all(Array.from({ length: options.callers }, caller));
  const acknowledgedAt = performance.now();
  // Counted until every acknowledged event is indexed too: the index thread must keep up, not trail.
  await sqlite.flushIndex();
  const engineSeconds = (performance.now() - started) / 1000;
  log(`  the query index had every event ${((performance.now() - acknowledgedAt) / 1000).toFixed(2)} s after the last acknowledgement`);
  await engine.close();
  deferred?.restore();
  const averageBatch = Math.max(1, Math.round(counted.entries / counted.commits));

  // The baseline: the same event stream (same seed), in commits of the same average size.
  const plain = openPlainTable(plainPath, { durability, deferIndexes: options.deferIndexes ?? false });
  const replay = dataset({ total: events, tenants: options.tenants });
  const plainStarted = performance.now();
  for (let done = 0; done < events; done += averageBatch) {
    const batch = Array.from({ length: Math.min(averageBatch, events - done) }, () => replay.next());
    plain.insertBatch(batch);
  }
  const plainSeconds = (performance.now() - plainStarted) / 1000;
  plain.finishLoad();
  plain.db.pragma("wal_checkpoint(TRUNCATE)");
  plain.db.exec("ANALYZE");
  plain.close();

  const figures = {
    ingest_embedded_eps: Math.round(events / engineSeconds),
    ingest_embedded_baseline_eps: Math.round(events / plainSeconds),
    ingest_embedded_ratio: round2(plainSeconds / engineSeconds),
    ingest_embedded_commits: counted.commits,
    ingest_embedded_avg_batch: averageBatch,
    bytes_per_event: Math.round((diskBytes(storePath) + diskBytes(indexPathOf(storePath))) / events),
    baseline_bytes_per_event: Math.round(diskBytes(plainPath) / events),
  };
  if (deferred) log("  (bulk load: both sides built their indexes after loading; these are load rates, not ingest)");
  log(
    `  embedded ingest: sealtrail ${figures.ingest_embedded_eps} events/s (${options.callers} callers, ${counted.commits} commits, ~${averageBatch} events each), ` +
      `plain indexed table ${figures.ingest_embedded_baseline_eps} events/s (same batches, synchronous=${durability.toUpperCase()}): ${figures.ingest_embedded_ratio}x`,
  );
  log(
    `  storage: sealtrail ${figures.bytes_per_event} B/event (leaf, tiles, checkpoints, and the query index database), plain table ${figures.baseline_bytes_per_event} B/event: ` +
      `${round2(figures.bytes_per_event / figures.baseline_bytes_per_event)}x`,
  );
  return { dir, storePath, plainPath, events, tenants: data.tenants, samples, signerKey, originPrefix: ORIGIN_PREFIX, figures };
}

const QUERY_TABLES = ["events", "event_targets", "event_metadata", "events_fts"];

/**
 * For loading 10M events in minutes rather than hours: the query tables are swapped for plain
 * heaps with the same columns (appends only; `events` keeps its primary key), and `restore()` builds the real tables from them
 * with the migrations' own DDL, captured from sqlite_master: rows inserted in key order, then
 * every index and trigger created, the FTS table filled in one transaction. The result holds
 * exactly the rows the engine wrote, in the schema the store creates, only densely packed.
 */
async function deferSecondaryIndexes(storePath: string): Promise<{ restore(): void }> {
  // The index database is created by the store's index thread: let it finish before reading it.
  const created = createSqliteStore({ path: storePath });
  await created.flushIndex();
  await created.close();
  const path = indexPathOf(storePath);
  const db = new Database(path);
  const ddl = db
    .prepare<[], { type: string; name: string; tbl_name: string; sql: string }>(
      `SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL AND tbl_name IN (${QUERY_TABLES.map((t) => `'${t}'`).join(", ")})`,
    )
    .all();
  const columns = (table: string) =>
    db
      .prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${table}')`)
      .all()
      .map((c) => c.name);
  const heaps = new Map(QUERY_TABLES.map((table) => [table, table === "events_fts" ? ["log", "text"] : columns(table)]));
  for (const table of QUERY_TABLES) db.exec(`DROP TABLE ${table}`);
  for (const [table, cols] of heaps) {
    // `events` keeps its primary key (the real DDL): the store's statements name its index, and its
    // key (log, commit order) takes appends. The side tables and FTS are heaps.
    const real = table === "events" ? ddl.find((d) => d.type === "table" && d.name === table) : undefined;
    const rowid = table === "events_fts" ? "rowid INTEGER PRIMARY KEY, " : "";
    db.exec(real ? real.sql : `CREATE TABLE ${table} (${rowid}${cols.join(", ")})`);
  }
  db.close();
  return {
    restore() {
      const again = new Database(path);
      again.pragma("journal_mode = WAL");
      again.pragma("synchronous = NORMAL");
      again.pragma("cache_size = -1000000");
      {
        for (const table of QUERY_TABLES) again.exec(`ALTER TABLE ${table} RENAME TO staged_${table}`);
        for (const { sql } of ddl.filter((d) => d.type === "table")) again.exec(sql);
        const keyOrder: Record<string, string> = {
          events: "log_id, seq",
          event_targets: "log_id, id, type, seq",
          event_metadata: "log_id, key, seq",
          events_fts: "rowid",
        };
        for (const [table, cols] of heaps) {
          const list = (table === "events_fts" ? ["rowid", ...cols] : cols).join(", ");
          again.exec(`INSERT INTO ${table} (${list}) SELECT ${list} FROM staged_${table} ORDER BY ${keyOrder[table]}`);
          again.exec(`DROP TABLE staged_${table}`);
        }
        for (const { sql } of ddl.filter((d) => d.type !== "table")) again.exec(sql);
      }
      // No ANALYZE: the store never runs it, so the planner sees what it sees in production.
      again.close();
    },
  };
}

/** Every 500th event of the stream, at most 5,000: the query parameters (same seed, same samples). */
const isSample = (i: number, taken: number): boolean => i % 500 === 0 && taken < 5000;

/**
 * The loaded data of an earlier run kept in `dir` (`--reuse`): its samples are regenerated from the
 * seeded stream, so the queries ask exactly what that run asked.
 */
export function reuseLoadedData(dir: string, events: number, tenants: number): LoadedData {
  const data = dataset({ total: events, tenants });
  const samples: Generated[] = [];
  for (let i = 0; i < events && samples.length < 5000; i++) {
    const row = data.next();
    if (isSample(i, samples.length)) samples.push(row);
  }
  return {
    dir,
    storePath: join(dir, "sealtrail.db"),
    plainPath: join(dir, "plain.db"),
    events,
    tenants: data.tenants,
    samples,
    signerKey: existsSync(signerKeyPath(dir)) ? readFileSync(signerKeyPath(dir), "utf8") : "",
    originPrefix: ORIGIN_PREFIX,
    figures: {},
  };
}

const signerKeyPath = (dir: string): string => join(dir, "bench-signer-key");

/** Counts commits and entries on their way to the store, to batch the baseline the same way. */
function countingStore<S extends LogStore>(store: S): { store: S; readonly commits: number; readonly entries: number } {
  const counts = { commits: 0, entries: 0 };
  // Stores are frozen objects of functions: a copy with append wrapped.
  const wrapped: S = {
    ...store,
    append(batches: readonly LogAppend[]) {
      counts.commits++;
      for (const batch of batches) counts.entries += batch.entries.length;
      return store.append(batches);
    },
  };
  return {
    store: wrapped,
    get commits() {
      return counts.commits;
    },
    get entries() {
      return counts.entries;
    },
  };
}

export const round2 = (x: number): number => Math.round(x * 100) / 100;

/**
 * Opens a kept store for writing once when a read-only open refuses it as `schema_outdated` (its log
 * or index database is behind this version's migrations); undefined when it is current.
 */
export async function migrateKeptStore(storePath: string): Promise<{ seconds: number } | undefined> {
  try {
    await createSqliteStore({ path: storePath, readonly: true }).close();
    return undefined;
  } catch (error) {
    if ((error as { code?: string }).code !== "schema_outdated") throw error;
  }
  const started = performance.now();
  const store = createSqliteStore({ path: storePath });
  await store.flushIndex();
  await store.close();
  return { seconds: (performance.now() - started) / 1000 };
}
