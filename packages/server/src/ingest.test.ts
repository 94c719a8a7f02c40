import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { canonicalJson, fromBase64, hashLeaf, type JsonValue, MAX_LEAF_BYTES, openCheckpoint, verifyInclusion } from "@sealtrail/core";
import {
  event,
  events,
  expectProblem,
  fetchLeaves,
  fetchVerifier,
  type Harness,
  json,
  logName,
  ORIGIN_PREFIX,
  pointers,
  startHarness,
} from "./test-harness.js";

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(() => h.close());

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

interface Appended {
  id: string;
  index: number;
  created: boolean;
}

interface WithProof extends Appended {
  inclusionProof: { treeSize: number; leafHash: string; hashes: string[] };
}

/** The stored events of a log, parsed from the leaves served in its entry bundles. */
async function storedEvents(log: string): Promise<Record<string, unknown>[]> {
  const checkpoint = await h.engine.waitForCheckpoint(log, (await h.engine.integratedSize(log)) - 1);
  const leaves = await fetchLeaves(h, log, checkpoint.treeSize);
  return leaves.map((leaf) => JSON.parse(new TextDecoder().decode(leaf)) as Record<string, unknown>);
}

describe("appending one event", () => {
  it("answers 201 with { id, index, created: true }", async () => {
    const log = logName();
    const body = await json<Appended>(await h.post(log, event()), 201);
    assert.deepEqual(Object.keys(body).sort(), ["created", "id", "index"]);
    assert.match(body.id, ULID);
    assert.equal(body.index, 0);
    assert.equal(body.created, true);
    const second = await json<Appended>(await h.post(log, event()), 201);
    assert.equal(second.index, 1);
    assert.notEqual(second.id, body.id);
  });

  it("creates the log on first write and answers only once the entry is durable", async () => {
    const log = logName();
    assert.equal(await h.store.getLog(log), undefined);
    await json(await h.post(log, event()), 201);
    assert.equal((await h.store.getLog(log))?.size, 1);
  });

  it("keeps a client id", async () => {
    const log = logName();
    const body = await json<Appended>(await h.post(log, event({ id: "evt_client-1" })), 201);
    assert.equal(body.id, "evt_client-1");
    const [stored] = await storedEvents(log);
    assert.equal(stored?.id, "evt_client-1");
  });

  it("generates distinct ULIDs", async () => {
    const log = logName();
    const body = await json<{ events: Appended[] }>(await h.post(log, { events: events(50) }), 201);
    const ids = body.events.map((e) => e.id);
    for (const id of ids) assert.match(id, ULID);
    assert.equal(new Set(ids).size, 50);
  });
});

describe("appending a batch", () => {
  it("answers { events } with contiguous indexes in request order", async () => {
    const log = logName();
    await json(await h.post(log, { events: events(3) }), 201);
    const batch = events(5).map((e, i) => ({ ...e, id: `ordered-${i}` }));
    const body = await json<{ events: Appended[] }>(await h.post(log, { events: batch }), 201);
    assert.deepEqual(Object.keys(body), ["events"]);
    assert.deepEqual(
      body.events,
      batch.map((e, i) => ({ id: e.id, index: 3 + i, created: true })),
    );
    const stored = await storedEvents(log);
    assert.deepEqual(
      stored.slice(3).map((e) => e.id),
      batch.map((e) => e.id),
    );
  });

  it("accepts exactly 1000 events", async () => {
    const log = logName();
    const body = await json<{ events: Appended[] }>(await h.post(log, { events: events(1000) }), 201);
    assert.deepEqual(
      body.events.map((e) => e.index),
      Array.from({ length: 1000 }, (_, i) => i),
    );
    assert.equal(await h.engine.integratedSize(log), 1000);
  });

  it("accepts a batch of one", async () => {
    const body = await json<{ events: Appended[] }>(await h.post(logName(), { events: [event()] }), 201);
    assert.equal(body.events.length, 1);
  });

  it("keeps concurrent requests apart: every index is given once", async () => {
    const log = logName();
    const responses = await Promise.all(Array.from({ length: 20 }, () => h.post(log, { events: events(5) })));
    const indexes = (await Promise.all(responses.map((r) => json<{ events: Appended[] }>(r, 201)))).flatMap((b) =>
      b.events.map((e) => e.index),
    );
    assert.deepEqual(
      [...indexes].sort((a, b) => a - b),
      Array.from({ length: 100 }, (_, i) => i),
    );
  });
});

