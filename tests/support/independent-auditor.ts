/**
 * An independent tlog-tiles auditor, written from the specifications and nothing else:
 *
 * - C2SP tlog-tiles (https://c2sp.org/tlog-tiles): tile and entry-bundle paths, widths, layout;
 * - C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the checkpoint note body;
 * - C2SP signed-note (https://c2sp.org/signed-note): note syntax, key IDs, Ed25519 signatures;
 * - RFC 9162 §2.1: Merkle tree hashing, audit paths, consistency proofs and their verification.
 *
 * It deliberately imports nothing from Sealtrail (no @sealtrail/*, nothing under packages/): a bug
 * shared by the server and its own verifier would otherwise go unnoticed. Only node:crypto
 * (SHA-256, Ed25519) and Buffer (base64) are used. Sealtrail's own contract (DESIGN §4) adds the
 * JSON proof API and the verifier-key string; those parts are marked as such.
 */
import { createHash, createPublicKey, type KeyObject, verify as verifySignature } from "node:crypto";

/** tlog-tiles: tiles have height 8, so a full tile is 256 hashes (8,192 bytes). */
export const TILE_WIDTH = 256;
export const HASH_SIZE = 32;

/** Every failed check throws this; `check` names what was being verified. */
export class AuditError extends Error {
  readonly check: string;
  constructor(check: string, message: string) {
    super(`${check}: ${message}`);
    this.name = "AuditError";
    this.check = check;
  }
}

function fail(check: string, message: string): never {
  throw new AuditError(check, message);
}

// ---------------------------------------------------------------------------------------------
// RFC 9162 §2.1.1: Merkle tree hashing.

export function sha256(...parts: Uint8Array[]): Buffer {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest();
}

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** RFC 9162 §2.1.1: MTH({d(0)}) = HASH(0x00 || d(0)). */
export function hashLeaf(entry: Uint8Array): Buffer {
  return sha256(LEAF_PREFIX, entry);
}

/** RFC 9162 §2.1.1: MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n])). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  return sha256(NODE_PREFIX, left, right);
}

function isPowerOfTwo(n: number): boolean {
  return n >= 1 && Number.isInteger(Math.log2(n));
}

/** RFC 9162 §2.1.1: k is the largest power of two smaller than n (n > 1). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

const half = (n: number): number => Math.floor(n / 2);
const lsb = (n: number): boolean => n % 2 === 1;

/**
 * A Merkle tree over known leaf hashes, computing MTH, PATH and PROOF exactly by their recursive
 * definitions in RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1. Perfect aligned subtrees are precomputed
 * once, so the root of any prefix costs O(log n).
 */
export class ReferenceTree {
  readonly #levels: Buffer[][];

  constructor(leafHashes: readonly Buffer[]) {
    const levels: Buffer[][] = [[...leafHashes]];
    for (let below = levels[0] as Buffer[]; below.length >= 2; ) {
      const next: Buffer[] = [];
      for (let i = 0; i + 1 < below.length; i += 2) next.push(hashChildren(below[i] as Buffer, below[i + 1] as Buffer));
      levels.push(next);
      below = next;
    }
    this.#levels = levels;
  }

