import {
  type EventIndexFields,
  type GroupBy,
  InputError,
  type MetadataMatch,
  type QueryExclusions,
  type QueryFilter,
  searchTokens,
  type TargetMatch,
} from "@sealtrail/core";
import type { EventQuery } from "@sealtrail/engine";

/**
 * Compiles a QueryFilter to one parameterised WHERE clause over the query index (schema.ts), with
 * the semantics of core's `matchesFilter` (the oracle test checks this). Values always travel as
 * bound parameters; SQL text comes only from this file. PostgreSQL's planner picks among the
 * indexes: every column condition is `col = $n` (one value) or `col = ANY($n)` over a
 * (log_id, col, seq) btree that INCLUDEs idx and occurred_ms, so a newest-first page walks one
 * index backwards without reading the table; targets, metadata and text are GIN lookups.
 */

/**
 * PostgreSQL text cannot hold U+0000, which JSON strings may: values are escaped injectively
 * (backslash doubled, NUL as `\0`), on both sides of every comparison.
 */
export const pgText = (value: string): string =>
  value.includes("\\") || value.includes("\u0000") ? value.replaceAll("\\", "\\\\").replaceAll("\u0000", "\\0") : value;

/** The inverse of pgText. */
export const fromPgText = (value: string): string =>
  value.includes("\\") ? value.replace(/\\([\\0])/g, (_, c: string) => (c === "0" ? "\u0000" : "\\")) : value;

/**
 * Keys of the `keys` array: target type+id, target id, target type, metadata key, metadata
 * key=value. Length prefixes keep every encoding unambiguous whatever the values contain.
 */
export const targetKey = (match: TargetMatch): string | undefined => {
  const type = match.type === undefined ? undefined : pgText(match.type);
  if (type !== undefined && match.id !== undefined) return `t${type.length}:${type}${pgText(match.id)}`;
  if (match.id !== undefined) return `i:${pgText(match.id)}`;
  if (type !== undefined) return `y:${type}`;
  return undefined;
};
export const metadataKey = (match: MetadataMatch): string => {
  const key = pgText(match.key);
  return match.value === undefined ? `k:${key}` : `v${key.length}:${key}${pgText(match.value)}`;
};

/**
 * `keys` entries carry their log id (`17#y:document`), so one tenant's lookup reads only that
 * tenant's postings: a GIN index cannot lead with log_id as a btree does (btree_gin is an extension).
 */
export const inLog = (logId: number, key: string): string => `${logId}#${key}`;

export function keysOf(logId: number, fields: EventIndexFields): string[] {
  const keys = new Set<string>();
  for (const t of fields.targets) {
    keys.add(targetKey(t) as string);
    keys.add(targetKey({ id: t.id }) as string);
    keys.add(targetKey({ type: t.type }) as string);
  }
  for (const m of fields.metadata) {
    keys.add(metadataKey({ key: m.key }));
    if (m.value !== undefined) keys.add(metadataKey(m));
  }
  return [...keys].map((key) => inLog(logId, key));
}

