import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type ServerType, serve } from "@hono/node-server";
import { type AuditLog, createAuditLog } from "sealtrail";
import { buildApp } from "./app.js";

describe("examples/hono (on @hono/node-server)", () => {
  const dir = mkdtempSync(join(tmpdir(), "sealtrail-example-hono-"));
  let audit: AuditLog;
  let server: ServerType;
  let url: string;
  before(async () => {
    audit = await createAuditLog({ path: dir, handleSignals: false });
    await new Promise<void>((done) => {
      server = serve({ fetch: buildApp(audit).fetch, hostname: "127.0.0.1", port: 0 }, (info: AddressInfo) => {
        url = `http://127.0.0.1:${info.port}`;
        done();
      });
    });
  });
  after(async () => {
    await new Promise((done) => server.close(done));
    await audit.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("records a complete event without the handler passing actor, ip, user agent or request id", async () => {
    const response = await fetch(`${url}/projects/prj_3`, {
      method: "DELETE",
      headers: { authorization: "Bearer user:u_9", "user-agent": "example-test/3.0", "x-session-id": "sess_77" },
    });
    assert.equal(response.status, 200);
    const requestId = response.headers.get("x-request-id");
    assert.match(requestId ?? "", /^[0-9a-f-]{36}$/, "no incoming id: one is generated and echoed");
    const { auditEventId } = (await response.json()) as { auditEventId: string };
    // The proof covers the leaf, where personal values (name, IP, user agent) are encrypted;
    // a query shows them decrypted.
    const proof = await audit.prove(auditEventId);
    const found = (await audit.query({ requestId: [requestId as string] })).events.find((e) => e.event.id === proof.event.id);
    const event = found?.event as typeof proof.event;
    assert.equal(event.action, "project.deleted");
    assert.deepEqual(event.actor, { type: "user", id: "u_9" });
    assert.deepEqual(event.targets, [{ type: "project", id: "prj_3" }]);
    assert.equal(event.context?.ip, "127.0.0.1");
    assert.equal(event.context?.userAgent, "example-test/3.0");
    assert.equal(event.context?.requestId, requestId);
    assert.equal(event.context?.sessionId, "sess_77");
  });
});
