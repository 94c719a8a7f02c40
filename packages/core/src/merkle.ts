import { sha256 } from "#sha256";
import { bytesEqual } from "./bytes.js";
import { InputError, VerificationError } from "./errors.js";

/** A 32-byte SHA-256 node hash. */
export type Hash = Uint8Array;

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** RFC 9162 §2.1.1: MTH({d0}) = SHA-256(0x00 || d0). */
export function hashLeaf(leaf: Uint8Array): Hash {
  return sha256(LEAF_PREFIX, leaf);
}

/** RFC 9162 §2.1.1: interior node = SHA-256(0x01 || left || right). */
export function hashChildren(left: Hash, right: Hash): Hash {
  return sha256(NODE_PREFIX, left, right);
}

/** RFC 9162 §2.1.1: the hash of an empty tree is the hash of the empty string. */
export function emptyRoot(): Hash {
  return sha256();
}

/** A complete (perfect) subtree: `height` levels above the leaves, `index`-th at that height. */
export interface NodeRef {
  readonly height: number;
  readonly index: number;
}

/** Largest power of two strictly less than n (n ≥ 2), the RFC 9162 split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && Number.isInteger(Math.log2(n));
}

/**
 * The perfect subtrees whose concatenation is leaves [start, start + length), left to right.
 * Every range the RFC 9162 recursions visit decomposes this way into aligned subtrees.
 */
export function rangeNodes(start: number, length: number): NodeRef[] {
  const nodes: NodeRef[] = [];
  let position = start;
  let remaining = length;
  while (remaining > 0) {
    let size = 1;
    while (size * 2 <= remaining && position % (size * 2) === 0) size *= 2;
    nodes.push({ height: Math.log2(size), index: position / size });
    position += size;
    remaining -= size;
  }
  return nodes;
}

/** Folds perfect-subtree hashes, left to right, into the hash of their concatenated range. */
export function foldRange(hashes: readonly Hash[]): Hash {
  if (hashes.length === 0) return emptyRoot();
  let acc = hashes[hashes.length - 1] as Hash;
  for (let i = hashes.length - 2; i >= 0; i--) acc = hashChildren(hashes[i] as Hash, acc);
  return acc;
}

/** The reference MTH over in-memory leaf hashes (RFC 9162 §2.1.1), for tests and small trees. */
export function rootFromLeafHashes(leafHashes: readonly Hash[]): Hash {
  if (leafHashes.length === 0) return emptyRoot();
  if (leafHashes.length === 1) return leafHashes[0] as Hash;
  const k = splitPoint(leafHashes.length);
  return hashChildren(rootFromLeafHashes(leafHashes.slice(0, k)), rootFromLeafHashes(leafHashes.slice(k)));
}

/**
 * A proof element is the hash of a range; `nodes` are its perfect subtrees. Proof generation
 * first plans which stored nodes it needs, so a store can fetch them in one round trip.
 */
export interface ProofPlan {
  readonly elements: readonly (readonly NodeRef[])[];
}

function checkSize(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new InputError("invalid_proof_request", `${name} must be a non-negative integer`);
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]), as the ranges whose hashes form the audit path (leaf to root). */
export function planInclusionProof(index: number, treeSize: number): ProofPlan {
  checkSize("index", index);
  checkSize("treeSize", treeSize);
  if (index >= treeSize) throw new InputError("invalid_proof_request", "index must be less than treeSize");
  const elements: NodeRef[][] = [];
  const walk = (m: number, start: number, n: number): void => {
    if (n === 1) return;
    const k = splitPoint(n);
    if (m < k) {
      walk(m, start, k);
      elements.push(rangeNodes(start + k, n - k));
    } else {
      walk(m - k, start + k, n - k);
      elements.push(rangeNodes(start, k));
    }
  };
  walk(index, 0, treeSize);
  return { elements };
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]); empty when m = n. Requires 1 ≤ m ≤ n. */
export function planConsistencyProof(from: number, to: number): ProofPlan {
  checkSize("from", from);
  checkSize("to", to);
  if (from < 1) throw new InputError("invalid_proof_request", "from must be at least 1");
  if (from > to) throw new InputError("invalid_proof_request", "from must not exceed to");
  const elements: NodeRef[][] = [];
  const sub = (m: number, start: number, n: number, complete: boolean): void => {
    if (m === n) {
      if (!complete) elements.push(rangeNodes(start, n));
      return;
    }
    const k = splitPoint(n);
    if (m <= k) {
      sub(m, start, k, complete);
      elements.push(rangeNodes(start + k, n - k));
    } else {
      sub(m - k, start + k, n - k, false);
      elements.push(rangeNodes(start, k));
    }
  };
  if (from < to) sub(from, 0, to, true);
  return { elements };
}

