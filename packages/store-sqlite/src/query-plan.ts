import { type GroupBy, type MetadataMatch, type QueryExclusions, type QueryFilter, searchTokens, type TargetMatch } from "@sealtrail/core";
import { logToken } from "./query-index.js";

/**
 * Compiles a QueryFilter into parameterised SQL over the query index (schema.ts, migration 3).
 * Every value a caller supplies travels as a bound parameter; SQL text is built only from this
 * file's constants, and FTS5 expressions only from quoted word tokens (`ftsPhrase`).
 *
 * A filter for one log becomes a list of AND-ed *terms* (SQL over the event row `ev`, never NULL),
 * and a list of candidate *drivers*: index accesses that enumerate a superset of the matches of
 * one term, one *stream* per OR-ed value. A page runs the chosen driver's streams, each already in
 * seq order where the index allows it (`ORDER BY seq DESC LIMIT n` stops after n rows), with every
 * other term as a filter, and merges them. Filter terms name event columns as `+ev.col`: the unary
 * plus keeps SQLite from driving from another index than the one chosen here.
 *
 * Planning rules (query-executor.ts applies them per log):
 *  1. A filter that cannot match (an empty value list, an empty or unparseable time range) runs no SQL.
 *  2. Candidates: every positive term with an index (below); the log's own rows are the fallback.
 *  3. With several candidates, each is probed with a capped count of its index range (at most
 *     PROBE_CAP index entries, index-only): the smallest wins. Sizes are compared, not guessed, so
 *     a skewed value (actor `system` with half the log) loses to a rare one (one request id).
 *  4. Ties (every probe hit the cap) go to the static rank below, equality on identifiers first:
 *     requestId, sessionId, target with id, actor, metadata key=value, ip, text, action, metadata
 *     key, target type, action prefix, actor type, outcome, occurredAt range, receivedAt range.
 *  5. A driver whose streams are not in seq order (a time range, more than MAX_STREAMS values)
 *     sorts its whole range. When that range is large (probe at the cap), the log's rows in seq
 *     order are tried first: if the first PROBE_CAP of them hold a full page (a recent time
 *     window, the common case), they drive instead. A target id without type is split into one
 *     ordered stream per type the id has (found by skipping through the primary key).
 *  6. Several logs: the plan is made per log; streams of all logs merge by seq, and each run is
 *     bounded by the page's current last seq, so later logs stop early.
 *  7. Every log (`logs` undefined) without a per-log index in the filter (only text, only
 *     exclusions, nothing): one plan over all logs instead of one per log: the FTS index without
 *     the log token, or all events in seq order (`events_seq`), stopping after a page.
 *  8. A large ordered driver beside a time range (both probes at the cap): if its first PROBE_CAP
 *     rows hold no page, the window lies deep in it (an old day of a busy actor or target type),
 *     so a time range under 10 × PROBE_CAP entries drives instead. Counts, which read whole
 *     ranges anyway, re-probe every candidate at 10 × PROBE_CAP when all are at the cap.
 *  9. Actors with an occurredAt range of both bounds (at most MAX_STREAMS actor-days): one stream
 *     per actor and day of the window (`events_actor_day`), each in seq order, merged. It ranks
 *     just before actor, so a busy actor's old week reads at most a page per day instead of
 *     walking the actor's history back to it.
 * 10. An occurredAt range of both bounds over at most MAX_STREAMS days drives as one seq-ordered
 *     stream per day (`events_occurred_day`), merged: an old day's newest page is its first rows,
 *     not a sort of the whole day. A longer or open range is one unordered range of days (rule 5).
 *     Day streams check the exact bounds inside the index, which carries occurred_ms.
 *
 * Shapes and their indexes (all start with log_id; the WITHOUT ROWID primary key adds seq):
 *   log only → events PK (log_id, seq); actor → events_actor; actor type → events_actor_type;
 *   action → events_action; prefix `a.` → events_resource; outcome → events_outcome; ip, requestId,
 *   sessionId → partial indexes; target type+id, id → event_targets PK (log_id, id, type, seq);
 *   target type → event_targets_type; metadata key → event_metadata PK, key=value →
 *   event_metadata_value; text → events_fts (with the log token); occurredAt → events_occurred_day
 *   (rule 10; or covered: every secondary index above carries occurred_ms after seq); receivedAt →
 *   events_received; actor with an occurredAt window → events_actor_day (rule 9).
 */

export type Param = string | number | bigint | null;

