import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { StoreError } from "@sealtrail/core";
import { problemFor } from "./problem.js";
import { ENV_ADMIN_KEY, event, events, expectProblem, type Harness, json, logName, ORIGIN_PREFIX, startHarness } from "./test-harness.js";

describe("routing", () => {
  let h: Harness;
  const requests: { method: string; path: string; status: number; ms: number }[] = [];
  before(async () => {
    h = await startHarness({ onRequest: (entry) => requests.push(entry) });
    await h.seed("acme", events(2));
  });
  after(() => h.close());

  it("answers /healthz without a key", async () => {
    assert.deepEqual(await json(await h.request("/healthz", { key: null })), { status: "ok" });
  });

  it("describes the server at /v1/server without a key", async () => {
    const info = await json<Record<string, unknown>>(await h.request("/v1/server", { key: null }));
    assert.deepEqual(info, {
      originPrefix: ORIGIN_PREFIX,
      publicKey: h.engine.signer.verifierKey.split("+").slice(2).join("+"),
      publicTree: false,
      maxBatchEvents: 1000,
      maxBodyBytes: 16 * 1024 * 1024,
    });
  });

  it("lists logs for an admin", async () => {
    const body = await json<{ logs: string[] }>(await h.request("/v1/logs"));
    assert.ok(body.logs.includes("acme"));
  });

  it("answers unknown routes with a 404 route_not_found problem", async () => {
    for (const path of [
      "/",
      "/v2/logs",
      "/logs",
      "/logs/acme",
      "/logs/acme/tile",
      "/v1/logs/acme/",
      "/v1/logs/acme/proofs",
      "/v1/logs/acme/events/1/more",
      "/v1/logs/acme/statistics",
    ]) {
      const body = await expectProblem(await h.request(path), 404, "route_not_found");
      assert.equal(body.title, "Not Found");
    }
  });

  it("answers a wrong method with a problem and changes nothing", async () => {
    const before = await h.snapshot("acme");
    for (const [method, path] of [
      ["PUT", "/v1/logs/acme/events"],
      ["DELETE", "/v1/logs/acme/events"],
      ["PATCH", "/v1/logs/acme/events"],
      ["POST", "/logs/acme/checkpoint"],
      ["DELETE", "/logs/acme/tile/0/000.p/1"],
      ["PUT", "/v1/logs/acme"],
      ["POST", "/v1/logs"],
    ] as const) {
      const response = await h.request(path, {
        method,
        ...(method === "GET" ? {} : { body: JSON.stringify(event()), headers: { "content-type": "application/json" } }),
      });
      // No 405: Hono routes by method and path together, so the server says 404 (docs/errors.md has no method code).
      await expectProblem(response, 404, "route_not_found");
    }
    assert.deepEqual(await h.snapshot("acme"), before);
  });

  it("answers HEAD like GET, without a body", async () => {
    const response = await h.request("/logs/acme/checkpoint", { method: "HEAD" });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal((await response.arrayBuffer()).byteLength, 0);
  });

  it("reports each request to onRequest with its path but without the query string", async () => {
    requests.length = 0;
    await h.request("/v1/logs/acme/proofs/inclusion?index=0&treeSize=2");
    await h.request("/nope?secret=1");
    assert.deepEqual(
      requests.map(({ method, path, status }) => ({ method, path, status })),
      [
        { method: "GET", path: "/v1/logs/acme/proofs/inclusion", status: 200 },
        { method: "GET", path: "/nope", status: 404 },
      ],
    );
    assert.ok(requests.every((r) => r.ms >= 0));
  });
});

describe("internal errors", () => {
  const LEAKS = /sqlite|database|connection|SELECT|INSERT|FROM|\.db|\/tmp|stack|at \w/i;

  async function expectOpaque(response: Response, status: number, code: string): Promise<void> {
    const text = await response.clone().text();
    assert.doesNotMatch(text, LEAKS, `leaked: ${text}`);
    const body = await expectProblem(response, status, code);
    assert.equal(body.errors, undefined);
  }

  it("answer 500 without internal details when the store fails", async () => {
    const h = await startHarness({ envAdminKey: ENV_ADMIN_KEY });
    try {
      const log = logName("broken");
      await h.seed(log, events(3));
      await h.store.close();
      // A stored key cannot even be looked up.
      await expectOpaque(await h.request(`/v1/logs/${log}`), 500, "store_failed");
      // The env admin key needs no store: the failure then comes from the route itself.
      for (const path of [
        `/logs/${log}/tile/0/000.p/3`,
        `/logs/${log}/tile/entries/000.p/3`,
        `/v1/logs/${log}/proofs/inclusion?index=1`,
        "/v1/logs",
        "/v1/logs/never-seen",
      ]) {
        await expectOpaque(await h.request(path, { key: ENV_ADMIN_KEY }), 500, "store_failed");
      }
      await expectOpaque(await h.post(log, event(), { key: ENV_ADMIN_KEY }), 500, "store_failed");
      await expectOpaque(await h.post(log, event({ id: "with-id" }), { key: ENV_ADMIN_KEY }), 500, "store_failed");
    } finally {
      await h.close();
    }
  });

  it("answer 503 engine_closed with Retry-After once the engine is closed", async () => {
    const h = await startHarness({ envAdminKey: ENV_ADMIN_KEY });
    try {
      await h.engine.close();
      const response = await h.post(logName(), event(), { key: ENV_ADMIN_KEY });
      assert.equal(response.headers.get("retry-after"), "1");
      await expectOpaque(response, 503, "engine_closed");
    } finally {
      await h.close();
    }
  });

  it("turn an unknown error into an opaque 500 internal_error", () => {
    const { status, body, headers } = problemFor(new Error("SELECT secret FROM api_keys"));
    assert.equal(status, 500);
    assert.deepEqual(body, {
      type: "urn:sealtrail:problem:internal_error",
      title: "Internal Server Error",
      status: 500,
      detail: "the server could not complete the request",
      code: "internal_error",
    });
    assert.equal(headers["content-type"], "application/problem+json");
  });

  it("never list field problems of a 5xx", () => {
    const { body } = problemFor(new StoreError("store_failed", "sqlite: x failed", { problems: [{ pointer: "/x", detail: "leak" }] }));
    assert.equal(body.errors, undefined);
    assert.equal(body.detail, "the server could not complete the request");
  });
});
