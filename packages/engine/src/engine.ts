import {
  type AuditEvent,
  assertLogName,
  bytesEqual,
  CompactRange,
  concatBytes,
  createTileNodeReader,
  draftFingerprint,
  type EventDraft,
  encodeEntryBundle,
  type FieldProblem,
  formatCheckpoint,
  type Hash,
  hashLeaf,
  InputError,
  indexFieldsOf,
  logOrigin,
  type NodeReader,
  type NoteSigner,
  NotFoundError,
  nowTimestamp,
  pointerChild,
  proveConsistency,
  proveInclusion,
  rangeNodes,
  StoreError,
  sealEvent,
  signNote,
  TILE_HEIGHT,
  TILE_WIDTH,
  tileExists,
  treeRoot,
  ulid,
  validateEvent,
} from "@sealtrail/core";
import { eventOf } from "./queries.js";
import type { AppendedEntry, LogAppend, LogStore, StoredCheckpoint, StoredEntry, StoredHash } from "./store.js";

export interface EngineOptions {
  readonly store: LogStore;
  readonly signer: NoteSigner;
  /** Origins are `<originPrefix>/<log>` (DESIGN §2). */
  readonly originPrefix: string;
  /** Minimum time between two checkpoints of one log, and the most a write waits for one. */
  readonly checkpointIntervalMs?: number;
  /** Upper bound on events sequenced in one transaction. */
  readonly maxEventsPerCommit?: number;
  readonly now?: () => number;
}

export interface AppendedEvent {
  readonly id: string;
  readonly index: number;
  /** False when the id was already in the log (an idempotent retry). */
  readonly created: boolean;
}

export interface CheckpointInfo {
  readonly treeSize: number;
  readonly rootHash: Hash;
  readonly note: string;
  readonly createdAt: string;
}

export interface InclusionProof {
  readonly index: number;
  readonly treeSize: number;
  readonly leafHash: Hash;
  readonly rootHash: Hash;
  readonly hashes: Hash[];
}

interface PendingUnit {
  readonly log: string;
  readonly drafts: readonly EventDraft[];
  /** JSON pointer prefix of each draft in the request body, for errors. */
  readonly pointers: readonly string[];
  resolve(results: AppendedEvent[]): void;
  reject(error: unknown): void;
}

/**
 * The server key under a log's origin as key name (C2SP tlog-checkpoint: the key name SHOULD be
 * the origin), or the key as given when it cannot be renamed (a KMS hook with a fixed name).
 */
export function originSigner(serverSigner: NoteSigner, origin: string): Promise<NoteSigner> {
  return serverSigner.withName && serverSigner.name !== origin ? serverSigner.withName(origin) : Promise.resolve(serverSigner);
}

/** Receives events as they are committed to a log (see `LogEngine.subscribe`). */
export type CommitListener = (events: readonly { readonly index: number; readonly event: AuditEvent }[]) => void;

interface SealedEvent {
  readonly index: number;
  readonly event: AuditEvent;
  readonly leaf: Uint8Array;
  readonly clientId: boolean;
}

interface LogState {
  range: CompactRange;
  checkpoint?: CheckpointInfo;
  /** Sizes waiting for a checkpoint, with their waiters. */
  waiters: { size: number; resolve: (cp: CheckpointInfo) => void }[];
  checkpointTimer?: ReturnType<typeof setTimeout>;
  /** False until the log's first entries are committed: a failed first write creates nothing. */
  persisted: boolean;
  signing?: Promise<void>;
  lastCheckpointAt: number;
}

const DEFAULT_INTERVAL_MS = 1000;
const DEFAULT_MAX_EVENTS = 10_000;

/**
 * The sequencer (DESIGN §1, §5). Appends queue up and are integrated together: one store
 * transaction per flush holds the entries and every tile hash they complete, so a crash leaves
 * either all of a flush or none of it. Checkpoints are signed after the commit, at most one per
 * interval per log. All state here is re-derivable from the store (`open`).
 */