export interface Sql {
  readonly text: string;
  readonly params: readonly Param[];
}

const sql = (text: string, params: readonly Param[] = []): Sql => ({ text, params });

function join(parts: readonly Sql[], glue: string, empty: string): Sql {
  if (parts.length === 0) return sql(empty);
  if (parts.length === 1) return parts[0] as Sql;
  return sql(
    parts.map((p) => `(${p.text})`).join(glue),
    parts.flatMap((p) => p.params),
  );
}

const and = (parts: readonly Sql[]): Sql => join(parts, " AND ", "1");
const or = (parts: readonly Sql[]): Sql => join(parts, " OR ", "0");
const marks = (n: number): string => Array.from({ length: n }, () => "?").join(", ");
const inList = (column: string, values: readonly string[]): Sql =>
  values.length === 1 ? sql(`${column} = ?`, values) : sql(`${column} IN (${marks(values.length)})`, values);

/** Most entries a probe counts; also the window of the seq-order fallback of rule 5. */
export const PROBE_CAP = 2000;
/** More OR-ed values than this run as one IN-list stream, sorted by SQLite, instead of one stream each. */
export const MAX_STREAMS = 16;

/** One index range that yields seqs of one log. */
export interface Stream {
  /** FROM clause of the driving table: `events AS ev`, `event_targets AS t`, `event_metadata AS m` or the FTS table. */
  readonly from: string;
  /** The driving table's seq. */
  readonly seq: string;
  /** The range: log and value constraints (index-usable, no unary plus). */
  readonly where: Sql;
  /** True when the driving table is `events` itself, so filter terms need no join. */
  readonly onEvents: boolean;
  /** True when the index yields rows in seq order for this range. */
  readonly ordered: boolean;
  /** False when one event can appear twice in the range (two targets of the type): then DISTINCT. */
  readonly unique: boolean;
  /** The driving side table's copy of occurred_ms, if it has one. */
  readonly occurred?: string;
  /** How a side table or the FTS index joins the event row (CROSS JOIN keeps the driver outside). */
  readonly join?: Sql;
  /** A stream over every log (cross-log search): results carry their log id. */
  readonly global?: boolean;
  /** A target id without type: the executor splits it into one seq-ordered stream per type. */
  readonly byType?: { readonly logId: number; readonly id: string };
}

export interface Driver {
  readonly name: string;
  /** Static rank, lower first (rule 4). */
  readonly rank: number;
  /** The term this driver evaluates exactly (then not repeated as a filter), if any. */
  readonly term?: Term;
  /** One per OR-ed value; their union is a superset of the term's matches in the log. */
  readonly streams: readonly Stream[];
}

export interface Term {
  readonly sql: Sql;
  /** An occurredAt range: side tables carry occurred_ms, so it is checked there without the event row. */
  readonly occurred?: { readonly from?: number; readonly to?: number };
}

export interface CompiledFilter {
  /** False when the filter cannot match anything (rule 1). */
  readonly satisfiable: boolean;
  readonly terms: readonly Term[];
  readonly drivers: readonly Driver[];
  /** The log's rows in seq order (always available). */
  readonly fallback: Driver;
  /** The FTS5 phrases of the text term (for the cross-log plan). */
  readonly phrases: readonly string[];
}

/** Distinct values, or undefined when the field is absent. */
const values = (list: readonly string[] | undefined): string[] | undefined => (list === undefined ? undefined : [...new Set(list)]);

/**
 * A user phrase as an FTS5 phrase string: its tokens as core's `searchTokens` finds them (the
 * reference semantics, which mirror our `unicode61 remove_diacritics 0` tokenizer) inside one
 * double-quoted string. Tokens hold only letters, digits and combining marks, so nothing the user
 * typed survives as FTS syntax: quotes, `*`, `NEAR`, `OR`, `-`, `^`, column filters (`text:`) are
 * separators or plain words here. Undefined when the phrase has no token (it constrains nothing).
 */
export function ftsPhrase(phrase: string): string | undefined {
  const tokens = searchTokens(phrase);
  return tokens.length === 0 ? undefined : `"${tokens.join(" ").replaceAll('"', '""')}"`;
}

/** Epoch milliseconds of a bound; NaN when unparseable, which matches nothing (as core's matchesFilter). */
const timeBound = (text: string | undefined): number | undefined => (text === undefined ? undefined : Date.parse(text));

/** `document.` → `document.`; `document.share.` → `document.`; `doc` → undefined (no segment). */
const prefixResource = (prefix: string): string | undefined => {
  const dot = prefix.indexOf(".");
  return dot < 0 ? undefined : prefix.slice(0, dot + 1);
};

