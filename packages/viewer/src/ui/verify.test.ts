import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AuditEvent,
  canonicalJson,
  formatCheckpoint,
  generateSignerKey,
  hashLeaf,
  type NodeRef,
  parseSignerKey,
  proveInclusion,
  rootFromLeafHashes,
  signNote,
  toBase64,
  utf8,
} from "@sealtrail/core";
import type { EventDetail } from "./api.js";
import { verifyEvent } from "./verify.js";

const ORIGIN = "example.test/acme";

function event(n: number): AuditEvent {
  return {
    id: `evt-${n}`,
    action: "document.shared",
    occurredAt: "2026-11-27T12:00:00.000Z",
    actor: { type: "user", id: `u_${n}` },
    targets: [],
    outcome: "success",
    receivedAt: "2026-11-27T12:00:01.000Z",
    version: 1,
  };
}

/** A signed five-event log and the server's answer for event `index`, as GET /v1/logs/{log}/events/{id} gives it. */
async function fixture(index: number) {
  const events = [0, 1, 2, 3, 4].map(event);
  const leaves = events.map((e) => utf8(canonicalJson(e)));
  const leafHashes = leaves.map(hashLeaf);
  const root = rootFromLeafHashes(leafHashes);
  const signer = await parseSignerKey(await generateSignerKey(ORIGIN));
  const checkpoint = await signNote(formatCheckpoint({ origin: ORIGIN, treeSize: 5, rootHash: root }), [signer]);
  const readNodes = async (nodes: readonly NodeRef[]) =>
    nodes.map((n) => rootFromLeafHashes(leafHashes.slice(n.index * 2 ** n.height, (n.index + 1) * 2 ** n.height)));
  const hashes = await proveInclusion(index, 5, readNodes);
  const detail: EventDetail = {
    log: "acme",
    index,
    event: events[index] as AuditEvent,
    leaf: toBase64(leaves[index] as Uint8Array),
    leafHash: toBase64(leafHashes[index] as Uint8Array),
    inclusionProof: { treeSize: 5, rootHash: toBase64(root), hashes: hashes.map(toBase64) },
    checkpoint,
  };
  return { detail, verifierKey: signer.verifierKey, leaves };
}

describe("verifyEvent", () => {
  it("proves a genuine event: leaf hash, shown = stored, signature, inclusion", async () => {
    const { detail, verifierKey } = await fixture(3);
    const result = await verifyEvent(detail, { verifierKey, origin: ORIGIN });
    assert.equal(result.ok, true, result.summary);
    assert.deepEqual(
      result.steps.map((s) => [s.name, s.ok]),
      [
        ["Leaf hash", true],
        ["Shown = stored", true],
        ["Checkpoint signature", true],
        ["Inclusion proof", true],
      ],
    );
    assert.match(result.summary, /entry 3 of example\.test\/acme, in the tree of 5 entries/);
  });

  it("fails on changed leaf bytes and says the event was changed after it was logged", async () => {
    const { detail, verifierKey, leaves } = await fixture(2);
    const tampered = new TextDecoder().decode(leaves[2]).replace("u_2", "u_9");
    const result = await verifyEvent(
      { ...detail, leaf: toBase64(utf8(tampered)), event: JSON.parse(tampered) },
      { verifierKey, origin: ORIGIN },
    );
    assert.equal(result.ok, false);
    assert.match(result.summary, /^Not verified\. Leaf hash: .*the event was changed after it was logged/);
    assert.equal(result.steps.find((s) => s.name === "Inclusion proof")?.ok, false);
  });

  it("fails when the event shown is not the stored leaf", async () => {
    const { detail, verifierKey } = await fixture(1);
    const result = await verifyEvent({ ...detail, event: { ...detail.event, action: "user.deleted" } }, { verifierKey, origin: ORIGIN });
    assert.equal(result.ok, false);
    assert.match(result.summary, /Shown = stored: the event shown is not the stored leaf/);
  });

  it("trusts only the pinned key and the signed root, not the JSON's root hash", async () => {
    const { detail } = await fixture(0);
    const other = await parseSignerKey(await generateSignerKey(ORIGIN));
    const byOtherKey = await verifyEvent(detail, { verifierKey: other.verifierKey, origin: ORIGIN });
    assert.equal(byOtherKey.ok, false);
    assert.match(byOtherKey.summary, /Checkpoint signature: note is not signed by any trusted key/);
    assert.match(byOtherKey.steps[3]?.detail ?? "", /not checked/);
  });

  it("refuses a checkpoint of another log (origin)", async () => {
    const { detail, verifierKey } = await fixture(0);
    const result = await verifyEvent(detail, { verifierKey, origin: "example.test/globex" });
    assert.equal(result.ok, false);
    assert.match(result.summary, /checkpoint is for origin "example\.test\/acme", expected "example\.test\/globex"/);
  });

  it("fails a proof with a flipped hash", async () => {
    const { detail, verifierKey } = await fixture(4);
    const hashes = [...detail.inclusionProof.hashes];
    hashes[0] = toBase64(new Uint8Array(32));
    const result = await verifyEvent({ ...detail, inclusionProof: { ...detail.inclusionProof, hashes } }, { verifierKey, origin: ORIGIN });
    assert.equal(result.ok, false);
    assert.match(result.summary, /Inclusion proof: leaf 4 is not included in the tree of size 5/);
  });
});
