import {
  bytesEqual,
  CompactRange,
  decodeEntryBundle,
  fromBase64,
  type Hash,
  hashLeaf,
  openCheckpoint,
  parseVerifierKey,
  splitTile,
  storedCountAt,
  TILE_HEIGHT,
  TILE_WIDTH,
  tilePath,
  toBase64,
  VerificationError,
  verifyConsistency,
  verifyInclusion,
} from "@sealtrail/core";

export interface RemoteAuditOptions {
  readonly url: string;
  readonly log: string;
  readonly key?: string;
  /** Pinned verifier key; without it the server's own key is used (and reported as unpinned). */
  readonly verifierKey?: string;
  /** Check tiles only, when no key may read entry bundles. */
  readonly tilesOnly?: boolean;
  /** A checkpoint verified earlier: the new one must be consistent with it. */
  readonly previousCheckpoint?: string;
  readonly samples?: number;
  readonly onProgress?: (message: string) => void;
}

export interface RemoteAuditReport {
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly checkpoint: string;
  readonly verifierKey: string;
  readonly keyPinned: boolean;
  readonly entriesChecked: number;
  /** Entry bundles the server answered 410 Gone (retention pruned some of their entries): checked by hash only. */
  readonly bundlesPruned: number;
  readonly tilesChecked: number;
  readonly inclusionProofsChecked: number;
  readonly consistencyProofsChecked: number;
  readonly consistentWithPrevious?: number;
}

