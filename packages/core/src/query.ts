import type { AuditEvent, Outcome } from "./event.js";
import { isEnvelope } from "./personal-data.js";

/**
 * A structured event filter: the one form every query path compiles to (the query language, the
 * JSON filter of the API, the CLI, the viewer). Fields combine with AND; the values listed for one
 * field combine with OR; an event matching any condition under `not` is excluded.
 */
export interface QueryFilter {
  /** actor.id is one of these. */
  actor?: string[];
  /** actor.type is one of these. */
  actorType?: string[];
  /** action is exactly one of these. */
  action?: string[];
  /** action starts with one of these dot-terminated prefixes (`document.*` → `document.`). */
  actionPrefix?: string[];
  /** Some target matches one of these: type and/or id (at least one of the two). */
  target?: TargetMatch[];
  outcome?: Outcome[];
  /** context.ip / context.requestId / context.sessionId is one of these. */
  ip?: string[];
  requestId?: string[];
  sessionId?: string[];
  /** Every one of these holds: the top-level metadata key exists, and equals `value` if given (compared as text). */
  metadata?: MetadataMatch[];
  /** Every phrase appears (case-insensitive, whole words) in the event's searchable text. */
  text?: string[];
  /** occurredAt ≥ occurredAfter (inclusive) and < occurredBefore (exclusive), RFC 3339 UTC. */
  occurredAfter?: string;
  occurredBefore?: string;
  /** Same for the server's receivedAt. */
  receivedAfter?: string;
  receivedBefore?: string;
  /** Exclusions: an event matching any condition listed here is left out. */
  not?: QueryExclusions;
}

export interface TargetMatch {
  type?: string;
  id?: string;
}

export interface MetadataMatch {
  key: string;
  value?: string;
}

export type QueryExclusions = Omit<QueryFilter, "not" | "occurredAfter" | "occurredBefore" | "receivedAfter" | "receivedBefore">;

/** Dimensions `stats` can group by. */
export const GROUP_BY = ["action", "actor", "outcome", "hour", "day"] as const;
export type GroupBy = (typeof GROUP_BY)[number];

/**
 * What the store indexes for each event, derived from the stored event only, so any store can
 * rebuild its query index from the leaves. Times are epoch milliseconds.
 */
export interface EventIndexFields {
  readonly occurredMs: number;
  readonly receivedMs: number;
  readonly action: string;
  readonly actorType: string;
  readonly actorId: string;
  readonly outcome: Outcome;
  readonly targets: readonly { readonly type: string; readonly id: string }[];
  readonly ip?: string;
  readonly requestId?: string;
  readonly sessionId?: string;
  /** Top-level metadata keys with scalar values as text (objects and arrays: key only, value undefined). */
  readonly metadata: readonly { readonly key: string; readonly value?: string }[];
  /** Searchable text: action, actor and target names and ids, email, metadata scalar values. */
  readonly text: string;
}

const MAX_INDEXED_METADATA_KEYS = 32;
const MAX_INDEXED_VALUE_LENGTH = 256;

/** An encrypted personal value is never indexed: not even its ciphertext (docs/personal-data.md). */
const plain = (value: string | undefined): string | undefined => (value === undefined || isEnvelope(value) ? undefined : value);

export function indexFieldsOf(event: AuditEvent): EventIndexFields {
  const metadata: { key: string; value?: string }[] = [];
  const words: string[] = [event.action, event.actor.id, plain(event.actor.name) ?? "", plain(event.actor.email) ?? ""];
  for (const target of event.targets) words.push(target.type, target.id, plain(target.name) ?? "");
  for (const [key, value] of Object.entries(event.metadata ?? {}).slice(0, MAX_INDEXED_METADATA_KEYS)) {
    if (value === null || typeof value === "object" || isEnvelope(value)) {
      metadata.push({ key });
      continue;
    }
    const text = String(value).slice(0, MAX_INDEXED_VALUE_LENGTH);
    metadata.push({ key, value: text });
    if (typeof value === "string") words.push(text);
  }
  const fields: EventIndexFields = {
    occurredMs: Date.parse(event.occurredAt),
    receivedMs: Date.parse(event.receivedAt),
    action: event.action,
    actorType: event.actor.type,
    actorId: event.actor.id,
    outcome: event.outcome,
    targets: event.targets.map((t) => ({ type: t.type, id: t.id })),
    ...(plain(event.context?.ip) === undefined ? {} : { ip: event.context?.ip as string }),
    ...(plain(event.context?.requestId) === undefined ? {} : { requestId: event.context?.requestId as string }),
    ...(plain(event.context?.sessionId) === undefined ? {} : { sessionId: event.context?.sessionId as string }),
    metadata,
    text: words.filter((w) => w.length > 0).join(" "),
  };
  return fields;
}
