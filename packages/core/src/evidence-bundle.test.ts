import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromUtf8, utf8 } from "./bytes.js";
import { canonicalJson } from "./canonical-json.js";
import { formatCheckpoint } from "./checkpoint.js";
import { VerificationError } from "./errors.js";
import { type EvidenceBundleInput, encodeEvidenceBundle, verifyEvidenceBundle } from "./evidence-bundle.js";
import { hashLeaf, proveInclusion, rootFromLeafHashes } from "./merkle.js";
import { generateSignerKey, parseSignerKey, signNote } from "./note.js";
import { seededRandom } from "./seeded-random.js";
import { buildMemoryTree } from "./test-tree.js";
import { formatTlogProof, parseTlogProof } from "./tlog-proof.js";
import { readZip, writeZip } from "./zip.js";

const ORIGIN = "audit.example.com/acme";

function leafOf(i: number): Uint8Array {
  const event = {
    action: i % 2 === 0 ? "document.shared" : "user.login",
    actor: { id: `u_${i % 3}`, type: "user" },
    id: `evt-${i}`,
    occurredAt: "2026-11-27T12:00:00.000Z",
    outcome: "success",
    receivedAt: "2026-11-27T12:00:01.000Z",
    targets: [],
    version: 1,
  };
  return utf8(canonicalJson(event));
}

async function fixture(options: { size?: number; indexes?: number[] } = {}) {
  const size = options.size ?? 37;
  const leaves = Array.from({ length: size }, (_, i) => leafOf(i));
  const hashes = leaves.map(hashLeaf);
  const tree = buildMemoryTree(hashes);
  const signer = await parseSignerKey(await generateSignerKey(ORIGIN));
  const other = await parseSignerKey(await generateSignerKey(ORIGIN));
  const note = await signNote(formatCheckpoint({ origin: ORIGIN, treeSize: size, rootHash: rootFromLeafHashes(hashes) }), [signer]);
  const indexes = options.indexes ?? [0, 3, 17, 36];
  const input: EvidenceBundleInput = {
    log: "acme",
    query: "actor:u_0",
    createdAt: "2026-11-27T13:00:00.000Z",
    verifierKey: signer.verifierKey,
    checkpoint: note,
    events: await Promise.all(
      indexes.map(async (index) => ({
        index,
        leaf: leaves[index] as Uint8Array,
        proof: await proveInclusion(index, size, tree.nodeReader(size)),
      })),
    ),
  };
  return { input, bundle: encodeEvidenceBundle(input), signer, other, leaves };
}

function rejects(pattern: RegExp, code?: string) {
  return (error: unknown) => {
    assert.ok(error instanceof VerificationError, `expected a VerificationError, got ${String(error)}`);
    if (code) assert.equal(error.code, code, error.message);
    assert.match(error.message, pattern);
    return true;
  };
}

/** Rewrites one file of the bundle and re-zips it with correct CRCs: what a deliberate forger does. */
function rewrite(bundle: Uint8Array, name: string, edit: (data: Uint8Array) => Uint8Array): Uint8Array {
  return writeZip(readZip(bundle).map((e) => (e.name === name ? { name, data: edit(e.data) } : e)));
}

const text = (edit: (s: string) => string) => (data: Uint8Array) => utf8(edit(fromUtf8(data)));

describe("C2SP tlog-proof text", () => {
  it("round-trips index, hashes, extra data and the checkpoint", () => {
    const proof = {
      index: 5,
      hashes: [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)],
      checkpoint: "o\n1\nAAAA\n\n— o x\n",
      extra: utf8("x"),
    };
    const formatted = formatTlogProof(proof);
    assert.ok(formatted.startsWith("c2sp.org/tlog-proof@v1\nextra eA==\nindex 5\nAQEB"));
    assert.deepEqual(parseTlogProof(formatted), proof);
  });

  it("refuses a wrong header, a leading zero, a bad hash line and a missing checkpoint", () => {
    const ok = formatTlogProof({ index: 1, hashes: [new Uint8Array(32)], checkpoint: "cp\n" });
    for (const bad of [
      ok.replace("@v1", "@v2"),
      ok.replace("index 1", "index 01"),
      ok.replace("AAAA", "AA*A"),
      ok.replace("\n\ncp\n", "\n\n"),
      "x",
    ]) {
      assert.throws(() => parseTlogProof(bad), rejects(/tlog-proof/, "malformed_tlog_proof"));
    }
  });
});

