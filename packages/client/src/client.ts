import {
  AuthError,
  assertLogName,
  type EventInput,
  InputError,
  nowTimestamp,
  type QueryFilter,
  type SealtrailError,
  StoreError,
  ulid,
  validateEvent,
} from "@sealtrail/core";
import { type Fetch, HttpTransport } from "./http.js";
import type { QueuedEvent } from "./queue-event.js";
import { type EventProof, verifyEventProof, type WireEventProof } from "./verify.js";

/** An event as the app hands it over: `occurredAt` defaults to now, `id` to a new ULID. */
export type ClientEvent = Omit<EventInput, "occurredAt"> & { occurredAt?: string };

export interface Acknowledged {
  readonly id: string;
  readonly index: number;
  /** False when the server already held this id (a retry of a write that had landed). */
  readonly created: boolean;
}

export interface ClientOptions {
  /** The server, e.g. `https://audit.example.com`. */
  readonly url: string;
  /** An `ingest` key suffices to record; queries and proofs need `read`. */
  readonly apiKey?: string;
  /** The log events go to (one per tenant is usual). */
  readonly log: string;
  /** Most events per request (default 100, at most 1000: the server's batch limit). */
  readonly batchSize?: number;
  /** Longest an event waits for its batch to fill before it is sent (default 50 ms). */
  readonly flushIntervalMs?: number;
  /** Most events held in memory, sent or not yet acknowledged; record() is refused beyond it (default 10,000). */
  readonly maxQueue?: number;
  /** Backoff between retries: full jitter, doubling from `initialDelayMs` up to `maxDelayMs` (100 ms, 10 s). */
  readonly retry?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number };
  /** A file that keeps unacknowledged events across restarts (Node only); see Spool. */
  readonly spool?: string;
  /** Per-request timeout (default 10 s). */
  readonly timeoutMs?: number;
  /** On process exit (`beforeExit`), send what is queued, waiting at most this long (default 5 s; 0 turns it off). */
  readonly exitFlushMs?: number;
  /** Where failures of replayed spool events are reported (their caller is gone). */
  readonly onError?: (error: SealtrailError) => void;
  readonly fetch?: Fetch;
}

export interface QueryOptions {
  readonly limit?: number;
  readonly cursor?: string;
  readonly order?: "asc" | "desc";
}

export interface QueryResult {
  readonly events: { readonly log: string; readonly index: number; readonly event: import("@sealtrail/core").AuditEvent }[];
  readonly nextCursor: string | null;
}

export interface LogInfo {
  readonly name: string;
  readonly origin: string;
  readonly verifierKey: string;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly checkpoint: string | null;
}

interface Entry {
  readonly event: QueuedEvent;
  resolve?(ack: Acknowledged): void;
  reject?(error: SealtrailError): void;
}

const MAX_BATCH = 1000;

/**
 * The SDK for apps that talk to a Sealtrail server. record() queues; a single sender posts
 * batches (size- and time-bounded) in order, retrying with backoff while the server is away.
 * Every event gets its id here, before the first attempt, so a retry of a request whose answer
 * was lost is answered `created: false` instead of storing the event twice.
 */
export class SealtrailClient {
  readonly #http: HttpTransport;
  readonly #log: string;
  readonly #batchSize: number;
  readonly #intervalMs: number;
  readonly #maxQueue: number;
  readonly #initialDelay: number;
  readonly #maxDelay: number;
  readonly #onError: (error: SealtrailError) => void;
  #spool: import("./spool.js").Spool | undefined;
  #queue: Entry[] = [];
  #inFlight = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #sending: Promise<void> | undefined;
  #idle: (() => void)[] = [];
  #closed = false;
  #stopped = false;
  #wakeSleeper: (() => void) | undefined;
  #exitHook: (() => void) | undefined;

