import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import type { EventInput } from "@sealtrail/core";
import { currentAuditContext } from "./context.js";
import { withAuditContext, withAuditContextFetch } from "./node.js";

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => unknown): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((done) => server.close(() => done())) };
}

describe("withAuditContext (node:http, Next.js-style handlers)", () => {
  it("gives the handler, across awaits, the request's actor, ip, user agent, request id and hashed session", async () => {
    const recorded: EventInput[] = [];
    let noticed: () => void = () => {};
    const firstRecord = new Promise<void>((done) => {
      noticed = done;
    });
    const handler = withAuditContext(
      async (_req, res) => {
        await new Promise((r) => setTimeout(r, 5));
        const context = currentAuditContext();
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ fields: context?.fields, actor: await context?.actor() }));
      },
      {
        actor: (req) => (req.headers.authorization ? { type: "user", id: req.headers.authorization.slice(7) } : undefined),
        sessionCookie: "sid",
        recordRequests: {
          audit: {
            record: async (e) => {
              recorded.push(e);
              noticed();
            },
          },
        },
      },
    );
    const app = await serve(handler);
    try {
      const response = await fetch(`${app.url}/documents/9?x=1`, {
        method: "PATCH",
        headers: { authorization: "Bearer u_42", "user-agent": "tests/1", "x-request-id": "req-abc", cookie: "a=b; sid=secret-token" },
      });
      const body = (await response.json()) as { fields: Record<string, string>; actor: unknown };
      assert.equal(response.headers.get("x-request-id"), "req-abc");
      assert.deepEqual(body.actor, { type: "user", id: "u_42" });
      assert.equal(body.fields.ip, "127.0.0.1");
      assert.equal(body.fields.userAgent, "tests/1");
      assert.equal(body.fields.requestId, "req-abc");
      assert.match(body.fields.sessionId ?? "", /^[0-9a-f]{32}$/);
      assert.ok(!JSON.stringify(body).includes("secret-token"), "the session secret itself is never recorded");
      // A request without an id gets a fresh one, and an anonymous actor.
      const anonymous = await fetch(`${app.url}/`, { headers: { "x-request-id": "bad id with spaces" } });
      const anon = (await anonymous.json()) as { fields: Record<string, string>; actor: unknown };
      assert.match(anon.fields.requestId ?? "", /^[0-9a-f-]{36}$/);
      assert.deepEqual(anon.actor, { type: "anonymous", id: "anonymous" });
      await firstRecord;
      assert.equal(recorded.length, 1, "only the mutating request is recorded automatically");
      assert.deepEqual(recorded[0]?.metadata, { method: "PATCH", route: "/documents/9", status: 200 });
      assert.equal(recorded[0]?.action, "http.request");
      assert.deepEqual(recorded[0]?.actor, { type: "user", id: "u_42" });
      assert.equal(recorded[0]?.context?.requestId, "req-abc");
    } finally {
      await app.close();
    }
  });
});

describe("withAuditContextFetch (Next.js App Router, any Request => Response handler)", () => {
  it("gives the handler the request's context; the platform's address is the peer trustProxy applies to", async () => {
    const handler = withAuditContextFetch(
      async () => {
        const context = currentAuditContext();
        return Response.json({ fields: context?.fields, actor: await context?.actor() });
      },
      {
        actor: (req) => ({ type: "user", id: req.headers.get("x-user") ?? "?" }),
        remoteAddress: (req) => req.headers.get("x-real-ip") ?? undefined,
        trustProxy: ["10.0.0.0/8"],
      },
    );
    const response = await handler(
      new Request("https://app.example.com/api/reports", {
        method: "POST",
        headers: { "x-real-ip": "10.1.2.3", "x-forwarded-for": "198.51.100.4", "x-user": "u_5", "user-agent": "next-test" },
      }),
    );
    const body = (await response.json()) as { fields: Record<string, string>; actor: unknown };
    assert.deepEqual(body.actor, { type: "user", id: "u_5" });
    assert.equal(body.fields.ip, "198.51.100.4");
    assert.equal(body.fields.userAgent, "next-test");
    assert.equal(response.headers.get("x-request-id"), body.fields.requestId);
  });
});
