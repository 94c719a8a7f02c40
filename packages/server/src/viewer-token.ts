import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { AuthError, ConfigError, LOG_NAME_PATTERN } from "@sealtrail/core";

/**
 * Viewer tokens let an application embed a read-only view of one log in its own customer's UI:
 * `stv_<payload>.<mac>`, where payload is base64url of the JSON claims and mac is base64url of
 * HMAC-SHA256(secret, "stv_" + payload). The MAC covers the transmitted text itself, never a
 * re-serialization, so there is exactly one accepted form of every token. The secret serves this
 * purpose only (not the checkpoint signing key: one key, one job).
 */
export const VIEWER_TOKEN_PREFIX = "stv_";
export const VIEWER_TOKEN_VERSION = 1;
export const DEFAULT_VIEWER_TTL_SECONDS = 900;
export const MAX_VIEWER_TTL_SECONDS = 86_400;
/** Tolerated clock difference between the server that issued a token and one that checks it. */
export const VIEWER_CLOCK_SKEW_SECONDS = 30;
/** Shortest secret accepted: HMAC-SHA256 gains nothing from more than 32 bytes, and loses from fewer. */
export const VIEWER_SECRET_BYTES = 32;

const TOKEN_PATTERN = /^stv_([A-Za-z0-9_-]{1,2048})\.([A-Za-z0-9_-]{43})$/;
const TOKEN_ID_PATTERN = /^[A-Za-z0-9_-]{16}$/;
const TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const MAX_ID_LENGTH = 256;

export interface ViewerTarget {
  readonly type: string;
  readonly id?: string;
}

/** What a viewer token says, signed. Times are whole seconds since the Unix epoch. */
export interface ViewerClaims {
  readonly v: typeof VIEWER_TOKEN_VERSION;
  /** The token's id, as the system log names it; not a secret. */
  readonly jti: string;
  /** The key id that issued the token, or "env-admin". */
  readonly iss: string;
  readonly log: string;
  /** Only events with this actor id. */
  readonly act?: string;
  /** Only events with a target of this type (and id). */
  readonly tgt?: ViewerTarget;
  readonly iat: number;
  readonly exp: number;
}

export interface ViewerTokenRequest {
  readonly log: string;
  readonly actor?: string;
  readonly target?: ViewerTarget;
  readonly ttlSeconds: number;
}

export function newViewerTokenId(): string {
  return randomBytes(12).toString("base64url");
}

/** Signs claims into a token. The caller has checked that the issuer may read `claims.log`. */
export function signViewerToken(secret: Uint8Array, claims: ViewerClaims): string {
  const payload = Buffer.from(JSON.stringify(claims), "utf8").toString("base64url");
  return `${VIEWER_TOKEN_PREFIX}${payload}.${mac(secret, payload)}`;
}

function mac(secret: Uint8Array, payload: string): string {
  return createHmac("sha256", secret).update(`${VIEWER_TOKEN_PREFIX}${payload}`, "utf8").digest("base64url");
}

const invalid = () => new AuthError("invalid_credentials", "the viewer token is invalid");

/**
 * Checks a token's MAC (constant time), then its claims and expiry. Anything but a token this
 * secret signed is "invalid" with no further detail; an authentic token says what is wrong with
 * it (expired, unsupported version), since that helps its holder and tells an attacker nothing.
 */
