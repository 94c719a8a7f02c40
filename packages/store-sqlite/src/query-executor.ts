import { type GroupBy, InputError, type QueryFilter } from "@sealtrail/core";
import type { EventQuery, GroupCount, QueriedEntry } from "@sealtrail/engine";
import type Database from "better-sqlite3";
import {
  type CompiledFilter,
  compileFilter,
  countStatement,
  type Driver,
  filtersOf,
  groupKey,
  groupStatement,
  type PageBounds,
  PROBE_CAP,
  pageStatement,
  probeStatement,
  type Sql,
  windowStatement,
} from "./query-plan.js";

interface LogRef {
  readonly id: number;
  readonly name: string;
}

/** What a query would run in one log: for tests (EXPLAIN QUERY PLAN) and diagnostics. */
export interface LogPlan {
  readonly log: string;
  readonly driver: string;
  readonly statements: readonly Sql[];
}

/** QueryableStore, synchronously (the store wraps each call into its promise and error handling). */
export interface QueryExecutor {
  queryEvents(query: EventQuery): QueriedEntry[];
  countEvents(query: Pick<EventQuery, "logs" | "filter">): number;
  groupEvents(query: Pick<EventQuery, "logs" | "filter"> & { groupBy: GroupBy; limit: number }): GroupCount[];
  /** The driver and statements of each log's first page (no statement runs but the probes). */
  planPage(query: EventQuery): LogPlan[];
  planCount(query: Pick<EventQuery, "logs" | "filter">): LogPlan[];
  planGroup(query: Pick<EventQuery, "logs" | "filter"> & { groupBy: GroupBy }): LogPlan[];
}

const STATEMENT_CACHE = 256;
const ROWS_PER_LOG = 1_099_511_627_776; // 2^40: entries.rowid = log_id · 2^40 + index (sqlite-store.ts)

interface FetchedRow {
  idx: number;
  event_id: string;
  leaf: Buffer;
}

export interface QueryExecutorOptions {
  /** Rule 3 and 5's cap (default PROBE_CAP); tests lower it to exercise the rules on little data. */
  readonly probeCap?: number;
}

/** Reads one result: the entry of an index row, a primary key lookup on each side. */
export const FETCH_SQL = `SELECT ev.idx AS idx, e.event_id AS event_id, e.leaf AS leaf FROM events AS ev
  CROSS JOIN entries AS e ON e.rowid = ev.log_id * ${ROWS_PER_LOG} + ev.idx WHERE ev.log_id = ? AND ev.seq = ?`;

/** The engine validates pages; a store still refuses a limit or cursor that is not an integer. */
function checkPage(query: EventQuery): void {
  const bad = (parameter: string, detail: string) =>
    new InputError("invalid_parameter", `${parameter} ${detail}`, { problems: [{ parameter, detail }] });
  if (!Number.isSafeInteger(query.limit) || query.limit < 1) throw bad("limit", "must be a positive integer");
  if (query.after !== undefined && !Number.isSafeInteger(query.after)) throw bad("after", "must be a seq (an integer)");
}

