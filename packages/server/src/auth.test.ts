import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createApiKey } from "./keys.js";
import { ENV_ADMIN_KEY, event, events, expectProblem, type Harness, json, logName, startHarness } from "./test-harness.js";

let h: Harness;
/** `acme` and `globex` both exist, with a checkpoint, so a 403 cannot be a 404 in disguise. */
before(async () => {
  h = await startHarness({ envAdminKey: ENV_ADMIN_KEY });
  await h.seed("acme", events(3));
  await h.seed("globex", events(3));
});
after(() => h.close());

/** Every read route of one log, with the scope it needs. */
const readRoutes = (log: string) => [
  `/logs/${log}/checkpoint`,
  `/logs/${log}/tile/0/000.p/3`,
  `/logs/${log}/tile/entries/000.p/3`,
  `/v1/logs/${log}`,
  `/v1/logs/${log}/proofs/inclusion?index=1`,
  `/v1/logs/${log}/proofs/consistency?from=1`,
];

async function expectUnauthorized(response: Response, code: string): Promise<void> {
  await expectProblem(response, 401, code);
  assert.equal(response.headers.get("www-authenticate"), 'Bearer realm="sealtrail"');
}

async function appendAs(key: string | null, log: string): Promise<Response> {
  const before = await h.store.getLog(log);
  const response = await h.post(log, event(), { key });
  if (response.status >= 400) assert.deepEqual(await h.store.getLog(log), before, "a refused append changed the log");
  return response;
}

describe("authentication", () => {
  it("answers 401 missing_credentials with WWW-Authenticate when no key is sent", async () => {
    await expectUnauthorized(await appendAs(null, "acme"), "missing_credentials");
    for (const path of [...readRoutes("acme"), "/v1/logs"]) {
      await expectUnauthorized(await h.request(path, { key: null }), "missing_credentials");
    }
  });

  it("answers 401 before looking at the body", async () => {
    const response = await h.request("/v1/logs/acme/events", { method: "POST", key: null, body: "{not json", headers: {} });
    await expectUnauthorized(response, "missing_credentials");
  });

  for (const header of ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Bearer a b", "Token abc", "stk_abc", "Bearer  two-spaces"]) {
    it(`answers 401 invalid_credentials for the header ${JSON.stringify(header)}`, async () => {
      const response = await h.request("/v1/logs/acme", { key: null, headers: { authorization: header } });
      await expectUnauthorized(response, "invalid_credentials");
    });
  }

  it("answers 401 for an empty Authorization header", async () => {
    await expectUnauthorized(await h.request("/v1/logs/acme", { key: null, headers: { authorization: "" } }), "missing_credentials");
  });

  it("answers 401 invalid_credentials for a well-formed key that does not exist", async () => {
    const unknown = `stk_${"a".repeat(12)}_${"B".repeat(43)}`;
    await expectUnauthorized(await h.request("/v1/logs/acme", { key: unknown }), "invalid_credentials");
    await expectUnauthorized(await appendAs(unknown, "acme"), "invalid_credentials");
  });

  it("answers 401 for a known key id with the wrong secret", async () => {
    const [, id, secret] = /^stk_([a-z0-9]{12})_(.+)$/.exec(h.keys.read) as RegExpExecArray;
    const flipped = `${secret?.slice(0, -1)}${secret?.endsWith("A") ? "B" : "A"}`;
    await expectUnauthorized(await h.request("/v1/logs/acme", { key: `stk_${id}_${flipped}` }), "invalid_credentials");
  });

  it("answers 401 for a malformed key", async () => {
    for (const key of ["stk_short_secret", "not-a-key", h.keys.read.toUpperCase(), `${h.keys.read}x`]) {
      await expectUnauthorized(await h.request("/v1/logs/acme", { key }), "invalid_credentials");
    }
  });

  it("accepts the scheme case-insensitively (RFC 9110 §11.1)", async () => {
    const response = await h.request("/v1/logs/acme", { key: null, headers: { authorization: `bearer ${h.keys.read}` } });
    assert.equal(response.status, 200);
  });

  it("answers 401 for a revoked key, which worked before", async () => {
    const { key, record } = await createApiKey(h.store, { scope: "admin", label: "to revoke" });
    assert.equal((await h.request("/v1/logs/acme", { key })).status, 200);
    assert.equal(await h.store.revokeApiKey(record.id, new Date().toISOString()), true);
    await expectUnauthorized(await h.request("/v1/logs/acme", { key }), "invalid_credentials");
    await expectUnauthorized(await appendAs(key, "acme"), "invalid_credentials");
  });

  it("never says in a 401 why a key is invalid (unknown, wrong secret and revoked look the same)", async () => {
    const { key, record } = await createApiKey(h.store, { scope: "read" });
    await h.store.revokeApiKey(record.id, new Date().toISOString());
    const unknown = `stk_${"z".repeat(12)}_${"B".repeat(43)}`;
    const bodies = await Promise.all([key, unknown].map(async (k) => (await h.request("/v1/logs/acme", { key: k })).json()));
    assert.deepEqual(bodies[0], bodies[1]);
  });
});

