import {
  bytesEqual,
  CompactRange,
  fromUtf8,
  hashLeaf,
  isCanonicalJson,
  type NoteVerifier,
  openCheckpoint,
  TILE_HEIGHT,
} from "@sealtrail/core";
import type { LogStore, PrunedRange, StoredCheckpoint } from "./store.js";

export interface LogAuditResult {
  readonly log: string;
  readonly ok: boolean;
  readonly entries: number;
  readonly checkpoints: number;
  /**
   * Ranges whose entry bodies retention pruned (from the store's prune ledger): their stored leaf
   * hashes are checked against the tree and the checkpoints, their bodies cannot be.
   */
  readonly pruned?: readonly PrunedRange[];
  /** The first entry index at which the log stops verifying, when it is an entry. */
  readonly failedIndex?: number;
  readonly problem?: string;
}

const CHUNK = 4096;

/**
 * Audits one log straight from a store, the way `sealtrail verify --data` does: every leaf is
 * re-hashed from its stored bytes and must be canonical JSON, every stored tree hash must match
 * the recomputed tree, and every stored checkpoint must be correctly signed and match the root
 * recomputed at its size. Entries that retention pruned (and only those the prune ledger lists)
 * are verified by their stored leaf hash alone and reported. Reports the first index that fails.
 */
export async function auditLog(
  store: LogStore,
  log: string,
  options: { verifiers: readonly NoteVerifier[]; origin: string },
): Promise<LogAuditResult> {
  const summary = await store.getLog(log);
  const size = summary?.size ?? 0;
  const checkpoints: StoredCheckpoint[] = [];
  for (let after = -1; ; ) {
    const page = await store.listCheckpoints(log, { afterSize: after, limit: 1000 });
    if (page.length === 0) break;
    checkpoints.push(...page);
    after = (page[page.length - 1] as StoredCheckpoint).treeSize;
  }
  const pruned = store.listPrunedRanges ? await store.listPrunedRanges(log) : [];
  const prunedPart = pruned.length > 0 ? { pruned } : {};
  let nextPruned = 0;
  const isPruned = (index: number): boolean => {
    while (nextPruned < pruned.length && (pruned[nextPruned] as PrunedRange).end <= index) nextPruned++;
    const range = pruned[nextPruned];
    return range !== undefined && range.start <= index;
  };
  const fail = (problem: string, failedIndex?: number): LogAuditResult => ({
    log,
    ok: false,
    entries: size,
    checkpoints: checkpoints.length,
    ...prunedPart,
    problem,
    ...(failedIndex === undefined ? {} : { failedIndex }),
  });

  for (const cp of checkpoints) {
    try {
      const opened = await openCheckpoint(cp.note, options);
      if (opened.treeSize !== cp.treeSize || !bytesEqual(opened.rootHash, cp.rootHash)) {
        return fail(`checkpoint ${cp.treeSize}: signed note does not match its stored size and root`);
      }
    } catch (error) {
      return fail(`checkpoint ${cp.treeSize}: ${(error as Error).message}`);
    }
    if (cp.treeSize > size) return fail(`checkpoint ${cp.treeSize} covers entries that are not stored`, size);
  }

  const range = CompactRange.empty();
  let leafId: string | undefined;
  const readId = (key: string, value: string) => {
    if (key === "id") leafId = value;
  };
  let nextCheckpoint = 0;
  const expectedUpper = new Map<string, Uint8Array>();
  for (let start = 0; start < size; start += CHUNK) {
    const count = Math.min(CHUNK, size - start);
    const entries = await store.readEntries(log, start, count);
    const leafHashes = await store.readHashes(log, 0, start, count);
    let entryAt = 0;
    for (let i = 0; i < count; i++) {
      const index = start + i;
      const entry = entries[entryAt];
      const storedHash = leafHashes[i];
      let leafHash: Uint8Array;
      if (entry?.index === index) {
        entryAt++;
        leafHash = hashLeaf(entry.leaf);
        if (!storedHash || !bytesEqual(storedHash, leafHash))
          return fail(`entry ${index}: leaf bytes do not match the stored leaf hash`, index);
        let text: string;
        try {
          text = fromUtf8(entry.leaf);
        } catch {
          return fail(`entry ${index}: leaf is not valid UTF-8`, index);
        }
        leafId = undefined;
        if (!isCanonicalJson(text, readId)) return fail(`entry ${index}: leaf is not canonical JSON`, index);
        if (leafId !== entry.id) return fail(`entry ${index}: stored id does not match the leaf`, index);
      } else if (isPruned(index)) {
        // Pruned by retention (recorded in the ledger): the body is gone, its hash must still fit the tree.
        if (!storedHash) return fail(`entry ${index}: pruned, and its leaf hash is missing too`, index);
        leafHash = storedHash;
      } else return fail(`entry ${index} is missing`, index);
      range.append(leafHash, (height, nodeIndex, hash) => {
        if (height > 0 && height % TILE_HEIGHT === 0) expectedUpper.set(`${height / TILE_HEIGHT}/${nodeIndex}`, hash);
      });
      for (const [key, hash] of expectedUpper) {
        const [level, nodeIndex] = key.split("/").map(Number) as [number, number];
        const [stored] = await store.readHashes(log, level, nodeIndex, 1);
        if (!stored || !bytesEqual(stored, hash)) {
          return fail(`entry ${index}: stored tile hash ${level}/${nodeIndex} does not match the entries`, nodeIndex * 256 ** level);
        }
      }
      expectedUpper.clear();
      while (nextCheckpoint < checkpoints.length && (checkpoints[nextCheckpoint] as StoredCheckpoint).treeSize === index + 1) {
        const cp = checkpoints[nextCheckpoint] as StoredCheckpoint;
        if (!bytesEqual(range.root(), cp.rootHash)) {
          return fail(`checkpoint ${cp.treeSize}: root does not match the entries`, index);
        }
        nextCheckpoint++;
      }
    }
  }
  if (nextCheckpoint !== checkpoints.length) return fail("a checkpoint does not match any stored tree size");
  return { log, ok: true, entries: size, checkpoints: checkpoints.length, ...prunedPart };
}
