import { QUERY_QUALIFIERS } from "@sealtrail/core";

/** One whitespace-separated term of a query, as docs/query-language.md splits them (quotes kept). */
export interface Term {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** Splits query text into terms; a quote runs to its closing quote (or the end, while typing). */
export function splitTerms(text: string): Term[] {
  const terms: Term[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
    if (i >= text.length) break;
    const start = i;
    let quoted = false;
    while (i < text.length && (quoted || !/\s/.test(text[i] as string))) {
      if (text[i] === "\\" && quoted) i++;
      else if (text[i] === '"') quoted = !quoted;
      i++;
    }
    terms.push({ start, end: Math.min(i, text.length), text: text.slice(start, i) });
  }
  return terms;
}

/** A value as the language needs it written: bare when it can be, else quoted with escapes. */
export function quoteValue(value: string): string {
  if (value.length > 0 && !/[\s"*]/.test(value) && !value.startsWith("-")) return value;
  return `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/**
 * Sets (or, with undefined, removes) the positive terms of one qualifier, leaving every other term
 * as the user wrote it. Quick filters edit the query text this way, so the search bar stays the one
 * place a query lives.
 */
export function setQualifier(text: string, name: string, values: readonly string[] | undefined): string {
  const kept = splitTerms(text)
    .filter((term) => !term.text.startsWith(`${name}:`))
    .map((term) => term.text);
  for (const value of values ?? []) kept.push(`${name}:${value}`);
  return kept.join(" ");
}

/** The positive values of one qualifier as written (unquoted), e.g. to show them in a quick filter. */
export function qualifierValues(text: string, name: string): string[] {
  return splitTerms(text)
    .filter((term) => term.text.startsWith(`${name}:`))
    .map((term) => unquote(term.text.slice(name.length + 1)));
}

function unquote(value: string): string {
  if (!value.startsWith('"')) return value;
  return value.slice(1, value.endsWith('"') && value.length > 1 ? -1 : undefined).replace(/\\(["\\])/g, "$1");
}

/** Qualifiers worth completing; `meta.KEY` needs a key typed by hand. */
const COMPLETABLE = QUERY_QUALIFIERS.filter((q) => q !== "meta.KEY").map((q) => (q === "has" ? "has:meta." : `${q}:`));

/** Fields whose known values come from the stats API (`groupBy`). */
export type ValueSource = "actor" | "action" | "outcome";

export interface Completion {
  /** What replaces [from, to) of the query text. */
  readonly insert: string;
  readonly label: string;
  readonly from: number;
  readonly to: number;
}

export interface CompletionRequest {
  readonly field?: ValueSource;
  readonly complete: (values: readonly string[]) => Completion[];
}

/**
 * What to complete at the caret: qualifier names for a bare word, known values after
 * `actor:`, `action:` and `outcome:` (the caller fetches those lazily and passes them to `complete`).
 */
export function completionAt(text: string, caret: number): CompletionRequest {
  const term = splitTerms(text).find((t) => t.start <= caret && caret <= t.end);
  const start = term?.start ?? caret;
  const typed = text.slice(start, caret);
  const negated = typed.startsWith("-") ? 1 : 0;
  const word = typed.slice(negated);
  const from = start + negated;
  const to = term && caret >= term.start ? term.end : caret;
  const colon = word.indexOf(":");
  if (colon < 0) {
    return {
      complete: () =>
        COMPLETABLE.filter((q) => q.startsWith(word) && q !== word)
          .slice(0, 12)
          .map((q) => ({ insert: q, label: q, from, to })),
    };
  }
  const name = word.slice(0, colon);
  const prefix = unquote(word.slice(colon + 1));
  if (name !== "actor" && name !== "action" && name !== "outcome") return { complete: () => [] };
  return {
    field: name,
    complete: (values) =>
      values
        .filter((v) => v.startsWith(prefix) && v !== prefix)
        .slice(0, 12)
        .map((v) => ({ insert: `${name}:${quoteValue(v)} `, label: v, from, to })),
  };
}
