import { bytesEqual, fromUtf8, toBase64, utf8 } from "./bytes.js";
import { canonicalJson } from "./canonical-json.js";
import { openCheckpoint, parseCheckpointText } from "./checkpoint.js";
import { SealtrailError, VerificationError } from "./errors.js";
import { type AuditEvent, MAX_LEAF_BYTES } from "./event.js";
import { LOG_NAME_PATTERN } from "./log-name.js";
import { type Hash, hashLeaf, verifyInclusion } from "./merkle.js";
import { parseNote, parseVerifierKey } from "./note.js";
import { parseQuery } from "./query-language.js";
import { normalizeTimestamp } from "./timestamp.js";
import { formatTlogProof, parseTlogProof } from "./tlog-proof.js";
import { readZip, writeZip, type ZipEntry } from "./zip.js";

/**
 * Evidence bundles: a zip an auditor checks offline. It holds the matching events as their exact
 * leaf bytes, one C2SP tlog-proof per event (audit path to one signed checkpoint), that checkpoint,
 * the verifier key, a canonical-JSON manifest and a summary for people. Only the checkpoint is
 * signed; everything else either hashes up to it or must agree exactly with the manifest.
 */
export const EVIDENCE_FORMAT = "sealtrail-evidence/v1";
/** Two zip entries per event and a 16-bit entry count: 10,000 events keeps well inside it. */
export const MAX_EVIDENCE_EVENTS = 10_000;
const MAX_QUERY_LENGTH = 4096;

export interface EvidenceEventInput {
  readonly index: number;
  /** The leaf bytes exactly as stored and hashed. */
  readonly leaf: Uint8Array;
  /** Audit path of `index` in the checkpoint's tree. */
  readonly proof: readonly Hash[];
}

export interface EvidenceBundleInput {
  readonly log: string;
  /** The query that selected the events, as the user wrote it (relative times resolve at `createdAt`). */
  readonly query: string;
  readonly createdAt: string;
  readonly verifierKey: string;
  /** The signed checkpoint note every proof leads to. */
  readonly checkpoint: string;
  /** In increasing index order, all below the checkpoint's tree size. */
  readonly events: readonly EvidenceEventInput[];
  /** Matching events too new for the checkpoint, left out (the summary says so). */
  readonly notIncluded?: number;
}

interface Manifest {
  format: string;
  log: string;
  origin: string;
  query: string;
  createdAt: string;
  verifierKey: string;
  checkpoint: { treeSize: number; rootHash: string };
  events: { index: number; id: string; leafHash: string }[];
  notIncluded: number;
}

export interface VerifiedEvidenceEvent {
  readonly index: number;
  readonly id: string;
  readonly leafHash: Hash;
  /** The verified leaf bytes; `event` is their parse. */
  readonly leaf: Uint8Array;
  readonly event: AuditEvent;
}

export interface VerifiedEvidence {
  readonly log: string;
  readonly origin: string;
  /** Stated by whoever made the bundle: not signed (see the summary's limits). */
  readonly query: string;
  readonly createdAt: string;
  readonly verifierKey: string;
  /** True when the caller pinned the verifier key; otherwise the bundle's own key was trusted. */
  readonly keyPinned: boolean;
  readonly checkpoint: { readonly treeSize: number; readonly rootHash: Hash; readonly note: string };
  readonly events: readonly VerifiedEvidenceEvent[];
  readonly notIncluded: number;
}

export interface VerifyEvidenceOptions {
  /** The log's verifier key as obtained out of band; strongly recommended. */
  readonly verifierKey?: string;
}

const FIXED_FILES = ["summary.txt", "manifest.json", "checkpoint.txt", "verifier-key.txt"] as const;
const eventFile = (index: number) => `events/${index}.json`;
const proofFile = (index: number) => `proofs/${index}.tlog-proof`;

function leafId(leaf: Uint8Array): string {
  const parsed = JSON.parse(fromUtf8(leaf)) as { id?: unknown };
  if (typeof parsed?.id !== "string") throw new VerificationError("malformed_bundle", "a leaf has no event id");
  return parsed.id;
}

