import { utf8 } from "./bytes.js";
import { canonicalJson, type JsonValue } from "./canonical-json.js";
import { type FieldProblem, InputError, pointerChild } from "./errors.js";
import { isEnvelope } from "./personal-data.js";
import { normalizeTimestamp } from "./timestamp.js";

export type Outcome = "success" | "failure" | "denied";
export const OUTCOMES: readonly Outcome[] = ["success", "failure", "denied"];

export interface Actor {
  type: string;
  id: string;
  name?: string;
  email?: string;
}

export interface Target {
  type: string;
  id: string;
  name?: string;
}

export interface EventContext {
  ip?: string;
  userAgent?: string;
  requestId?: string;
  sessionId?: string;
  location?: string;
}

export interface EventChanges {
  before?: { [key: string]: JsonValue };
  after?: { [key: string]: JsonValue };
}

/** What an application records. The server adds `receivedAt`, and `id` when absent. */
export interface EventInput {
  id?: string;
  action: string;
  occurredAt: string;
  actor: Actor;
  targets?: Target[];
  outcome?: Outcome;
  context?: EventContext;
  changes?: EventChanges;
  metadata?: { [key: string]: JsonValue };
  version?: 1;
}

/** An event as stored and hashed (DESIGN §3): the leaf is its canonical JSON. */
export interface AuditEvent {
  id: string;
  action: string;
  occurredAt: string;
  actor: Actor;
  targets: Target[];
  outcome: Outcome;
  context?: EventContext;
  changes?: EventChanges;
  metadata?: { [key: string]: JsonValue };
  receivedAt: string;
  version: 1;
}

/** A validated event still missing what the server assigns. */
export type EventDraft = Omit<AuditEvent, "id" | "receivedAt"> & { id?: string };

/** The C2SP entry bundle stores a 16-bit length per entry, so a leaf is at most 65,535 bytes. */
export const MAX_LEAF_BYTES = 65_535;
export const MAX_TARGETS = 64;

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const ACTION_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/;
const TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
// With the u flag a valid pair is one code point, so \p{Cs} matches lone surrogates only.
const LONE_SURROGATE = /\p{Cs}/u;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+$/;

const ACTOR_KEYS = ["type", "id", "name", "email"] as const;
const TARGET_KEYS = ["type", "id", "name"] as const;
const CONTEXT_KEYS = ["ip", "userAgent", "requestId", "sessionId", "location"] as const;
const EVENT_KEYS = [
  "id",
  "action",
  "occurredAt",
  "actor",
  "targets",
  "outcome",
  "context",
  "changes",
  "metadata",
  "receivedAt",
  "version",
] as const;

class Collector {
  readonly problems: FieldProblem[] = [];
  add(pointer: string, detail: string): void {
    this.problems.push({ pointer, detail });
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkKeys(value: Record<string, unknown>, allowed: readonly string[], pointer: string, out: Collector): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) out.add(pointerChild(pointer, key), `unknown field; allowed: ${allowed.join(", ")}`);
  }
}

function checkString(
  value: unknown,
  pointer: string,
  out: Collector,
  rule: { required?: boolean; max: number; pattern?: RegExp; patternText?: string; envelope?: boolean },
): string | undefined {
  if (value === undefined) {
    if (rule.required) out.add(pointer, "is required");
    return undefined;
  }
  if (typeof value !== "string") {
    out.add(pointer, `must be a string, got ${describe(value)}`);
    return undefined;
  }
  if (value.length === 0) {
    out.add(pointer, "must not be empty");
    return undefined;
  }
  // A personal value as stored: encrypted (docs/personal-data.md). Its plaintext was checked before.
  if (rule.envelope && isEnvelope(value)) return value;
  if (value.length > rule.max) {
    out.add(pointer, `must be at most ${rule.max} characters, got ${value.length}`);
    return undefined;
  }
  if (LONE_SURROGATE.test(value)) {
    out.add(pointer, "contains a lone surrogate");
    return undefined;
  }
  if (rule.pattern && !rule.pattern.test(value)) {
    out.add(pointer, rule.patternText ?? "has an invalid format");
    return undefined;
  }
  return value;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function isIPv4(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

function isIPv6(text: string): boolean {
  let body = text;
  const zone = body.indexOf("%");
  if (zone >= 0) body = body.slice(0, zone);
  let groupsNeeded = 8;
  const lastColon = body.lastIndexOf(":");
  if (body.includes(".")) {
    if (!isIPv4(body.slice(lastColon + 1))) return false;
    body = `${body.slice(0, lastColon + 1)}0:0`;
  }
  const halves = body.split("::");
  if (halves.length > 2) return false;
  const groups = halves.map((h) => (h === "" ? [] : h.split(":")));
  if (groups.some((g) => g.some((part) => !/^[0-9a-fA-F]{1,4}$/.test(part)))) return false;
  const count = groups.reduce((n, g) => n + g.length, 0);
  groupsNeeded = 8;
  return halves.length === 2 ? count < groupsNeeded : count === groupsNeeded;
}

/** True for a textual IPv4 or IPv6 address (RFC 4291 §2.2, zone ids allowed). */
export function isIpAddress(text: string): boolean {
  return isIPv4(text) || isIPv6(text);
}

/** A Date, Map or class instance passes isPlainObject but has no JSON form (canonicalJson refuses it). */
function isJsonPrototype(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function checkJsonObject(value: unknown, pointer: string, out: Collector): { [key: string]: JsonValue } | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) {
    out.add(pointer, `must be an object, got ${describe(value)}`);
    return undefined;
  }
  const walk = (v: unknown, p: string, depth: number): void => {
    if (depth > 16) {
      out.add(p, "is nested more than 16 levels deep");
      return;
    }
    if (typeof v === "number" && !Number.isFinite(v)) out.add(p, "must be a finite number");
    if (typeof v === "string" && LONE_SURROGATE.test(v)) out.add(p, "contains a lone surrogate");
    if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) walk(item, pointerChild(p, i), depth + 1);
    } else if (isPlainObject(v) && isJsonPrototype(v)) {
      for (const [k, item] of Object.entries(v)) {
        if (LONE_SURROGATE.test(k)) out.add(pointerChild(p, k), "has a key with a lone surrogate");
        walk(item, pointerChild(p, k), depth + 1);
      }
    } else if (v !== null && !["string", "number", "boolean"].includes(typeof v)) out.add(p, "must be JSON");
  };
  walk(value, pointer, 0);
  return value as { [key: string]: JsonValue };
}

