import { fromBase64, toBase64 } from "./bytes.js";
import { VerificationError } from "./errors.js";
import type { Hash } from "./merkle.js";

/** C2SP tlog-proof: an entry's index, its audit path and the signed checkpoint it leads to. */
export interface TlogProof {
  readonly index: number;
  /** RFC 6962 §2.1.1 audit path, from the leaf's sibling up to the root's child. */
  readonly hashes: readonly Hash[];
  /** The signed checkpoint note, verbatim. */
  readonly checkpoint: string;
  /** Opaque, unauthenticated application data (the spec's optional `extra` line). */
  readonly extra?: Uint8Array;
}

export const TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1";
/** A tree of 2^63 leaves needs 63 hashes; more is never a valid proof. */
const MAX_PROOF_HASHES = 63;

export function formatTlogProof(proof: TlogProof): string {
  const lines = [TLOG_PROOF_HEADER];
  if (proof.extra !== undefined) lines.push(`extra ${toBase64(proof.extra)}`);
  lines.push(`index ${proof.index}`);
  for (const hash of proof.hashes) lines.push(toBase64(hash));
  return `${lines.join("\n")}\n\n${proof.checkpoint}`;
}

/** Parses the text form (c2sp.org/tlog-proof §Format) strictly; checks no signature or hash. */
export function parseTlogProof(text: string): TlogProof {
  const fail = (why: string): never => {
    throw new VerificationError("malformed_tlog_proof", `not a C2SP tlog-proof: ${why}`);
  };
  const split = text.indexOf("\n\n");
  if (split < 0) fail("no blank line before the checkpoint");
  const lines = text.slice(0, split).split("\n");
  const checkpoint = text.slice(split + 2);
  if (lines[0] !== TLOG_PROOF_HEADER) fail(`the first line must be ${TLOG_PROOF_HEADER}`);
  let at = 1;
  let extra: Uint8Array | undefined;
  if (lines[at]?.startsWith("extra ")) {
    try {
      extra = fromBase64((lines[at] as string).slice(6));
    } catch {
      fail("the extra line is not base64");
    }
    at++;
  }
  const indexLine = /^index (0|[1-9][0-9]{0,15})$/.exec(lines[at] ?? "");
  if (!indexLine || !Number.isSafeInteger(Number(indexLine[1]))) fail("expected an index line with a decimal index");
  const index = Number((indexLine as RegExpExecArray)[1]);
  const hashes = lines.slice(at + 1).map((line, i) => {
    let hash: Uint8Array | undefined;
    try {
      hash = fromBase64(line);
    } catch {
      // reported below
    }
    if (hash?.length !== 32) fail(`proof line ${i + 1} is not a base64 SHA-256 hash`);
    return hash as Hash;
  });
  if (hashes.length > MAX_PROOF_HASHES) fail("too many proof hashes");
  if (checkpoint.length === 0) fail("the checkpoint is missing");
  return { index, hashes, checkpoint, ...(extra === undefined ? {} : { extra }) };
}