describe("evidence bundles", () => {
  it("verify offline: every event with its leaf, id and proof, under the bundled or a pinned key", async () => {
    const { bundle, signer } = await fixture();
    const result = await verifyEvidenceBundle(bundle, { verifierKey: signer.verifierKey });
    assert.equal(result.log, "acme");
    assert.equal(result.origin, ORIGIN);
    assert.equal(result.keyPinned, true);
    assert.equal(result.checkpoint.treeSize, 37);
    assert.deepEqual(
      result.events.map((e) => [e.index, e.id]),
      [
        [0, "evt-0"],
        [3, "evt-3"],
        [17, "evt-17"],
        [36, "evt-36"],
      ],
    );
    assert.equal((await verifyEvidenceBundle(bundle)).keyPinned, false);
  });

  it("verify with no events, and with a single-leaf tree", async () => {
    await verifyEvidenceBundle((await fixture({ indexes: [] })).bundle);
    await verifyEvidenceBundle((await fixture({ size: 1, indexes: [0] })).bundle);
  });

  it("hold summary, manifest, checkpoint, key, then events and proofs, readable by people", async () => {
    const { bundle, input } = await fixture();
    const entries = readZip(bundle);
    assert.deepEqual(
      entries.map((e) => e.name),
      [
        "summary.txt",
        "manifest.json",
        "checkpoint.txt",
        "verifier-key.txt",
        "events/0.json",
        "events/3.json",
        "events/17.json",
        "events/36.json",
        "proofs/0.tlog-proof",
        "proofs/3.tlog-proof",
        "proofs/17.tlog-proof",
        "proofs/36.tlog-proof",
      ],
    );
    const summary = fromUtf8(entries[0]!.data);
    assert.match(summary, /Query: +actor:u_0/);
    assert.match(summary, /4 matching events/);
    assert.match(summary, /tree size 37/);
    assert.match(summary, /SHA-256\(0x00 \|\| the file's bytes\)/);
    assert.deepEqual(entries[4]!.data, input.events[0]!.leaf, "leaf bytes verbatim");
  });

  it("fail, naming the file or zip part, when any single byte anywhere is changed (every position)", async () => {
    const { bundle, signer } = await fixture({ size: 300, indexes: [1, 255, 299] });
    const random = seededRandom(8);
    for (let at = 0; at < bundle.length; at++) {
      const copy = bundle.slice();
      copy[at] = (copy[at] as number) ^ (1 + Math.floor(random() * 255));
      await assert.rejects(
        verifyEvidenceBundle(copy, { verifierKey: signer.verifierKey }),
        rejects(/^(zip |[a-z-]+(\/[0-9]+)?\.[a-z-]+: )/),
        `byte ${at}`,
      );
    }
  });

  it("catch a forger who rewrites a file and fixes the zip's CRCs", async () => {
    const { bundle, signer, other } = await fixture();
    const pinned = { verifierKey: signer.verifierKey };
    const cases: [string, (d: Uint8Array) => Uint8Array, RegExp, string][] = [
      [
        "events/3.json",
        text((s) => s.replace("user.login", "user.logout")),
        /^events\/3\.json: its leaf hash differs/,
        "leaf_hash_mismatch",
      ],
      [
        "proofs/17.tlog-proof",
        text((s) => s.replace(/\n[A-Za-z0-9+/]{43}=\n/, "\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")),
        /^proofs\/17\.tlog-proof: leaf 17 is not included/,
        "invalid_inclusion_proof",
      ],
      [
        "proofs/17.tlog-proof",
        text((s) => s.replace("index 17", "index 16")),
        /^proofs\/17\.tlog-proof: is for index 16/,
        "bundle_inconsistent",
      ],
      [
        "checkpoint.txt",
        text((s) => s.replace("\n37\n", "\n38\n")),
        /^checkpoint\.txt: signature by .* does not verify/,
        "invalid_signature",
      ],
      [
        "summary.txt",
        text((s) => s.replace("actor:u_0", "actor:u_1")),
        /^summary\.txt: does not match manifest\.json/,
        "bundle_inconsistent",
      ],
      [
        "manifest.json",
        text((s) => s.replace('"query":"actor:u_0"', '"query":"actor:u_1"')),
        /^summary\.txt: does not match/,
        "bundle_inconsistent",
      ],
      [
        "manifest.json",
        text((s) => s.replace('"log":"acme"', '"log": "acme"')),
        /^manifest\.json: is not in canonical form/,
        "malformed_bundle",
      ],
      ["manifest.json", text((s) => s.replace('"treeSize":37', '"treeSize":36')), /^manifest\.json: events\[3\] index/, "malformed_bundle"],
      [
        "verifier-key.txt",
        () => utf8(`${other.verifierKey}\n`),
        /^verifier-key\.txt: does not match manifest\.json/,
        "bundle_inconsistent",
      ],
    ];
    for (const [file, edit, pattern, code] of cases) {
      await assert.rejects(verifyEvidenceBundle(rewrite(bundle, file, edit), pinned), rejects(pattern, code), `${file} ${pattern}`);
    }
  });

  it("catch a dropped, added or reordered file", async () => {
    const { bundle } = await fixture();
    const entries = readZip(bundle);
    const without = writeZip(entries.filter((e) => e.name !== "proofs/3.tlog-proof"));
    await assert.rejects(verifyEvidenceBundle(without), rejects(/^proofs\/3\.tlog-proof: is listed in manifest\.json but missing/));
    const extra = writeZip([...entries, { name: "events/99.json", data: utf8("{}") }]);
    await assert.rejects(verifyEvidenceBundle(extra), rejects(/^events\/99\.json: is not listed/));
    const swapped = writeZip([entries[1]!, entries[0]!, ...entries.slice(2)]);
    await assert.rejects(verifyEvidenceBundle(swapped), rejects(/^summary\.txt: expected as entry 1/));
  });

  it("refuse a bundle re-signed by another key when the real key is pinned, and name the key", async () => {
    const { input, signer, other } = await fixture();
    const forged = encodeEvidenceBundle({
      ...input,
      verifierKey: other.verifierKey,
      checkpoint: await signNote(fromUtf8(utf8(input.checkpoint.slice(0, input.checkpoint.indexOf("\n\n") + 1))), [other]),
    });
    await verifyEvidenceBundle(forged); // self-consistent: only pinning can tell
    await assert.rejects(
      verifyEvidenceBundle(forged, { verifierKey: signer.verifierKey }),
      rejects(/^verifier-key\.txt: is not the pinned/, "verifier_key_mismatch"),
    );
  });
});
