import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA, MINUS, OPEN_BRACE, OPEN_BRACKET, QUOTE } from "./json-chars.js";

/**
 * Receives a string member of a top-level object as two byte ranges of the input: its key and its
 * value, inside the quotes and still escaped (`decodeJsonString` decodes one). Spans, not strings:
 * decoding every member would cost more than checking the whole document.
 */
export type TopLevelStringSpans = (keyStart: number, keyEnd: number, valueStart: number, valueEnd: number) => void;

/**
 * `isCanonicalJson` over the UTF-8 bytes themselves: true exactly when the bytes are well-formed
 * UTF-8 (RFC 3629: no overlong forms, no surrogates, no byte order mark, which a decoder would
 * silently drop) of a text `isCanonicalJson` accepts. Leaf bytes are stored and hashed as bytes,
 * so an audit checks them as bytes: no decoding to a string, no string per key, in one pass.
 * The rule stays canonical-json.ts's; canonical-check-bytes.test.ts compares the two on generated,
 * mutated and adversarial inputs.
 *
 * `onTopLevelString` sees each string member of a top-level object, as in `isCanonicalJson`, so a
 * caller can read a leaf's `id` without parsing it.
 */
export function isCanonicalJsonBytes(bytes: Uint8Array, onTopLevelString?: TopLevelStringSpans): boolean {
  // One scanner is reused (its stacks stay allocated); a call from inside a callback gets its own.
  const scanner = spare ?? new ByteScanner();
  spare = undefined;
  try {
    return scanner.document(bytes, onTopLevelString);
  } finally {
    spare = scanner;
  }
}

/** The value of a JSON string literal's contents `bytes[start, end)`, as `isCanonicalJsonBytes` accepted them. */
export function decodeJsonString(bytes: Uint8Array, start: number, end: number): string {
  let out = "";
  let run = start;
  for (let at = start; at < end; ) {
    if (bytes[at] !== BACKSLASH) {
      at++;
      continue;
    }
    if (at > run) out += decoder.decode(bytes.subarray(run, at));
    const escaped = bytes[at + 1] as number;
    const short = SHORT_ESCAPES[escaped] as number;
    if (short >= 0) {
      out += String.fromCharCode(short);
      at += 2;
    } else {
      out += String.fromCharCode(Number.parseInt(String.fromCharCode(...bytes.subarray(at + 2, at + 6)), 16));
      at += 6;
    }
    run = at;
  }
  if (end > run) out += decoder.decode(bytes.subarray(run, end));
  return out;
}

let spare: ByteScanner | undefined;

const ZERO = 0x30;
const NINE = 0x39;

/**
 * Per byte inside a string: 0 plain ASCII (copied as is), 1 the end quote, 2 a backslash,
 * 3 a control character (never raw in JSON), 4 the lead of a multi-byte UTF-8 sequence.
 */
const STRING_CLASS = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) STRING_CLASS[b] = 3;
STRING_CLASS[QUOTE] = 1;
STRING_CLASS[BACKSLASH] = 2;
for (let b = 0x80; b < 0x100; b++) STRING_CLASS[b] = 4;