/** Builds the bundle's bytes. Deterministic: the same input always gives the same zip. */
export function encodeEvidenceBundle(input: EvidenceBundleInput): Uint8Array {
  const checkpoint = parseCheckpointText(parseNote(input.checkpoint).text);
  if (input.events.length > MAX_EVIDENCE_EVENTS) {
    throw new VerificationError("malformed_bundle", `a bundle holds at most ${MAX_EVIDENCE_EVENTS} events`);
  }
  let previous = -1;
  for (const event of input.events) {
    if (event.index <= previous || event.index >= checkpoint.treeSize) {
      throw new VerificationError("malformed_bundle", "events must be in increasing index order, inside the checkpoint's tree");
    }
    previous = event.index;
  }
  const manifest: Manifest = {
    format: EVIDENCE_FORMAT,
    log: input.log,
    origin: checkpoint.origin,
    query: input.query,
    createdAt: input.createdAt,
    verifierKey: input.verifierKey,
    checkpoint: { treeSize: checkpoint.treeSize, rootHash: toBase64(checkpoint.rootHash) },
    events: input.events.map((e) => ({ index: e.index, id: leafId(e.leaf), leafHash: toBase64(hashLeaf(e.leaf)) })),
    notIncluded: input.notIncluded ?? 0,
  };
  const entries: ZipEntry[] = [
    { name: "summary.txt", data: utf8(renderSummary(manifest)) },
    { name: "manifest.json", data: utf8(canonicalJson(manifest)) },
    { name: "checkpoint.txt", data: utf8(input.checkpoint) },
    { name: "verifier-key.txt", data: utf8(`${input.verifierKey}\n`) },
    ...input.events.map((e) => ({ name: eventFile(e.index), data: e.leaf })),
    ...input.events.map((e) => ({
      name: proofFile(e.index),
      data: utf8(formatTlogProof({ index: e.index, hashes: e.proof, checkpoint: input.checkpoint })),
    })),
  ];
  return writeZip(entries);
}

/** Fails with a VerificationError whose message starts with the file at fault. */
function inFile(file: string, code: string, what: string, cause?: unknown): never {
  throw new VerificationError(code, `${file}: ${what}`, cause === undefined ? undefined : { cause });
}

function rethrowIn(file: string, error: unknown): never {
  if (error instanceof SealtrailError) inFile(file, error.code, error.message, error);
  inFile(file, "malformed_bundle", "cannot be read", error);
}

function parseManifest(bytes: Uint8Array): Manifest {
  const file = "manifest.json";
  let text: string;
  let value: unknown;
  try {
    text = fromUtf8(bytes);
    value = JSON.parse(text);
  } catch (error) {
    inFile(file, "malformed_bundle", "is not JSON", error);
  }
  if (canonicalJson(value) !== text) inFile(file, "malformed_bundle", "is not in canonical form (RFC 8785): it was edited");
  const m = value as Manifest;
  const bad = (what: string): never => inFile(file, "malformed_bundle", what);
  const isIndex = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  if (typeof m !== "object" || m === null || Array.isArray(m)) bad("is not an object");
  const keys = Object.keys(m).sort().join(",");
  if (keys !== "checkpoint,createdAt,events,format,log,notIncluded,origin,query,verifierKey") bad("has missing or unknown fields");
  if (m.format !== EVIDENCE_FORMAT) bad(`format must be ${EVIDENCE_FORMAT}`);
  if (typeof m.log !== "string" || !LOG_NAME_PATTERN.test(m.log)) bad("log is not a log name");
  if (typeof m.origin !== "string" || !m.origin.endsWith(`/${m.log}`)) bad("origin is not the log's origin");
  if (typeof m.query !== "string" || m.query.length > MAX_QUERY_LENGTH) bad("query is not a query");
  if (typeof m.createdAt !== "string" || normalizeTimestamp(m.createdAt) === undefined) bad("createdAt is not a timestamp");
  if (typeof m.verifierKey !== "string") bad("verifierKey is missing");
  const cp = m.checkpoint as Manifest["checkpoint"] | undefined;
  if (typeof cp !== "object" || cp === null || !isIndex(cp.treeSize) || typeof cp.rootHash !== "string") bad("checkpoint is malformed");
  if (!isIndex(m.notIncluded)) bad("notIncluded is not a count");
  if (!Array.isArray(m.events) || m.events.length > MAX_EVIDENCE_EVENTS) bad(`events must be a list of at most ${MAX_EVIDENCE_EVENTS}`);
  let previous = -1;
  for (const [i, e] of m.events.entries()) {
    if (typeof e !== "object" || e === null || Object.keys(e).sort().join(",") !== "id,index,leafHash") bad(`events[${i}] is malformed`);
    if (!isIndex(e.index) || e.index <= previous || e.index >= m.checkpoint.treeSize) {
      bad(`events[${i}] index must increase and be inside the checkpoint's tree`);
    }
    if (typeof e.id !== "string" || typeof e.leafHash !== "string") bad(`events[${i}] is malformed`);
    previous = e.index;
  }
  try {
    parseQuery(m.query, { now: new Date(m.createdAt) });
  } catch (error) {
    inFile(file, "malformed_bundle", "query does not parse", error);
  }
  return m;
}