export class LogEngine {
  readonly #store: LogStore;
  readonly #signer: NoteSigner;
  readonly #originPrefix: string;
  readonly #intervalMs: number;
  readonly #maxEvents: number;
  readonly #now: () => number;
  readonly #logs = new Map<string, LogState>();
  readonly #logSigners = new Map<string, Promise<NoteSigner>>();
  readonly #listeners = new Map<string, Set<CommitListener>>();
  #queue: PendingUnit[] = [];
  #flushScheduled = false;
  #flushing: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(options: EngineOptions) {
    this.#store = options.store;
    this.#signer = options.signer;
    this.#originPrefix = options.originPrefix;
    this.#intervalMs = options.checkpointIntervalMs ?? DEFAULT_INTERVAL_MS;
    this.#maxEvents = options.maxEventsPerCommit ?? DEFAULT_MAX_EVENTS;
    this.#now = options.now ?? Date.now;
  }

  /** Opens an engine over a store, re-deriving every log's state from what the store holds. */
  static async open(options: EngineOptions): Promise<LogEngine> {
    const engine = new LogEngine(options);
    for (const log of await options.store.listLogs()) await engine.#loadLog(log.name);
    return engine;
  }

  get signer(): NoteSigner {
    return this.#signer;
  }

  get originPrefix(): string {
    return this.#originPrefix;
  }

  get store(): LogStore {
    return this.#store;
  }

  origin(log: string): string {
    return logOrigin(this.#originPrefix, log);
  }

  /** The signer of a log's checkpoints (see `originSigner`). */
  signerFor(log: string): Promise<NoteSigner> {
    let signer = this.#logSigners.get(log);
    if (!signer) {
      signer = originSigner(this.#signer, this.origin(log));
      this.#logSigners.set(log, signer);
    }
    return signer;
  }

  /** The verifier key that checks a log's checkpoints. */
  async verifierKey(log: string): Promise<string> {
    return (await this.signerFor(log)).verifierKey;
  }

  async #loadLog(log: string): Promise<LogState> {
    const existing = this.#logs.get(log);
    if (existing) return existing;
    const summary = await this.#store.getLog(log);
    const size = summary?.size ?? 0;
    const reader = this.#nodeReader(log);
    const edge = rangeNodes(0, size);
    const range = CompactRange.fromNodes(size, await reader(edge));
    const stored = await this.#store.latestCheckpoint(log);
    const state: LogState = { range, waiters: [], lastCheckpointAt: 0, persisted: summary !== undefined };
    if (stored) {
      if (stored.treeSize > size) {
        throw new StoreError("store_inconsistent", `log ${log}: checkpoint covers ${stored.treeSize} entries but only ${size} are stored`);
      }
      const root = await treeRoot(stored.treeSize, reader);
      if (!bytesEqual(root, stored.rootHash)) {
        throw new StoreError("store_inconsistent", `log ${log}: stored hashes do not match the checkpoint at size ${stored.treeSize}`);
      }
      state.checkpoint = { treeSize: stored.treeSize, rootHash: stored.rootHash, note: stored.note, createdAt: stored.createdAt };
    }
    // Double-checked: another caller may have loaded it while we awaited.
    const raced = this.#logs.get(log);
    if (raced) return raced;
    this.#logs.set(log, state);
    if (size > (stored?.treeSize ?? 0)) this.#scheduleCheckpoint(log, state);
    return state;
  }

  #nodeReader(log: string) {
    return createTileNodeReader(async (level, start, count) => this.#store.readHashes(log, level, start, count));
  }

  /**
   * Validates and appends events to a log, all or nothing. Resolves once they are durable, with
   * each event's id and final index; an id already in the log resolves to its original index.
   * `pointerBase` prefixes JSON pointers in errors (`/events` for a batch body).
   */
  async append(log: string, inputs: readonly unknown[], options: { pointerBase?: string } = {}): Promise<AppendedEvent[]> {
    if (this.#closed) throw new StoreError("engine_closed", "the log engine is closed");
    assertLogName(log);
    const pointers = inputs.map((_, i) => (options.pointerBase === undefined ? "" : pointerChild(options.pointerBase, i)));
    const problems: FieldProblem[] = [];
    const drafts: EventDraft[] = [];
    inputs.forEach((input, i) => {
      try {
        drafts.push(validateEvent(input, pointers[i]));
      } catch (error) {
        if (error instanceof InputError) problems.push(...error.problems);
        else throw error;
      }
    });
    if (problems.length > 0) {
      const first = problems[0] as FieldProblem;
      const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
      throw new InputError("invalid_event", `${first.pointer || "/"} ${first.detail}${more}`, { problems });
    }
    const seen = new Map<string, string>();
    drafts.forEach((draft, i) => {
      if (draft.id === undefined) return;
      const fingerprint = draftFingerprint(draft);
      const earlier = seen.get(draft.id);
      if (earlier !== undefined && earlier !== fingerprint) {
        throw new InputError("id_conflict", `event id ${draft.id} appears twice in the batch with different content`, {
          problems: [{ pointer: pointerChild(pointers[i] ?? "", "id"), detail: "repeats an earlier id with different content" }],
        });
      }
      seen.set(draft.id, fingerprint);
    });
    if (drafts.length === 0) return [];
    return new Promise<AppendedEvent[]>((resolve, reject) => {
      this.#queue.push({ log, drafts, pointers, resolve, reject });
      this.#scheduleFlush();
    });
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // setImmediate lets every append issued in this turn of the event loop join the same commit.
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flushing = this.#flushing.then(() => this.#flush()).catch(() => undefined);
    });
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const units: PendingUnit[] = [];
      let events = 0;
      while (this.#queue.length > 0 && (units.length === 0 || events + (this.#queue[0] as PendingUnit).drafts.length <= this.#maxEvents)) {
        const unit = this.#queue.shift() as PendingUnit;
        units.push(unit);
        events += unit.drafts.length;
      }
      await this.#commit(units);
    }
  }

  async #commit(units: PendingUnit[]): Promise<void> {
    const byLog = new Map<string, PendingUnit[]>();
    for (const unit of units) {
      const same = byLog.get(unit.log);
      if (same) same.push(unit);
      else byLog.set(unit.log, [unit]);
    }
    const receivedAt = nowTimestamp(this.#now());
    const batches: LogAppend[] = [];
    const outcomes: { unit: PendingUnit; results?: AppendedEvent[]; error?: unknown }[] = [];
    const nextRanges = new Map<string, CompactRange>();

    for (const [log, logUnits] of byLog) {
      let state: LogState;
      let known: Map<string, StoredEntry>;
      try {
        state = await this.#loadLog(log);
        const ids = logUnits.flatMap((u) => u.drafts.flatMap((d) => (d.id === undefined ? [] : [d.id])));
        known = new Map((ids.length > 0 ? await this.#store.findEntriesById(log, ids) : []).map((e) => [e.id, e]));
      } catch (error) {
        for (const unit of logUnits) outcomes.push({ unit, error });
        continue;
      }
      const range = state.range.clone();
      const startIndex = range.size;
      const entries: AppendedEntry[] = [];
      const hashes: StoredHash[] = [];
      const fresh = new Map<string, { index: number; fingerprint: string }>();
      for (const unit of logUnits) {
        try {
          const planned = this.#planUnit(unit, known, fresh, range.size, receivedAt);
          for (const item of planned.sealed) {
            entries.push({ index: item.index, id: item.event.id, leaf: item.leaf, fields: indexFieldsOf(item.event) });
            // Only a client-chosen id can be retried within this flush; generated ULIDs never repeat.
            if (item.clientId) fresh.set(item.event.id, { index: item.index, fingerprint: draftFingerprint(item.event) });
            range.append(hashLeaf(item.leaf), (height, index, hash) => {
              if (height % TILE_HEIGHT === 0) hashes.push({ level: height / TILE_HEIGHT, index, hash });
            });
          }
          outcomes.push({ unit, results: planned.results });
        } catch (error) {
          outcomes.push({ unit, error });
        }
      }
      if (entries.length > 0) {
        batches.push({ log, startIndex, entries, hashes });
        nextRanges.set(log, range);
      }
    }

    try {
      if (batches.length > 0) await this.#store.append(batches);
    } catch (cause) {
      const error =
        cause instanceof StoreError ? cause : new StoreError("store_write_failed", "the store could not commit the batch", { cause });
      for (const outcome of outcomes) outcome.unit.reject(outcome.error ?? error);
      return;
    }
    for (const [log, range] of nextRanges) {
      const state = this.#logs.get(log) as LogState;
      state.range = range;
      state.persisted = true;
      this.#scheduleCheckpoint(log, state);
    }
    for (const outcome of outcomes) {
      if (outcome.results) outcome.unit.resolve(outcome.results);
      else outcome.unit.reject(outcome.error);
    }
    for (const batch of batches) this.#notify(batch.log, batch.entries);
  }

  #notify(log: string, entries: readonly AppendedEntry[]): void {
    const listeners = this.#listeners.get(log);
    if (!listeners || listeners.size === 0) return;
    const committed = entries.map((entry) => ({ index: entry.index, event: eventOf(entry) }));
    for (const listener of listeners) {
      try {
        listener(committed);
      } catch {
        // A subscriber's failure (a closed stream) must never affect the writers.
      }
    }
  }

  /**
   * Calls `listener` with every batch of events committed to `log` from now on, in index order,
   * after the commit is durable (what the live tail streams). Returns the unsubscribe function.
   */
  subscribe(log: string, listener: CommitListener): () => void {
    let set = this.#listeners.get(log);
    if (!set) {
      set = new Set();
      this.#listeners.set(log, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Assigns indexes to one all-or-nothing unit; throws without side effects if any event fails. */
  #planUnit(
    unit: PendingUnit,
    known: Map<string, StoredEntry>,
    fresh: Map<string, { index: number; fingerprint: string }>,
    nextIndex: number,
    receivedAt: string,
  ): { sealed: SealedEvent[]; results: AppendedEvent[] } {
    const sealed: SealedEvent[] = [];
    const results: AppendedEvent[] = [];
    const local = new Map<string, number>();
    let index = nextIndex;
    unit.drafts.forEach((draft, i) => {
      const pointer = unit.pointers[i] ?? "";
      if (draft.id !== undefined) {
        const prior = this.#priorIndex(draft, known, fresh, local, pointer);
        if (prior !== undefined) {
          results.push({ id: draft.id, index: prior, created: false });
          return;
        }
      }
      const { event, leaf } = sealEvent(draft, { id: ulid(this.#now()), receivedAt }, pointer);
      sealed.push({ index, event, leaf, clientId: draft.id !== undefined });
      local.set(event.id, index);
      results.push({ id: event.id, index, created: true });
      index++;
    });
    return { sealed, results };
  }

  #priorIndex(
    draft: EventDraft,
    known: Map<string, StoredEntry>,
    fresh: Map<string, { index: number; fingerprint: string }>,
    local: Map<string, number>,
    pointer: string,
  ): number | undefined {
    const id = draft.id as string;
    const inUnit = local.get(id);
    if (inUnit !== undefined) return inUnit;
    const conflict = () =>
      new InputError("id_conflict", `event id ${id} is already in the log with different content`, {
        problems: [{ pointer: pointerChild(pointer, "id"), detail: "already used by a different event" }],
      });
    const stored = known.get(id);
    if (stored) {
      const storedEvent = eventOf(stored);
      if (draftFingerprint(storedEvent) !== draftFingerprint(draft)) throw conflict();
      return stored.index;
    }
    const pending = fresh.get(id);
    if (pending) {
      if (pending.fingerprint !== draftFingerprint(draft)) throw conflict();
      return pending.index;
    }
    return undefined;
  }

  #scheduleCheckpoint(log: string, state: LogState): void {
    if (state.checkpointTimer || this.#closed) return;
    const wait = Math.max(0, state.lastCheckpointAt + this.#intervalMs - this.#now());
    state.checkpointTimer = setTimeout(() => {
      state.checkpointTimer = undefined;
      void this.#signCheckpoint(log, state).catch(() => {
        // A failed signature is retried on the next interval; the entries are already durable.
        this.#scheduleCheckpoint(log, state);
      });
    }, wait);
  }

  async #signCheckpoint(log: string, state: LogState): Promise<void> {
    // Chained before any await, so two callers (the timer and close) never sign at once.
    const previous = state.signing;
    const run = (async () => {
      await previous;
      const size = state.range.size;
      if (size === 0 || size === state.checkpoint?.treeSize) return;
      // Counted from the attempt, not its end: a commit landing while this signs waits a full
      // interval (at most one checkpoint per interval), and a failed attempt retries an interval later.
      state.lastCheckpointAt = this.#now();
      const rootHash = state.range.root();
      const note = await signNote(formatCheckpoint({ origin: this.origin(log), treeSize: size, rootHash }), [await this.signerFor(log)]);
      const stored: StoredCheckpoint = { log, treeSize: size, rootHash, note, createdAt: nowTimestamp(this.#now()) };
      await this.#store.appendCheckpoint(stored);
      state.checkpoint = { treeSize: size, rootHash, note, createdAt: stored.createdAt };
      const ready = state.waiters.filter((w) => w.size <= size);
      state.waiters = state.waiters.filter((w) => w.size > size);
      for (const waiter of ready) waiter.resolve(state.checkpoint);
      if (state.range.size > size) this.#scheduleCheckpoint(log, state);
    })();
    state.signing = run.catch(() => undefined);
    await run;
  }

  /** Resolves with the first checkpoint that covers `index` (used by `wait: 'checkpoint'`). */
  async waitForCheckpoint(log: string, index: number): Promise<CheckpointInfo> {
    const state = await this.#existingLog(log);
    if (state.checkpoint && state.checkpoint.treeSize > index) return state.checkpoint;
    return new Promise((resolve) => state.waiters.push({ size: index + 1, resolve }));
  }

  async #existingLog(log: string): Promise<LogState> {
    assertLogName(log);
    const known = this.#logs.get(log);
    const state = known?.persisted ? known : (await this.#store.getLog(log)) ? await this.#loadLog(log) : undefined;
    if (!state?.persisted) throw new NotFoundError("log_not_found", `log ${log} does not exist`);
    return state;
  }

  async hasLog(log: string): Promise<boolean> {
    try {
      await this.#existingLog(log);
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }

  /** The latest signed checkpoint, or undefined while a new log has none yet. */
  async checkpoint(log: string): Promise<CheckpointInfo | undefined> {
    return (await this.#existingLog(log)).checkpoint;
  }

  /** Entries sequenced and durable, including those not yet covered by a checkpoint. */
  async integratedSize(log: string): Promise<number> {
    return (await this.#existingLog(log)).range.size;
  }

  async listLogs(): Promise<string[]> {
    return (await this.#store.listLogs()).map((l) => l.name);
  }

  async #publishedSize(log: string): Promise<number> {
    return (await this.#existingLog(log)).checkpoint?.treeSize ?? 0;
  }

  /** A hash tile as C2SP tlog-tiles serves it, bounded by the latest checkpoint; undefined if absent. */
  async readTile(log: string, level: number, index: number, width: number): Promise<Uint8Array | undefined> {
    const size = await this.#publishedSize(log);
    if (!tileExists({ level, index, width }, size)) return undefined;
    const hashes = await this.#store.readHashes(log, level, index * TILE_WIDTH, width);
    if (hashes.length !== width) throw new StoreError("store_inconsistent", `log ${log}: tile ${level}/${index} is incomplete`);
    return concatBytes(...hashes);
  }

  /** An entry bundle (C2SP tlog-tiles), bounded by the latest checkpoint; undefined if absent. */
  async readEntryBundle(log: string, index: number, width: number): Promise<Uint8Array | undefined> {
    const size = await this.#publishedSize(log);
    if (!tileExists({ level: "entries", index, width }, size)) return undefined;
    const entries = await this.#store.readEntries(log, index * TILE_WIDTH, width);
    if (entries.length !== width) throw new StoreError("store_inconsistent", `log ${log}: entry bundle ${index} is incomplete`);
    return encodeEntryBundle(entries.map((e) => e.leaf));
  }

  async #checkProvable(log: string, treeSize: number): Promise<void> {
    const published = await this.#publishedSize(log);
    if (treeSize > published) {
      throw new NotFoundError("beyond_tree", `log ${log} has no checkpoint of size ${treeSize}; the latest covers ${published}`);
    }
  }

  /** RFC 9162 inclusion proof of entry `index` in the tree of `treeSize` (≤ the latest checkpoint). */
  async proveInclusion(log: string, index: number, treeSize: number): Promise<InclusionProof> {
    const [proof] = await this.proveInclusions(log, [index], treeSize);
    return proof as InclusionProof;
  }

  /**
   * Inclusion proofs for many entries of one tree. Proofs of neighbouring entries share most of
   * their nodes, so node hashes are read and rebuilt once per call, and the root once.
   */
  async proveInclusions(log: string, indexes: readonly number[], treeSize: number): Promise<InclusionProof[]> {
    await this.#checkProvable(log, treeSize);
    const reader = this.#memoizedNodeReader(log);
    const rootHash = await treeRoot(treeSize, reader);
    const proofs: InclusionProof[] = [];
    for (const index of indexes) {
      const hashes = await proveInclusion(index, treeSize, reader);
      const [leafHash] = await reader([{ height: 0, index }]);
      if (!leafHash) throw new StoreError("store_inconsistent", `log ${log}: leaf hash ${index} is missing`);
      proofs.push({ index, treeSize, leafHash, rootHash, hashes });
    }
    return proofs;
  }

  #memoizedNodeReader(log: string): NodeReader {
    const read = this.#nodeReader(log);
    const cache = new Map<string, Hash>();
    return async (nodes) => {
      const missing = nodes.filter((n) => !cache.has(`${n.height}/${n.index}`));
      const fetched = await read(missing);
      for (const [i, n] of missing.entries()) cache.set(`${n.height}/${n.index}`, fetched[i] as Hash);
      return nodes.map((n) => cache.get(`${n.height}/${n.index}`) as Hash);
    };
  }

  /** RFC 9162 consistency proof between two tree sizes (≤ the latest checkpoint). */
  async proveConsistency(log: string, from: number, to: number): Promise<Hash[]> {
    await this.#checkProvable(log, to);
    return proveConsistency(from, to, this.#nodeReader(log));
  }

  /** Finds an entry by event id. */
  async findEntry(log: string, id: string): Promise<StoredEntry | undefined> {
    await this.#existingLog(log);
    const [entry] = await this.#store.findEntriesById(log, [id]);
    return entry;
  }

  /**
   * Commits what is queued, signs a final checkpoint for every log with unsigned entries, and
   * closes the store. Appends after close are refused.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await new Promise((resolve) => setImmediate(resolve));
    await this.#flushing;
    await this.#flush();
    for (const [log, state] of this.#logs) {
      if (state.checkpointTimer) clearTimeout(state.checkpointTimer);
      state.checkpointTimer = undefined;
      await this.#signCheckpoint(log, state).catch(() => undefined);
    }
    await this.#store.close();
  }
}
