import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bytesEqual, concatBytes, fromBase64, fromHex, fromUtf8, toBase64, toHex, utf8 } from "./bytes.js";
import { InputError } from "./errors.js";
import { pseudoRandomBytes } from "./test-tree.js";

const isInputError = (code: string) => (error: unknown) => {
  assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
  assert.equal(error.code, code);
  return true;
};

describe("base64", () => {
  // RFC 4648 §10 test vectors.
  const vectors: [string, string][] = [
    ["", ""],
    ["f", "Zg=="],
    ["fo", "Zm8="],
    ["foo", "Zm9v"],
    ["foob", "Zm9vYg=="],
    ["fooba", "Zm9vYmE="],
    ["foobar", "Zm9vYmFy"],
  ];

  it("encodes and decodes the RFC 4648 vectors", () => {
    for (const [text, encoded] of vectors) {
      assert.equal(toBase64(utf8(text)), encoded);
      assert.equal(fromUtf8(fromBase64(encoded)), text);
    }
  });

  it("agrees with Buffer on pseudo-random bytes of every length 0..100", () => {
    for (let length = 0; length <= 100; length++) {
      const bytes = pseudoRandomBytes(length, length + 1);
      const encoded = Buffer.from(bytes).toString("base64");
      assert.equal(toBase64(bytes), encoded);
      assert.deepEqual(fromBase64(encoded), bytes);
    }
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    assert.equal(toBase64(all), Buffer.from(all).toString("base64"));
  });

  it("refuses non-canonical padding bits, so each byte string has one encoding", () => {
    for (const bad of ["Zh==", "Zm9=", "Zm+=", "AB==", "AAB="]) {
      assert.throws(() => fromBase64(bad), isInputError("invalid_base64"), bad);
    }
    assert.deepEqual(fromBase64("//8/"), new Uint8Array([0xff, 0xff, 0x3f]));
  });

  it("refuses missing padding, whitespace, URL-safe letters and misplaced '='", () => {
    for (const bad of [
      "Zg",
      "Zm8",
      "Zg=",
      "Zg===",
      "Zm9v\n",
      " Zm9v",
      "Zm9 v",
      "Zm-_",
      "Z=g=",
      "=Zg=",
      "Zg==Zg==",
      "====",
      "Zm9v====",
      "Zé==",
      "Zm9\u0000",
    ]) {
      assert.throws(() => fromBase64(bad), isInputError("invalid_base64"), JSON.stringify(bad));
    }
  });
});

describe("hex", () => {
  it("round-trips bytes as lowercase hex", () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const hex = toHex(bytes);
    assert.equal(hex, Buffer.from(bytes).toString("hex"));
    assert.deepEqual(fromHex(hex), bytes);
    assert.deepEqual(fromHex("ABCDEF"), new Uint8Array([0xab, 0xcd, 0xef]));
    assert.deepEqual(fromHex(""), new Uint8Array(0));
  });

  it("refuses odd lengths and non-hex characters", () => {
    for (const bad of ["a", "abc", "zz", "0x00", " 00", "0g", "+1"]) {
      assert.throws(() => fromHex(bad), isInputError("invalid_hex"), bad);
    }
  });
});

describe("UTF-8 and byte helpers", () => {
  it("decodes UTF-8 strictly instead of substituting U+FFFD", () => {
    assert.equal(fromUtf8(utf8("π😀")), "π😀");
    for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0x80], [0xf4, 0x90, 0x80, 0x80]]) {
      assert.throws(() => fromUtf8(new Uint8Array(bad)), `${bad} was decoded`);
    }
  });

  it("concatenates and compares byte arrays", () => {
    assert.deepEqual(concatBytes(new Uint8Array([1]), new Uint8Array(0), new Uint8Array([2, 3])), new Uint8Array([1, 2, 3]));
    assert.deepEqual(concatBytes(), new Uint8Array(0));
    assert.equal(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
    assert.equal(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])), false);
    assert.equal(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0])), false);
    assert.equal(bytesEqual(new Uint8Array(0), new Uint8Array(0)), true);
  });
});
