import { fromBase64, toBase64url, utf8 } from "./bytes.js";
import type { JsonValue } from "./canonical-json.js";
import { ConfigError, InputError, pointerChild } from "./errors.js";
import type { EventDraft } from "./event.js";

/**
 * Crypto-shredding (DESIGN §7), the pure part: the envelope that stands in the event for an
 * encrypted personal value, and the policy that says which values are personal and whose they
 * are. The cipher itself (AES-256-GCM) and the key store live at the edge (`@sealtrail/privacy`);
 * the leaf commits to the envelope, so destroying the key leaves every proof intact.
 * Format and rationale: docs/personal-data.md.
 */

/** What every read path shows in place of a value whose key was destroyed. */
export const ERASED = "[erased]";
/** Shown for an envelope whose key exists but which does not authenticate (altered or foreign). */
export const UNREADABLE = "[unreadable]";

/** `sealtrail-enc:1:<kid>:<iv>:<ciphertext>`; iv and ciphertext are unpadded base64url. */
export const ENVELOPE_PREFIX = "sealtrail-enc:1:";
const KID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
const B64URL_PATTERN = /^[A-Za-z0-9_-]+$/;
/** An envelope of the largest value an event can hold still fits the 64 KiB leaf; this bounds parsing. */
const MAX_ENVELOPE_LENGTH = 90_000;
export const ENVELOPE_IV_BYTES = 12;
export const ENVELOPE_TAG_BYTES = 16;

export interface Envelope {
  /** Id of the data key in the key store (random: it names no one). */
  readonly kid: string;
  readonly iv: Uint8Array;
  /** AES-256-GCM ciphertext followed by its 16-byte tag. */
  readonly ciphertext: Uint8Array;
  /** Additional authenticated data: the envelope's header, so kid and version cannot be swapped. */
  readonly aad: Uint8Array;
}

