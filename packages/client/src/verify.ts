/**
 * Verification helpers that run anywhere core runs (browsers included): they import nothing but
 * @sealtrail/core, which is isomorphic. Exported alone as `@sealtrail/client/verify`.
 */
import {
  type AuditEvent,
  bytesEqual,
  fromBase64,
  fromUtf8,
  hashLeaf,
  openCheckpoint,
  parseVerifierKey,
  toBase64,
  VerificationError,
  verifyConsistency,
  verifyInclusion,
} from "@sealtrail/core";

/** `GET /v1/logs/{log}/events/{id}` as the server answers it. */
export interface WireEventProof {
  readonly log: string;
  readonly index: number;
  readonly event: AuditEvent;
  /** The stored leaf bytes, base64: what was hashed. */
  readonly leaf: string;
  readonly leafHash: string;
  readonly inclusionProof: { readonly treeSize: number; readonly rootHash: string; readonly hashes: readonly string[] };
  /** The signed checkpoint (C2SP tlog-checkpoint) the proof leads to. */
  readonly checkpoint: string;
}

/** A verified event: `event` is parsed from the leaf bytes that were proven, never taken on trust. */
export interface EventProof extends WireEventProof {
  readonly verifierKey: string;
}

/**
 * The origin a verifier key signs for: a log's key is named after its origin (`<prefix>/<log>`);
 * a server key that could not be renamed signs as `<prefix>` and the log is appended.
 */
export function originFor(verifierKey: string, log: string): string {
  const name = parseVerifierKey(verifierKey).name;
  return name.endsWith(`/${log}`) ? name : `${name}/${log}`;
}

function decode(text: string, what: string): Uint8Array {
  try {
    return fromBase64(text);
  } catch (cause) {
    throw new VerificationError("invalid_proof", `${what} is not base64`, { cause });
  }
}

/**
 * Checks an event proof end to end: the checkpoint is signed by `verifierKey` for this log's
 * origin, the leaf hashes to the leaf hash (RFC 6962 §2.1: SHA-256(0x00 ‖ leaf)), and the RFC 9162
 * §2.1.3.2 audit path leads from it to the signed root. Throws VerificationError otherwise.
 */
export async function verifyEventProof(proof: WireEventProof, options: { verifierKey: string }): Promise<EventProof> {
  const checkpoint = await openCheckpoint(proof.checkpoint, {
    verifiers: [parseVerifierKey(options.verifierKey)],
    origin: originFor(options.verifierKey, proof.log),
  });
  if (checkpoint.treeSize !== proof.inclusionProof.treeSize) {
    throw new VerificationError(
      "invalid_proof",
      `the proof is for size ${proof.inclusionProof.treeSize}, the checkpoint for ${checkpoint.treeSize}`,
    );
  }
  const leaf = decode(proof.leaf, "leaf");
  const leafHash = hashLeaf(leaf);
  if (!bytesEqual(leafHash, decode(proof.leafHash, "leafHash"))) {
    throw new VerificationError("invalid_proof", "the leaf bytes do not hash to the leaf hash");
  }
  verifyInclusion(
    proof.index,
    checkpoint.treeSize,
    leafHash,
    proof.inclusionProof.hashes.map((h) => decode(h, "proof hash")),
    checkpoint.rootHash,
  );
  let event: AuditEvent;
  try {
    event = JSON.parse(fromUtf8(leaf)) as AuditEvent;
  } catch (cause) {
    throw new VerificationError("invalid_proof", "the proven leaf is not JSON", { cause });
  }
  return {
    log: proof.log,
    index: proof.index,
    event,
    leaf: proof.leaf,
    leafHash: toBase64(leafHash),
    inclusionProof: { treeSize: checkpoint.treeSize, rootHash: toBase64(checkpoint.rootHash), hashes: [...proof.inclusionProof.hashes] },
    checkpoint: checkpoint.note,
    verifierKey: options.verifierKey,
  };
}

/** Opens a checkpoint signed for `log` by `verifierKey`; throws VerificationError if it is not. */
export async function openLogCheckpoint(
  note: string,
  options: { verifierKey: string; log: string },
): Promise<{ treeSize: number; rootHash: Uint8Array; note: string }> {
  const cp = await openCheckpoint(note, {
    verifiers: [parseVerifierKey(options.verifierKey)],
    origin: originFor(options.verifierKey, options.log),
  });
  return { treeSize: cp.treeSize, rootHash: cp.rootHash, note: cp.note };
}

/** RFC 9162 §2.1.4.2 with base64 inputs, as the consistency route answers them. */
export function verifyConsistencyProof(
  from: { treeSize: number; rootHash: Uint8Array },
  to: { treeSize: number; rootHash: Uint8Array },
  hashes: readonly string[],
): void {
  verifyConsistency(
    from.treeSize,
    to.treeSize,
    from.rootHash,
    to.rootHash,
    hashes.map((h) => decode(h, "proof hash")),
  );
}
