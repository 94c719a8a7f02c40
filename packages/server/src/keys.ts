import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { type Actor, AuthError, InputError, LOG_NAME_PATTERN, pointerChild } from "@sealtrail/core";
import type { ApiKeyRecord, KeyScope, LogStore } from "@sealtrail/engine";
import { SYSTEM_LOG } from "./system-log.js";
import {
  newViewerTokenId,
  signViewerToken,
  VIEWER_SECRET_BYTES,
  VIEWER_TOKEN_PREFIX,
  VIEWER_TOKEN_VERSION,
  type ViewerClaims,
  type ViewerTarget,
  type ViewerTokenRequest,
  verifyViewerToken,
} from "./viewer-token.js";

/**
 * API keys look like `stk_<id>_<secret>`: the id finds the record, the secret is checked against
 * its SHA-256 (keys are 256-bit random, so a fast hash is enough; no secret is ever stored).
 * The fixed prefix lets secret scanners recognise leaked keys.
 */
const KEY_PATTERN = /^stk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** The key id of whoever presents SEALTRAIL_ADMIN_KEY; no stored key can have it (ids have no '-'). */
export const ENV_ADMIN_ID = "env-admin";
export const KEY_SCOPES: readonly KeyScope[] = ["ingest", "read", "admin"];
export const MAX_KEY_LOGS = 100;
export const MAX_LABEL_LENGTH = 200;

/** API key scopes, plus "viewer": a viewer token, which reads one log (see viewer-token.ts). */
export type Scope = KeyScope | "viewer";

/** What a viewer token narrows its log to: events of one actor and/or with one target (type, and id if given). */
export interface ViewerRestriction {
  readonly actor?: string;
  readonly target?: ViewerTarget;
}

export interface Principal {
  /** The API key; for a viewer token, the key that issued it. */
  readonly keyId: string;
  readonly scope: Scope;
  /** Logs this principal may touch; undefined means all logs. A viewer has exactly one. */
  readonly logs?: readonly string[];
  /** Viewer tokens only: query routes must narrow every answer to this. */
  readonly restrict?: ViewerRestriction;
  /** Viewer tokens only. */
  readonly token?: { readonly id: string; readonly expiresAt: string };
  /** How the system log names this principal, when not `api_key`/keyId (see AuthenticatorOptions). */
  readonly actor?: Actor;
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** A fresh key id: 12 characters of a-z0-9 (so the system log can name a key before it is stored). */
export function newApiKeyId(): string {
  return Array.from(randomBytes(12), (b) => ID_ALPHABET[b % ID_ALPHABET.length]).join("");
}

export function generateApiKey(id: string = newApiKeyId()): { id: string; secret: string; key: string } {
  const secret = randomBytes(32).toString("base64url");
  return { id, secret, key: `stk_${id}_${secret}` };
}

export interface ApiKeyRequest {
  readonly scope: KeyScope;
  /** Empty or absent: every log. */
  readonly logs?: readonly string[];
  readonly label?: string;
}

export async function createApiKey(
  store: LogStore,
  options: ApiKeyRequest & { id?: string },
): Promise<{ key: string; record: ApiKeyRecord }> {
  const { id, secret, key } = generateApiKey(options.id);
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

/** A key as the API shows it: everything but the secret's hash. */
export interface PublicApiKey {
  readonly id: string;
  readonly scope: KeyScope;
  readonly logs: readonly string[];
  readonly label: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

export function publicApiKey(record: ApiKeyRecord): PublicApiKey {
  return {
    id: record.id,
    scope: record.scope,
    logs: [...record.logs],
    label: record.label,
    createdAt: record.createdAt,
    revokedAt: record.revokedAt ?? null,
  };
}

/**
 * Validates a `POST /v1/keys` body, listing every problem with its JSON pointer. Logs need not
 * exist yet (a key may be made before a tenant's first event).
 */
export function parseApiKeyRequest(body: unknown): ApiKeyRequest {
  const problems: { pointer: string; detail: string }[] = [];
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new InputError("invalid_key_request", "the body must be a JSON object", {
      problems: [{ pointer: "", detail: "must be a JSON object" }],
    });
  }
  const input = body as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!["scope", "logs", "label"].includes(key)) problems.push({ pointer: pointerChild("", key), detail: "unknown field" });
  }
  const { scope, logs, label } = input;
  if (scope === undefined) problems.push({ pointer: "/scope", detail: `is required: one of ${KEY_SCOPES.join(", ")}` });
  else if (!(KEY_SCOPES as readonly unknown[]).includes(scope)) {
    problems.push({ pointer: "/scope", detail: `must be one of ${KEY_SCOPES.join(", ")}` });
  }
  const names: string[] = [];
  if (logs !== undefined) {
    if (!Array.isArray(logs)) problems.push({ pointer: "/logs", detail: "must be an array of log names" });
    else if (logs.length > MAX_KEY_LOGS) problems.push({ pointer: "/logs", detail: `must hold at most ${MAX_KEY_LOGS} logs` });
    else if (scope === "admin" && logs.length > 0) {
      problems.push({ pointer: "/logs", detail: "must be empty or absent for an admin key: admin keys reach every log" });
    } else {
      logs.forEach((log, i) => {
        if (typeof log !== "string" || !LOG_NAME_PATTERN.test(log)) {
          problems.push({ pointer: `/logs/${i}`, detail: "must be a log name matching [a-z0-9][a-z0-9._-]{0,62}" });
        } else if (names.includes(log)) problems.push({ pointer: `/logs/${i}`, detail: "repeats an earlier log" });
        else if (log === SYSTEM_LOG && scope === "ingest") {
          problems.push({ pointer: `/logs/${i}`, detail: `${SYSTEM_LOG} is written only by the server` });
        } else names.push(log);
      });
    }
  }
  if (label !== undefined) {
    if (typeof label !== "string" || label.length > MAX_LABEL_LENGTH || /\p{Cc}/u.test(label)) {
      problems.push({
        pointer: "/label",
        detail: `must be a string of at most ${MAX_LABEL_LENGTH} characters, without control characters`,
      });
    }
  }
  if (problems.length > 0) {
    const first = problems[0] as { pointer: string; detail: string };
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
    throw new InputError("invalid_key_request", `${first.pointer || "/"} ${first.detail}${more}`, { problems });
  }
  return { scope: scope as KeyScope, logs: names, ...(label === undefined ? {} : { label: label as string }) };
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

export interface AuthenticatorOptions {
  /**
   * HMAC secret for viewer tokens, at least 32 bytes (the server keeps it in
   * `<data>/viewer-token-secret`). Default: random per Authenticator, so tokens end with the process.
   */
  readonly viewerTokenSecret?: Uint8Array;
  /** Clock in milliseconds, for token expiry (tests). */
  readonly now?: () => number;
  /** How the system log names whoever holds the env admin key (default: api_key "env-admin"). */
  readonly envAdminActor?: Actor;
}

export class Authenticator {
  readonly #store: LogStore;
  readonly #envAdminHash?: Buffer;
  readonly #viewerSecret: Uint8Array;
  readonly #now: () => number;
  readonly #envAdminActor?: Actor;

