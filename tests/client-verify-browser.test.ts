import assert from "node:assert/strict";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { runInNewContext } from "node:vm";
import { toBase64, utf8 } from "@sealtrail/core";
import { build } from "esbuild";

const root = resolve(import.meta.dirname, "..");

/**
 * `@sealtrail/client/verify` is the browser-safe part of the SDK: bundled for the browser it
 * pulls in no Node built-in, and it verifies a real event proof in a bare V8 context that has
 * only what a browser has. (The full client, with its optional file spool, is Node-first.)
 */
describe("@sealtrail/client/verify in a browser-like context", async () => {
  const result = await build({
    entryPoints: [resolve(root, "packages/client/src/verify.ts")],
    bundle: true,
    platform: "browser",
    format: "iife",
    globalName: "verify",
    conditions: ["source", "browser"],
    write: false,
    logLevel: "silent",
  });
  const code = result.outputFiles[0]?.text ?? "";

  it("bundles without any Node built-in", () => {
    assert.doesNotMatch(code, /\bnode:|require\(/);
  });

  it("verifies an event proof, and refuses it once a byte of the leaf changes", async () => {
    const core = await import("@sealtrail/core");
    const signer = await core.parseSignerKey(await core.generateSignerKey("example.com/acme"));
    const leaves = ["a", "b", "c"].map((s) => utf8(JSON.stringify({ id: s, action: "a.b" })));
    const hashes = leaves.map(core.hashLeaf);
    const root = core.rootFromLeafHashes(hashes);
    const note = await core.signNote(core.formatCheckpoint({ origin: "example.com/acme", treeSize: 3, rootHash: root }), [signer]);
    const nodes = new Map(hashes.map((h, i) => [`0/${i}`, h]));
    const proof = await core.proveInclusion(1, 3, async (refs) =>
      refs.map((r) =>
        r.height === 0
          ? (nodes.get(`0/${r.index}`) as Uint8Array)
          : core.rootFromLeafHashes(hashes.slice(r.index * 2 ** r.height, (r.index + 1) * 2 ** r.height)),
      ),
    );
    const wire = {
      log: "acme",
      index: 1,
      event: {},
      leaf: toBase64(leaves[1] as Uint8Array),
      leafHash: toBase64(hashes[1] as Uint8Array),
      inclusionProof: { treeSize: 3, rootHash: toBase64(root), hashes: proof.map(toBase64) },
      checkpoint: note,
    };
    const tampered = { ...wire, leaf: toBase64(utf8(JSON.stringify({ id: "B", action: "a.b" }))) };
    const sandbox: Record<string, unknown> = {
      crypto: globalThis.crypto,
      TextEncoder,
      TextDecoder,
      atob,
      btoa,
      wire,
      tampered,
      key: signer.verifierKey,
    };
    const script = `${code};
      (async () => {
        const ok = await verify.verifyEventProof(wire, { verifierKey: key });
        let refused = "";
        try { await verify.verifyEventProof(tampered, { verifierKey: key }); } catch (e) { refused = e.code; }
        return { id: ok.event.id, refused };
      })()`;
    const out = (await runInNewContext(script, sandbox)) as { id: string; refused: string };
    assert.equal(out.id, "b");
    assert.equal(out.refused, "invalid_proof");
  });
});
