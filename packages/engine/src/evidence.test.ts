import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { InputError, NotFoundError, verifyEvidenceBundle } from "@sealtrail/core";
import { createSqliteStore } from "@sealtrail/store-sqlite";
import { LogEngine } from "./engine.js";
import { buildEvidenceBundle } from "./evidence.js";
import { makeEvents, ORIGIN_PREFIX, tempDir, testSigner } from "./test-harness.js";

const dir = tempDir();

/** A plain SQLite store (it keeps the query index the bundle's query needs). */
async function openTestEngine(path: string, options: { checkpointIntervalMs: number }) {
  const engine = await LogEngine.open({
    store: createSqliteStore({ path }),
    signer: await testSigner(),
    originPrefix: ORIGIN_PREFIX,
    ...options,
  });
  return { engine };
}
after(() => dir.remove());

describe("buildEvidenceBundle", () => {
  it("bundles every matching event with a proof to the latest checkpoint, verifiable offline", async () => {
    const { engine } = await openTestEngine(dir.file("a.db"), { checkpointIntervalMs: 5 });
    await engine.append("acme", makeEvents(0, 600));
    await engine.waitForCheckpoint("acme", 599);
    const verifierKey = await engine.verifierKey("acme");
    const built = await buildEvidenceBundle({ store: engine.store, log: "acme", query: "actor:u_3", verifierKey });
    const expected = Array.from({ length: 600 }, (_, i) => i).filter((i) => i % 17 === 3);
    assert.equal(built.events, expected.length);
    assert.equal(built.treeSize, 600);
    assert.equal(built.notIncluded, 0);
    const verified = await verifyEvidenceBundle(built.bytes, { verifierKey });
    assert.deepEqual(
      verified.events.map((e) => e.index),
      expected,
    );
    assert.ok(verified.events.every((e) => e.event.actor.id === "u_3"));
    await engine.close();
  });

  it("leaves out and counts matches newer than the checkpoint, refuses too many, and needs a checkpoint", async () => {
    const { engine } = await openTestEngine(dir.file("b.db"), { checkpointIntervalMs: 60_000 });
    await engine.append("acme", makeEvents(0, 20));
    const verifierKey = await engine.verifierKey("acme");
    await assert.rejects(buildEvidenceBundle({ store: engine.store, log: "acme", query: "", verifierKey }), NotFoundError);
    await assert.rejects(buildEvidenceBundle({ store: engine.store, log: "nope", query: "", verifierKey }), /does not exist/);
    await engine.close();
    const reopened = await openTestEngine(dir.file("b.db"), { checkpointIntervalMs: 60_000 });
    await reopened.engine.append("acme", makeEvents(20, 5));
    const built = await buildEvidenceBundle({ store: reopened.engine.store, log: "acme", query: "", verifierKey });
    assert.equal(built.events, 20);
    assert.equal(built.notIncluded, 5);
    assert.match(new TextDecoder().decode(built.bytes), /Not included: +5 matching event/);
    await assert.rejects(
      buildEvidenceBundle({ store: reopened.engine.store, log: "acme", query: "", verifierKey, maxEvents: 10 }),
      (error: unknown) => error instanceof InputError && error.code === "too_many_events",
    );
    await reopened.engine.close();
  });
});
