import { randomBytes } from "node:crypto";

/** A data key: 32 random bytes for AES-256-GCM, named by a random id that names no one. */
export interface DataKey {
  readonly kid: string;
  readonly key: Uint8Array;
}

/** Whose data a key protects: a data subject, within one log (subject ids are per tenant). */
export interface KeyScope {
  readonly log: string;
  readonly subject: string;
}

/**
 * A fresh data key: a 16-byte random id (base64url) and 32 random key bytes, drawn in one call
 * (a call to the CSPRNG costs more than the bytes do). `key` is a Buffer for the stores' drivers.
 */
export function newDataKey(): { kid: string; key: Buffer } {
  const bytes = randomBytes(48);
  return { kid: bytes.subarray(0, 16).toString("base64url"), key: Buffer.from(bytes.subarray(16)) };
}

/** A scope as one string (log names hold no newline), for maps keyed by scope. */
export const scopeName = (scope: KeyScope): string => `${scope.log}\n${scope.subject}`;

/**
 * Where data keys live, apart from the log database and with its own access path. Kept small so a
 * KMS-backed store (keys wrapped by a key-encryption key that never leaves the KMS) fits it.
 */
export interface SubjectKeyStore {
  /** For logs and errors; never includes credentials. */
  readonly description: string;
  /**
   * Each subject's current key in its log, in the order asked, created (durably) on first use.
   * One call names every subject of a batch, so a store can create all missing keys in one durable
   * write instead of one per subject.
   */
  keysFor(scopes: readonly KeyScope[]): Promise<DataKey[]>;
  /** The key with this id; undefined once it was erased (or if it never existed here). */
  keyById(kid: string): Promise<DataKey | undefined>;
  /**
   * Destroys, for good, the subject's keys: in one log, or in every log when `log` is undefined.
   * Returns the ids destroyed (none when the subject had no key).
   */
  erase(subject: string, options: { log?: string; at: string }): Promise<string[]>;
  close(): Promise<void>;
}