function actionPrefixTerm(prefix: string): Sql {
  const resource = prefixResource(prefix);
  // substr counts characters (code points), so the length passes as [...prefix].length.
  const starts = sql("substr(+ev.action, 1, ?) = ?", [[...prefix].length, prefix]);
  if (resource === undefined) return starts;
  if (resource === prefix) return sql("+ev.resource = ?", [resource]);
  return and([sql("+ev.resource = ?", [resource]), starts]);
}

function targetTerm(match: TargetMatch): Sql {
  const { type, id } = match;
  if (type !== undefined && id !== undefined) {
    return sql("EXISTS (SELECT 1 FROM event_targets AS t WHERE t.log_id = ev.log_id AND t.id = ? AND t.type = ? AND t.seq = ev.seq)", [
      id,
      type,
    ]);
  }
  if (id !== undefined) {
    return sql("EXISTS (SELECT 1 FROM event_targets AS t WHERE t.log_id = ev.log_id AND t.id = ? AND t.seq = ev.seq)", [id]);
  }
  if (type !== undefined) {
    return sql(
      "EXISTS (SELECT 1 FROM event_targets AS t INDEXED BY event_targets_type WHERE t.log_id = ev.log_id AND t.type = ? AND t.seq = ev.seq)",
      [type],
    );
  }
  return sql("+ev.targets > 0");
}

function metadataTerm(match: MetadataMatch): Sql {
  return match.value === undefined
    ? sql("EXISTS (SELECT 1 FROM event_metadata AS m WHERE m.log_id = ev.log_id AND m.key = ? AND m.seq = ev.seq)", [match.key])
    : sql("EXISTS (SELECT 1 FROM event_metadata AS m WHERE m.log_id = ev.log_id AND m.key = ? AND m.seq = ev.seq AND m.value = ?)", [
        match.key,
        match.value,
      ]);
}

/** An FTS5 query for the text column: every phrase (AND). */
const textQuery = (phrases: readonly string[]): string => phrases.map((p) => `text : ${p}`).join(" AND ");

function textTerm(phrases: readonly string[]): Sql {
  return sql("EXISTS (SELECT 1 FROM events_fts WHERE events_fts MATCH ? AND rowid = ev.seq)", [textQuery(phrases)]);
}

/** Equality fields on an event column, with their index and rank. */
const COLUMNS = [
  { field: "requestId", column: "request_id", index: "events_request", rank: 1 },
  { field: "sessionId", column: "session_id", index: "events_session", rank: 2 },
  { field: "actor", column: "actor_id", index: "events_actor", rank: 4 },
  { field: "ip", column: "ip", index: "events_ip", rank: 6 },
  { field: "action", column: "action", index: "events_action", rank: 8 },
  { field: "actorType", column: "actor_type", index: "events_actor_type", rank: 12 },
  { field: "outcome", column: "outcome", index: "events_outcome", rank: 13 },
] as const;

const RANK = {
  targetId: 3,
  actorDays: 3.5,
  metadataValue: 5,
  text: 7,
  metadataKey: 9,
  targetType: 10,
  actionPrefix: 11,
  occurred: 14,
  received: 15,
};

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** The day key of `events_actor_day` and `events_occurred_day` (index-db.ts): SQLite's integer division, toward zero. */
const OCCURRED_DAY = `ev.occurred_ms / ${DAY_MS}`;
// `+ 0` turns -0 (a time just before 1970) into the 0 SQLite computes.
const dayKey = (ms: number): number => Math.trunc(ms / DAY_MS) + 0;

/** The exact occurredAt bounds, checked inside an index that carries occurred_ms. */
function occurredBounds(from: number | undefined, to: number | undefined): Sql[] {
  return [
    ...(from === undefined ? [] : [sql("ev.occurred_ms >= ?", [from])]),
    ...(to === undefined ? [] : [sql("ev.occurred_ms < ?", [to])]),
  ];
}

/**
 * Rules 9 and 10: one seq-ordered stream per day key of [from, to) over `index`, an index of
 * (`prefix` columns, occurred day, seq, occurred_ms); `prefix` is its equality on the leading columns.
 */
