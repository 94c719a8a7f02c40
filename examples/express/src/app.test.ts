import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type AuditLog, createAuditLog } from "sealtrail";
import { buildApp } from "./app.js";

describe("examples/express", () => {
  const dir = mkdtempSync(join(tmpdir(), "sealtrail-example-express-"));
  let audit: AuditLog;
  let server: Server;
  let url: string;
  before(async () => {
    audit = await createAuditLog({ path: dir, handleSignals: false });
    server = buildApp(audit).listen(0, "127.0.0.1");
    await new Promise((done) => server.once("listening", done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((done) => server.close(done));
    await audit.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("records a complete event from a handler that passed only the action and the target", async () => {
    const response = await fetch(`${url}/documents/doc_9/share`, {
      method: "POST",
      headers: {
        authorization: "Bearer user:u_42",
        "content-type": "application/json",
        "user-agent": "example-test/1.0",
        "x-forwarded-for": "203.0.113.9",
        "x-request-id": "req-express-1",
        cookie: "sid=opaque-session-token",
      },
      body: JSON.stringify({ with: "bo@example.com" }),
    });
    assert.equal(response.status, 201);
    const { auditEvent } = (await response.json()) as { auditEvent: { id: string } };
    // The proof covers the leaf, where personal values (name, IP, user agent) are encrypted;
    // a query shows them decrypted.
    const proof = await audit.prove(auditEvent.id);
    const found = (await audit.query({ requestId: ["req-express-1"] })).events.find((e) => e.event.id === proof.event.id);
    const event = found?.event as typeof proof.event;
    assert.equal(event.action, "document.shared");
    assert.deepEqual(event.actor, { type: "user", id: "u_42", name: "User u_42" });
    assert.deepEqual(event.targets, [{ type: "document", id: "doc_9" }]);
    assert.equal(event.context?.ip, "203.0.113.9", "X-Forwarded-For from the trusted loopback proxy");
    assert.equal(event.context?.userAgent, "example-test/1.0");
    assert.equal(event.context?.requestId, "req-express-1");
    assert.match(event.context?.sessionId ?? "", /^[0-9a-f]{32}$/);
    assert.equal(response.headers.get("x-request-id"), "req-express-1");
  });

  it("records every mutating request (method, route, status) automatically, refusals included", async () => {
    const response = await fetch(`${url}/documents/doc_7/share`, { method: "POST", headers: { "user-agent": "anon/1" } });
    assert.equal(response.status, 401);
    const requestId = response.headers.get("x-request-id") as string;
    assert.ok(requestId, "a request without an id gets one");
    let found: Awaited<ReturnType<AuditLog["query"]>>["events"] = [];
    // The automatic record is written after the response is sent: poll the log for it.
    for (let i = 0; i < 100 && found.length === 0; i++) {
      found = (await audit.query({ requestId: [requestId] })).events;
      if (found.length === 0) await new Promise((r) => setTimeout(r, 10));
    }
    const event = found[0]?.event;
    assert.equal(event?.action, "http.request");
    assert.equal(event?.outcome, "denied");
    assert.deepEqual(event?.actor, { type: "anonymous", id: "anonymous" });
    assert.deepEqual(event?.metadata, { method: "POST", route: "/documents/:id/share", status: 401 });
    assert.equal(event?.context?.ip, "127.0.0.1");
    assert.equal(event?.context?.userAgent, "anon/1");
  });
});
