import { sha256 } from "#sha256";
import { concatBytes, fromBase64, fromUtf8, toBase64, utf8 } from "./bytes.js";
import { ConfigError, VerificationError } from "./errors.js";

/** C2SP signed-note signature type for Ed25519. */
const ED25519_TYPE = 0x01;
const SIGNATURE_PREFIX = "\u2014 ";
const MAX_SIGNATURES = 100;

/** Signs note text. Any Ed25519 implementation fits (a KMS, an HSM): only `sign` touches the key. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  /** `<name>+<hex keyID>+<base64(0x01 ‖ public key)>`: what a verifier pins. */
  readonly verifierKey: string;
  sign(message: Uint8Array): Promise<Uint8Array>;
  /**
   * The same key under another name (a name is part of the key ID). Lets one server key sign each
   * log's checkpoints under the log's own origin, as C2SP tlog-checkpoint recommends.
   */
  withName?(name: string): Promise<NoteSigner>;
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  verify(message: Uint8Array, signature: Uint8Array): Promise<boolean>;
}

/** Key names: non-empty, no whitespace, no '+' (C2SP signed-note §Signatures). */
export function assertKeyName(name: string): void {
  if (name.length === 0 || /[\s+]/u.test(name)) {
    throw new ConfigError("invalid_key_name", "a key name must be non-empty and contain no spaces or '+'");
  }
}

/** keyID = first 4 bytes of SHA-256(name ‖ "\n" ‖ type ‖ public key), big-endian. */
export function computeKeyId(name: string, publicKey: Uint8Array): number {
  const digest = sha256(utf8(`${name}\n`), new Uint8Array([ED25519_TYPE]), publicKey);
  return new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0);
}

function keyIdHex(keyId: number): string {
  return keyId.toString(16).padStart(8, "0");
}

export function encodeVerifierKey(name: string, publicKey: Uint8Array): string {
  assertKeyName(name);
  const keyId = computeKeyId(name, publicKey);
  return `${name}+${keyIdHex(keyId)}+${toBase64(concatBytes(new Uint8Array([ED25519_TYPE]), publicKey))}`;
}

function subtle(): SubtleCrypto {
  const api = globalThis.crypto?.subtle;
  if (!api) throw new ConfigError("no_webcrypto", "WebCrypto (crypto.subtle) is not available in this runtime");
  return api;
}

/** RFC 8410 PKCS#8 wrapper for a raw 32-byte Ed25519 seed, since WebCrypto imports no raw private keys. */
const PKCS8_ED25519_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

/** WebCrypto typings want ArrayBuffer-backed views; ours always are (no SharedArrayBuffer). */
function buf(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}

function base64UrlToBytes(text: string): Uint8Array {
  const std = text.replaceAll("-", "+").replaceAll("_", "/");
  return fromBase64(std + "=".repeat((4 - (std.length % 4)) % 4));
}

/** An Ed25519 note signer from a 32-byte seed, using WebCrypto (Node ≥ 20 and current browsers). */
export async function createEd25519Signer(name: string, seed: Uint8Array): Promise<NoteSigner> {
  assertKeyName(name);
  if (seed.length !== 32) throw new ConfigError("invalid_signing_key", "an Ed25519 seed is 32 bytes");
  const privateKey = await subtle().importKey("pkcs8", buf(concatBytes(PKCS8_ED25519_PREFIX, seed)), { name: "Ed25519" }, true, ["sign"]);
  const jwk = await subtle().exportKey("jwk", privateKey);
  if (typeof jwk.x !== "string") throw new ConfigError("invalid_signing_key", "could not derive the public key");
  const publicKey = base64UrlToBytes(jwk.x);
  const signingKey = await subtle().importKey("pkcs8", buf(concatBytes(PKCS8_ED25519_PREFIX, seed)), { name: "Ed25519" }, false, ["sign"]);
  return namedSigner(name, publicKey, signingKey);
}

/** The same key under another name: only the key ID and verifier key change, so no key import. */
function namedSigner(name: string, publicKey: Uint8Array, signingKey: CryptoKey): NoteSigner {
  return Object.freeze({
    name,
    keyId: computeKeyId(name, publicKey),
    verifierKey: encodeVerifierKey(name, publicKey),
    sign: async (message: Uint8Array) => new Uint8Array(await subtle().sign("Ed25519", signingKey, buf(message))),
    withName: async (other: string) => {
      assertKeyName(other);
      return namedSigner(other, publicKey, signingKey);
    },
  });
}

/**
 * A signer key string in the format Go's golang.org/x/mod/sumdb/note uses:
 * `PRIVATE+KEY+<name>+<hex keyID>+<base64(0x01 ‖ seed)>`, so keys move between tools.
 */
export async function generateSignerKey(name: string): Promise<string> {
  assertKeyName(name);
  const seed = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const signer = await createEd25519Signer(name, seed);
  return `PRIVATE+KEY+${name}+${keyIdHex(signer.keyId)}+${toBase64(concatBytes(new Uint8Array([ED25519_TYPE]), seed))}`;
}

/** Splits into at most `n` parts, the last keeping any further separators (base64 contains '+'). */
function splitN(text: string, separator: string, n: number): string[] {
  const parts = text.split(separator);
  return parts.length <= n ? parts : [...parts.slice(0, n - 1), parts.slice(n - 1).join(separator)];
}

