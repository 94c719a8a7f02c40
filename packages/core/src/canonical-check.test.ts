import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isCanonicalJson } from "./canonical-check.js";
import { canonicalJson } from "./canonical-json.js";
import { seededRandom } from "./seeded-random.js";

/** The reference answer: parse, canonicalize, compare. */
function reference(text: string): boolean {
  try {
    return canonicalJson(JSON.parse(text)) === text;
  } catch {
    return false;
  }
}

const ALPHABET = [
  '"',
  "\\",
  "/",
  "a",
  "Z",
  "0",
  " ",
  "\n",
  "\t",
  "\u0000",
  "\u001f",
  "\u007f",
  "é",
  "€",
  "😀",
  "\ud800",
  "\udc00",
  "\uffff",
  "{",
  ":",
];

function randomValue(rand: () => number, depth: number): unknown {
  const roll = rand();
  if (depth > 3 || roll < 0.35) {
    const kind = Math.floor(rand() * 6);
    if (kind === 0) return null;
    if (kind === 1) return rand() < 0.5;
    if (kind === 2) return Math.floor(rand() * 2000) - 1000;
    if (kind === 3) return (rand() - 0.5) * 10 ** Math.floor(rand() * 50 - 25);
    return randomString(rand);
  }
  if (roll < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
  const object: Record<string, unknown> = {};
  for (let i = Math.floor(rand() * 5); i > 0; i--) object[randomString(rand)] = randomValue(rand, depth + 1);
  return object;
}

function randomString(rand: () => number): string {
  let s = "";
  for (let i = Math.floor(rand() * 5); i > 0; i--) {
    const pick = ALPHABET[Math.floor(rand() * ALPHABET.length)] as string;
    // Lone surrogates only rarely, so most documents are canonicalizable.
    if ((pick === "\ud800" || pick === "\udc00") && rand() < 0.9) continue;
    s += pick;
  }
  return s;
}

function mutate(text: string, rand: () => number): string {
  const at = Math.floor(rand() * (text.length + 1));
  const pieces = [" ", "\\", '"', ",", "0", ".0", "e1", "-", "\\u0041", "\\u00E9", "\\/", "}", "]", "1", "a"];
  switch (Math.floor(rand() * 4)) {
    case 0:
      return text.slice(0, at) + (pieces[Math.floor(rand() * pieces.length)] as string) + text.slice(at);
    case 1:
      return text.slice(0, at) + text.slice(at + 1);
    case 2: {
      const other = Math.floor(rand() * text.length);
      const chars = [...text];
      [chars[at], chars[other]] = [chars[other] as string, chars[at] as string];
      return chars.join("");
    }
    default:
      return text.slice(0, at) + text.slice(at, at + 8).toUpperCase() + text.slice(at + 8);
  }
}

describe("isCanonicalJson", () => {
  test("accepts exactly what canonicalJson produces, on generated documents", () => {
    const rand = seededRandom(2024);
    let checked = 0;
    for (let i = 0; i < 3000; i++) {
      const value = randomValue(rand, 0);
      let text: string;
      try {
        text = canonicalJson(value);
      } catch {
        continue; // a lone surrogate: no canonical form
      }
      checked++;
      assert.equal(isCanonicalJson(text), true, text);
    }
    assert.ok(checked > 2500);
  });

  test("agrees with parse-and-canonicalize on mutated documents", () => {
    const rand = seededRandom(77);
    let rejected = 0;
    for (let i = 0; i < 20_000; i++) {
      let text: string;
      try {
        text = canonicalJson(randomValue(rand, 0));
      } catch {
        continue;
      }
      const mutated = mutate(text, rand);
      const expected = reference(mutated);
      assert.equal(isCanonicalJson(mutated), expected, JSON.stringify(mutated));
      if (!expected) rejected++;
    }
    assert.ok(rejected > 10_000, "most mutations are not canonical");
  });

  for (const [text, canonical] of [
    ['{"a":1,"b":2}', true],
    ['{"b":2,"a":1}', false],
    ['{"a":1,"a":1}', false],
    ['{"a":1, "b":2}', false],
    [' {"a":1}', false],
    ['{"a":1} ', false],
    ['{"a":1}{}', false],
    ["1.0", false],
    ["1e2", false],
    ["100", true],
    ["-0", false],
    ["0.1", true],
    ["1e+21", true],
    ["1e21", false],
    ["01", false],
    ['"\\u001f"', true],
    ['"\\u001F"', false],
    ['"\\u00e9"', false],
    ['"é"', true],
    ['"\\/"', false],
    ['"\\n"', true],
    ['"\\u000a"', false],
    ['"\n"', false],
    ['"\ud83d\ude00"', true],
    ['"\ud83d"', false],
    ['"\\ud83d\\ude00"', false],
    ["[]", true],
    ["[1,]", false],
    ["{}", true],
    ['{"":[{},[]]}', true],
    ['{"\uffff":1,"\ud800\udc00":2}', false],
    ['{"\ud800\udc00":2,"\uffff":1}', true],
    ["nul", false],
    ["", false],
    ['"abc', false],
  ] as const) {
    test(`${JSON.stringify(text)} is ${canonical ? "" : "not "}canonical, as the reference says`, () => {
      assert.equal(reference(text), canonical);
      assert.equal(isCanonicalJson(text), canonical);
    });
  }

  test("takes any nesting depth JSON.parse takes", () => {
    const deep = `${"[".repeat(50_000)}${"]".repeat(50_000)}`;
    assert.equal(isCanonicalJson(deep), true);
    assert.equal(isCanonicalJson(`${deep} `), false);
  });

  test("hands over the top-level string members, decoded", () => {
    const seen: [string, string][] = [];
    const text = canonicalJson({ id: 'e"1', n: 1, nested: { id: "inner" }, z: "\n" });
    assert.equal(
      isCanonicalJson(text, (key, value) => seen.push([key, value])),
      true,
    );
    assert.deepEqual(seen, [
      ["id", 'e"1'],
      ["z", "\n"],
    ]);
  });
});
