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
  return serialize(value, "");
}

function serialize(value: unknown, path: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new InputError("non_canonical_json", `non-finite number at ${path || "/"}`);
      return JSON.stringify(value);
    case "string":
      assertWellFormed(value, path);
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) {
        // Array.from visits holes as undefined (refused below); map would skip them and emit "[,1]".
        return `[${Array.from(value, (item, i) => serialize(item, `${path}/${i}`)).join(",")}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new InputError("non_canonical_json", `unsupported object type at ${path || "/"}`);
      }
      const keys = Object.keys(value).sort(compareUtf16);
      const members: string[] = [];
      for (const key of keys) {
        const member = (value as Record<string, unknown>)[key];
        if (member === undefined) continue;
        assertWellFormed(key, path);
        members.push(`${JSON.stringify(key)}:${serialize(member, `${path}/${key}`)}`);
      }
      return `{${members.join(",")}}`;
    }
    default:
      throw new InputError("non_canonical_json", `unsupported ${typeof value} at ${path || "/"}`);
  }
}

/** Plain code-unit order, which is what `<` on JS strings already is (RFC 8785 §3.2.3). */
function compareUtf16(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function assertWellFormed(text: string, path: string): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      throw new InputError("non_canonical_json", `lone surrogate in string at ${path || "/"}`);
    }
    if (c >= 0xdc00 && c <= 0xdfff) {
      throw new InputError("non_canonical_json", `lone surrogate in string at ${path || "/"}`);
    }
  }
}
