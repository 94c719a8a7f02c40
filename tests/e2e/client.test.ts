import assert from "node:assert/strict";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Acknowledged, createClient } from "@sealtrail/client";
import { InputError, isEnvelope, StoreError } from "@sealtrail/core";
import { createAuditLog } from "sealtrail";
import { type ServerProcess, startServer, tempDir } from "../support/server-process.js";

const ADMIN_KEY = "e2e-client-admin-key-0123456789abcdef";
const actor = { type: "service", id: "billing" };

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });
}

async function allEvents(url: string, log: string): Promise<{ id: string; index: number }[]> {
  const out: { id: string; index: number }[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `limit=1000&order=asc${cursor ? `&cursor=${cursor}` : ""}`;
    const response = await fetch(`${url}/v1/logs/${log}/events?${query}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    assert.equal(response.status, 200);
    const page = (await response.json()) as { events: { index: number; event: { id: string } }[]; nextCursor: string | null };
    out.push(...page.events.map((e) => ({ id: e.event.id, index: e.index })));
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

describe("client SDK against a real server", () => {
  const dir = tempDir("sealtrail-client-e2e-");
  let port: number;
  let server: ServerProcess;
  const start = async () => {
    server = await startServer({
      dataDir: join(dir.path, "data"),
      adminKey: ADMIN_KEY,
      port,
      args: ["--catalog", resolve(import.meta.dirname, "../fixtures/catalog.mjs")],
    });
  };
  before(async () => {
    port = await freePort();
    await start();
  });
  after(async () => {
    await server.stop();
    dir.remove();
  });

  it("SIGKILL mid-stream, restart: every recorded event is stored exactly once", { timeout: 120_000 }, async () => {
    const client = await createClient({
      url: server.url,
      apiKey: ADMIN_KEY,
      log: "stream",
      batchSize: 25,
      flushIntervalMs: 5,
      retry: { initialDelayMs: 20, maxDelayMs: 200 },
      timeoutMs: 2000,
    });
    const acks: Promise<Acknowledged>[] = [];
    let restarted: Promise<void> | undefined;
    for (let i = 0; i < 600; i++) {
      acks.push(client.record({ action: "invoice.sent", actor, targets: [{ type: "invoice", id: `inv_${i}` }] }));
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 2));
      if (i === 250) {
        // The server dies with batches in flight: some were committed, their answers lost.
        await server.kill9();
        restarted = new Promise((r) => setTimeout(r, 300)).then(start);
      }
    }
    await restarted;
    const results = await Promise.all(acks);
    await client.close();
    const stored = await allEvents(server.url, "stream");
    assert.equal(stored.length, 600, "nothing lost, nothing doubled");
    assert.deepEqual(new Set(stored.map((e) => e.id)), new Set(results.map((r) => r.id)));
    assert.deepEqual(
      stored.map((e) => e.index),
      [...Array(600).keys()],
    );
    for (const r of results) assert.equal(stored[r.index]?.id, r.id, "each acknowledgement names the event's real index");
  });

  it("a batch whose answer was lost is retried with the same ids and answered created: false", async () => {
    let lost = 0;
    // The request reaches the real server and commits; only its answer is dropped on the way back.
    const losing = async (input: string, init: RequestInit) => {
      const response = await fetch(input, init);
      if (init.method === "POST" && lost++ === 0) throw new TypeError("fetch failed: connection reset");
      return response;
    };
    const client = await createClient({
      url: server.url,
      apiKey: ADMIN_KEY,
      log: "lost-answer",
      fetch: losing,
      retry: { initialDelayMs: 5 },
    });
    const acks = await Promise.all(Array.from({ length: 5 }, (_, i) => client.record({ action: "invoice.sent", actor, metadata: { i } })));
    await client.close();
    assert.equal(lost, 2, "one lost answer, one retry");
    assert.deepEqual(
      acks.map((a) => [a.index, a.created]),
      [0, 1, 2, 3, 4].map((i) => [i, false]),
    );
    assert.equal((await allEvents(server.url, "lost-answer")).length, 5);
  });

  it("a spool keeps events across an app restart while the server is down", async () => {
    const spool = join(dir.path, "app.spool");
    await server.stop();
    const first = await createClient({
      url: server.url,
      apiKey: ADMIN_KEY,
      log: "spooled",
      spool,
      retry: { initialDelayMs: 10, maxDelayMs: 50 },
      exitFlushMs: 0,
    });
    const pending = Array.from({ length: 40 }, (_, i) =>
      first.record({ action: "invoice.sent", actor, metadata: { i } }).catch((e: unknown) => e),
    );
    await first.close({ timeoutMs: 200 });
    for (const outcome of await Promise.all(pending)) {
      assert.ok(outcome instanceof StoreError && outcome.code === "client_closed" && outcome.message.includes("spool"));
    }
    await start();
    const second = await createClient({ url: server.url, apiKey: ADMIN_KEY, log: "spooled", spool });
    await second.flush();
    await second.close();
    assert.equal((await allEvents(server.url, "spooled")).length, 40);
    // Everything was acknowledged: a third start replays nothing.
    const third = await createClient({ url: server.url, apiKey: ADMIN_KEY, log: "spooled", spool });
    assert.equal(third.pending, 0);
    await third.close();
  });

  it("rebuilds the server's RFC 9457 problems as the same error codes", async () => {
    const client = await createClient({ url: server.url, apiKey: ADMIN_KEY, log: "errors" });
    const original = { id: "evt_1", action: "a.b", actor, occurredAt: "2026-11-27T12:00:00.000Z" };
    assert.equal((await client.record(original)).created, true);
    await assert.rejects(client.record({ id: "evt_1", action: "a.c", actor }), (e) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.code, "id_conflict");
      assert.deepEqual(
        e.problems.map((p) => p.pointer),
        ["/events/0/id"],
      );
      return true;
    });
    // The same event again is an idempotent retry, not a conflict.
    assert.equal((await client.record(original)).created, false);
    await client.close();
    // A refused key rejects the record but keeps the event spooled: the next run, with a good key, sends it.
    const spool = join(dir.path, "denied.spool");
    const denied = await createClient({ url: server.url, apiKey: "stk_nope_nope", log: "errors", spool });
    await assert.rejects(denied.record({ action: "key.fixed", actor }), (e) => (e as { code?: string }).code === "invalid_credentials");
    await denied.close();
    const fixed = await createClient({ url: server.url, apiKey: ADMIN_KEY, log: "errors", spool });
    await fixed.flush();
    await fixed.close();
    const stored = await fetch(`${server.url}/v1/logs/errors/events?q=action:key.fixed`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    assert.equal(((await stored.json()) as { events: unknown[] }).events.length, 1);
  });

  it("createAuditLog({ url, apiKey }) has the embedded interface: record, query, prove, verify", async () => {
    const audit = await createAuditLog({ url: server.url, apiKey: ADMIN_KEY, log: "remote", handleSignals: false });
    assert.equal(audit.mode, "remote");
    assert.deepEqual((await audit.verify()).entries, 0);
    const { id, index } = await audit.record({ action: "document.viewed", actor, targets: [{ type: "document", id: "doc_9" }] });
    await audit.record({ action: "user.signed_in", actor: { type: "user", id: "u_1" } });
    assert.equal(index, 0);
    const found = await audit.query("action:document.*");
    assert.deepEqual(
      found.events.map((e) => e.event.id),
      [id],
    );
    const proof = await audit.prove(id);
    assert.equal(proof.event.id, id);
    assert.equal((await audit.verify()).ok, true);
    await audit.record({ action: "user.logout", actor: { type: "user", id: "u_1" } });
    await audit.prove((await audit.query("action:user.logout")).events[0]?.event.id as string);
    const again = await audit.verify();
    assert.equal(again.ok, true, again.problem);
    assert.equal(again.entries, 3, "consistent with the checkpoint verified before");
    await audit.close();
  });

  it("serves the catalog given to `sealtrail serve --catalog` at /v1/schemas", async () => {
    const response = await fetch(`${server.url}/v1/schemas`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/schema+json");
    const schema = (await response.json()) as { $defs: Record<string, { required?: string[] }> };
    assert.deepEqual(Object.keys(schema.$defs), ["document.shared", "user.login"]);
    assert.deepEqual(schema.$defs["document.shared"]?.required, ["documentId", "sharedWith"]);
  });

  it("refuses at ingest what the served catalog refuses, every problem with its pointer", async () => {
    const post = (body: unknown) =>
      fetch(`${server.url}/v1/logs/catalogued/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const base = { occurredAt: "2026-11-27T12:00:00Z", actor };
    const refused = await post({
      events: [
        { ...base, action: "user.login", metadata: { method: "sso" } },
        { ...base, action: "document.shared", metadata: { documentId: 9, sharedWith: "not-an-email" } },
      ],
    });
    assert.equal(refused.status, 422);
    const problem = (await refused.json()) as { code: string; errors: { pointer: string }[] };
    assert.equal(problem.code, "invalid_event");
    assert.deepEqual(
      problem.errors.map((e) => e.pointer),
      ["/events/1/metadata/documentId", "/events/1/metadata/sharedWith"],
    );
    assert.equal(
      (await fetch(`${server.url}/v1/logs/catalogued`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).status,
      404,
      "all or nothing",
    );
    const accepted = await post({ ...base, action: "document.shared", metadata: { documentId: "doc_9", sharedWith: "bo@example.com" } });
    assert.equal(accepted.status, 201);
    assert.equal((await post({ ...base, action: "not.catalogued" })).status, 201, "the fixture catalog is not strict");
  });

  it("encrypts what the served catalog marks personal: the leaf holds an envelope, a query shows the value", async () => {
    const auth = { authorization: `Bearer ${ADMIN_KEY}` };
    const found = await fetch(`${server.url}/v1/logs/catalogued/events?q=${encodeURIComponent("action:document.shared")}`, {
      headers: auth,
    });
    const page = (await found.json()) as { events: { event: { id: string; metadata: { sharedWith: string } } }[] };
    const shown = page.events[0]?.event;
    assert.equal(shown?.metadata.sharedWith, "bo@example.com");
    const proof = (await (await fetch(`${server.url}/v1/logs/catalogued/events/${shown.id}`, { headers: auth })).json()) as {
      leaf: string;
    };
    const leaf = JSON.parse(Buffer.from(proof.leaf, "base64").toString("utf8")) as { metadata: { documentId: string; sharedWith: string } };
    assert.ok(isEnvelope(leaf.metadata.sharedWith), `the leaf holds ${leaf.metadata.sharedWith}`);
    assert.equal(leaf.metadata.documentId, "doc_9", "an unmarked field stays as given");
  });
});
