import type { AuditEvent } from "./event.js";
import {
  type EventIndexFields,
  indexFieldsOf,
  type MetadataMatch,
  type QueryExclusions,
  type QueryFilter,
  type TargetMatch,
} from "./query.js";

/*
 * The reference semantics of a QueryFilter, in memory. The live tail filters with it, and store
 * tests use it as the oracle for their SQL. Every condition reads the event through
 * indexFieldsOf, exactly what a store indexes, so the two cannot disagree on what is searchable.
 */

// SQLite FTS5 `unicode61 remove_diacritics 0`, as the SQLite store configures it. Token characters
// are the Unicode categories L*, N* and Co, and unassigned code points (SQLite's Unicode 6.1
// tables count those as token characters); everything else separates tokens.
const TOKEN_CHAR = /[\p{L}\p{N}\p{Co}\p{Cn}]/u;
// These combining marks continue a token (and stay in it); at the start of a token they separate.
// SQLite's set, measured code point by code point against SQLite 3.53.
const DIACRITIC = /[\u0300-\u0304\u0306-\u030c\u030f\u0311\u031b\u0323-\u0328\u032d\u032e\u0330\u0331]/u;

// Unicode simple case folding where it differs from toLowerCase (CaseFolding.txt, status C/S);
// İ has no simple folding (its lower case is two code points), and SQLite leaves it as it is.
const CASE_FOLD_EXCEPTIONS: Readonly<Record<string, string>> = {
  "\u00b5": "\u03bc",
  "\u0130": "\u0130",
  "\u017f": "s",
  "\u03c2": "\u03c3",
  "\u03d0": "\u03b2",
  "\u03d1": "\u03b8",
  "\u03d5": "\u03c6",
  "\u03d6": "\u03c0",
  "\u03f0": "\u03ba",
  "\u03f1": "\u03c1",
  "\u03f5": "\u03b5",
  "\u1e9b": "\u1e61",
  "\u1fbe": "\u03b9",
};

function foldCase(char: string): string {
  return CASE_FOLD_EXCEPTIONS[char] ?? char.toLowerCase();
}

/**
 * Splits text into search tokens as SQLite FTS5's `unicode61 remove_diacritics 0` tokenizer does:
 * maximal runs of letters, digits and private-use characters, case-folded; diacritics are kept, so
 * `café` and `cafe` are different words. Checked code point by code point against SQLite 3.53:
 * identical for every character Unicode 6.1 assigns (SQLite's tables); characters assigned since
 * then may fold or split differently.
 */
export function searchTokens(text: string): string[] {
  const tokens: string[] = [];
  let current: string | undefined;
  for (const char of text) {
    if (TOKEN_CHAR.test(char)) current = (current ?? "") + foldCase(char);
    else if (current !== undefined && DIACRITIC.test(char)) current += char;
    else if (current !== undefined) {
      tokens.push(current);
      current = undefined;
    }
  }
  if (current !== undefined) tokens.push(current);
  return tokens;
}

/**
 * True when the phrase's tokens appear consecutively among the text's tokens (an FTS5 phrase
 * query). A phrase without tokens appears in every text, as the empty sequence does.
 */
function containsPhrase(textTokens: readonly string[], phraseTokens: readonly string[]): boolean {
  const last = textTokens.length - phraseTokens.length;
  outer: for (let start = 0; start <= last; start++) {
    for (let k = 0; k < phraseTokens.length; k++) {
      if (textTokens[start + k] !== phraseTokens[k]) continue outer;
    }
    return true;
  }
  return false;
}

/** A compiled filter: call it once per event. */
export type EventMatcher = (event: AuditEvent) => boolean;

interface Conditions {
  readonly lists: readonly { readonly values: ReadonlySet<string>; readonly of: (f: EventIndexFields) => string | undefined }[];
  readonly actionPrefix: readonly string[] | undefined;
  readonly target: readonly TargetMatch[] | undefined;
  readonly metadata: readonly MetadataMatch[] | undefined;
  readonly phrases: readonly (readonly string[])[] | undefined;
}

