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
 * Where data keys live, apart from the log database and with its own access path. Kept small so a
 * KMS-backed store (keys wrapped by a key-encryption key that never leaves the KMS) fits it.
 */
export interface SubjectKeyStore {
  /** For logs and errors; never includes credentials. */
  readonly description: string;
  /** The subject's current key in that log, created (durably) on first use. */
  keyFor(scope: KeyScope): Promise<DataKey>;
  /** The key with this id; undefined once it was erased (or if it never existed here). */
  keyById(kid: string): Promise<DataKey | undefined>;
  /**
   * Destroys, for good, the subject's keys: in one log, or in every log when `log` is undefined.
   * Returns the ids destroyed (none when the subject had no key).
   */
  erase(subject: string, options: { log?: string; at: string }): Promise<string[]>;
  close(): Promise<void>;
}
