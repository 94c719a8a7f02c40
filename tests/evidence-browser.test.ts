import assert from "node:assert/strict";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { runInNewContext } from "node:vm";
import {
  canonicalJson,
  encodeEvidenceBundle,
  formatCheckpoint,
  generateSignerKey,
  hashLeaf,
  parseSignerKey,
  rootFromLeafHashes,
  signNote,
  utf8,
} from "@sealtrail/core";
import { build } from "esbuild";

/**
 * The web viewer opens evidence bundles in the browser: core's verifier must run with only what a
 * browser has (WebCrypto, TextEncoder/TextDecoder), bundled without the "node" condition.
 */
describe("verifyEvidenceBundle in a browser-like context", async () => {
  const result = await build({
    entryPoints: [resolve(import.meta.dirname, "../packages/core/src/index.ts")],
    bundle: true,
    platform: "browser",
    format: "iife",
    globalName: "core",
    conditions: ["source", "browser"],
    write: false,
    logLevel: "silent",
  });
  const code = result.outputFiles[0]?.text ?? "";

  it("verifies a bundle and names the file when one byte of an event changes", async () => {
    const origin = "sealtrail.local/acme";
    const signer = await parseSignerKey(await generateSignerKey(origin));
    const leaves = [0, 1].map((i) => utf8(canonicalJson({ id: `evt-${i}`, action: "user.login" })));
    const hashes = leaves.map(hashLeaf);
    const note = await signNote(formatCheckpoint({ origin, treeSize: 2, rootHash: rootFromLeafHashes(hashes) }), [signer]);
    const bundle = encodeEvidenceBundle({
      log: "acme",
      query: "action:user.login",
      createdAt: "2026-11-27T12:00:00.000Z",
      verifierKey: signer.verifierKey,
      checkpoint: note,
      events: [
        { index: 0, leaf: leaves[0] as Uint8Array, proof: [hashes[1] as Uint8Array] },
        { index: 1, leaf: leaves[1] as Uint8Array, proof: [hashes[0] as Uint8Array] },
      ],
    });
    const sandbox: Record<string, unknown> = { crypto: globalThis.crypto, TextEncoder, TextDecoder, bundle, key: signer.verifierKey };
    const script = `${code};
      (async () => {
        const ok = await core.verifyEvidenceBundle(new Uint8Array(bundle), { verifierKey: key });
        const altered = new Uint8Array(bundle);
        const at = new TextDecoder().decode(altered).lastIndexOf('"id":"evt-1"');
        altered[at + 10] ^= 1;
        let message = "";
        try { await core.verifyEvidenceBundle(altered, { verifierKey: key }); } catch (e) { message = e.message; }
        return JSON.stringify({ ids: ok.events.map((e) => e.id), pinned: ok.keyPinned, message });
      })()`;
    const out = JSON.parse(await runInNewContext(script, sandbox)) as { ids: string[]; pinned: boolean; message: string };
    assert.deepEqual(out.ids, ["evt-0", "evt-1"]);
    assert.equal(out.pinned, true);
    assert.match(out.message, /zip data of "events\/1\.json".*CRC-32/);
  });
});
