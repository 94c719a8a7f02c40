import { type FieldProblem, InputError, pointerChild } from "./errors.js";
import { isIpAddress, OUTCOMES } from "./event.js";
import { searchTokens } from "./event-matcher.js";
import type { MetadataMatch, QueryExclusions, QueryFilter, TargetMatch } from "./query.js";
import { normalizeTimestamp } from "./timestamp.js";

/** Bounds on a filter, so a query costs the store a bounded amount of work whatever the caller sends. */
export const QUERY_LIMITS: {
  readonly queryLength: number;
  readonly valuesPerField: number;
  readonly textPhrases: number;
  readonly valueLength: number;
} = Object.freeze({
  /** Characters in a query-language string. */
  queryLength: 2000,
  /** Values of one field (actor, action, target, metadata, …) on one side (the filter or its `not`). */
  valuesPerField: 100,
  /** Text phrases on one side. */
  textPhrases: 20,
  /** Characters in an id, text phrase, metadata key or metadata value. */
  valueLength: 256,
});

/** The kinds of value a filter holds, each validated like the event field it is compared with. */
export type FilterValueKind =
  | "actor"
  | "actorType"
  | "action"
  | "actionPrefix"
  | "outcome"
  | "ip"
  | "requestId"
  | "sessionId"
  | "targetType"
  | "targetId"
  | "metadataKey"
  | "metadataValue"
  | "text";

// The same rules as validateEvent (event.ts) applies to the fields these values are compared with.
const ACTION_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/;
const ACTION_PREFIX_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.$/;
const TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const LONE_SURROGATE = /\p{Cs}/u;

const MAX_LENGTH: Record<FilterValueKind, number> = {
  actor: QUERY_LIMITS.valueLength,
  actorType: 64,
  action: 128,
  actionPrefix: 128,
  outcome: 16,
  ip: 64,
  requestId: QUERY_LIMITS.valueLength,
  sessionId: QUERY_LIMITS.valueLength,
  targetType: 64,
  targetId: QUERY_LIMITS.valueLength,
  metadataKey: QUERY_LIMITS.valueLength,
  // indexFieldsOf keeps the first 256 characters of a metadata value: a longer one can never match.
  metadataValue: QUERY_LIMITS.valueLength,
  text: QUERY_LIMITS.valueLength,
};

/** Control characters other than tab, line feed and carriage return: never typed, often an attack. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f) return true;
  }
  return false;
}

/**
 * Why a value is not acceptable for its field, or undefined when it is. The wording completes
 * "<field> …", as in a FieldProblem's detail.
 */
export function filterValueProblem(kind: FilterValueKind, value: string): string | undefined {
  if (value.length === 0 && kind !== "metadataValue") return "must not be empty";
  const max = MAX_LENGTH[kind];
  if (value.length > max) return `must be at most ${max} characters, got ${value.length}`;
  if (hasControlCharacter(value)) return "contains a control character";
  if (LONE_SURROGATE.test(value)) return "contains a lone surrogate";
  switch (kind) {
    case "actorType":
    case "targetType":
      return TYPE_PATTERN.test(value) ? undefined : "must be 1-64 characters of letters, digits, '_', '.', ':' or '-'";
    case "action":
      return ACTION_PATTERN.test(value) ? undefined : "must be dot-separated segments of letters, digits, '_' or '-', like document.shared";
    case "actionPrefix":
      return ACTION_PREFIX_PATTERN.test(value) ? undefined : "must be dot-separated segments ending in '.', like document.";
    case "outcome":
      return (OUTCOMES as readonly string[]).includes(value) ? undefined : `must be one of ${OUTCOMES.join(", ")}`;
    case "ip":
      return isIpAddress(value) ? undefined : "must be an IPv4 or IPv6 address";
    case "text":
      return searchTokens(value).length > 0 ? undefined : "must contain a letter or digit to search for";
    default:
      return undefined;
  }
}

const TIME_BOUND_FORMS = "a date like 2026-11-01, a time like 2026-11-01T12:00Z, or an RFC 3339 timestamp";

/**
 * Normalizes a time bound: a date (its midnight UTC), a time to the minute with zone
 * (`2026-11-01T12:00Z`, seconds added) or a full RFC 3339 timestamp, to normalizeTimestamp's form.
 * Returns undefined for anything else.
 */
export function normalizeTimeBound(text: string): string | undefined {
  if (text.length > 64) return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return normalizeTimestamp(`${text}T00:00:00Z`);
  const toMinute = /^(\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2})([Zz]|[+-]\d{2}:\d{2})$/.exec(text);
  if (toMinute) return normalizeTimestamp(`${toMinute[1]}:00${toMinute[2]}`);
  return normalizeTimestamp(text);
}

