import { type GroupBy, InputError, type QueryFilter } from "@sealtrail/core";
import type { EventQuery, GroupCount, QueriedEntry } from "@sealtrail/engine";
import type Database from "better-sqlite3";
import {
  type CompiledFilter,
  compileFilter,
  compileGlobal,
  countStatement,
  type Driver,
  filtersOf,
  groupKey,
  groupStatement,
  MAX_STREAMS,
  type PageBounds,
  PROBE_CAP,
  pageStatement,
  probeStatement,
  type Sql,
  type Stream,
  targetStream,
  targetTypesStatement,
  windowStatement,
} from "./query-plan.js";

interface LogRef {
  readonly id: number;
  readonly name: string;
}

/** What a query would run in one log (or `*` for the cross-log plan): for tests and diagnostics. */
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

export interface QueryExecutorOptions {
  /** The probe cap of rules 3-5 (default PROBE_CAP); tests lower it to exercise the rules on little data. */
  readonly probeCap?: number;
}

const STATEMENT_CACHE = 256;
const ROWS_PER_LOG = 2n ** 40n; // entries.rowid = log_id · 2^40 + index (sqlite-store.ts)
/** Rule 8's second, deeper probe of a time range, in multiples of the cap (its index is narrow). */
const DEEP_PROBE = 10;

/**
 * Reads a page's results in two statements, whatever their number: their index rows (index
 * database), then their entries (log database), each a primary key lookup per result. One
 * statement per result cost twice as much CPU (better-sqlite3's per-call work on 100 calls for a
 * page of 50). The lists come as JSON arrays (SQLite has no array parameter), walked first
 * (CROSS JOIN fixes the order). INDEXED BY names the primary key (a WITHOUT ROWID table's own
 * B-tree): with statistics SQLite would take the unique seq index, then the primary key, two
 * searches for one, and with a list it does so even under NOT INDEXED.
 */
export const FETCH_SQL =
  "SELECT e.seq, e.idx FROM json_each(?) AS j CROSS JOIN events AS e INDEXED BY sqlite_autoindex_events_1 ON e.log_id = ? AND e.seq = j.value";
export const LEAF_SQL = `SELECT j.value AS idx, e.event_id, e.leaf FROM json_each(?) AS j CROSS JOIN entries AS e
  ON e.rowid = ? * ${ROWS_PER_LOG} + j.value`;

interface FetchedLeaf {
  idx: number;
  event_id: string;
  leaf: Buffer;
}

/** The engine validates pages; a store still refuses a limit or cursor that is not an integer. */
function checkPage(query: EventQuery): void {
  const bad = (parameter: string, detail: string) =>
    new InputError("invalid_parameter", `${parameter} ${detail}`, { problems: [{ parameter, detail }] });
  if (!Number.isSafeInteger(query.limit) || query.limit < 1) throw bad("limit", "must be a positive integer");
  if (query.after !== undefined && !Number.isSafeInteger(query.after)) throw bad("after", "must be a seq (an integer)");
}

const TIME_DRIVERS = new Set(["occurredAt", "receivedAt"]);

/**
 * Query execution over the index: planning per log (query-plan.ts, rules 1-8), merging the
 * streams of all logs by seq, then reading each result's entry. `db` is the index database
 * (index-db.ts), `logDb` the log database holding the leaves.
 */