describe("idempotent retries by event id", () => {
  it("answers a retry with 200, the same index and created: false, and does not grow the log", async () => {
    const log = logName();
    await json(await h.post(log, event()), 201);
    const original = event({ id: "retry-me" });
    const first = await json<Appended>(await h.post(log, original), 201);
    assert.deepEqual(first, { id: "retry-me", index: 1, created: true });
    const size = await h.engine.integratedSize(log);
    const retry = await json<Appended>(await h.post(log, original), 200);
    assert.deepEqual(retry, { id: "retry-me", index: 1, created: false });
    assert.equal(await h.engine.integratedSize(log), size);
    assert.equal((await h.store.getLog(log))?.size, size);
  });

  it("treats the same instant in another offset as the same content", async () => {
    const log = logName();
    const base = event({ id: "same-instant", occurredAt: "2026-11-27T12:00:00Z" });
    await json(await h.post(log, base), 201);
    const retry = await json<Appended>(await h.post(log, { ...base, occurredAt: "2026-11-27T13:00:00.000+01:00" }), 200);
    assert.equal(retry.created, false);
  });

  it("answers a retried batch with 200 and its original indexes", async () => {
    const log = logName();
    const batch = events(4).map((e, i) => ({ ...e, id: `batch-retry-${i}` }));
    const first = await json<{ events: Appended[] }>(await h.post(log, { events: batch }), 201);
    const retry = await json<{ events: Appended[] }>(await h.post(log, { events: batch }), 200);
    assert.deepEqual(
      retry.events,
      first.events.map((e) => ({ ...e, created: false })),
    );
    assert.equal(await h.engine.integratedSize(log), 4);
  });

  it("answers 201 for a batch mixing retries and new events", async () => {
    const log = logName();
    const old = event({ id: "mixed-old" });
    await json(await h.post(log, old), 201);
    const body = await json<{ events: Appended[] }>(await h.post(log, { events: [old, event({ id: "mixed-new" })] }), 201);
    assert.deepEqual(body.events, [
      { id: "mixed-old", index: 0, created: false },
      { id: "mixed-new", index: 1, created: true },
    ]);
  });

  it("refuses the same id with different content with 409 id_conflict at /id", async () => {
    const log = logName();
    await h.seed(log, [event({ id: "taken" })]);
    const snapshot = await h.snapshot(log);
    const body = await expectProblem(await h.post(log, event({ id: "taken", action: "document.deleted" })), 409, "id_conflict");
    assert.equal(body.title, "Conflict");
    assert.deepEqual(pointers(body), ["/id"]);
    assert.doesNotMatch(body.detail, /document\.deleted|u_42/, "the detail must not quote the event");
    assert.deepEqual(await h.snapshot(log), snapshot);
  });

  it("refuses a conflicting id inside a batch at /events/N/id and stores none of the batch", async () => {
    const log = logName();
    await h.seed(log, [event({ id: "taken" })]);
    const snapshot = await h.snapshot(log);
    const batch = [event(), event(), event({ id: "taken", outcome: "denied" }), event()];
    const body = await expectProblem(await h.post(log, { events: batch }), 409, "id_conflict");
    assert.deepEqual(pointers(body), ["/events/2/id"]);
    assert.deepEqual(await h.snapshot(log), snapshot);
  });

  it("gives the same index to an id repeated with identical content in one batch", async () => {
    const log = logName();
    const twice = event({ id: "twice" });
    const body = await json<{ events: Appended[] }>(await h.post(log, { events: [event(), twice, event(), { ...twice }] }), 201);
    assert.deepEqual(
      body.events.map((e) => [e.index, e.created]),
      [
        [0, true],
        [1, true],
        [2, true],
        [1, false],
      ],
    );
    assert.equal(await h.engine.integratedSize(log), 3);
  });

  it("refuses an id repeated with different content in one batch and stores nothing", async () => {
    const log = logName();
    const body = await expectProblem(
      await h.post(log, { events: [event({ id: "dup" }), event(), event({ id: "dup", action: "other.thing" })] }),
      409,
      "id_conflict",
    );
    assert.deepEqual(pointers(body), ["/events/2/id"]);
    assert.equal(await h.store.getLog(log), undefined);
  });

  it("settles concurrent retries of one id on a single entry", async () => {
    const log = logName();
    const same = event({ id: "racing" });
    const results = await Promise.all(Array.from({ length: 10 }, () => h.post(log, same)));
    const bodies = await Promise.all(results.map((r) => r.json() as Promise<Appended>));
    assert.deepEqual(new Set(bodies.map((b) => b.index)), new Set([0]));
    assert.equal(bodies.filter((b) => b.created).length, 1);
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    assert.equal(await h.engine.integratedSize(log), 1);
  });
});