  get size(): number {
    return (this.#levels[0] as Buffer[]).length;
  }

  leaf(index: number): Buffer {
    const hash = this.#levels[0]?.[index];
    if (!hash) throw new RangeError(`leaf ${index} is not in a tree of ${this.size}`);
    return hash;
  }

  /** MTH(D[lo:hi]). */
  hash(lo: number, hi: number): Buffer {
    const n = hi - lo;
    if (lo < 0 || n < 1 || hi > this.size) throw new RangeError(`no subtree [${lo}, ${hi}) in a tree of ${this.size}`);
    if (isPowerOfTwo(n) && lo % n === 0) return this.#levels[Math.log2(n)]?.[lo / n] as Buffer;
    const k = splitPoint(n);
    return hashChildren(this.hash(lo, lo + k), this.hash(lo + k, hi));
  }

  /** The root of the tree of the first `n` leaves; the empty tree's is HASH() (RFC 9162 §2.1.1). */
  root(n: number): Buffer {
    return n === 0 ? sha256() : this.hash(0, n);
  }

  /** PATH(m, D[0:n]) (RFC 9162 §2.1.3.1). */
  inclusionPath(m: number, n: number): Buffer[] {
    if (m < 0 || m >= n || n > this.size) throw new RangeError(`no audit path for ${m} in ${n}`);
    return this.#path(m, 0, n);
  }

  #path(m: number, lo: number, hi: number): Buffer[] {
    const n = hi - lo;
    if (n === 1) return [];
    const k = splitPoint(n);
    if (m < k) return [...this.#path(m, lo, lo + k), this.hash(lo + k, hi)];
    return [...this.#path(m - k, lo + k, hi), this.hash(lo, lo + k)];
  }

  /** PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true) (RFC 9162 §2.1.4.1). */
  consistencyProof(m: number, n: number): Buffer[] {
    if (m < 1 || m > n || n > this.size) throw new RangeError(`no consistency proof from ${m} to ${n}`);
    return this.#subproof(m, 0, n, true);
  }

  #subproof(m: number, lo: number, hi: number, complete: boolean): Buffer[] {
    const n = hi - lo;
    if (m === n) return complete ? [] : [this.hash(lo, hi)];
    const k = splitPoint(n);
    if (m <= k) return [...this.#subproof(m, lo, lo + k, complete), this.hash(lo + k, hi)];
    return [...this.#subproof(m - k, lo + k, hi, false), this.hash(lo, lo + k)];
  }
}

/** RFC 9162 §2.1.3.2: verifying an inclusion proof. */
export function verifyInclusion(
  index: number,
  treeSize: number,
  leafHash: Uint8Array,
  path: readonly Uint8Array[],
  rootHash: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) return false;
  if (leafHash.length !== HASH_SIZE || rootHash.length !== HASH_SIZE || path.some((p) => p.length !== HASH_SIZE)) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r: Buffer = Buffer.from(leafHash);
  for (const p of path) {
    if (sn === 0) return false;
    if (lsb(fn) || fn === sn) {
      r = hashChildren(p, r);
      if (!lsb(fn)) {
        while (!lsb(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && r.equals(rootHash);
}

/** RFC 9162 §2.1.4.2: verifying consistency between two tree heads. */
export function verifyConsistency(
  first: number,
  second: number,
  firstHash: Uint8Array,
  secondHash: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 1 || first > second) return false;
  if (firstHash.length !== HASH_SIZE || secondHash.length !== HASH_SIZE || proof.some((p) => p.length !== HASH_SIZE)) return false;
  // §2.1.4.1: the proof between a tree and itself is empty; the heads must simply be equal.
  if (first === second) return proof.length === 0 && Buffer.from(firstHash).equals(secondHash);
  // Step 1.
  if (proof.length === 0) return false;
  // Step 2.
  const path = isPowerOfTwo(first) ? [firstHash, ...proof] : [...proof];
  // Steps 3 and 4.
  let fn = first - 1;
  let sn = second - 1;
  while (lsb(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // Step 5.
  let fr: Buffer = Buffer.from(path[0] as Uint8Array);
  let sr: Buffer = fr;
  // Step 6.
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (lsb(fn) || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if (!lsb(fn)) {
        while (!lsb(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // Step 7.
  return sn === 0 && fr.equals(firstHash) && sr.equals(secondHash);
}

// ---------------------------------------------------------------------------------------------
// C2SP tlog-tiles: paths and layout.

/** tlog-tiles: N as zero-padded 3-digit path elements, all but the last prefixed with `x`. */
export function encodeTileIndex(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`bad tile index ${n}`);
  const groups: string[] = [];
  let rest = n;
  do {
    groups.unshift(String(rest % 1000).padStart(3, "0"));
    rest = Math.floor(rest / 1000);
  } while (rest > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join("/");
}

/** tlog-tiles: `tile/<L>/<N>[.p/<W>]`, or `tile/entries/<N>[.p/<W>]` for entry bundles. */
export function tilePath(level: number | "entries", index: number, width: number = TILE_WIDTH): string {
  if (level !== "entries" && (!Number.isInteger(level) || level < 0 || level > 63)) throw new RangeError(`bad tile level ${level}`);
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) throw new RangeError(`bad tile width ${width}`);
  return `tile/${level}/${encodeTileIndex(index)}${width === TILE_WIDTH ? "" : `.p/${width}`}`;
}

export interface TileLevel {
  readonly level: number;
  /** floor(s / 256^level): hashes stored at this level. */
  readonly hashes: number;
  readonly fullTiles: number;
  /** tlog-tiles "Partial Tiles": floor(s / 256^l) mod 256; 0 means none is served. */
  readonly partialWidth: number;
}

/** The tiles a tree of `treeSize` is represented by, level by level (tlog-tiles "Partial Tiles"). */
export function tileLayout(treeSize: number): TileLevel[] {
  const levels: TileLevel[] = [];
  for (let level = 0, hashes = treeSize; hashes > 0; level++, hashes = Math.floor(hashes / TILE_WIDTH)) {
    levels.push({ level, hashes, fullTiles: Math.floor(hashes / TILE_WIDTH), partialWidth: hashes % TILE_WIDTH });
  }
  return levels;
}

/** Every tile of one level as (index, width) pairs: the full ones, then the partial one if any. */
function tilesOf(level: TileLevel): { index: number; width: number }[] {
  const tiles = Array.from({ length: level.fullTiles }, (_, index) => ({ index, width: TILE_WIDTH }));
  if (level.partialWidth > 0) tiles.push({ index: level.fullTiles, width: level.partialWidth });
  return tiles;
}

/** tlog-tiles "Log entries": a sequence of big-endian uint16 length-prefixed entries. */
export function parseEntryBundle(bytes: Uint8Array): Buffer[] {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    if (at + 2 > data.length) fail("entry-bundle", `truncated length prefix at byte ${at}`);
    const length = data.readUInt16BE(at);
    at += 2;
    if (at + length > data.length) fail("entry-bundle", `entry ${entries.length} claims ${length} bytes, only ${data.length - at} left`);
    entries.push(data.subarray(at, at + length));
    at += length;
  }
  return entries;
}

/** The hash of a perfect run of 2^k sibling hashes: their common ancestor (RFC 9162 §2.1.1). */
function reduceRun(hashes: readonly Buffer[]): Buffer {
  if (!isPowerOfTwo(hashes.length)) throw new RangeError(`cannot reduce ${hashes.length} hashes`);
  let level = [...hashes];
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(hashChildren(level[i] as Buffer, level[i + 1] as Buffer));
    level = next;
  }
  return level[0] as Buffer;
}

/**
 * The root of a tree of `treeSize` from tile-level hashes only (what a tlog-tiles client does):
 * a perfect subtree of 2^h leaves is rebuilt from the 2^(h mod 8) hashes at tile level ⌊h/8⌋.
 */
export function rootFromTiles(stored: readonly (readonly Buffer[])[], treeSize: number): Buffer {
  if (treeSize === 0) return sha256();
  const subtree = (lo: number, n: number): Buffer => {
    if (isPowerOfTwo(n)) {
      const height = Math.log2(n);
      const level = Math.min(Math.floor(height / 8), stored.length - 1);
      const span = TILE_WIDTH ** level;
      const run = stored[level]?.slice(lo / span, (lo + n) / span) ?? [];
      if (run.length !== n / span) fail("tile-root", `hashes for leaves [${lo}, ${lo + n}) are missing at level ${level}`);
      return reduceRun(run);
    }
    const k = splitPoint(n);
    return hashChildren(subtree(lo, k), subtree(lo + k, n - k));
  };
  return subtree(0, treeSize);
}

// ---------------------------------------------------------------------------------------------
// C2SP signed-note and tlog-checkpoint.

/** RFC 4648 §4 standard base64, rejecting anything that does not round-trip exactly. */
export function decodeBase64(text: string, what: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) fail("base64", `${what} is not standard base64`);
  const bytes = Buffer.from(text, "base64");
  if (bytes.toString("base64") !== text) fail("base64", `${what} is not canonical base64`);
  return bytes;
}

/** signed-note: key names are non-empty and contain neither Unicode spaces nor `+`. */
function isKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name);
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Buffer;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

const ED25519 = 0x01;

/** signed-note "Ed25519 signatures": key ID = SHA-256(key name || 0x0A || 0x01 || public key)[:4]. */
export function ed25519KeyId(name: string, publicKey: Uint8Array): number {
  return sha256(Buffer.from(name, "utf8"), Buffer.from([0x0a, ED25519]), publicKey).readUInt32BE(0);
}

/** A raw 32-byte Ed25519 public key (RFC 8032) as a node:crypto key, via JWK (RFC 8037). */
function ed25519PublicKey(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(raw).toString("base64url") }, format: "jwk" });
}

/**
 * The verifier key string `<name>+<8 hex key ID>+<base64(0x01 || 32-byte key)>` (DESIGN §4, the
 * format Go's sumdb/note uses). The key ID is recomputed, never trusted.
 */
export function parseVerifierKey(text: string): NoteVerifier {
  // The name and the hex ID hold no `+`; the base64 key may.
  const first = text.indexOf("+");
  const second = first < 0 ? -1 : text.indexOf("+", first + 1);
  if (second < 0) fail("verifier-key", "expected <name>+<hex key ID>+<base64 key>");
  const name = text.slice(0, first);
  const idHex = text.slice(first + 1, second);
  const keyText = text.slice(second + 1);
  if (!isKeyName(name)) fail("verifier-key", "bad key name");
  if (!/^[0-9a-f]{8}$/i.test(idHex)) fail("verifier-key", "key ID must be 8 hex digits");
  const typed = decodeBase64(keyText, "verifier key");
  if (typed.length !== 33 || typed[0] !== ED25519) fail("verifier-key", "not an Ed25519 key (0x01 followed by 32 bytes)");
  const publicKey = typed.subarray(1);
  const keyId = ed25519KeyId(name, publicKey);
  if (keyId !== Number.parseInt(idHex, 16)) fail("verifier-key", `key ID ${idHex} does not match the key (${keyId.toString(16)})`);
  const key = ed25519PublicKey(publicKey);
  return {
    name,
    keyId,
    publicKey,
    verify: (message, signature) => signature.length === 64 && verifySignature(null, message, key, signature),
  };
}

export interface OpenedNote {
  /** The note text, including its final newline. */
  readonly text: string;
  /** Names of the known keys whose signatures verified. */
  readonly verifiedBy: readonly string[];
  readonly signatureCount: number;
}

/**
 * Parses and verifies a signed note (C2SP signed-note "Format" and "Signatures"): unknown
 * signatures are ignored, a known key's bad signature rejects the note, and at least one known
 * key must have signed.
 */
export function openNote(input: Uint8Array | string, verifiers: readonly NoteVerifier[]): OpenedNote {
  let note: string;
  if (typeof input === "string") {
    note = input;
  } else {
    try {
      note = new TextDecoder("utf-8", { fatal: true }).decode(input);
    } catch {
      fail("note", "not valid UTF-8");
    }
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the spec forbids exactly these.
  if (/[\u0000-\u0009\u000b-\u001f]/.test(note)) fail("note", "contains an ASCII control character other than newline");
  if (!note.endsWith("\n")) fail("note", "does not end with a newline");
  const split = note.lastIndexOf("\n\n");
  if (split < 0) fail("note", "no blank line before the signatures");
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split("\n");
  if (lines.length === 0 || lines[0] === "") fail("note", "no signature lines");
  const verifiedBy: string[] = [];
  for (const line of lines) {
    if (!line.startsWith("\u2014 ")) fail("note", `signature line does not start with an em dash and a space: ${JSON.stringify(line)}`);
    const rest = line.slice(2);
    const space = rest.indexOf(" ");
    if (space < 0) fail("note", "signature line has no space between key name and signature");
    const name = rest.slice(0, space);
    if (!isKeyName(name)) fail("note", `bad key name ${JSON.stringify(name)} in a signature line`);
    const signature = decodeBase64(rest.slice(space + 1), "note signature");
    if (signature.length < 5) fail("note", "a signature is shorter than its 4-byte key ID plus one byte");
    const keyId = signature.readUInt32BE(0);
    const verifier = verifiers.find((v) => v.name === name && v.keyId === keyId);
    if (!verifier) continue;
    if (!verifier.verify(Buffer.from(text, "utf8"), signature.subarray(4)))
      fail("note-signature", `the signature by ${name} does not verify`);
    verifiedBy.push(name);
  }
  if (verifiedBy.length === 0) fail("note-signature", "no signature by a known key");
  return { text, verifiedBy, signatureCount: lines.length };
}

export interface Checkpoint {
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: Buffer;
  readonly extensions: readonly string[];
}

/** tlog-checkpoint "Note text": origin, decimal tree size, base64 root hash, optional extension lines. */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith("\n")) fail("checkpoint", "note text does not end with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) fail("checkpoint", `expected at least 3 lines, got ${lines.length}`);
  if (lines.some((line) => line === "")) fail("checkpoint", "lines must be non-empty");
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText))
    fail("checkpoint", `tree size ${JSON.stringify(sizeText)} is not a decimal without leading zeroes`);
  const treeSize = Number(sizeText);
  if (!Number.isSafeInteger(treeSize)) fail("checkpoint", "tree size is too large for this auditor");
  const rootHash = decodeBase64(rootText, "root hash");
  if (rootHash.length !== HASH_SIZE) fail("checkpoint", `root hash has ${rootHash.length} bytes, not 32`);
  return { origin, treeSize, rootHash, extensions };
}

// ---------------------------------------------------------------------------------------------
// RFC 8785 (JCS), for Sealtrail's leaf contract (DESIGN §3): the leaf is canonical JSON.

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const record = value as Record<string, unknown>;
  // RFC 8785 §3.2.3: members sorted by their names as UTF-16 code units, which is what
  // Array.prototype.sort compares; ES number and string serialization is JCS's (§3.2.2).
  return `{${Object.keys(record)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`)
    .join(",")}}`;
}

// ---------------------------------------------------------------------------------------------
// The audit.

export interface TrustedCheckpoint extends Checkpoint {
  readonly note: string;
}

export interface AuditOptions {
  /** Server base URL, e.g. http://127.0.0.1:8080 (no trailing slash needed). */
  readonly url: string;
  readonly log: string;
  /** Bearer key scoped to the log (entry bundles are not public). */
  readonly key: string;
  /** Pinned verifier key; without it the one the server lists for the log is used. */
  readonly verifierKey?: string;
  /** An earlier checkpoint of this log, to prove the log only grew since (append-only). */
  readonly previous?: TrustedCheckpoint;
  /** How many inclusion and consistency proofs to sample from the JSON API (default 12 each). */
  readonly samples?: number;
  /** Parallel requests (default 16). */
  readonly concurrency?: number;
  /** Fetch to use (tests inject tampering here). */
  readonly fetch?: typeof fetch;
}

export interface AuditReport {
  readonly checkpoint: TrustedCheckpoint;
  readonly tiles: number;
  readonly bundles: number;
  readonly entries: number;
  /**
   * Entry bundles answered 410 Gone: Sealtrail's retention pruned entries of them (docs/retention.md).
   * Their level-0 hashes were still checked against the root; only the bodies are gone.
   */
  readonly prunedBundles: readonly number[];
  readonly inclusionProofs: number;
  readonly consistencyProofs: number;
  readonly refusals: number;
  /** SHOULD-level deviations, reported rather than failed. */
  readonly warnings: readonly string[];
}

interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly cacheControl: string;
  readonly contentEncoding: string;
  readonly body: Buffer;
}

class Http {
  readonly #base: string;
  readonly #key: string;
  readonly #fetch: typeof fetch;
  constructor(base: string, key: string, fetchImpl: typeof fetch) {
    this.#base = base.replace(/\/+$/, "");
    this.#key = key;
    this.#fetch = fetchImpl;
  }

  async get(path: string): Promise<Reply> {
    const response = await this.#fetch(`${this.#base}${path}`, {
      headers: { authorization: `Bearer ${this.#key}`, "accept-encoding": "gzip, identity" },
    });
    return {
      status: response.status,
      contentType: response.headers.get("content-type") ?? "",
      cacheControl: response.headers.get("cache-control") ?? "",
      contentEncoding: response.headers.get("content-encoding") ?? "",
      body: Buffer.from(await response.arrayBuffer()),
    };
  }

  async json(path: string): Promise<Record<string, unknown>> {
    const reply = await this.get(path);
    if (reply.status !== 200) fail("http", `GET ${path} answered ${reply.status}: ${reply.body.toString("utf8").slice(0, 200)}`);
    if (!reply.contentType.startsWith("application/json")) fail("http", `GET ${path} is ${reply.contentType}, not JSON`);
    const value: unknown = JSON.parse(reply.body.toString("utf8"));
    if (typeof value !== "object" || value === null || Array.isArray(value)) fail("http", `GET ${path} is not a JSON object`);
    return value as Record<string, unknown>;
  }
}