function dayStreams(index: string, prefix: Sql, from: number, to: number): Stream[] {
  const streams: Stream[] = [];
  for (let day = dayKey(from); day <= dayKey(to - 1); day++) {
    streams.push({
      from: `events AS ev INDEXED BY ${index}`,
      seq: "ev.seq",
      where: and([prefix, sql(`${OCCURRED_DAY} = ?`, [day]), ...occurredBounds(from, to)]),
      onEvents: true,
      ordered: true,
      unique: true,
    });
  }
  return streams;
}

/** How many day streams [from, to) takes (both bounds known, from < to). */
const daysIn = (from: number, to: number): number => dayKey(to - 1) - dayKey(from) + 1;

/** Rule 9: one stream per actor and day of the window, or undefined past MAX_STREAMS. */
function actorDayStreams(logId: number, actors: readonly string[], from: number, to: number): Stream[] | undefined {
  if (actors.length * daysIn(from, to) > MAX_STREAMS) return undefined;
  return actors.flatMap((actor) => dayStreams("events_actor_day", sql("ev.log_id = ? AND ev.actor_id = ?", [logId, actor]), from, to));
}

/**
 * Rule 10, an occurredAt range: one stream per day when both bounds are known and the days are
 * at most MAX_STREAMS, else the range of days, unordered (rule 5 then applies).
 */
function occurredDriver(logId: number, from: number | undefined, to: number | undefined): Driver {
  const log = sql("ev.log_id = ?", [logId]);
  if (from !== undefined && to !== undefined && from < to && daysIn(from, to) <= MAX_STREAMS) {
    return { name: "occurredAt", rank: RANK.occurred, streams: dayStreams("events_occurred_day", log, from, to) };
  }
  const where = [
    log,
    ...(from === undefined ? [] : [sql(`${OCCURRED_DAY} >= ?`, [dayKey(from)])]),
    ...(to === undefined ? [] : [sql(`${OCCURRED_DAY} <= ?`, [dayKey(to - 1)])]),
    ...occurredBounds(from, to),
  ];
  return {
    name: "occurredAt",
    rank: RANK.occurred,
    streams: [
      {
        from: "events AS ev INDEXED BY events_occurred_day",
        seq: "ev.seq",
        where: and(where),
        onEvents: true,
        ordered: false,
        unique: true,
      },
    ],
  };
}

/** The event row of a side-table or FTS row of one log: a primary key lookup. */
const joinEvent = (logId: number, seq: string): Sql => sql(`CROSS JOIN events AS ev ON ev.log_id = ? AND ev.seq = ${seq}`, [logId]);

function eventsStream(index: string, logId: number, column: string, value: Param): Stream {
  return {
    from: `events AS ev INDEXED BY ${index}`,
    seq: "ev.seq",
    where: sql(`ev.log_id = ? AND ev.${column} = ?`, [logId, value]),
    onEvents: true,
    ordered: true,
    unique: true,
  };
}

/** Streams for values of one event column: one each (seq-ordered), or one IN list when there are many. */
function columnStreams(index: string, logId: number, column: string, list: readonly string[]): Stream[] {
  if (list.length <= MAX_STREAMS) return list.map((v) => eventsStream(index, logId, column, v));
  return [
    {
      from: `events AS ev INDEXED BY ${index}`,
      seq: "ev.seq",
      where: and([sql("ev.log_id = ?", [logId]), inList(`ev.${column}`, list)]),
      onEvents: true,
      ordered: false,
      unique: true,
    },
  ];
}

export function targetStream(logId: number, match: TargetMatch): Stream | undefined {
  const { type, id } = match;
  if (id !== undefined) {
    return {
      from: "event_targets AS t",
      seq: "t.seq",
      occurred: "t.occurred_ms",
      join: joinEvent(logId, "t.seq"),
      where:
        type === undefined
          ? sql("t.log_id = ? AND t.id = ?", [logId, id])
          : sql("t.log_id = ? AND t.id = ? AND t.type = ?", [logId, id, type]),
      onEvents: false,
      // Without the type, one id's rows come ordered by (type, seq): split per type, or sorted.
      ordered: type !== undefined,
      unique: type !== undefined,
      ...(type === undefined ? { byType: { logId, id } } : {}),
    };
  }
  if (type === undefined) return undefined;
  return {
    from: "event_targets AS t INDEXED BY event_targets_type",
    seq: "t.seq",
    occurred: "t.occurred_ms",
    join: joinEvent(logId, "t.seq"),
    where: sql("t.log_id = ? AND t.type = ?", [logId, type]),
    onEvents: false,
    ordered: true,
    unique: false,
  };
}

