import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toHex, utf8 } from "./bytes.js";
import { canonicalJson } from "./canonical-json.js";
import { InputError } from "./errors.js";
import { seededRandom } from "./seeded-random.js";

const refused = (error: unknown): boolean => {
  assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
  assert.equal(error.code, "non_canonical_json");
  return true;
};

/** A double from its IEEE 754 bits, as RFC 8785 Appendix B lists them. */
function fromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe("RFC 8785 canonical JSON", () => {
  it("sorts the keys of the §3.2.3 example by UTF-16 code units", () => {
    const input = {
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis",
    };
    assert.equal(
      canonicalJson(input),
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it("orders a non-BMP key by its high surrogate, before U+E000..U+FFFF (not by code point)", () => {
    // U+1F600 > U+FB33 as code points, but its first code unit 0xD83D < 0xFB33.
    assert.equal(
      canonicalJson({ "\ufb33": 1, "\u{1f600}": 2, "\ue000": 3, "\ud7ff": 4 }),
      '{"\ud7ff":4,"\u{1f600}":2,"\ue000":3,"\ufb33":1}',
    );
    assert.equal(canonicalJson({ "\u{10000}": 1, "\u{10ffff}": 2, "\uffff": 3 }), '{"\u{10000}":1,"\u{10ffff}":2,"\uffff":3}');
  });

  it("sorts shorter prefixes first and leaves array order alone", () => {
    assert.equal(canonicalJson({ ab: 1, a: 2, b: [3, 1, 2], "": 0, A: 9 }), '{"":0,"A":9,"a":2,"ab":1,"b":[3,1,2]}');
    assert.equal(canonicalJson({ z: { y: 1, x: [{ b: 1, a: 2 }] } }), '{"z":{"x":[{"a":2,"b":1}],"y":1}}');
  });

  // cyberphone/json-canonicalization testdata/input/weird.json → testdata/output/weird.json
  it("canonicalizes the reference 'weird' sample", () => {
    const input = {
      "\u20ac": "Euro Sign",
      "1": "One",
      "\u0080": "Control\u007f",
      "\ud83d\ude02": "Smiley",
      "\u00f6": "Latin Small Letter O With Diaeresis",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "</script>": "Browser Challenge",
    };
    assert.equal(
      canonicalJson(input),
      '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude02":"Smiley","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  // RFC 8785 §3.2.2 sample; cyberphone testdata/input/values.json → testdata/output/values.json
  it("canonicalizes the §3.2.2 sample and its UTF-8 bytes", () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    );
    const expected =
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}';
    assert.equal(canonicalJson(input), expected);
    assert.equal(
      toHex(utf8(canonicalJson(input))),
      "7b226c69746572616c73223a5b6e756c6c2c747275652c66616c73655d2c226e756d62657273223a5b3333333333333333332e333333333333332c31652b33302c342e352c302e3030322c31652d32375d2c22737472696e67223a22e282ac245c75303030665c6e41274" +
        "25c225c5c5c5c5c222f227d",
    );
  });

  it("serializes the RFC 8785 Appendix B numbers", () => {
    const samples: [bits: string, text: string][] = [
      ["0000000000000000", "0"],
      ["8000000000000000", "0"],
      ["0000000000000001", "5e-324"],
      ["8000000000000001", "-5e-324"],
      ["7fefffffffffffff", "1.7976931348623157e+308"],
      ["ffefffffffffffff", "-1.7976931348623157e+308"],
      ["4340000000000000", "9007199254740992"],
      ["c340000000000000", "-9007199254740992"],
      ["4430000000000000", "295147905179352830000"],
      ["44b52d02c7e14af5", "9.999999999999997e+22"],
      ["44b52d02c7e14af6", "1e+23"],
      ["44b52d02c7e14af7", "1.0000000000000001e+23"],
      ["444b1ae4d6e2ef4e", "999999999999999700000"],
      ["444b1ae4d6e2ef4f", "999999999999999900000"],
      ["444b1ae4d6e2ef50", "1e+21"],
      ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
      ["3eb0c6f7a0b5ed8d", "0.000001"],
      ["41b3de4355555553", "333333333.3333332"],
      ["41b3de4355555554", "333333333.33333325"],
      ["41b3de4355555555", "333333333.3333333"],
      ["41b3de4355555556", "333333333.3333334"],
      ["41b3de4355555557", "333333333.33333343"],
      ["becbf647612f3696", "-0.0000033333333333333333"],
      ["43143ff3c1cb0959", "1424953923781206.2"],
    ];
    for (const [bits, text] of samples) assert.equal(canonicalJson(fromBits(bits)), text, bits);
  });

  it("writes numbers in the ECMAScript shortest round-trip form", () => {
    const cases: [number, string][] = [
      [1e21, "1e+21"],
      [1e20, "100000000000000000000"],
      [1e-7, "1e-7"],
      [1e-6, "0.000001"],
      [-0, "0"],
      [5e-324, "5e-324"],
      [0.1 + 0.2, "0.30000000000000004"],
      [4.5, "4.5"],
      [-1, "-1"],
      [100, "100"],
      [2 ** 53 + 2, "9007199254740994"],
      [123456789012345680000, "123456789012345680000"],
    ];
    for (const [value, text] of cases) assert.equal(canonicalJson(value), text, String(value));
    assert.equal(canonicalJson({ n: -0 }), '{"n":0}');
  });

  it("refuses NaN and the infinities", () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      assert.throws(() => canonicalJson(value), refused);
      assert.throws(() => canonicalJson({ a: [1, value] }), refused);
    }
  });

  it("escapes control characters, quote and backslash only, with lowercase hex", () => {
    const all = Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).join("");
    assert.equal(
      canonicalJson(all),
      '"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f' +
        '\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f"',
    );
    assert.equal(canonicalJson('"\\/'), '"\\"\\\\/"');
    // U+007F, U+2028 and U+2029 are not escaped (RFC 8785 §3.2.2.2).
    assert.equal(canonicalJson("\u007f\u2028\u2029"), '"\u007f\u2028\u2029"');
    assert.equal(toHex(utf8(canonicalJson("\u2028"))), "22e280a822");
    assert.equal(canonicalJson({ "\n": "\t" }), '{"\\n":"\\t"}');
  });

  it("keeps well-formed surrogate pairs and non-ASCII text as UTF-8", () => {
    assert.equal(canonicalJson("😀é"), '"😀é"');
    assert.equal(toHex(utf8(canonicalJson("😀"))), "22f09f988022");
  });

  it("refuses lone surrogates in values and keys", () => {
    for (const bad of ["\ud800", "\udc00", "a\ud800b", "\ud800\ud800", "\udc00\ud800", "x\ud83d", "\ude00x"]) {
      assert.throws(() => canonicalJson(bad), refused, JSON.stringify(bad));
      assert.throws(() => canonicalJson({ [bad]: 1 }), refused);
      assert.throws(() => canonicalJson({ a: { b: [bad] } }), refused);
    }
  });

  it("names where the offending value is", () => {
    assert.throws(() => canonicalJson({ a: { b: [1, "\ud800"] } }), /at \/a\/b\/1/);
    assert.throws(() => canonicalJson({ a: Number.NaN }), /at \/a/);
  });

  it("skips undefined members, like JSON.stringify", () => {
    assert.equal(canonicalJson({ a: undefined, b: 1, c: { d: undefined } }), '{"b":1,"c":{}}');
  });

  it("refuses undefined array elements and holes, which have no JSON form", () => {
    assert.throws(() => canonicalJson([undefined]), refused);
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    assert.throws(() => canonicalJson([1, , 3]), refused);
    assert.throws(() => canonicalJson(new Array(2)), refused);
  });

  it("writes empty containers and literals", () => {
    assert.equal(canonicalJson({}), "{}");
    assert.equal(canonicalJson([]), "[]");
    assert.equal(canonicalJson([null, true, false, ""]), '[null,true,false,""]');
    assert.equal(canonicalJson(Object.create(null)), "{}");
  });

  it("refuses values that are not JSON", () => {
    class Point {
      x = 1;
    }
    for (const bad of [new Date(0), new Map(), new Point(), 1n, () => 1, Symbol("s"), undefined, new Uint8Array(2)]) {
      assert.throws(() => canonicalJson(bad), refused, String(typeof bad));
      assert.throws(() => canonicalJson({ nested: [bad] }), refused);
    }
  });

  it("is idempotent through JSON.parse", () => {
    const value = { b: [1.5, "x\u2028", { d: null, c: -0 }], a: "\u0000", "\u{1f600}": 1e300 };
    const once = canonicalJson(value);
    assert.equal(canonicalJson(JSON.parse(once)), once);
  });
});