  constructor(store: LogStore, envAdminKey?: string, options: AuthenticatorOptions = {}) {
    this.#store = store;
    if (envAdminKey) this.#envAdminHash = sha256(envAdminKey);
    if (options.viewerTokenSecret && options.viewerTokenSecret.length < VIEWER_SECRET_BYTES) {
      throw new RangeError(`a viewer-token secret has at least ${VIEWER_SECRET_BYTES} bytes`);
    }
    this.#viewerSecret = options.viewerTokenSecret ?? new Uint8Array(randomBytes(VIEWER_SECRET_BYTES));
    this.#now = options.now ?? Date.now;
    if (options.envAdminActor) this.#envAdminActor = options.envAdminActor;
  }

  /** True when SEALTRAIL_ADMIN_KEY is set: an admin credential that the API cannot revoke. */
  get hasEnvAdminKey(): boolean {
    return this.#envAdminHash !== undefined;
  }

  /** The clock viewer tokens are checked against, in milliseconds. */
  now(): number {
    return this.#now();
  }

  /** Resolves a `Authorization: Bearer …` header to a principal, or throws AuthError. */
  async authenticate(header: string | null | undefined): Promise<Principal> {
    if (!header) throw new AuthError("missing_credentials", "send an API key as `Authorization: Bearer <key>`");
    const match = /^Bearer ([^\s]+)$/i.exec(header.trim());
    if (!match) throw new AuthError("invalid_credentials", "the Authorization header must be `Bearer <key>`");
    const presented = match[1] as string;
    if (this.#envAdminHash && timingSafeEqual(sha256(presented), this.#envAdminHash)) {
      return this.#envAdminActor
        ? { keyId: ENV_ADMIN_ID, scope: "admin", actor: this.#envAdminActor }
        : { keyId: ENV_ADMIN_ID, scope: "admin" };
    }
    if (presented.startsWith(VIEWER_TOKEN_PREFIX)) return this.#authenticateViewer(presented);
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

  /**
   * Authenticates a request: the Authorization header, or, on GET and HEAD only, a viewer token
   * as `?token=` (EventSource and iframes cannot set headers). API keys are never taken from the
   * URL: URLs end up in proxy logs, browser history and Referer headers.
   */
  async authenticateRequest(request: Request): Promise<Principal> {
    const header = request.headers.get("authorization");
    const tokens = new URL(request.url).searchParams.getAll("token");
    if (tokens.length === 0) return this.authenticate(header);
    if (request.method !== "GET" && request.method !== "HEAD") {
      throw new AuthError("invalid_credentials", "?token= is accepted on GET requests only; send `Authorization: Bearer <token>`");
    }
    if (header) throw new AuthError("invalid_credentials", "send credentials once: in the Authorization header or as ?token=, not both");
    const token = tokens[0] as string;
    if (tokens.length > 1 || !token.startsWith(VIEWER_TOKEN_PREFIX)) {
      throw new AuthError(
        "invalid_credentials",
        "only one viewer token (stv_…) may be sent as ?token=; send API keys in the Authorization header",
      );
    }
    return this.#authenticateViewer(token);
  }

  async #authenticateViewer(token: string): Promise<Principal> {
    const claims = verifyViewerToken(this.#viewerSecret, token, this.#now());
    // A token lives no longer than the key that issued it, nor beyond what that key may read.
    if (claims.iss === ENV_ADMIN_ID) {
      if (!this.#envAdminHash) throw revokedToken();
    } else {
      const issuer = await this.#store.findApiKey(claims.iss);
      if (!issuer || issuer.revokedAt) throw revokedToken();
      if (issuer.scope === "ingest" || (issuer.logs.length > 0 && !issuer.logs.includes(claims.log))) throw revokedToken();
    }
    const restrict: ViewerRestriction = {
      ...(claims.act === undefined ? {} : { actor: claims.act }),
      ...(claims.tgt === undefined ? {} : { target: claims.tgt }),
    };
    return {
      keyId: claims.iss,
      scope: "viewer",
      logs: [claims.log],
      ...(claims.act === undefined && claims.tgt === undefined ? {} : { restrict }),
      token: { id: claims.jti, expiresAt: new Date(claims.exp * 1000).toISOString() },
    };
  }

  /** Signs a viewer token for `issuer`, who must already be authorized for the log. */
  issueViewerToken(issuer: Principal, request: ViewerTokenRequest): { token: string; id: string; expiresAt: string; claims: ViewerClaims } {
    if (issuer.scope !== "admin" && issuer.scope !== "read") {
      throw new AuthError("forbidden", `a ${describeScope(issuer.scope)} cannot issue viewer tokens`);
    }
    const iat = Math.floor(this.#now() / 1000);
    const claims: ViewerClaims = {
      v: VIEWER_TOKEN_VERSION,
      jti: newViewerTokenId(),
      iss: issuer.keyId,
      log: request.log,
      ...(request.actor === undefined ? {} : { act: request.actor }),
      ...(request.target === undefined ? {} : { tgt: request.target }),
      iat,
      exp: iat + request.ttlSeconds,
    };
    return {
      token: signViewerToken(this.#viewerSecret, claims),
      id: claims.jti,
      expiresAt: new Date(claims.exp * 1000).toISOString(),
      claims,
    };
  }
}

function revokedToken(): AuthError {
  return new AuthError(
    "invalid_credentials",
    "the viewer token was revoked: the key that issued it is revoked or no longer reaches its log",
  );
}

/**
 * What a request wants to do; each scope allows a fixed set (admin allows all).
 * `read-entries` answers events filtered per principal (queries, one event, stats, tail);
 * `read-bundles` serves raw entry bundles, which hold every event of a log unfiltered.
 */
export type Operation = "append" | "read-tree" | "read-entries" | "read-bundles" | "issue-viewer-token" | "admin";

const ALLOWED: Readonly<Record<Scope, readonly Operation[]>> = {
  ingest: ["append"],
  read: ["read-tree", "read-entries", "read-bundles", "issue-viewer-token"],
  viewer: ["read-tree", "read-entries", "read-bundles"],
  admin: ["append", "read-tree", "read-entries", "read-bundles", "issue-viewer-token", "admin"],
};

function describeScope(scope: Scope): string {
  return scope === "viewer" ? "viewer token" : `${scope} key`;
}

export function authorize(principal: Principal, operation: Operation, log?: string): void {
  if (!ALLOWED[principal.scope].includes(operation)) {
    throw new AuthError("forbidden", `a ${describeScope(principal.scope)} cannot ${operation.replaceAll("-", " ")}`);
  }
  if (principal.scope === "viewer") {
    if (log === undefined) throw new AuthError("forbidden", "a viewer token reads only the one log it was issued for");
    if (operation === "read-bundles" && principal.restrict) {
      throw new AuthError(
        "forbidden",
        "a viewer token restricted to an actor or target cannot read entry bundles: they hold every event of the log",
      );
    }
  }
  if (operation === "append" && log === SYSTEM_LOG) {
    throw new AuthError("forbidden", `only the server writes the system log ${SYSTEM_LOG}`);
  }
  if (log !== undefined && principal.logs && !principal.logs.includes(log)) {
    throw new AuthError("forbidden", `this ${principal.scope === "viewer" ? "token" : "key"} is not allowed to access log ${log}`);
  }
}
