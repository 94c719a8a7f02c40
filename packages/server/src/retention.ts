import { randomBytes } from "node:crypto";
import { type JsonValue, parseQuery, type Target } from "@sealtrail/core";
import { describeRanges, type LegalHold, type LogEngine, planPrune, retentionStore } from "@sealtrail/engine";
import type { SystemAction, SystemEvent } from "./system-log.js";

/** Records one retention action in the system log before it takes effect (throws if it cannot). */
export type RecordAction = (action: SystemAction, details: Omit<SystemEvent, "actor" | "context">) => Promise<void>;

export interface PruneResult {
  readonly log: string;
  /** Ranges pruned by this run. */
  readonly pruned: { start: number; end: number }[];
  readonly entries: number;
  /** Old-enough events kept because a legal hold matches them (or holds the whole log). */
  readonly held: number;
  /** Events received before this instant were due (absent without a retention period). */
  readonly before?: string;
}

export interface RetentionServiceOptions {
  readonly engine: LogEngine;
  readonly now?: () => number;
  /** Where a failure of the periodic job is reported (default: one line on stderr). */
  readonly onError?: (line: string) => void;
}

const DAY_MS = 86_400_000;
/** Entries deleted per store transaction: keeps each write lock short beside live ingest. */
const PRUNE_CHUNK = 4096;

/**
 * Retention periods, legal holds and the pruning job (DESIGN §7, docs/retention.md). Every change
 * and every prune is recorded in the system log before it takes effect: if it cannot be recorded,
 * nothing happens.
 */
export class RetentionService {
  readonly #engine: LogEngine;
  readonly #now: () => number;
  readonly #onError: (line: string) => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<unknown> = Promise.resolve();

  constructor(options: RetentionServiceOptions) {
    this.#engine = options.engine;
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? ((line) => process.stderr.write(`${line}\n`));
  }

  get #store() {
    return retentionStore(this.#engine.store);
  }

  async policy(log: string): Promise<number | undefined> {
    return (await this.#store.listRetentionPolicies()).find((p) => p.log === log)?.days;
  }

  async setPolicy(log: string, days: number | undefined, record: RecordAction): Promise<void> {
    const store = this.#store;
    const metadata: Record<string, JsonValue> = { days: days ?? null };
    await record("retention.set", { targets: [{ type: "log", id: log }], metadata });
    await store.setRetentionPolicy(log, days, new Date(this.#now()).toISOString());
  }

  async holds(options: { log?: string; active?: boolean } = {}): Promise<LegalHold[]> {
    return (await this.#store.listLegalHolds()).filter(
      (h) => (options.log === undefined || h.log === options.log) && (!options.active || h.releasedAt === undefined),
    );
  }

  async placeHold(request: { log: string; query?: string; reason: string }, record: RecordAction): Promise<LegalHold> {
    const store = this.#store;
    if (request.query !== undefined) parseQuery(request.query);
    const hold: LegalHold = {
      id: `hold_${randomBytes(9).toString("base64url")}`,
      log: request.log,
      ...(request.query === undefined ? {} : { query: request.query }),
      reason: request.reason,
      createdAt: new Date(this.#now()).toISOString(),
    };
    await record("legal_hold.placed", { targets: holdTargets(hold), metadata: { query: hold.query ?? null, reason: hold.reason } });
    await store.insertLegalHold(hold);
    return hold;
  }

  /** Releases an active hold; false when there is no active hold with that id. */
  async releaseHold(id: string, record: RecordAction): Promise<boolean> {
    const store = this.#store;
    const hold = (await store.listLegalHolds()).find((h) => h.id === id && h.releasedAt === undefined);
    if (!hold) return false;
    await record("legal_hold.released", { targets: holdTargets(hold), metadata: { query: hold.query ?? null, reason: hold.reason } });
    return store.releaseLegalHold(id, new Date(this.#now()).toISOString());
  }

  /**
   * Prunes one log (or every log with a retention period) down to its period: entry bodies and
   * query-index rows go, tree hashes and checkpoints stay. Runs one at a time.
   */
  prune(record: RecordAction, log?: string): Promise<PruneResult[]> {
    const run = this.#running.then(() => this.#pruneNow(record, log));
    this.#running = run.catch(() => undefined);
    return run;
  }

  async #pruneNow(record: RecordAction, only?: string): Promise<PruneResult[]> {
    const store = this.#store;
    const policies = (await store.listRetentionPolicies()).filter((p) => only === undefined || p.log === only);
    if (only !== undefined && policies.length === 0) return [{ log: only, pruned: [], entries: 0, held: 0 }];
    const holds = await this.holds({ active: true });
    const results: PruneResult[] = [];
    for (const policy of policies) {
      if (!(await this.#engine.hasLog(policy.log))) continue;
      const logHolds = holds.filter((h) => h.log === policy.log);
      const before = this.#now() - policy.days * DAY_MS;
      const plan = await planPrune(store, policy.log, {
        before,
        upTo: (await this.#engine.checkpoint(policy.log))?.treeSize ?? 0,
        holds: logHolds.flatMap((h) => (h.query === undefined ? [] : [parseQuery(h.query)])),
        wholeLog: logHolds.some((h) => h.query === undefined),
      });
      const entries = plan.ranges.reduce((n, r) => n + r.end - r.start, 0);
      const result = { log: policy.log, pruned: plan.ranges, entries, held: plan.held, before: new Date(before).toISOString() };
      results.push(result);
      if (entries === 0) continue;
      await record("log.pruned", {
        targets: [{ type: "log", id: policy.log }],
        metadata: { ranges: describeRanges(plan.ranges), entries, held: plan.held, receivedBefore: result.before, days: policy.days },
      });
      const at = new Date(this.#now()).toISOString();
      for (const range of plan.ranges) {
        for (let start = range.start; start < range.end; start += PRUNE_CHUNK) {
          await store.pruneEntries(policy.log, [{ start, end: Math.min(range.end, start + PRUNE_CHUNK) }], at);
        }
      }
    }
    return results;
  }

  /**
   * Runs the job every `intervalMs` (and once now) until `stop`; failures are reported, never
   * thrown. A tick when `when()` is false is skipped: several instances sharing one PostgreSQL
   * store let only the integrating one prune, so they never plan the same log twice.
   */
  start(intervalMs: number, record: RecordAction, when: () => boolean = () => true): void {
    if (this.#timer) return;
    const tick = () => {
      if (!when()) return;
      this.prune(record).catch((error: unknown) => {
        this.#onError(`sealtrail: retention job failed: ${error instanceof Error ? error.message : String(error)}`);
      });
    };
    this.#timer = setInterval(tick, intervalMs);
    this.#timer.unref();
    tick();
  }

  /** Stops the periodic job and waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}

function holdTargets(hold: LegalHold): Target[] {
  return [
    { type: "log", id: hold.log },
    { type: "legal_hold", id: hold.id },
  ];
}
