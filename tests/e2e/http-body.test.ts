// Request bodies as a real HTTP client sends them to `sealtrail serve`: streamed (chunked, no
// Content-Length) within the limit, and past it. In-process tests (packages/server) call the fetch
// handler and cannot see what happens on the socket: an oversized body used to reset the
// connection instead of answering with the documented 413.
import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type ServerProcess, startServer, tempDir } from "../support/server-process.ts";

const MAX_BODY = 16 * 1024 * 1024; // the server's default limit (packages/server/src/app.ts)

const dir = tempDir("sealtrail-http-body-");
const adminKey = "http-body-admin-key-0123456789abcdefghij";
let server: ServerProcess;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

before(async () => {
  server = await startServer({ dataDir: join(dir.path, "data"), adminKey });
});
after(async () => {
  agent.destroy();
  await server?.stop();
  dir.remove();
});

interface Answer {
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

/** POSTs `chunks` without a Content-Length (chunked transfer encoding), writing as fast as the socket takes them. */
function postChunked(path: string, chunks: Iterable<string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}${path}`,
      { method: "POST", agent, headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (text: string) => {
          body += text;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }));
      },
    );
    req.on("error", reject);
    const parts = chunks[Symbol.iterator]();
    const write = () => {
      for (let next = parts.next(); !next.done; next = parts.next()) if (!req.write(next.value)) return void req.once("drain", write);
      req.end();
    };
    write();
  });
}

const event = (id: string) =>
  JSON.stringify({ id, action: "document.viewed", occurredAt: "2026-11-27T12:00:00.000Z", actor: { type: "user", id: "u_1" } });

function* oversized(bytes: number): Generator<string> {
  yield '{"id":"big","action":"document.viewed","occurredAt":"2026-11-27T12:00:00.000Z","actor":{"type":"user","id":"u_1"},"metadata":{"pad":"';
  const chunk = "x".repeat(64 * 1024);
  for (let sent = 0; sent < bytes; sent += chunk.length) yield chunk;
  yield '"}}';
}

describe("request bodies over real HTTP", () => {
  it("accepts a streamed event split across chunks", async () => {
    const text = event("streamed-1");
    const answer = await postChunked("/v1/logs/bodies/events", [text.slice(0, 10), text.slice(10, 40), text.slice(40)]);
    assert.equal(answer.status, 201, answer.body);
    assert.equal((JSON.parse(answer.body) as { id: string }).id, "streamed-1");
  });

  it("answers a streamed body past the limit with 413 problem+json, not a reset, and stores nothing", async () => {
    // Sizes over the limit by a little and by a lot, one after another on the same kept-alive
    // connection: the old reader failed some of them with ECONNRESET, depending on timing.
    for (const bytes of [MAX_BODY + 1024 * 1024, MAX_BODY + 4 * 1024 * 1024, 2.5 * MAX_BODY]) {
      const answer = await postChunked("/v1/logs/too-big/events", oversized(bytes));
      assert.equal(answer.status, 413, answer.body);
      assert.equal(answer.type, "application/problem+json");
      assert.equal((JSON.parse(answer.body) as { type: string }).type, "urn:sealtrail:problem:payload_too_large");
    }
    const missing = await fetch(`${server.url}/v1/logs/too-big`, { headers: { authorization: `Bearer ${adminKey}` } });
    assert.equal(missing.status, 404);
    // The server goes on serving, on a new connection as on the kept-alive one.
    const after = await postChunked("/v1/logs/bodies/events", [event("streamed-2")]);
    assert.equal(after.status, 201, after.body);
  });
});
