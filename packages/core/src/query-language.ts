import { InputError } from "./errors.js";
import type { MetadataMatch, QueryExclusions, QueryFilter, TargetMatch } from "./query.js";
import { type FilterValueKind, filterValueProblem, normalizeTimeBound, QUERY_LIMITS } from "./query-filter.js";
import { normalizeTimestamp } from "./timestamp.js";

/*
 * The query language (docs/query-language.md): GitHub audit-log style terms, compiled to the one
 * QueryFilter every store executes. Hand-written single-pass scanner: input is bounded
 * (QUERY_LIMITS.queryLength) and nothing backtracks, so any input fails or succeeds in linear time.
 */

export interface ParseQueryOptions {
  /** The instant relative bounds like `after:-24h` count back from. Default: the current time. */
  now?: Date;
}

/** A query the language cannot read. `position` is the 0-based index (UTF-16 code units) where reading failed. */
export class QueryError extends InputError {
  readonly position: number;
  /** What would have been accepted at `position`, for an editor hint. */
  readonly expected: string;
  constructor(position: number, detail: string, expected: string) {
    const message = `at column ${position + 1}: ${detail}`;
    super("invalid_query", message, { problems: [{ parameter: "q", detail: message }] });
    this.position = position;
    this.expected = expected;
  }
}

const QUALIFIERS = [
  "actor",
  "actor.type",
  "action",
  "target",
  "target.type",
  "target.id",
  "outcome",
  "ip",
  "request",
  "session",
  "has",
  "after",
  "before",
  "received-after",
  "received-before",
] as const;
type Qualifier = (typeof QUALIFIERS)[number];
const QUALIFIER_SET: ReadonlySet<string> = new Set(QUALIFIERS);
/** Every qualifier the language knows (`meta.KEY` stands for `meta.` plus any key), e.g. for autocompletion. */
export const QUERY_QUALIFIERS: readonly string[] = Object.freeze([...QUALIFIERS, "meta.KEY"]);
const QUALIFIER_LIST = QUERY_QUALIFIERS.join(", ");

type TimeQualifier = "after" | "before" | "received-after" | "received-before";
type TimeField = "occurredAfter" | "occurredBefore" | "receivedAfter" | "receivedBefore";
const TIME_FIELD: Record<TimeQualifier, TimeField> = {
  after: "occurredAfter",
  before: "occurredBefore",
  "received-after": "receivedAfter",
  "received-before": "receivedBefore",
};
const OPPOSITE: Record<TimeQualifier, TimeQualifier> = {
  after: "before",
  before: "after",
  "received-after": "received-before",
  "received-before": "received-after",
};

type ListField = "actor" | "actorType" | "action" | "actionPrefix" | "outcome" | "ip" | "requestId" | "sessionId";
const LIST_QUALIFIER: Record<ListField, string> = {
  actor: "actor",
  actorType: "actor.type",
  action: "action",
  actionPrefix: "action",
  outcome: "outcome",
  ip: "ip",
  requestId: "request",
  sessionId: "session",
};

// Names people reach for; only used to suggest the real qualifier, never accepted.
const LIKELY_MEANT: Readonly<Record<string, string>> = {
  user: "actor",
  by: "actor",
  who: "actor",
  "actor.id": "actor",
  "actor-type": "actor.type",
  event: "action",
  verb: "action",
  resource: "target",
  object: "target",
  "target-type": "target.type",
  "target-id": "target.id",
  status: "outcome",
  result: "outcome",
  address: "ip",
  since: "after",
  from: "after",
  until: "before",
  to: "before",
  "request-id": "request",
  request_id: "request",
  requestid: "request",
  "session-id": "session",
  session_id: "session",
  sessionid: "session",
  meta: "meta.KEY",
  metadata: "meta.KEY",
  received_after: "received-after",
  received_before: "received-before",
};

const EXPECTED: Record<FilterValueKind, string> = {
  actor: "an actor id",
  actorType: "an actor type like user",
  action: "an action like document.shared, or a prefix like document.*",
  actionPrefix: "an action prefix like document.*",
  outcome: "success, failure or denied",
  ip: "an IPv4 or IPv6 address",
  requestId: "a request id",
  sessionId: "a session id",
  targetType: "a target type like document",
  targetId: "a target id",
  metadataKey: "a metadata key",
  metadataValue: "a metadata value",
  text: "a word or phrase with a letter or digit",
};