/** Query execution over the index: per-log planning (query-plan.ts, rules 1-6), merging, fetching. */
export function createQueryExecutor(db: Database.Database, options: QueryExecutorOptions = {}): QueryExecutor {
  const cap = options.probeCap ?? PROBE_CAP;
  // Statements differ by filter shape only (values are parameters), so a small cache serves them all.
  const cache = new Map<string, Database.Statement>();
  const prepare = (text: string): Database.Statement => {
    let stmt = cache.get(text);
    if (stmt) {
      cache.delete(text);
    } else {
      stmt = db.prepare(text);
      if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value as string);
    }
    cache.set(text, stmt);
    return stmt;
  };
  const run = <T>(q: Sql): T[] => prepare(q.text).all(...q.params) as T[];
  const one = (q: Sql): number => (prepare(q.text).get(...q.params) as { n: number }).n;

  const stmt = {
    allLogs: db.prepare<[], LogRef>("SELECT id, name FROM logs ORDER BY id"),
    logByName: db.prepare<[string], LogRef>("SELECT id, name FROM logs WHERE name = ?"),
    fetch: db.prepare<[number, number], FetchedRow>(FETCH_SQL),
  };

  const resolve = (names: readonly string[] | undefined): LogRef[] => {
    if (names === undefined) return stmt.allLogs.all();
    const refs: LogRef[] = [];
    for (const name of new Set(names)) {
      const ref = stmt.logByName.get(name);
      if (ref) refs.push(ref);
    }
    return refs;
  };

  /** Rules 2-4: the candidate with the smallest capped probe, ties to the lower rank. */
  const choose = (compiled: CompiledFilter): { driver: Driver; size?: number } => {
    const { drivers } = compiled;
    if (drivers.length === 0) return { driver: compiled.fallback };
    if (drivers.length === 1) return { driver: drivers[0] as Driver };
    let best: { driver: Driver; size: number } | undefined;
    for (const driver of drivers) {
      let size = 0;
      for (const stream of driver.streams) {
        if (size >= cap) break;
        size += one(probeStatement(stream, cap - size));
      }
      if (!best || size < best.size || (size === best.size && driver.rank < best.driver.rank)) best = { driver, size };
    }
    return best as { driver: Driver; size: number };
  };

  /** Rule 5: a large unsorted range gives way to the log's rows in seq order when a page is near. */
  const choosePage = (compiled: CompiledFilter, logId: number, bounds: PageBounds): Driver => {
    const chosen = choose(compiled);
    if (chosen.driver.streams.every((s) => s.ordered)) return chosen.driver;
    let size = chosen.size;
    if (size === undefined) {
      size = 0;
      for (const stream of chosen.driver.streams) size += one(probeStatement(stream, cap));
    }
    if (size < cap) return chosen.driver;
    return one(windowStatement(compiled, logId, bounds, cap)) >= bounds.limit ? compiled.fallback : chosen.driver;
  };

  const pageStatements = (compiled: CompiledFilter, driver: Driver, logId: number, bounds: PageBounds): Sql[] => {
    const filters = filtersOf(compiled, driver);
    return driver.streams.map((stream) => pageStatement(stream, filters, logId, bounds));
  };

  const seqs = (query: EventQuery): { seq: number; log: LogRef }[] => {
    checkPage(query);
    const logs = resolve(query.logs);
    if (logs.length === 0) return [];
    const desc = query.order !== "asc";
    const before = (a: number, b: number): boolean => (desc ? a > b : a < b);
    let page: { seq: number; log: LogRef }[] = [];
    const seen = new Set<number>();
    for (const log of logs) {
      const compiled = compileFilter(query.filter, log.id);
      if (!compiled.satisfiable) return [];
      // Rule 6: once the page is full, only rows before its last one can still enter it.
      const boundsNow = (): PageBounds => {
        const last = page.length >= query.limit ? page[page.length - 1]?.seq : undefined;
        return {
          order: query.order,
          limit: query.limit,
          ...(query.after === undefined ? {} : { after: query.after }),
          ...(last === undefined ? {} : { before: last }),
        };
      };
      const driver = choosePage(compiled, log.id, boundsNow());
      const filters = filtersOf(compiled, driver);
      for (const stream of driver.streams) {
        const rows = run<{ seq: number }>(pageStatement(stream, filters, log.id, boundsNow()));
        if (rows.length === 0) continue;
        for (const { seq } of rows) {
          if (seen.has(seq)) continue;
          seen.add(seq);
          page.push({ seq, log });
        }
        page.sort((a, b) => (before(a.seq, b.seq) ? -1 : before(b.seq, a.seq) ? 1 : 0));
        if (page.length > query.limit) page = page.slice(0, query.limit);
      }
    }
    return page;
  };

  const queryEvents = (query: EventQuery): QueriedEntry[] => {
    const out: QueriedEntry[] = [];
    for (const { seq, log } of seqs(query)) {
      const row = stmt.fetch.get(log.id, seq);
      // An index row whose entry retention pruned (or never had) is not a result.
      if (!row) continue;
      out.push({
        log: log.name,
        seq,
        index: row.idx,
        id: row.event_id,
        leaf: new Uint8Array(row.leaf.buffer, row.leaf.byteOffset, row.leaf.byteLength),
      });
    }
    return out;
  };

  const countEvents = (query: Pick<EventQuery, "logs" | "filter">): number => {
    let total = 0;
    for (const log of resolve(query.logs)) {
      const compiled = compileFilter(query.filter, log.id);
      if (!compiled.satisfiable) return 0;
      total += one(countStatement(compiled, choose(compiled).driver, log.id));
    }
    return total;
  };

  const groupEvents = (query: Pick<EventQuery, "logs" | "filter"> & { groupBy: GroupBy; limit: number }): GroupCount[] => {
    const counts = new Map<string, number>();
    for (const log of resolve(query.logs)) {
      const compiled = compileFilter(query.filter, log.id);
      if (!compiled.satisfiable) return [];
      for (const { k, n } of run<{ k: string | number; n: number }>(
        groupStatement(compiled, choose(compiled).driver, log.id, query.groupBy),
      )) {
        const key = groupKey(query.groupBy, k);
        counts.set(key, (counts.get(key) ?? 0) + n);
      }
    }
    const groups = [...counts].map(([key, count]) => ({ key, count }));
    const byKey = (a: GroupCount, b: GroupCount): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    if (query.groupBy === "hour" || query.groupBy === "day") {
      // Time buckets: the newest `limit`, oldest first (a dashboard's recent window).
      return groups.sort(byKey).slice(Math.max(0, groups.length - Math.max(0, query.limit)));
    }
    return groups.sort((a, b) => b.count - a.count || byKey(a, b)).slice(0, Math.max(0, query.limit));
  };

  const plans = (
    logs: readonly string[] | undefined,
    filter: QueryFilter,
    make: (compiled: CompiledFilter, log: LogRef) => { driver: Driver; statements: Sql[] },
  ): LogPlan[] =>
    resolve(logs).map((log) => {
      const compiled = compileFilter(filter, log.id);
      const { driver, statements } = make(compiled, log);
      return { log: log.name, driver: driver.name, statements };
    });

  return {
    queryEvents,
    countEvents,
    groupEvents,
    planPage: (query) =>
      plans(query.logs, query.filter, (compiled, log) => {
        const bounds: PageBounds = { order: query.order, limit: query.limit, ...(query.after === undefined ? {} : { after: query.after }) };
        const driver = choosePage(compiled, log.id, bounds);
        return { driver, statements: pageStatements(compiled, driver, log.id, bounds) };
      }),
    planCount: (query) =>
      plans(query.logs, query.filter, (compiled, log) => {
        const { driver } = choose(compiled);
        return { driver, statements: [countStatement(compiled, driver, log.id)] };
      }),
    planGroup: (query) =>
      plans(query.logs, query.filter, (compiled, log) => {
        const { driver } = choose(compiled);
        return { driver, statements: [groupStatement(compiled, driver, log.id, query.groupBy)] };
      }),
  };
}