async function mapLimit<T, R>(items: readonly T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await run(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** A small deterministic PRNG (mulberry32), so a failing sample can be replayed. */
function sampler(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below);
  };
}

function hashList(value: unknown, what: string): Buffer[] {
  if (!Array.isArray(value)) fail("proof", `${what}: hashes is not an array`);
  return value.map((h, i) => {
    if (typeof h !== "string") fail("proof", `${what}: hash ${i} is not a string`);
    const bytes = decodeBase64(h, `${what} hash ${i}`);
    if (bytes.length !== HASH_SIZE) fail("proof", `${what}: hash ${i} has ${bytes.length} bytes`);
    return bytes;
  });
}

function sameHashes(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  return a.length === b.length && a.every((h, i) => h.equals(b[i] as Buffer));
}

/**
 * Audits one log of a running server byte for byte:
 *
 * 1. the checkpoint is a signed note verifying under the verifier key, for this log's origin;
 * 2. every hash tile at every level exists with exactly the width tlog-tiles prescribes, every
 *    level-1+ hash is the MTH of its full child tile, and the tiles rebuild the checkpoint root;
 * 3. every entry bundle holds exactly the entries whose RFC 9162 leaf hashes are level 0;
 * 4. sampled inclusion and consistency proofs from the JSON API verify (RFC 9162 §2.1.3.2,
 *    §2.1.4.2) and equal, hash for hash, the proofs computed here from the tiles;
 * 5. tiles and bundles beyond the checkpoint and out-of-range proofs are refused (404, no data);
 * 6. with `previous`, the earlier checkpoint is a prefix of this one (append-only).
 */
