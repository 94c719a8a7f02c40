import { availableParallelism } from "node:os";
import { bytesEqual, CompactRange, InputError, type NoteVerifier, openCheckpoint, TILE_HEIGHT, TILE_WIDTH } from "@sealtrail/core";
import { auditChunk, type ChunkVerdict } from "./audit-chunk.js";
import { AuditPool } from "./audit-pool.js";
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

export interface AuditOptions {
  readonly verifiers: readonly NoteVerifier[];
  readonly origin: string;
  /**
   * Worker threads that read and verify entries in parallel, when the store can be opened from
   * another thread (`LogStore.entryReader`). Default: one per available core for a log of at least
   * PARALLEL_FROM entries, none below (starting threads costs more than they save); 0: none.
   */
  readonly workers?: number;
  /** Entries per unit of work, a multiple of 256 (one tile); default 4,096. */
  readonly chunkEntries?: number;
}

const DEFAULT_CHUNK = 16 * TILE_WIDTH;
/** From this many entries on, an audit uses worker threads by default. */
export const PARALLEL_FROM = 4 * DEFAULT_CHUNK;

/**
 * Audits one log straight from a store, the way `sealtrail verify --data` does: every leaf is
 * re-hashed from its stored bytes and must be canonical JSON, every stored tree hash must match
 * the recomputed tree, and every stored checkpoint must be correctly signed and match the root
 * recomputed at its size. Entries that retention pruned (and only those the prune ledger lists)
 * are verified by their stored leaf hash alone and reported. Reports the first index that fails.
 *
 * Entries are verified in chunks (audit-chunk.ts), by worker threads when there are any, while
 * this thread folds the chunks' tile hashes into the tree in order and checks the higher tiles and
 * the checkpoints; the outcome, first failure included, is the same as checking entry by entry.
 */
export async function auditLog(store: LogStore, log: string, options: AuditOptions): Promise<LogAuditResult> {
  const chunk = options.chunkEntries ?? DEFAULT_CHUNK;
  if (!(Number.isSafeInteger(chunk) && chunk > 0 && chunk % TILE_WIDTH === 0)) {
    throw new InputError("invalid_log_audit_options", `auditLog: chunkEntries must be a positive multiple of ${TILE_WIDTH}`);
  }
  if (options.workers !== undefined && !(Number.isSafeInteger(options.workers) && options.workers >= 0)) {
    throw new InputError("invalid_log_audit_options", "auditLog: workers must be a whole number, 0 or more");
  }
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
  const fail = (problem: string, failedIndex?: number): LogAuditResult => ({
    log,
    ok: false,
    entries: size,
    checkpoints: checkpoints.length,
    ...prunedPart,
    problem,
    ...(failedIndex === undefined ? {} : { failedIndex }),
  });

  const workers = store.entryReader ? (options.workers ?? (size >= PARALLEL_FROM ? availableParallelism() : 0)) : 0;
  // Started before the signatures are checked: the threads boot meanwhile.
  const pool =
    workers > 0 && store.entryReader && size > 0 ? new AuditPool({ recipe: store.entryReader, log, pruned, size: workers }) : undefined;
  try {
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

    const verify = pool
      ? (start: number, count: number) => pool.verify(start, count)
      : (start: number, count: number) => auditChunk(store, log, start, count, pruned);
    const ahead = pool ? 2 * pool.size : 1;
    const inFlight: Promise<ChunkVerdict>[] = [];
    let requested = 0;
    const request = () => {
      const count = Math.min(chunk, size - requested);
      const verdict = verify(requested, count);
      verdict.catch(() => undefined); // awaited in order below; an early return must not leave it unhandled
      inFlight.push(verdict);
      requested += count;
    };

    const range = CompactRange.empty();
    let nextCheckpoint = 0;
    for (let start = 0; start < size; start += chunk) {
      while (requested < size && inFlight.length < ahead) request();
      const verdict = await (inFlight.shift() as Promise<ChunkVerdict>);
      const count = Math.min(chunk, size - start);
      const failure = verdict.failure;
      for (let tileStart = start; tileStart < start + count; tileStart += TILE_WIDTH) {
        const tileEnd = Math.min(tileStart + TILE_WIDTH, size);
        const leafHash = (index: number) => verdict.leafHashes.subarray((index - start) * 32, (index - start + 1) * 32);
        // Checkpoints that end inside this tile, up to the failure if there is one: a sequential
        // audit checks the checkpoint of size s right after entry s - 1, before any later entry.
        const limit = failure && failure.at < tileEnd ? failure.at : tileEnd - 1;
        let partial: CompactRange | undefined;
        while (nextCheckpoint < checkpoints.length) {
          const cp = checkpoints[nextCheckpoint] as StoredCheckpoint;
          if (!(cp.treeSize > tileStart && cp.treeSize <= limit)) break;
          partial ??= range.clone();
          while (partial.size < cp.treeSize) partial.append(leafHash(partial.size));
          if (!bytesEqual(partial.root(), cp.rootHash))
            return fail(`checkpoint ${cp.treeSize}: root does not match the entries`, cp.treeSize - 1);
          nextCheckpoint++;
        }
        if (failure && failure.at < tileEnd) return fail(failure.problem, failure.failedIndex);

        const completed: { level: number; index: number; hash: Uint8Array }[] = [];
        const onNode = (height: number, index: number, hash: Uint8Array) => {
          // Level 1 was checked with the entries; the levels above are checked here.
          if (height > TILE_HEIGHT && height % TILE_HEIGHT === 0) completed.push({ level: height / TILE_HEIGHT, index, hash });
        };
        if (tileEnd - tileStart === TILE_WIDTH) {
          const tile = (tileStart - start) / TILE_WIDTH;
          range.appendSubtree(TILE_HEIGHT, verdict.tiles.subarray(tile * 32, tile * 32 + 32), onNode);
        } else {
          for (let index = tileStart; index < tileEnd; index++) range.append(leafHash(index));
        }
        for (const { level, index, hash } of completed) {
          const [stored] = await store.readHashes(log, level, index, 1);
          if (!stored || !bytesEqual(stored, hash)) {
            return fail(`entry ${tileEnd - 1}: stored tile hash ${level}/${index} does not match the entries`, index * 256 ** level);
          }
        }
        while (nextCheckpoint < checkpoints.length && (checkpoints[nextCheckpoint] as StoredCheckpoint).treeSize === tileEnd) {
          const cp = checkpoints[nextCheckpoint] as StoredCheckpoint;
          if (!bytesEqual(range.root(), cp.rootHash))
            return fail(`checkpoint ${cp.treeSize}: root does not match the entries`, tileEnd - 1);
          nextCheckpoint++;
        }
      }
    }
    if (nextCheckpoint !== checkpoints.length) return fail("a checkpoint does not match any stored tree size");
    return { log, ok: true, entries: size, checkpoints: checkpoints.length, ...prunedPart };
  } finally {
    await pool?.close();
  }
}