const B64URL_VALUE = new Int8Array(128).fill(-1);
for (const [i, c] of [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"].entries()) B64URL_VALUE[c.charCodeAt(0)] = i;

/**
 * How many bytes `text` decodes to as canonical unpadded base64url (the only encoding `toBase64url`
 * gives for them), or -1: a length of 1 mod 4, a foreign character, or non-zero unused bits in the
 * last character are all refused, without decoding.
 */
function canonicalBase64urlBytes(text: string, from: number, to: number): number {
  const length = to - from;
  if (length === 0 || length % 4 === 1) return -1;
  let last = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    last = c < 128 ? (B64URL_VALUE[c] as number) : -1;
    if (last < 0) return -1;
  }
  const unusedBits = length % 4 === 2 ? 0b1111 : length % 4 === 3 ? 0b11 : 0;
  if ((last & unusedBits) !== 0) return -1;
  return Math.floor((length * 3) / 4);
}

function fromBase64url(text: string): Uint8Array {
  const standard = text.replaceAll("-", "+").replaceAll("_", "/");
  return fromBase64(standard + "=".repeat((4 - (standard.length % 4)) % 4));
}

/** The AAD of an envelope under `kid`: its header text, UTF-8. */
export function envelopeAad(kid: string): Uint8Array {
  return utf8(`${ENVELOPE_PREFIX}${kid}`);
}

export function formatEnvelope(envelope: { kid: string; iv: Uint8Array; ciphertext: Uint8Array }): string {
  if (!KID_PATTERN.test(envelope.kid)) throw new InputError("invalid_envelope", "envelope key id must be 8-64 base64url characters");
  return `${ENVELOPE_PREFIX}${envelope.kid}:${toBase64url(envelope.iv)}:${toBase64url(envelope.ciphertext)}`;
}

/** Parses an envelope string, or returns undefined when `text` is not a well-formed envelope. */
export function parseEnvelope(text: string): Envelope | undefined {
  if (!text.startsWith(ENVELOPE_PREFIX) || text.length > MAX_ENVELOPE_LENGTH) return undefined;
  const parts = text.slice(ENVELOPE_PREFIX.length).split(":");
  if (parts.length !== 3) return undefined;
  const [kid, iv, ct] = parts as [string, string, string];
  if (!KID_PATTERN.test(kid) || !B64URL_PATTERN.test(iv) || !B64URL_PATTERN.test(ct)) return undefined;
  try {
    const ivBytes = fromBase64url(iv);
    const ciphertext = fromBase64url(ct);
    // Exactly one encoding per byte string: a re-encoding must give back the text.
    if (toBase64url(ivBytes) !== iv || toBase64url(ciphertext) !== ct) return undefined;
    if (ivBytes.length !== ENVELOPE_IV_BYTES || ciphertext.length < ENVELOPE_TAG_BYTES) return undefined;
    return { kid, iv: ivBytes, ciphertext, aad: envelopeAad(kid) };
  } catch {
    return undefined;
  }
}

/**
 * Whether `value` is an envelope `parseEnvelope` accepts, checked in place: the index and the
 * validator ask this of every string value they see, and most are not envelopes.
 */
export function isEnvelope(value: unknown): value is string {
  if (typeof value !== "string" || !value.startsWith(ENVELOPE_PREFIX) || value.length > MAX_ENVELOPE_LENGTH) return false;
  const kidEnd = value.indexOf(":", ENVELOPE_PREFIX.length);
  const ivEnd = kidEnd < 0 ? -1 : value.indexOf(":", kidEnd + 1);
  if (ivEnd < 0 || value.indexOf(":", ivEnd + 1) >= 0) return false;
  return (
    KID_PATTERN.test(value.slice(ENVELOPE_PREFIX.length, kidEnd)) &&
    canonicalBase64urlBytes(value, kidEnd + 1, ivEnd) === ENVELOPE_IV_BYTES &&
    canonicalBase64urlBytes(value, ivEnd + 1, value.length) >= ENVELOPE_TAG_BYTES
  );
}

/**
 * Which values are personal and whose they are: the plain shape configuration files and typed
 * event catalogs compile to.
 *
 * Personal paths: `actor.name`, `actor.email`, `context.<ip|userAgent|location|requestId|sessionId>`,
 * `targets.name` (every target's name), `targets[<type>].name` (names of targets of that type,
 * whose own id is then their subject: such a target is a person), `metadata.<key>[.<key>…]` and
 * `changes.<before|after>.<key>[.<key>…]` (any JSON value there).
 * Subject paths: `actor.id`, `targets[<type>].id` (the first such target), `context.sessionId`,
 * `metadata.<key>[.<key>…]` (a string).
 */
export interface PersonalDataConfig {
  /** Whose values these are (default `actor.id`). */
  readonly subject?: string;
  /** Personal paths added to the defaults. */
  readonly personal?: readonly string[];
  /** Start from DEFAULT_PERSONAL_PATHS (default true); false to, e.g., keep `context.ip` searchable. */
  readonly defaults?: boolean;
  /** Per action (exact name): more personal paths and/or another subject. */
  readonly actions?: Readonly<Record<string, PersonalDataOverride>>;
}

/** One action's override: personal paths added to the log-wide ones, and/or another subject path. */
export interface PersonalDataOverride {
  readonly subject?: string;
  readonly personal?: readonly string[];
}

/**
 * `config` with the per-action overrides of an event catalog layered on: the catalog knows its
 * actions' payloads, so its override replaces the configuration's for the same action.
 */
export function withActionOverrides(
  config: PersonalDataConfig | undefined,
  actions: Readonly<Record<string, PersonalDataOverride>> | undefined,
): PersonalDataConfig {
  if (!actions || Object.keys(actions).length === 0) return config ?? {};
  return { ...config, actions: { ...config?.actions, ...actions } };
}

export const DEFAULT_PERSONAL_PATHS: readonly string[] = ["actor.name", "actor.email", "context.ip", "context.userAgent"];
export const DEFAULT_SUBJECT_PATH = "actor.id";

/** A value found personal in an event: where it is (JSON pointer tokens), its subject, the value. */
export interface PersonalValue {
  readonly path: readonly (string | number)[];
  readonly subject: string;
  readonly value: JsonValue;
}

type Locator = (
  event: EventDraft,
  subject: string | undefined,
) => { path: (string | number)[]; subject: string | undefined; value: JsonValue }[];
type SubjectReader = (event: EventDraft) => string | undefined;

export interface PersonalDataPolicy {
  /** Every personal value of an event; throws InputError when a value has no subject to key it. */
  locate(event: EventDraft, pointer?: string): PersonalValue[];
}

const CONTEXT_FIELDS = ["ip", "userAgent", "location", "requestId", "sessionId"];
const TYPED_TARGET = /^targets\[([A-Za-z0-9][A-Za-z0-9_.:-]{0,63})\]\.(name|id)$/;
const KEY_PATH = /^(metadata|changes\.before|changes\.after)((?:\.[^.]+)+)$/;

function configError(detail: string): ConfigError {
  return new ConfigError("invalid_personal_data_config", `personal data configuration: ${detail}`);
}

function jsonAt(root: unknown, keys: readonly string[]): JsonValue | undefined {
  let node: unknown = root;
  for (const key of keys) {
    if (typeof node !== "object" || node === null || Array.isArray(node) || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node as JsonValue | undefined;
}

function compileLocator(path: string): Locator {
  const [head, field] = path.split(".");
  if (path === "actor.name" || path === "actor.email") {
    const key = field as "name" | "email";
    return (e, s) => (e.actor[key] === undefined ? [] : [{ path: ["actor", key], subject: s, value: e.actor[key] as string }]);
  }
  if (head === "context" && field !== undefined && CONTEXT_FIELDS.includes(field) && path === `context.${field}`) {
    const key = field as keyof NonNullable<EventDraft["context"]>;
    return (e, s) => {
      const value = e.context?.[key];
      return value === undefined ? [] : [{ path: ["context", key], subject: s, value }];
    };
  }
  if (path === "targets.name") {
    return (e, s) =>
      e.targets.flatMap((t, i) => (t.name === undefined ? [] : [{ path: ["targets", i, "name"], subject: s, value: t.name }]));
  }
  const typed = TYPED_TARGET.exec(path);
  if (typed?.[2] === "name") {
    const type = typed[1];
    return (e) =>
      e.targets.flatMap((t, i) =>
        t.type !== type || t.name === undefined ? [] : [{ path: ["targets", i, "name"], subject: t.id, value: t.name }],
      );
  }
  const keyed = KEY_PATH.exec(path);
  if (keyed) {
    const base = (keyed[1] as string).split(".");
    const keys = (keyed[2] as string).slice(1).split(".");
    return (e, s) => {
      const value = jsonAt(e, [...base, ...keys]);
      return value === undefined ? [] : [{ path: [...base, ...keys], subject: s, value }];
    };
  }
  throw configError(`${JSON.stringify(path)} is not a personal path (see docs/personal-data.md)`);
}

function compileSubject(path: string): SubjectReader {
  if (path === "actor.id") return (e) => e.actor.id;
  if (path === "context.sessionId") return (e) => e.context?.sessionId;
  const typed = TYPED_TARGET.exec(path);
  if (typed?.[2] === "id") {
    const type = typed[1];
    return (e) => e.targets.find((t) => t.type === type)?.id;
  }
  const keyed = KEY_PATH.exec(path);
  if (keyed?.[1] === "metadata") {
    const keys = (keyed[2] as string).slice(1).split(".");
    return (e) => {
      const value = jsonAt(e.metadata, keys);
      return typeof value === "string" && value.length > 0 ? value : undefined;
    };
  }
  throw configError(`${JSON.stringify(path)} cannot name a data subject (see docs/personal-data.md)`);
}

/** Compiles a configuration once, refusing unknown paths (ConfigError `invalid_personal_data_config`). */
export function compilePersonalData(config: PersonalDataConfig = {}): PersonalDataPolicy {
  const base = [...(config.defaults === false ? [] : DEFAULT_PERSONAL_PATHS), ...(config.personal ?? [])];
  const subjectOf = compileSubject(config.subject ?? DEFAULT_SUBJECT_PATH);
  const locators = [...new Set(base)].map(compileLocator);
  const perAction = new Map<string, { subjectOf: SubjectReader; locators: Locator[] }>();
  for (const [action, override] of Object.entries(config.actions ?? {})) {
    perAction.set(action, {
      subjectOf: override.subject === undefined ? subjectOf : compileSubject(override.subject),
      locators: [...locators, ...[...new Set(override.personal ?? [])].map(compileLocator)],
    });
  }
  return {
    locate(event, pointer = "") {
      const rule = perAction.get(event.action) ?? { subjectOf, locators };
      const subject = rule.subjectOf(event);
      const found = new Map<string, PersonalValue>();
      for (const locate of rule.locators) {
        for (const item of locate(event, subject)) {
          // Already an envelope (a stored event replayed): it stays as it is.
          if (isEnvelope(item.value)) continue;
          const at = item.path.reduce<string>((p, token) => pointerChild(p, token), pointer);
          if (item.subject === undefined) {
            throw new InputError("personal_data_without_subject", `${at} is personal data but the event names no data subject`, {
              problems: [{ pointer: at, detail: "is personal data, but the event has no data subject to encrypt it for" }],
            });
          }
          found.set(at, { path: item.path, subject: item.subject, value: item.value });
        }
      }
      return [...found.values()];
    },
  };
}

/**
 * A copy of `event` with the values at `path` replaced (the paths `locate` returned). Only the
 * objects and arrays on a replaced path are copied; the rest is shared with `event`, which is left
 * as it was (a deep clone per event was a fifth of the HTTP ingest thread's copying and GC).
 */
export function replaceValues<T extends object>(
  event: T,
  replacements: readonly { path: readonly (string | number)[]; value: JsonValue }[],
): T {
  type Node = Record<string | number, unknown>;
  const copied = new Set<unknown>();
  const copyOf = (node: unknown): Node => {
    const copy = (Array.isArray(node) ? [...node] : { ...(node as object) }) as Node;
    copied.add(copy);
    return copy;
  };
  const root = copyOf(event);
  for (const { path, value } of replacements) {
    let node = root;
    for (let i = 0; i < path.length - 1; i++) {
      const token = path[i] as string | number;
      const child = node[token];
      if (!copied.has(child)) node[token] = copyOf(child);
      node = node[token] as Node;
    }
    node[path[path.length - 1] as string | number] = value;
  }
  return root as T;
}

/** Every envelope string anywhere in an event (personal values can sit deep in metadata). */
export function collectEnvelopes(event: unknown): string[] {
  const out: string[] = [];
  const walk = (node: unknown): void => {
    if (typeof node === "string") {
      if (node.startsWith(ENVELOPE_PREFIX) && isEnvelope(node)) out.push(node);
    } else if (Array.isArray(node)) for (const item of node) walk(item);
    else if (typeof node === "object" && node !== null) for (const item of Object.values(node)) walk(item);
  };
  walk(event);
  return out;
}

/** A copy of `event` with each envelope replaced by what `opened` maps it to (absent: left as is). */
export function replaceEnvelopes<T>(event: T, opened: ReadonlyMap<string, JsonValue>): T {
  const walk = (node: unknown): unknown => {
    if (typeof node === "string") return opened.has(node) ? opened.get(node) : node;
    if (Array.isArray(node)) return node.map(walk);
    if (typeof node === "object" && node !== null) return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v)]));
    return node;
  };
  return walk(event) as T;
}

/**
 * Compares an event as stored in a leaf with the same event as shown to a reader: equal at every
 * position, except where the leaf holds an envelope, which the reader sees decrypted (or
 * `[erased]`). Returns how many such encrypted values there were, or undefined when the two differ
 * anywhere else. What a proof covers is the ciphertext, so callers say so.
 */
export function compareRevealed(stored: unknown, shown: unknown): { encrypted: number } | undefined {
  let encrypted = 0;
  const same = (a: unknown, b: unknown): boolean => {
    if (typeof a === "string" && isEnvelope(a)) {
      encrypted++;
      return true;
    }
    if (a === null || typeof a !== "object" || b === null || typeof b !== "object") return a === b;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    const keysA = Object.keys(a);
    const keysB = Object.keys(b);
    if (keysA.length !== keysB.length) return false;
    return keysA.every((key) => Object.hasOwn(b, key) && same((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
  };
  return same(stored, shown) ? { encrypted } : undefined;
}