export async function auditLog(options: AuditOptions): Promise<AuditReport> {
  const http = new Http(options.url, options.key, options.fetch ?? fetch);
  const concurrency = options.concurrency ?? 16;
  const samples = options.samples ?? 12;
  const warnings: string[] = [];
  const logPath = `/logs/${encodeURIComponent(options.log)}`;
  const apiPath = `/v1/logs/${encodeURIComponent(options.log)}`;

  // 1. Checkpoint.
  const info = await http.json(apiPath);
  if (info.name !== options.log) fail("log-info", `log info names ${JSON.stringify(info.name)}, not ${options.log}`);
  if (typeof info.origin !== "string" || typeof info.verifierKey !== "string") fail("log-info", "origin or verifierKey missing");
  const verifier = parseVerifierKey(options.verifierKey ?? info.verifierKey);

  const checkpointReply = await http.get(`${logPath}/checkpoint`);
  if (checkpointReply.status !== 200) fail("checkpoint", `GET checkpoint answered ${checkpointReply.status}`);
  // tlog-tiles "Checkpoints": MUST be served as text/plain; charset=utf-8.
  if (checkpointReply.contentType.replace(/\s+/g, "").toLowerCase() !== "text/plain;charset=utf-8") {
    fail("checkpoint", `content type is ${JSON.stringify(checkpointReply.contentType)}`);
  }
  if (/immutable/.test(checkpointReply.cacheControl)) fail("checkpoint", "a mutable checkpoint is served as immutable");
  const opened = openNote(checkpointReply.body, [verifier]);
  const checkpoint = parseCheckpoint(opened.text);
  if (checkpoint.origin !== info.origin) fail("checkpoint", `origin ${checkpoint.origin} is not the log's origin ${info.origin}`);
  if (verifier.name !== checkpoint.origin)
    warnings.push(`tlog-checkpoint SHOULD: key name ${verifier.name} differs from origin ${checkpoint.origin}`);
  if (info.treeSize === checkpoint.treeSize && info.rootHash !== checkpoint.rootHash.toString("base64")) {
    fail("log-info", "log info reports a different root hash than the checkpoint of the same size");
  }
  const size = checkpoint.treeSize;
  const root = checkpoint.rootHash;
  if (size === 0) {
    if (!root.equals(sha256())) fail("checkpoint", "an empty tree's root must be SHA-256 of nothing");
  }

  // 2. Hash tiles.
  const layout = tileLayout(size);
  let tiles = 0;
  const stored: Buffer[][] = [];
  for (const level of layout) {
    const parts = await mapLimit(tilesOf(level), concurrency, async ({ index, width }) => {
      const path = `${logPath}/${tilePath(level.level, index, width)}`;
      const reply = await http.get(path);
      if (reply.status !== 200) fail("tile", `GET ${path} answered ${reply.status}`);
      if (!reply.contentType.startsWith("application/octet-stream")) fail("tile", `GET ${path} is ${reply.contentType}`);
      if (reply.body.length !== width * HASH_SIZE) fail("tile", `${path} has ${reply.body.length} bytes, expected ${width * HASH_SIZE}`);
      // tlog-tiles: "This endpoint is immutable, so its caching headers SHOULD be long-lived."
      if (!/max-age=\d{6,}|immutable/.test(reply.cacheControl)) {
        warnings.push(
          `tlog-tiles SHOULD: ${width === TILE_WIDTH ? "full" : "partial"} hash tiles are not long-lived cacheable (${reply.cacheControl})`,
        );
      }
      tiles++;
      return Array.from({ length: width }, (_, i) => reply.body.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
    });
    stored.push(parts.flat());
  }
  const leaves = stored[0] ?? [];
  if (leaves.length !== size) fail("tile", `level 0 holds ${leaves.length} hashes for a tree of ${size}`);
  const tree = new ReferenceTree(leaves);
  // tlog-tiles "Merkle Tree": hash i of tile n at level l is MTH(D[(n·256 + i)·256^l : (n·256 + i + 1)·256^l]),
  // so each level-l hash is the hash of a *full* tile at level l - 1, and partial tiles are never
  // hashed into the level above ("Partial Tiles").
  for (let l = 1; l < stored.length; l++) {
    const span = TILE_WIDTH ** l;
    (stored[l] as Buffer[]).forEach((hash, j) => {
      if (!tree.hash(j * span, (j + 1) * span).equals(hash))
        fail("tile-parent", `level ${l} hash ${j} is not the hash of tile ${l - 1}/${j}`);
    });
  }
  if (!rootFromTiles(stored, size).equals(root)) fail("tile-root", `the tiles do not rebuild the checkpoint root at size ${size}`);
  if (!tree.root(size).equals(root)) fail("tile-root", `the level-0 hashes do not hash to the checkpoint root at size ${size}`);

  // 3. Entry bundles.
  let bundles = 0;
  let entries = 0;
  const prunedBundles: number[] = [];
  let prunedEntries = 0;
  await mapLimit(layout[0] ? tilesOf(layout[0]) : [], concurrency, async ({ index, width }) => {
    const path = `${logPath}/${tilePath("entries", index, width)}`;
    const reply = await http.get(path);
    // Pruned by retention: a 410 Gone problem (RFC 9457) that says so, never tile data or an empty 200.
    if (reply.status === 410) {
      if (!reply.contentType.startsWith("application/problem+json")) fail("entry-bundle", `GET ${path}: 410 is ${reply.contentType}`);
      const problem = JSON.parse(reply.body.toString("utf8")) as { status?: unknown; detail?: unknown };
      if (problem.status !== 410 || typeof problem.detail !== "string" || !/pruned/.test(problem.detail)) {
        fail("entry-bundle", `GET ${path}: 410 without a problem body that names the pruning`);
      }
      prunedBundles.push(index);
      prunedEntries += width;
      return;
    }
    if (reply.status !== 200) fail("entry-bundle", `GET ${path} answered ${reply.status}`);
    if (!reply.contentType.startsWith("application/octet-stream")) fail("entry-bundle", `GET ${path} is ${reply.contentType}`);
    if (!reply.contentEncoding) warnings.push("tlog-tiles SHOULD: entry bundles are not compressed at the HTTP layer (asked for gzip)");
    const bundle = parseEntryBundle(reply.body);
    if (bundle.length !== width) fail("entry-bundle", `${path} holds ${bundle.length} entries, expected ${width}`);
    bundle.forEach((entry, i) => {
      const at = index * TILE_WIDTH + i;
      if (!hashLeaf(entry).equals(tree.leaf(at))) fail("entry-hash", `entry ${at} does not hash to level-0 hash ${at}`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(entry));
      } catch {
        fail("entry-encoding", `entry ${at} is not UTF-8 JSON`);
      }
      if (!Buffer.from(canonicalJson(parsed), "utf8").equals(entry)) fail("entry-encoding", `entry ${at} is not RFC 8785 canonical JSON`);
    });
    bundles++;
    entries += bundle.length;
  });
  if (entries + prunedEntries !== size)
    fail("entry-bundle", `bundles hold ${entries} entries (+${prunedEntries} pruned) for a tree of ${size}`);

  // 4. Sampled proofs from the JSON API (Sealtrail contract, DESIGN §4), checked against the tiles.
  const random = sampler(size * 2654435761);
  let inclusionProofs = 0;
  let consistencyProofs = 0;
  if (size > 0) {
    const pairs: [number, number][] = [
      [0, size],
      [size - 1, size],
      [Math.floor(size / 2), size],
    ];
    if (size > 256) pairs.push([255, size], [256, size]);
    while (pairs.length < samples) {
      const n = random(4) === 0 ? 1 + random(size) : size;
      pairs.push([random(n), n]);
    }
    await mapLimit(pairs, concurrency, async ([index, n]) => {
      const what = `inclusion of ${index} in ${n}`;
      const proof = await http.json(`${apiPath}/proofs/inclusion?index=${index}&treeSize=${n}`);
      if (proof.index !== index || proof.treeSize !== n) fail("inclusion", `${what}: answered for ${proof.index} in ${proof.treeSize}`);
      if (typeof proof.leafHash !== "string" || typeof proof.rootHash !== "string") fail("inclusion", `${what}: leafHash/rootHash missing`);
      const leafHash = decodeBase64(proof.leafHash, "leafHash");
      const rootHash = decodeBase64(proof.rootHash, "rootHash");
      if (!leafHash.equals(tree.leaf(index))) fail("inclusion", `${what}: leafHash is not level-0 hash ${index}`);
      if (!rootHash.equals(tree.root(n))) fail("inclusion", `${what}: rootHash is not the root of the tree of ${n}`);
      const hashes = hashList(proof.hashes, what);
      if (!verifyInclusion(index, n, tree.leaf(index), hashes, tree.root(n)))
        fail("inclusion", `${what}: does not verify (RFC 9162 §2.1.3.2)`);
      if (!sameHashes(hashes, tree.inclusionPath(index, n))) fail("inclusion", `${what}: differs from PATH(m, D[n]) (RFC 9162 §2.1.3.1)`);
      inclusionProofs++;
    });

    const ranges: [number, number][] = [
      [1, size],
      [size, size],
      [Math.max(1, size - 1), size],
      [Math.max(1, Math.floor(size / 2)), size],
    ];
    if (size > 256) ranges.push([256, size], [255, 257]);
    while (ranges.length < samples) {
      const to = random(3) === 0 ? 1 + random(size) : size;
      ranges.push([1 + random(to), to]);
    }
    await mapLimit(ranges, concurrency, async ([from, to]) => {
      const what = `consistency from ${from} to ${to}`;
      const proof = await http.json(`${apiPath}/proofs/consistency?from=${from}&to=${to}`);
      if (proof.from !== from || proof.to !== to) fail("consistency", `${what}: answered for ${proof.from} to ${proof.to}`);
      const hashes = hashList(proof.hashes, what);
      if (!verifyConsistency(from, to, tree.root(from), tree.root(to), hashes))
        fail("consistency", `${what}: does not verify (RFC 9162 §2.1.4.2)`);
      if (!sameHashes(hashes, tree.consistencyProof(from, to)))
        fail("consistency", `${what}: differs from PROOF(m, D[n]) (RFC 9162 §2.1.4.1)`);
      consistencyProofs++;
    });
  }

  // 5. Refusals: nothing beyond the checkpoint is served, and bad proof requests get no proof.
  let refusals = 0;
  const refused = async (path: string, why: string, statuses: readonly number[] = [404]) => {
    const reply = await http.get(path);
    if (!statuses.includes(reply.status))
      fail("refusal", `${why}: GET ${path} answered ${reply.status}, expected ${statuses.join(" or ")}`);
    if (reply.contentType.startsWith("application/octet-stream")) fail("refusal", `${why}: GET ${path} answered with tile data`);
    if (/"hashes"\s*:/.test(reply.body.toString("utf8"))) fail("refusal", `${why}: GET ${path} answered with a proof`);
    refusals++;
  };
  const beyond: [path: string, why: string, statuses?: readonly number[]][] = [];
  for (const level of [...layout, { level: layout.length, hashes: 0, fullTiles: 0, partialWidth: 0 }]) {
    const kinds: (number | "entries")[] = level.level === 0 ? [0, "entries"] : [level.level];
    for (const kind of kinds) {
      beyond.push([`${logPath}/${tilePath(kind, level.fullTiles)}`, `next full tile at level ${kind}`]);
      beyond.push([`${logPath}/${tilePath(kind, level.fullTiles + 1, 1)}`, `a partial tile after the last one at level ${kind}`]);
      if (level.partialWidth < TILE_WIDTH - 1) {
        beyond.push([
          `${logPath}/${tilePath(kind, level.fullTiles, level.partialWidth + 1)}`,
          `a partial tile wider than available at level ${kind}`,
        ]);
      }
    }
  }
  beyond.push([`${logPath}/${tilePath(Math.max(layout.length, 1) + 1, 0, 1)}`, "a level above the tree"]);
  const bad = [400, 404];
  beyond.push(
    [`${apiPath}/proofs/inclusion?index=${size}&treeSize=${size}`, "inclusion of index = treeSize", bad],
    [`${apiPath}/proofs/inclusion?index=0&treeSize=${size + 1}`, "inclusion in a tree beyond the checkpoint", bad],
    [`${apiPath}/proofs/consistency?from=1&to=${size + 1}`, "consistency to a size beyond the checkpoint", bad],
    [`${apiPath}/proofs/consistency?from=${size + 1}&to=${size}`, "consistency with from > to", bad],
    [`${apiPath}/proofs/consistency?from=0&to=${size}`, "consistency from 0", bad],
  );
  await mapLimit(beyond, concurrency, async ([path, why, statuses]) => refused(path, why, statuses));

  // 6. Append-only across time.
  if (options.previous) {
    const previous = options.previous;
    if (previous.origin !== checkpoint.origin) fail("append-only", `previous checkpoint is for ${previous.origin}`);
    if (previous.treeSize > size) fail("append-only", `the tree shrank from ${previous.treeSize} to ${size}`);
    if (!tree.root(previous.treeSize).equals(previous.rootHash)) {
      fail("append-only", `the first ${previous.treeSize} served leaves do not hash to the earlier root`);
    }
    if (previous.treeSize > 0) {
      const what = `consistency from the earlier ${previous.treeSize} to ${size}`;
      const proof = await http.json(`${apiPath}/proofs/consistency?from=${previous.treeSize}&to=${size}`);
      const hashes = hashList(proof.hashes, what);
      if (!verifyConsistency(previous.treeSize, size, previous.rootHash, root, hashes)) fail("append-only", `${what} does not verify`);
      consistencyProofs++;
    }
  }

  return {
    checkpoint: { ...checkpoint, note: checkpointReply.body.toString("utf8") },
    tiles,
    bundles,
    entries,
    prunedBundles: prunedBundles.sort((a, b) => a - b),
    inclusionProofs,
    consistencyProofs,
    refusals,
    warnings: [...new Set(warnings)],
  };
}
