import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { utf8 } from "./bytes.js";
import { isCanonicalJson } from "./canonical-check.js";
import { decodeJsonString, isCanonicalJsonBytes } from "./canonical-check-bytes.js";
import { canonicalJson } from "./canonical-json.js";
import { seededRandom } from "./seeded-random.js";

// A byte order mark is data here: the decoder must not drop it.
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The reference answer for bytes: well-formed UTF-8 whose text the string checker accepts. */
function reference(bytes: Uint8Array): boolean {
  let text: string;
  try {
    text = strict.decode(bytes);
  } catch {
    return false;
  }
  const canonical = isCanonicalJson(text);
  // The string checker itself agrees with parse + canonicalize (canonical-check.test.ts); cheap to re-assert.
  let parsed: boolean;
  try {
    parsed = canonicalJson(JSON.parse(text)) === text;
  } catch {
    parsed = false;
  }
  assert.equal(canonical, parsed, `string checker and parse-and-canonicalize disagree on ${JSON.stringify(text)}`);
  return canonical;
}

const PIECES = [
  '"',
  "\\",
  "a",
  "Z",
  "_",
  "0",
  " ",
  "\n",
  "\u0000",
  "\u001f",
  "\u007f",
  "é",
  "€",
  "\ue000",
  "\uffff",
  "\ufeff",
  "😀",
  "\u{10ffff}",
  "\ud800",
];

function randomString(rand: () => number): string {
  let s = "";
  for (let i = Math.floor(rand() * 5); i > 0; i--) {
    const piece = PIECES[Math.floor(rand() * PIECES.length)] as string;
    if (piece === "\ud800" && rand() < 0.95) continue;
    s += piece;
  }
  return s;
}

const NUMBERS = [0, -1, 7, 1e21, 1e-7, 123456789012345, 1234567890123456, 2 ** 53 + 2, -0.5, 5e-324, 1.7976931348623157e308];

function randomValue(rand: () => number, depth: number): unknown {
  const roll = rand();
  if (depth > 3 || roll < 0.35) {
    const kind = Math.floor(rand() * 7);
    if (kind === 0) return null;
    if (kind === 1) return rand() < 0.5;
    if (kind === 2) return Math.floor(rand() * 2000) - 1000;
    if (kind === 3) return (rand() - 0.5) * 10 ** Math.floor(rand() * 50 - 25);
    if (kind === 4) return NUMBERS[Math.floor(rand() * NUMBERS.length)];
    return randomString(rand);
  }
  if (roll < 0.55) return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
  const object: Record<string, unknown> = {};
  for (let i = Math.floor(rand() * 5); i > 0; i--) object[randomString(rand)] = randomValue(rand, depth + 1);
  return object;
}

/** Text-level edits (whitespace, escapes, number forms, swaps) and byte-level ones (invalid UTF-8). */
function mutate(bytes: Uint8Array, rand: () => number): Uint8Array {
  const at = Math.floor(rand() * (bytes.length + 1));
  const insert = (piece: Uint8Array) => {
    const out = new Uint8Array(bytes.length + piece.length);
    out.set(bytes.subarray(0, at));
    out.set(piece, at);
    out.set(bytes.subarray(at), at + piece.length);
    return out;
  };
  const textPieces = [
    " ",
    "\\",
    '"',
    ",",
    "0",
    ".0",
    "e1",
    "E+1",
    "-",
    "\\u0041",
    "\\u00e9",
    "\\u001F",
    "\\u000a",
    "\\/",
    "}",
    "]",
    "1",
    "a",
    '"":1,',
  ];
  const rawPieces = [
    [0x80],
    [0xc0, 0xaf], // overlong "/"
    [0xc3], // truncated
    [0xed, 0xa0, 0x80], // an encoded surrogate
    [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
    [0xe0, 0x80, 0xaf], // overlong
    [0xef, 0xbb, 0xbf], // byte order mark
    [0xff],
    [0x00],
  ];
  switch (Math.floor(rand() * 6)) {
    case 0:
      return insert(utf8(textPieces[Math.floor(rand() * textPieces.length)] as string));
    case 1:
      return insert(Uint8Array.from(rawPieces[Math.floor(rand() * rawPieces.length)] as number[]));
    case 2: {
      const out = bytes.slice();
      if (at < out.length) out[at] = (out[at] as number) ^ (1 << Math.floor(rand() * 8));
      return out;
    }
    case 3:
      return Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + 1)]);
    case 4: {
      const out = bytes.slice();
      const other = Math.floor(rand() * out.length);
      if (at < out.length) [out[at], out[other]] = [out[other] as number, out[at] as number];
      return out;
    }
    default:
      return bytes.subarray(0, at);
  }
}

function generated(rand: () => number): Uint8Array | undefined {
  try {
    return utf8(canonicalJson(randomValue(rand, 0)));
  } catch {
    return undefined; // a lone surrogate: no canonical form
  }
}