/** Tokens have letters, digits and marks only (searchTokens), so they need no quoting beyond '…'. */
const lexeme = (token: string): string => `'${token.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;

/**
 * The event's searchable text as a tsvector literal: core's tokens with their positions, so the
 * database neither parses nor stems (its own parser reads `a.b` as a host name). PostgreSQL keeps
 * positions up to 16383 and 256 per lexeme: beyond that, phrase matches may be missed.
 */
export function tsvectorOf(logId: number, text: string): string {
  const positions = new Map<string, number[]>();
  searchTokens(text).forEach((token, i) => {
    const list = positions.get(token);
    const position = Math.min(i + 1, 16383);
    if (list) list.push(position);
    else positions.set(token, [position]);
  });
  // The log as a lexeme no token can be (tokens hold letters, digits and marks only), so a search
  // in one log intersects its postings with the log's instead of reading every tenant's matches.
  return [...[...positions].map(([token, list]) => `${lexeme(token)}:${list.join(",")}`), logLexeme(logId)].join(" ");
}

const logLexeme = (logId: number): string => `'#${logId}'`;

/** A phrase as a tsquery (`'a' <-> 'b'`), or undefined when it has no token (it holds everywhere). */
export function phraseQuery(phrase: string): string | undefined {
  const tokens = searchTokens(phrase);
  return tokens.length === 0 ? undefined : `(${tokens.map(lexeme).join(" <-> ")})`;
}

/** `document.shared` → `document.`: the first segment with its dot (as the SQLite store). */
export const resourceOf = (action: string): string => action.slice(0, action.indexOf(".") + 1);

export class Params {
  readonly values: unknown[] = [];
  add(value: unknown, cast = ""): string {
    this.values.push(value);
    return `$${this.values.length}${cast}`;
  }
}

const LISTS = [
  ["actor", "actor_id", false],
  ["actorType", "actor_type", false],
  ["action", "action", false],
  ["outcome", "outcome", false],
  ["ip", "ip", true],
  ["requestId", "request_id", true],
  ["sessionId", "session_id", true],
] as const;

/** Most logs whose keys a metadata condition lists one by one (beyond: checked row by row). */
const MAX_KEYED_LOGS = 50;

/**
 * Each condition of one side, within the logs `logIds`. Exclusions (`positive` false) are never
 * NULL; positive conditions may be NULL where a column is (a WHERE drops NULL as it drops false),
 * so that `ip = ANY(…)` stays usable with the partial index on ip.
 */
function conditions(filter: QueryExclusions, p: Params, positive: boolean, scope: Scope): string[] {
  const logIds = scope.keyLogs;
  const out: string[] = [];
  for (const [field, column, nullable] of LISTS) {
    const list = filter[field];
    if (list === undefined) continue;
    const values = [...new Set(list)].map(pgText);
    // One value as `=`, not `= ANY`: PostgreSQL 15 returns a (log_id, col, seq) btree's rows in
    // seq order only without an array condition, so the newest page is a backward walk that stops
    // after `limit` rows, where ANY reads every match and sorts them (BENCHMARKS.md EXPLAINs).
    const test = values.length === 1 ? `ev.${column} = ${p.add(values[0], "::text")}` : `ev.${column} = ANY(${p.add(values, "::text[]")})`;
    out.push(nullable && !positive ? `coalesce(${test}, false)` : test);
  }
  const inLogs = (keys: readonly string[]): string[] => logIds.flatMap((id) => keys.map((key) => inLog(id, key)));
  if (filter.actionPrefix !== undefined) {
    const parts = filter.actionPrefix.map((prefix) => {
      const resource = prefix.slice(0, prefix.indexOf(".") + 1);
      // `document.` is a resource: every action of that resource starts with it, so the resource
      // index alone answers (its INCLUDE has outcome, the heap is not read for the action).
      if (resource !== "" && resource === prefix) return `ev.resource = ${p.add(pgText(resource))}`;
      const starts = `starts_with(ev.action, ${p.add(pgText(prefix))})`;
      return resource === "" ? starts : `(ev.resource = ${p.add(pgText(resource))} AND ${starts})`;
    });
    out.push(parts.length === 0 ? "false" : `(${parts.join(" OR ")})`);
  }
  if (filter.target !== undefined) {
    const keys = filter.target.map(targetKey);
    if (keys.some((k) => k === undefined)) out.push("ev.targets > 0");
    else out.push(keys.length === 0 || logIds.length === 0 ? "false" : `ev.keys && ${p.add(inLogs(keys as string[]), "::text[]")}`);
  }
  if (filter.metadata !== undefined) {
    // Every entry holds (an empty list always does); on the `not` side, any one excludes.
    const keys = filter.metadata.map(metadataKey);
    if (keys.length === 0) out.push(positive ? "true" : "false");
    else if (!positive) out.push(logIds.length === 0 ? "false" : `ev.keys && ${p.add(inLogs(keys), "::text[]")}`);
    else if (logIds.length <= MAX_KEYED_LOGS) {
      const each = logIds.map(
        (id) =>
          `ev.keys @> ${p.add(
            keys.map((key) => inLog(id, key)),
            "::text[]",
          )}`,
      );
      out.push(each.length === 0 ? "false" : `(${each.join(" OR ")})`);
    } else out.push(`ev.keys @> array(SELECT ev.log_id || '#' || k FROM unnest(${p.add(keys, "::text[]")}) AS k)`);
  }
  if (filter.text !== undefined) {
    const queries = filter.text.map(phraseQuery);
    const real = queries.filter((q): q is string => q !== undefined);
    if (positive) {
      // Within few logs, the log lexemes narrow the index lookup to their postings.
      const few = scope.logs !== undefined && scope.logs.length > 0 && scope.logs.length <= MAX_KEYED_LOGS;
      const logs = few ? `(${(scope.logs ?? []).map(logLexeme).join(" | ")}) & ` : "";
      if (real.length > 0) out.push(`ev.tsv @@ ${p.add(`${logs}${real.join(" & ")}`, "::tsquery")}`);
    } else if (queries.length > real.length) out.push("true");
    else if (real.length > 0) out.push(`ev.tsv @@ ${p.add(real.join(" | "), "::tsquery")}`);
  }
  return out;
}

const timeBound = (text: string | undefined): number | undefined => (text === undefined ? undefined : Date.parse(text));

const TIME_BOUNDS = [
  ["occurredAfter", "occurredBefore"],
  ["receivedAfter", "receivedBefore"],
] as const;

/**
 * True when the newest page of `filter` is better read as its whole time range, sorted, than by
 * walking seq backwards (the planner's choice for a LIMIT). The planner costs the walk as if
 * matches were spread evenly over seq, but in an audit log time follows seq: a day two months ago
 * lies behind two months of newer events, which the walk reads and discards one by one (EXPLAIN:
 * a million index entries removed by the filter for a ~14,000-event day). When a range ends
 * further back from `now` than it is long, we read the range (the (log_id, occurred_ms) index
 * INCLUDEs seq and idx; a receivedAt range lies in contiguous table pages) and sort it. Only for filters of time bounds alone: with a column condition, the
 * walk of its (log_id, col, seq) index reads that column's events only, which the range cannot
 * do without the table. This picks a plan, never the answer.
 */
export function readsTimeRange(filter: QueryFilter, now: number): boolean {
  const bounds = new Set<string>(TIME_BOUNDS.flat());
  if (Object.entries(filter).some(([key, value]) => value !== undefined && !bounds.has(key))) return false;
  return TIME_BOUNDS.some(([afterKey, beforeKey]) => {
    const before = timeBound(filter[beforeKey]);
    if (before === undefined || Number.isNaN(before)) return false;
    const after = timeBound(filter[afterKey]) ?? Number.NEGATIVE_INFINITY;
    return now - before > before - after;
  });
}

/**
 * True when a page of `filter` in one log first probes the log's next events in page order
 * (probeWindow). Free text is found through GIN, which returns row ids in no useful order: the
 * store fetched every match from the table and sorted by seq, so a word in 45,000 events of a
 * tenant read 22,000 table pages for a page of 50 (EXPLAIN in BENCHMARKS.md), and the GIN lookup
 * alone took ~47 ms. A common word fills a page from the newest few hundred events; a rare word
 * costs the probe's rows in addition to the full query (at most probeWindow rows, read by one
 * backward walk of the log's (log_id, seq) index).
 */
export const probesWindow = (filter: QueryFilter, scope: Scope): boolean =>
  scope.logs?.length === 1 && (filter.text ?? []).some((phrase) => phraseQuery(phrase) !== undefined);

/** How many of the log's events a probe looks at for a page of `limit` (probesWindow). */
export const probeWindow = (limit: number): number => Math.max(2000, 40 * limit);

/** The logs of a query: `logs` as given (undefined: every log), `keyLogs` the ids its keys are looked up in. */
export interface Scope {
  readonly logs?: readonly number[];
  readonly keyLogs: readonly number[];
}

/** True when the filter looks up `keys` (targets, metadata): a search over every log then needs every log id. */
export const usesKeys = (filter: QueryFilter): boolean =>
  filter.target !== undefined || filter.metadata !== undefined || filter.not?.target !== undefined || filter.not?.metadata !== undefined;

/** The WHERE clause (over `events AS ev`) of a filter within the scope's logs. */
export function whereOf(filter: QueryFilter, scope: Scope, p: Params): string {
  const logIds = scope.logs;
  const parts: string[] = [];
  if (logIds !== undefined)
    parts.push(logIds.length === 1 ? `ev.log_id = ${p.add(logIds[0])}` : `ev.log_id = ANY(${p.add(logIds, "::int[]")})`);
  const bounds: [string, string, string | undefined][] = [
    ["occurred_ms", ">=", filter.occurredAfter],
    ["occurred_ms", "<", filter.occurredBefore],
    ["received_ms", ">=", filter.receivedAfter],
    ["received_ms", "<", filter.receivedBefore],
  ];
  for (const [column, op, text] of bounds) {
    const ms = timeBound(text);
    if (ms === undefined) continue;
    // An unparseable bound matches nothing, as in core's matcher.
    parts.push(Number.isNaN(ms) ? "false" : `ev.${column} ${op} ${p.add(ms)}`);
  }
  parts.push(...conditions(filter, p, true, scope));
  if (filter.not) {
    const excluded = conditions(filter.not, p, false, scope);
    if (excluded.length > 0) parts.push(`NOT (${excluded.join(" OR ")})`);
  }
  return parts.length === 0 ? "true" : parts.join(" AND ");
}

/** The engine validates pages; a store still refuses a limit or cursor that is not an integer. */
export function checkPage(query: EventQuery): void {
  const bad = (parameter: string, detail: string) =>
    new InputError("invalid_parameter", `${parameter} ${detail}`, { problems: [{ parameter, detail }] });
  if (!Number.isSafeInteger(query.limit) || query.limit < 1) throw bad("limit", "must be a positive integer");
  if (query.after !== undefined && !Number.isSafeInteger(query.after)) throw bad("after", "must be a seq (an integer)");
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export const GROUP_KEYS: Record<GroupBy, string> = {
  action: "ev.action",
  actor: "ev.actor_id",
  outcome: "ev.outcome",
  // floor, not truncation: times before 1970 fall in the bucket that holds them.
  hour: `floor(ev.occurred_ms::numeric / ${HOUR_MS})::bigint`,
  day: `floor(ev.occurred_ms::numeric / ${DAY_MS})::bigint`,
};

/** A group key in its public form: hour and day buckets as UTC `YYYY-MM-DDTHH` / `YYYY-MM-DD`. */
export function groupKey(groupBy: GroupBy, key: string | number): string {
  if (groupBy === "hour") return new Date(Number(key) * HOUR_MS).toISOString().slice(0, 13);
  if (groupBy === "day") return new Date(Number(key) * DAY_MS).toISOString().slice(0, 10);
  return fromPgText(String(key));
}
