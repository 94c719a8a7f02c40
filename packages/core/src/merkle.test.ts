import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { concatBytes, fromHex, toHex } from "./bytes.js";
import { InputError, VerificationError } from "./errors.js";
import {
  CompactRange,
  emptyRoot,
  type Hash,
  hashChildren,
  hashLeaf,
  type NodeReader,
  type ProofPlan,
  planConsistencyProof,
  planInclusionProof,
  planNodes,
  proveConsistency,
  proveInclusion,
  rangeNodes,
  resolvePlan,
  rootFromInclusionProof,
  rootFromLeafHashes,
  splitPoint,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from "./merkle.js";
import { buildMemoryTree, flipBit, GO_MAX_LEAVES, goMemoryTree, goVectors, hexes } from "./test-tree.js";

function isVerificationError(code?: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof VerificationError, `expected a VerificationError, got ${String(error)}`);
    if (code !== undefined) assert.equal(error.code, code);
    return true;
  };
}

function isInputError(code: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

const planText = (plan: ProofPlan): string[] => plan.elements.map((element) => element.map((n) => `${n.height}/${n.index}`).join("+"));

// RFC 6962 reference vectors from the Certificate Transparency C++ tests
// (google/certificate-transparency cpp/merkletree/merkle_tree_test.cc), as carried on by
// transparency-dev/merkle proof/verify_test.go and google/trillian testonly/compact_merkle_tree.go.
const CT_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map(fromHex);
const CT_ROOTS = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
].map(fromHex);
// verify_test.go numbers leaves from 1; these are 0-based indexes.
const CT_INCLUSION = [
  { index: 0, size: 1, proof: [] },
  {
    index: 0,
    size: 8,
    proof: [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  },
  { index: 2, size: 3, proof: ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"] },
  {
    index: 1,
    size: 5,
    proof: [
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
  },
].map((v) => ({ ...v, proof: hexes(v.proof) }));
const CT_CONSISTENCY = [
  { from: 1, to: 1, proof: [] },
  {
    from: 1,
    to: 8,
    proof: [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
  },
  {
    from: 6,
    to: 8,
    proof: [
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  },
  {
    from: 2,
    to: 5,
    proof: [
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
  },
  {
    from: 6,
    to: 7,
    proof: [
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  },
].map((v) => ({ ...v, proof: hexes(v.proof) }));

const ctLeafHashes = CT_LEAVES.map(hashLeaf);
const ctTree = buildMemoryTree(ctLeafHashes);
const ctRoot = (size: number): Hash => CT_ROOTS[size - 1] as Hash;

describe("RFC 6962 hashing", () => {
  it("hashes the empty tree as SHA-256 of the empty string", () => {
    assert.equal(toHex(emptyRoot()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert.deepEqual(rootFromLeafHashes([]), emptyRoot());
  });

  it("prefixes leaves with 0x00 and interior nodes with 0x01", () => {
    const leaf = fromHex("2021");
    assert.equal(toHex(hashLeaf(leaf)), createHash("sha256").update(Buffer.from("002021", "hex")).digest("hex"));
    const a = hashLeaf(fromHex("00"));
    const b = hashLeaf(fromHex("10"));
    const expected = createHash("sha256")
      .update(concatBytes(new Uint8Array([1]), a, b))
      .digest("hex");
    assert.equal(toHex(hashChildren(a, b)), expected);
    assert.notEqual(toHex(hashChildren(a, b)), toHex(hashLeaf(concatBytes(a, b))));
  });

  it("computes the Certificate Transparency roots for every tree size 1..8", () => {
    for (let size = 1; size <= 8; size++) {
      assert.equal(toHex(rootFromLeafHashes(ctLeafHashes.slice(0, size))), toHex(ctRoot(size)), `size ${size}`);
    }
  });

  it("computes the same roots incrementally with CompactRange", () => {
    const range = CompactRange.empty();
    assert.deepEqual(range.root(), emptyRoot());
    for (const [i, leafHash] of ctLeafHashes.entries()) {
      range.append(leafHash);
      assert.equal(range.size, i + 1);
      assert.equal(toHex(range.root()), toHex(ctRoot(i + 1)), `size ${i + 1}`);
    }
  });

  it("computes the same roots from tile-level stored hashes", async () => {
    for (let size = 0; size <= 8; size++) {
      const root = await treeRoot(size, ctTree.nodeReader(size));
      assert.equal(toHex(root), size === 0 ? toHex(emptyRoot()) : toHex(ctRoot(size)), `size ${size}`);
    }
  });

  it("splits a tree at the largest power of two below its size", () => {
    assert.deepEqual([2, 3, 4, 5, 8, 9, 255, 256, 257].map(splitPoint), [1, 2, 2, 4, 4, 8, 128, 128, 256]);
  });

  it("decomposes a range into aligned perfect subtrees, left to right", () => {
    const text = (start: number, length: number) => rangeNodes(start, length).map((n) => `${n.height}/${n.index}`);
    assert.deepEqual(text(0, 0), []);
    assert.deepEqual(text(0, 7), ["2/0", "1/2", "0/6"]);
    assert.deepEqual(text(0, 8), ["3/0"]);
    assert.deepEqual(text(4, 3), ["1/2", "0/6"]);
    assert.deepEqual(text(0, 70000), ["16/0", "12/16", "8/272", "6/1092", "5/2186", "4/4374"]);
  });
});

describe("RFC 6962 inclusion proofs (Certificate Transparency vectors)", () => {
  for (const v of CT_INCLUSION) {
    it(`generates and verifies the known proof for leaf ${v.index} of ${v.size}`, async () => {
      const proof = await proveInclusion(v.index, v.size, ctTree.nodeReader(v.size));
      assert.deepEqual(proof.map(toHex), v.proof.map(toHex));
      verifyInclusion(v.index, v.size, ctLeafHashes[v.index] as Hash, v.proof, ctRoot(v.size));
      assert.equal(toHex(rootFromInclusionProof(v.index, v.size, ctLeafHashes[v.index] as Hash, v.proof)), toHex(ctRoot(v.size)));
    });
  }

  it("generates a proof for every leaf of every CT tree that verifies against the CT roots", async () => {
    for (let size = 1; size <= 8; size++) {
      for (let index = 0; index < size; index++) {
        const proof = await proveInclusion(index, size, ctTree.nodeReader(size));
        verifyInclusion(index, size, ctLeafHashes[index] as Hash, proof, ctRoot(size));
      }
    }
  });
});

describe("RFC 6962 consistency proofs (Certificate Transparency vectors)", () => {
  for (const v of CT_CONSISTENCY) {
    it(`generates and verifies the known proof from ${v.from} to ${v.to}`, async () => {
      const proof = await proveConsistency(v.from, v.to, ctTree.nodeReader(v.to));
      assert.deepEqual(proof.map(toHex), v.proof.map(toHex));
      verifyConsistency(v.from, v.to, ctRoot(v.from), ctRoot(v.to), v.proof);
    });
  }

  it("generates a proof for every pair of CT tree sizes that verifies against the CT roots", async () => {
    for (let to = 1; to <= 8; to++) {
      for (let from = 1; from <= to; from++) {
        const proof = await proveConsistency(from, to, ctTree.nodeReader(to));
        verifyConsistency(from, to, ctRoot(from), ctRoot(to), proof);
      }
    }
  });
});

// Node sets from transparency-dev/merkle proof/proof_test.go (TestInclusion, TestConsistency).
// Go lists an ephemeral node's parts lowest first ("j i" for l = hash(i, j)); a plan element
// lists them left to right, so "1/2+0/6" here is Go's rehash of id(0,6), id(1,2).
describe("proof plans (transparency-dev/merkle node vectors)", () => {
  const inclusionPlans: [index: number, size: number, plan: string[]][] = [
    [0, 1, []],
    [0, 2, ["0/1"]],
    [1, 2, ["0/0"]],
    [1, 3, ["0/0", "0/2"]],
    [0, 7, ["0/1", "1/1", "1/2+0/6"]],
    [1, 7, ["0/0", "1/1", "1/2+0/6"]],
    [2, 7, ["0/3", "1/0", "1/2+0/6"]],
    [3, 7, ["0/2", "1/0", "1/2+0/6"]],
    [4, 7, ["0/5", "0/6", "2/0"]],
    [5, 7, ["0/4", "0/6", "2/0"]],
    [6, 7, ["1/2", "2/0"]],
    [2, 4, ["0/3", "1/0"]],
    [3, 5, ["0/2", "1/0", "0/4"]],
    [3, 6, ["0/2", "1/0", "1/2"]],
    [4, 6, ["0/5", "2/0"]],
    [10, 15, ["0/11", "1/4", "1/6+0/14", "3/0"]],
    [24, 31, ["0/25", "1/13", "1/14+0/30", "3/2", "4/0"]],
    [81, 95, ["0/80", "1/41", "2/21", "2/22+1/46+0/94", "4/4", "6/0"]],
  ];
  for (const [index, size, plan] of inclusionPlans) {
    it(`plans the inclusion proof of leaf ${index} in ${size}`, () => {
      assert.deepEqual(planText(planInclusionProof(index, size)), plan);
    });
  }

  const consistencyPlans: [from: number, to: number, plan: string[]][] = [
    [1, 2, ["0/1"]],
    [1, 4, ["0/1", "1/1"]],
    [1, 6, ["0/1", "1/1", "1/2"]],
    [2, 3, ["0/2"]],
    [2, 8, ["1/1", "2/1"]],
    [3, 7, ["0/2", "0/3", "1/0", "1/2+0/6"]],
    [4, 7, ["1/2+0/6"]],
    [5, 7, ["0/4", "0/5", "0/6", "2/0"]],
    [6, 7, ["1/2", "0/6", "2/0"]],
    [7, 8, ["0/6", "0/7", "1/2", "2/0"]],
    [1, 1, []],
    [2, 2, []],
    [3, 3, []],
    [4, 4, []],
    [5, 5, []],
    [7, 7, []],
    [8, 8, []],
    [2, 4, ["1/1"]],
    [3, 5, ["0/2", "0/3", "1/0", "0/4"]],
    [3, 6, ["0/2", "0/3", "1/0", "1/2"]],
    [4, 6, ["1/2"]],
    [1, 7, ["0/1", "1/1", "1/2+0/6"]],
    [10, 15, ["1/4", "1/5", "1/6+0/14", "3/0"]],
    [24, 31, ["3/2", "2/6+1/14+0/30", "4/0"]],
    [81, 95, ["0/80", "0/81", "1/41", "2/21", "2/22+1/46+0/94", "4/4", "6/0"]],
  ];
  for (const [from, to, plan] of consistencyPlans) {
    it(`plans the consistency proof from ${from} to ${to}`, () => {
      assert.deepEqual(planText(planConsistencyProof(from, to)), plan);
    });
  }

  it("lists each needed node once, in first-use order", () => {
    const plan = planConsistencyProof(3, 7);
    assert.deepEqual(
      planNodes(plan).map((n) => `${n.height}/${n.index}`),
      ["0/2", "0/3", "1/0", "1/2", "0/6"],
    );
  });

  it("refuses inclusion requests outside the tree with an InputError", () => {
    for (const [index, size] of [
      [0, 0],
      [1, 0],
      [2, 1],
      [3, 0],
      [8, 7],
      [7, 7],
      [-1, 5],
      [0.5, 5],
      [0, 5.5],
      [Number.NaN, 5],
      [0, Number.POSITIVE_INFINITY],
      [0, 2 ** 53],
    ] as const) {
      assert.throws(() => planInclusionProof(index, size), isInputError("invalid_proof_request"), `${index} in ${size}`);
    }
  });

  it("refuses consistency requests with from > to, from 0 or bad numbers with an InputError", () => {
    for (const [from, to] of [
      [5, 0],
      [9, 8],
      [2, 1],
      [0, 0],
      [0, 5],
      [-1, 5],
      [1.5, 5],
      [1, Number.NaN],
    ] as const) {
      assert.throws(() => planConsistencyProof(from, to), isInputError("invalid_proof_request"), `${from} to ${to}`);
    }
  });

  it("rejects bad proof requests before reading any node", async () => {
    let reads = 0;
    const reader: NodeReader = async (nodes) => {
      reads++;
      return nodes.map(() => new Uint8Array(32));
    };
    await assert.rejects(proveInclusion(3, 3, reader), isInputError("invalid_proof_request"));
    await assert.rejects(proveConsistency(4, 3, reader), isInputError("invalid_proof_request"));
    await assert.rejects(treeRoot(-1, reader), isInputError("invalid_proof_request"));
    assert.equal(reads, 0);
  });

  it("fails as missing_node when a node reader returns too few hashes", async () => {
    const short: NodeReader = async (nodes) => nodes.slice(1).map(() => new Uint8Array(32));
    await assert.rejects(proveInclusion(0, 8, short), isVerificationError("missing_node"));
    assert.throws(() => resolvePlan(planInclusionProof(0, 2), new Map()), isVerificationError("missing_node"));
  });

  it("fails as missing_node when the stored hashes beyond the tree are asked for", async () => {
    // A reader for the 5-leaf tree cannot serve node 1/2 (leaves 4 and 5).
    await assert.rejects(ctTree.nodeReader(5)([{ height: 1, index: 2 }]), isVerificationError("missing_node"));
  });
});

describe("Go sumdb/tlog cross-check (test-vectors/tlog-go.json)", () => {
  const vectors = goVectors();
  const tree = goMemoryTree();

  it("agrees on the root of every tree size in the vectors", async () => {
    const range = CompactRange.empty();
    const bySize = new Map(vectors.roots.map((r) => [r.size, r.root]));
    assert.ok(bySize.size >= 85);
    for (const [i, leafHash] of tree.leafHashes.entries()) {
      range.append(leafHash);
      const want = bySize.get(i + 1);
      if (want !== undefined) assert.equal(toHex(range.root()), want, `CompactRange root of ${i + 1}`);
    }
    for (const { size, root } of vectors.roots) {
      assert.equal(toHex(await treeRoot(size, tree.nodeReader(size))), root, `tile root of ${size}`);
      if (size <= 1000) assert.equal(toHex(rootFromLeafHashes(tree.leafHashes.slice(0, size))), root, `reference root of ${size}`);
    }
  });

  it("generates byte-identical inclusion proofs and verifies Go's", async () => {
    assert.ok(vectors.inclusion.length > 100);
    const roots = new Map(vectors.roots.map((r) => [r.size, fromHex(r.root)]));
    for (const v of vectors.inclusion) {
      assert.equal(toHex(tree.leafHashes[v.index] as Hash), v.leafHash);
      const proof = await proveInclusion(v.index, v.size, tree.nodeReader(v.size));
      assert.deepEqual(proof.map(toHex), v.proof, `leaf ${v.index} of ${v.size}`);
      verifyInclusion(v.index, v.size, fromHex(v.leafHash), hexes(v.proof), roots.get(v.size) as Hash);
    }
  });

  it("generates byte-identical consistency proofs and verifies Go's", async () => {
    assert.ok(vectors.consistency.length > 100);
    const roots = new Map(vectors.roots.map((r) => [r.size, fromHex(r.root)]));
    for (const v of vectors.consistency) {
      const proof = await proveConsistency(v.from, v.to, tree.nodeReader(v.to));
      assert.deepEqual(proof.map(toHex), v.proof, `${v.from} to ${v.to}`);
      const fromRoot = roots.get(v.from) ?? (await treeRoot(v.from, tree.nodeReader(v.from)));
      const toRoot = roots.get(v.to) ?? (await treeRoot(v.to, tree.nodeReader(v.to)));
      verifyConsistency(v.from, v.to, fromRoot, toRoot, hexes(v.proof));
    }
  });

  it("rebuilds nodes 15 levels up from 128 stored hashes of a level-1 tile", async () => {
    // Node 15/1 covers leaves 32768..65535: 128 hashes of tile level 1.
    const [node] = await tree.nodeReader(GO_MAX_LEAVES)([{ height: 15, index: 1 }]);
    assert.equal(toHex(node as Hash), toHex(rootFromLeafHashes(tree.leafHashes.slice(32768, 65536))));
    assert.equal(tree.maxStoredRead, 128);
  });
});

describe("proof verification refuses every corruption", () => {
  const someHash = fromHex("abacaba000000000000000000000000000000000000000000060061e00123456");

  interface InclusionCase {
    index: number;
    size: number;
    leafHash: Hash;
    proof: Hash[];
    root: Hash;
  }

  function inclusionCorruptions(c: InclusionCase, bits: readonly number[] = [0, 3, 7, 100, 255]): [string, () => void][] {
    const { index, size, leafHash, proof, root } = c;
    const verify = (i: number, n: number, l: Hash, p: readonly Hash[], r: Hash) => () => verifyInclusion(i, n, l, p, r);
    const cases: [string, () => void][] = [
      ["index - 1", verify(index - 1, size, leafHash, proof, root)],
      ["index + 1", verify(index + 1, size, leafHash, proof, root)],
      ["index ^ 2", verify(index ^ 2, size, leafHash, proof, root)],
      ["index = size", verify(size, size, leafHash, proof, root)],
      ["index > size", verify(size + 5, size, leafHash, proof, root)],
      ["size * 2", verify(index, size * 2, leafHash, proof, root)],
      ["size / 2", verify(index, Math.floor(size / 2), leafHash, proof, root)],
      ["size 0", verify(index, 0, leafHash, proof, root)],
      ["fractional index", verify(index + 0.5, size, leafHash, proof, root)],
      ["NaN size", verify(index, Number.NaN, leafHash, proof, root)],
      ["wrong leaf", verify(index, size, someHash, proof, root)],
      ["empty-tree root", verify(index, size, leafHash, proof, emptyRoot())],
      ["other root", verify(index, size, leafHash, proof, someHash)],
      ["trailing root", verify(index, size, leafHash, [...proof, root], root)],
      ["trailing zero hash", verify(index, size, leafHash, [...proof, new Uint8Array(32)], root)],
      ["preceding root", verify(index, size, leafHash, [root, ...proof], root)],
      ["trailing empty hash", verify(index, size, leafHash, [...proof, new Uint8Array(0)], root)],
      ["preceding empty hash", verify(index, size, leafHash, [new Uint8Array(0), ...proof], root)],
      ["31-byte leaf", verify(index, size, leafHash.slice(1), proof, root)],
      ["33-byte leaf", verify(index, size, concatBytes(leafHash, new Uint8Array(1)), proof, root)],
      ["31-byte root", verify(index, size, leafHash, proof, root.slice(1))],
      ["empty root", verify(index, size, leafHash, proof, new Uint8Array(0))],
    ];
    for (let i = 0; i < proof.length; i++) {
      for (const bit of bits) {
        const bad = proof.slice();
        bad[i] = flipBit(proof[i] as Hash, bit);
        cases.push([`bit ${bit} of proof[${i}] flipped`, verify(index, size, leafHash, bad, root)]);
      }
      cases.push([`proof[${i}] removed`, verify(index, size, leafHash, proof.toSpliced(i, 1), root)]);
      cases.push([`hash inserted before proof[${i}]`, verify(index, size, leafHash, proof.toSpliced(i, 0, someHash), root)]);
      cases.push([`proof[${i}] truncated to 31 bytes`, verify(index, size, leafHash, proof.with(i, (proof[i] as Hash).slice(1)), root)]);
      cases.push([
        `proof[${i}] extended to 33 bytes`,
        verify(index, size, leafHash, proof.with(i, concatBytes(proof[i] as Hash, new Uint8Array(1))), root),
      ]);
    }
    if (proof.length > 0) cases.push(["proof truncated", verify(index, size, leafHash, proof.slice(0, -1), root)]);
    if (proof.length > 1) cases.push(["proof reversed", verify(index, size, leafHash, proof.toReversed(), root)]);
    for (const bit of [0, 9, 255]) {
      cases.push([`bit ${bit} of leaf flipped`, verify(index, size, flipBit(leafHash, bit), proof, root)]);
      cases.push([`bit ${bit} of root flipped`, verify(index, size, leafHash, proof, flipBit(root, bit))]);
    }
    return cases;
  }

  interface ConsistencyCase {
    from: number;
    to: number;
    fromRoot: Hash;
    toRoot: Hash;
    proof: Hash[];
  }

  function consistencyCorruptions(c: ConsistencyCase, bits: readonly number[] = [4, 0, 130, 255]): [string, () => void][] {
    const { from, to, fromRoot, toRoot, proof } = c;
    const verify = (m: number, n: number, r1: Hash, r2: Hash, p: readonly Hash[]) => () => verifyConsistency(m, n, r1, r2, p);
    const cases: [string, () => void][] = [
      ["from - 1", verify(from - 1, to, fromRoot, toRoot, proof)],
      ["from + 1", verify(from + 1, to, fromRoot, toRoot, proof)],
      ["from ^ 2", verify(from ^ 2, to, fromRoot, toRoot, proof)],
      ["to * 2", verify(from, to * 2, fromRoot, toRoot, proof)],
      ["to / 2", verify(from, Math.floor(to / 2), fromRoot, toRoot, proof)],
      ["from > to", verify(to + 1, to, fromRoot, toRoot, proof)],
      ["from 0", verify(0, to, fromRoot, toRoot, proof)],
      ["negative from", verify(-1, to, fromRoot, toRoot, proof)],
      ["fractional to", verify(from, to + 0.5, fromRoot, toRoot, proof)],
      ["wrong old root", verify(from, to, someHash, toRoot, proof)],
      ["wrong new root", verify(from, to, fromRoot, someHash, proof)],
      ["swapped roots", verify(from, to, toRoot, fromRoot, proof)],
      ["31-byte old root", verify(from, to, fromRoot.slice(1), toRoot, proof)],
      ["empty new root", verify(from, to, fromRoot, new Uint8Array(0), proof)],
      ["empty proof", verify(from, to, fromRoot, toRoot, [])],
      ["trailing old root", verify(from, to, fromRoot, toRoot, [...proof, fromRoot])],
      ["trailing new root", verify(from, to, fromRoot, toRoot, [...proof, toRoot])],
      ["trailing empty hash", verify(from, to, fromRoot, toRoot, [...proof, new Uint8Array(0)])],
      ["preceding empty hash", verify(from, to, fromRoot, toRoot, [new Uint8Array(0), ...proof])],
      ["preceding old root", verify(from, to, fromRoot, toRoot, [fromRoot, ...proof])],
      ["preceding new root", verify(from, to, fromRoot, toRoot, [toRoot, ...proof])],
      ["preceding proof[0]", verify(from, to, fromRoot, toRoot, [proof[0] as Hash, ...proof])],
      ["proof truncated", verify(from, to, fromRoot, toRoot, proof.slice(0, -1))],
    ];
    for (let i = 0; i < proof.length; i++) {
      for (const bit of bits) {
        const bad = proof.slice();
        bad[i] = flipBit(proof[i] as Hash, bit);
        cases.push([`bit ${bit} of proof[${i}] flipped`, verify(from, to, fromRoot, toRoot, bad)]);
      }
      cases.push([`proof[${i}] removed`, verify(from, to, fromRoot, toRoot, proof.toSpliced(i, 1))]);
      cases.push([`hash inserted before proof[${i}]`, verify(from, to, fromRoot, toRoot, proof.toSpliced(i, 0, someHash))]);
      cases.push([`proof[${i}] truncated to 31 bytes`, verify(from, to, fromRoot, toRoot, proof.with(i, (proof[i] as Hash).slice(1)))]);
    }
    if (proof.length > 1) cases.push(["proof reversed", verify(from, to, fromRoot, toRoot, proof.toReversed())]);
    for (const bit of [0, 200]) {
      cases.push([`bit ${bit} of old root flipped`, verify(from, to, flipBit(fromRoot, bit), toRoot, proof)]);
      cases.push([`bit ${bit} of new root flipped`, verify(from, to, fromRoot, flipBit(toRoot, bit), proof)]);
    }
    return cases;
  }

  function assertAllThrow(cases: [string, () => void][], label: string): void {
    for (const [name, run] of cases) {
      assert.throws(run, isVerificationError(), `${label}: ${name} was accepted or crashed`);
    }
  }

  it("refuses corrupted CT inclusion proofs", () => {
    for (const v of CT_INCLUSION) {
      assertAllThrow(
        inclusionCorruptions({ ...v, leafHash: ctLeafHashes[v.index] as Hash, root: ctRoot(v.size) }),
        `leaf ${v.index} of ${v.size}`,
      );
    }
  });

  it("refuses corrupted CT consistency proofs", () => {
    for (const v of CT_CONSISTENCY.filter((c) => c.proof.length > 0)) {
      assertAllThrow(consistencyCorruptions({ ...v, fromRoot: ctRoot(v.from), toRoot: ctRoot(v.to) }), `${v.from} to ${v.to}`);
    }
  });

  it("refuses corrupted Go inclusion proofs", () => {
    const vectors = goVectors();
    const roots = new Map(vectors.roots.map((r) => [r.size, fromHex(r.root)]));
    const sample = vectors.inclusion.filter((v) => [7, 17, 65, 257, 1000, GO_MAX_LEAVES].includes(v.size));
    assert.ok(sample.length > 20);
    for (const v of sample) {
      const c = { index: v.index, size: v.size, leafHash: fromHex(v.leafHash), proof: hexes(v.proof), root: roots.get(v.size) as Hash };
      assertAllThrow(inclusionCorruptions(c, [1, 254]), `leaf ${v.index} of ${v.size}`);
    }
  });

  it("refuses corrupted Go consistency proofs", () => {
    const vectors = goVectors();
    const roots = new Map(vectors.roots.map((r) => [r.size, fromHex(r.root)]));
    const sample = vectors.consistency.filter((v) => v.from !== v.to && roots.has(v.from) && roots.has(v.to));
    assert.ok(sample.length > 50);
    for (const v of sample) {
      const c = { from: v.from, to: v.to, fromRoot: roots.get(v.from) as Hash, toRoot: roots.get(v.to) as Hash, proof: hexes(v.proof) };
      assertAllThrow(consistencyCorruptions(c, [2]), `${v.from} to ${v.to}`);
    }
  });

  it("accepts a one-leaf tree only when leaf hash and root agree", () => {
    const hash = hashLeaf(new TextEncoder().encode("data"));
    verifyInclusion(0, 1, hash, [], hash);
    assert.throws(() => verifyInclusion(0, 1, hash, [], new Uint8Array(0)), isVerificationError());
    assert.throws(() => verifyInclusion(0, 1, new Uint8Array(0), [], hash), isVerificationError("invalid_hash"));
    assert.throws(() => verifyInclusion(0, 1, new Uint8Array(0), [], new Uint8Array(0)), isVerificationError());
  });

  it("refuses consistency between equal sizes unless the roots match and the proof is empty", () => {
    const root = ctRoot(3);
    verifyConsistency(3, 3, root, root, []);
    assert.throws(() => verifyConsistency(3, 3, root, ctRoot(4), []), isVerificationError("invalid_consistency_proof"));
    assert.throws(() => verifyConsistency(3, 3, root, root, [emptyRoot()]), isVerificationError("invalid_consistency_proof"));
    assert.throws(() => verifyConsistency(0, 0, emptyRoot(), emptyRoot(), []), isVerificationError("invalid_consistency_proof"));
  });

  it("fails as a VerificationError, not a TypeError, on values that are not byte arrays", () => {
    const leafHash = ctLeafHashes[0] as Hash;
    const proof = CT_INCLUSION[1]?.proof as Hash[];
    const notBytes = [undefined, null, "a".repeat(32), Array(32).fill(0)] as unknown as Hash[];
    for (const bad of notBytes) {
      assert.throws(() => verifyInclusion(0, 8, bad, proof, ctRoot(8)), isVerificationError("invalid_hash"));
      assert.throws(() => verifyInclusion(0, 8, leafHash, [bad, ...proof.slice(1)], ctRoot(8)), isVerificationError("invalid_hash"));
      assert.throws(() => verifyInclusion(0, 8, leafHash, proof, bad), isVerificationError());
      assert.throws(() => verifyConsistency(1, 8, bad, ctRoot(8), proof), isVerificationError("invalid_hash"));
      assert.throws(() => verifyConsistency(1, 8, leafHash, bad, proof), isVerificationError("invalid_hash"));
      assert.throws(() => verifyConsistency(1, 8, leafHash, ctRoot(8), [...proof.slice(0, 2), bad]), isVerificationError("invalid_hash"));
    }
  });
});

describe("proof generation and verification round trips over tile-stored hashes", () => {
  /** Wraps a node reader so each distinct node is rebuilt from tiles once, keeping the sweep fast. */
  function cachedReader(tree: ReturnType<typeof buildMemoryTree>, cache: Map<string, Hash>, treeSize: number): NodeReader {
    const reader = tree.nodeReader(treeSize);
    return async (nodes) => {
      const missing = nodes.filter((n) => !cache.has(`${n.height}/${n.index}`));
      const fetched = await reader(missing);
      for (const [i, n] of missing.entries()) cache.set(`${n.height}/${n.index}`, fetched[i] as Hash);
      return nodes.map((n) => cache.get(`${n.height}/${n.index}`) as Hash);
    };
  }

  it("proves and verifies every leaf of every tree up to 300 leaves", async () => {
    const tree = goMemoryTree();
    const leafHashes = tree.leafHashes.slice(0, 300);
    const cache = new Map<string, Hash>();
    const range = CompactRange.empty();
    let proofs = 0;
    for (let size = 1; size <= 300; size++) {
      range.append(leafHashes[size - 1] as Hash);
      const root = range.root();
      const reader = cachedReader(tree, cache, size);
      assert.deepEqual(await treeRoot(size, reader), root);
      for (let index = 0; index < size; index++) {
        const proof = await proveInclusion(index, size, reader);
        verifyInclusion(index, size, leafHashes[index] as Hash, proof, root);
        proofs++;
      }
    }
    assert.equal(proofs, (300 * 301) / 2);
  });

  it("proves and verifies consistency between every pair of sizes up to 140", async () => {
    const tree = goMemoryTree();
    const cache = new Map<string, Hash>();
    const roots = [emptyRoot()];
    const range = CompactRange.empty();
    for (let size = 1; size <= 140; size++) {
      range.append(tree.leafHashes[size - 1] as Hash);
      roots.push(range.root());
    }
    let proofs = 0;
    for (let to = 1; to <= 140; to++) {
      const reader = cachedReader(tree, cache, to);
      for (let from = 1; from <= to; from++) {
        const proof = await proveConsistency(from, to, reader);
        verifyConsistency(from, to, roots[from] as Hash, roots[to] as Hash, proof);
        proofs++;
      }
    }
    assert.equal(proofs, (140 * 141) / 2);
  });

  it("proves leaves of a 70,000-leaf tree whose nodes need up to 128 stored hashes", async () => {
    const tree = goMemoryTree();
    const root = rootFromLeafHashes(tree.leafHashes);
    const reader = tree.nodeReader(GO_MAX_LEAVES);
    assert.deepEqual(await treeRoot(GO_MAX_LEAVES, reader), root);
    for (const index of [0, 255, 256, 32767, 32768, 65535, 65536, 69887, 69888, 69999]) {
      const proof = await proveInclusion(index, GO_MAX_LEAVES, reader);
      verifyInclusion(index, GO_MAX_LEAVES, tree.leafHashes[index] as Hash, proof, root);
    }
    for (const from of [1, 256, 257, 65535, 65536, 65537, 69999]) {
      const fromRoot = await treeRoot(from, tree.nodeReader(from));
      const proof = await proveConsistency(from, GO_MAX_LEAVES, reader);
      verifyConsistency(from, GO_MAX_LEAVES, fromRoot, root, proof);
    }
    assert.equal(tree.maxStoredRead, 128);
  });
});

describe("CompactRange", () => {
  it("reports every completed perfect subtree to onNode, leaves included", () => {
    const seen: string[] = [];
    const range = CompactRange.empty();
    for (const leafHash of ctLeafHashes.slice(0, 4)) range.append(leafHash, (h, i) => seen.push(`${h}/${i}`));
    assert.deepEqual(seen, ["0/0", "0/1", "1/0", "0/2", "0/3", "1/1", "2/0"]);
  });

  it("resumes from the edge hashes of rangeNodes(0, size)", () => {
    const full = CompactRange.empty();
    for (const leafHash of ctLeafHashes.slice(0, 5)) full.append(leafHash);
    const edge = rangeNodes(0, 5).map((n) =>
      rootFromLeafHashes(ctLeafHashes.slice(n.index * 2 ** n.height, (n.index + 1) * 2 ** n.height)),
    );
    const resumed = CompactRange.fromNodes(5, edge);
    assert.deepEqual(resumed.root(), ctRoot(5));
    const copy = resumed.clone();
    for (const leafHash of ctLeafHashes.slice(5)) resumed.append(leafHash);
    assert.deepEqual(resumed.root(), ctRoot(8));
    assert.deepEqual(copy.root(), ctRoot(5));
    assert.equal(copy.size, 5);
  });

  it("refuses an edge with the wrong number of hashes", () => {
    assert.throws(() => CompactRange.fromNodes(5, [ctRoot(4)]), isVerificationError("invalid_range"));
  });

  it("appends a whole perfect subtree by its root, as leaf by leaf would", () => {
    const byLeaf = CompactRange.empty();
    const bySubtree = CompactRange.empty();
    const seenByLeaf: string[] = [];
    const seenBySubtree: string[] = [];
    for (const leafHash of ctLeafHashes.slice(0, 6)) byLeaf.append(leafHash, (h, i) => h >= 1 && seenByLeaf.push(`${h}/${i}`));
    for (let i = 0; i < 6; i += 2) {
      bySubtree.appendSubtree(1, rootFromLeafHashes(ctLeafHashes.slice(i, i + 2)), (h, n) => seenBySubtree.push(`${h}/${n}`));
    }
    assert.deepEqual(bySubtree.root(), ctRoot(6));
    assert.equal(bySubtree.size, 6);
    assert.deepEqual(seenBySubtree, seenByLeaf);
    bySubtree.append(ctLeafHashes[6] as Hash);
    assert.deepEqual(bySubtree.root(), ctRoot(7));
  });

  it("refuses a subtree that would not start at a multiple of its size", () => {
    const range = CompactRange.empty();
    range.append(ctLeafHashes[0] as Hash);
    assert.throws(() => range.appendSubtree(1, ctRoot(2)), isVerificationError("invalid_range"));
  });
});