/**
 * Verifies an evidence bundle offline: the zip structure (any changed byte is caught), the manifest
 * against every file, each leaf hash, each inclusion proof against the checkpoint's root, and the
 * checkpoint's signature under `options.verifierKey` (else the bundle's own key). Throws a
 * VerificationError whose message names the file that does not check out.
 */
export async function verifyEvidenceBundle(bytes: Uint8Array, options: VerifyEvidenceOptions = {}): Promise<VerifiedEvidence> {
  const entries = readZip(bytes);
  const files = new Map(entries.map((e) => [e.name, e.data]));
  FIXED_FILES.forEach((name, i) => {
    if (entries[i]?.name !== name) inFile(name, "malformed_bundle", `expected as entry ${i + 1} of the zip`);
  });
  const manifest = parseManifest(files.get("manifest.json") as Uint8Array);
  const expected = [...FIXED_FILES, ...manifest.events.map((e) => eventFile(e.index)), ...manifest.events.map((e) => proofFile(e.index))];
  for (const [i, name] of expected.entries()) {
    const actual = entries[i]?.name;
    if (actual !== name) {
      if (!files.has(name)) inFile(name, "bundle_inconsistent", "is listed in manifest.json but missing");
      if (actual === undefined || !expected.includes(actual))
        inFile(actual ?? name, "bundle_inconsistent", "is not listed in manifest.json");
      inFile(actual, "bundle_inconsistent", `is out of place (expected ${name})`);
    }
  }
  if (entries.length > expected.length)
    inFile(entries[expected.length]?.name as string, "bundle_inconsistent", "is not listed in manifest.json");

  const bundledKey = fromUtf8(files.get("verifier-key.txt") as Uint8Array);
  if (bundledKey !== `${manifest.verifierKey}\n`) inFile("verifier-key.txt", "bundle_inconsistent", "does not match manifest.json");
  let verifier: ReturnType<typeof parseVerifierKey>;
  try {
    verifier = parseVerifierKey(options.verifierKey ?? manifest.verifierKey);
  } catch (error) {
    if (options.verifierKey !== undefined) throw error;
    rethrowIn("verifier-key.txt", error);
  }
  if (options.verifierKey !== undefined && options.verifierKey.trim() !== manifest.verifierKey) {
    inFile("verifier-key.txt", "verifier_key_mismatch", "is not the pinned verifier key");
  }

  const note = fromUtf8(files.get("checkpoint.txt") as Uint8Array);
  let checkpoint: Awaited<ReturnType<typeof openCheckpoint>>;
  try {
    checkpoint = await openCheckpoint(note, { verifiers: [verifier], origin: manifest.origin });
  } catch (error) {
    rethrowIn("checkpoint.txt", error);
  }
  if (checkpoint.treeSize !== manifest.checkpoint.treeSize || toBase64(checkpoint.rootHash) !== manifest.checkpoint.rootHash) {
    inFile("manifest.json", "bundle_inconsistent", "checkpoint size or root hash differ from checkpoint.txt");
  }

  const events: VerifiedEvidenceEvent[] = [];
  for (const listed of manifest.events) {
    const file = eventFile(listed.index);
    const leaf = files.get(file) as Uint8Array;
    if (leaf.length > MAX_LEAF_BYTES) inFile(file, "malformed_bundle", `is larger than a leaf can be (${MAX_LEAF_BYTES} bytes)`);
    const leafHash = hashLeaf(leaf);
    if (toBase64(leafHash) !== listed.leafHash)
      inFile(file, "leaf_hash_mismatch", "its leaf hash differs from manifest.json: the event was altered");
    let event: AuditEvent;
    try {
      const text = fromUtf8(leaf);
      event = JSON.parse(text) as AuditEvent;
      if (canonicalJson(event) !== text) inFile(file, "malformed_bundle", "is not canonical JSON, so it is not a Sealtrail leaf");
    } catch (error) {
      rethrowIn(file, error);
    }
    if (event.id !== listed.id) inFile(file, "bundle_inconsistent", "event id differs from manifest.json");

    const pFile = proofFile(listed.index);
    let proof: ReturnType<typeof parseTlogProof>;
    try {
      proof = parseTlogProof(fromUtf8(files.get(pFile) as Uint8Array));
    } catch (error) {
      rethrowIn(pFile, error);
    }
    if (proof.index !== listed.index) inFile(pFile, "bundle_inconsistent", `is for index ${proof.index}, not ${listed.index}`);
    if (proof.extra !== undefined) inFile(pFile, "bundle_inconsistent", "carries unexpected extra data");
    if (proof.checkpoint !== note) inFile(pFile, "bundle_inconsistent", "embeds a checkpoint other than checkpoint.txt");
    try {
      verifyInclusion(listed.index, checkpoint.treeSize, leafHash, proof.hashes, checkpoint.rootHash);
    } catch (error) {
      rethrowIn(pFile, error);
    }
    events.push({ index: listed.index, id: listed.id, leafHash, leaf, event });
  }

  if (!bytesEqual(files.get("summary.txt") as Uint8Array, utf8(renderSummary(manifest)))) {
    inFile("summary.txt", "bundle_inconsistent", "does not match manifest.json: it was edited");
  }
  return {
    log: manifest.log,
    origin: manifest.origin,
    query: manifest.query,
    createdAt: manifest.createdAt,
    verifierKey: manifest.verifierKey,
    keyPinned: options.verifierKey !== undefined,
    checkpoint: { treeSize: checkpoint.treeSize, rootHash: checkpoint.rootHash, note },
    events,
    notIncluded: manifest.notIncluded,
  };
}