  private constructor(options: ClientOptions) {
    assertLogName(options.log);
    this.#http = new HttpTransport(options);
    this.#log = options.log;
    this.#batchSize = Math.min(options.batchSize ?? 100, MAX_BATCH);
    this.#intervalMs = options.flushIntervalMs ?? 50;
    this.#maxQueue = options.maxQueue ?? 10_000;
    this.#initialDelay = options.retry?.initialDelayMs ?? 100;
    this.#maxDelay = options.retry?.maxDelayMs ?? 10_000;
    this.#onError = options.onError ?? ((error) => process.stderr.write(`sealtrail client: ${error.code}: ${error.message}\n`));
    if (!(this.#batchSize >= 1) || !(this.#maxQueue >= this.#batchSize)) {
      throw new InputError("invalid_client_options", "batchSize must be 1 to 1000 and maxQueue at least batchSize");
    }
  }

  /** Creates a client; with a spool, events left unacknowledged by a previous run are sent first. */
  static async create(options: ClientOptions): Promise<SealtrailClient> {
    const client = new SealtrailClient(options);
    if (options.spool) {
      // Loaded only when asked for, so browser bundles of the client never pull in node:fs.
      const { Spool } = await import("./spool.js");
      const { spool, replay } = Spool.open(options.spool);
      client.#spool = spool;
      for (const event of replay) client.#queue.push({ event });
      if (replay.length > 0) client.#kick();
    }
    const exitFlushMs = options.exitFlushMs ?? 5000;
    if (exitFlushMs > 0 && typeof process !== "undefined" && typeof process.once === "function") {
      // Timers here are unref'd so a queue never keeps an app alive by itself; when the app is
      // done, beforeExit gives the queue one last, bounded chance to reach the server.
      client.#exitHook = () => {
        if (client.pending > 0 && !client.#closed) void client.close({ timeoutMs: exitFlushMs });
      };
      process.on("beforeExit", client.#exitHook);
    }
    return client;
  }

  get log(): string {
    return this.#log;
  }

  /** Events accepted by record() and not yet acknowledged by the server. */
  get pending(): number {
    return this.#queue.length + this.#inFlight;
  }

  /**
   * Queues an event; resolves once the server has made it durable, with its id and index.
   * Refuses (without queuing) an invalid event, and any event while the queue is full.
   */
  record(input: ClientEvent): Promise<Acknowledged> {
    if (this.#closed) return Promise.reject(new StoreError("client_closed", "the client is closed"));
    const event = { ...input, id: input.id ?? ulid(), occurredAt: input.occurredAt ?? nowTimestamp() } as QueuedEvent;
    try {
      // The same validation the server runs: one bad event must not sink the batch it would join.
      validateEvent(event);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.pending >= this.#maxQueue) {
      return Promise.reject(
        new StoreError("queue_full", `${this.pending} events are waiting for ${this.#http.url}; record() refuses more until it catches up`),
      );
    }
    this.#spool?.add(event);
    return new Promise<Acknowledged>((resolve, reject) => {
      this.#queue.push({ event, resolve, reject });
      if (this.#queue.length >= this.#batchSize) this.#kick();
      else if (!this.#timer && !this.#sending) {
        this.#timer = setTimeout(() => this.#kick(), this.#intervalMs);
        this.#timer.unref?.();
      }
    });
  }

  /** Sends everything queued now and resolves once all of it is acknowledged (or the client stopped). */
  flush(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.#idle.push(resolve));
    this.#kick();
    return done;
  }

  #kick(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#sending || this.#stopped) return;
    this.#sending = this.#drain().finally(() => {
      this.#sending = undefined;
      if (this.#queue.length > 0 && !this.#stopped) this.#kick();
      else if (this.pending === 0) for (const resolve of this.#idle.splice(0)) resolve();
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0 && !this.#stopped) {
      const batch = this.#queue.splice(0, this.#batchSize);
      this.#inFlight = batch.length;
      try {
        await this.#send(batch);
      } finally {
        this.#inFlight = 0;
      }
    }
  }

  /** Sends one batch until it is acknowledged or refused for good; returns unsent entries to the queue if stopped. */
  async #send(batch: Entry[]): Promise<void> {
    const path = `/v1/logs/${encodeURIComponent(this.#log)}/events`;
    for (let attempt = 0; ; attempt++) {
      if (this.#stopped) {
        this.#queue.unshift(...batch);
        return;
      }
      this.#spool?.sync();
      const result = await this.#http.request<{ events: Acknowledged[] }>("POST", path, { events: batch.map((e) => e.event) });
      if (result.ok) {
        batch.forEach((entry, i) => {
          const ack = result.body.events[i] as Acknowledged;
          entry.resolve?.({ id: ack.id, index: ack.index, created: ack.created });
        });
        this.#spool?.acknowledge(batch.map((e) => e.event.id));
        return;
      }
      if (!result.retriable) {
        if (batch.length > 1) {
          // Batches are all or nothing: find the refused event by sending each on its own.
          for (const [i, entry] of batch.entries()) {
            await this.#send([entry]);
            if (this.#stopped) {
              this.#queue.unshift(...batch.slice(i + 1));
              return;
            }
          }
          return;
        }
        const entry = batch[0] as Entry;
        // A refused event will never be accepted: drop it from the spool. A refused key is a
        // configuration error, not the event's: it stays spooled for a restart with a good key.
        if (!(result.error instanceof AuthError)) this.#spool?.acknowledge([entry.event.id]);
        if (entry.reject) entry.reject(result.error);
        else this.#onError(result.error);
        return;
      }
      // close() may have given up while this request was out: then stop now, not after a nap
      // on an unref'd timer that nothing else keeps the process alive for.
      if (this.#stopped) continue;
      await this.#sleep(Math.random() * Math.min(this.#maxDelay, this.#initialDelay * 2 ** Math.min(attempt, 30)));
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref?.();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wakeSleeper = done;
    });
  }

  /**
   * Stops accepting events, sends what is queued (waiting at most `timeoutMs`, default 10 s) and
   * releases the spool. Events still unacknowledged then are rejected with `client_closed`; with a
   * spool they stay in it and are sent by the next client that opens it.
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#exitHook) process.off("beforeExit", this.#exitHook);
    if (this.#closed) return this.flush();
    this.#closed = true;
    const timeoutMs = options.timeoutMs ?? 10_000;
    let deadline: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.flush(), new Promise<void>((resolve) => (deadline = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(deadline);
    this.#stopped = true;
    this.#wakeSleeper?.();
    await this.#sending;
    const left = this.#queue.splice(0);
    const kept = this.#spool ? `; they stay in the spool ${this.#spool.path}` : "";
    for (const entry of left)
      entry.reject?.(new StoreError("client_closed", `closed before ${this.#http.url} acknowledged the event${kept}`));
    this.#spool?.close();
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Searches the log: the query language (`actor:u_42 action:document.*`) or a structured filter. */
  query(query: string | QueryFilter, options: QueryOptions = {}): Promise<QueryResult> {
    const params = new URLSearchParams();
    if (typeof query === "string") {
      if (query.trim() !== "") params.set("q", query);
    } else params.set("filter", JSON.stringify(query));
    if (options.limit !== undefined) params.set("limit", String(options.limit));
    if (options.cursor !== undefined) params.set("cursor", options.cursor);
    if (options.order !== undefined) params.set("order", options.order);
    return this.#http.call("GET", `/v1/logs/${encodeURIComponent(this.#log)}/events?${params}`);
  }

  logInfo(): Promise<LogInfo> {
    return this.#http.call("GET", `/v1/logs/${encodeURIComponent(this.#log)}`);
  }

  /**
   * Erases a data subject (admin key): the server destroys their data keys, so their personal
   * values read as `[erased]` while every proof stays valid (`POST /v1/erasures`).
   */
  erase(
    subject: string,
    options: { log?: string } = {},
  ): Promise<{ subject: string; log?: string; keysDestroyed: number; erasedAt: string }> {
    return this.#http.call("POST", "/v1/erasures", { subject, ...(options.log ? { log: options.log } : {}) });
  }

  /** RFC 9162 consistency proof between two tree sizes, base64 hashes. */
  consistencyProof(from: number, to: number): Promise<{ from: number; to: number; hashes: string[] }> {
    return this.#http.call("GET", `/v1/logs/${encodeURIComponent(this.#log)}/proofs/consistency?from=${from}&to=${to}`);
  }

  /**
   * One event with its inclusion proof, verified here against the checkpoint signed by
   * `verifierKey` (pin it; by default the key the server itself reports is used).
   */
  async prove(id: string, options: { verifierKey?: string } = {}): Promise<EventProof> {
    const wire = await this.#http.call<WireEventProof>("GET", `/v1/logs/${encodeURIComponent(this.#log)}/events/${encodeURIComponent(id)}`);
    const verifierKey = options.verifierKey ?? (await this.logInfo()).verifierKey;
    return verifyEventProof(wire, { verifierKey });
  }
}

/** `await createClient({ url, apiKey, log })`: see SealtrailClient. */
export function createClient(options: ClientOptions): Promise<SealtrailClient> {
  return SealtrailClient.create(options);
}
