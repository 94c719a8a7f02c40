import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { toHex, utf8 } from "./bytes.js";
import { sha256 as nodeSha256 } from "./sha256-node.js";
import { sha256 as portableSha256 } from "./sha256-portable.js";
import { pseudoRandomBytes } from "./test-tree.js";

const reference = (...parts: Uint8Array[]): string => {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest("hex");
};

// FIPS 180-4 examples (NIST CSRC "Examples with Intermediate Values", SHA-256) and the
// FIPS 180-2 one-million-'a' vector.
const FIPS_VECTORS: [input: Uint8Array, digest: string][] = [
  [utf8(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
  [utf8("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
  [utf8("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"],
  [
    utf8("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
  ],
  [new Uint8Array(1_000_000).fill(0x61), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"],
];

for (const [name, sha256] of [
  ["portable SHA-256", portableSha256],
  ["node SHA-256", nodeSha256],
] as const) {
  describe(name, () => {
    it("computes the FIPS 180-4 example digests", () => {
      for (const [input, digest] of FIPS_VECTORS) assert.equal(toHex(sha256(input)), digest, `${input.length} bytes`);
    });

    it("equals node:crypto on pseudo-random inputs of every length 0..300", () => {
      // Covers the padding edges: 55 bytes fit one block, 56..63 spill into a second, 64 is exact.
      for (let length = 0; length <= 300; length++) {
        for (const seed of [1, 2, 3]) {
          const input = pseudoRandomBytes(length, length * 7 + seed);
          assert.equal(toHex(sha256(input)), reference(input), `length ${length}, seed ${seed}`);
        }
      }
    });

    it("equals node:crypto at the block boundaries with all-ones and all-zero bytes", () => {
      for (const length of [55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129]) {
        for (const fill of [0x00, 0xff, 0x80]) {
          const input = new Uint8Array(length).fill(fill);
          assert.equal(toHex(sha256(input)), reference(input), `length ${length}, fill ${fill}`);
        }
      }
    });

    it("hashes several parts as their concatenation", () => {
      const a = pseudoRandomBytes(33, 9);
      const b = pseudoRandomBytes(64, 10);
      assert.equal(toHex(sha256(new Uint8Array([1]), a, b)), reference(new Uint8Array([1]), a, b));
      assert.equal(toHex(sha256(a, new Uint8Array(0), b)), reference(a, b));
      assert.equal(toHex(sha256()), FIPS_VECTORS[0]?.[1]);
    });

    it("hashes views into larger buffers by their own bytes only", () => {
      const backing = pseudoRandomBytes(200, 11);
      const view = backing.subarray(50, 120);
      assert.equal(toHex(sha256(view)), reference(view));
    });

    it("returns a fresh 32-byte array", () => {
      const digest = sha256(utf8("abc"));
      assert.ok(digest instanceof Uint8Array);
      assert.equal(digest.length, 32);
      assert.equal(digest.byteOffset, 0);
      assert.equal(digest.buffer.byteLength, 32);
      digest.fill(0);
      assert.equal(toHex(sha256(utf8("abc"))), FIPS_VECTORS[1]?.[1]);
    });
  });
}