function renderSummary(m: Manifest): string {
  const count = m.events.length;
  const indexes = m.events.map((e) => e.index);
  const shown = indexes.length <= 20 ? indexes.join(", ") : `${indexes.slice(0, 20).join(", ")}, … (${indexes.length - 20} more)`;
  const lines = [
    "Sealtrail evidence bundle",
    "=========================",
    "",
    `Log:           ${m.log} (checkpoint origin ${m.origin})`,
    `Query:         ${m.query === "" ? "(every event)" : m.query}`,
    `Created:       ${m.createdAt}`,
    `Events:        ${count} matching event${count === 1 ? "" : "s"}, each with an inclusion proof${count > 0 ? ` (log indexes ${shown})` : ""}`,
    `Checkpoint:    tree size ${m.checkpoint.treeSize}, root hash ${m.checkpoint.rootHash}`,
    `Verifier key:  ${m.verifierKey}`,
    ...(m.notIncluded > 0
      ? [`Not included:  ${m.notIncluded} matching event(s) newer than this checkpoint; export again later to include them.`]
      : []),
    "",
    "Files",
    "-----",
    "manifest.json           what is in the bundle (RFC 8785 canonical JSON)",
    "checkpoint.txt          the log's signed checkpoint (C2SP tlog-checkpoint, signed-note with Ed25519)",
    "verifier-key.txt        the key that signed it, as <name>+<key ID>+<base64 key>",
    "events/<index>.json     each event: the exact bytes the log hashed (RFC 8785 JSON)",
    "proofs/<index>.tlog-proof  each event's inclusion proof to checkpoint.txt (C2SP tlog-proof)",
    "",
    "Verify with the Sealtrail CLI (offline, no server needed)",
    "---------------------------------------------------------",
    "  npx sealtrail verify evidence.zip --verifier-key '<the key the log operator published>'",
    "",
    "Verify by hand",
    "--------------",
    "1. Obtain the log's verifier key independently (not from this file) and compare it with",
    "   verifier-key.txt. Its last part is base64(0x01 || 32-byte Ed25519 public key).",
    "2. checkpoint.txt is origin, tree size and base64 root hash, a blank line, then signature lines",
    "   '— <name> base64(4-byte key ID || 64-byte signature)'. Check the Ed25519 signature over the",
    "   text above the blank line (including its final newline) with the public key.",
    "3. For each events/<index>.json: leaf hash = SHA-256(0x00 || the file's bytes). It must equal",
    "   the leafHash listed for that index in manifest.json.",
    "4. For each proofs/<index>.tlog-proof: after 'index <index>' come the audit path hashes (base64),",
    "   from the leaf's sibling upwards. Fold them with the leaf hash as RFC 9162 §2.1.3.2 describes,",
    "   using node = SHA-256(0x01 || left || right); the result must be the root hash in checkpoint.txt.",
    "   The checkpoint after the blank line must be checkpoint.txt, byte for byte.",
    "",
    "What this proves, and what it does not",
    "---------------------------------------",
    "Each included event is, byte for byte, entry <index> of the log whose signed checkpoint is",
    "checkpoint.txt: nobody can alter, drop or reorder it without the proof failing. To check that the",
    "log itself was not rewritten later, compare this checkpoint with one published elsewhere",
    "(sealtrail verify --against). The query, the creation time and whether every matching event is",
    "included are stated by whoever made the bundle; they are not signed.",
    "",
  ];
  return lines.join("\n");
}
