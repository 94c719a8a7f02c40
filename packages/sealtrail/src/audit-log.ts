import type { ClientOptions, EventProof, QueryOptions, QueryResult } from "@sealtrail/client";
import {
  type Actor,
  ConfigError,
  compilePersonalData,
  type EventInput,
  InputError,
  type PersonalDataConfig,
  type QueryFilter,
  StoreError,
  withActionOverrides,
} from "@sealtrail/core";
import { currentAuditContext } from "@sealtrail/middleware";
import type { Backend, Erased, Recorded, VerifyResult } from "./backend.js";
import type { EventCatalog, EventSchemas, PayloadOf } from "./catalog.js";
import { openEmbedded } from "./embedded.js";
import { openRemote } from "./remote.js";
import { trackForShutdown } from "./shutdown.js";
import { openWorkerBackend } from "./worker-backend.js";

/** An event as `record()` takes it: `occurredAt` defaults to now; `actor` and `context` come from the request when left out. */
export type RecordInput = Omit<EventInput, "occurredAt" | "actor" | "version"> & { occurredAt?: string; actor?: Actor };
/** Everything but the action and its payload, for `record(action, payload, extras)`. */
export type RecordExtras = Omit<RecordInput, "action" | "metadata">;

type CataloguedEvent<S extends EventSchemas> = {
  [A in keyof S & string]: RecordExtras & { action: A; metadata: PayloadOf<S, A> };
}[keyof S & string];

/**
 * The object form of `record()`: with a strict catalog, only catalogued actions with their
 * payloads type-check; otherwise any action (its payload is still validated at run time).
 */
export type RecordEvent<S extends EventSchemas, Strict extends boolean> = string extends keyof S
  ? RecordInput
  : Strict extends true
    ? CataloguedEvent<S>
    : CataloguedEvent<S> | RecordInput;

export interface AuditLog<S extends EventSchemas = EventSchemas, Strict extends boolean = boolean> {
  /** Where the log is kept. */
  readonly mode: "sqlite" | "postgres" | "remote";
  /** The log's name (one Merkle tree). */
  readonly log: string;
  /** Records an event; resolves once it is durable, with its id and final index. */
  record(event: RecordEvent<S, Strict>): Promise<Recorded>;
  /** Records a catalogued action: the payload is type-checked and validated, and stored as `metadata`. */
  record<A extends keyof S & string>(action: A, payload: PayloadOf<S, A>, extras?: RecordExtras): Promise<Recorded>;
  /** Searches the log: the query language (`actor:u_42 action:document.*`) or a structured filter; newest first. */
  query(query?: string | QueryFilter, options?: QueryOptions): Promise<QueryResult>;
  /** One event with its inclusion proof, verified against a signed checkpoint (waits for one if the event is that new). */
  prove(id: string): Promise<EventProof>;
  /** Audits the log (embedded: every entry and checkpoint re-checked; remote: signature and consistency). */
  verify(): Promise<VerifyResult>;
  /**
   * Erases a data subject (crypto-shredding): destroys their data keys, so their personal values
   * read as `[erased]` from then on while every leaf and proof stays valid. Embedded: recorded in
   * the `sealtrail-system` log first, as the server does; remote: `POST /v1/erasures` (admin key).
   */
  erase(subject: string, options?: EraseOptions): Promise<Erased>;
  /** Flushes pending events, signs a final checkpoint (embedded), and releases everything. */
  close(): Promise<void>;
}

export interface EraseOptions {
  /** Only this log (default: every log whose keys the key store holds, like `sealtrail erase`). */
  readonly log?: string;
  /** Who asked, for the system log (default: the request's actor, else `{ type: "service", id: "sealtrail" }`). */
  readonly actor?: Actor;
}

