import {
  type AuditEvent,
  type EventDraft,
  type EventIndexFields,
  type GroupBy,
  hashLeaf,
  indexFieldsOf,
  matchesFilter,
  type QueryFilter,
  sealEvent,
  searchTokens,
} from "@sealtrail/core";
import type { AppendedEntry, GroupCount, LogAppend } from "@sealtrail/engine";

/** Deterministic randomness, so a failing random case can be replayed from its seed. */
export { seededRandom as random } from "@sealtrail/core";

export type Rng = () => number;

export const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;
/** Skewed pick: low indexes far more often (a few hot actors, many cold ones). */
export const pickSkewed = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() ** 3 * items.length)] as T;

export const RESOURCES = ["document", "user", "project", "billing", "apikey"] as const;
export const VERBS = ["created", "updated", "deleted", "shared", "viewed"] as const;
export const ACTOR_TYPES = ["user", "service", "apikey"] as const;
export const TARGET_TYPES = ["document", "project", "user", "folder"] as const;
/** Names with non-ASCII letters, so text search is exercised beyond ASCII. */
export const NAMES = [
  "Ada Lovelace",
  "Zoë Quinn",
  "Zoe\u0301 Combining",
  "Łukasz Nowak",
  "Grace Hopper",
  "Ümit Öz",
  "Søren Kierkegaard",
  "Alan Turing",
] as const;
export const WORDS = ["quarterly", "report", "alpha", "beta", "roadmap", "invoice", "secret", "draft", "final"] as const;

/** An event as an application would send it, varied over every indexed field. */
export function randomDraft(rng: Rng, occurredMs: number): EventDraft {
  const actorN = Math.floor(rng() ** 3 * 40);
  const actor: AuditEvent["actor"] = { type: pick(rng, ACTOR_TYPES), id: `u_${actorN}` };
  if (rng() < 0.7) actor.name = NAMES[actorN % NAMES.length] as string;
  if (rng() < 0.3) actor.email = `u${actorN}@example.com`;
  const targets: AuditEvent["targets"] = [];
  const n = Math.floor(rng() * 3.5);
  for (let i = 0; i < n; i++) {
    const type = pick(rng, TARGET_TYPES);
    const target: AuditEvent["targets"][number] = { type, id: `${type.slice(0, 3)}_${Math.floor(rng() ** 2 * 30)}` };
    if (rng() < 0.5) target.name = `${pick(rng, WORDS)} ${pick(rng, WORDS)}`;
    targets.push(target);
  }
  const r = rng();
  const draft: EventDraft = {
    action: `${pickSkewed(rng, RESOURCES)}.${pick(rng, VERBS)}`,
    occurredAt: new Date(occurredMs).toISOString(),
    actor,
    targets,
    outcome: r < 0.8 ? "success" : r < 0.93 ? "failure" : "denied",
    version: 1,
  };
  const context: NonNullable<AuditEvent["context"]> = {};
  if (rng() < 0.6) context.ip = `203.0.113.${Math.floor(rng() ** 2 * 20)}`;
  if (rng() < 0.5) context.requestId = `req_${Math.floor(rng() * 400)}`;
  if (rng() < 0.5) context.sessionId = `sess_${Math.floor(rng() * 60)}`;
  if (Object.keys(context).length > 0) draft.context = context;
  const metadata: NonNullable<AuditEvent["metadata"]> = {};
  if (rng() < 0.4) metadata.plan = pick(rng, ["free", "pro", "enterprise"]);
  if (rng() < 0.2) metadata.beta = rng() < 0.5;
  if (rng() < 0.3) metadata.region = pick(rng, ["eu", "us", "ap"]);
  if (rng() < 0.2) metadata.tags = [pick(rng, WORDS)];
  if (rng() < 0.2) metadata.note = `${pick(rng, WORDS)} ${pick(rng, WORDS)} ${pick(rng, WORDS)}`;
  if (rng() < 0.1) metadata.size = Math.floor(rng() * 5);
  if (Object.keys(metadata).length > 0) draft.metadata = metadata;
  return draft;
}

/** One generated event as the store holds it, with the log and index it was appended at. */
export interface GeneratedEvent {
  readonly log: string;
  readonly index: number;
  readonly event: AuditEvent;
  readonly leaf: Uint8Array;
  readonly fields: EventIndexFields;
}

/**
 * Appends as the engine would: sealed events with their index fields, a level-0 hash per entry.
 * Returns one LogAppend per log (a store takes them in one transaction).
 */
export function eventBatches(
  items: readonly { log: string; startIndex: number; drafts: readonly EventDraft[]; receivedAt: string; idPrefix?: string }[],
): { batches: LogAppend[]; events: GeneratedEvent[] } {
  const batches: LogAppend[] = [];
  const events: GeneratedEvent[] = [];
  for (const { log, startIndex, drafts, receivedAt, idPrefix } of items) {
    const entries: AppendedEntry[] = drafts.map((draft, i) => {
      const index = startIndex + i;
      const { event, leaf } = sealEvent(draft, { id: `${idPrefix ?? log}-${index}`, receivedAt });
      const fields = indexFieldsOf(event);
      events.push({ log, index, event, leaf, fields });
      return { index, id: event.id, leaf, fields };
    });
    batches.push({ log, startIndex, entries, hashes: entries.map((e) => ({ level: 0, index: e.index, hash: hashLeaf(e.leaf) })) });
  }
  return { batches, events };
}

/** The logs of the oracle tests: acme is ten times the others. */
export const ORACLE_LOGS: readonly string[] = ["acme", "globex", "initech", "umbrella", "hooli", "stark"];
/** The first `receivedAt` of the oracle data (2026-11-01). */
export const ORACLE_START = Date.UTC(2026, 10, 1);