export function createQueryExecutor(db: Database.Database, logDb: Database.Database, options: QueryExecutorOptions = {}): QueryExecutor {
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
    logById: db.prepare<[number], LogRef>("SELECT id, name FROM logs WHERE id = ?"),
    fetch: db.prepare<[string, number], { seq: number; idx: number }>(FETCH_SQL),
    leaves: logDb.prepare<[string, number], FetchedLeaf>(LEAF_SQL),
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

  /** Entries in a driver's index ranges, counted up to `limit` (rule 3). */
  const sizeOf = (driver: Driver, limit: number): number => {
    let size = 0;
    for (const stream of driver.streams) {
      if (size >= limit) break;
      size += one(probeStatement(stream, limit - size));
    }
    return size;
  };

  const better = (a: { driver: Driver; size: number }, b: { driver: Driver; size: number }): boolean =>
    a.size < b.size || (a.size === b.size && a.driver.rank < b.driver.rank);

  /** Rules 2-4 (and 8 for counts): the candidate with the smallest probe, ties to the lower rank. */
  const choose = (compiled: CompiledFilter, deep: boolean): { driver: Driver; size?: number } => {
    const { drivers } = compiled;
    if (drivers.length === 0) return { driver: compiled.fallback };
    if (drivers.length === 1) return { driver: drivers[0] as Driver };
    const probe = (limit: number) =>
      drivers.map((driver) => ({ driver, size: sizeOf(driver, limit) })).reduce((best, next) => (better(next, best) ? next : best));
    const best = probe(cap);
    // Rule 8, counts: when every candidate is large, a deeper probe tells them apart.
    return deep && best.size >= cap ? probe(cap * DEEP_PROBE) : best;
  };

  /** A target id without type becomes one seq-ordered stream per type it has in the log (few). */
  const expand = (driver: Driver): Driver => {
    if (!driver.streams.some((s) => s.byType)) return driver;
    const streams = driver.streams.flatMap((stream): Stream[] => {
      if (!stream.byType) return [stream];
      const { logId, id } = stream.byType;
      const types = run<{ type: string }>(targetTypesStatement(logId, id, MAX_STREAMS + 1)).map((r) => r.type);
      if (types.length > MAX_STREAMS) return [stream];
      return types.map((type) => targetStream(logId, { type, id }) as Stream);
    });
    return { ...driver, streams };
  };

  /** The driver of one log's page: rules 2-4, then 8 (an old time window) and 5 (a large unsorted range). */
  const choosePage = (compiled: CompiledFilter, logId: number, bounds: PageBounds): Driver => {
    const chosen = choose(compiled, false);
    let driver = chosen.driver;
    const large = (chosen.size ?? cap) >= cap;
    const ordered = driver.streams.every((s) => s.ordered);
    const others = (d: Driver) => filtersOf(compiled, d);
    // Rule 8: a large ordered driver with a time range beside it. If its first rows hold no page,
    // the window lies deeper in it; a time range of moderate size is then the cheaper way in.
    const time = compiled.drivers.find((d) => TIME_DRIVERS.has(d.name));
    if (time && time !== driver && large && ordered && driver.streams.length === 1 && chosen.size !== undefined) {
      const head = driver.streams[0] as Stream;
      if (
        sizeOf(time, cap * DEEP_PROBE) < cap * DEEP_PROBE &&
        one(windowStatement(head, others(driver), logId, bounds, cap)) < bounds.limit
      ) {
        driver = time;
      }
    }
    // Rule 5: a large unsorted range gives way to the log's rows in seq order when they hold a page near.
    if (!driver.streams.every((s) => s.ordered || s.byType)) {
      const size = driver === chosen.driver && chosen.size !== undefined ? chosen.size : sizeOf(driver, cap);
      const fallback = compiled.fallback.streams[0] as Stream;
      if (size >= cap && one(windowStatement(fallback, compiled.terms, logId, bounds, cap)) >= bounds.limit) driver = compiled.fallback;
    }
    return expand(driver);
  };

  const boundsOf = (query: EventQuery, last?: number): PageBounds => ({
    order: query.order,
    limit: query.limit,
    ...(query.after === undefined ? {} : { after: query.after }),
    ...(last === undefined ? {} : { before: last }),
  });

  /** The seqs of one page with their logs (rules 6 and 7). */
  const seqs = (query: EventQuery): { seq: number; logId: number }[] => {
    checkPage(query);
    const desc = query.order !== "asc";
    if (query.logs === undefined) {
      // Rule 7: without a per-log index to use, one scan over every log beats one per log.
      const global = compileGlobal(query.filter);
      if (global) {
        if (!global.satisfiable) return [];
        const driver = global.drivers[0] ?? global.fallback;
        const rows = run<{ seq: number; log_id: number }>(
          pageStatement(driver.streams[0] as Stream, filtersOf(global, driver), boundsOf(query)),
        );
        return rows.map((r) => ({ seq: r.seq, logId: r.log_id }));
      }
    }
    const logs = resolve(query.logs);
    let page: { seq: number; logId: number }[] = [];
    const seen = new Set<number>();
    const before = (a: number, b: number): boolean => (desc ? a > b : a < b);
    for (const log of logs) {
      const compiled = compileFilter(query.filter, log.id);
      if (!compiled.satisfiable) return [];
      // Rule 6: once the page is full, only rows before its last one can still enter it.
      const bounds = (): PageBounds => boundsOf(query, page.length >= query.limit ? page[page.length - 1]?.seq : undefined);
      const driver = choosePage(compiled, log.id, bounds());
      const filters = filtersOf(compiled, driver);
      for (const stream of driver.streams) {
        const rows = run<{ seq: number }>(pageStatement(stream, filters, bounds()));
        if (rows.length === 0) continue;
        for (const { seq } of rows) {
          if (seen.has(seq)) continue;
          seen.add(seq);
          page.push({ seq, logId: log.id });
        }
        page.sort((a, b) => (before(a.seq, b.seq) ? -1 : before(b.seq, a.seq) ? 1 : 0));
        if (page.length > query.limit) page = page.slice(0, query.limit);
      }
    }
    return page;
  };

  const queryEvents = (query: EventQuery): QueriedEntry[] => {
    const names = new Map<number, string>();
    const nameOf = (id: number): string | undefined => {
      if (!names.has(id)) names.set(id, stmt.logById.get(id)?.name ?? "");
      return names.get(id) || undefined;
    };
    const page = seqs(query);
    const seqsByLog = new Map<number, number[]>();
    for (const { seq, logId } of page) {
      const list = seqsByLog.get(logId);
      if (list) list.push(seq);
      else seqsByLog.set(logId, [seq]);
    }
    // seq → its entry, for the page's results whose entry exists.
    const found = new Map<number, FetchedLeaf>();
    for (const [logId, list] of seqsByLog) {
      const rows = stmt.fetch.all(JSON.stringify(list), logId);
      const entries = new Map(stmt.leaves.all(JSON.stringify(rows.map((r) => r.idx)), logId).map((entry) => [entry.idx, entry] as const));
      for (const { seq, idx } of rows) {
        const entry = entries.get(idx);
        if (entry) found.set(seq, entry);
      }
    }
    const out: QueriedEntry[] = [];
    for (const { seq, logId } of page) {
      const entry = found.get(seq);
      const log = nameOf(logId);
      // An index row whose entry retention pruned (or never had) is not a result.
      if (!entry || log === undefined) continue;
      const { leaf } = entry;
      out.push({
        log,
        seq,
        index: entry.idx,
        id: entry.event_id,
        leaf: new Uint8Array(leaf.buffer, leaf.byteOffset, leaf.byteLength),
      });
    }
    return out;
  };

  /** Each log's (or the cross-log) statement of a count or group, with the driver it uses. */
  const perLog = <T>(
    logs: readonly string[] | undefined,
    filter: QueryFilter,
    make: (compiled: CompiledFilter, driver: Driver) => T,
  ): { log: string; driver: Driver; value: T }[] | undefined => {
    if (logs === undefined) {
      const global = compileGlobal(filter);
      if (global) {
        if (!global.satisfiable) return undefined;
        const driver = global.drivers[0] ?? global.fallback;
        return [{ log: "*", driver, value: make(global, driver) }];
      }
    }
    const out: { log: string; driver: Driver; value: T }[] = [];
    for (const log of resolve(logs)) {
      const compiled = compileFilter(filter, log.id);
      if (!compiled.satisfiable) return undefined;
      const driver = expand(choose(compiled, true).driver);
      out.push({ log: log.name, driver, value: make(compiled, driver) });
    }
    return out;
  };

  const countEvents = (query: Pick<EventQuery, "logs" | "filter">): number =>
    (perLog(query.logs, query.filter, (compiled, driver) => one(countStatement(compiled, driver))) ?? []).reduce((n, x) => n + x.value, 0);

  const groupEvents = (query: Pick<EventQuery, "logs" | "filter"> & { groupBy: GroupBy; limit: number }): GroupCount[] => {
    const counts = new Map<string, number>();
    const parts = perLog(query.logs, query.filter, (compiled, driver) =>
      run<{ k: string | number; n: number }>(groupStatement(compiled, driver, query.groupBy)),
    );
    for (const { value } of parts ?? []) {
      for (const { k, n } of value) {
        const key = groupKey(query.groupBy, k);
        counts.set(key, (counts.get(key) ?? 0) + n);
      }
    }
    const groups = [...counts].map(([key, count]) => ({ key, count }));
    const byKey = (a: GroupCount, b: GroupCount): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    const limit = Math.max(0, query.limit);
    if (query.groupBy === "hour" || query.groupBy === "day") {
      // Time buckets: the newest `limit`, oldest first (a dashboard's recent window).
      return groups.sort(byKey).slice(Math.max(0, groups.length - limit));
    }
    return groups.sort((a, b) => b.count - a.count || byKey(a, b)).slice(0, limit);
  };

  const planPage = (query: EventQuery): LogPlan[] => {
    if (query.logs === undefined) {
      const global = compileGlobal(query.filter);
      if (global) {
        const driver = global.drivers[0] ?? global.fallback;
        return [
          {
            log: "*",
            driver: driver.name,
            statements: [pageStatement(driver.streams[0] as Stream, filtersOf(global, driver), boundsOf(query))],
          },
        ];
      }
    }
    return resolve(query.logs).map((log) => {
      const compiled = compileFilter(query.filter, log.id);
      const driver = choosePage(compiled, log.id, boundsOf(query));
      const filters = filtersOf(compiled, driver);
      return { log: log.name, driver: driver.name, statements: driver.streams.map((s) => pageStatement(s, filters, boundsOf(query))) };
    });
  };

  const plans = (parts: { log: string; driver: Driver; value: Sql }[] | undefined): LogPlan[] =>
    (parts ?? []).map((p) => ({ log: p.log, driver: p.driver.name, statements: [p.value] }));

  return {
    queryEvents,
    countEvents,
    groupEvents,
    planPage,
    planCount: (query) => plans(perLog(query.logs, query.filter, (compiled, driver) => countStatement(compiled, driver))),
    planGroup: (query) => plans(perLog(query.logs, query.filter, (compiled, driver) => groupStatement(compiled, driver, query.groupBy))),
  };
}
