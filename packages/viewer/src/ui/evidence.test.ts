import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AuditEvent,
  canonicalJson,
  encodeEvidenceBundle,
  formatCheckpoint,
  formatEnvelope,
  generateSignerKey,
  hashLeaf,
  type NodeRef,
  parseSignerKey,
  proveInclusion,
  readZip,
  rootFromLeafHashes,
  signNote,
  utf8,
} from "@sealtrail/core";
import { ENCRYPTED, openEvidenceBundle } from "./evidence.js";

const ORIGIN = "example.test/acme";
/** A personal value as the log stores it (AES-256-GCM envelope; the bytes need not decrypt here). */
const NAME_ENVELOPE = formatEnvelope({ kid: "k_0123456789", iv: new Uint8Array(12).fill(7), ciphertext: new Uint8Array(24).fill(9) });

function event(n: number): AuditEvent {
  return {
    id: `evt-${n}`,
    action: n % 2 === 0 ? "document.deleted" : "document.viewed",
    occurredAt: "2026-11-27T12:00:00.000Z",
    actor: { type: "user", id: `u_${n}`, ...(n === 4 ? { name: NAME_ENVELOPE } : {}) },
    targets: [],
    outcome: "success",
    receivedAt: "2026-11-27T12:00:01.000Z",
    version: 1,
  };
}

/** A real bundle: a signed six-event log, the even-indexed events exported with their proofs. */
async function bundle(pick: readonly number[] = [0, 2, 4]) {
  const leaves = [0, 1, 2, 3, 4, 5].map((n) => utf8(canonicalJson(event(n))));
  const leafHashes = leaves.map(hashLeaf);
  const signer = await parseSignerKey(await generateSignerKey(ORIGIN));
  const checkpoint = await signNote(formatCheckpoint({ origin: ORIGIN, treeSize: 6, rootHash: rootFromLeafHashes(leafHashes) }), [signer]);
  const readNodes = async (nodes: readonly NodeRef[]) =>
    nodes.map((n) => rootFromLeafHashes(leafHashes.slice(n.index * 2 ** n.height, (n.index + 1) * 2 ** n.height)));
  const events = await Promise.all(
    pick.map(async (index) => ({ index, leaf: leaves[index] as Uint8Array, proof: await proveInclusion(index, 6, readNodes) })),
  );
  const bytes = encodeEvidenceBundle({
    log: "acme",
    query: "action:document.deleted",
    createdAt: "2026-11-27T13:00:00.000Z",
    verifierKey: signer.verifierKey,
    checkpoint,
    events,
    notIncluded: 2,
  });
  return { bytes, verifierKey: signer.verifierKey };
}

/** Where a file's data starts in the stored zip (30-byte local header plus the name). */
function dataOffset(bytes: Uint8Array, name: string): number {
  let at = 0;
  for (const entry of readZip(bytes)) {
    if (entry.name === name) return at + 30 + entry.name.length;
    at += 30 + entry.name.length + entry.data.length;
  }
  throw new Error(`no ${name}`);
}

describe("openEvidenceBundle", () => {
  it("without a key: verifies, says the bundle's own key was trusted and shows it, lists events newest first", async () => {
    const { bytes, verifierKey } = await bundle();
    const verdict = await openEvidenceBundle(bytes, { verifierKey: "  " });
    assert.ok(verdict.ok, verdict.ok ? "" : verdict.summary);
    assert.equal(
      verdict.summary,
      "Verified in this browser: these 3 events are, byte for byte, entries of example.test/acme, each with an inclusion proof to the checkpoint of 6 entries signed by the bundle's own key.",
    );
    assert.equal(verdict.evidence.keyPinned, false);
    assert.ok(verdict.trust.startsWith(`No verifier key was given, so the bundle's own key was trusted: ${verifierKey}.`));
    assert.deepEqual(
      verdict.hits.map((h) => [h.log, h.index, h.event.id]),
      [
        ["acme", 4, "evt-4"],
        ["acme", 2, "evt-2"],
        ["acme", 0, "evt-0"],
      ],
    );
    assert.equal(verdict.evidence.query, "action:document.deleted");
    // The encrypted name is proven as stored but shown as what it is, not as base64 noise.
    assert.equal(verdict.encrypted, 1);
    assert.equal(verdict.hits[0]?.event.actor.name, ENCRYPTED);
    assert.equal(verdict.evidence.events[2]?.event.actor.name, NAME_ENVELOPE);
    assert.equal(verdict.evidence.notIncluded, 2);
  });

  it("with the log's key pasted: says so, and one event reads in the singular", async () => {
    const { bytes, verifierKey } = await bundle([5]);
    const verdict = await openEvidenceBundle(bytes, { verifierKey: `${verifierKey}\n` });
    assert.ok(verdict.ok, verdict.ok ? "" : verdict.summary);
    assert.match(verdict.summary, /this event is, byte for byte, an entry of example\.test\/acme.*signed by the verifier key you gave\.$/);
    assert.equal(verdict.trust, `Checked against the verifier key you gave: ${verifierKey}`);
  });

  it("an empty bundle proves only the checkpoint", async () => {
    const { bytes } = await bundle([]);
    const verdict = await openEvidenceBundle(bytes);
    assert.ok(verdict.ok);
    assert.match(verdict.summary, /the checkpoint of 6 entries signed by the bundle's own key is genuine; the bundle holds no events\.$/);
  });

  it("a flipped byte fails, naming the zip part at fault", async () => {
    const { bytes, verifierKey } = await bundle();
    const altered = bytes.slice();
    const at = dataOffset(bytes, "events/2.json") + 10;
    altered[at] = (altered[at] as number) ^ 0x01;
    const verdict = await openEvidenceBundle(altered, { verifierKey });
    assert.equal(verdict.ok, false);
    assert.match(verdict.summary, /^Not verified\. .*zip data of "events\/2\.json"/);
  });

  it("another log key fails and explains the mismatch", async () => {
    const { bytes } = await bundle();
    const other = await parseSignerKey(await generateSignerKey(ORIGIN));
    const verdict = await openEvidenceBundle(bytes, { verifierKey: other.verifierKey });
    assert.deepEqual(verdict, {
      ok: false,
      code: "verifier_key_mismatch",
      summary:
        "Not verified. verifier-key.txt: is not the pinned verifier key. The bundle names another signing key than the one you gave: it is another log's bundle, or its checkpoint was not signed by the key you trust.",
    });
  });

  it("a pasted text that is no verifier key is refused as such, before the bundle is read", async () => {
    const { bytes } = await bundle();
    const verdict = await openEvidenceBundle(bytes, { verifierKey: "example.test/acme+zz+AAAA" });
    assert.equal(verdict.ok, false);
    assert.match(
      verdict.summary,
      /^Not verified: the verifier key you gave is not a verifier key \(the key ID must be 8 lowercase hex digits\)\.$/,
    );
  });

  it("a file that is not a zip fails clearly", async () => {
    const verdict = await openEvidenceBundle(utf8("hello, auditor"));
    assert.equal(verdict.ok, false);
    assert.match(verdict.summary, /^Not verified\. .*zip/);
  });
});