describe("scopes", () => {
  it("lets an ingest key append", async () => {
    const response = await appendAs(h.keys.ingest, "acme");
    assert.equal(response.status, 201);
  });

  it("refuses an ingest key every read route with 403 forbidden", async () => {
    for (const path of [...readRoutes("acme"), "/v1/logs"]) {
      const body = await expectProblem(await h.request(path, { key: h.keys.ingest }), 403, "forbidden");
      assert.equal(body.title, "Forbidden");
    }
  });

  it("lets a read key read every read route", async () => {
    for (const path of readRoutes("acme")) {
      const response = await h.request(path, { key: h.keys.read });
      assert.equal(response.status, 200, `${path}: ${await response.clone().text()}`);
    }
  });

  it("refuses a read key an append with 403, and stores nothing", async () => {
    await expectProblem(await appendAs(h.keys.read, "acme"), 403, "forbidden");
    await expectProblem(await appendAs(h.keys.read, logName("new")), 403, "forbidden");
  });

  it("refuses a read key the admin log list", async () => {
    await expectProblem(await h.request("/v1/logs", { key: h.keys.read }), 403, "forbidden");
  });

  it("lets an admin key do everything", async () => {
    assert.equal((await appendAs(h.keys.admin, "acme")).status, 201);
    for (const path of readRoutes("acme")) assert.equal((await h.request(path, { key: h.keys.admin })).status, 200, path);
    const list = await json<{ logs: string[] }>(await h.request("/v1/logs", { key: h.keys.admin }));
    assert.ok(list.logs.includes("acme") && list.logs.includes("globex"));
  });

  it("treats the env admin key as an admin key", async () => {
    assert.equal((await appendAs(ENV_ADMIN_KEY, "acme")).status, 201);
    for (const path of readRoutes("globex")) assert.equal((await h.request(path, { key: ENV_ADMIN_KEY })).status, 200, path);
    assert.equal((await h.request("/v1/logs", { key: ENV_ADMIN_KEY })).status, 200);
  });

  it("does not accept a near miss of the env admin key", async () => {
    for (const key of [`${ENV_ADMIN_KEY}x`, ENV_ADMIN_KEY.slice(0, -1), ENV_ADMIN_KEY.toUpperCase()]) {
      await expectUnauthorized(await h.request("/v1/logs", { key }), "invalid_credentials");
    }
  });
});