export async function parseSignerKey(text: string): Promise<NoteSigner> {
  const parts = splitN(text.trim(), "+", 5);
  if (parts.length !== 5 || parts[0] !== "PRIVATE" || parts[1] !== "KEY") {
    throw new ConfigError("invalid_signing_key", "expected PRIVATE+KEY+<name>+<keyID>+<key>");
  }
  const [, , name, idHex, keyText] = parts as [string, string, string, string, string];
  let keyBytes: Uint8Array;
  try {
    keyBytes = fromBase64(keyText);
  } catch (cause) {
    throw new ConfigError("invalid_signing_key", "the key is not valid base64", { cause });
  }
  if (keyBytes.length !== 33 || keyBytes[0] !== ED25519_TYPE) {
    throw new ConfigError("invalid_signing_key", "only Ed25519 signing keys are supported");
  }
  const signer = await createEd25519Signer(name, keyBytes.slice(1));
  if (keyIdHex(signer.keyId) !== idHex.toLowerCase()) {
    throw new ConfigError("invalid_signing_key", "the key ID does not match the key");
  }
  return signer;
}

export function parseVerifierKey(text: string): NoteVerifier {
  const parts = splitN(text.trim(), "+", 3);
  if (parts.length !== 3) throw new ConfigError("invalid_verifier_key", "expected <name>+<keyID>+<key>");
  const [name, idHex, keyText] = parts as [string, string, string];
  assertKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new ConfigError("invalid_verifier_key", "the key ID must be 8 lowercase hex digits");
  let keyBytes: Uint8Array;
  try {
    keyBytes = fromBase64(keyText);
  } catch (cause) {
    throw new ConfigError("invalid_verifier_key", "the key is not valid base64", { cause });
  }
  if (keyBytes.length !== 33 || keyBytes[0] !== ED25519_TYPE) {
    throw new ConfigError("invalid_verifier_key", "only Ed25519 verifier keys are supported");
  }
  const publicKey = keyBytes.slice(1);
  const keyId = computeKeyId(name, publicKey);
  if (keyIdHex(keyId) !== idHex) throw new ConfigError("invalid_verifier_key", "the key ID does not match the key");
  let imported: Promise<CryptoKey> | undefined;
  return Object.freeze({
    name,
    keyId,
    verify: async (message: Uint8Array, signature: Uint8Array) => {
      if (signature.length !== 64) return false;
      imported ??= subtle().importKey("raw", buf(publicKey), { name: "Ed25519" }, false, ["verify"]);
      return subtle().verify("Ed25519", await imported, buf(signature), buf(message));
    },
  });
}

/** Note text: non-empty UTF-8 ending in a newline, no blank lines, no control characters but '\n'. */
function assertNoteText(text: string): void {
  if (text.length === 0 || !text.endsWith("\n")) throw new VerificationError("malformed_note", "note text must end with a newline");
  if (text.includes("\n\n")) throw new VerificationError("malformed_note", "note text must not contain a blank line");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the spec forbids exactly these characters
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(text)) throw new VerificationError("malformed_note", "note text has a control character");
}

export async function signNote(text: string, signers: readonly NoteSigner[]): Promise<string> {
  assertNoteText(text);
  const message = utf8(text);
  let out = `${text}\n`;
  for (const signer of signers) {
    const signature = await signer.sign(message);
    const id = new Uint8Array(4);
    new DataView(id.buffer).setUint32(0, signer.keyId);
    out += `${SIGNATURE_PREFIX}${signer.name} ${toBase64(concatBytes(id, signature))}\n`;
  }
  return out;
}

export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  readonly signature: Uint8Array;
}

export interface ParsedNote {
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** Splits a signed note into text and signature lines without checking any signature. */
export function parseNote(note: string | Uint8Array): ParsedNote {
  let source: string;
  try {
    source = typeof note === "string" ? note : fromUtf8(note);
  } catch (cause) {
    throw new VerificationError("malformed_note", "note is not valid UTF-8", { cause });
  }
  const split = source.lastIndexOf("\n\n");
  if (split < 0) throw new VerificationError("malformed_note", "note has no signature block");
  const text = source.slice(0, split + 1);
  assertNoteText(text);
  const block = source.slice(split + 2);
  if (!block.endsWith("\n")) throw new VerificationError("malformed_note", "signature block must end with a newline");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) throw new VerificationError("malformed_note", "too many signatures");
  const signatures = lines.map((line) => {
    if (!line.startsWith(SIGNATURE_PREFIX)) throw new VerificationError("malformed_note", "malformed signature line");
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.lastIndexOf(" ");
    const name = rest.slice(0, space);
    if (space <= 0 || /[\s+]/u.test(name)) throw new VerificationError("malformed_note", "malformed signature line");
    let bytes: Uint8Array;
    try {
      bytes = fromBase64(rest.slice(space + 1));
    } catch (cause) {
      throw new VerificationError("malformed_note", "signature is not valid base64", { cause });
    }
    if (bytes.length < 5) throw new VerificationError("malformed_note", "signature too short");
    const keyId = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
    return { name, keyId, signature: bytes.slice(4) };
  });
  return { text, signatures };
}

/**
 * Verifies a signed note against known keys: at least one known key must have signed it, and a
 * bad signature from a known key rejects the note (C2SP signed-note §Verification). Signatures
 * from unknown keys are ignored, so witnesses can cosign without breaking older verifiers.
 */
export async function openNote(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
): Promise<ParsedNote & { verifiedBy: NoteSignature[] }> {
  const parsed = parseNote(note);
  const message = utf8(parsed.text);
  const verifiedBy: NoteSignature[] = [];
  for (const sig of parsed.signatures) {
    const verifier = verifiers.find((v) => v.name === sig.name && v.keyId === sig.keyId);
    if (!verifier) continue;
    if (!(await verifier.verify(message, sig.signature))) {
      throw new VerificationError("invalid_signature", `signature by ${sig.name} does not verify`);
    }
    verifiedBy.push(sig);
  }
  if (verifiedBy.length === 0) throw new VerificationError("unknown_signer", "note is not signed by any trusted key");
  return { ...parsed, verifiedBy };
}
