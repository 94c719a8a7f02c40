import type { EventProof, QueryOptions, QueryResult } from "@sealtrail/client";
import type { EventInput, QueryFilter } from "@sealtrail/core";

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

/** One way of keeping the log: embedded (SQLite, PostgreSQL) or a remote server. */
export interface Backend {
  readonly mode: "sqlite" | "postgres" | "remote";
  readonly log: string;
  append(event: EventInput): Promise<Recorded>;
  query(filter: QueryFilter | string, options: QueryOptions): Promise<QueryResult>;
  prove(id: string): Promise<EventProof>;
  verify(): Promise<VerifyResult>;
  close(): Promise<void>;
}