/**
 * Validates an event as an application sent it. Every problem is reported with its JSON pointer
 * (prefixed by `pointer`, e.g. `/events/3`), so a client can fix all of them in one round trip.
 */
export function validateEvent(input: unknown, pointer = ""): EventDraft {
  const out = new Collector();
  const draft = collectEvent(input, pointer, out);
  if (out.problems.length > 0 || !draft) {
    throw new InputError("invalid_event", describeProblems(out.problems), { problems: out.problems });
  }
  return draft;
}

function describeProblems(problems: readonly FieldProblem[]): string {
  const first = problems[0];
  if (!first) return "invalid event";
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
  return `${first.pointer || "/"} ${first.detail}${more}`;
}

function collectEvent(input: unknown, base: string, out: Collector): EventDraft | undefined {
  if (!isPlainObject(input)) {
    out.add(base, `an event must be a JSON object, got ${describe(input)}`);
    return undefined;
  }
  const at = (key: string) => pointerChild(base, key);
  checkKeys(input, EVENT_KEYS, base, out);
  if (input.receivedAt !== undefined) out.add(at("receivedAt"), "is set by the server and must not be sent");
  if (input.version !== undefined && input.version !== 1) out.add(at("version"), "must be 1");

  const id = checkString(input.id, at("id"), out, {
    max: 128,
    pattern: ID_PATTERN,
    patternText: "must be 1-128 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-' (a ULID or UUID fits)",
  });
  const action = checkString(input.action, at("action"), out, {
    required: true,
    max: 128,
    pattern: ACTION_PATTERN,
    patternText: "must be dot-separated segments of letters, digits, '_' or '-', like document.shared",
  });
  let occurredAt: string | undefined;
  const occurredText = checkString(input.occurredAt, at("occurredAt"), out, { required: true, max: 64 });
  if (occurredText !== undefined) {
    occurredAt = normalizeTimestamp(occurredText);
    if (!occurredAt) out.add(at("occurredAt"), "must be an RFC 3339 timestamp like 2026-11-27T12:00:00.000Z");
  }

  const actor = collectParty(input.actor, at("actor"), out, ACTOR_KEYS, true) as Actor | undefined;

  let targets: Target[] = [];
  if (input.targets !== undefined) {
    if (!Array.isArray(input.targets)) out.add(at("targets"), `must be an array, got ${describe(input.targets)}`);
    else if (input.targets.length > MAX_TARGETS) out.add(at("targets"), `must have at most ${MAX_TARGETS} items`);
    else targets = input.targets.map((t, i) => collectParty(t, pointerChild(at("targets"), i), out, TARGET_KEYS, false) as Target);
  }

  let outcome: Outcome = "success";
  if (input.outcome !== undefined) {
    if (typeof input.outcome === "string" && (OUTCOMES as readonly string[]).includes(input.outcome)) outcome = input.outcome as Outcome;
    else out.add(at("outcome"), `must be one of ${OUTCOMES.join(", ")}`);
  }

  let context: EventContext | undefined;
  if (input.context !== undefined) {
    if (!isPlainObject(input.context)) out.add(at("context"), `must be an object, got ${describe(input.context)}`);
    else {
      const c = input.context;
      const cp = at("context");
      checkKeys(c, CONTEXT_KEYS, cp, out);
      const ip = checkString(c.ip, pointerChild(cp, "ip"), out, { max: 64, envelope: true });
      if (ip !== undefined && !isEnvelope(ip) && !isIpAddress(ip)) out.add(pointerChild(cp, "ip"), "must be an IPv4 or IPv6 address");
      const userAgent = checkString(c.userAgent, pointerChild(cp, "userAgent"), out, { max: 1024, envelope: true });
      const requestId = checkString(c.requestId, pointerChild(cp, "requestId"), out, { max: 256, envelope: true });
      const sessionId = checkString(c.sessionId, pointerChild(cp, "sessionId"), out, { max: 256, envelope: true });
      const location = checkString(c.location, pointerChild(cp, "location"), out, { max: 256, envelope: true });
      // Keys added in code-unit order, as the leaf writes them (canonicalJson then copies nothing).
      context = {};
      if (ip !== undefined) context.ip = ip;
      if (location !== undefined) context.location = location;
      if (requestId !== undefined) context.requestId = requestId;
      if (sessionId !== undefined) context.sessionId = sessionId;
      if (userAgent !== undefined) context.userAgent = userAgent;
    }
  }

  let changes: EventChanges | undefined;
  if (input.changes !== undefined) {
    if (!isPlainObject(input.changes)) out.add(at("changes"), `must be an object, got ${describe(input.changes)}`);
    else {
      checkKeys(input.changes, ["before", "after"], at("changes"), out);
      changes = {};
      const before = checkJsonObject(input.changes.before, pointerChild(at("changes"), "before"), out);
      const after = checkJsonObject(input.changes.after, pointerChild(at("changes"), "after"), out);
      if (after) changes.after = after;
      if (before) changes.before = before;
    }
  }
  const metadata = checkJsonObject(input.metadata, at("metadata"), out);

  if (!action || !occurredAt || !actor) return undefined;
  const draft: EventDraft = { action, occurredAt, actor, targets, outcome, version: 1 };
  if (id !== undefined) draft.id = id;
  if (context) draft.context = context;
  if (changes) draft.changes = changes;
  if (metadata) draft.metadata = metadata;
  return draft;
}

