import {
  type AuditEvent,
  canonicalJson,
  collectEnvelopes,
  compilePersonalData,
  ERASED,
  type EventDraft,
  fromUtf8,
  type JsonValue,
  type PersonalDataConfig,
  parseEnvelope,
  replaceEnvelopes,
  replaceValues,
  UNREADABLE,
  utf8,
} from "@sealtrail/core";
import { openValue, sealValue } from "./cipher.js";
import type { DataKey, SubjectKeyStore } from "./key-store.js";

export interface PersonalDataOptions {
  readonly keyStore: SubjectKeyStore;
  /** Which values are personal and whose (core `PersonalDataConfig`); defaults per DESIGN §7. */
  readonly config?: PersonalDataConfig;
}

/** What the server and CLI need: encrypt on the way in, reveal on the way out, erase on request. */
export interface PersonalData {
  /** The engine's `protect` hook: encrypts each personal value under its subject's key. */
  protect(log: string, drafts: readonly EventDraft[], pointers: readonly string[]): Promise<EventDraft[]>;
  /** The event with each envelope decrypted, or `[erased]` where the key is gone. */
  reveal<T extends AuditEvent>(event: T): Promise<T>;
  /** Destroys the subject's keys (one log, or all); returns how many keys were destroyed. */
  erase(subject: string, options: { log?: string; at: string }): Promise<{ keys: number }>;
  close(): Promise<void>;
}

/**
 * Crypto-shredding (DESIGN §7, docs/personal-data.md): personal values are encrypted with
 * AES-256-GCM under a key per data subject and log, before the leaf is formed, so the leaf commits
 * to the ciphertext. Erasing destroys the key: the ciphertext stays in the leaf, the proofs stay
 * valid, and every read path shows `[erased]`.
 */
export function createPersonalData(options: PersonalDataOptions): PersonalData {
  const policy = compilePersonalData(options.config);
  const keys = options.keyStore;
  return {
    async protect(log, drafts, pointers) {
      const located = drafts.map((draft, i) => policy.locate(draft, pointers[i] ?? ""));
      const subjects = [...new Set(located.flatMap((found) => found.map((item) => item.subject)))];
      if (subjects.length === 0) return [...drafts];
      const keyOf = new Map<string, DataKey>();
      const keyList = await keys.keysFor(subjects.map((subject) => ({ log, subject })));
      for (const [i, subject] of subjects.entries()) keyOf.set(subject, keyList[i] as DataKey);
      return drafts.map((draft, i) => {
        const found = located[i] ?? [];
        if (found.length === 0) return draft;
        return replaceValues(
          draft,
          found.map((item) => {
            // With a client id, the same event must seal to the same leaf (idempotent retries).
            const synthetic = draft.id === undefined ? undefined : `${log}\n${draft.id}\n${JSON.stringify(item.path)}`;
            return { path: item.path, value: sealValue(keyOf.get(item.subject) as DataKey, utf8(canonicalJson(item.value)), synthetic) };
          }),
        );
      });
    },
    async reveal(event) {
      const envelopes = collectEnvelopes(event);
      if (envelopes.length === 0) return event;
      const opened = new Map<string, JsonValue>();
      const byKid = new Map<string, DataKey | undefined>();
      for (const envelope of new Set(envelopes)) {
        const kid = parseEnvelope(envelope)?.kid as string;
        if (!byKid.has(kid)) byKid.set(kid, await keys.keyById(kid));
        const key = byKid.get(kid);
        if (!key) {
          opened.set(envelope, ERASED);
          continue;
        }
        const plaintext = openValue(key, envelope);
        let value: JsonValue = UNREADABLE;
        if (plaintext) {
          try {
            value = JSON.parse(fromUtf8(plaintext)) as JsonValue;
          } catch {
            value = UNREADABLE;
          }
        }
        opened.set(envelope, value);
      }
      return replaceEnvelopes(event, opened);
    },
    async erase(subject, opts) {
      return { keys: (await keys.erase(subject, opts)).length };
    },
    close: () => keys.close(),
  };
}
