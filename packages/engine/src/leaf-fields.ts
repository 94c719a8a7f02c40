import { type AuditEvent, type EventIndexFields, indexFieldsOf, OUTCOMES } from "@sealtrail/core";

const decoder = new TextDecoder();

const isText = (value: unknown): value is string => typeof value === "string";

/**
 * The index fields of a stored leaf, computed as the engine computes them (core `indexFieldsOf`),
 * or undefined when the leaf is not an audit event (such entries are stored, never queryable).
 * Stores use it for entries appended without fields and for backfills.
 */
export function fieldsOfLeaf(leaf: Uint8Array): EventIndexFields | undefined {
  let event: Partial<AuditEvent>;
  try {
    event = JSON.parse(decoder.decode(leaf)) as Partial<AuditEvent>;
  } catch {
    return undefined;
  }
  if (typeof event !== "object" || event === null) return undefined;
  const { action, actor, targets, outcome, occurredAt, receivedAt } = event;
  if (!isText(action) || !isText(occurredAt) || !isText(receivedAt)) return undefined;
  if (!actor || !isText(actor.type) || !isText(actor.id) || !Array.isArray(targets)) return undefined;
  if (!targets.every((t) => t && isText(t.type) && isText(t.id))) return undefined;
  if (!isText(outcome) || !(OUTCOMES as readonly string[]).includes(outcome)) return undefined;
  if (event.context !== undefined && (typeof event.context !== "object" || event.context === null)) return undefined;
  if (event.metadata !== undefined && (typeof event.metadata !== "object" || event.metadata === null)) return undefined;
  const fields = indexFieldsOf(event as AuditEvent);
  return Number.isFinite(fields.occurredMs) && Number.isFinite(fields.receivedMs) ? fields : undefined;
}