/** JSON.stringify's short escapes (RFC 8785 §3.2.2.2): the only ones a canonical string may use. */
const SHORT_ESCAPES = new Int16Array(256).fill(-1);
for (const [letter, code] of [
  ["b", 0x08],
  ["f", 0x0c],
  ["n", 0x0a],
  ["r", 0x0d],
  ["t", 0x09],
  ['"', 0x22],
  ["\\", 0x5c],
] as const) {
  SHORT_ESCAPES[letter.charCodeAt(0)] = code;
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

class ByteScanner {
  #pos = 0;
  #bytes: Uint8Array = new Uint8Array(0);
  #onTopLevelString: TopLevelStringSpans | undefined;
  /** Where the string the last `#string()` scanned starts and ends (inside the quotes). */
  #start = 0;
  #end = 0;
  /** Whether that string is plain ASCII without escapes: its bytes are its UTF-16 code units. */
  #plain = true;
  // The open containers, as parallel stacks: whether each is an object, and the span of its
  // previous key (members come in strictly increasing UTF-16 order; an equal key is a duplicate).
  // Entries at and above `#depth` are stale: kept allocated for the next document.
  #depth = 0;
  readonly #isObject: boolean[] = [];
  readonly #keyStart: number[] = [];
  readonly #keyEnd: number[] = [];
  readonly #keyPlain: boolean[] = [];

  /** One value and nothing after it; the same explicit-stack walk as `isCanonicalJson`. */
  document(bytes: Uint8Array, onTopLevelString: TopLevelStringSpans | undefined): boolean {
    this.#bytes = bytes;
    this.#onTopLevelString = onTopLevelString;
    this.#pos = 0;
    const isObject = this.#isObject;
    this.#depth = 0;
    for (;;) {
      // At the start of a value.
      const c = bytes[this.#pos];
      if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        this.#pos++;
        const object = c === OPEN_BRACE;
        if (bytes[this.#pos] === (object ? CLOSE_BRACE : CLOSE_BRACKET)) {
          this.#pos++;
        } else {
          const top = this.#depth++;
          isObject[top] = object;
          this.#keyStart[top] = -1;
          if (object) {
            if (!this.#key()) return false;
            if (top === 0 && this.#onTopLevelString && bytes[this.#pos] === QUOTE) {
              if (!this.#topLevelString()) return false;
            } else {
              continue;
            }
          } else {
            continue;
          }
        }
      } else if (!this.#scalar(c)) {
        return false;
      }
      // After a value: close containers or move to the next member.
      for (;;) {
        const depth = this.#depth;
        if (depth === 0) return this.#pos === bytes.length;
        const object = isObject[depth - 1] as boolean;
        const next = bytes[this.#pos++];
        if (next === COMMA) {
          if (object) {
            if (!this.#key()) return false;
            if (depth === 1 && this.#onTopLevelString && bytes[this.#pos] === QUOTE) {
              if (!this.#topLevelString()) return false;
              continue;
            }
          }
          break;
        }
        if (next !== (object ? CLOSE_BRACE : CLOSE_BRACKET)) return false;
        this.#depth--;
      }
    }
  }

  /** A member key and its colon, after the previous key of the innermost object. */
  #key(): boolean {
    if (!this.#string() || this.#bytes[this.#pos] !== COLON) return false;
    this.#pos++;
    const top = this.#depth - 1;
    const previousStart = this.#keyStart[top] as number;
    if (previousStart >= 0 && !this.#keyFollows(previousStart, this.#keyEnd[top] as number, this.#keyPlain[top] as boolean)) {
      return false;
    }
    this.#keyStart[top] = this.#start;
    this.#keyEnd[top] = this.#end;
    this.#keyPlain[top] = this.#plain;
    return true;
  }

  /** Whether the key just scanned sorts strictly after the previous one (RFC 8785 §3.2.3). */
  #keyFollows(previousStart: number, previousEnd: number, previousPlain: boolean): boolean {
    if (!(previousPlain && this.#plain)) {
      // Escapes or non-ASCII: compare the decoded UTF-16 strings, as the reference does (UTF-8
      // byte order is code point order, which UTF-16 order is not above U+E000).
      const bytes = this.#bytes;
      return decodeJsonString(bytes, previousStart, previousEnd) < decodeJsonString(bytes, this.#start, this.#end);
    }
    const bytes = this.#bytes;
    const previousLength = previousEnd - previousStart;
    const length = this.#end - this.#start;
    const shorter = Math.min(previousLength, length);
    for (let i = 0; i < shorter; i++) {
      const a = bytes[previousStart + i] as number;
      const b = bytes[this.#start + i] as number;
      if (a !== b) return a < b;
    }
    return previousLength < length;
  }

  #topLevelString(): boolean {
    if (!this.#string()) return false;
    this.#onTopLevelString?.(this.#keyStart[0] as number, this.#keyEnd[0] as number, this.#start, this.#end);
    return true;
  }

  #scalar(c: number | undefined): boolean {
    if (c === QUOTE) return this.#string();
    if (c === MINUS || (c !== undefined && c >= ZERO && c <= NINE)) return this.#number();
    const bytes = this.#bytes;
    const at = this.#pos;
    if (c === 0x6e && bytes[at + 1] === 0x75 && bytes[at + 2] === 0x6c && bytes[at + 3] === 0x6c) {
      this.#pos += 4; // null
      return true;
    }
    if (c === 0x74 && bytes[at + 1] === 0x72 && bytes[at + 2] === 0x75 && bytes[at + 3] === 0x65) {
      this.#pos += 4; // true
      return true;
    }
    if (c === 0x66 && bytes[at + 1] === 0x61 && bytes[at + 2] === 0x6c && bytes[at + 3] === 0x73 && bytes[at + 4] === 0x65) {
      this.#pos += 5; // false
      return true;
    }
    return false;
  }

  /**
   * A number token (RFC 8259 §6 grammar), which must be the ECMAScript shortest round-trip form
   * (RFC 8785 §3.2.2.3). Integers of at most 15 digits always are (exact below 2^53, printed
   * without exponent below 10^21), except "-0"; any other token is checked as the reference does.
   */
  #number(): boolean {
    const bytes = this.#bytes;
    const start = this.#pos;
    let at = start;
    if (bytes[at] === MINUS) at++;
    const first = bytes[at];
    if (first === undefined || first < ZERO || first > NINE) return false;
    at++;
    if (first !== ZERO) {
      while (isDigit(bytes[at])) at++;
    }
    const integerEnd = at;
    let simple = true;
    if (bytes[at] === 0x2e && isDigit(bytes[at + 1])) {
      simple = false;
      at += 2;
      while (isDigit(bytes[at])) at++;
    }
    const e = bytes[at];
    if (e === 0x65 || e === 0x45) {
      let digits = at + 1;
      if (bytes[digits] === 0x2b || bytes[digits] === MINUS) digits++;
      if (isDigit(bytes[digits])) {
        simple = false;
        at = digits + 1;
        while (isDigit(bytes[at])) at++;
      }
    }
    this.#pos = at;
    const digits = integerEnd - start - (bytes[start] === MINUS ? 1 : 0);
    if (simple && digits <= 15) return !(bytes[start] === MINUS && first === ZERO);
    let token = "";
    for (let i = start; i < at; i++) token += String.fromCharCode(bytes[i] as number);
    const value = Number(token);
    return Number.isFinite(value) && JSON.stringify(value) === token;
  }

  /**
   * A canonical string literal at the cursor: records its span and whether it is plain ASCII.
   * Raw bytes must be well-formed UTF-8; escapes only where JSON.stringify writes them.
   */
  #string(): boolean {
    const bytes = this.#bytes;
    if (bytes[this.#pos] !== QUOTE) return false;
    let at = this.#pos + 1;
    this.#start = at;
    let plain = true;
    const length = bytes.length;
    for (;;) {
      // The common case first: a run of plain ASCII.
      while (at < length && STRING_CLASS[bytes[at] as number] === 0) at++;
      if (at >= length) return false;
      const kind = STRING_CLASS[bytes[at] as number];
      if (kind === 1) break;
      if (kind === 3) return false;
      plain = false;
      if (kind === 2) {
        const escaped = bytes[at + 1];
        if (escaped === undefined) return false;
        if ((SHORT_ESCAPES[escaped] as number) >= 0) {
          at += 2;
          continue;
        }
        // \u00xx, lowercase, only for the control characters without a short escape.
        if (escaped !== 0x75 || bytes[at + 2] !== ZERO || bytes[at + 3] !== ZERO) return false;
        const high = bytes[at + 4];
        const low = lowerHexValue(bytes[at + 5]);
        if ((high !== ZERO && high !== 0x31) || low < 0) return false;
        const code = (high === ZERO ? 0 : 16) + low;
        if (code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d) return false;
        at += 6;
        continue;
      }
      const sequence = utf8SequenceLength(bytes, at);
      if (sequence === 0) return false;
      at += sequence;
    }
    this.#end = at;
    this.#plain = plain;
    this.#pos = at + 1;
    return true;
  }
}

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= ZERO && b <= NINE;
}

function lowerHexValue(b: number | undefined): number {
  if (b === undefined) return -1;
  if (b >= ZERO && b <= NINE) return b - ZERO;
  if (b >= 0x61 && b <= 0x66) return b - 0x61 + 10;
  return -1;
}

function isContinuation(b: number | undefined): boolean {
  return b !== undefined && (b & 0xc0) === 0x80;
}

/**
 * The length of the well-formed UTF-8 sequence led by `bytes[at]` (≥ 0x80), or 0 when it is not
 * one: RFC 3629 §4's table, which excludes overlong forms, surrogates and code points past U+10FFFF.
 */
function utf8SequenceLength(bytes: Uint8Array, at: number): number {
  const lead = bytes[at] as number;
  const second = bytes[at + 1];
  if (lead >= 0xc2 && lead <= 0xdf) return isContinuation(second) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    if (second === undefined) return 0;
    const low = lead === 0xe0 ? 0xa0 : 0x80;
    const high = lead === 0xed ? 0x9f : 0xbf;
    return second >= low && second <= high && isContinuation(bytes[at + 2]) ? 3 : 0;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    if (second === undefined) return 0;
    const low = lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xf4 ? 0x8f : 0xbf;
    return second >= low && second <= high && isContinuation(bytes[at + 2]) && isContinuation(bytes[at + 3]) ? 4 : 0;
  }
  return 0;
}