/** Every distinct node a plan needs, in first-use order. */
export function planNodes(plan: ProofPlan): NodeRef[] {
  const seen = new Map<string, NodeRef>();
  for (const element of plan.elements) {
    for (const node of element) seen.set(`${node.height}/${node.index}`, node);
  }
  return [...seen.values()];
}

/** Completes a plan with fetched node hashes (same order as `planNodes`). */
export function resolvePlan(plan: ProofPlan, hashes: ReadonlyMap<string, Hash>): Hash[] {
  return plan.elements.map((element) =>
    foldRange(
      element.map((node) => {
        const hash = hashes.get(`${node.height}/${node.index}`);
        if (!hash) throw new VerificationError("missing_node", `node ${node.height}/${node.index} was not supplied`);
        return hash;
      }),
    ),
  );
}

/** Fetches perfect-subtree hashes; implemented over stored tiles by `createTileNodeReader`. */
export type NodeReader = (nodes: readonly NodeRef[]) => Promise<Hash[]>;

async function runPlan(plan: ProofPlan, readNodes: NodeReader): Promise<Hash[]> {
  const nodes = planNodes(plan);
  const hashes = await readNodes(nodes);
  const byKey = new Map<string, Hash>();
  for (const [i, node] of nodes.entries()) byKey.set(`${node.height}/${node.index}`, hashes[i] as Hash);
  return resolvePlan(plan, byKey);
}

// Async so a bad request rejects the returned promise instead of throwing synchronously.
export async function proveInclusion(index: number, treeSize: number, readNodes: NodeReader): Promise<Hash[]> {
  return runPlan(planInclusionProof(index, treeSize), readNodes);
}

export async function proveConsistency(from: number, to: number, readNodes: NodeReader): Promise<Hash[]> {
  return runPlan(planConsistencyProof(from, to), readNodes);
}

/** The root of the first `treeSize` leaves, from stored nodes. */
export async function treeRoot(treeSize: number, readNodes: NodeReader): Promise<Hash> {
  checkSize("treeSize", treeSize);
  const nodes = rangeNodes(0, treeSize);
  return foldRange(await readNodes(nodes));
}