/** The distinct target types of one id in a log, by skipping through the primary key (one seek per type). */
export function targetTypesStatement(logId: number, id: string, limit: number): Sql {
  return sql(
    `WITH RECURSIVE types(type) AS (
       SELECT min(type) FROM event_targets WHERE log_id = ? AND id = ?
       UNION ALL
       SELECT (SELECT min(type) FROM event_targets WHERE log_id = ? AND id = ? AND type > types.type) FROM types WHERE types.type IS NOT NULL
     ) SELECT type FROM types WHERE type IS NOT NULL LIMIT ?`,
    [logId, id, logId, id, limit],
  );
}

function metadataStream(logId: number, match: MetadataMatch): Stream {
  return match.value === undefined
    ? {
        from: "event_metadata AS m",
        seq: "m.seq",
        occurred: "m.occurred_ms",
        join: joinEvent(logId, "m.seq"),
        where: sql("m.log_id = ? AND m.key = ?", [logId, match.key]),
        onEvents: false,
        ordered: true,
        unique: true,
      }
    : {
        from: "event_metadata AS m INDEXED BY event_metadata_value",
        seq: "m.seq",
        occurred: "m.occurred_ms",
        join: joinEvent(logId, "m.seq"),
        where: sql("m.log_id = ? AND m.key = ? AND m.value = ?", [logId, match.key, match.value]),
        onEvents: false,
        ordered: true,
        unique: true,
      };
}

function rangeDriver(name: string, rank: number, index: string, column: string, logId: number, from?: number, to?: number): Driver {
  const where = [sql("ev.log_id = ?", [logId])];
  if (from !== undefined) where.push(sql(`ev.${column} >= ?`, [from]));
  if (to !== undefined) where.push(sql(`ev.${column} < ?`, [to]));
  return {
    name,
    rank,
    streams: [{ from: `events AS ev INDEXED BY ${index}`, seq: "ev.seq", where: and(where), onEvents: true, ordered: false, unique: true }],
  };
}

/**
 * The exclusion terms of `not`: an event matching any one of them is left out. For the AND-ed
 * lists of a filter (metadata, text) each item is its own exclusion (`-metadata:beta -"foo"`).
 */
function exclusionTerms(not: QueryExclusions): Sql[] {
  const terms: Sql[] = [];
  for (const { field, column } of COLUMNS) {
    const list = values(not[field]);
    if (list !== undefined && list.length > 0) terms.push(inList(`+ev.${column}`, list));
  }
  for (const prefix of values(not.actionPrefix) ?? []) terms.push(actionPrefixTerm(prefix));
  for (const match of not.target ?? []) terms.push(targetTerm(match));
  for (const match of not.metadata ?? []) terms.push(metadataTerm(match));
  for (const phrase of not.text ?? []) {
    const words = ftsPhrase(phrase);
    // A phrase without words appears in every event.
    terms.push(words === undefined ? sql("1") : textTerm([words]));
  }
  return terms;
}

