import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, describe, it } from "node:test";
import {
  type AuditEvent,
  decodeEntryBundle,
  fromUtf8,
  generateSignerKey,
  type Hash,
  hashLeaf,
  InputError,
  NotFoundError,
  nowTimestamp,
  openCheckpoint,
  parseSignerKey,
  reducePerfect,
  rootFromLeafHashes,
  StoreError,
  sealEvent,
  splitTile,
  validateEvent,
  verifyConsistency,
  verifyInclusion,
} from "@sealtrail/core";
import { createSqliteStore } from "@sealtrail/store-sqlite";
import Database from "better-sqlite3";
import { auditLog } from "./audit.js";
import { type AppendedEvent, LogEngine } from "./engine.js";
import {
  eventually,
  flipBit,
  makeEvent,
  makeEvents,
  ORIGIN_PREFIX,
  openTestEngine,
  readAllEntries,
  referenceRoot,
  sleep,
  type TempDir,
  type TestEngine,
  tempDir,
  testSigner,
  verifierOf,
} from "./test-harness.js";

const HOUR = 3_600_000;
const dirs: TempDir[] = [];
after(() => {
  for (const dir of dirs) dir.remove();
});

function freshPath(): string {
  const dir = tempDir();
  dirs.push(dir);
  return dir.file("log.db");
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

function leafEvent(leaf: Uint8Array): AuditEvent & { metadata: { n: number } } {
  return JSON.parse(fromUtf8(leaf));
}

/** Reads the store the way a second process would: a new connection, no engine in front of it. */
async function withRawStore<T>(path: string, fn: (store: ReturnType<typeof createSqliteStore>) => Promise<T>): Promise<T> {
  const store = createSqliteStore({ path });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function expectReject<E extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected a ${type.name}, but the promise resolved`);
}

async function openCheckpointOf(t: TestEngine, log: string, note: string) {
  return openCheckpoint(note, { verifiers: [await verifierOf(t.signer, `${ORIGIN_PREFIX}/${log}`)], origin: `${ORIGIN_PREFIX}/${log}` });
}

describe("group commit", () => {
  it("commits 2,000 appends issued in one tick in a handful of transactions, with indexes 0..1999 in issue order", async () => {
    const t = await openTestEngine(freshPath());
    const resolved: number[] = [];
    const results = await Promise.all(
      range(0, 2000).map((i) =>
        t.engine.append("alpha", [makeEvent(i)]).then(([result]) => {
          resolved.push((result as AppendedEvent).index);
          return result as AppendedEvent;
        }),
      ),
    );
    assert.ok(t.store.count("append") <= 5, `${t.store.count("append")} store transactions for 2,000 events`);
    assert.deepEqual(
      results.map((r) => r.index),
      range(0, 2000),
    );
    assert.deepEqual(resolved, range(0, 2000), "appends resolve in index order");
    assert.ok(results.every((r) => r.created));
    assert.equal(new Set(results.map((r) => r.id)).size, 2000);
    assert.equal(await t.engine.integratedSize("alpha"), 2000);
    await t.engine.close();
  });

  it("puts appends to several logs issued in one tick into a single transaction", async () => {
    const t = await openTestEngine(freshPath());
    const logs = ["alpha", "beta", "gamma"];
    const results = await Promise.all(logs.map((log) => Promise.all(range(0, 20).map((i) => t.engine.append(log, [makeEvent(i)])))));
    assert.equal(t.store.count("append"), 1);
    assert.deepEqual(
      (t.store.appends[0] ?? []).map((b) => [b.log, b.startIndex, b.entries.length]),
      logs.map((log) => [log, 0, 20]),
    );
    for (const perLog of results)
      assert.deepEqual(
        perLog.map(([r]) => r?.index),
        range(0, 20),
      );
    await t.engine.close();
  });

  it("splits a queue longer than maxEventsPerCommit into several transactions, never splitting one append", async () => {
    const t = await openTestEngine(freshPath(), { maxEventsPerCommit: 100 });
    await Promise.all(range(0, 1000).map((i) => t.engine.append("alpha", [makeEvent(i)])));
    assert.equal(t.store.count("append"), 10);
    for (const batches of t.store.appends) assert.equal(batches[0]?.entries.length, 100);

    t.store.appends.length = 0;
    // Units of 30 events: three fit under the cap, the fourth waits for the next transaction.
    const units = await Promise.all(range(0, 10).map((u) => t.engine.append("alpha", makeEvents(1000 + u * 30, 30))));
    assert.deepEqual(
      t.store.appends.map((batches) => batches[0]?.entries.length),
      [90, 90, 90, 30],
    );
    assert.deepEqual(
      units.flat().map((r) => r.index),
      range(1000, 1300),
    );

    // One append is all or nothing, so a single unit above the cap goes in one transaction.
    t.store.appends.length = 0;
    const big = await t.engine.append("alpha", makeEvents(2000, 250));
    assert.equal(t.store.appends.length, 1);
    assert.deepEqual(
      big.map((r) => r.index),
      range(1300, 1550),
    );
    await t.engine.close();
  });
});

describe("indexes", () => {
  it("assigns contiguous final indexes that hold the same events after close and reopen", async () => {
    const path = freshPath();
    const a = await openTestEngine(path);
    const assigned = new Map<string, { index: number; n: number }>();
    let n = 0;
    for (let round = 0; round < 6; round++) {
      const batches: number[][] = [];
      for (const size of [1, 7, 3]) {
        batches.push(range(n, n + size));
        n += size;
      }
      const results = await Promise.all(
        batches.map((values) =>
          a.engine.append(
            "alpha",
            values.map((v) => makeEvent(v)),
          ),
        ),
      );
      results.forEach((batch, b) => {
        batch.forEach((r, i) => {
          assigned.set(r.id, { index: r.index, n: batches[b]?.[i] ?? -1 });
        });
      });
    }
    assert.deepEqual(
      [...assigned.values()].map((v) => v.index).sort((x, y) => x - y),
      range(0, n),
    );
    await a.engine.close();

    const b = await openTestEngine(path);
    assert.equal(await b.engine.integratedSize("alpha"), n);
    const entries = await readAllEntries(b.store, "alpha", n);
    for (const [id, { index, n: value }] of assigned) {
      assert.equal(entries[index]?.id, id);
      assert.equal(leafEvent(entries[index]?.leaf as Uint8Array).metadata.n, value);
      assert.equal((await b.engine.findEntry("alpha", id))?.index, index);
    }
    const [next] = await b.engine.append("alpha", [makeEvent(n)]);
    assert.equal(next?.index, n);
    await b.engine.close();
  });
});

describe("idempotent retries", () => {
  const withId = (n: number, id: string) => makeEvent(n, { id });

  it("returns the original index for a retry issued in the same tick", async () => {
    const t = await openTestEngine(freshPath());
    await t.engine.append("alpha", makeEvents(0, 3));
    const [first, second] = await Promise.all([
      t.engine.append("alpha", [withId(10, "evt-same-tick")]),
      t.engine.append("alpha", [withId(10, "evt-same-tick")]),
    ]);
    assert.deepEqual(first, [{ id: "evt-same-tick", index: 3, created: true }]);
    assert.deepEqual(second, [{ id: "evt-same-tick", index: 3, created: false }]);
    assert.equal(await t.engine.integratedSize("alpha"), 4);
    await t.engine.close();
  });

  it("returns the original index for a repeat inside one batch", async () => {
    const t = await openTestEngine(freshPath());
    const results = await t.engine.append("alpha", [withId(1, "evt-dup"), makeEvent(2), withId(1, "evt-dup")]);
    assert.deepEqual(
      results.map((r) => [r.index, r.created]),
      [
        [0, true],
        [1, true],
        [0, false],
      ],
    );
    assert.equal(await t.engine.integratedSize("alpha"), 2);
    await t.engine.close();
  });

  it("returns the original index for a retry in a later batch and after a restart", async () => {
    const path = freshPath();
    const a = await openTestEngine(path);
    const [original] = await a.engine.append("alpha", [makeEvent(0), withId(1, "evt-retry")]).then((r) => r.slice(1));
    await a.engine.append("alpha", makeEvents(2, 5));
    const [later] = await a.engine.append("alpha", [withId(1, "evt-retry")]);
    assert.deepEqual(later, { id: "evt-retry", index: original?.index, created: false });
    await a.engine.close();

    const b = await openTestEngine(path);
    const [mixed, fresh] = await b.engine.append("alpha", [withId(1, "evt-retry"), makeEvent(9)]);
    assert.deepEqual(mixed, { id: "evt-retry", index: 1, created: false });
    assert.equal(fresh?.index, 7);
    assert.equal(await b.engine.integratedSize("alpha"), 8);
    await b.engine.close();
  });

  it("refuses a batch that repeats an id with different content, before queueing anything", async () => {
    const t = await openTestEngine(freshPath());
    const error = await expectReject(
      t.engine.append("alpha", [withId(1, "evt-x"), withId(2, "evt-x")], { pointerBase: "/events" }),
      InputError,
    );
    assert.equal(error.code, "id_conflict");
    assert.deepEqual(
      error.problems.map((p) => p.pointer),
      ["/events/1/id"],
    );
    assert.equal(t.store.count("append"), 0);
    await t.engine.close();
  });

  it("refuses a whole batch whose id is stored with different content, while other appends in the same flush succeed", async () => {
    const t = await openTestEngine(freshPath());
    await t.engine.append("alpha", [withId(1, "evt-a")]);
    const transactions = t.store.count("append");
    const [good, bad, otherLog] = await Promise.allSettled([
      t.engine.append("alpha", [makeEvent(2)]),
      t.engine.append("alpha", [makeEvent(3), withId(99, "evt-a")], { pointerBase: "/events" }),
      t.engine.append("beta", [makeEvent(4)]),
    ]);
    assert.equal(t.store.count("append"), transactions + 1, "one flush, one transaction");
    assert.equal(good.status, "fulfilled");
    assert.equal(good.status === "fulfilled" && good.value[0]?.index, 1);
    assert.equal(otherLog.status === "fulfilled" && otherLog.value[0]?.index, 0);
    assert.equal(bad.status, "rejected");
    const error = (bad as PromiseRejectedResult).reason;
    assert.ok(error instanceof InputError);
    assert.equal(error.code, "id_conflict");
    assert.deepEqual(
      error.problems.map((p) => p.pointer),
      ["/events/1/id"],
    );
    // Nothing of the refused batch is stored, not even its valid first event.
    const stored = await readAllEntries(t.store, "alpha", 10);
    assert.deepEqual(
      stored.map((e) => leafEvent(e.leaf).metadata.n),
      [1, 2],
    );
    await t.engine.close();
  });

  it("refuses a conflicting id sent in the same tick as the append that creates it", async () => {
    const t = await openTestEngine(freshPath());
    const [first, second] = await Promise.allSettled([
      t.engine.append("alpha", [withId(1, "evt-race")]),
      t.engine.append("alpha", [makeEvent(5), withId(2, "evt-race")]),
    ]);
    assert.deepEqual(first.status === "fulfilled" && first.value, [{ id: "evt-race", index: 0, created: true }]);
    assert.equal(second.status, "rejected");
    assert.equal((second as PromiseRejectedResult).reason.code, "id_conflict");
    assert.equal(await t.engine.integratedSize("alpha"), 1);
    await t.engine.close();
  });
});

describe("all or nothing", () => {
  it("refuses a batch with invalid events, naming every problem under /events/i, and stores nothing", async () => {
    const t = await openTestEngine(freshPath());
    await t.engine.append("alpha", makeEvents(0, 2));
    const error = await expectReject(
      t.engine.append(
        "alpha",
        [makeEvent(2), makeEvent(3, { action: "noverb" }), makeEvent(4), makeEvent(5, { actor: { type: "user" }, outcome: "maybe" })],
        { pointerBase: "/events" },
      ),
      InputError,
    );
    assert.equal(error.code, "invalid_event");
    const pointers = error.problems.map((p) => p.pointer).sort();
    assert.deepEqual(pointers, ["/events/1/action", "/events/3/actor/id", "/events/3/outcome"]);
    assert.equal(t.store.count("append"), 1);
    assert.equal(await t.engine.integratedSize("alpha"), 2);
    await t.engine.close();
  });

  it("accepts an event of exactly 65,535 encoded bytes and refuses a batch holding one byte more", async () => {
    const t = await openTestEngine(freshPath());
    // Leaf size is fixed apart from the blob: a ULID id is 26 characters, receivedAt 24.
    const base = sealEvent(validateEvent(makeEvent(1, { metadata: { blob: "" } })), {
      id: "0".repeat(26),
      receivedAt: nowTimestamp(),
    }).leaf.length;
    const sized = (n: number, bytes: number) => makeEvent(n, { metadata: { blob: "x".repeat(bytes - base) } });

    const error = await expectReject(t.engine.append("alpha", [makeEvent(0), sized(1, 65_536)], { pointerBase: "/events" }), InputError);
    assert.equal(error.code, "event_too_large");
    assert.deepEqual(
      error.problems.map((p) => p.pointer),
      ["/events/1"],
    );
    assert.equal(t.store.count("append"), 0);

    const [max] = await t.engine.append("alpha", [sized(1, 65_535)]);
    assert.equal(max?.index, 0);
    const [entry] = await t.store.readEntries("alpha", 0, 1);
    assert.equal(entry?.leaf.length, 65_535);
    await t.engine.waitForCheckpoint("alpha", 0);
    const bundle = await t.engine.readEntryBundle("alpha", 0, 1);
    assert.deepEqual(decodeEntryBundle(bundle as Uint8Array), [entry?.leaf]);
    await t.engine.close();
  });

  it("rejects every append of a flush whose transaction fails, then continues at the next index with no gap", async () => {
    let failures = 0;
    const t = await openTestEngine(freshPath(), {
      checkpointIntervalMs: 20,
      hooks: {
        append: async (inner, batches) => {
          if (failures > 0) {
            failures--;
            throw new Error("disk I/O error");
          }
          return inner.append(batches);
        },
      },
    });
    await t.engine.append("alpha", makeEvents(0, 250));
    await t.engine.waitForCheckpoint("alpha", 249);
    failures = 1;
    // The failed flush crosses the first 256-leaf tile boundary, so it would have completed a level-1 hash.
    const outcomes = await Promise.allSettled([
      t.engine.append("alpha", makeEvents(250, 10)),
      t.engine.append("alpha", [makeEvent(260, { id: "evt-failed" })]),
      t.engine.append("beta", makeEvents(0, 2)),
    ]);
    for (const outcome of outcomes) {
      assert.equal(outcome.status, "rejected");
      const reason = (outcome as PromiseRejectedResult).reason;
      assert.ok(reason instanceof StoreError, String(reason));
      assert.equal(reason.code, "store_write_failed");
    }
    assert.equal(await t.engine.integratedSize("alpha"), 250, "the failed commit did not advance the tree");
    assert.equal((await t.store.inner.getLog("alpha"))?.size, 250);

    const [retried, next] = await t.engine.append("alpha", [makeEvent(260, { id: "evt-failed" }), makeEvent(261)]);
    assert.deepEqual(retried, { id: "evt-failed", index: 250, created: true });
    assert.equal(next?.index, 251);
    const more = await t.engine.append("alpha", makeEvents(262, 10));
    assert.deepEqual(
      more.map((r) => r.index),
      range(252, 262),
    );
    assert.equal((await t.engine.append("beta", [makeEvent(1)]))[0]?.index, 0);

    const cp = await t.engine.waitForCheckpoint("alpha", 261);
    assert.equal(cp.treeSize, 262);
    assert.deepEqual(cp.rootHash, await referenceRoot(t.store, "alpha", 262));
    const audit = await auditLog(t.store, "alpha", {
      verifiers: [await verifierOf(t.signer, t.engine.origin("alpha"))],
      origin: t.engine.origin("alpha"),
    });
    assert.equal(audit.ok, true, audit.problem);
    await t.engine.close();
  });

  it("rolls back a transaction that fails inside SQLite and keeps the engine usable", async () => {
    let sabotage = false;
    const t = await openTestEngine(freshPath(), {
      hooks: {
        // A duplicated tile hash makes the real INSERT fail mid-transaction, after the entries went in.
        append: async (inner, batches) =>
          inner.append(sabotage ? batches.map((b) => ({ ...b, hashes: [...b.hashes, ...b.hashes.slice(-1)] })) : batches),
      },
    });
    await t.engine.append("alpha", makeEvents(0, 250));
    sabotage = true;
    const outcomes = await Promise.allSettled([t.engine.append("alpha", makeEvents(250, 10)), t.engine.append("beta", makeEvents(0, 3))]);
    for (const outcome of outcomes) {
      assert.equal(outcome.status, "rejected");
      assert.ok((outcome as PromiseRejectedResult).reason instanceof StoreError);
    }
    sabotage = false;
    assert.equal((await t.store.inner.getLog("alpha"))?.size, 250);
    assert.equal(await t.store.inner.getLog("beta"), undefined, "the log created by the failed transaction is gone too");

    const next = await t.engine.append("alpha", makeEvents(250, 10));
    assert.deepEqual(
      next.map((r) => r.index),
      range(250, 260),
    );
    assert.equal((await t.engine.append("beta", [makeEvent(0)]))[0]?.index, 0);
    await t.engine.close();
    await withRawStore(t.path, async (store) => {
      for (const log of ["alpha", "beta"]) {
        const result = await auditLog(store, log, {
          verifiers: [await verifierOf(t.signer, `${ORIGIN_PREFIX}/${log}`)],
          origin: `${ORIGIN_PREFIX}/${log}`,
        });
        assert.equal(result.ok, true, result.problem);
      }
      assert.equal((await store.latestCheckpoint("alpha"))?.treeSize, 260);
    });
  });
});

describe("checkpoints", () => {
  it("signs a checkpoint within the checkpoint interval of a write", async () => {
    const t = await openTestEngine(freshPath(), { checkpointIntervalMs: 100 });
    await t.engine.append("alpha", makeEvents(0, 3));
    const firstStart = Date.now();
    await eventually(async () => (await t.engine.checkpoint("alpha"))?.treeSize === 3 || undefined, 300, "the first checkpoint");
    assert.ok(Date.now() - firstStart <= 300);

    await t.engine.append("alpha", makeEvents(3, 2));
    const start = Date.now();
    await eventually(async () => (await t.engine.checkpoint("alpha"))?.treeSize === 5 || undefined, 300, "a checkpoint of size 5");
    assert.ok(Date.now() - start <= 300, `took ${Date.now() - start} ms`);
    await t.engine.close();
  });

  it("signs at most one checkpoint per interval per log under continuous writes", async () => {
    const signedAt: number[] = [];
    const t = await openTestEngine(freshPath(), {
      checkpointIntervalMs: 200,
      hooks: {
        appendCheckpoint: async (inner, checkpoint) => {
          signedAt.push(Date.now());
          return inner.appendCheckpoint(checkpoint);
        },
      },
    });
    const end = Date.now() + 1000;
    let n = 0;
    const writer = async () => {
      while (Date.now() < end) await t.engine.append("alpha", [makeEvent(n++)]);
    };
    await Promise.all([writer(), writer(), writer()]);
    const during = t.store.count("appendCheckpoint");
    assert.ok(during <= 6, `${during} checkpoints in ~1 s at a 200 ms interval`);
    assert.ok(during >= 3, `only ${during} checkpoints: continuous writes must not starve them`);
    for (let i = 1; i < signedAt.length; i++) {
      const gap = (signedAt[i] as number) - (signedAt[i - 1] as number);
      assert.ok(gap >= 150, `checkpoints ${i - 1} and ${i} were ${gap} ms apart`);
    }
    await t.engine.close();
  });

  it("stores every busy log's checkpoint in one store transaction per round", async () => {
    const rounds: string[][] = [];
    const t = await openTestEngine(freshPath(), {
      checkpointIntervalMs: 100,
      hooks: {
        appendCheckpoints: async (inner, checkpoints) => {
          rounds.push(checkpoints.map((c) => c.log));
          return inner.appendCheckpoints?.(checkpoints);
        },
      },
    });
    const logs = range(0, 40).map((i) => `tenant-${i}`);
    await Promise.all(logs.map((log, i) => t.engine.append(log, makeEvents(i * 10, 1 + (i % 3)))));
    for (const log of logs) await t.engine.waitForCheckpoint(log, 0);
    assert.equal(t.store.count("appendCheckpoint"), 0, "no log was written on its own");
    assert.deepEqual(rounds.flat().sort(), [...logs].sort(), "each log signed once");
    assert.ok(rounds.length <= 2, `${rounds.length} transactions for 40 logs`);
    for (const [i, log] of logs.entries()) assert.equal((await t.store.latestCheckpoint(log))?.treeSize, 1 + (i % 3));
    await t.engine.close();
  });

  it("still stores the other logs' checkpoints when the store refuses one of them", async () => {
    const t = await openTestEngine(freshPath(), {
      checkpointIntervalMs: 50,
      hooks: {
        appendCheckpoints: async () => {
          throw new Error("refused as a batch");
        },
        appendCheckpoint: async (inner, checkpoint) => {
          if (checkpoint.log === "bad") throw new Error("refused");
          return inner.appendCheckpoint(checkpoint);
        },
      },
    });
    await Promise.all(["good", "bad", "fine"].map((log, i) => t.engine.append(log, makeEvents(i, 2))));
    await t.engine.waitForCheckpoint("good", 1);
    await t.engine.waitForCheckpoint("fine", 1);
    assert.equal(await t.engine.checkpoint("bad"), undefined);
    t.store.hooks = {};
    await t.engine.close();
  });

  it("signs checkpoints that open with the verifier key and origin and commit to the RFC 9162 root of the leaves", async () => {
    const t = await openTestEngine(freshPath(), { checkpointIntervalMs: 15 });
    for (let round = 0; round < 12; round++) {
      await Promise.all(range(0, 1 + round * 7).map((i) => t.engine.append("alpha", [makeEvent(round * 100 + i)])));
      await sleep(8);
    }
    await t.engine.close();
    await withRawStore(t.path, async (store) => {
      const size = (await store.getLog("alpha"))?.size as number;
      const checkpoints = await store.listCheckpoints("alpha");
      assert.ok(checkpoints.length >= 4, `only ${checkpoints.length} checkpoints`);
      assert.equal(checkpoints.at(-1)?.treeSize, size);
      const leafHashes = (await readAllEntries(store, "alpha", size)).map((e) => hashLeaf(e.leaf));
      for (const cp of checkpoints) {
        const opened = await openCheckpointOf(t, "alpha", cp.note);
        assert.equal(opened.treeSize, cp.treeSize);
        assert.deepEqual(opened.rootHash, cp.rootHash);
        assert.deepEqual(cp.rootHash, rootFromLeafHashes(leafHashes.slice(0, cp.treeSize)));
      }
      await assert.rejects(
        openCheckpoint(checkpoints[0]?.note as string, {
          verifiers: [await verifierOf(t.signer, `${ORIGIN_PREFIX}/alpha`)],
          origin: `${ORIGIN_PREFIX}/beta`,
        }),
        { code: "wrong_origin" },
      );
    });
  });

  it("resolves waitForCheckpoint with a checkpoint covering the index", async () => {
    const t = await openTestEngine(freshPath(), { checkpointIntervalMs: 100 });
    await t.engine.append("alpha", makeEvents(0, 4));
    const first = await t.engine.waitForCheckpoint("alpha", 3);
    assert.equal(first.treeSize, 4);
    assert.equal(await t.engine.waitForCheckpoint("alpha", 1), first, "an index already covered resolves at once");
    const [later] = await t.engine.append("alpha", makeEvents(4, 6)).then((r) => r.slice(-1));
    const covering = await t.engine.waitForCheckpoint("alpha", later?.index as number);
    assert.ok(covering.treeSize > (later?.index as number));
    const opened = await openCheckpointOf(t, "alpha", covering.note);
    assert.equal(opened.treeSize, covering.treeSize);
    assert.deepEqual(covering.rootHash, await referenceRoot(t.store, "alpha", covering.treeSize));
    await expectReject(t.engine.waitForCheckpoint("nope", 0), NotFoundError);
    await t.engine.close();
  });

  it("retries a failed checkpoint on the next interval rather than at once", async () => {
    let failing = true;
    const t = await openTestEngine(freshPath(), {
      checkpointIntervalMs: 100,
      hooks: {
        appendCheckpoint: async (inner, checkpoint) => {
          if (failing) throw new StoreError("store_failed", "checkpoint table unavailable");
          return inner.appendCheckpoint(checkpoint);
        },
      },
    });
    await t.engine.append("alpha", makeEvents(0, 3));
    await sleep(350);
    const attempts = t.store.count("appendCheckpoint");
    assert.ok(attempts >= 2 && attempts <= 5, `${attempts} attempts in 350 ms at a 100 ms interval`);
    failing = false;
    const cp = await t.engine.waitForCheckpoint("alpha", 2);
    assert.equal(cp.treeSize, 3);
    await t.engine.close();
  });

  it("close() commits queued appends and signs a final checkpoint covering everything", async () => {
    const t = await openTestEngine(freshPath(), { checkpointIntervalMs: HOUR });
    await t.engine.append("alpha", makeEvents(0, 10));
    await t.engine.waitForCheckpoint("alpha", 9);
    await t.engine.append("alpha", makeEvents(10, 5));
    const pending = range(15, 35).map((i) => t.engine.append(i % 2 ? "alpha" : "beta", [makeEvent(i)]));
    await t.engine.close();
    const results = await Promise.all(pending);
    assert.equal(results.length, 20);
    assert.equal((await expectReject(t.engine.append("alpha", [makeEvent(99)]), StoreError)).code, "engine_closed");
    await withRawStore(t.path, async (store) => {
      for (const [log, size] of [
        ["alpha", 25],
        ["beta", 10],
      ] as const) {
        const cp = await store.latestCheckpoint(log);
        assert.equal(cp?.treeSize, size);
        assert.deepEqual(cp?.rootHash, await referenceRoot(store, log, size));
        await openCheckpointOf(t, log, cp?.note as string);
      }
    });
  });
});

describe("restart", () => {
  it("continues after a clean close at the right size, consistent with the earlier checkpoint", async () => {
    const path = freshPath();
    const a = await openTestEngine(path, { checkpointIntervalMs: HOUR });
    for (let i = 0; i < 1000; i += 100) await a.engine.append("alpha", makeEvents(i, 100));
    await a.engine.close();

    const b = await openTestEngine(path, { checkpointIntervalMs: 50 });
    const old = (await b.engine.checkpoint("alpha")) ?? assert.fail("no checkpoint after close");
    assert.equal(old.treeSize, 1000);
    assert.equal(await b.engine.integratedSize("alpha"), 1000);
    const [next] = await b.engine.append("alpha", [makeEvent(1000)]);
    assert.equal(next?.index, 1000);
    const cp = await b.engine.waitForCheckpoint("alpha", 1000);
    verifyConsistency(1000, cp.treeSize, old.rootHash, cp.rootHash, await b.engine.proveConsistency("alpha", 1000, cp.treeSize));
    await b.engine.close();
  });

  it("re-derives its state after a crash that left entries without a checkpoint, and signs them promptly", async () => {
    const path = freshPath();
    const a = await openTestEngine(path, { checkpointIntervalMs: HOUR });
    await a.engine.append("alpha", makeEvents(0, 300));
    const early = await a.engine.waitForCheckpoint("alpha", 299);
    await a.engine.append("alpha", makeEvents(300, 200));
    await a.engine.append("beta", makeEvents(0, 7));
    // Crash: the store dies under the engine before it can sign again; nothing more reaches the file.
    await a.store.crash();
    await a.engine.close();
    await withRawStore(path, async (store) => {
      assert.equal((await store.latestCheckpoint("alpha"))?.treeSize, 300);
      assert.equal((await store.getLog("alpha"))?.size, 500);
    });

    const b = await openTestEngine(path, { checkpointIntervalMs: HOUR });
    assert.equal(await b.engine.integratedSize("alpha"), 500);
    const start = Date.now();
    const cp = await b.engine.waitForCheckpoint("alpha", 499);
    assert.ok(Date.now() - start < 300, `took ${Date.now() - start} ms`);
    assert.equal(cp.treeSize, 500);
    assert.deepEqual(cp.rootHash, await referenceRoot(b.store, "alpha", 500));
    verifyConsistency(300, 500, early.rootHash, cp.rootHash, await b.engine.proveConsistency("alpha", 300, 500));
    assert.equal((await b.engine.waitForCheckpoint("beta", 6)).treeSize, 7);
    assert.equal((await b.engine.append("alpha", [makeEvent(500)]))[0]?.index, 500);
    await b.engine.close();
  });

  it("re-derives its state after a crash before any checkpoint was signed", async () => {
    const path = freshPath();
    const a = await openTestEngine(path, { checkpointIntervalMs: HOUR });
    const first = await a.engine.append("alpha", makeEvents(0, 40));
    await a.store.crash(); // before the checkpoint timer could fire
    await a.engine.close();
    await withRawStore(path, async (store) => assert.equal(await store.latestCheckpoint("alpha"), undefined));

    const b = await openTestEngine(path, { checkpointIntervalMs: HOUR });
    assert.equal(await b.engine.checkpoint("alpha"), undefined);
    const cp = await b.engine.waitForCheckpoint("alpha", 39);
    assert.equal(cp.treeSize, 40);
    assert.deepEqual(cp.rootHash, await referenceRoot(b.store, "alpha", 40));
    const [retry, next] = await b.engine.append("alpha", [makeEvents(0, 1)[0], makeEvent(40)]);
    assert.equal(retry?.index, 40, "an event without an id is a new event, not a retry");
    assert.equal(next?.index, 41);
    assert.equal(first.length, 40);
    await b.engine.close();
  });

  it("keeps every acknowledged event after the process is killed mid-stream (SIGKILL)", async () => {
    const path = freshPath();
    const key = await generateSignerKey("test.example");
    // The child acknowledges each committed append on stdout and is killed without warning.
    const child = spawn(
      process.execPath,
      [
        "--conditions=source",
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        `
        import { LogEngine } from "@sealtrail/engine";
        import { createSqliteStore } from "@sealtrail/store-sqlite";
        import { parseSignerKey } from "@sealtrail/core";
        const engine = await LogEngine.open({
          store: createSqliteStore({ path: ${JSON.stringify(path)} }),
          signer: await parseSignerKey(process.env.SEALTRAIL_TEST_KEY),
          originPrefix: ${JSON.stringify(ORIGIN_PREFIX)},
          checkpointIntervalMs: 30,
        });
        for (let n = 0; ; n++) {
          const event = { id: "evt-" + n, action: "crash.test", occurredAt: "2026-11-27T12:00:00Z", actor: { type: "user", id: "u" } };
          void engine.append("alpha", [event]).then(([r]) => process.stdout.write(r.id + " " + r.index + "\\n"));
          if (n % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
        }
        `,
      ],
      {
        cwd: new URL("../../..", import.meta.url).pathname,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, NODE_OPTIONS: "", SEALTRAIL_TEST_KEY: key },
      },
    );
    const acked = new Map<string, number>();
    let buffer = "";
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split("\n");
        buffer = lines.pop() ?? "";
        for (const line of lines) {
          const [id, index] = line.split(" ");
          acked.set(id as string, Number(index));
        }
        if (acked.size >= 3000) resolve();
      });
      child.on("exit", () => reject(new Error(`child exited early: ${stderr}`)));
    });
    child.kill("SIGKILL");
    assert.equal(await exited, "SIGKILL");

    const t = await openTestEngine(path, { checkpointIntervalMs: 20, signer: await parseSignerKey(key) });
    const size = await t.engine.integratedSize("alpha");
    assert.ok(size >= acked.size, `${size} stored, ${acked.size} acknowledged`);
    const entries = await readAllEntries(t.store, "alpha", size);
    for (const [id, index] of acked) assert.equal(entries[index]?.id, id, `acknowledged ${id} at ${index}`);
    assert.equal(new Set(entries.map((e) => e.id)).size, size, "no event twice");
    const cp = await t.engine.waitForCheckpoint("alpha", size - 1);
    assert.equal(cp.treeSize, size);
    await t.engine.close();
    await withRawStore(path, async (store) => {
      const result = await auditLog(store, "alpha", {
        verifiers: [await verifierOf(t.signer, `${ORIGIN_PREFIX}/alpha`)],
        origin: `${ORIGIN_PREFIX}/alpha`,
      });
      assert.equal(result.ok, true, result.problem);
      assert.equal(result.entries, size);
      assert.ok(result.checkpoints >= 2, "checkpoints from before and after the crash");
    });
  });

  it("refuses to open when the latest checkpoint does not match the stored hashes", async () => {
    const path = freshPath();
    const a = await openTestEngine(path);
    await a.engine.append("alpha", makeEvents(0, 600));
    await a.engine.close();

    const db = new Database(path);
    db.exec("DROP TRIGGER tree_hashes_no_update");
    db.prepare("UPDATE tree_hashes SET hash = ? WHERE level = 1 AND idx = 1").run(Buffer.alloc(32, 7));
    db.close();
    const error = await expectReject(openTestEngine(path), StoreError);
    assert.equal(error.code, "store_inconsistent");
    assert.match(error.message, /alpha/);
  });

  it("refuses to open when the latest checkpoint covers more entries than are stored", async () => {
    const path = freshPath();
    const a = await openTestEngine(path);
    await a.engine.append("alpha", makeEvents(0, 20));
    await a.engine.close();

    const db = new Database(path);
    db.prepare(
      "INSERT INTO checkpoints (log_id, tree_size, root_hash, note, created_at) SELECT log_id, 21, root_hash, note, created_at FROM checkpoints",
    ).run();
    db.close();
    const error = await expectReject(openTestEngine(path), StoreError);
    assert.equal(error.code, "store_inconsistent");
  });
});

describe("tiles", () => {
  it("stores correct level-1 and level-2 tile hashes as the tree crosses 256 and 65,536 leaves, and reloads them", async () => {
    const path = freshPath();
    const total = 70_000;
    const a = await openTestEngine(path, { maxEventsPerCommit: 20_000, checkpointIntervalMs: 50 });
    const small = (n: number) => ({ action: "a.b", occurredAt: "2026-11-27T12:00:00Z", actor: { type: "u", id: String(n) } });
    for (let start = 0; start < total; start += 10_000) {
      await Promise.all(range(0, 10).map((k) => a.engine.append("alpha", range(start + k * 1000, start + (k + 1) * 1000).map(small))));
    }
    const cp = await a.engine.waitForCheckpoint("alpha", total - 1);
    assert.equal(cp.treeSize, total);

    const level0: Hash[] = [];
    for (let tile = 0; tile * 256 < total; tile++) {
      const width = Math.min(256, total - tile * 256);
      level0.push(...splitTile((await a.engine.readTile("alpha", 0, tile, width)) as Uint8Array, width));
    }
    const entries = await readAllEntries(a.store, "alpha", total);
    assert.deepEqual(
      level0,
      entries.map((e) => hashLeaf(e.leaf)),
    );
    const level1 = [
      ...splitTile((await a.engine.readTile("alpha", 1, 0, 256)) as Uint8Array, 256),
      ...splitTile((await a.engine.readTile("alpha", 1, 1, 17)) as Uint8Array, 17),
    ];
    assert.equal(level1.length, Math.floor(total / 256));
    level1.forEach((hash, i) => {
      assert.deepEqual(hash, reducePerfect(level0.slice(i * 256, (i + 1) * 256)), `level-1 hash ${i}`);
    });
    assert.equal(await a.engine.readTile("alpha", 1, 1, 18), undefined);
    const level2 = (await a.engine.readTile("alpha", 2, 0, 1)) ?? assert.fail("tile 2/0.p/1 is missing");
    assert.deepEqual(level2, reducePerfect(level1.slice(0, 256)));
    assert.equal(await a.engine.readTile("alpha", 2, 0, 2), undefined);
    assert.deepEqual(cp.rootHash, rootFromLeafHashes(level0));

    for (const [index, size] of [
      [65_535, 65_536],
      [65_536, 65_537],
      [69_999, 70_000],
      [300, 70_000],
    ] as const) {
      const proof = await a.engine.proveInclusion("alpha", index, size);
      verifyInclusion(index, size, level0[index] as Hash, proof.hashes, rootFromLeafHashes(level0.slice(0, size)));
    }
    await a.engine.close();

    const b = await openTestEngine(path, { checkpointIntervalMs: 20 });
    assert.equal(await b.engine.integratedSize("alpha"), total);
    await b.engine.append("alpha", [small(total)]);
    const next = await b.engine.waitForCheckpoint("alpha", total);
    verifyConsistency(65_536, total + 1, rootFromLeafHashes(level0.slice(0, 65_536)), next.rootHash, [
      ...(await b.engine.proveConsistency("alpha", 65_536, total + 1)),
    ]);
    verifyConsistency(total, total + 1, cp.rootHash, next.rootHash, await b.engine.proveConsistency("alpha", total, total + 1));
    await b.engine.close();
  });
});

describe("reads and proofs bounded by the latest checkpoint", () => {
  it("serves tiles, bundles and proofs up to the latest checkpoint and nothing beyond it", async () => {
    const t = await openTestEngine(freshPath(), { checkpointIntervalMs: HOUR });
    await t.engine.append("alpha", makeEvents(0, 300));
    await t.engine.waitForCheckpoint("alpha", 299);
    await t.engine.append("alpha", makeEvents(300, 300));
    assert.equal(await t.engine.integratedSize("alpha"), 600);
    assert.equal((await t.engine.checkpoint("alpha"))?.treeSize, 300);

    assert.ok(await t.engine.readTile("alpha", 0, 0, 256));
    assert.ok(await t.engine.readTile("alpha", 0, 1, 44));
    assert.equal(await t.engine.readTile("alpha", 0, 1, 45), undefined);
    assert.equal(await t.engine.readTile("alpha", 0, 1, 256), undefined, "stored but not yet published");
    assert.ok(await t.engine.readTile("alpha", 1, 0, 1));
    assert.equal(await t.engine.readTile("alpha", 1, 0, 2), undefined, "stored but not yet published");
    const bundle = (await t.engine.readEntryBundle("alpha", 1, 44)) ?? assert.fail("bundle 1.p/44 is missing");
    const entries = await readAllEntries(t.store, "alpha", 300);
    assert.deepEqual(
      decodeEntryBundle(bundle),
      entries.slice(256).map((e) => e.leaf),
    );
    assert.equal(await t.engine.readEntryBundle("alpha", 1, 45), undefined);
    assert.equal(await t.engine.readEntryBundle("alpha", 2, 1), undefined);
    assert.equal(await t.engine.readTile("nope", 0, 0, 1).catch((e) => e.code), "log_not_found");

    await t.engine.proveInclusion("alpha", 299, 300);
    assert.equal((await expectReject(t.engine.proveInclusion("alpha", 0, 301), NotFoundError)).code, "beyond_tree");
    assert.equal((await expectReject(t.engine.proveConsistency("alpha", 10, 301), NotFoundError)).code, "beyond_tree");
    await expectReject(t.engine.proveInclusion("alpha", 300, 300), InputError);
    await t.engine.close();
  });

  it("gives inclusion and consistency proofs that verify for many (index, size) pairs", async () => {
    const t = await openTestEngine(freshPath(), { checkpointIntervalMs: HOUR });
    const total = 777;
    await t.engine.append("alpha", makeEvents(0, total));
    const cp = await t.engine.waitForCheckpoint("alpha", total - 1);
    const leafHashes = (await readAllEntries(t.store, "alpha", total)).map((e) => hashLeaf(e.leaf));
    const sizes = [1, 2, 3, 4, 5, 7, 8, 9, 31, 255, 256, 257, 300, 511, 512, 513, 640, 776, 777];
    const roots = new Map(sizes.map((size) => [size, rootFromLeafHashes(leafHashes.slice(0, size))]));
    assert.deepEqual(cp.rootHash, roots.get(total));
    let checked = 0;
    for (const size of sizes) {
      const root = roots.get(size) as Hash;
      for (const index of new Set([0, 1, Math.floor(size / 2), size - 2, size - 1].filter((i) => i >= 0 && i < size))) {
        const proof = await t.engine.proveInclusion("alpha", index, size);
        assert.deepEqual(proof.leafHash, leafHashes[index]);
        assert.deepEqual(proof.rootHash, root);
        verifyInclusion(index, size, proof.leafHash, proof.hashes, root);
        if (proof.hashes.length > 0) {
          assert.throws(() =>
            verifyInclusion(index, size, proof.leafHash, [...proof.hashes.slice(0, -1), flipBit(proof.hashes.at(-1) as Hash)], root),
          );
        }
        checked++;
      }
      for (const from of sizes.filter((m) => m <= size)) {
        const proof = await t.engine.proveConsistency("alpha", from, size);
        verifyConsistency(from, size, roots.get(from) as Hash, root, proof);
        if (from < size) assert.throws(() => verifyConsistency(from, size, roots.get(from) as Hash, root, proof.slice(1)));
        checked++;
      }
    }
    assert.ok(checked > 250, `${checked} proofs checked`);

    const indexes = [0, 1, 255, 256, 300, 511, 512, 640, 776];
    const batch = await t.engine.proveInclusions("alpha", indexes, total);
    assert.deepEqual(batch, await Promise.all(indexes.map((index) => t.engine.proveInclusion("alpha", index, total))));
    for (const proof of batch) verifyInclusion(proof.index, total, leafHashes[proof.index] as Hash, proof.hashes, cp.rootHash);
    await t.engine.close();
  });
});

describe("open", () => {
  it("opens an empty store with no logs and creates a log on first append", async () => {
    const t = await openTestEngine(freshPath(), { checkpointIntervalMs: 20 });
    assert.deepEqual(await t.engine.listLogs(), []);
    assert.equal(await t.engine.hasLog("alpha"), false);
    await t.engine.append("alpha", [makeEvent(0)]);
    assert.deepEqual(await t.engine.listLogs(), ["alpha"]);
    assert.equal(await t.engine.hasLog("alpha"), true);
    await t.engine.close();
  });

  it("does not create a log whose first append was refused", async () => {
    let failNext = false;
    const t = await openTestEngine(freshPath(), {
      hooks: {
        append: async (inner, batches) => {
          if (failNext) {
            failNext = false;
            throw new Error("disk full");
          }
          return inner.append(batches);
        },
      },
    });
    await expectReject(t.engine.append("big", [makeEvent(0, { metadata: { blob: "x".repeat(70_000) } })]), InputError);
    failNext = true;
    await expectReject(t.engine.append("failed", [makeEvent(0)]), StoreError);
    for (const log of ["big", "failed"]) {
      assert.equal(await t.engine.hasLog(log), false, `${log} exists`);
      await expectReject(t.engine.checkpoint(log), NotFoundError);
    }
    assert.deepEqual(await t.engine.listLogs(), []);
    assert.equal((await t.engine.append("failed", [makeEvent(1)]))[0]?.index, 0);
    assert.equal(await t.engine.hasLog("failed"), true);
    await t.engine.close();
  });

  it("uses the signer it was given", async () => {
    const signer = await testSigner();
    const engine = await LogEngine.open({ store: createSqliteStore({ path: ":memory:" }), signer, originPrefix: ORIGIN_PREFIX });
    assert.equal(engine.signer, signer);
    assert.equal(engine.origin("alpha"), `${ORIGIN_PREFIX}/alpha`);
    await engine.close();
  });
});
