import { matchesFilter, NotFoundError, type QueryFilter, StoreError } from "@sealtrail/core";
import { eventOf } from "./queries.js";
import type { LegalHold, LogStore, PrunedRange, RetentionStore } from "./store.js";

/** The store's retention capability, or a clear 501 when it has none. */
export function retentionStore(store: LogStore): LogStore & RetentionStore {
  const s = store as Partial<RetentionStore>;
  if (
    !s.pruneEntries ||
    !s.listPrunedRanges ||
    !s.setRetentionPolicy ||
    !s.listRetentionPolicies ||
    !s.insertLegalHold ||
    !s.releaseLegalHold ||
    !s.listLegalHolds
  ) {
    throw new StoreError("retention_unsupported", `${store.description} does not support retention`);
  }
  return store as LogStore & RetentionStore;
}

/** The pruned ranges that overlap [start, end), in index order. */
export function prunedWithin(ranges: readonly PrunedRange[], start: number, end: number): PrunedRange[] {
  return ranges.filter((r) => r.start < end && r.end > start);
}

export function describeRanges(ranges: readonly { start: number; end: number }[]): string {
  return ranges.map((r) => (r.end - r.start === 1 ? `${r.start}` : `${r.start}-${r.end - 1}`)).join(", ");
}

/**
 * Why entries [start, start + count) are not all stored: pruned by retention (`entries_pruned`,
 * HTTP 410 Gone) or, when the prune ledger does not account for them, a store that lost data.
 */
export async function missingEntriesError(store: LogStore, log: string, start: number, count: number): Promise<Error> {
  const ranges = store.listPrunedRanges ? prunedWithin(await store.listPrunedRanges(log), start, start + count) : [];
  if (ranges.length === 0) return new StoreError("store_inconsistent", `log ${log}: entries ${start}-${start + count - 1} are incomplete`);
  return new NotFoundError(
    "entries_pruned",
    `log ${log}: entries ${describeRanges(ranges)} were pruned under the log's retention period (first on ${(ranges[0] as PrunedRange).prunedAt}); their hashes remain in the tiles, so proofs still verify`,
  );
}

/**
 * The checks every store makes before recording a prune (RetentionStore.pruneEntries), under its
 * write lock: each range a non-empty run of whole indexes within the log's `size`, none overlapping
 * another or a range the ledger already holds (`recorded`). Returns the ranges in index order.
 */
export function checkPruneRanges(
  log: string,
  ranges: readonly { start: number; end: number }[],
  size: number,
  recorded: readonly { start: number; end: number }[],
): { start: number; end: number }[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  sorted.forEach((range, i) => {
    if (!Number.isSafeInteger(range.start) || !Number.isSafeInteger(range.end) || range.start < 0 || range.end <= range.start) {
      throw new StoreError("invalid_prune_range", `log ${log}: ${range.start}-${range.end} is not a range of entries`);
    }
    if (range.end > size) throw new StoreError("invalid_prune_range", `log ${log}: range ends at ${range.end}, beyond its ${size} entries`);
    const previous = sorted[i - 1];
    if (previous && previous.end > range.start) throw new StoreError("invalid_prune_range", `log ${log}: prune ranges overlap`);
    if (recorded.some((r) => r.start < range.end && r.end > range.start)) {
      throw new StoreError("invalid_prune_range", `log ${log}: ${range.start}-${range.end - 1} overlaps a range already pruned`);
    }
  });
  return sorted.map(({ start, end }) => ({ start, end }));
}

/** A legal hold as the SQL stores keep it (absent values NULL). */
export interface LegalHoldRow {
  readonly id: string;
  readonly log: string;
  readonly query: string | null;
  readonly reason: string;
  readonly created_at: string;
  readonly released_at: string | null;
}

export function legalHoldOfRow(row: LegalHoldRow): LegalHold {
  return {
    id: row.id,
    log: row.log,
    ...(row.query === null ? {} : { query: row.query }),
    reason: row.reason,
    createdAt: row.created_at,
    ...(row.released_at === null ? {} : { releasedAt: row.released_at }),
  };
}

export interface PrunePlan {
  /** Contiguous ranges to prune, each within one run of stored, unheld, old-enough entries. */
  readonly ranges: { start: number; end: number }[];
  /** Old-enough entries kept because a legal hold matches them. */
  readonly held: number;
}

const SCAN_CHUNK = 4096;

/**
 * Chooses what a prune removes from `log`: stored entries received before `before` (epoch ms),
 * below `upTo` (the latest checkpoint: only signed entries are pruned), that no hold matches.
 * Scanning stops at the first entry that is too new (receivedAt only grows with the index) or
 * whose age cannot be read. `holds` are the log's active hold filters; `wholeLog` holds all.
 */
export async function planPrune(
  store: LogStore,
  log: string,
  options: { before: number; upTo: number; holds: readonly QueryFilter[]; wholeLog: boolean },
): Promise<PrunePlan> {
  const ranges: { start: number; end: number }[] = [];
  let held = 0;
  if (options.wholeLog) return { ranges, held };
  let open: { start: number; end: number } | undefined;
  const close = () => {
    if (open) ranges.push(open);
    open = undefined;
  };
  scan: for (let from = 0; from < options.upTo; from += SCAN_CHUNK) {
    const entries = await store.readEntries(log, from, Math.min(SCAN_CHUNK, options.upTo - from));
    for (const entry of entries) {
      let receivedMs: number;
      let event: ReturnType<typeof eventOf>;
      try {
        event = eventOf(entry);
        receivedMs = Date.parse(event.receivedAt);
      } catch {
        break scan;
      }
      if (!(receivedMs < options.before)) break scan;
      if (options.holds.some((filter) => matchesFilter(event, filter))) {
        held++;
        close();
        continue;
      }
      if (open && open.end === entry.index) open.end++;
      else {
        close();
        open = { start: entry.index, end: entry.index + 1 };
      }
    }
  }
  close();
  return { ranges, held };
}
