import { InputError } from "./errors.js";

/** A JSON value as parsed: the only inputs canonicalization accepts. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * RFC 8785 (JCS) canonical JSON. Keys sort by UTF-16 code units (§3.2.3), numbers use the
 * ECMAScript shortest round-trip form (§3.2.2.3, which is what Number#toString produces),
 * strings use JSON.stringify's escaping (§3.2.2.2). Lone surrogates and non-finite numbers
 * are refused: I-JSON (RFC 7493) forbids them and they have no canonical form.
 */
export function canonicalJson(value: unknown): string {
  const path: (string | number)[] = [];
  try {
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
