import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomFillSync } from "node:crypto";
import { ENVELOPE_IV_BYTES, ENVELOPE_TAG_BYTES, envelopeAad, formatEnvelope, parseEnvelope } from "@sealtrail/core";
import type { DataKey } from "./key-store.js";

const encoder = new TextEncoder();

/**
 * Random IVs cut from a pool refilled 4 KiB at a time: one `randomBytes(12)` costs ~4 µs of CPU
 * here, a slice of the pool ~0.3, and an event seals several values. Each slice is used once.
 */
const ivPool = Buffer.alloc(4096);
let ivOffset = ivPool.length;
function randomIv(): Uint8Array {
  if (ivOffset + ENVELOPE_IV_BYTES > ivPool.length) {
    randomFillSync(ivPool);
    ivOffset = 0;
  }
  const iv = Uint8Array.prototype.slice.call(ivPool, ivOffset, ivOffset + ENVELOPE_IV_BYTES);
  ivOffset += ENVELOPE_IV_BYTES;
  return iv;
}

/**
 * AES-256-GCM (NIST SP 800-38D) of one value into an envelope string (core `formatEnvelope`).
 * The IV is random, unless `synthetic` is given: then it is an HMAC of that text under a key
 * derived from the data key, so the same event (same client id, field and value) always gives
 * the same envelope — an idempotent retry then seals the same leaf. Two different plaintexts get
 * the same IV only on an HMAC collision (SIV construction, RFC 5297 §1.3.2, in spirit).
 */
export function sealValue(key: DataKey, plaintext: Uint8Array, synthetic?: string): string {
  const iv = synthetic === undefined ? randomIv() : syntheticIv(key, synthetic, plaintext);
  const cipher = createCipheriv("aes-256-gcm", key.key, iv, { authTagLength: ENVELOPE_TAG_BYTES });
  cipher.setAAD(envelopeAad(key.kid));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return formatEnvelope({ kid: key.kid, iv, ciphertext });
}

/** Decrypts an envelope; undefined when it is not one, or when it does not authenticate under `key`. */
export function openValue(key: DataKey, envelope: string): Uint8Array | undefined {
  const parsed = parseEnvelope(envelope);
  if (!parsed || parsed.kid !== key.kid) return undefined;
  const body = parsed.ciphertext.subarray(0, parsed.ciphertext.length - ENVELOPE_TAG_BYTES);
  const tag = parsed.ciphertext.subarray(parsed.ciphertext.length - ENVELOPE_TAG_BYTES);
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.key, parsed.iv, { authTagLength: ENVELOPE_TAG_BYTES });
    decipher.setAAD(parsed.aad);
    decipher.setAuthTag(tag);
    return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]));
  } catch {
    return undefined;
  }
}

function syntheticIv(key: DataKey, context: string, plaintext: Uint8Array): Uint8Array {
  const ivKey = Buffer.from(hkdfSync("sha256", key.key, new Uint8Array(0), encoder.encode("sealtrail synthetic iv v1"), 32));
  const mac = createHmac("sha256", ivKey)
    .update(encoder.encode(context))
    .update(new Uint8Array([0]))
    .update(plaintext)
    .digest();
  return mac.subarray(0, ENVELOPE_IV_BYTES);
}
