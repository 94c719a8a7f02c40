import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InputError, type NoteSigner } from "@sealtrail/core";
import { createSqliteStore } from "@sealtrail/store-sqlite";
import type { AppendedEvent } from "./engine.js";
import { LogEngine } from "./engine.js";
import type { Sequencer } from "./sequencer.js";
import type { LogStore } from "./store.js";
import { ORIGIN_PREFIX, otherSigner, tempDir, testSigner } from "./test-harness.js";

const event = (n: number, id?: string) => ({
  ...(id ? { id } : {}),
  action: "document.shared",
  occurredAt: "2026-11-27T12:00:00.000Z",
  actor: { type: "user", id: `u_${n}` },
  targets: [],
  outcome: "success",
});

/**
 * Two engines over one store, as two processes of a PostgreSQL cluster are: the follower hands its
 * appends to a sequencer that integrates them through the other engine (what the cluster's
 * integrator does after staging), and learns of them through `reload`.
 */
async function pair(options: { intervalMs?: number; followerSigner?: NoteSigner } = {}) {
  const dir = tempDir();
  const store = createSqliteStore({ path: dir.file("audit.db") });
  const shared: LogStore = { ...store, close: async () => undefined };
  const signer = await testSigner();
  const integrator = await LogEngine.open({
    store: shared,
    signer,
    originPrefix: ORIGIN_PREFIX,
    checkpointIntervalMs: options.intervalMs ?? 10,
  });
  const staged: { log: string; count: number }[] = [];
  const sequencer: Sequencer = {
    append: async (log, drafts, options): Promise<AppendedEvent[]> => {
      staged.push({ log, count: drafts.length });
      return integrator.append(log, drafts, options);
    },
  };
  const follower = await LogEngine.open({
    store,
    signer: options.followerSigner ?? signer,
    originPrefix: ORIGIN_PREFIX,
    sequencer,
    checkpointIntervalMs: 10,
  });
  return {
    store,
    integrator,
    follower,
    staged,
    close: async () => {
      await integrator.close();
      await follower.close();
      dir.remove();
    },
  };
}

describe("engine with a sequencer (multi-writer mode)", () => {
  it("validates, then hands appends to the sequencer and answers with its indexes", async () => {
    const { follower, staged, close } = await pair();
    try {
      const results = await follower.append("acme", [event(1), event(2, "client-id")]);
      assert.deepEqual(
        results.map((r) => [r.index, r.created]),
        [
          [0, true],
          [1, true],
        ],
      );
      assert.deepEqual(staged, [{ log: "acme", count: 2 }]);
      await assert.rejects(follower.append("acme", [{ action: "nope" }]), InputError);
      assert.equal(staged.length, 1, "an invalid event never reaches the sequencer");
    } finally {
      await close();
    }
  });

  it("never signs a checkpoint itself, not even for entries it sees unsigned, nor on close", async () => {
    // After its first checkpoint the integrator signs once a minute; a follower that signed would
    // do it at once, and with its own key.
    const { store, integrator, follower, close } = await pair({ intervalMs: 60_000, followerSigner: await otherSigner() });
    try {
      await follower.append("acme", [event(1), event(2), event(3)]);
      await integrator.waitForCheckpoint("acme", 2);
      await follower.append("acme", [event(4), event(5), event(6)]);
      await follower.reload("acme");
      assert.equal(await follower.integratedSize("acme"), 6);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const sizes = async () => (await store.listCheckpoints("acme")).map((c) => c.treeSize);
      assert.deepEqual(await sizes(), [3], "entries 4-6 wait for the integrator's next checkpoint");
      await follower.close();
      const reopened = createSqliteStore({ path: store.description.replace(/^sqlite:/, "") });
      assert.deepEqual(
        (await reopened.listCheckpoints("acme")).map((c) => c.treeSize),
        [3],
        "closing a follower signs nothing",
      );
      await reopened.close();
    } finally {
      await close();
    }
  });

  it("adopts the integrator's checkpoint through reload", async () => {
    const { integrator, follower, close } = await pair();
    try {
      await follower.append("acme", [event(1), event(2), event(3)]);
      const signed = await integrator.waitForCheckpoint("acme", 2);
      await follower.reload("acme");
      assert.deepEqual(await follower.checkpoint("acme"), signed);
    } finally {
      await close();
    }
  });

  it("resolves checkpoint waiters and feeds subscribers on reload", async () => {
    const { integrator, follower, close } = await pair();
    try {
      await follower.append("acme", [event(1)]);
      await integrator.waitForCheckpoint("acme", 0);
      // As the server's live tail does: the log is looked up (and so loaded) before subscribing.
      assert.ok(await follower.hasLog("acme"));
      const seen: number[] = [];
      follower.subscribe("acme", (events) => seen.push(...events.map((e) => e.index)));
      const [appended] = await follower.append("acme", [event(2), event(3)]);
      const waiting = follower.waitForCheckpoint("acme", (appended?.index ?? 0) + 1);
      await integrator.waitForCheckpoint("acme", 2);
      await follower.reload("acme");
      assert.equal((await waiting).treeSize, 3);
      assert.deepEqual(seen, [1, 2]);
    } finally {
      await close();
    }
  });
});