describe("keys limited to a log", () => {
  it("let an acme key use acme", async () => {
    assert.equal((await appendAs(h.keys.acmeIngest, "acme")).status, 201);
    for (const path of readRoutes("acme")) assert.equal((await h.request(path, { key: h.keys.acmeRead })).status, 200, path);
  });

  it("answer 403 on globex for every route", async () => {
    await expectProblem(await appendAs(h.keys.acmeIngest, "globex"), 403, "forbidden");
    for (const path of readRoutes("globex")) {
      await expectProblem(await h.request(path, { key: h.keys.acmeRead }), 403, "forbidden");
      await expectProblem(await h.request(path, { key: h.keys.acmeIngest }), 403, "forbidden");
    }
    await expectProblem(await h.request("/v1/logs", { key: h.keys.acmeRead }), 403, "forbidden");
  });

  it("answer 403 the same way for a log that does not exist (existence is not revealed)", async () => {
    const missing = logName("missing");
    for (const [existing, absent] of readRoutes("globex").map((path) => [path, path.replace("globex", missing)] as const)) {
      const a = await expectProblem(await h.request(existing, { key: h.keys.acmeRead }), 403, "forbidden");
      const b = await expectProblem(await h.request(absent, { key: h.keys.acmeRead }), 403, "forbidden");
      assert.equal(a.detail.replace("globex", missing), b.detail);
    }
    await expectProblem(await appendAs(h.keys.acmeIngest, missing), 403, "forbidden");
    assert.equal(await h.store.getLog(missing), undefined);
  });

  it("do not widen to another log through a percent-encoded name", async () => {
    await expectProblem(await h.request("/logs/%67lobex/checkpoint", { key: h.keys.acmeRead }), 403, "forbidden");
    await expectProblem(await h.request("/logs/%67lobex/tile/entries/000.p/1", { key: h.keys.acmeRead }), 403, "forbidden");
  });
});

describe("publicTree", () => {
  let pub: Harness;
  const log = "public-acme";
  before(async () => {
    pub = await startHarness({ publicTree: true });
    await pub.seed(log, events(3));
  });
  after(() => pub.close());

  it("serves the checkpoint, hash tiles, log info and proofs without a key", async () => {
    for (const path of [
      `/logs/${log}/checkpoint`,
      `/logs/${log}/tile/0/000.p/3`,
      `/v1/logs/${log}`,
      `/v1/logs/${log}/proofs/inclusion?index=2`,
      `/v1/logs/${log}/proofs/consistency?from=1`,
    ]) {
      const response = await pub.request(path, { key: null });
      assert.equal(response.status, 200, `${path}: ${await response.clone().text()}`);
    }
  });

  it("marks the checkpoint and hash tiles cacheable by shared caches", async () => {
    assert.equal((await pub.request(`/logs/${log}/checkpoint`, { key: null })).headers.get("cache-control"), "public, no-cache");
    assert.equal(
      (await pub.request(`/logs/${log}/tile/0/000.p/3`, { key: null })).headers.get("cache-control"),
      "public, max-age=31536000, immutable",
    );
  });

  it("still requires a read key for entry bundles", async () => {
    const path = `/logs/${log}/tile/entries/000.p/3`;
    await expectUnauthorized(await pub.request(path, { key: null }), "missing_credentials");
    await expectProblem(await pub.request(path, { key: pub.keys.ingest }), 403, "forbidden");
    await expectProblem(await pub.request(path, { key: pub.keys.acmeRead }), 403, "forbidden");
    const response = await pub.request(path, { key: pub.keys.read });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("cache-control"), "private, max-age=31536000, immutable");
  });

  it("still requires a key to append and to list logs", async () => {
    await expectUnauthorized(await pub.post(log, event(), { key: null }), "missing_credentials");
    await expectUnauthorized(await pub.request("/v1/logs", { key: null }), "missing_credentials");
  });

  it("answers 404 (not 401) for a log that does not exist", async () => {
    await expectProblem(await pub.request("/logs/nope/checkpoint", { key: null }), 404, "log_not_found");
  });

  it("is off by default: the tree is private", async () => {
    assert.equal((await h.request("/logs/acme/checkpoint", { key: h.keys.read })).headers.get("cache-control"), "private, no-cache");
    const info = await json<{ publicTree: boolean }>(await h.request("/v1/server", { key: null }));
    assert.equal(info.publicTree, false);
    const pubInfo = await json<{ publicTree: boolean }>(await pub.request("/v1/server", { key: null }));
    assert.equal(pubInfo.publicTree, true);
  });
});