/** Compiles a filter for one log (ids of logs are parameters too, so statements are shared across logs). */
export function compileFilter(filter: QueryFilter, logId: number): CompiledFilter {
  const terms: Term[] = [];
  const drivers: Driver[] = [];
  let satisfiable = true;
  const add = (text: Sql | Term, driver?: (term: Term) => Omit<Driver, "term"> & { exact: boolean }): void => {
    const term: Term = "sql" in text ? text : { sql: text };
    terms.push(term);
    if (!driver) return;
    const { exact, ...rest } = driver(term);
    drivers.push(exact ? { ...rest, term } : rest);
  };

  for (const { field, column, index, rank } of COLUMNS) {
    const list = values(filter[field]);
    if (list === undefined) continue;
    if (list.length === 0) satisfiable = false;
    else add(inList(`+ev.${column}`, list), () => ({ name: field, rank, streams: columnStreams(index, logId, column, list), exact: true }));
  }

  const prefixes = values(filter.actionPrefix);
  if (prefixes !== undefined) {
    if (prefixes.length === 0) satisfiable = false;
    const resources = prefixes.map(prefixResource);
    const indexable = resources.every((r) => r !== undefined);
    add(
      or(prefixes.map(actionPrefixTerm)),
      indexable
        ? () => ({
            name: "actionPrefix",
            rank: RANK.actionPrefix,
            streams: columnStreams("events_resource", logId, "resource", [...new Set(resources as string[])]),
            exact: prefixes.every((p, i) => p === resources[i]),
          })
        : undefined,
    );
  }

  if (filter.target !== undefined) {
    if (filter.target.length === 0) satisfiable = false;
    const streams = filter.target.map((m) => targetStream(logId, m));
    const indexable = streams.every((s) => s !== undefined);
    add(
      or(filter.target.map(targetTerm)),
      indexable && streams.length > 0
        ? () => ({
            name: "target",
            rank: filter.target?.every((m) => m.id !== undefined) ? RANK.targetId : RANK.targetType,
            streams: streams as Stream[],
            exact: true,
          })
        : undefined,
    );
  }

  for (const match of filter.metadata ?? []) {
    add(metadataTerm(match), () => ({
      name: match.value === undefined ? "metadataKey" : "metadataValue",
      rank: match.value === undefined ? RANK.metadataKey : RANK.metadataValue,
      streams: [metadataStream(logId, match)],
      exact: true,
    }));
  }

  const phrases = (filter.text ?? []).map((p) => ftsPhrase(p)).filter((p): p is string => p !== undefined);
  if (phrases.length > 0) {
    add(textTerm(phrases), () => ({
      name: "text",
      rank: RANK.text,
      streams: [
        {
          from: "events_fts AS f",
          seq: "f.rowid",
          join: joinEvent(logId, "f.rowid"),
          where: sql("f.events_fts MATCH ?", [`log : "${logToken(logId)}" AND ${textQuery(phrases)}`]),
          onEvents: false,
          ordered: true,
          unique: true,
        },
      ],
      exact: true,
    }));
  }

  const occurredFrom = timeBound(filter.occurredAfter);
  const occurredTo = timeBound(filter.occurredBefore);
  const receivedFrom = timeBound(filter.receivedAfter);
  const receivedTo = timeBound(filter.receivedBefore);
  if (Number.isNaN(occurredFrom) || Number.isNaN(occurredTo) || Number.isNaN(receivedFrom) || Number.isNaN(receivedTo)) satisfiable = false;
  if (occurredFrom !== undefined || occurredTo !== undefined) {
    const parts: Sql[] = [];
    if (occurredFrom !== undefined) parts.push(sql("+ev.occurred_ms >= ?", [occurredFrom]));
    if (occurredTo !== undefined) parts.push(sql("+ev.occurred_ms < ?", [occurredTo]));
    if (occurredFrom !== undefined && occurredTo !== undefined && occurredFrom >= occurredTo) satisfiable = false;
    const occurred = {
      ...(occurredFrom === undefined ? {} : { from: occurredFrom }),
      ...(occurredTo === undefined ? {} : { to: occurredTo }),
    };
    add({ sql: and(parts), occurred }, () => ({ ...occurredDriver(logId, occurredFrom, occurredTo), exact: true }));
  }
  const actors = values(filter.actor);
  if (actors !== undefined && actors.length > 0 && occurredFrom !== undefined && occurredTo !== undefined && occurredFrom < occurredTo) {
    const streams = actorDayStreams(logId, actors, occurredFrom, occurredTo);
    if (streams) drivers.push({ name: "actorDays", rank: RANK.actorDays, streams });
  }
  if (receivedFrom !== undefined || receivedTo !== undefined) {
    const parts: Sql[] = [];
    if (receivedFrom !== undefined) parts.push(sql("+ev.received_ms >= ?", [receivedFrom]));
    if (receivedTo !== undefined) parts.push(sql("+ev.received_ms < ?", [receivedTo]));
    if (receivedFrom !== undefined && receivedTo !== undefined && receivedFrom >= receivedTo) satisfiable = false;
    add(and(parts), () => ({
      ...rangeDriver("receivedAt", RANK.received, "events_received", "received_ms", logId, receivedFrom, receivedTo),
      exact: true,
    }));
  }

  const exclusions = filter.not === undefined ? [] : exclusionTerms(filter.not);
  if (exclusions.length > 0) {
    const any = or(exclusions);
    // coalesce: a NULL column (no ip) compares as NULL, and NOT NULL would drop the event too.
    add(sql(`NOT coalesce(${any.text}, 0)`, any.params));
  }

  const fallback: Driver = {
    name: "log",
    rank: 99,
    streams: [{ from: "events AS ev", seq: "ev.seq", where: sql("ev.log_id = ?", [logId]), onEvents: true, ordered: true, unique: true }],
  };
  return { satisfiable, terms, drivers, fallback, phrases };
}