export function verifyViewerToken(secret: Uint8Array, token: string, nowMs: number): ViewerClaims {
  const parts = TOKEN_PATTERN.exec(token);
  if (!parts) throw invalid();
  const payload = parts[1] as string;
  const expected = Buffer.from(mac(secret, payload), "ascii");
  const presented = Buffer.from(parts[2] as string, "ascii");
  if (!timingSafeEqual(expected, presented)) throw invalid();
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (!isObject(claims)) throw invalid();
  if (claims.v !== VIEWER_TOKEN_VERSION) {
    throw new AuthError("invalid_credentials", `the viewer token has an unsupported version; request a new token`);
  }
  if (!isClaims(claims)) throw invalid();
  const now = Math.floor(nowMs / 1000);
  if (claims.iat > now + VIEWER_CLOCK_SKEW_SECONDS) throw new AuthError("invalid_credentials", "the viewer token is not valid yet");
  if (now > claims.exp + VIEWER_CLOCK_SKEW_SECONDS) throw new AuthError("invalid_credentials", "the viewer token has expired");
  return claims;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const CLAIM_KEYS = new Set(["v", "jti", "iss", "log", "act", "tgt", "iat", "exp"]);

function isClaims(c: Record<string, unknown>): c is Record<string, unknown> & ViewerClaims {
  if (Object.keys(c).some((k) => !CLAIM_KEYS.has(k))) return false;
  if (typeof c.jti !== "string" || !TOKEN_ID_PATTERN.test(c.jti)) return false;
  if (typeof c.iss !== "string" || c.iss.length === 0 || c.iss.length > 64) return false;
  if (typeof c.log !== "string" || !LOG_NAME_PATTERN.test(c.log)) return false;
  if (c.act !== undefined && !isPartyId(c.act)) return false;
  if (c.tgt !== undefined) {
    if (!isObject(c.tgt) || Object.keys(c.tgt).some((k) => k !== "type" && k !== "id")) return false;
    if (typeof c.tgt.type !== "string" || !TYPE_PATTERN.test(c.tgt.type)) return false;
    if (c.tgt.id !== undefined && !isPartyId(c.tgt.id)) return false;
  }
  if (!Number.isSafeInteger(c.iat) || !Number.isSafeInteger(c.exp)) return false;
  const lifetime = (c.exp as number) - (c.iat as number);
  return lifetime > 0 && lifetime <= MAX_VIEWER_TTL_SECONDS;
}

function isPartyId(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_ID_LENGTH;
}

/** The JSON pointer and detail of each problem in a `POST /v1/viewer-tokens` body. */
export function viewerTokenRequestProblems(body: unknown): {
  request?: ViewerTokenRequest;
  problems: { pointer: string; detail: string }[];
} {
  const problems: { pointer: string; detail: string }[] = [];
  if (!isObject(body)) return { problems: [{ pointer: "", detail: "must be a JSON object" }] };
  for (const key of Object.keys(body)) {
    if (!["log", "actor", "target", "ttlSeconds"].includes(key)) problems.push({ pointer: `/${key}`, detail: "unknown field" });
  }
  const { log, actor, target, ttlSeconds } = body;
  if (log === undefined) problems.push({ pointer: "/log", detail: "is required" });
  else if (typeof log !== "string" || !LOG_NAME_PATTERN.test(log)) {
    problems.push({ pointer: "/log", detail: "must be a log name matching [a-z0-9][a-z0-9._-]{0,62}" });
  }
  if (actor !== undefined && !isPartyId(actor)) {
    problems.push({ pointer: "/actor", detail: `must be an actor id: a string of 1 to ${MAX_ID_LENGTH} characters` });
  }
  if (target !== undefined) {
    if (!isObject(target)) problems.push({ pointer: "/target", detail: 'must be an object like { "type": "document", "id": "doc_9" }' });
    else {
      for (const key of Object.keys(target)) {
        if (key !== "type" && key !== "id") problems.push({ pointer: `/target/${key}`, detail: "unknown field" });
      }
      if (typeof target.type !== "string" || !TYPE_PATTERN.test(target.type)) {
        problems.push({ pointer: "/target/type", detail: "is required: 1 to 64 characters of A-Z, a-z, 0-9, '_', '.', ':' or '-'" });
      }
      if (target.id !== undefined && !isPartyId(target.id)) {
        problems.push({ pointer: "/target/id", detail: `must be a string of 1 to ${MAX_ID_LENGTH} characters` });
      }
    }
  }
  if (
    ttlSeconds !== undefined &&
    (!Number.isSafeInteger(ttlSeconds) || (ttlSeconds as number) < 1 || (ttlSeconds as number) > MAX_VIEWER_TTL_SECONDS)
  ) {
    problems.push({ pointer: "/ttlSeconds", detail: `must be a whole number of seconds from 1 to ${MAX_VIEWER_TTL_SECONDS}` });
  }
  if (problems.length > 0) return { problems };
  const t = target as Record<string, string> | undefined;
  return {
    problems,
    request: {
      log: log as string,
      ...(actor === undefined ? {} : { actor: actor as string }),
      ...(t === undefined ? {} : { target: t.id === undefined ? { type: t.type as string } : { type: t.type as string, id: t.id } }),
      ttlSeconds: (ttlSeconds as number | undefined) ?? DEFAULT_VIEWER_TTL_SECONDS,
    },
  };
}

/**
 * The viewer-token secret kept in a file: 32 random bytes as base64url, created with mode 0600
 * on first use. Like the signing key, a file readable by group or others is refused.
 */
export function loadViewerTokenSecret(path: string, options: { create: boolean }): Uint8Array {
  let text: string;
  try {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new ConfigError("viewer_secret_exposed", `${path} is readable by others (mode ${mode.toString(8)}); run: chmod 600 ${path}`);
    }
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    if (!options.create) throw new ConfigError("invalid_viewer_secret", `no viewer-token secret at ${path}`);
    text = randomBytes(VIEWER_SECRET_BYTES).toString("base64url");
    writeFileSync(path, `${text}\n`, { mode: 0o600, flag: "wx" });
  }
  const trimmed = text.trim();
  const secret = Buffer.from(trimmed, "base64url");
  if (!/^[A-Za-z0-9_-]+$/.test(trimmed) || secret.length < VIEWER_SECRET_BYTES) {
    throw new ConfigError("invalid_viewer_secret", `${path} must hold at least ${VIEWER_SECRET_BYTES} random bytes as base64url`);
  }
  return new Uint8Array(secret);
}
