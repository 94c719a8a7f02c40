import type { EventProof, QueryOptions, QueryResult } from "@sealtrail/client";
import type { Actor, EventInput, QueryFilter } from "@sealtrail/core";

export interface Recorded {
  readonly id: string;
  /** The event's final position in the log. */
  readonly index: number;
}

/** What `verify()` found. Verification failures are results (ok: false), not exceptions. */
export interface VerifyResult {
  readonly ok: boolean;
  readonly log: string;
  /** Entries checked: all of them for an embedded log; the signed tree size for a remote one. */
  readonly entries: number;
  readonly checkpoints: number;
  /** The first index that does not verify, when the failure is an entry. */
  readonly failedIndex?: number;
  readonly problem?: string;
}

/** What `erase()` did: the subject's data keys destroyed, as `POST /v1/erasures` answers. */
export interface Erased {
  readonly subject: string;
  /** Present when the erasure was limited to one log; absent: every log. */
  readonly log?: string;
  readonly keysDestroyed: number;
  readonly erasedAt: string;
}

export interface EraseRequest {
  /** Only this log (default: every log whose keys are in this key store, as the server does). */
  readonly log?: string;
  /** Who asked, recorded in the `sealtrail-system` log (embedded only; a server records the API key). */
  readonly actor: Actor;
}

/** One way of keeping the log: embedded (SQLite, PostgreSQL) or a remote server. */
export interface Backend {
  readonly mode: "sqlite" | "postgres" | "remote";
  readonly log: string;
  append(event: EventInput): Promise<Recorded>;
  query(filter: QueryFilter | string, options: QueryOptions): Promise<QueryResult>;
  prove(id: string): Promise<EventProof>;
  verify(): Promise<VerifyResult>;
  erase(subject: string, request: EraseRequest): Promise<Erased>;
  close(): Promise<void>;
}
