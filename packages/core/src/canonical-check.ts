import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA, MINUS, OPEN_BRACE, OPEN_BRACKET, QUOTE } from "./json-chars.js";

/**
 * Checks that a text is exactly the RFC 8785 (JCS) canonical form of the JSON value it encodes,
 * in one pass over the characters, without building the value. It answers what
 * `canonicalJson(JSON.parse(text)) === text` answers (canonical-json.ts is the reference; the tests
 * compare the two on generated and mutated documents) at a fraction of the cost, which is what
 * lets a full audit re-check every leaf near the speed of hashing it.
 *
 * `onTopLevelString` receives each string member of a top-level object (decoded), so a caller
 * can read a leaf's `id` without parsing it.
 */
export function isCanonicalJson(text: string, onTopLevelString?: (key: string, value: string) => void): boolean {
  const scanner = new Scanner(text, onTopLevelString);
  return scanner.document();
}

/** JSON.stringify's short escapes (RFC 8785 §3.2.2.2): the only ones a canonical string may use. */
const SHORT_ESCAPES: Record<number, number> = { 98: 0x08, 102: 0x0c, 110: 0x0a, 114: 0x0d, 116: 0x09, 34: 0x22, 92: 0x5c };
const HAS_SHORT_ESCAPE = new Set([0x08, 0x0c, 0x0a, 0x0d, 0x09]);
const LOWER_HEX = /^[0-9a-f]{4}$/;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

interface Container {
  readonly object: boolean;
  /** The previous key of an object: members must come in strictly increasing UTF-16 order. */
  previousKey: string | undefined;
}

class Scanner {
  #pos = 0;
  readonly #text: string;
  readonly #onTopLevelString: ((key: string, value: string) => void) | undefined;

  constructor(text: string, onTopLevelString: ((key: string, value: string) => void) | undefined) {
    this.#text = text;
    this.#onTopLevelString = onTopLevelString;
  }

  /** One value and nothing after it. Containers use an explicit stack: any depth JSON.parse takes. */
  document(): boolean {
    const text = this.#text;
    const stack: Container[] = [];
    for (;;) {
      // At the start of a value.
      const c = text.charCodeAt(this.#pos);
      if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        this.#pos++;
        const object = c === OPEN_BRACE;
        if (text.charCodeAt(this.#pos) === (object ? CLOSE_BRACE : CLOSE_BRACKET)) {
          this.#pos++;
        } else {
          const container: Container = { object, previousKey: undefined };
          stack.push(container);
          if (object && !this.#key(container)) return false;
          if (object && stack.length === 1 && this.#onTopLevelString && text.charCodeAt(this.#pos) === QUOTE) {
            if (!this.#topLevelString(container.previousKey as string)) return false;
          } else {
            continue;
          }
        }
      } else if (!this.#scalar(c)) {
        return false;
      }
      // After a value: close containers or move to the next member.
      for (;;) {
        const container = stack[stack.length - 1];
        if (!container) return this.#pos === text.length;
        const next = text.charCodeAt(this.#pos++);
        if (next === COMMA) {
          if (container.object) {
            if (!this.#key(container)) return false;
            if (stack.length === 1 && this.#onTopLevelString && text.charCodeAt(this.#pos) === QUOTE) {
              if (!this.#topLevelString(container.previousKey as string)) return false;
              continue;
            }
          }
          break;
        }
        if (next !== (container.object ? CLOSE_BRACE : CLOSE_BRACKET)) return false;
        stack.pop();
      }
    }
  }

  /** A member key and its colon, in strictly increasing order (equal keys are duplicates). */
  #key(container: Container): boolean {
    const key = this.#string();
    if (key === undefined || this.#text.charCodeAt(this.#pos) !== COLON) return false;
    this.#pos++;
    if (container.previousKey !== undefined && !(container.previousKey < key)) return false;
    container.previousKey = key;
    return true;
  }

  #topLevelString(key: string): boolean {
    const value = this.#string();
    if (value === undefined) return false;
    this.#onTopLevelString?.(key, value);
    return true;
  }

  #scalar(c: number): boolean {
    const text = this.#text;
    if (c === QUOTE) return this.#string() !== undefined;
    if (c === MINUS || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = this.#pos;
      const match = NUMBER.exec(text);
      if (!match) return false;
      const token = match[0];
      const value = Number(token);
      // RFC 8785 §3.2.2.3: the ECMAScript shortest round-trip form, which JSON.stringify produces.
      if (!Number.isFinite(value) || JSON.stringify(value) !== token) return false;
      this.#pos += token.length;
      return true;
    }
    for (const literal of ["null", "true", "false"]) {
      if (text.startsWith(literal, this.#pos)) {
        this.#pos += literal.length;
        return true;
      }
    }
    return false;
  }

  /** A canonical string literal at the cursor, decoded; undefined when it is not one. */
  #string(): string | undefined {
    const text = this.#text;
    if (text.charCodeAt(this.#pos) !== QUOTE) return undefined;
    const start = ++this.#pos;
    let decoded = "";
    let runStart = start;
    for (;;) {
      const c = text.charCodeAt(this.#pos);
      if (Number.isNaN(c) || c < 0x20) return undefined;
      if (c === QUOTE) {
        const value = decoded + text.slice(runStart, this.#pos);
        this.#pos++;
        return value;
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        // Only well-formed pairs: canonicalization refuses lone surrogates.
        const next = text.charCodeAt(this.#pos + 1);
        if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return undefined;
        this.#pos += 2;
        continue;
      }
      if (c !== BACKSLASH) {
        this.#pos++;
        continue;
      }
      decoded += text.slice(runStart, this.#pos);
      const escaped = text.charCodeAt(this.#pos + 1);
      const short = SHORT_ESCAPES[escaped];
      if (short !== undefined) {
        decoded += String.fromCharCode(short);
        this.#pos += 2;
      } else if (escaped === 0x75) {
        // \u00xx, lowercase, only for the control characters without a short escape.
        const hex = text.slice(this.#pos + 2, this.#pos + 6);
        if (!LOWER_HEX.test(hex)) return undefined;
        const code = Number.parseInt(hex, 16);
        if (code >= 0x20 || HAS_SHORT_ESCAPE.has(code)) return undefined;
        decoded += String.fromCharCode(code);
        this.#pos += 6;
      } else {
        return undefined;
      }
      runStart = this.#pos;
    }
  }
}