/** RFC 9162 §2.1.3.2: recomputes the root from a leaf hash and its audit path. */
export function rootFromInclusionProof(index: number, treeSize: number, leafHash: Hash, proof: readonly Hash[]): Hash {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) {
    throw new VerificationError("invalid_inclusion_proof", "index is not inside the tree");
  }
  checkHash(leafHash);
  let fn = index;
  let sn = treeSize - 1;
  let r = leafHash;
  for (const p of proof) {
    checkHash(p);
    if (sn === 0) throw new VerificationError("invalid_inclusion_proof", "inclusion proof has too many hashes");
    if (fn % 2 === 1 || fn === sn) {
      r = hashChildren(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new VerificationError("invalid_inclusion_proof", "inclusion proof has too few hashes");
  return r;
}

export function verifyInclusion(index: number, treeSize: number, leafHash: Hash, proof: readonly Hash[], root: Hash): void {
  const computed = rootFromInclusionProof(index, treeSize, leafHash, proof);
  checkHash(root);
  if (!bytesEqual(computed, root)) {
    throw new VerificationError("invalid_inclusion_proof", `leaf ${index} is not included in the tree of size ${treeSize}`);
  }
}

/** RFC 9162 §2.1.4.2: checks that the tree (to, toRoot) extends the tree (from, fromRoot). */
export function verifyConsistency(from: number, to: number, fromRoot: Hash, toRoot: Hash, proof: readonly Hash[]): void {
  const fail = (why: string): never => {
    throw new VerificationError("invalid_consistency_proof", `trees ${from} and ${to} are not consistent: ${why}`);
  };
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 1 || from > to) fail("bad sizes");
  checkHash(fromRoot);
  checkHash(toRoot);
  for (const p of proof) checkHash(p);
  if (from === to) {
    if (proof.length !== 0) fail("proof must be empty for equal sizes");
    if (!bytesEqual(fromRoot, toRoot)) fail("roots differ");
    return;
  }
  if (proof.length === 0) fail("empty proof");
  const path = isPowerOfTwo(from) ? [fromRoot, ...proof] : [...proof];
  let fn = from - 1;
  let sn = to - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0] as Hash;
  let sr = path[0] as Hash;
  for (const c of path.slice(1)) {
    if (sn === 0) fail("too many hashes");
    if (fn % 2 === 1 || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) fail("too few hashes");
  if (!bytesEqual(fr, fromRoot)) fail("old root does not match");
  if (!bytesEqual(sr, toRoot)) fail("new root does not match");
}

function checkHash(hash: Uint8Array): void {
  if (!(hash instanceof Uint8Array) || hash.length !== 32) {
    throw new VerificationError("invalid_hash", "a hash must be 32 bytes");
  }
}

/**
 * The right edge of a tree: the perfect subtrees of [0, size), left to right (one per set bit).
 * Appending only touches this edge, so the engine extends the tree without reading it back.
 */
export class CompactRange {
  #size: number;
  #nodes: { height: number; hash: Hash }[];

  private constructor(size: number, nodes: { height: number; hash: Hash }[]) {
    this.#size = size;
    this.#nodes = nodes;
  }

  static empty(): CompactRange {
    return new CompactRange(0, []);
  }

  /** Rebuilds the edge from the hashes of `rangeNodes(0, size)`. */
  static fromNodes(size: number, hashes: readonly Hash[]): CompactRange {
    const refs = rangeNodes(0, size);
    if (refs.length !== hashes.length) throw new VerificationError("invalid_range", "wrong number of edge hashes");
    return new CompactRange(
      size,
      refs.map((ref, i) => ({ height: ref.height, hash: hashes[i] as Hash })),
    );
  }

  get size(): number {
    return this.#size;
  }

  clone(): CompactRange {
    return new CompactRange(this.#size, [...this.#nodes]);
  }

  /**
   * Appends one leaf hash; `onNode` sees every perfect subtree completed by it (the leaf
   * itself at height 0 included), which is exactly what incremental tile maintenance needs.
   */
  append(leafHash: Hash, onNode?: (height: number, index: number, hash: Hash) => void): void {
    this.appendSubtree(0, leafHash, onNode);
  }

  /**
   * Appends a whole perfect subtree of 2^height leaves by its root hash, which needs the size to be
   * a multiple of 2^height (so no edge node is lower): an auditor that hashed a tile's 256 leaves
   * elsewhere adds them in one step. `onNode` sees the subtree itself and every one it completes.
   */
  appendSubtree(height: number, hash: Hash, onNode?: (height: number, index: number, hash: Hash) => void): void {
    const firstLeaf = this.#size;
    const leaves = 2 ** height;
    if (firstLeaf % leaves !== 0) {
      throw new VerificationError("invalid_range", `a subtree of height ${height} cannot start at leaf ${firstLeaf}`);
    }
    onNode?.(height, firstLeaf / leaves, hash);
    let node = { height, hash };
    while (this.#nodes.length > 0 && (this.#nodes[this.#nodes.length - 1] as { height: number }).height === node.height) {
      const left = this.#nodes.pop() as { height: number; hash: Hash };
      node = { height: node.height + 1, hash: hashChildren(left.hash, node.hash) };
      onNode?.(node.height, Math.floor(firstLeaf / 2 ** node.height), node.hash);
    }
    this.#nodes.push(node);
    this.#size += leaves;
  }

  root(): Hash {
    return foldRange(this.#nodes.map((n) => n.hash));
  }
}
