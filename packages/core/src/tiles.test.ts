import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { concatBytes, toHex } from "./bytes.js";
import { InputError, VerificationError } from "./errors.js";
import { type Hash, hashLeaf, rootFromLeafHashes } from "./merkle.js";
import { buildMemoryTree, c2spPathFromGo, goMemoryTree, goVectors, pseudoRandomBytes } from "./test-tree.js";
import {
  createTileNodeReader,
  decodeEntryBundle,
  encodeEntryBundle,
  encodeTileIndex,
  parseTilePath,
  reducePerfect,
  splitTile,
  storedCountAt,
  type TileRef,
  tileExists,
  tilePath,
} from "./tiles.js";

const isError =
  (type: typeof InputError | typeof VerificationError, code: string) =>
  (error: unknown): boolean => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };

const refFromGo = (level: number, index: number, width: number): TileRef => ({ level: level === -1 ? "entries" : level, index, width });

describe("tile paths (C2SP tlog-tiles)", () => {
  it("encodes the spec's examples", () => {
    assert.equal(encodeTileIndex(1234067), "x001/x234/067");
    assert.equal(encodeTileIndex(0), "000");
    assert.equal(encodeTileIndex(7), "007");
    assert.equal(encodeTileIndex(999), "999");
    assert.equal(encodeTileIndex(1000), "x001/000");
    assert.equal(encodeTileIndex(123456789), "x123/x456/789");
    assert.equal(tilePath({ level: 0, index: 1234067, width: 256 }), "tile/0/x001/x234/067");
    assert.equal(tilePath({ level: 0, index: 1234067, width: 1 }), "tile/0/x001/x234/067.p/1");
    assert.equal(tilePath({ level: 1, index: 0, width: 256 }), "tile/1/000");
    assert.equal(tilePath({ level: "entries", index: 3, width: 7 }), "tile/entries/003.p/7");
  });

  it("matches Go's sumdb tile paths once tile/8/ and data are mapped", () => {
    const { tilePaths } = goVectors();
    assert.ok(tilePaths.length >= 160);
    for (const v of tilePaths) {
      const ref = refFromGo(v.level, v.index, v.width);
      const expected = c2spPathFromGo(v.goPath);
      assert.equal(tilePath(ref), expected, v.goPath);
      assert.deepEqual(parseTilePath(expected.slice("tile/".length)), ref, v.goPath);
    }
  });

  it("parses every path it writes back to the same tile", () => {
    for (const level of [0, 1, 5, 63, "entries"] as const) {
      for (const index of [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 999_999, 1_000_000, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
        for (const width of [1, 2, 128, 255, 256]) {
          const ref = { level, index, width };
          assert.deepEqual(parseTilePath(tilePath(ref).slice("tile/".length)), ref);
        }
      }
    }
  });

  it("refuses non-canonical and malformed paths", () => {
    for (const bad of [
      "0/x000/001", // leading zero group
      "0/x000/000",
      "0/0001", // 4-digit group
      "0/01", // 2-digit group
      "0/1",
      "0/x1234/000",
      "0/001.p/0", // width 0
      "0/001.p/256", // a full tile has no .p
      "0/001.p/300",
      "0/001.p/007", // leading zeros in width
      "0/001.p/",
      "0/001.p",
      "0/001.p/1/",
      "0/X001/234", // uppercase X
      "0/x001", // the last group has no x
      "0/x001/",
      "064/000", // leading zero in level
      "00/000",
      "64/000", // level beyond 63
      "-1/000",
      "data/000", // Go's name for entry bundles
      "entries/x000/001",
      "tile/0/000", // the caller strips tile/
      "0/000/",
      "/0/000",
      " 0/000",
      "0/000 ",
      "0/+12",
      "0/1e3",
      "0//000",
      "",
      "0/x9007/x199/x254/x740/x992/000", // beyond the safe integers
    ]) {
      assert.throws(() => parseTilePath(bad), isError(InputError, "invalid_tile_path"), bad);
    }
  });
});

describe("tile existence", () => {
  it("counts stored hashes per level", () => {
    assert.equal(storedCountAt(0, 70000), 70000);
    assert.equal(storedCountAt(1, 70000), 273);
    assert.equal(storedCountAt(2, 70000), 1);
    assert.equal(storedCountAt(3, 70000), 0);
    assert.equal(storedCountAt(1, 255), 0);
    assert.equal(storedCountAt(1, 256), 1);
  });

  it("serves exactly Go's tiles (and their narrower prefixes) at sizes 1, 2, 255, 256, 257, 65535, 65536 and 70000", () => {
    const { tileSets } = goVectors();
    assert.deepEqual(
      tileSets.map((s) => s.treeSize),
      [1, 2, 255, 256, 257, 65535, 65536, 70000],
    );
    for (const { treeSize, goPaths } of tileSets) {
      // Go lists the widest tile of each (level, index); any narrower prefix is a partial tile too.
      const widest = new Map<string, number>();
      for (const goPath of goPaths) {
        const ref = parseTilePath(c2spPathFromGo(goPath).slice("tile/".length));
        widest.set(`${ref.level}/${ref.index}`, ref.width);
        assert.ok(tileExists(ref, treeSize), `${goPath} at ${treeSize}`);
      }
      const wrong: string[] = [];
      for (const level of [0, 1, 2, 3]) {
        for (let index = 0; index <= 300; index++) {
          const max = widest.get(`${level}/${index}`) ?? 0;
          for (let width = 1; width <= 256; width++) {
            if (tileExists({ level, index, width }, treeSize) !== width <= max) wrong.push(`${level}/${index}.p/${width}`);
            if (level === 0 && tileExists({ level: "entries", index, width }, treeSize) !== width <= max)
              wrong.push(`entries/${index}.p/${width}`);
          }
        }
      }
      assert.deepEqual(wrong, [], `tree size ${treeSize}`);
    }
  });

  it("knows the edges around the first full tile", () => {
    assert.equal(tileExists({ level: 0, index: 0, width: 1 }, 0), false);
    assert.equal(tileExists({ level: 0, index: 0, width: 1 }, 1), true);
    assert.equal(tileExists({ level: 0, index: 0, width: 256 }, 255), false);
    assert.equal(tileExists({ level: 0, index: 0, width: 255 }, 255), true);
    assert.equal(tileExists({ level: 0, index: 0, width: 256 }, 256), true);
    assert.equal(tileExists({ level: 1, index: 0, width: 1 }, 256), true);
    assert.equal(tileExists({ level: 1, index: 0, width: 1 }, 255), false);
    assert.equal(tileExists({ level: 0, index: 1, width: 1 }, 256), false);
    assert.equal(tileExists({ level: 0, index: 1, width: 1 }, 257), true);
    assert.equal(tileExists({ level: 2, index: 0, width: 1 }, 65536), true);
    assert.equal(tileExists({ level: 2, index: 0, width: 1 }, 65535), false);
    assert.equal(tileExists({ level: 1, index: 1, width: 17 }, 70000), true);
    assert.equal(tileExists({ level: 1, index: 1, width: 18 }, 70000), false);
    assert.equal(tileExists({ level: 0, index: 0, width: 0 }, 70000), false);
  });
});

describe("tile contents", () => {
  it("holds the same bytes as Go's tlog.ReadTileData for the 70,000-leaf tree", () => {
    const { tileData } = goVectors();
    const tree = goMemoryTree();
    assert.ok(tileData.length >= 9);
    for (const v of tileData) {
      const stored = tree.levels[v.level] ?? [];
      const hashes = stored.slice(v.index * 256, v.index * 256 + v.width);
      assert.equal(hashes.length, v.width, v.goPath);
      const bytes = concatBytes(...hashes);
      assert.equal(createHash("sha256").update(bytes).digest("hex"), v.sha256, v.goPath);
      assert.deepEqual(splitTile(bytes, v.width), hashes);
    }
  });

  it("refuses tile bytes that are not exactly width × 32", () => {
    const bytes = new Uint8Array(64);
    assert.equal(splitTile(bytes, 2).length, 2);
    for (const [length, width] of [
      [63, 2],
      [65, 2],
      [64, 1],
      [0, 1],
      [32, 0],
    ] as const) {
      assert.throws(
        () => splitTile(new Uint8Array(length), width),
        isError(VerificationError, "invalid_tile"),
        `${length} bytes, width ${width}`,
      );
    }
  });

  it("reduces a power-of-two run of hashes to its subtree root", () => {
    const leaves = Array.from({ length: 128 }, (_, i) => hashLeaf(new Uint8Array([i])));
    assert.deepEqual(reducePerfect(leaves), rootFromLeafHashes(leaves));
    assert.deepEqual(reducePerfect(leaves.slice(0, 1)), leaves[0]);
  });

  it("reads node (h, i) from 2^(h mod 8) hashes of tile level ⌊h/8⌋", async () => {
    const tree = buildMemoryTree(Array.from({ length: 600 }, (_, i) => hashLeaf(new Uint8Array([i & 255, i >> 8]))));
    const calls: string[] = [];
    const reader = createTileNodeReader(async (level, start, count) => {
      calls.push(`${level}:${start}+${count}`);
      return tree.storedReader(600)(level, start, count);
    });
    const nodes = await reader([
      { height: 0, index: 5 },
      { height: 3, index: 2 },
      { height: 8, index: 1 },
      { height: 9, index: 0 },
      { height: 7, index: 3 },
    ]);
    assert.deepEqual(calls, ["0:5+1", "0:16+8", "1:1+1", "1:0+2", "0:384+128"]);
    const slice = (start: number, count: number) => rootFromLeafHashes(tree.leafHashes.slice(start, start + count));
    assert.deepEqual(
      nodes.map((n) => toHex(n)),
      [slice(5, 1), slice(16, 8), slice(256, 256), slice(0, 512), slice(384, 128)].map((h) => toHex(h)),
    );
  });

  it("fails as missing_node when the stored hashes are not there", async () => {
    const reader = createTileNodeReader(async () => [] as Hash[]);
    await assert.rejects(reader([{ height: 2, index: 0 }]), isError(VerificationError, "missing_node"));
  });
});

describe("entry bundles", () => {
  it("encodes each entry as a big-endian uint16 length and its bytes", () => {
    const bundle = encodeEntryBundle([new Uint8Array([0xaa]), new Uint8Array(0), new Uint8Array(258).fill(7)]);
    assert.equal(toHex(bundle.slice(0, 5)), "0001aa0000");
    assert.equal(toHex(bundle.slice(5, 7)), "0102");
    assert.equal(bundle.length, 3 + 2 + 2 + 258);
  });

  it("round-trips entries of every awkward size", () => {
    const entries = [0, 1, 2, 255, 256, 257, 1000, 65535].map((n, i) => pseudoRandomBytes(n, i + 1));
    assert.deepEqual(decodeEntryBundle(encodeEntryBundle(entries)), entries);
    assert.deepEqual(decodeEntryBundle(encodeEntryBundle([])), []);
    const many = Array.from({ length: 256 }, (_, i) => pseudoRandomBytes(i, 1000 + i));
    assert.deepEqual(decodeEntryBundle(encodeEntryBundle(many)), many);
  });

  it("refuses an entry longer than 65535 bytes", () => {
    assert.throws(() => encodeEntryBundle([new Uint8Array(65536)]), isError(InputError, "entry_too_large"));
  });

  it("refuses every truncation of a bundle", () => {
    const bundle = encodeEntryBundle([pseudoRandomBytes(5, 1), pseudoRandomBytes(300, 2), pseudoRandomBytes(1, 3)]);
    const boundaries = new Set([0, 7, 7 + 302, bundle.length]);
    for (let cut = 1; cut < bundle.length; cut++) {
      if (boundaries.has(cut)) {
        assert.doesNotThrow(() => decodeEntryBundle(bundle.slice(0, cut)));
      } else {
        assert.throws(() => decodeEntryBundle(bundle.slice(0, cut)), isError(VerificationError, "invalid_bundle"), `cut at ${cut}`);
      }
    }
    assert.throws(() => decodeEntryBundle(new Uint8Array([0x00])), isError(VerificationError, "invalid_bundle"));
    assert.throws(() => decodeEntryBundle(new Uint8Array([0xff, 0xff, 1, 2, 3])), isError(VerificationError, "invalid_bundle"));
  });
});