function compileConditions(filter: QueryExclusions): Conditions {
  const lists: { values: ReadonlySet<string>; of: (f: EventIndexFields) => string | undefined }[] = [];
  const add = (values: readonly string[] | undefined, of: (f: EventIndexFields) => string | undefined) => {
    if (values !== undefined) lists.push({ values: new Set(values), of });
  };
  add(filter.actor, (f) => f.actorId);
  add(filter.actorType, (f) => f.actorType);
  add(filter.action, (f) => f.action);
  add(filter.outcome, (f) => f.outcome);
  add(filter.ip, (f) => f.ip);
  add(filter.requestId, (f) => f.requestId);
  add(filter.sessionId, (f) => f.sessionId);
  return {
    lists,
    actionPrefix: filter.actionPrefix,
    target: filter.target,
    metadata: filter.metadata,
    phrases: filter.text?.map(searchTokens),
  };
}

function targetHolds(fields: EventIndexFields, match: TargetMatch): boolean {
  return fields.targets.some((t) => (match.type === undefined || t.type === match.type) && (match.id === undefined || t.id === match.id));
}

function metadataHolds(fields: EventIndexFields, match: MetadataMatch): boolean {
  return fields.metadata.some((m) => m.key === match.key && (match.value === undefined || m.value === match.value));
}

class EventView {
  readonly fields: EventIndexFields;
  #tokens: string[] | undefined;
  constructor(event: AuditEvent) {
    this.fields = indexFieldsOf(event);
  }
  get tokens(): string[] {
    this.#tokens ??= searchTokens(this.fields.text);
    return this.#tokens;
  }
}

/**
 * Every condition holds: fields AND; the values of one field OR (so an empty list holds for no
 * event), except metadata entries and phrases, which must each hold (so an empty list always holds).
 */
function allHold(view: EventView, c: Conditions): boolean {
  const f = view.fields;
  for (const list of c.lists) {
    const value = list.of(f);
    if (value === undefined || !list.values.has(value)) return false;
  }
  if (c.actionPrefix && !c.actionPrefix.some((p) => f.action.startsWith(p))) return false;
  if (c.target && !c.target.some((t) => targetHolds(f, t))) return false;
  if (c.metadata && !c.metadata.every((m) => metadataHolds(f, m))) return false;
  if (c.phrases && !c.phrases.every((p) => containsPhrase(view.tokens, p))) return false;
  return true;
}

/** Some single condition holds: the `not` side excludes an event matching any listed value (an empty list excludes nothing). */
function anyHolds(view: EventView, c: Conditions): boolean {
  const f = view.fields;
  for (const list of c.lists) {
    const value = list.of(f);
    if (value !== undefined && list.values.has(value)) return true;
  }
  if (c.actionPrefix?.some((p) => f.action.startsWith(p))) return true;
  if (c.target?.some((t) => targetHolds(f, t))) return true;
  if (c.metadata?.some((m) => metadataHolds(f, m))) return true;
  if (c.phrases?.some((p) => containsPhrase(view.tokens, p))) return true;
  return false;
}

// Stores compare epoch milliseconds (EventIndexFields), so bounds are compared at that precision too.
function bound(text: string | undefined): number | undefined {
  return text === undefined ? undefined : Date.parse(text);
}

/**
 * Compiles a filter once for many events (the live tail). Time bounds compare epoch milliseconds:
 * after ≤ t < before. An unparseable bound matches nothing.
 */
export function compileMatcher(filter: QueryFilter): EventMatcher {
  const positive = compileConditions(filter);
  const negative = filter.not ? compileConditions(filter.not) : undefined;
  const occurredAfter = bound(filter.occurredAfter);
  const occurredBefore = bound(filter.occurredBefore);
  const receivedAfter = bound(filter.receivedAfter);
  const receivedBefore = bound(filter.receivedBefore);
  return (event) => {
    const view = new EventView(event);
    const f = view.fields;
    if (occurredAfter !== undefined && !(f.occurredMs >= occurredAfter)) return false;
    if (occurredBefore !== undefined && !(f.occurredMs < occurredBefore)) return false;
    if (receivedAfter !== undefined && !(f.receivedMs >= receivedAfter)) return false;
    if (receivedBefore !== undefined && !(f.receivedMs < receivedBefore)) return false;
    if (!allHold(view, positive)) return false;
    return negative === undefined || !anyHolds(view, negative);
  };
}

/** Whether the event passes the filter: the reference semantics every store must reproduce (docs/query-language.md). */
export function matchesFilter(event: AuditEvent, filter: QueryFilter): boolean {
  return compileMatcher(filter)(event);
}