const LIST_FIELDS = ["actor", "actorType", "action", "actionPrefix", "outcome", "ip", "requestId", "sessionId"] as const;
type ListField = (typeof LIST_FIELDS)[number];
const TIME_FIELDS = ["occurredAfter", "occurredBefore", "receivedAfter", "receivedBefore"] as const;
const CONDITION_FIELDS: readonly string[] = [...LIST_FIELDS, "target", "metadata", "text"];
const FILTER_FIELDS: readonly string[] = [...CONDITION_FIELDS, ...TIME_FIELDS, "not"];

type Add = (pointer: string, detail: string) => void;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function own(object: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** The items of a bounded, non-empty array, or undefined after reporting why not. */
function arrayItems(value: unknown, pointer: string, max: number, what: string, add: Add): unknown[] | undefined {
  if (!Array.isArray(value)) {
    add(pointer, `must be an array of ${what}, got ${describe(value)}`);
    return undefined;
  }
  if (value.length === 0) {
    add(pointer, "must not be empty (leave the field out to set no condition)");
    return undefined;
  }
  if (value.length > max) {
    add(pointer, `must have at most ${max} items, got ${value.length}`);
    return undefined;
  }
  return value;
}

function collectStrings(value: unknown, pointer: string, kind: FilterValueKind, max: number, add: Add): string[] | undefined {
  const items = arrayItems(value, pointer, max, "strings", add);
  if (!items) return undefined;
  const seen = new Set<string>();
  for (const [i, item] of items.entries()) {
    const at = pointerChild(pointer, i);
    if (typeof item !== "string") {
      add(at, `must be a string, got ${describe(item)}`);
      continue;
    }
    const problem = filterValueProblem(kind, item);
    if (problem) add(at, problem);
    else seen.add(item);
  }
  return [...seen];
}

function collectTargets(value: unknown, pointer: string, add: Add): TargetMatch[] | undefined {
  const items = arrayItems(value, pointer, QUERY_LIMITS.valuesPerField, "{ type, id } objects", add);
  if (!items) return undefined;
  const targets = new Map<string, TargetMatch>();
  for (const [i, item] of items.entries()) {
    const at = pointerChild(pointer, i);
    if (!isPlainObject(item)) {
      add(at, `must be an object with type and/or id, got ${describe(item)}`);
      continue;
    }
    for (const key of Object.keys(item)) if (key !== "type" && key !== "id") add(pointerChild(at, key), "unknown field; allowed: type, id");
    const match: TargetMatch = {};
    let ok = true;
    for (const [key, kind] of [
      ["type", "targetType"],
      ["id", "targetId"],
    ] as const) {
      const field = own(item, key);
      if (field === undefined) continue;
      const problem = typeof field === "string" ? filterValueProblem(kind, field) : `must be a string, got ${describe(field)}`;
      if (problem) {
        add(pointerChild(at, key), problem);
        ok = false;
      } else match[key] = field as string;
    }
    if (ok && match.type === undefined && match.id === undefined) {
      add(at, "must have a type, an id or both");
      ok = false;
    }
    if (ok) targets.set(JSON.stringify([match.type ?? null, match.id ?? null]), match);
  }
  return [...targets.values()];
}

function collectMetadata(value: unknown, pointer: string, add: Add): MetadataMatch[] | undefined {
  const items = arrayItems(value, pointer, QUERY_LIMITS.valuesPerField, "{ key, value } objects", add);
  if (!items) return undefined;
  const matches = new Map<string, MetadataMatch>();
  for (const [i, item] of items.entries()) {
    const at = pointerChild(pointer, i);
    if (!isPlainObject(item)) {
      add(at, `must be an object with a key and optionally a value, got ${describe(item)}`);
      continue;
    }
    for (const key of Object.keys(item))
      if (key !== "key" && key !== "value") add(pointerChild(at, key), "unknown field; allowed: key, value");
    const key = own(item, "key");
    const text = own(item, "value");
    let ok = true;
    const keyProblem =
      key === undefined
        ? "is required"
        : typeof key === "string"
          ? filterValueProblem("metadataKey", key)
          : `must be a string, got ${describe(key)}`;
    if (keyProblem) {
      add(pointerChild(at, "key"), keyProblem);
      ok = false;
    }
    if (text !== undefined) {
      const valueProblem =
        typeof text === "string"
          ? filterValueProblem("metadataValue", text)
          : `must be a string (metadata values compare as text: "3", "true"), got ${describe(text)}`;
      if (valueProblem) {
        add(pointerChild(at, "value"), valueProblem);
        ok = false;
      }
    }
    if (!ok) continue;
    const match: MetadataMatch = text === undefined ? { key: key as string } : { key: key as string, value: text as string };
    matches.set(JSON.stringify([match.key, match.value ?? null]), match);
  }
  return [...matches.values()];
}

function collectConditions(input: Record<string, unknown>, pointer: string, add: Add): QueryExclusions {
  const conditions: QueryExclusions = {};
  const lists = conditions as Partial<Record<ListField, string[]>>;
  for (const field of LIST_FIELDS) {
    const value = own(input, field);
    if (value === undefined) continue;
    const values = collectStrings(value, pointerChild(pointer, field), field, QUERY_LIMITS.valuesPerField, add);
    if (values && values.length > 0) lists[field] = values;
  }
  const target = own(input, "target");
  if (target !== undefined) {
    const targets = collectTargets(target, pointerChild(pointer, "target"), add);
    if (targets && targets.length > 0) conditions.target = targets;
  }
  const metadata = own(input, "metadata");
  if (metadata !== undefined) {
    const matches = collectMetadata(metadata, pointerChild(pointer, "metadata"), add);
    if (matches && matches.length > 0) conditions.metadata = matches;
  }
  const text = own(input, "text");
  if (text !== undefined) {
    const phrases = collectStrings(text, pointerChild(pointer, "text"), "text", QUERY_LIMITS.textPhrases, add);
    if (phrases && phrases.length > 0) conditions.text = phrases;
  }
  return conditions;
}

function describeProblems(problems: readonly FieldProblem[]): string {
  const first = problems[0];
  if (!first) return "invalid filter";
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
  return `${first.pointer || "/"} ${first.detail}${more}`;
}

// Fields AND: an event would have to equal one action and start with a prefix. Refused rather than
// silently matching little or nothing; it keeps every valid filter expressible in the query language.
const ACTION_AND_PREFIX_PROBLEM = "cannot be combined with action (an event would have to match both); send one query for each";

/**
 * Validates an untrusted JSON filter (the API's `filter` body, a saved view) against the
 * QueryFilter shape and returns it normalized: unknown keys are refused, values are validated like
 * the event fields they compare with, timestamps are normalized, duplicates dropped, empty `not`
 * left out. Every problem is reported at once, each with its JSON pointer (prefixed by `pointer`).
 * Throws InputError `invalid_filter`.
 */
export function parseQueryFilter(json: unknown, pointer = ""): QueryFilter {
  const problems: FieldProblem[] = [];
  const add: Add = (at, detail) => problems.push({ pointer: at, detail });
  let filter: QueryFilter = {};
  if (!isPlainObject(json)) add(pointer, `a filter must be a JSON object, got ${describe(json)}`);
  else {
    for (const key of Object.keys(json)) {
      if (!FILTER_FIELDS.includes(key)) add(pointerChild(pointer, key), `unknown field; allowed: ${FILTER_FIELDS.join(", ")}`);
    }
    filter = collectConditions(json, pointer, add);
    const times: Partial<Record<(typeof TIME_FIELDS)[number], string>> = {};
    for (const field of TIME_FIELDS) {
      const value = own(json, field);
      if (value === undefined) continue;
      const normalized = typeof value === "string" ? normalizeTimeBound(value) : undefined;
      if (normalized === undefined) add(pointerChild(pointer, field), `must be ${TIME_BOUND_FORMS}`);
      else times[field] = normalized;
    }
    for (const [after, before] of [
      ["occurredAfter", "occurredBefore"],
      ["receivedAfter", "receivedBefore"],
    ] as const) {
      const from = times[after];
      const to = times[before];
      if (from !== undefined && to !== undefined && Date.parse(from) >= Date.parse(to)) {
        add(pointerChild(pointer, before), `must be later than ${after} (${after} is inclusive, ${before} exclusive)`);
      }
    }
    Object.assign(filter, times);
    if (filter.action && filter.actionPrefix) add(pointerChild(pointer, "actionPrefix"), ACTION_AND_PREFIX_PROBLEM);
    const not = own(json, "not");
    if (not !== undefined) {
      const at = pointerChild(pointer, "not");
      if (!isPlainObject(not)) add(at, `must be an object, got ${describe(not)}`);
      else {
        for (const key of Object.keys(not)) {
          if (CONDITION_FIELDS.includes(key)) continue;
          const detail = (TIME_FIELDS as readonly string[]).includes(key)
            ? "time bounds cannot be negated; use the opposite bound"
            : key === "not"
              ? "cannot be nested"
              : `unknown field; allowed: ${CONDITION_FIELDS.join(", ")}`;
          add(pointerChild(at, key), detail);
        }
        const exclusions = collectConditions(not, at, add);
        if (Object.keys(exclusions).length > 0) filter.not = exclusions;
      }
    }
  }
  if (problems.length > 0) throw new InputError("invalid_filter", describeProblems(problems), { problems });
  return filter;
}