const RELATIVE = /^-(\d{1,6})([mhdw])$/;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const SPACE = /\s/u;
const LONE_SURROGATE = /\p{Cs}/u;

function isSpace(char: string | undefined): boolean {
  return char !== undefined && SPACE.test(char);
}

/** Short and safe to echo: qualifier names and keys are schema, but are still user input. */
function shown(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The known qualifier closest to a mistyped one. */
export function suggestQualifier(name: string): string {
  const lower = name.toLowerCase().slice(0, 40);
  if (QUALIFIER_SET.has(lower)) return lower;
  const meant = LIKELY_MEANT[lower];
  if (meant) return meant;
  if (lower.startsWith("metadata.")) return `meta.${name.slice("metadata.".length)}`;
  let best: string = QUALIFIERS[0];
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of QUERY_QUALIFIERS) {
    const distance = levenshtein(lower, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

interface Value {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly quoted: boolean;
}

/** The conditions gathered for one side: the filter itself, or its `not`. */
class Side {
  readonly #lists = new Map<ListField, string[]>();
  readonly #targets = new Map<string, TargetMatch>();
  readonly #metadata = new Map<string, MetadataMatch>();
  readonly #text: string[] = [];

  has(field: ListField): boolean {
    return this.#lists.has(field);
  }

  addList(field: ListField, value: string, at: number): void {
    const values = this.#lists.get(field) ?? [];
    if (values.includes(value)) return;
    if (values.length >= QUERY_LIMITS.valuesPerField) throw tooMany(at, `"${LIST_QUALIFIER[field]}:"`, QUERY_LIMITS.valuesPerField);
    values.push(value);
    this.#lists.set(field, values);
  }

  addTarget(match: TargetMatch, at: number): void {
    const key = JSON.stringify([match.type ?? null, match.id ?? null]);
    if (this.#targets.has(key)) return;
    if (this.#targets.size >= QUERY_LIMITS.valuesPerField) throw tooMany(at, "target", QUERY_LIMITS.valuesPerField);
    this.#targets.set(key, match);
  }

  addMetadata(match: MetadataMatch, at: number): void {
    const key = JSON.stringify([match.key, match.value ?? null]);
    if (this.#metadata.has(key)) return;
    if (this.#metadata.size >= QUERY_LIMITS.valuesPerField) throw tooMany(at, "metadata", QUERY_LIMITS.valuesPerField);
    this.#metadata.set(key, match);
  }

  addText(phrase: string, at: number): void {
    if (this.#text.includes(phrase)) return;
    if (this.#text.length >= QUERY_LIMITS.textPhrases) throw tooMany(at, "text", QUERY_LIMITS.textPhrases);
    this.#text.push(phrase);
  }

  conditions(): QueryExclusions {
    const out: QueryExclusions = {};
    for (const [field, values] of this.#lists) (out as Record<ListField, string[]>)[field] = values;
    if (this.#targets.size > 0) out.target = [...this.#targets.values()];
    if (this.#metadata.size > 0) out.metadata = [...this.#metadata.values()];
    if (this.#text.length > 0) out.text = [...this.#text];
    return out;
  }
}

function tooMany(at: number, what: string, max: number): QueryError {
  return new QueryError(at, `too many ${what} conditions: at most ${max} on each side of a query`, `at most ${max} ${what} conditions`);
}

class Parser {
  readonly #s: string;
  readonly #now: Date | undefined;
  readonly #positive = new Side();
  readonly #negative = new Side();
  readonly #times = new Map<TimeField, { value: string; at: number }>();

  constructor(text: string, now: Date | undefined) {
    this.#s = text;
    this.#now = now;
  }

  parse(): QueryFilter {
    const s = this.#s;
    if (s.length > QUERY_LIMITS.queryLength) {
      throw new QueryError(
        QUERY_LIMITS.queryLength,
        `the query is ${s.length} characters long; the limit is ${QUERY_LIMITS.queryLength}`,
        `at most ${QUERY_LIMITS.queryLength} characters`,
      );
    }
    this.#refuseForbiddenCharacters();
    let i = 0;
    for (;;) {
      while (i < s.length && isSpace(s[i])) i++;
      if (i >= s.length) break;
      i = this.#term(i);
    }
    return this.#result();
  }

  #refuseForbiddenCharacters(): void {
    const s = this.#s;
    let at = s.search(LONE_SURROGATE);
    for (let i = 0; i < (at < 0 ? s.length : at); i++) {
      const code = s.charCodeAt(i);
      if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f) {
        at = i;
        break;
      }
    }
    if (at >= 0) throw new QueryError(at, "control characters and lone surrogates are not allowed in a query", "printable text");
  }

  #result(): QueryFilter {
    const filter: QueryFilter = this.#positive.conditions();
    for (const [after, before] of [
      ["after", "before"],
      ["received-after", "received-before"],
    ] as const) {
      const from = this.#times.get(TIME_FIELD[after]);
      const to = this.#times.get(TIME_FIELD[before]);
      if (from && to && Date.parse(from.value) >= Date.parse(to.value)) {
        throw new QueryError(
          Math.max(from.at, to.at),
          `"${before}:" must be later than "${after}:" (${after}: is inclusive, ${before}: exclusive)`,
          `a "${before}:" later than "${after}:"`,
        );
      }
    }
    for (const [field, { value }] of this.#times) filter[field] = value;
    const not = this.#negative.conditions();
    if (Object.keys(not).length > 0) filter.not = not;
    return filter;
  }

  #term(start: number): number {
    const s = this.#s;
    let i = start;
    let negated = false;
    if (s[i] === "-") {
      negated = true;
      i++;
      if (i >= s.length || isSpace(s[i])) {
        throw new QueryError(
          start,
          'a lone "-" excludes nothing: put the term to exclude right after it, like -action:user.login',
          'a term right after "-"',
        );
      }
      if (s[i] === "-") throw new QueryError(i, 'expected a term after "-", not another "-"', 'a term right after "-"');
    }
    const side = negated ? this.#negative : this.#positive;
    if (s[i] === '"') {
      const phrase = this.#quoted(i);
      this.#endOfTerm(phrase.end);
      this.#text(side, phrase.value, i, start);
      return phrase.end;
    }
    let j = i;
    while (j < s.length && !isSpace(s[j]) && s[j] !== ":" && s[j] !== '"') j++;
    const head = s.slice(i, j);
    if (s[j] === ":") return this.#qualified(start, i, head, j + 1, negated);
    if (s[j] === '"') {
      if (head === "meta.") {
        const key = this.#quoted(j);
        if (s[key.end] !== ":") throw new QueryError(key.end, 'expected ":" and a value after the metadata key', '":" and a value');
        return this.#metadata(side, start, key.value, j, key.end + 1);
      }
      throw new QueryError(
        j,
        "a quote may only open a term or a value: put a space before it, or quote the whole term",
        "whitespace before the quote",
      );
    }
    this.#noWildcard(head, i, "free text (to search for the word, leave the * out)");
    this.#text(side, head, i, start);
    return j;
  }

  #qualified(start: number, nameAt: number, name: string, valueAt: number, negated: boolean): number {
    const side = negated ? this.#negative : this.#positive;
    if (name.startsWith("meta.")) {
      const key = name.slice("meta.".length);
      if (key === "") throw new QueryError(nameAt + 5, 'expected a metadata key after "meta.", like meta.plan:pro', "a metadata key");
      this.#noWildcard(key, nameAt + 5, "a metadata key (quote the key to match a literal *)");
      return this.#metadata(side, start, key, nameAt + 5, valueAt);
    }
    if (!QUALIFIER_SET.has(name)) {
      if (name === "") {
        throw new QueryError(
          nameAt,
          'expected a qualifier before ":" (to search for text with a colon, quote it)',
          `a qualifier: ${QUALIFIER_LIST}`,
        );
      }
      throw new QueryError(
        nameAt,
        `unknown qualifier "${shown(name)}:"; did you mean "${suggestQualifier(name)}:"? (to search for text with a colon, quote it)`,
        `a qualifier: ${QUALIFIER_LIST}`,
      );
    }
    const qualifier = name as Qualifier;
    if (qualifier === "has") return this.#has(side, start, valueAt);
    if (qualifier in TIME_FIELD) return this.#time(qualifier as TimeQualifier, start, valueAt, negated);
    const value = this.#value(valueAt, `${qualifier}:`);
    switch (qualifier) {
      case "actor":
        side.addList("actor", this.#plain("actor", value, "actor:"), start);
        break;
      case "actor.type":
        side.addList("actorType", this.#plain("actorType", value, "actor.type:"), start);
        break;
      case "action":
        this.#action(side, negated, value, start);
        break;
      case "target":
        this.#target(side, value, start);
        break;
      case "target.type":
        side.addTarget({ type: this.#plain("targetType", value, "target.type:") }, start);
        break;
      case "target.id":
        side.addTarget({ id: this.#plain("targetId", value, "target.id:") }, start);
        break;
      case "outcome":
        side.addList("outcome", this.#plain("outcome", value, "outcome:"), start);
        break;
      case "ip":
        side.addList("ip", this.#plain("ip", value, "ip:"), start);
        break;
      case "request":
        side.addList("requestId", this.#plain("requestId", value, "request:"), start);
        break;
      case "session":
        side.addList("sessionId", this.#plain("sessionId", value, "session:"), start);
        break;
    }
    return value.end;
  }

  #action(side: Side, negated: boolean, value: Value, start: number): void {
    const wildcard = !value.quoted && value.text.endsWith(".*");
    const text = wildcard ? value.text.slice(0, -1) : value.text;
    if (!value.quoted) this.#noWildcard(text, value.start, 'an action: only a trailing ".*" is a wildcard, like action:document.*');
    const field = wildcard ? "actionPrefix" : "action";
    this.#check(field, text, value.start, '"action:"');
    const other = wildcard ? "action" : "actionPrefix";
    if (!negated && side.has(other)) {
      throw new QueryError(
        start,
        '"action:" cannot mix exact actions and prefixes (an event would have to match both); run one query for each, or exclude with -action:',
        wildcard ? "an exact action, like the earlier ones" : "an action prefix, like the earlier ones",
      );
    }
    side.addList(field, text, start);
  }

  #target(side: Side, value: Value, start: number): void {
    const slash = value.text.indexOf("/");
    if (slash < 0) {
      throw new QueryError(
        value.start,
        'expected TYPE/ID or TYPE/* after "target:", like target:document/doc_9 (or target.type:TYPE, target.id:ID)',
        "TYPE/ID or TYPE/*",
      );
    }
    const type = value.text.slice(0, slash);
    const id = value.text.slice(slash + 1);
    const idAt = value.quoted ? value.start : value.start + slash + 1;
    if (!value.quoted) this.#noWildcard(type, value.start, 'a target type: only "TYPE/*" is a wildcard');
    this.#check("targetType", type, value.start, 'the type in "target:"');
    if (!value.quoted && id === "*") {
      side.addTarget({ type }, start);
      return;
    }
    if (!value.quoted) this.#noWildcard(id, idAt, 'a target id: only a whole "*" id is a wildcard, like target:document/*');
    this.#check("targetId", id, idAt, 'the id in "target:"');
    side.addTarget({ type, id }, start);
  }

  #has(side: Side, start: number, valueAt: number): number {
    const s = this.#s;
    if (s.startsWith("meta.", valueAt) && s[valueAt + 5] === '"') {
      const key = this.#quoted(valueAt + 5);
      this.#endOfTerm(key.end);
      this.#check("metadataKey", key.value, valueAt + 5, "the key in has:meta.");
      side.addMetadata({ key: key.value }, start);
      return key.end;
    }
    const value = this.#value(valueAt, "has:");
    if (!value.text.startsWith("meta.")) throw new QueryError(value.start, '"has:" takes a metadata key, like has:meta.plan', "meta.KEY");
    const key = value.text.slice("meta.".length);
    const keyAt = value.quoted ? value.start : value.start + 5;
    if (key === "") throw new QueryError(keyAt, 'expected a metadata key after "has:meta."', "a metadata key");
    if (!value.quoted) this.#noWildcard(key, keyAt, "a metadata key (quote the key to match a literal *)");
    this.#check("metadataKey", key, keyAt, "the key in has:meta.");
    side.addMetadata({ key }, start);
    return value.end;
  }

  #metadata(side: Side, start: number, key: string, keyAt: number, valueAt: number): number {
    this.#check("metadataKey", key, keyAt, "the metadata key");
    const label = `meta.${shown(key)}:`;
    if (valueAt >= this.#s.length || isSpace(this.#s[valueAt])) {
      throw new QueryError(
        valueAt,
        `expected a value after "${label}" (has:meta.KEY requires only the key; meta.KEY:"" matches an empty value)`,
        `a value after "${label}"`,
      );
    }
    const value = this.#value(valueAt, label);
    if (!value.quoted) this.#noWildcard(value.text, value.start, "a metadata value (quote the value to match a literal *)");
    this.#check("metadataValue", value.text, value.start, `"${label}"`);
    side.addMetadata({ key, value: value.text }, start);
    return value.end;
  }

  #time(qualifier: TimeQualifier, start: number, valueAt: number, negated: boolean): number {
    if (negated) {
      throw new QueryError(start, `"${qualifier}:" cannot be negated; use "${OPPOSITE[qualifier]}:" instead`, `"${OPPOSITE[qualifier]}:"`);
    }
    const field = TIME_FIELD[qualifier];
    if (this.#times.has(field)) {
      throw new QueryError(start, `"${qualifier}:" may appear only once (bounds do not combine)`, `one "${qualifier}:" per query`);
    }
    const value = this.#value(valueAt, `${qualifier}:`);
    const expected = "a date like 2026-11-01, a time like 2026-11-01T12:00Z, an RFC 3339 timestamp, or a relative time like -24h";
    const bound = this.#timeBound(value.text);
    if (bound === undefined) throw new QueryError(value.start, `"${qualifier}:" expects ${expected}`, expected);
    this.#times.set(field, { value: bound, at: start });
    return value.end;
  }

  #timeBound(text: string): string | undefined {
    const relative = RELATIVE.exec(text);
    if (!relative) return normalizeTimeBound(text);
    const now = this.#now?.getTime() ?? Date.now();
    const ms = now - Number(relative[1]) * (UNIT_MS[relative[2] ?? ""] ?? 0);
    if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return undefined;
    return normalizeTimestamp(new Date(ms).toISOString());
  }

  #text(side: Side, phrase: string, at: number, start: number): void {
    this.#check("text", phrase, at, "a text phrase");
    side.addText(phrase, start);
  }

  #plain(kind: FilterValueKind, value: Value, label: string): string {
    if (!value.quoted) this.#noWildcard(value.text, value.start, `"${label}" values (quote the value to match a literal *)`);
    this.#check(kind, value.text, value.start, `"${label}"`);
    return value.text;
  }

  #check(kind: FilterValueKind, text: string, at: number, label: string): void {
    const problem = filterValueProblem(kind, text);
    if (problem) throw new QueryError(at, `${label} ${problem}`, EXPECTED[kind]);
  }

  #noWildcard(text: string, at: number, where: string): void {
    const star = text.indexOf("*");
    if (star >= 0) throw new QueryError(at + star, `"*" is not a wildcard in ${where}`, 'no "*" here');
  }

  #value(at: number, label: string): Value {
    const s = this.#s;
    if (at >= s.length || isSpace(s[at]))
      throw new QueryError(at, `expected a value after "${shown(label)}"`, `a value after "${shown(label)}"`);
    if (s[at] === '"') {
      const quoted = this.#quoted(at);
      this.#endOfTerm(quoted.end);
      return { text: quoted.value, start: at, end: quoted.end, quoted: true };
    }
    let j = at;
    while (j < s.length && !isSpace(s[j])) {
      if (s[j] === '"') {
        throw new QueryError(
          j,
          'a quote inside a value: quote the whole value instead, like actor:"a b"',
          "whitespace or the end of the value",
        );
      }
      j++;
    }
    return { text: s.slice(at, j), start: at, end: j, quoted: false };
  }

  /** A double-quoted string starting at `at`; inside, \" and \\ are the only escapes. */
  #quoted(at: number): { value: string; end: number } {
    const s = this.#s;
    let value = "";
    let j = at + 1;
    for (;;) {
      if (j >= s.length) throw new QueryError(at, "this quote is never closed", 'a closing "');
      const char = s[j];
      if (char === '"') return { value, end: j + 1 };
      if (char === "\\") {
        const next = s[j + 1];
        if (next === undefined) throw new QueryError(at, "this quote is never closed", 'a closing "');
        if (next !== '"' && next !== "\\") {
          throw new QueryError(j, 'unknown escape: inside quotes only \\" and \\\\ are escapes', '\\" or \\\\');
        }
        value += next;
        j += 2;
        continue;
      }
      value += char;
      j++;
    }
  }

  #endOfTerm(at: number): void {
    if (at < this.#s.length && !isSpace(this.#s[at])) {
      throw new QueryError(at, "expected a space after the closing quote", "whitespace or the end of the query");
    }
  }
}

/**
 * Parses the query language (docs/query-language.md) into a QueryFilter:
 * `actor:u_42 action:document.* -outcome:success after:2026-11-01 "shared with"`.
 * An empty query is the empty filter (everything). Throws QueryError (code `invalid_query`) with
 * the 0-based `position` of the first problem and what was `expected` there.
 */
export function parseQuery(text: string, options: ParseQueryOptions = {}): QueryFilter {
  if (typeof text !== "string") throw new QueryError(0, "a query must be text", "text");
  return new Parser(text, options.now).parse();
}

const BARE_VALUE = /^[^\s"\\*]+$/u;
const BARE_KEY = /^[^\s"\\*:]+$/u;
const BARE_WORD = /^[^\s"\\*:-][^\s"\\*:]*$/u;

function quote(text: string): string {
  return `"${text.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

function value(text: string): string {
  return BARE_VALUE.test(text) ? text : quote(text);
}

function key(text: string): string {
  return BARE_KEY.test(text) ? text : quote(text);
}

function formatConditions(c: QueryExclusions, sign: string, terms: string[]): void {
  for (const v of c.actor ?? []) terms.push(`${sign}actor:${value(v)}`);
  for (const v of c.actorType ?? []) terms.push(`${sign}actor.type:${value(v)}`);
  for (const v of c.action ?? []) terms.push(`${sign}action:${value(v)}`);
  for (const v of c.actionPrefix ?? []) terms.push(`${sign}action:${v}*`);
  for (const t of c.target ?? []) {
    if (t.type !== undefined && t.id !== undefined) {
      const both = `${t.type}/${t.id}`;
      terms.push(`${sign}target:${BARE_VALUE.test(t.type) && BARE_VALUE.test(t.id) ? both : quote(both)}`);
    } else if (t.type !== undefined) terms.push(`${sign}target.type:${value(t.type)}`);
    else if (t.id !== undefined) terms.push(`${sign}target.id:${value(t.id)}`);
  }
  for (const v of c.outcome ?? []) terms.push(`${sign}outcome:${v}`);
  for (const v of c.ip ?? []) terms.push(`${sign}ip:${value(v)}`);
  for (const v of c.requestId ?? []) terms.push(`${sign}request:${value(v)}`);
  for (const v of c.sessionId ?? []) terms.push(`${sign}session:${value(v)}`);
  for (const m of c.metadata ?? []) {
    terms.push(m.value === undefined ? `${sign}has:meta.${key(m.key)}` : `${sign}meta.${key(m.key)}:${value(m.value)}`);
  }
  for (const phrase of c.text ?? []) terms.push(`${sign}${BARE_WORD.test(phrase) ? phrase : quote(phrase)}`);
}

/** The shortest form that parses back to the same bound: 2026-11-01, 2026-11-27T12:00Z or the full timestamp. */
function shortTime(bound: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}):00\.000Z$/.exec(bound);
  if (!match) return value(bound);
  return match[2] === "00:00" ? (match[1] as string) : `${match[1]}T${match[2]}Z`;
}

/**
 * Prints a filter in the query language, for the viewer's search box and for links. For every
 * filter parseQueryFilter accepts (and that fits the length limit),
 * `parseQuery(formatQuery(filter))` deep-equals it.
 */
export function formatQuery(filter: QueryFilter): string {
  const terms: string[] = [];
  formatConditions(filter, "", terms);
  for (const [qualifier, field] of Object.entries(TIME_FIELD)) {
    const bound = filter[field];
    if (bound !== undefined) terms.push(`${qualifier}:${shortTime(bound)}`);
  }
  if (filter.not) formatConditions(filter.not, "-", terms);
  return terms.join(" ");
}
