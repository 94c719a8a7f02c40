import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { AuthError } from "@sealtrail/core";
import type { ApiKeyRecord, KeyScope, LogStore } from "@sealtrail/engine";

/**
 * API keys look like `stk_<id>_<secret>`: the id finds the record, the secret is checked against
 * its SHA-256 (keys are 256-bit random, so a fast hash is enough; no secret is ever stored).
 * The fixed prefix lets secret scanners recognise leaked keys.
 */
const KEY_PATTERN = /^stk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

export interface Principal {
  readonly keyId: string;
  readonly scope: KeyScope;
  /** Logs this principal may touch; undefined means all logs. */
  readonly logs?: readonly string[];
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

export function generateApiKey(): { id: string; secret: string; key: string } {
  const idBytes = randomBytes(12);
  const id = Array.from(idBytes, (b) => ID_ALPHABET[b % ID_ALPHABET.length]).join("");
  const secret = randomBytes(32).toString("base64url");
  return { id, secret, key: `stk_${id}_${secret}` };
}

export async function createApiKey(
  store: LogStore,
  options: { scope: KeyScope; logs?: readonly string[]; label?: string },
): Promise<{ key: string; record: ApiKeyRecord }> {
  const { id, secret, key } = generateApiKey();
  const record: ApiKeyRecord = {
    id,
    secretHash: sha256(secret),
    scope: options.scope,
    logs: options.logs ?? [],
    label: options.label ?? "",
    createdAt: new Date().toISOString(),
  };
  await store.insertApiKey(record);
  return { key, record };
}

/**
 * Makes sure an admin credential exists. With SEALTRAIL_ADMIN_KEY set, that key is the admin
 * key (held only as a hash in memory). Otherwise the first start generates one, stores its hash
 * and returns the plaintext so the caller can show it once.
 */
export async function ensureAdminKey(store: LogStore, envKey: string | undefined): Promise<{ generated?: string }> {
  if (envKey) return {};
  const keys = await store.listApiKeys();
  if (keys.some((k) => k.scope === "admin" && !k.revokedAt)) return {};
  const { key } = await createApiKey(store, { scope: "admin", label: "bootstrap admin key" });
  return { generated: key };
}

export class Authenticator {
  readonly #store: LogStore;
  readonly #envAdminHash?: Buffer;

  constructor(store: LogStore, envAdminKey?: string) {
    this.#store = store;
    if (envAdminKey) this.#envAdminHash = sha256(envAdminKey);
  }

  /** Resolves a `Authorization: Bearer …` header to a principal, or throws AuthError. */
  async authenticate(header: string | null | undefined): Promise<Principal> {
    if (!header) throw new AuthError("missing_credentials", "send an API key as `Authorization: Bearer <key>`");
    const match = /^Bearer ([^\s]+)$/i.exec(header.trim());
    if (!match) throw new AuthError("invalid_credentials", "the Authorization header must be `Bearer <key>`");
    const presented = match[1] as string;
    if (this.#envAdminHash && timingSafeEqual(sha256(presented), this.#envAdminHash)) {
      return { keyId: "env-admin", scope: "admin" };
    }
    const parts = KEY_PATTERN.exec(presented);
    if (!parts) throw new AuthError("invalid_credentials", "the API key is not valid");
    const record = await this.#store.findApiKey(parts[1] as string);
    if (!record || record.revokedAt || !timingSafeEqual(sha256(parts[2] as string), Buffer.from(record.secretHash))) {
      throw new AuthError("invalid_credentials", "the API key is not valid");
    }
    return record.scope === "admin" || record.logs.length === 0
      ? { keyId: record.id, scope: record.scope }
      : { keyId: record.id, scope: record.scope, logs: record.logs };
  }
}

/** What a request wants to do; each scope allows a fixed set (admin allows all). */
export type Operation = "append" | "read-tree" | "read-entries" | "admin";

const ALLOWED: Readonly<Record<KeyScope, readonly Operation[]>> = {
  ingest: ["append"],
  read: ["read-tree", "read-entries"],
  admin: ["append", "read-tree", "read-entries", "admin"],
};

export function authorize(principal: Principal, operation: Operation, log?: string): void {
  if (!ALLOWED[principal.scope].includes(operation)) {
    throw new AuthError("forbidden", `a ${principal.scope} key cannot ${operation.replace("-", " ")}`);
  }
  if (log !== undefined && principal.logs && !principal.logs.includes(log)) {
    throw new AuthError("forbidden", `this key is not allowed to access log ${log}`);
  }
}