function collectParty(
  value: unknown,
  pointer: string,
  out: Collector,
  keys: readonly string[],
  isActor: boolean,
): Actor | Target | undefined {
  if (value === undefined) {
    if (isActor) out.add(pointer, "is required");
    return undefined;
  }
  if (!isPlainObject(value)) {
    out.add(pointer, `must be an object, got ${describe(value)}`);
    return undefined;
  }
  checkKeys(value, keys, pointer, out);
  const type = checkString(value.type, pointerChild(pointer, "type"), out, {
    required: true,
    max: 64,
    pattern: TYPE_PATTERN,
    patternText: "must be 1-64 characters of letters, digits, '_', '.', ':' or '-'",
  });
  const id = checkString(value.id, pointerChild(pointer, "id"), out, { required: true, max: 256 });
  const name = checkString(value.name, pointerChild(pointer, "name"), out, { max: 256, envelope: true });
  const email = isActor
    ? checkString(value.email, pointerChild(pointer, "email"), out, {
        max: 320,
        envelope: true,
        pattern: EMAIL_PATTERN,
        patternText: "must be an email address",
      })
    : undefined;
  // Keys in code-unit order, as the leaf writes them.
  const party = (email === undefined ? {} : { email }) as Actor;
  party.id = id ?? "";
  if (name !== undefined) party.name = name;
  party.type = type ?? "";
  return party;
}

/**
 * Completes a draft with its id and receive time and returns the stored event with its leaf bytes
 * (DESIGN §3: UTF-8 of the RFC 8785 canonical JSON). Refuses leaves over 65,535 bytes.
 */
export function sealEvent(
  draft: EventDraft,
  assigned: { id: string; receivedAt: string },
  pointer = "",
): { event: AuditEvent; leaf: Uint8Array } {
  // Members added in code-unit order, so that canonicalJson's native fast path copies no object.
  const event = { action: draft.action, actor: draft.actor } as AuditEvent;
  if (draft.changes !== undefined) event.changes = draft.changes;
  if (draft.context !== undefined) event.context = draft.context;
  event.id = draft.id ?? assigned.id;
  if (draft.metadata !== undefined) event.metadata = draft.metadata;
  event.occurredAt = draft.occurredAt;
  event.outcome = draft.outcome;
  event.receivedAt = assigned.receivedAt;
  event.targets = draft.targets;
  event.version = 1;
  const leaf = utf8(canonicalJson(event));
  if (leaf.length > MAX_LEAF_BYTES) {
    throw new InputError("event_too_large", `the event encodes to ${leaf.length} bytes; the limit is ${MAX_LEAF_BYTES}`, {
      problems: [{ pointer, detail: `encodes to ${leaf.length} bytes, over the ${MAX_LEAF_BYTES}-byte limit` }],
    });
  }
  return { event, leaf };
}

/** The canonical form of what the client supplied, used to tell an idempotent retry from a conflicting reuse of an id. */
export function draftFingerprint(event: AuditEvent | EventDraft): string {
  const { receivedAt: _ignored, ...rest } = event as AuditEvent;
  return canonicalJson(rest);
}
