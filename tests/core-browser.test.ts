import assert from "node:assert/strict";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { runInNewContext } from "node:vm";
import { build } from "esbuild";

const root = resolve(import.meta.dirname, "..");

/**
 * @sealtrail/core must run in browsers: bundle it the way a browser bundler would (browser
 * platform, no "node" condition) and run the bundle in a bare V8 context that has only what a
 * browser has (WebCrypto, TextEncoder) and no require, process or Buffer.
 */
describe("@sealtrail/core in a browser-like context", async () => {
  const result = await build({
    entryPoints: [resolve(root, "packages/core/src/index.ts")],
    bundle: true,
    platform: "browser",
    format: "iife",
    globalName: "core",
    conditions: ["source", "browser"],
    write: false,
    logLevel: "silent",
  });
  const code = result.outputFiles[0]?.text ?? "";

  it("bundles without any Node built-in", () => {
    assert.doesNotMatch(code, /\bnode:|require\(/);
  });

  it("hashes, proves and verifies a signed checkpoint without Node APIs", async () => {
    const sandbox: Record<string, unknown> = { crypto: globalThis.crypto, TextEncoder, TextDecoder };
    const script = `${code};
      (async () => {
        const leaves = ["a", "b", "c", "d", "e"].map((s) => core.hashLeaf(new TextEncoder().encode(s)));
        const root = core.rootFromLeafHashes(leaves);
        const signer = await core.parseSignerKey(await core.generateSignerKey("example.com"));
        const note = await core.signNote(core.formatCheckpoint({ origin: "example.com/acme", treeSize: 5, rootHash: root }), [signer]);
        const cp = await core.openCheckpoint(note, { verifiers: [core.parseVerifierKey(signer.verifierKey)], origin: "example.com/acme" });
        return { root: core.toHex(root), size: cp.treeSize, same: core.toHex(cp.rootHash) === core.toHex(root) };
      })()`;
    const out = (await runInNewContext(script, sandbox)) as { root: string; size: number; same: boolean };
    const { hashLeaf, rootFromLeafHashes, toHex } = await import("@sealtrail/core");
    const expected = toHex(rootFromLeafHashes(["a", "b", "c", "d", "e"].map((s) => hashLeaf(new TextEncoder().encode(s)))));
    assert.equal(out.root, expected, "the portable SHA-256 agrees with Node's");
    assert.equal(out.size, 5);
    assert.equal(out.same, true);
  });
});
