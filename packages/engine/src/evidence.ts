import {
  createTileNodeReader,
  type EvidenceEventInput,
  encodeEvidenceBundle,
  type Hash,
  InputError,
  MAX_EVIDENCE_EVENTS,
  type NodeReader,
  NotFoundError,
  nowTimestamp,
  parseQuery,
  proveInclusion,
  StoreError,
} from "@sealtrail/core";
import type { LogStore } from "./store.js";

export interface EvidenceRequest {
  readonly store: LogStore;
  readonly log: string;
  /** Query language text; relative times count back from the bundle's creation time. */
  readonly query: string;
  /** The verifier key of the log's checkpoints (`LogEngine.verifierKey`, or from the signing key). */
  readonly verifierKey: string;
  /** Most events in one bundle; more matches are refused rather than silently cut. */
  readonly maxEvents?: number;
  readonly now?: number;
}

export interface EvidenceResult {
  readonly bytes: Uint8Array;
  readonly events: number;
  readonly treeSize: number;
  /** Matches newer than the latest checkpoint, which no proof can cover yet. */
  readonly notIncluded: number;
}

const PAGE = 1000;

/**
 * Builds an evidence bundle (core `encodeEvidenceBundle`) from a store: every event matching the
 * query, in index order, with its inclusion proof to the latest signed checkpoint. Works on a
 * read-only store, so `sealtrail export --data` needs no running server.
 */
export async function buildEvidenceBundle(request: EvidenceRequest): Promise<EvidenceResult> {
  const { store, log } = request;
  const maxEvents = Math.min(request.maxEvents ?? MAX_EVIDENCE_EVENTS, MAX_EVIDENCE_EVENTS);
  const createdAt = nowTimestamp(request.now ?? Date.now());
  const filter = parseQuery(request.query, { now: new Date(createdAt) });
  if (!store.queryEvents) throw new StoreError("queries_unsupported", `${store.description} keeps no query index`);
  if (!(await store.getLog(log))) throw new NotFoundError("log_not_found", `log ${log} does not exist`);
  const checkpoint = await store.latestCheckpoint(log);
  if (!checkpoint) throw new NotFoundError("no_checkpoint", `log ${log} has no signed checkpoint yet; retry in a second`);

  const matched: { index: number; leaf: Uint8Array }[] = [];
  let notIncluded = 0;
  for (let after: number | undefined; ; ) {
    const rows = await store.queryEvents({ logs: [log], filter, order: "asc", limit: PAGE, ...(after === undefined ? {} : { after }) });
    for (const row of rows) {
      if (row.index >= checkpoint.treeSize) notIncluded++;
      else matched.push({ index: row.index, leaf: row.leaf });
    }
    if (matched.length > maxEvents) {
      throw new InputError("too_many_events", `more than ${maxEvents} events match; narrow the query (e.g. with after: and before:)`, {
        problems: [{ parameter: "q", detail: `matches more than ${maxEvents} events` }],
      });
    }
    if (rows.length < PAGE) break;
    after = (rows[rows.length - 1] as { seq: number }).seq;
  }
  // Commit order (seq) is index order within one log, but the bundle's contract is index order.
  matched.sort((a, b) => a.index - b.index);

  const reader = memoized(createTileNodeReader((level, start, count) => store.readHashes(log, level, start, count)));
  const events: EvidenceEventInput[] = [];
  for (const { index, leaf } of matched) {
    events.push({ index, leaf, proof: await proveInclusion(index, checkpoint.treeSize, reader) });
  }
  const bytes = encodeEvidenceBundle({
    log,
    query: request.query,
    createdAt,
    verifierKey: request.verifierKey,
    checkpoint: checkpoint.note,
    events,
    notIncluded,
  });
  return { bytes, events: events.length, treeSize: checkpoint.treeSize, notIncluded };
}

/** Neighbouring proofs share most nodes: read each stored node once per bundle. */
function memoized(read: NodeReader): NodeReader {
  const cache = new Map<string, Hash>();
  return async (nodes) => {
    const missing = nodes.filter((n) => !cache.has(`${n.height}/${n.index}`));
    if (missing.length > 0) {
      const fetched = await read(missing);
      for (const [i, n] of missing.entries()) cache.set(`${n.height}/${n.index}`, fetched[i] as Hash);
    }
    return nodes.map((n) => cache.get(`${n.height}/${n.index}`) as Hash);
  };
}
