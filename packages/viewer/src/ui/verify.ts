import {
  bytesEqual,
  compareRevealed,
  concatBytes,
  fromBase64,
  fromUtf8,
  hashLeaf,
  openCheckpoint,
  parseVerifierKey,
  toBase64,
  verifyInclusion,
} from "@sealtrail/core";
import type { EventDetail } from "./api.js";

export interface VerifyStep {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface VerifyResult {
  readonly ok: boolean;
  /** One plain sentence: what was proven, or what failed. */
  readonly summary: string;
  readonly steps: readonly VerifyStep[];
}

export interface VerifyOptions {
  /** The verifier key the user trusts for this log (`<origin>+<keyID>+<key>`). */
  readonly verifierKey: string;
  /** The log's checkpoint origin (`<prefix>/<log>`): a checkpoint of another log must not pass. */
  readonly origin: string;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Checks one event the way an outside verifier would, in the browser and trusting nothing the
 * server says except the bytes it returns: the leaf hash is SHA-256(0x00 ‖ stored leaf) (RFC 9162
 * §2.1.1) computed with WebCrypto; the signed checkpoint is opened with the pinned Ed25519 key
 * (C2SP signed-note, WebCrypto Ed25519); the audit path is folded up to the *signed* root (RFC 9162
 * §2.1.3.2), never to the root hash the JSON claims; and the event shown must be the stored leaf.
 */
export async function verifyEvent(detail: EventDetail, options: VerifyOptions): Promise<VerifyResult> {
  const steps: VerifyStep[] = [];
  let leaf: Uint8Array;
  try {
    leaf = fromBase64(detail.leaf);
  } catch (error) {
    return {
      ok: false,
      summary: "Not verified: the server sent no readable leaf.",
      steps: [{ name: "Stored leaf", ok: false, detail: message(error) }],
    };
  }

  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", concatBytes(new Uint8Array([0]), leaf) as Uint8Array<ArrayBuffer>));
  const leafHash = digest;
  const sameAsCore = bytesEqual(digest, hashLeaf(leaf));
  const claimed = detail.leafHash === toBase64(leafHash);
  steps.push({
    name: "Leaf hash",
    ok: sameAsCore && claimed,
    detail: !sameAsCore
      ? "WebCrypto and @sealtrail/core disagree on SHA-256; this browser cannot be trusted to verify"
      : claimed
        ? `SHA-256(0x00 ‖ stored event bytes) = ${toBase64(leafHash)}`
        : `the stored event bytes hash to ${toBase64(leafHash)}, but the tree holds ${detail.leafHash} at index ${detail.index}: the event was changed after it was logged`,
  });

  // Personal values sit encrypted in the leaf (crypto-shredding) and are shown decrypted, or
  // [erased]: every other field must be exactly what was hashed.
  let shown: { encrypted: number } | undefined;
  try {
    shown = compareRevealed(JSON.parse(fromUtf8(leaf)), detail.event);
  } catch {
    shown = undefined;
  }
  steps.push({
    name: "Shown = stored",
    ok: shown !== undefined,
    detail:
      shown === undefined
        ? "the event shown is not the stored leaf"
        : shown.encrypted === 0
          ? "the fields shown are exactly the stored, hashed event"
          : `the fields shown are the stored, hashed event; ${shown.encrypted} personal value${shown.encrypted === 1 ? " is" : "s are"} encrypted in it and shown decrypted by the server (or [erased]): the proof covers their ciphertext, not the text shown`,
  });

  let checkpoint: Awaited<ReturnType<typeof openCheckpoint>> | undefined;
  try {
    checkpoint = await openCheckpoint(detail.checkpoint, { verifiers: [parseVerifierKey(options.verifierKey)], origin: options.origin });
    steps.push({
      name: "Checkpoint signature",
      ok: true,
      detail: `Ed25519 signature by ${options.verifierKey.split("+").slice(0, 2).join("+")} over ${checkpoint.origin}, tree size ${checkpoint.treeSize}`,
    });
  } catch (error) {
    steps.push({ name: "Checkpoint signature", ok: false, detail: message(error) });
  }

  if (checkpoint) {
    try {
      if (checkpoint.treeSize !== detail.inclusionProof.treeSize) {
        throw new Error(`the proof is for tree size ${detail.inclusionProof.treeSize}, the signed checkpoint for ${checkpoint.treeSize}`);
      }
      verifyInclusion(detail.index, checkpoint.treeSize, leafHash, detail.inclusionProof.hashes.map(fromBase64), checkpoint.rootHash);
      steps.push({
        name: "Inclusion proof",
        ok: true,
        detail: `${detail.inclusionProof.hashes.length} hashes lead from the leaf to the signed root ${toBase64(checkpoint.rootHash)}`,
      });
    } catch (error) {
      steps.push({ name: "Inclusion proof", ok: false, detail: message(error) });
    }
  } else {
    steps.push({
      name: "Inclusion proof",
      ok: false,
      detail: "not checked: there is no trusted root without a valid checkpoint signature",
    });
  }

  const failed = steps.find((step) => !step.ok);
  if (failed) return { ok: false, summary: `Not verified. ${failed.name}: ${failed.detail}.`, steps };
  return {
    ok: true,
    summary:
      `Verified in this browser: this exact event is entry ${detail.index} of ${checkpoint?.origin}, ` +
      `in the tree of ${checkpoint?.treeSize} entries signed by the pinned key. Changing, removing or moving it would break this proof. ` +
      "Not proven here: that every viewer is shown this same tree (an auditor checks that with consistency proofs).",
    steps,
  };
}