describe("?wait=checkpoint", () => {
  async function verifyAnswer(log: string, body: { checkpoint: string }, appended: WithProof[]): Promise<void> {
    const verifier = await fetchVerifier(h, log);
    const checkpoint = await openCheckpoint(body.checkpoint, { verifiers: [verifier], origin: `${ORIGIN_PREFIX}/${log}` });
    const leaves = await fetchLeaves(h, log, checkpoint.treeSize);
    for (const item of appended) {
      const proof = item.inclusionProof;
      assert.equal(proof.treeSize, checkpoint.treeSize);
      const leaf = leaves[item.index] as Uint8Array;
      const leafHash = hashLeaf(leaf);
      assert.deepEqual(fromBase64(proof.leafHash), leafHash);
      verifyInclusion(item.index, proof.treeSize, leafHash, proof.hashes.map(fromBase64), checkpoint.rootHash);
      assert.equal((JSON.parse(new TextDecoder().decode(leaf)) as { id: string }).id, item.id);
    }
  }

  it("answers one event with a signed checkpoint and an inclusion proof that verify", async () => {
    const log = logName();
    await json(await h.post(log, { events: events(6) }), 201);
    const body = await json<WithProof & { checkpoint: string }>(await h.post(log, event(), { query: "?wait=checkpoint" }), 201);
    assert.deepEqual(Object.keys(body).sort(), ["checkpoint", "created", "id", "inclusionProof", "index"]);
    assert.deepEqual(Object.keys(body.inclusionProof).sort(), ["hashes", "leafHash", "treeSize"]);
    assert.equal(body.index, 6);
    await verifyAnswer(log, body, [body]);
  });

  it("answers a batch with one checkpoint and a proof per event", async () => {
    const log = logName();
    await json(await h.post(log, { events: events(3) }), 201);
    const body = await json<{ events: WithProof[]; checkpoint: string }>(
      await h.post(log, { events: events(10) }, { query: "?wait=checkpoint" }),
      201,
    );
    assert.deepEqual(Object.keys(body).sort(), ["checkpoint", "events"]);
    assert.deepEqual(
      body.events.map((e) => e.index),
      [3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    );
    await verifyAnswer(log, body, body.events);
  });

  it("answers a retry with a proof of the original entry", async () => {
    const log = logName();
    const original = event({ id: "proved-twice" });
    await json(await h.post(log, { events: [event(), original, event()] }), 201);
    const body = await json<WithProof & { checkpoint: string }>(await h.post(log, original, { query: "?wait=checkpoint" }), 200);
    assert.equal(body.index, 1);
    assert.equal(body.created, false);
    await verifyAnswer(log, body, [body]);
  });
});

describe("what the server stores", () => {
  it("sets receivedAt itself, at the time of the request", async () => {
    const log = logName();
    const start = Date.now();
    await json(await h.post(log, { events: events(3) }), 201);
    const end = Date.now();
    for (const stored of await storedEvents(log)) {
      const receivedAt = stored.receivedAt as string;
      assert.match(receivedAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      const at = Date.parse(receivedAt);
      assert.ok(at >= start - 1 && at <= end + 1, `receivedAt ${receivedAt} is outside the request`);
    }
  });

  it("normalizes occurredAt to UTC, keeping the instant and the fraction", async () => {
    const log = logName();
    const spellings: [string, string][] = [
      ["2026-11-27T13:00:00+01:00", "2026-11-27T12:00:00.000Z"],
      ["2026-11-27t07:30:00.5-04:30", "2026-11-27T12:00:00.500Z"],
      ["2026-11-28T00:15:00.123456+12:15", "2026-11-27T12:00:00.123456Z"],
      ["2024-02-29T23:59:59z", "2024-02-29T23:59:59.000Z"],
      ["2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00.000Z"],
    ];
    await json(await h.post(log, { events: spellings.map(([occurredAt]) => event({ occurredAt })) }), 201);
    assert.deepEqual(
      (await storedEvents(log)).map((e) => e.occurredAt),
      spellings.map(([, utc]) => utc),
    );
  });

  it("stores the event with defaults, version 1 and canonical JSON leaf bytes", async () => {
    const log = logName();
    await json(
      await h.post(log, {
        id: "minimal",
        action: "user.login",
        occurredAt: "2026-11-27T12:00:00Z",
        actor: { type: "user", id: "u_1" },
      }),
      201,
    );
    const checkpoint = await h.engine.waitForCheckpoint(log, 0);
    const [leaf] = await fetchLeaves(h, log, checkpoint.treeSize);
    const text = new TextDecoder().decode(leaf);
    const stored = JSON.parse(text) as Record<string, JsonValue>;
    assert.equal(text, canonicalJson(stored), "the leaf is RFC 8785 canonical JSON");
    assert.deepEqual(stored, {
      id: "minimal",
      action: "user.login",
      occurredAt: "2026-11-27T12:00:00.000Z",
      actor: { type: "user", id: "u_1" },
      targets: [],
      outcome: "success",
      receivedAt: stored.receivedAt as string,
      version: 1,
    });
  });

  it("keeps every optional field the client sent", async () => {
    const log = logName();
    const full = {
      id: "01JD0000000000000000000000",
      action: "document.shared",
      occurredAt: "2026-11-27T12:00:00.000Z",
      actor: { type: "user", id: "u_42", name: "Ada", email: "ada@example.com" },
      targets: [{ type: "document", id: "doc_9", name: "Q3" }],
      outcome: "denied",
      context: { ip: "2001:db8::1", userAgent: "ua", requestId: "r", sessionId: "s", location: "Oslo" },
      changes: { before: { shared: false }, after: { shared: true, with: ["u_7"] } },
      metadata: { plan: "pro", seats: 12, nested: { ok: true, none: null } },
      version: 1,
    };
    await json(await h.post(log, full), 201);
    const [stored] = await storedEvents(log);
    assert.deepEqual({ ...stored, receivedAt: undefined }, { ...full, receivedAt: undefined });
  });

  it("accepts an event of exactly 65,535 bytes and refuses one of 65,536 (event_too_large)", async () => {
    const log = logName();
    const withPad = (id: string, pad: number) => event({ id, targets: [], context: undefined, metadata: { pad: "p".repeat(pad) } });
    await json(await h.post(log, withPad("size-probe-0", 0)), 201);
    const [probe] = await fetchLeaves(h, log, (await h.engine.waitForCheckpoint(log, 0)).treeSize);
    const fill = MAX_LEAF_BYTES - (probe as Uint8Array).length;
    const fits = await json<Appended>(await h.post(log, withPad("size-probe-1", fill)), 201);
    const [, leaf] = await fetchLeaves(h, log, (await h.engine.waitForCheckpoint(log, fits.index)).treeSize);
    assert.equal(leaf?.length, MAX_LEAF_BYTES);
    await expectProblem(await h.post(log, withPad("size-probe-2", fill + 1)), 413, "event_too_large");
    assert.equal(await h.engine.integratedSize(log), 2);
  });
});
