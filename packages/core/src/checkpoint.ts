import { fromBase64, toBase64 } from "./bytes.js";
import { VerificationError } from "./errors.js";
import type { Hash } from "./merkle.js";
import { type NoteVerifier, openNote } from "./note.js";

export interface Checkpoint {
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: Hash;
  /** Optional extension lines (C2SP tlog-checkpoint), without their newlines. */
  readonly extensions: readonly string[];
}

/** C2SP tlog-checkpoint body: origin, decimal size, base64 root hash, extension lines. */
export function formatCheckpoint(checkpoint: Omit<Checkpoint, "extensions"> & { extensions?: readonly string[] }): string {
  if (checkpoint.origin.length === 0 || /[\n\r]/.test(checkpoint.origin)) {
    throw new VerificationError("malformed_checkpoint", "origin must be a non-empty single line");
  }
  const lines = [checkpoint.origin, String(checkpoint.treeSize), toBase64(checkpoint.rootHash), ...(checkpoint.extensions ?? [])];
  return `${lines.join("\n")}\n`;
}

export function parseCheckpointText(text: string): Checkpoint {
  if (!text.endsWith("\n")) throw new VerificationError("malformed_checkpoint", "checkpoint must end with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) throw new VerificationError("malformed_checkpoint", "checkpoint needs origin, size and root hash");
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) throw new VerificationError("malformed_checkpoint", "empty origin");
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    throw new VerificationError("malformed_checkpoint", "tree size must be a decimal integer without leading zeros");
  }
  let rootHash: Uint8Array;
  try {
    rootHash = fromBase64(rootText);
  } catch (cause) {
    throw new VerificationError("malformed_checkpoint", "root hash is not valid base64", { cause });
  }
  if (rootHash.length !== 32) throw new VerificationError("malformed_checkpoint", "root hash must be 32 bytes");
  if (extensions.some((line) => line.length === 0)) throw new VerificationError("malformed_checkpoint", "empty extension line");
  return { origin, treeSize: Number(sizeText), rootHash, extensions };
}

/**
 * Opens a signed checkpoint: signature by a trusted key, then the origin the caller expects.
 * Checking the origin stops a valid checkpoint of one log from passing for another's.
 */
export async function openCheckpoint(
  note: string | Uint8Array,
  options: { verifiers: readonly NoteVerifier[]; origin: string },
): Promise<Checkpoint & { note: string }> {
  const opened = await openNote(note, options.verifiers);
  const checkpoint = parseCheckpointText(opened.text);
  if (checkpoint.origin !== options.origin) {
    throw new VerificationError("wrong_origin", `checkpoint is for origin "${checkpoint.origin}", expected "${options.origin}"`);
  }
  return { ...checkpoint, note: typeof note === "string" ? note : new TextDecoder().decode(note) };
}