/**
 * The plan over every log at once (cross-log search, rule 7), or undefined when some term has a
 * per-log index (then each log is planned on its own and the results merge). Without one, a
 * fan-out would run the same scan in every log: one text search over the whole FTS index, or one
 * walk of all events in seq order (`events_seq`), is cheaper and stops after a page.
 */
export function compileGlobal(filter: QueryFilter): CompiledFilter | undefined {
  const local = compileFilter(filter, 0);
  if (local.drivers.some((d) => d.name !== "text")) return undefined;
  const text = local.drivers.find((d) => d.name === "text");
  const drivers: Driver[] = text
    ? [
        {
          ...text,
          streams: [
            {
              from: "events_fts AS f",
              seq: "f.rowid",
              join: sql("CROSS JOIN events AS ev INDEXED BY events_seq ON ev.seq = f.rowid"),
              where: sql("f.events_fts MATCH ?", [textQuery(local.phrases)]),
              onEvents: false,
              ordered: true,
              unique: true,
              global: true,
            },
          ],
        },
      ]
    : [];
  const fallback: Driver = {
    name: "all logs",
    rank: 99,
    streams: [
      {
        from: "events AS ev INDEXED BY events_seq",
        seq: "ev.seq",
        where: sql("1"),
        onEvents: true,
        ordered: true,
        unique: true,
        global: true,
      },
    ],
  };
  return { ...local, drivers, fallback };
}

/** The terms a driver leaves to check as filters. */
export const filtersOf = (compiled: CompiledFilter, driver: Driver): Term[] => compiled.terms.filter((t) => t !== driver.term);

/** An occurredAt term on a side table's own copy of the column. */
function occurredOn(column: string, range: NonNullable<Term["occurred"]>): Sql {
  const parts: Sql[] = [];
  if (range.from !== undefined) parts.push(sql(`${column} >= ?`, [range.from]));
  if (range.to !== undefined) parts.push(sql(`${column} < ?`, [range.to]));
  return and(parts);
}

/**
 * FROM … WHERE … of a stream: its range, `bound` (on the driving table) and the filter terms,
 * joined to the event row when a term (or the caller) needs it. An occurredAt term is checked on
 * the driving side table's own occurred_ms, so target or metadata with a time range needs no join.
 */
function streamBody(stream: Stream, terms: readonly Term[], needEvent: boolean, bound?: Sql): Sql {
  const column = stream.occurred;
  const covered = column === undefined ? [] : terms.filter((t) => t.occurred !== undefined);
  const rest = terms.filter((t) => !covered.includes(t));
  const parts = [stream.where];
  if (bound) parts.push(bound);
  for (const t of covered) parts.push(occurredOn(column as string, t.occurred as NonNullable<Term["occurred"]>));
  parts.push(...rest.map((t) => t.sql));
  const where = and(parts);
  const join = stream.join;
  if (stream.onEvents || !join || (!needEvent && !stream.global && rest.length === 0)) {
    return sql(`FROM ${stream.from} WHERE ${where.text}`, where.params);
  }
  return sql(`FROM ${stream.from} ${join.text} WHERE ${where.text}`, [...join.params, ...where.params]);
}

export interface PageBounds {
  readonly order: "desc" | "asc";
  /** Exclusive start: the previous page's last seq. */
  readonly after?: number;
  /** Exclusive end: when merging logs, the last seq of a page already full (rule 6). */
  readonly before?: number;
  readonly limit: number;
}

/** The SQL keyword of an order: from this constant, never from the caller's string. */
const direction = (order: PageBounds["order"]): "ASC" | "DESC" => (order === "asc" ? "ASC" : "DESC");

/** `seq` strictly after `after` and strictly before `before` in the page's order. */
function seqRange(seq: string, bounds: PageBounds): Sql | undefined {
  const [afterOp, beforeOp] = direction(bounds.order) === "DESC" ? ["<", ">"] : [">", "<"];
  const parts: Sql[] = [];
  if (bounds.after !== undefined) parts.push(sql(`${seq} ${afterOp} ?`, [bounds.after]));
  if (bounds.before !== undefined) parts.push(sql(`${seq} ${beforeOp} ?`, [bounds.before]));
  return parts.length === 0 ? undefined : and(parts);
}

/** One stream's page: at most `limit` seqs within the bounds, in order. */
export function pageStatement(stream: Stream, filters: readonly Term[], bounds: PageBounds): Sql {
  const body = streamBody(stream, filters, false, seqRange(stream.seq, bounds));
  const distinct = stream.unique ? "" : "DISTINCT ";
  const log = stream.global ? ", ev.log_id AS log_id" : "";
  return sql(`SELECT ${distinct}${stream.seq} AS seq${log} ${body.text} ORDER BY ${stream.seq} ${direction(bounds.order)} LIMIT ?`, [
    ...body.params,
    bounds.limit,
  ]);
}