/** An independent RFC 8785 writer for JSON-shaped values: Array#sort's default order is code-unit order. */
function reference(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(reference).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const members = value as Record<string, unknown>;
    const keys = Object.keys(members)
      .filter((key) => members[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${reference(members[key])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

// canonicalJson lets JSON.stringify write the text when it can (every object's keys put in order
// first) and writes it itself otherwise; these pin the cases where the two could part.
describe("canonical JSON: the native path and the written path agree", () => {
  it("orders array-index keys as text, not as numbers", () => {
    assert.equal(canonicalJson({ b: { "10": 1, "9": 2, a: 3, "!": 4 } }), '{"b":{"!":4,"10":1,"9":2,"a":3}}');
    assert.equal(canonicalJson({ "4294967295": 1, "4294967294": 2 }), '{"4294967294":2,"4294967295":1}');
  });

  it("keeps a __proto__ member (as JSON.parse makes it) as a member", () => {
    const parsed = JSON.parse('{"z":1,"__proto__":{"b":1,"a":2}}');
    assert.equal(canonicalJson(parsed), '{"__proto__":{"a":2,"b":1},"z":1}');
    assert.equal(canonicalJson({ a: [parsed] }), '{"a":[{"__proto__":{"a":2,"b":1},"z":1}]}');
  });

  it("tells the text \\ud800 from a lone surrogate", () => {
    assert.equal(canonicalJson({ a: "\\ud800", "\\udc00": 1 }), '{"\\\\udc00":1,"a":"\\\\ud800"}');
    assert.throws(() => canonicalJson({ a: 1, b: { c: "\\ud800\ud800" } }), /lone surrogate in string at \/b\/c/);
    assert.throws(() => canonicalJson({ a: 1, b: { "\udfff": 1 } }), /at \/b/);
  });

  it("does not change the value it is given", () => {
    const value = { b: { d: 1, c: [{ f: 1, e: 2 }] }, a: 0 };
    const before = JSON.stringify(value);
    assert.equal(canonicalJson(value), '{"a":0,"b":{"c":[{"e":2,"f":1}],"d":1}}');
    assert.equal(JSON.stringify(value), before);
  });

  it("writes 2,000 random values as an independent RFC 8785 writer does", () => {
    const random = seededRandom(8785);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const keys = ["a", "b", "B", "", "10", "9", "0", "01", "é", "\u{1f600}", "\ufb33", "\u0080", "a\nb", "__proto__", "constructor"];
    const scalars = [0, -0, 1, -1.5, 1e21, 5e-7, 2 ** 53, 0.1 + 0.2, "x", "", "\u2028", '"q"\\', "\u0000\u001f", "😀", true, false, null];
    const build = (depth: number): unknown => {
      const roll = random();
      if (depth > 3 || roll < 0.45) return pick(scalars);
      if (roll < 0.65) return Array.from({ length: Math.floor(random() * 4) }, () => build(depth + 1));
      const members: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 6); i > 0; i--) {
        // defineProperty: a plain assignment to __proto__ would set the prototype instead.
        Object.defineProperty(members, pick(keys), { value: build(depth + 1), enumerable: true, configurable: true, writable: true });
      }
      return members;
    };
    for (let i = 0; i < 2000; i++) {
      const value = build(0);
      assert.equal(canonicalJson(value), reference(value), JSON.stringify(value));
    }
  });
});