class Fetcher {
  readonly #base: string;
  readonly #headers: Record<string, string>;
  constructor(url: string, key?: string) {
    this.#base = url.replace(/\/+$/, "");
    this.#headers = key ? { authorization: `Bearer ${key}` } : {};
  }
  async get(path: string): Promise<Response> {
    const response = await fetch(`${this.#base}${path}`, { headers: this.#headers });
    if (!response.ok) {
      const detail = await response.text().catch(() => "");
      throw new AuditHttpError(`GET ${path} answered ${response.status}${detail ? `: ${detail.slice(0, 300)}` : ""}`, response.status);
    }
    return response;
  }
  async bytes(path: string): Promise<Uint8Array> {
    return new Uint8Array(await (await this.get(path)).arrayBuffer());
  }
  async json<T>(path: string): Promise<T> {
    return (await (await this.get(path)).json()) as T;
  }
}

/**
 * An entry bundle, or "pruned" when the server answers 410 Gone (retention removed entries of it,
 * docs/retention.md): its level-0 hashes still chain into the verified root, its bodies are gone.
 */
async function bundleOrPruned(http: Fetcher, path: string): Promise<Uint8Array | "pruned"> {
  try {
    return await http.bytes(path);
  } catch (error) {
    if (error instanceof AuditHttpError && error.status === 410) return "pruned";
    throw error;
  }
}

export class AuditHttpError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

/**
 * Audits a running server's log the way an outside party would (C2SP tlog-tiles): the signed
 * checkpoint against the verifier key, every entry bundle against the level-0 tiles, every
 * higher tile against the hashes recomputed from the leaves, the root against the checkpoint,
 * then sampled inclusion and consistency proofs from the JSON API, and consistency with an
 * earlier checkpoint. Throws VerificationError naming what failed.
 */
export async function auditRemoteLog(options: RemoteAuditOptions): Promise<RemoteAuditReport> {
  const http = new Fetcher(options.url, options.key);
  const progress = options.onProgress ?? (() => undefined);
  const logPath = `/logs/${encodeURIComponent(options.log)}`;
  const info = await http.json<{ origin: string; verifierKey: string }>(`/v1/logs/${encodeURIComponent(options.log)}`);
  if (!info.origin.endsWith(`/${options.log}`))
    throw new VerificationError("wrong_origin", `origin ${info.origin} does not name log ${options.log}`);
  const verifierKey = options.verifierKey ?? info.verifierKey;
  const verifier = parseVerifierKey(verifierKey);
  const checkpointText = await (await http.get(`${logPath}/checkpoint`)).text();
  const checkpoint = await openCheckpoint(checkpointText, { verifiers: [verifier], origin: info.origin });
  const size = checkpoint.treeSize;
  progress(`checkpoint verified: ${info.origin} size ${size}`);

  const samples = Math.min(options.samples ?? 16, size);
  const sampleIndexes = new Set<number>(size > 0 ? [0, size - 1] : []);
  while (sampleIndexes.size < samples) sampleIndexes.add(Math.floor(Math.random() * size));
  const sampleSizes = new Set<number>([...sampleIndexes].map((i) => i + 1).filter((n) => n < size));
  const leafHashes = new Map<number, Hash>();
  const rootsAt = new Map<number, Hash>();

  const range = CompactRange.empty();
  const upper: Hash[][] = [];
  let tilesChecked = 0;
  let entriesChecked = 0;
  let bundlesPruned = 0;
  const tileCount = Math.ceil(size / TILE_WIDTH);
  for (let n = 0; n < tileCount; n++) {
    const width = Math.min(TILE_WIDTH, size - n * TILE_WIDTH);
    const tileHashes = splitTile(await http.bytes(`${logPath}/${tilePath({ level: 0, index: n, width })}`), width);
    tilesChecked++;
    let hashes = tileHashes;
    const bundle = options.tilesOnly
      ? undefined
      : await bundleOrPruned(http, `${logPath}/${tilePath({ level: "entries", index: n, width })}`);
    if (bundle === "pruned") bundlesPruned++;
    else if (bundle) {
      const entries = decodeEntryBundle(bundle);
      if (entries.length !== width)
        throw new VerificationError("invalid_bundle", `entry bundle ${n} has ${entries.length} entries, expected ${width}`);
      hashes = entries.map((entry, i) => {
        const leafHash = hashLeaf(entry);
        if (!bytesEqual(leafHash, tileHashes[i] as Hash)) {
          throw new VerificationError("leaf_mismatch", `entry ${n * TILE_WIDTH + i} does not match its hash in tile 0/${n}`);
        }
        return leafHash;
      });
      entriesChecked += entries.length;
    }
    for (const leafHash of hashes) {
      const index = range.size;
      if (sampleIndexes.has(index)) leafHashes.set(index, leafHash);
      range.append(leafHash, (height, nodeIndex, hash) => {
        if (height === 0 || height % TILE_HEIGHT !== 0) return;
        const level = height / TILE_HEIGHT;
        upper[level] ??= [];
        (upper[level] as Hash[])[nodeIndex] = hash;
      });
      if (sampleSizes.has(range.size)) rootsAt.set(range.size, range.root());
    }
    if (n % 64 === 63) progress(`checked ${range.size} of ${size} entries`);
  }

  for (let level = 1; storedCountAt(level, size) > 0; level++) {
    const expected = upper[level] ?? [];
    const count = storedCountAt(level, size);
    for (let n = 0; n * TILE_WIDTH < count; n++) {
      const width = Math.min(TILE_WIDTH, count - n * TILE_WIDTH);
      const tile = splitTile(await http.bytes(`${logPath}/${tilePath({ level, index: n, width })}`), width);
      tilesChecked++;
      tile.forEach((hash, i) => {
        const want = expected[n * TILE_WIDTH + i];
        if (!want || !bytesEqual(hash, want)) {
          throw new VerificationError("tile_mismatch", `tile ${level}/${n} hash ${i} does not match the tree below it`);
        }
      });
    }
  }
  if (!bytesEqual(range.root(), checkpoint.rootHash)) {
    throw new VerificationError("root_mismatch", `the tiles do not hash to the checkpoint's root at size ${size}`);
  }
  progress(`all ${tilesChecked} tiles match the checkpoint root`);

  let inclusionProofsChecked = 0;
  for (const index of sampleIndexes) {
    const proof = await http.json<{ leafHash: string; rootHash: string; hashes: string[] }>(
      `/v1/logs/${encodeURIComponent(options.log)}/proofs/inclusion?index=${index}&treeSize=${size}`,
    );
    const leafHash = leafHashes.get(index) as Hash;
    if (!bytesEqual(fromBase64(proof.leafHash), leafHash))
      throw new VerificationError("leaf_mismatch", `inclusion proof for ${index} names another leaf`);
    verifyInclusion(index, size, leafHash, proof.hashes.map(fromBase64), checkpoint.rootHash);
    inclusionProofsChecked++;
  }
  let consistencyProofsChecked = 0;
  for (const [from, root] of rootsAt) {
    const proof = await http.json<{ hashes: string[] }>(
      `/v1/logs/${encodeURIComponent(options.log)}/proofs/consistency?from=${from}&to=${size}`,
    );
    verifyConsistency(from, size, root, checkpoint.rootHash, proof.hashes.map(fromBase64));
    consistencyProofsChecked++;
  }
  let consistentWithPrevious: number | undefined;
  if (options.previousCheckpoint) {
    const previous = await openCheckpoint(options.previousCheckpoint, { verifiers: [verifier], origin: info.origin });
    if (previous.treeSize > size) throw new VerificationError("rollback", `the log shrank from ${previous.treeSize} to ${size} entries`);
    if (previous.treeSize > 0) {
      const proof =
        previous.treeSize === size
          ? { hashes: [] }
          : await http.json<{ hashes: string[] }>(
              `/v1/logs/${encodeURIComponent(options.log)}/proofs/consistency?from=${previous.treeSize}&to=${size}`,
            );
      verifyConsistency(previous.treeSize, size, previous.rootHash, checkpoint.rootHash, proof.hashes.map(fromBase64));
      consistencyProofsChecked++;
    }
    consistentWithPrevious = previous.treeSize;
  }
  return {
    origin: info.origin,
    treeSize: size,
    rootHash: toBase64(checkpoint.rootHash),
    checkpoint: checkpointText,
    verifierKey,
    keyPinned: options.verifierKey !== undefined,
    entriesChecked,
    bundlesPruned,
    tilesChecked,
    inclusionProofsChecked,
    consistencyProofsChecked,
    ...(consistentWithPrevious === undefined ? {} : { consistentWithPrevious }),
  };
}