describe("isCanonicalJsonBytes", () => {
  test("accepts exactly what canonicalJson produces, and spans the same top-level strings", () => {
    const rand = seededRandom(8785);
    let checked = 0;
    for (let i = 0; i < 3000; i++) {
      const bytes = generated(rand);
      if (!bytes) continue;
      checked++;
      const fromBytes: [string, string][] = [];
      const fromText: [string, string][] = [];
      assert.equal(
        isCanonicalJsonBytes(bytes, (ks, ke, vs, ve) => fromBytes.push([decodeJsonString(bytes, ks, ke), decodeJsonString(bytes, vs, ve)])),
        true,
        strict.decode(bytes),
      );
      isCanonicalJson(strict.decode(bytes), (k, v) => fromText.push([k, v]));
      assert.deepEqual(fromBytes, fromText);
    }
    assert.ok(checked > 2500);
  });

  test("agrees with the string checker on mutated documents, text and byte mutations", () => {
    const rand = seededRandom(6962);
    let rejected = 0;
    let accepted = 0;
    for (let i = 0; i < 30_000; i++) {
      const bytes = generated(rand);
      if (!bytes) continue;
      let mutated = mutate(bytes, rand);
      if (rand() < 0.3) mutated = mutate(mutated, rand);
      const expected = reference(mutated);
      assert.equal(isCanonicalJsonBytes(mutated), expected, JSON.stringify(Array.from(mutated)));
      if (expected) accepted++;
      else rejected++;
    }
    assert.ok(rejected > 15_000 && accepted > 1_000, `${accepted} accepted, ${rejected} rejected`);
  });

  const cases: [string, Uint8Array | string][] = [
    ["sorted keys", '{"a":1,"b":2}'],
    ["unsorted keys", '{"b":2,"a":1}'],
    ["a duplicate key", '{"a":1,"a":1}'],
    ["a duplicate key with a different escape of nothing", '{"\\n":1,"\\n":1}'],
    ["a key that is a prefix of the next", '{"a":1,"ab":2}'],
    ["whitespace", '{"a":1, "b":2}'],
    ["leading whitespace", ' {"a":1}'],
    ["trailing data", '{"a":1}{}'],
    ["1.0", "1.0"],
    ["1e2", "1e2"],
    ["-0", "-0"],
    ["-0.0", "-0.0"],
    ["0.1", "0.1"],
    ["1e+21", "1e+21"],
    ["1e21", "1e21"],
    ["1E+21", "1E+21"],
    ["a 15-digit integer", "123456789012345"],
    ["a 16-digit integer that round-trips", "1234567890123456"],
    ["a 17-digit integer that does not", "12345678901234567"],
    ["2^53 + 1", "9007199254740993"],
    ["a leading zero", "01"],
    ["a bare minus", "-"],
    ["a dot without digits", "1."],
    ["an exponent without digits", "1e"],
    ["5e-324", "5e-324"],
    ["1e400", "1e400"],
    ["an escaped control character", '"\\u001f"'],
    ["an upper-case escape", '"\\u001F"'],
    ["an escaped letter", '"\\u0041"'],
    ["\\u0008 instead of \\b", '"\\u0008"'],
    ["an escaped slash", '"\\/"'],
    ["a raw newline", '"\n"'],
    ["a raw DEL", '"\u007f"'],
    ["an escaped surrogate pair", '"\\ud83d\\ude00"'],
    ["a raw supplementary character", '"😀"'],
    ["keys ordered by code point, not UTF-16", '{"\uffff":1,"😀":2}'],
    ["keys ordered by UTF-16", '{"😀":2,"\uffff":1}'],
    ["an escaped key before a plain one", '{"\\n":1,"a":2}'],
    ["a plain key before an escaped one", '{"a":2,"\\n":1}'],
    ["a BOM inside a string", '"\ufeffx"'],
    ["a leading byte order mark", Uint8Array.from([0xef, 0xbb, 0xbf, ...utf8('{"a":1}')])],
    ["an overlong slash", Uint8Array.from([0x22, 0xc0, 0xaf, 0x22])],
    ["an encoded lone surrogate", Uint8Array.from([0x22, 0xed, 0xa0, 0x80, 0x22])],
    ["a code point past U+10FFFF", Uint8Array.from([0x22, 0xf4, 0x90, 0x80, 0x80, 0x22])],
    ["a truncated sequence before the quote", Uint8Array.from([0x22, 0xe2, 0x82, 0x22])],
    ["a non-ASCII byte outside strings", Uint8Array.from([0x5b, 0x31, 0xc3, 0xa9, 0x5d])],
    ["a NUL after the document", Uint8Array.from([...utf8("[1]"), 0])],
    ["nested containers", '{"":[{},[]],"a":{"b":[1,"x",null,true,false]}}'],
    ["a trailing comma", "[1,]"],
    ["a truncated literal", "[nul]"],
    ["nothing", ""],
    ["an unterminated string", '"abc'],
  ];
  for (const [name, input] of cases) {
    const bytes = typeof input === "string" ? utf8(input) : input;
    test(`${name}: agrees with the reference (${reference(bytes) ? "canonical" : "not canonical"})`, () => {
      assert.equal(isCanonicalJsonBytes(bytes), reference(bytes));
    });
  }

  test("takes any nesting depth", () => {
    const deep = utf8(`${"[".repeat(50_000)}{"a":[]}${"]".repeat(50_000)}`);
    assert.equal(isCanonicalJsonBytes(deep), true);
    assert.equal(isCanonicalJsonBytes(utf8(`${"[".repeat(50_000)}${"]".repeat(49_999)}`)), false);
  });
});
