import {
  collectEnvelopes,
  parseVerifierKey,
  replaceEnvelopes,
  SealtrailError,
  type VerifiedEvidence,
  verifyEvidenceBundle,
} from "@sealtrail/core";
import type { Hit } from "./api.js";

/** What opening a bundle in the browser showed: what was proven and on whose key, or what broke. */
export type BundleVerdict =
  | {
      readonly ok: true;
      readonly evidence: VerifiedEvidence;
      /** One plain sentence: what was proven. */
      readonly summary: string;
      /** Which key the signature was checked against, and why it is (or is not) to be trusted. */
      readonly trust: string;
      /** The events as the results grid shows them: newest (highest index) first, personal values as ENCRYPTED. */
      readonly hits: readonly Hit[];
      /** How many personal values the events hold encrypted (crypto-shredding): proven as ciphertext, unreadable here. */
      readonly encrypted: number;
    }
  | { readonly ok: false; readonly summary: string; readonly code: string };

/**
 * Shown for a personal value: the leaf holds its envelope (docs/personal-data.md), which the bundle
 * proves but a browser without the log's data keys cannot open; the base64 would only be noise.
 */
export const ENCRYPTED = "[encrypted personal value]";

const plural = (n: number, one: string, many: string) => `${n.toLocaleString("en")} ${n === 1 ? one : many}`;

/**
 * Verifies an evidence bundle (the zip `sealtrail export` writes) in the browser with core's
 * isomorphic verifier, against the verifier key the user pasted (obtained out of band) or, when
 * none is given, the bundle's own key, which only proves the bundle is internally consistent.
 * Never throws: a failure is a verdict naming the file or zip part at fault.
 */
export async function openEvidenceBundle(bytes: Uint8Array, options: { readonly verifierKey?: string } = {}): Promise<BundleVerdict> {
  const pasted = options.verifierKey?.trim() || undefined;
  if (pasted !== undefined) {
    try {
      parseVerifierKey(pasted);
    } catch (error) {
      return {
        ok: false,
        code: codeOf(error),
        summary: `Not verified: the verifier key you gave is not a verifier key (${messageOf(error)}).`,
      };
    }
  }
  let evidence: VerifiedEvidence;
  try {
    evidence = await verifyEvidenceBundle(bytes, pasted === undefined ? {} : { verifierKey: pasted });
  } catch (error) {
    const code = codeOf(error);
    const why =
      code === "verifier_key_mismatch"
        ? " The bundle names another signing key than the one you gave: it is another log's bundle, or its checkpoint was not signed by the key you trust."
        : "";
    const what = error instanceof SealtrailError ? messageOf(error) : `the file is not a readable evidence bundle (${messageOf(error)})`;
    return { ok: false, code, summary: `Not verified. ${what}.${why}` };
  }
  return {
    ok: true,
    evidence,
    summary: provenSentence(evidence),
    trust: evidence.keyPinned
      ? `Checked against the verifier key you gave: ${evidence.verifierKey}`
      : `No verifier key was given, so the bundle's own key was trusted: ${evidence.verifierKey}. ` +
        "Anyone can sign a bundle with a key of their own: compare this key with the one the log's operator published, or paste that key and verify again.",
    hits: evidence.events.map((e) => ({ log: evidence.log, index: e.index, event: hidePersonal(e.event) })).reverse(),
    encrypted: evidence.events.reduce((n, e) => n + collectEnvelopes(e.event).length, 0),
  };
}

function hidePersonal<T>(event: T): T {
  return replaceEnvelopes(event, new Map(collectEnvelopes(event).map((envelope) => [envelope, ENCRYPTED])));
}

function provenSentence(evidence: VerifiedEvidence): string {
  const count = evidence.events.length;
  const tree = `the checkpoint of ${plural(evidence.checkpoint.treeSize, "entry", "entries")} signed by ${
    evidence.keyPinned ? "the verifier key you gave" : "the bundle's own key"
  }`;
  if (count === 0) return `Verified in this browser: ${tree} is genuine; the bundle holds no events.`;
  const subject =
    count === 1 ? "this event is, byte for byte, an entry" : `these ${plural(count, "event", "events")} are, byte for byte, entries`;
  return `Verified in this browser: ${subject} of ${evidence.origin}, each with an inclusion proof to ${tree}.`;
}

function codeOf(error: unknown): string {
  return error instanceof SealtrailError ? error.code : "malformed_bundle";
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\.$/, "");
}