/** How many entries the stream's index range holds, counting at most `cap` (rule 3). */
export function probeStatement(stream: Stream, cap: number): Sql {
  return sql(`SELECT count(*) AS n FROM (SELECT 1 FROM ${stream.from} WHERE ${stream.where.text} LIMIT ?)`, [...stream.where.params, cap]);
}

/**
 * How many of a stream's first `window` rows (in page order, within the bounds) match every
 * term: when that holds a page, the stream finds it within `window` rows (rules 5 and 8).
 */
export function windowStatement(stream: Stream, terms: readonly Term[], logId: number, bounds: PageBounds, window: number): Sql {
  const inner = and([stream.where, seqRange(stream.seq, bounds) ?? sql("1")]);
  const all = and(terms.map((t) => t.sql));
  return sql(
    `SELECT count(*) AS n FROM (SELECT ${stream.seq} AS seq FROM ${stream.from} WHERE ${inner.text} ORDER BY ${stream.seq} ${direction(bounds.order)} LIMIT ?) AS w
     CROSS JOIN events AS ev ON ev.log_id = ? AND ev.seq = w.seq WHERE ${all.text}`,
    [...inner.params, window, logId, ...all.params],
  );
}

/** Distinct matching events of a driver's streams (one stream: no dedup needed). */
export function countStatement(compiled: CompiledFilter, driver: Driver): Sql {
  const filters = filtersOf(compiled, driver);
  const bodies = driver.streams.map((s) => ({ s, body: streamBody(s, filters, false) }));
  // No stream: a target id the log never had.
  if (bodies.length === 0) return sql("SELECT 0 AS n");
  if (bodies.length === 1) {
    const { s, body } = bodies[0] as { s: Stream; body: Sql };
    return sql(`SELECT count(${s.unique ? "*" : `DISTINCT ${s.seq}`}) AS n ${body.text}`, body.params);
  }
  const union = bodies.map(({ s, body }) => `SELECT ${s.seq} AS seq ${body.text}`).join(" UNION ");
  return sql(
    `SELECT count(*) AS n FROM (${union})`,
    bodies.flatMap((b) => b.body.params),
  );
}

/** floor(occurred_ms / unit), also for times before 1970 (SQLite's `/` truncates toward zero). */
const bucket = (unit: number): string => `(ev.occurred_ms - ((ev.occurred_ms % ${unit}) + ${unit}) % ${unit}) / ${unit}`;

const GROUP_KEYS: Record<GroupBy, string> = {
  action: "ev.action",
  actor: "ev.actor_id",
  outcome: "ev.outcome",
  hour: bucket(HOUR_MS),
  day: bucket(DAY_MS),
};

/** Turns a group key from SQL into its public form: hour and day buckets as UTC `YYYY-MM-DDTHH` / `YYYY-MM-DD`. */
export function groupKey(groupBy: GroupBy, key: string | number): string {
  if (groupBy === "hour") return new Date(Number(key) * HOUR_MS).toISOString().slice(0, 13);
  if (groupBy === "day") return new Date(Number(key) * DAY_MS).toISOString().slice(0, 10);
  return String(key);
}

/** Counts per group of the matching events of one log. */
export function groupStatement(compiled: CompiledFilter, driver: Driver, groupBy: GroupBy): Sql {
  const filters = filtersOf(compiled, driver);
  const key = GROUP_KEYS[groupBy];
  const bodies = driver.streams.map((s) => ({ s, body: streamBody(s, filters, true) }));
  if (bodies.length === 0) return sql("SELECT NULL AS k, 0 AS n WHERE 0");
  const only = bodies[0];
  if (bodies.length === 1 && only?.s.unique) return sql(`SELECT ${key} AS k, count(*) AS n ${only.body.text} GROUP BY k`, only.body.params);
  // UNION (or DISTINCT for one stream) counts an event once however many of its rows matched.
  const union = bodies
    .map(({ s, body }) => `SELECT ${bodies.length === 1 ? "DISTINCT " : ""}${s.seq} AS seq, ${key} AS k ${body.text}`)
    .join(" UNION ");
  return sql(
    `SELECT k, count(*) AS n FROM (${union}) GROUP BY k`,
    bodies.flatMap((b) => b.body.params),
  );
}