export interface AuditLogOptions<S extends EventSchemas = EventSchemas, Strict extends boolean = boolean> {
  /** Embedded SQLite in this directory (default `./sealtrail-data` when no url is given). */
  readonly path?: string;
  /** `postgres://…` for an embedded log in PostgreSQL, or `https://…` for a Sealtrail server. */
  readonly url?: string;
  /** API key for a server URL. */
  readonly apiKey?: string;
  /** The log to write (default `default`). */
  readonly log?: string;
  readonly catalog?: EventCatalog<S, Strict>;
  /** Embedded: checkpoint origin prefix and key name, fixed when the key is first created (default `sealtrail.local`). */
  readonly originPrefix?: string;
  /** Embedded: the signing key text instead of the key file (default `$SEALTRAIL_SIGNING_KEY`). */
  readonly signingKey?: string;
  /** Embedded: at most one checkpoint per interval (default 1000 ms). */
  readonly checkpointIntervalMs?: number;
  /** Remote: the pinned verifier key of the log. */
  readonly verifierKey?: string;
  /** Remote: batching, retries, spool (see @sealtrail/client). */
  readonly client?: Omit<ClientOptions, "url" | "apiKey" | "log">;
  /** Embedded: run the engine (hashing, SQLite) on a worker thread, off the request thread (default true). */
  readonly worker?: boolean;
  /**
   * Embedded: which values are personal, encrypted under their data subject's key before the leaf
   * is formed (default: DESIGN §7's fields, `actor.name`, `actor.email`, `context.ip`,
   * `context.userAgent`, keyed by `actor.id`), plus the catalog's marks, which win for their
   * actions. Keys live in `<path>/keys.db` (0600) on SQLite and in the database on PostgreSQL, as
   * `sealtrail serve` keeps them. false: store every value as given (nothing can be erased then).
   */
  readonly personalData?: PersonalDataConfig | false;
  /** Embedded on a worker: most records waiting for their commit; beyond it record() fails with `queue_full` (default 10,000). */
  readonly maxPending?: number;
  /** On SIGTERM / SIGINT, flush and close before the process exits (default true). */
  readonly handleSignals?: boolean;
}

/**
 * `const audit = await createAuditLog({ path: "./audit" })`: one import, one object, the same
 * interface whether the log is embedded (SQLite, PostgreSQL) or on a server.
 */
export async function createAuditLog<S extends EventSchemas = EventSchemas, Strict extends boolean = boolean>(
  options: AuditLogOptions<S, Strict> = {},
): Promise<AuditLog<S, Strict>> {
  const log = options.log ?? "default";
  const url = options.url;
  let backend: Backend;
  if (url === undefined || /^postgres(ql)?:\/\//.test(url)) {
    const personalData = embeddedPersonalData(options);
    const worker = options.worker ?? true;
    const open = worker ? openWorkerBackend : openEmbedded;
    backend = await open({
      ...(worker && options.maxPending !== undefined ? { maxPending: options.maxPending } : {}),
      log,
      ...(url === undefined
        ? { path: options.path ?? "./sealtrail-data" }
        : { postgresUrl: url, ...(options.path ? { path: options.path } : {}) }),
      originPrefix: options.originPrefix ?? "sealtrail.local",
      ...(options.signingKey ? { signingKey: options.signingKey } : {}),
      ...(options.checkpointIntervalMs === undefined ? {} : { checkpointIntervalMs: options.checkpointIntervalMs }),
      personalData,
    });
  } else if (/^https?:\/\//.test(url)) {
    if (options.path)
      throw new ConfigError("invalid_audit_options", "path is for an embedded log; a server URL keeps the log on the server");
    if (options.personalData !== undefined)
      throw new ConfigError("invalid_audit_options", "personalData is for an embedded log; a server is configured with --personal-data");
    backend = await openRemote({
      url,
      log,
      ...(options.apiKey ? { apiKey: options.apiKey } : {}),
      ...(options.verifierKey ? { verifierKey: options.verifierKey } : {}),
      ...(options.client ? { client: options.client } : {}),
    });
  } else {
    throw new ConfigError("invalid_audit_options", `url must start with postgres://, http:// or https://, got ${url.split(":")[0]}:`);
  }
  const audit = new AuditLogImpl<S, Strict>(backend, options.catalog);
  if (options.handleSignals ?? true) audit.untrack = trackForShutdown(audit);
  return audit;
}