export interface OracleData {
  readonly events: GeneratedEvent[];
  readonly sizes: Map<string, number>;
}

/**
 * Appends `rounds` commits to a store, each with random events for several of ORACLE_LOGS, and
 * returns (or extends) what was written, for comparing a store's answers with `matchesFilter`.
 */
export async function seedOracle(
  store: { append(batches: readonly LogAppend[]): Promise<void> },
  rng: Rng,
  rounds: number,
  state: OracleData = { events: [], sizes: new Map() },
): Promise<OracleData> {
  for (let round = 0; round < rounds; round++) {
    const received = ORACLE_START + state.events.length * 1000;
    const items = ORACLE_LOGS.filter((log) => log === "acme" || rng() < 0.5).map((log) => {
      const n = 1 + Math.floor(rng() * (log === "acme" ? 60 : 8));
      const drafts: EventDraft[] = Array.from({ length: n }, () => randomDraft(rng, received - Math.floor(rng() ** 3 * 20 * 86_400_000)));
      const startIndex = state.sizes.get(log) ?? 0;
      state.sizes.set(log, startIndex + n);
      return { log, startIndex, drafts, receivedAt: new Date(received).toISOString() };
    });
    const { batches, events } = eventBatches(items);
    await store.append(batches);
    state.events.push(...events);
  }
  return state;
}

/**
 * The reference semantics of a filter: core's `matchesFilter`, which the live tail uses too. A
 * store's query results must equal it, event for event.
 */
export function referenceMatch(event: AuditEvent, filter: QueryFilter): boolean {
  return matchesFilter(event, filter);
}

const HOUR_MS = 3_600_000;

/** Reference groups: largest first (then key), time buckets the newest `limit` in chronological order. */
export function referenceGroups(fields: readonly EventIndexFields[], groupBy: GroupBy, limit: number): GroupCount[] {
  const counts = new Map<string, number>();
  for (const f of fields) {
    const key =
      groupBy === "action"
        ? f.action
        : groupBy === "actor"
          ? f.actorId
          : groupBy === "outcome"
            ? f.outcome
            : new Date(
                Math.floor(f.occurredMs / (groupBy === "hour" ? HOUR_MS : 24 * HOUR_MS)) * (groupBy === "hour" ? HOUR_MS : 24 * HOUR_MS),
              )
                .toISOString()
                .slice(0, groupBy === "hour" ? 13 : 10);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const groups = [...counts].map(([key, count]) => ({ key, count }));
  const byKey = (a: GroupCount, b: GroupCount): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  if (groupBy === "hour" || groupBy === "day") return groups.sort(byKey).slice(Math.max(0, groups.length - limit));
  return groups.sort((a, b) => b.count - a.count || byKey(a, b)).slice(0, limit);
}

/** A random filter built from values that occur in `events` (and some that do not). */
export function randomFilter(rng: Rng, events: readonly GeneratedEvent[]): QueryFilter {
  const some = (): GeneratedEvent => pick(rng, events);
  const filter: QueryFilter = {};
  const conditionsWanted = 1 + Math.floor(rng() * 3);
  for (let i = 0; i < conditionsWanted; i++) {
    const f = some().fields;
    const e = some().event;
    switch (Math.floor(rng() * 16)) {
      case 0:
        filter.actor = [f.actorId, ...(rng() < 0.3 ? [some().fields.actorId] : [])];
        break;
      case 1:
        filter.actorType = [f.actorType];
        break;
      case 2:
        filter.action = [f.action, ...(rng() < 0.3 ? ["nothing.matches"] : [])];
        break;
      case 3:
        filter.actionPrefix = [`${f.action.split(".")[0]}.`];
        break;
      case 4: {
        const t = e.targets[0];
        if (t) filter.target = [rng() < 0.5 ? { type: t.type, id: t.id } : rng() < 0.5 ? { type: t.type } : { id: t.id }];
        break;
      }
      case 5:
        filter.outcome = [pick(rng, ["success", "failure", "denied"] as const)];
        break;
      case 6:
        if (f.ip) filter.ip = [f.ip];
        break;
      case 7:
        if (f.requestId) filter.requestId = [f.requestId];
        break;
      case 8:
        if (f.sessionId) filter.sessionId = [f.sessionId];
        break;
      case 9: {
        const m = f.metadata[0];
        if (m) filter.metadata = [rng() < 0.5 || m.value === undefined ? { key: m.key } : { key: m.key, value: m.value }];
        break;
      }
      case 10: {
        const w = searchTokens(f.text);
        const start = Math.floor(rng() * w.length);
        filter.text = [w.slice(start, start + 1 + Math.floor(rng() * 2)).join(" ")];
        break;
      }
      case 11:
      case 12: {
        const a = some().fields.occurredMs;
        const b = some().fields.occurredMs;
        filter.occurredAfter = new Date(Math.min(a, b)).toISOString();
        if (rng() < 0.7) filter.occurredBefore = new Date(Math.max(a, b) + 1).toISOString();
        break;
      }
      case 13:
        filter.receivedAfter = new Date(f.receivedMs).toISOString();
        break;
      case 14:
        filter.not = rng() < 0.5 ? { outcome: ["success"] } : { actionPrefix: [`${f.action.split(".")[0]}.`] };
        break;
      default:
        filter.target = [{ type: pick(rng, ["document", "project"]) }, ...(rng() < 0.5 ? [{ type: "user", id: "use_1" }] : [])];
    }
  }
  return filter;
}
