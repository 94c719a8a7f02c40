import { canonicalJson, type EventChanges, type JsonValue } from "@sealtrail/core";

export interface DiffOptions {
  /** Fields whose values never enter the log (secrets, tokens). A change to one is still shown, as `"[redacted]"`. */
  readonly exclude?: readonly string[];
}

export const REDACTED = "[redacted]";

/** A column value as JSON: Dates as RFC 3339, bytes as base64, bigints as decimal strings. */
export function toJsonValue(value: unknown): JsonValue {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonValue(v)]));
  return value as JsonValue;
}

/**
 * The fields that differ between two versions of a row, before and after. A row that did not
 * exist (insert) or no longer exists (delete) is `undefined`. Returns undefined when nothing changed.
 */
export function diffChanges(
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
  options: DiffOptions = {},
): EventChanges | undefined {
  const exclude = new Set(options.exclude ?? []);
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  const was: { [key: string]: JsonValue } = {};
  const now: { [key: string]: JsonValue } = {};
  for (const key of [...keys].sort()) {
    const b = before && Object.hasOwn(before, key) ? toJsonValue(before[key]) : undefined;
    const a = after && Object.hasOwn(after, key) ? toJsonValue(after[key]) : undefined;
    if (b !== undefined && a !== undefined && canonicalJson(b) === canonicalJson(a)) continue;
    if (b !== undefined) was[key] = exclude.has(key) ? REDACTED : b;
    if (a !== undefined) now[key] = exclude.has(key) ? REDACTED : a;
  }
  if (Object.keys(was).length === 0 && Object.keys(now).length === 0) return undefined;
  return { ...(before ? { before: was } : {}), ...(after ? { after: now } : {}) };
}
