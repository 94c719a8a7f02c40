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
 * indexes: every column condition is a plain `col = ANY($n)` over a (log_id, col, seq) btree, so a
 * newest-first page walks one index backwards; targets, metadata and text are GIN lookups.
 */

/**
 * PostgreSQL text cannot hold U+0000, which JSON strings may: values are escaped injectively
 * (backslash doubled, NUL as `\0`), on both sides of every comparison.
 */
export const pgText = (value: string): string =>
  value.includes("\\") || value.includes("\u0000") ? value.replaceAll("\\", "\\\\").replaceAll("\u0000", "\\0") : value;

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

export function keysOf(fields: EventIndexFields): string[] {
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
  return [...keys];
}

/** Tokens have letters, digits and marks only (searchTokens), so they need no quoting beyond '…'. */
const lexeme = (token: string): string => `'${token.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;

/**
 * The event's searchable text as a tsvector literal: core's tokens with their positions, so the
 * database neither parses nor stems (its own parser reads `a.b` as a host name). PostgreSQL keeps
 * positions up to 16383 and 256 per lexeme: beyond that, phrase matches may be missed.
 */
export function tsvectorOf(text: string): string {
  const positions = new Map<string, number[]>();
  searchTokens(text).forEach((token, i) => {
    const list = positions.get(token);
    const position = Math.min(i + 1, 16383);
    if (list) list.push(position);
    else positions.set(token, [position]);
  });
  return [...positions].map(([token, list]) => `${lexeme(token)}:${list.join(",")}`).join(" ");
}

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

/** Each condition of one side, as SQL that is never NULL. */
function conditions(filter: QueryExclusions, p: Params, positive: boolean): string[] {
  const out: string[] = [];
  for (const [field, column, nullable] of LISTS) {
    const list = filter[field];
    if (list === undefined) continue;
    const test = `ev.${column} = ANY(${p.add([...new Set(list)].map(pgText), "::text[]")})`;
    out.push(nullable ? `coalesce(${test}, false)` : test);
  }
  if (filter.actionPrefix !== undefined) {
    const parts = filter.actionPrefix.map((prefix) => {
      const resource = prefix.slice(0, prefix.indexOf(".") + 1);
      const starts = `starts_with(ev.action, ${p.add(pgText(prefix))})`;
      return resource === "" ? starts : `(ev.resource = ${p.add(pgText(resource))} AND ${starts})`;
    });
    out.push(parts.length === 0 ? "false" : `(${parts.join(" OR ")})`);
  }
  if (filter.target !== undefined) {
    const keys = filter.target.map(targetKey);
    if (keys.some((k) => k === undefined)) out.push("ev.targets > 0");
    else out.push(keys.length === 0 ? "false" : `ev.keys && ${p.add(keys, "::text[]")}`);
  }
  if (filter.metadata !== undefined) {
    // Every entry holds (an empty list always does); on the `not` side, any one excludes.
    const keys = filter.metadata.map(metadataKey);
    if (positive) out.push(keys.length === 0 ? "true" : `ev.keys @> ${p.add(keys, "::text[]")}`);
    else out.push(keys.length === 0 ? "false" : `ev.keys && ${p.add(keys, "::text[]")}`);
  }
  if (filter.text !== undefined) {
    const queries = filter.text.map(phraseQuery);
    const real = queries.filter((q): q is string => q !== undefined);
    if (positive) {
      if (real.length > 0) out.push(`ev.tsv @@ ${p.add(real.join(" & "), "::tsquery")}`);
    } else if (queries.length > real.length) out.push("true");
    else if (real.length > 0) out.push(`ev.tsv @@ ${p.add(real.join(" | "), "::tsquery")}`);
  }
  return out;
}

const timeBound = (text: string | undefined): number | undefined => (text === undefined ? undefined : Date.parse(text));

/** The WHERE clause (over `events AS ev`) of a filter within some logs (undefined: every log). */
export function whereOf(filter: QueryFilter, logIds: readonly number[] | undefined, p: Params): string {
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
  parts.push(...conditions(filter, p, true));
  if (filter.not) {
    const excluded = conditions(filter.not, p, false);
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
  return String(key).replace(/\\([\\0])/g, (_, c: string) => (c === "0" ? "\u0000" : "\\"));
}
