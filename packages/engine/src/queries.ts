import {
  type AuditEvent,
  canonicalJson,
  type GroupBy,
  InputError,
  NotFoundError,
  type QueryFilter,
  StoreError,
  sha256,
  toHex,
  utf8,
} from "@sealtrail/core";
import type { GroupCount, LogStore, QueriedEntry, QueryableStore } from "./store.js";

/** What queries need: the store, and whether a log exists (a LogEngine fits). */
export interface QuerySource {
  readonly store: LogStore;
  hasLog(log: string): Promise<boolean>;
}

export interface QueryRequest {
  /** Logs to search; undefined searches every log (callers must restrict this to admins). */
  readonly logs?: readonly string[];
  readonly filter: QueryFilter;
  readonly order?: "desc" | "asc";
  readonly limit?: number;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string;
}

export interface QueriedEvent {
  readonly log: string;
  readonly index: number;
  readonly event: AuditEvent;
}

export interface QueryPage {
  readonly events: QueriedEvent[];
  /** Continues this query after the last event; null when there is nothing more right now. */
  readonly nextCursor: string | null;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;
const decoder = new TextDecoder();

export function eventOf(entry: { leaf: Uint8Array }): AuditEvent {
  return JSON.parse(decoder.decode(entry.leaf)) as AuditEvent;
}

/**
 * Queries over the store's index (DESIGN §6). Pages are newest-first by default and continue by
 * an opaque cursor holding the last event's position in commit order, so events arriving while a
 * client pages never shift, repeat or skip results. A cursor is bound to its query: reusing it
 * with another filter, order or set of logs is refused instead of silently mixing results.
 */
export class EventQueries {
  readonly #source: QuerySource;

  constructor(source: QuerySource) {
    this.#source = source;
  }

  #store(): QueryableStore {
    const store = this.#source.store;
    if (!store.queryEvents || !store.countEvents || !store.groupEvents) {
      throw new StoreError("queries_unsupported", `${store.description} keeps no query index`);
    }
    return store as QueryableStore;
  }

  async #checkLogs(logs: readonly string[] | undefined): Promise<void> {
    for (const log of logs ?? []) {
      if (!(await this.#source.hasLog(log))) throw new NotFoundError("log_not_found", `log ${log} does not exist`);
    }
  }

  async query(request: QueryRequest): Promise<QueryPage> {
    const order = request.order ?? "desc";
    const limit = request.limit ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new InputError("invalid_parameter", `limit must be 1 to ${MAX_PAGE_SIZE}`, {
        problems: [{ parameter: "limit", detail: `must be an integer from 1 to ${MAX_PAGE_SIZE}` }],
      });
    }
    await this.#checkLogs(request.logs);
    // Only a cursor needs it (given or returned): a SHA-256 of the canonical query, computed once.
    let computed: string | undefined;
    const fingerprint = () => {
      computed ??= queryFingerprint(request.logs, request.filter, order);
      return computed;
    };
    const after = request.cursor === undefined ? undefined : decodeCursor(request.cursor, fingerprint());
    const rows = await this.#store().queryEvents({
      ...(request.logs ? { logs: request.logs } : {}),
      filter: request.filter,
      order,
      limit: limit + 1,
      ...(after === undefined ? {} : { after }),
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      events: page.map((row) => ({ log: row.log, index: row.index, event: eventOf(row) })),
      nextCursor: rows.length > limit && last ? encodeCursor(last, fingerprint()) : null,
    };
  }

  async count(request: Pick<QueryRequest, "logs" | "filter">): Promise<number> {
    await this.#checkLogs(request.logs);
    return this.#store().countEvents({ ...(request.logs ? { logs: request.logs } : {}), filter: request.filter });
  }

  async group(request: Pick<QueryRequest, "logs" | "filter"> & { groupBy: GroupBy; limit?: number }): Promise<GroupCount[]> {
    await this.#checkLogs(request.logs);
    return this.#store().groupEvents({
      ...(request.logs ? { logs: request.logs } : {}),
      filter: request.filter,
      groupBy: request.groupBy,
      limit: request.limit ?? 100,
    });
  }
}

function queryFingerprint(logs: readonly string[] | undefined, filter: QueryFilter, order: string): string {
  const logsKey = logs ? [...logs].sort() : null;
  return toHex(sha256(utf8(canonicalJson({ logs: logsKey, filter, order } as never)))).slice(0, 16);
}

function encodeCursor(row: QueriedEntry, fingerprint: string): string {
  return base64url(JSON.stringify({ v: 1, s: row.seq, f: fingerprint }));
}

function decodeCursor(cursor: string, fingerprint: string): number {
  const invalid = (detail: string) => new InputError("invalid_cursor", `cursor ${detail}`, { problems: [{ parameter: "cursor", detail }] });
  let parsed: { v?: unknown; s?: unknown; f?: unknown };
  try {
    parsed = JSON.parse(fromBase64url(cursor));
  } catch {
    throw invalid("is not a cursor this server issued");
  }
  if (parsed.v !== 1 || typeof parsed.s !== "number" || !Number.isSafeInteger(parsed.s) || typeof parsed.f !== "string") {
    throw invalid("is not a cursor this server issued");
  }
  if (parsed.f !== fingerprint) throw invalid("belongs to a different query (filter, order or logs changed)");
  return parsed.s;
}

function base64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}

function fromBase64url(text: string): string {
  if (!/^[A-Za-z0-9_-]{1,512}$/.test(text)) throw new Error("not base64url");
  return Buffer.from(text, "base64url").toString("utf8");
}
