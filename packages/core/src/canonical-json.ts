import { InputError } from "./errors.js";

/** A JSON value as parsed: the only inputs canonicalization accepts. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * RFC 8785 (JCS) canonical JSON. Keys sort by UTF-16 code units (§3.2.3), numbers use the
 * ECMAScript shortest round-trip form (§3.2.2.3, which is what Number#toString produces),
 * strings use JSON.stringify's escaping (§3.2.2.2). Lone surrogates and non-finite numbers
 * are refused: I-JSON (RFC 7493) forbids them and they have no canonical form. Native
 * JSON.stringify writes the text whenever the keys can be put in order for it (twice as fast on a
 * typical event, and the sealed event is built in order: event.ts `sealEvent`).
 */
export function canonicalJson(value: unknown): string {
  const path: (string | number)[] = [];
  try {
    const ordered = inCodeUnitOrder(value, path);
    if (ordered !== SLOW_PATH) {
      const text = JSON.stringify(ordered);
      // JSON.stringify writes a lone surrogate as a \udXXX escape and every other \u escape below
      // U+0020, so no "\ud" in the text means none anywhere, keys included. With one (or a
      // backslash followed by "ud"), the written path decides, and names where it is.
      if (!text.includes("\\ud")) return text;
    }
    return serialize(value, path);
  } catch (error) {
    if (error instanceof CanonicalFault) throw new InputError("non_canonical_json", `${error.message} at ${where(path)}`);
    throw error;
  }
}

/**
 * Thrown inside `serialize` with the offending member still on the path stack, so the path text is
 * built only for the error: building it for every member was most of the allocation on ingest.
 */
class CanonicalFault extends Error {}

const where = (path: readonly (string | number)[]): string => (path.length === 0 ? "/" : `/${path.join("/")}`);

/** Returned by `inCodeUnitOrder` for an object that JSON.stringify cannot be made to write in order. */
const SLOW_PATH = Symbol("slow path");

/** An array index ("0" … "4294967294"): JavaScript enumerates such keys first, in numeric order. */
const ARRAY_INDEX = /^(?:0|[1-9]\d{0,9})$/;
const isArrayIndex = (key: string): boolean => ARRAY_INDEX.test(key) && Number(key) < 4294967295;

/**
 * The fast path (native JSON.stringify writes the text): checks everything `serialize` checks and
 * returns the value with every object's keys in code-unit order, rebuilding only the objects whose
 * keys come in another order. JSON.stringify already writes numbers, strings and escapes as RFC
 * 8785 does; it only follows the objects' own key order, which cannot be chosen for array-index
 * keys (always first, in numeric order), and a copy cannot hold `__proto__` as a plain member
 * (assigning it sets the prototype; a null-prototype copy would make JSON.stringify several times
 * slower): with either anywhere, `serialize` writes it all.
 */
function inCodeUnitOrder(value: unknown, path: (string | number)[]): unknown {
  if (value === null) return value;
  switch (typeof value) {
    case "boolean":
      return value;
    case "number":
      if (!Number.isFinite(value)) throw new CanonicalFault("non-finite number");
      return value;
    case "string":
      return value;
    case "object": {
      if (Array.isArray(value)) {
        let copy: unknown[] | undefined;
        for (let i = 0; i < value.length; i++) {
          path.push(i);
          const item = inCodeUnitOrder(value[i], path);
          path.pop();
          if (item === SLOW_PATH) return item;
          if (item !== value[i]) copy ??= value.slice(0, i);
          copy?.push(item);
        }
        return copy ?? value;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) throw new CanonicalFault("unsupported object type");
      const keys = Object.keys(value);
      let sorted = true;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        if (isArrayIndex(key) || key === "__proto__") return SLOW_PATH;
        if (i > 0 && (keys[i - 1] as string) > key) sorted = false;
      }
      if (!sorted) keys.sort(compareUtf16);
      let copy: Record<string, unknown> | undefined = sorted ? undefined : {};
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        const member = (value as Record<string, unknown>)[key];
        if (member === undefined) continue;
        path.push(key);
        const ordered = inCodeUnitOrder(member, path);
        path.pop();
        if (ordered === SLOW_PATH) return ordered;
        if (ordered !== member && copy === undefined) {
          // Keys already in order: copy the ones before this member, then go on copying.
          copy = {};
          for (let j = 0; j < i; j++) {
            const earlier = keys[j] as string;
            const kept = (value as Record<string, unknown>)[earlier];
            if (kept !== undefined) copy[earlier] = kept;
          }
        }
        if (copy !== undefined) copy[key] = ordered;
      }
      return copy ?? value;
    }
    default:
      throw new CanonicalFault(`unsupported ${typeof value}`);
  }
}

function serialize(value: unknown, path: (string | number)[]): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new CanonicalFault("non-finite number");
      return JSON.stringify(value);
    case "string":
      assertWellFormed(value);
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) {
        let out = "[";
        // Indexed, not map: map skips holes and would emit "[,1]"; a hole reads as undefined (refused).
        for (let i = 0; i < value.length; i++) {
          path.push(i);
          out += (i === 0 ? "" : ",") + serialize(value[i], path);
          path.pop();
        }
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) throw new CanonicalFault("unsupported object type");
      const keys = Object.keys(value).sort(compareUtf16);
      let out = "{";
      for (const key of keys) {
        const member = (value as Record<string, unknown>)[key];
        if (member === undefined) continue;
        assertWellFormed(key);
        path.push(key);
        out += `${out.length === 1 ? "" : ","}${JSON.stringify(key)}:${serialize(member, path)}`;
        path.pop();
      }
      return `${out}}`;
    }
    default:
      throw new CanonicalFault(`unsupported ${typeof value}`);
  }
}

/** Plain code-unit order, which is what `<` on JS strings already is (RFC 8785 §3.2.3). */
function compareUtf16(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Lone surrogates have no UTF-8 form (RFC 8785 §3.2.2.2, I-JSON). Native where Node has it (20+). */
const isWellFormed: (text: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === "function"
    ? (text) => (text as string & { isWellFormed(): boolean }).isWellFormed()
    : (text) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);

function assertWellFormed(text: string): void {
  if (!isWellFormed(text)) throw new CanonicalFault("lone surrogate in string");
}