/** The configuration with the catalog's marks merged in, checked here so a bad path fails createAuditLog. */
function embeddedPersonalData(options: AuditLogOptions<EventSchemas, boolean>): PersonalDataConfig | false {
  if (options.personalData === false) return false;
  const config = withActionOverrides(options.personalData, options.catalog?.personalData);
  compilePersonalData(config);
  return config;
}

class AuditLogImpl<S extends EventSchemas, Strict extends boolean> implements AuditLog<S, Strict> {
  readonly #backend: Backend;
  readonly #catalog: EventCatalog<S, Strict> | undefined;
  #closing: Promise<void> | undefined;
  untrack: (() => void) | undefined;

  constructor(backend: Backend, catalog: EventCatalog<S, Strict> | undefined) {
    this.#backend = backend;
    this.#catalog = catalog;
  }

  get mode() {
    return this.#backend.mode;
  }

  get log() {
    return this.#backend.log;
  }

  record(event: RecordEvent<S, Strict>): Promise<Recorded>;
  record<A extends keyof S & string>(action: A, payload: PayloadOf<S, A>, extras?: RecordExtras): Promise<Recorded>;
  async record(first: string | RecordEvent<S, Strict>, payload?: unknown, extras?: RecordExtras): Promise<Recorded> {
    if (this.#closing) throw new StoreError("engine_closed", "the audit log is closed");
    let input: RecordInput;
    if (typeof first === "string") {
      if (payload !== undefined && (typeof payload !== "object" || payload === null || Array.isArray(payload))) {
        throw new InputError("invalid_event", "the payload of record(action, payload) must be an object: it is stored as metadata", {
          problems: [{ pointer: "/metadata", detail: "must be an object" }],
        });
      }
      input = { ...extras, action: first, ...(payload === undefined ? {} : { metadata: payload as RecordInput["metadata"] }) };
    } else input = first as RecordInput;
    return this.#backend.append(await this.#complete(input));
  }

  /** Fills what the request context knows, then validates the payload against the catalog. */
  async #complete(input: RecordInput): Promise<EventInput> {
    const request = currentAuditContext();
    const event: EventInput = {
      ...input,
      occurredAt: input.occurredAt ?? new Date().toISOString(),
      // Without a request and without an actor, the backend's validation reports /actor as required.
      actor: input.actor ?? ((await request?.actor()) as Actor),
    };
    if (request) event.context = { ...request.fields, ...input.context };
    if (this.#catalog && typeof input.action === "string") {
      const metadata = await this.#catalog.validate(input.action, input.metadata);
      if (metadata !== undefined) event.metadata = metadata;
    }
    return event;
  }

  query(query: string | QueryFilter = "", options: QueryOptions = {}): Promise<QueryResult> {
    return this.#backend.query(query, options);
  }

  prove(id: string): Promise<EventProof> {
    return this.#backend.prove(id);
  }

  verify(): Promise<VerifyResult> {
    return this.#backend.verify();
  }

  async erase(subject: string, options: EraseOptions = {}): Promise<Erased> {
    if (this.#closing) throw new StoreError("engine_closed", "the audit log is closed");
    if (typeof subject !== "string" || subject.length === 0 || subject.length > 256) {
      throw new InputError("invalid_erasure_request", "the subject must be a string of 1 to 256 characters", {
        problems: [{ pointer: "/subject", detail: "must be a string of 1 to 256 characters" }],
      });
    }
    const actor = options.actor ?? ((await currentAuditContext()?.actor()) as Actor | undefined) ?? { type: "service", id: "sealtrail" };
    return this.#backend.erase(subject, { actor, ...(options.log ? { log: options.log } : {}) });
  }

  close(): Promise<void> {
    this.untrack?.();
    this.#closing ??= this.#backend.close();
    return this.#closing;
  }
}
