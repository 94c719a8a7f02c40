// The OpenAPI document against the real app: every route it serves is documented, every documented
// route is served, and real answers (status, content type, headers, JSON bodies, SSE events) are
// validated against the document's schemas with a JSON Schema 2020-12 validator.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AuthError, InputError, NotFoundError, StoreError } from "@sealtrail/core";
import { createPersonalData, createSqliteKeyStore } from "@sealtrail/privacy";
import type { ValidateFunction } from "ajv";
import ajv2020 from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";
import {
  type HttpMethod,
  type JsonSchema,
  OPENAPI,
  type OperationObject,
  type ParameterObject,
  type Reference,
  type ResponseObject,
} from "./openapi.js";
import { problemFor } from "./problem.js";
import { ENV_ADMIN_KEY, event, events, type Harness, heldSigner, type RequestOptions, startHarness, testSigner } from "./test-harness.js";

const METHODS: readonly HttpMethod[] = ["get", "post", "put", "delete"];

interface DocumentedOperation {
  readonly method: HttpMethod;
  readonly path: string;
  readonly op: OperationObject;
}

const operations: DocumentedOperation[] = Object.entries(OPENAPI.paths).flatMap(([path, item]) =>
  METHODS.flatMap((method) => {
    const op = item[method];
    return op ? [{ method, path, op }] : [];
  }),
);

function resolveRef<T>(value: T | Reference): T {
  if (typeof value !== "object" || value === null || !("$ref" in value)) return value as T;
  const pointer = value.$ref;
  assert.ok(pointer.startsWith("#/"), `only local references: ${pointer}`);
  let target: unknown = OPENAPI;
  for (const token of pointer.slice(2).split("/")) {
    target = (target as Record<string, unknown>)[token.replaceAll("~1", "/").replaceAll("~0", "~")];
    assert.ok(target !== undefined, `unresolved reference ${pointer}`);
  }
  return target as T;
}

const parametersOf = (op: OperationObject): ParameterObject[] => (op.parameters ?? []).map((p) => resolveRef<ParameterObject>(p));

/** Alternatives in `security` that need no credentials at all. */
const isPublic = (op: OperationObject) => op.security.length > 0 && op.security.every((alt) => Object.keys(alt).length === 0);
const allowsAnonymous = (op: OperationObject) => op.security.some((alt) => Object.keys(alt).length === 0);

// --- JSON Schema validation ---------------------------------------------------------------

// CommonJS modules: `.default` is the class (plugin) both at runtime and to TypeScript (NodeNext).
const ajv = new ajv2020.default({ allErrors: true, strict: true, strictTypes: false });
ajvFormats.default(ajv);
ajv.addVocabulary(["components"]);
// The component schemas under the base URI "openapi", so `#/components/schemas/X` resolves.
ajv.addSchema({ components: { schemas: structuredClone(OPENAPI.components.schemas) } }, "openapi");

const compiled = new Map<string, ValidateFunction>();

/** Rebases the document's local references onto "openapi", so any schema of it compiles alone. */
function rebase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rebase);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === "$ref" && typeof v === "string" && v.startsWith("#/") ? `openapi${v}` : rebase(v)]),
  );
}

function compile(schema: JsonSchema): ValidateFunction {
  const key = JSON.stringify(schema);
  const known = compiled.get(key);
  if (known) return known;
  const check = ajv.compile(rebase(schema) as object);
  compiled.set(key, check);
  return check;
}

function validate(schema: JsonSchema, data: unknown, what: string): void {
  const check = compile(schema);
  if (!check(data)) {
    assert.fail(
      `${what} does not match its schema: ${ajv.errorsText(check.errors, { separator: "\n  " })}\n${JSON.stringify(data).slice(0, 2000)}`,
    );
  }
}

// --- Checking real answers ------------------------------------------------------------------

/** "get /v1/logs/{log}" → statuses seen, to prove each documented status was exercised. */
const seen = new Map<string, Set<string>>();

interface SseEvent {
  readonly event?: string;
  readonly id?: string;
  readonly data?: string;
  readonly comment?: string;
}

function parseSse(text: string): { events: SseEvent[]; rest: string } {
  const blocks = text.split("\n\n");
  const rest = blocks.pop() ?? "";
  const events = blocks.map((block) => {
    const out: { event?: string; id?: string; data?: string; comment?: string } = {};
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) out.comment = line.slice(1).trim();
      const match = /^(event|id|data): ?(.*)$/.exec(line);
      if (match) out[match[1] as "event" | "id" | "data"] = match[2] as string;
    }
    return out;
  });
  return { events, rest };
}

/** Reads a server-sent event stream incrementally. */
class SseReader {
  readonly events: SseEvent[] = [];
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = "";

  constructor(response: Response) {
    this.#reader = (response.body as ReadableStream<Uint8Array>).getReader();
  }

  /** Reads until `done(events)` holds; fails after `ms`. */
  async until(done: (events: readonly SseEvent[]) => boolean, ms = 5000): Promise<SseEvent[]> {
    const deadline = Date.now() + ms;
    while (!done(this.events)) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out reading server-sent events; got ${JSON.stringify(this.events)}`)),
          deadline - Date.now(),
        );
      });
      const chunk = await Promise.race([this.#reader.read(), timeout]).finally(() => clearTimeout(timer));
      if (chunk.done) throw new Error(`the event stream ended; got ${JSON.stringify(this.events)}`);
      const parsed = parseSse(this.#buffer + this.#decoder.decode(chunk.value, { stream: true }));
      this.#buffer = parsed.rest;
      this.events.push(...parsed.events);
    }
    return this.events;
  }

  async close(): Promise<void> {
    await this.#reader.cancel().catch(() => undefined);
  }
}

/**
 * Checks a real answer against the document: the status is documented for this operation, the
 * content type is one it documents, documented headers match their schemas, and the body matches
 * the schema. Returns the parsed body (JSON), the text (text/plain) or the SSE events.
 */
async function check(
  method: HttpMethod,
  path: string,
  response: Response,
  expected: number,
  sse?: (reader: SseReader) => Promise<unknown>,
): Promise<unknown> {
  const documented = OPENAPI.paths[path]?.[method];
  assert.ok(documented, `${method.toUpperCase()} ${path} is not in the document`);
  const label = `${method.toUpperCase()} ${path} → ${response.status}`;
  if (response.status !== expected) assert.fail(`${label}, expected ${expected}: ${await response.text()}`);
  const statusKey = String(response.status);
  const declared = documented.responses[statusKey] ?? (response.status >= 500 ? documented.responses["5XX"] : undefined);
  assert.ok(declared, `${label}: status not documented (documented: ${Object.keys(documented.responses).join(", ")})`);
  const key = `${method} ${path}`;
  const statuses = seen.get(key) ?? new Set<string>();
  statuses.add(documented.responses[statusKey] ? statusKey : "5XX");
  seen.set(key, statuses);
  const spec = resolveRef<ResponseObject>(declared);

  for (const [name, header] of Object.entries(spec.headers ?? {})) {
    const value = response.headers.get(name);
    if (value !== null) validate(header.schema, value, `${label} header ${name}`);
  }
  if (!spec.content) {
    assert.equal(await response.text(), "", `${label}: documented without a body`);
    return undefined;
  }
  const contentType = response.headers.get("content-type") ?? "";
  const mediaType = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  const media = spec.content[mediaType];
  assert.ok(media, `${label}: content type ${contentType} not documented (documented: ${Object.keys(spec.content).join(", ")})`);
  if (mediaType === "application/json" || mediaType.endsWith("+json")) {
    const text = await response.text();
    const body = JSON.parse(text) as unknown;
    validate(media.schema, body, `${label} body`);
    return body;
  }
  if (mediaType === "text/plain") {
    const text = await response.text();
    validate(media.schema, text, `${label} body`);
    return text;
  }
  if (mediaType === "text/event-stream") {
    assert.ok(sse, `${label}: an event stream needs a reader`);
    const reader = new SseReader(response);
    try {
      await sse(reader);
    } finally {
      await reader.close();
    }
    const received = reader.events;
    const schemas = media["x-sse-events"] ?? {};
    for (const item of received) {
      if (item.comment !== undefined) continue;
      const schema = schemas[item.event ?? "message"];
      assert.ok(schema, `${label}: event ${item.event} is not documented`);
      validate(schema, JSON.parse(item.data ?? "null"), `${label} event ${item.event}`);
    }
    return received;
  }
  return new Uint8Array(await response.arrayBuffer());
}

// --- The document alone -------------------------------------------------------------------

describe("the OpenAPI document", () => {
  it("is OpenAPI 3.1 with JSON Schema 2020-12, and every $ref resolves", () => {
    assert.match(OPENAPI.openapi, /^3\.1\.\d+$/);
    assert.equal(OPENAPI.jsonSchemaDialect, "https://json-schema.org/draft/2020-12/schema");
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (typeof value === "object" && value !== null) {
        if ("$ref" in value) resolveRef(value as Reference);
        Object.values(value).forEach(walk);
      }
    };
    walk(OPENAPI);
    assert.ok(Object.isFrozen(OPENAPI.paths), "the document is frozen: no handler can change what others are served");
  });

  it("compiles every schema in strict mode (no unknown keywords or formats)", () => {
    for (const name of Object.keys(OPENAPI.components.schemas)) compile({ $ref: `#/components/schemas/${name}` });
    for (const { method, path, op } of operations) {
      for (const [status, response] of Object.entries(op.responses)) {
        const spec = resolveRef<ResponseObject>(response);
        for (const media of Object.values(spec.content ?? {})) {
          compile(media.schema);
          for (const schema of Object.values(media["x-sse-events"] ?? {})) compile(schema);
        }
        for (const header of Object.values(spec.headers ?? {})) compile(header.schema);
        assert.ok(spec.description, `${method} ${path} ${status}: description`);
      }
      for (const p of parametersOf(op)) {
        if (p.schema !== undefined) compile(p.schema);
        for (const media of Object.values(p.content ?? {})) compile(media.schema);
      }
      for (const media of Object.values(op.requestBody?.content ?? {})) compile(media.schema);
    }
  });

  it("has unique operation ids, declares every path parameter, and names only known security schemes", () => {
    const ids = operations.map((o) => o.op.operationId);
    assert.equal(new Set(ids).size, ids.length, "operationIds repeat");
    for (const { method, path, op } of operations) {
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      const declared = parametersOf(op)
        .filter((p) => p.in === "path")
        .map((p) => p.name)
        .sort();
      assert.deepEqual(declared, templated, `${method} ${path}: path parameters`);
      for (const p of parametersOf(op)) {
        assert.ok((p.schema === undefined) !== (p.content === undefined), `${method} ${path} ${p.name}: schema or content, not both`);
        if (p.in === "path") assert.equal(p.required, true, `${method} ${path} ${p.name}: path parameters are required`);
      }
      for (const alternative of op.security) {
        for (const scheme of Object.keys(alternative))
          assert.ok(OPENAPI.components.securitySchemes[scheme], `${method} ${path}: ${scheme}`);
      }
    }
  });

  it("documents 401 and 403 on every route that needs credentials, and problem+json on every error", () => {
    for (const { method, path, op } of operations) {
      if (!isPublic(op)) {
        assert.ok(op.responses["401"] && op.responses["403"], `${method} ${path}: 401 and 403`);
      }
      assert.ok(op.responses["5XX"], `${method} ${path}: 5XX`);
      for (const [status, response] of Object.entries(op.responses)) {
        if (!/^[45]/.test(status)) continue;
        const content = resolveRef<ResponseObject>(response).content ?? {};
        assert.deepEqual(Object.keys(content), ["application/problem+json"], `${method} ${path} ${status}`);
      }
    }
  });

  it("gives each documented error code the status the server's code table gives it", () => {
    for (const { method, path, op } of operations) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (!/^4\d\d$/.test(status)) continue;
        const schema = resolveRef<ResponseObject>(response).content?.["application/problem+json"]?.schema as {
          properties?: { code?: { enum?: string[] } };
        };
        const codes = schema.properties?.code?.enum ?? [];
        assert.ok(codes.length > 0, `${method} ${path} ${status}: list the codes`);
        for (const code of codes) {
          const statuses = [InputError, AuthError, NotFoundError, StoreError].map((E) => problemFor(new E(code, "x")).status);
          assert.ok(statuses.includes(Number(status)), `${method} ${path}: ${code} is never ${status} (problem.ts says ${statuses})`);
        }
      }
    }
  });
});

// --- The document against the app -----------------------------------------------------------

let h: Harness;
/** What `defineEvents(...).toJSONSchema()` from `sealtrail` returns, in miniature. */
const TEST_CATALOG = {
  toJSONSchema: () => ({
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    required: ["action"],
    oneOf: [
      { properties: { action: { const: "user.login" }, metadata: { $ref: "#/$defs/user.login" } }, required: ["action", "metadata"] },
    ],
    $defs: { "user.login": { type: "object", properties: { method: { enum: ["password", "sso"] } }, required: ["method"] } },
  }),
};
/** The log every read is made on (300 events: one full tile and one partial). */
const LOG = "acme";
const OTHER = "globex";
let eventId: string;
let viewerToken: string;
let restrictedToken: string;

before(async () => {
  h = await startHarness({ envAdminKey: ENV_ADMIN_KEY, maxBodyBytes: 512 * 1024, catalog: TEST_CATALOG });
  await h.seed(LOG, events(300));
  await h.seed(OTHER, events(3));
  const [first] = (await h.store.readEntries(LOG, 0, 1)) as unknown as [{ leaf: Uint8Array }];
  eventId = (JSON.parse(new TextDecoder().decode(first.leaf)) as { id: string }).id;
  const token = async (body: unknown) => ((await (await post("/v1/viewer-tokens", body)).json()) as { token: string }).token;
  viewerToken = await token({ log: LOG });
  restrictedToken = await token({ log: LOG, actor: "u_42" });
});
after(() => h.close());

function post(path: string, body: unknown, options: RequestOptions = {}): Promise<Response> {
  return h.request(path, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...options,
    headers: { "content-type": "application/json", ...options.headers },
  });
}

/** Hono's route pattern as a regular expression over concrete paths. */
function honoPattern(path: string): RegExp {
  const source = path
    .split("/")
    .map((segment) => (segment === "*" ? ".*" : segment.startsWith(":") ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${source}$`);
}

/** A concrete path for a documented path: each parameter's example (or a placeholder). */
function samplePath(path: string, op?: OperationObject, overrides: Record<string, string> = {}): string {
  const examples = new Map((op ? parametersOf(op) : []).map((p) => [p.name, p.example]));
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => overrides[name] ?? examples.get(name) ?? "x");
}

function sampleQuery(op: OperationObject): string {
  const required = parametersOf(op).filter((p) => p.in === "query" && p.required);
  const query = new URLSearchParams(required.map((p) => [p.name, p.example ?? "0"]));
  return required.length > 0 ? `?${query}` : "";
}

describe("the document and the app's routes", () => {
  it("documents every route the app registers", () => {
    const registered = h.app.routes.filter((r) => r.method !== "ALL");
    assert.ok(registered.length > 10);
    for (const route of registered) {
      const pattern = honoPattern(route.path);
      const documented = operations.filter((o) => o.method === route.method.toLowerCase() && pattern.test(samplePath(o.path)));
      assert.ok(documented.length > 0, `${route.method} ${route.path} is served but not documented in openapi.ts`);
    }
  });

  it("serves every documented path and method", () => {
    const registered = h.app.routes.filter((r) => r.method !== "ALL");
    for (const { method, path } of operations) {
      const concrete = samplePath(path);
      const served = registered.some((r) => r.method.toLowerCase() === method && honoPattern(r.path).test(concrete));
      assert.ok(served, `${method.toUpperCase()} ${path} is documented but the app has no such route`);
    }
  });

  it("answers every documented operation as its security says: public ones without a key, the others 401", async () => {
    for (const { method, path, op } of operations) {
      const url = samplePath(path, op) + sampleQuery(op);
      const response = await h.request(url, { method: method.toUpperCase(), key: null });
      const body = await response.text();
      if (response.headers.get("content-type") === "application/problem+json") {
        assert.notEqual(JSON.parse(body).code, "route_not_found", `${method.toUpperCase()} ${url}`);
      }
      if (isPublic(op)) assert.equal(response.status, 200, `${method.toUpperCase()} ${url} is public: ${body}`);
      else assert.equal(response.status, 401, `${method.toUpperCase()} ${url} needs credentials: ${body}`);
    }
  });

  it("with --public-tree, answers exactly the operations that allow anonymous access without a key", async () => {
    const pub = await startHarness({ publicTree: true });
    try {
      await pub.seed(LOG, events(3));
      for (const { method, path, op } of operations) {
        const url = samplePath(path, op, { index: "000", width: "3" }) + sampleQuery(op);
        const response = await pub.request(url, { method: method.toUpperCase(), key: null });
        const body = await response.text();
        if (allowsAnonymous(op))
          assert.ok(![401, 403].includes(response.status), `${method.toUpperCase()} ${url} should be public: ${body}`);
        else assert.equal(response.status, 401, `${method.toUpperCase()} ${url} needs credentials: ${body}`);
      }
    } finally {
      await pub.close();
    }
  });

  it("serves this very document at GET /openapi.json, without a key", async () => {
    const body = await check("get", "/openapi.json", await h.request("/openapi.json", { key: null }), 200);
    assert.deepEqual(body, JSON.parse(JSON.stringify(OPENAPI)));
  });
});

describe("real answers match the document", () => {
  const get = (url: string, key?: string | null, headers?: Record<string, string>) =>
    h.request(url, { ...(key === undefined ? {} : { key }), ...(headers ? { headers } : {}) });

  it("server facts", async () => {
    await check("get", "/healthz", await get("/healthz", null), 200);
    await check("get", "/v1/server", await get("/v1/server", null), 200);
    await check("get", "/v1/logs", await get("/v1/logs"), 200);
    await check("get", "/v1/logs", await get("/v1/logs", null), 401);
    await check("get", "/v1/logs", await get("/v1/logs", h.keys.read), 403);
  });

  it("the event catalog", async () => {
    const body = await check("get", "/v1/schemas", await get("/v1/schemas", null), 200);
    assert.deepEqual(body, TEST_CATALOG.toJSONSchema());
    const bare = await startHarness();
    try {
      const problem = (await check("get", "/v1/schemas", await bare.request("/v1/schemas", { key: null }), 404)) as { code: string };
      assert.equal(problem.code, "no_catalog");
    } finally {
      await bare.close();
    }
  });

  it("log info, checkpoint and proofs", async () => {
    const info = "/v1/logs/{log}";
    await check("get", info, await get(`/v1/logs/${LOG}`), 200);
    await check("get", info, await get(`/v1/logs/${LOG}?token=${viewerToken}`, null), 200);
    await check("get", info, await get(`/v1/logs/${LOG}`, null), 401);
    await check("get", info, await get(`/v1/logs/${OTHER}`, h.keys.acmeRead), 403);
    await check("get", info, await get("/v1/logs/nope"), 404);

    const cp = "/logs/{log}/checkpoint";
    await check("get", cp, await get(`/logs/${LOG}/checkpoint`), 200);
    await check("get", cp, await get(`/logs/${LOG}/checkpoint`, "stk_bogus"), 401);
    await check("get", cp, await get(`/logs/${OTHER}/checkpoint`, h.keys.acmeRead), 403);
    await check("get", cp, await get("/logs/nope/checkpoint"), 404);

    const inclusion = "/v1/logs/{log}/proofs/inclusion";
    await check("get", inclusion, await get(`/v1/logs/${LOG}/proofs/inclusion?index=7&treeSize=300`), 200);
    await check("get", inclusion, await get(`/v1/logs/${LOG}/proofs/inclusion`), 400);
    await check("get", inclusion, await get(`/v1/logs/${LOG}/proofs/inclusion?index=1`, null), 401);
    await check("get", inclusion, await get(`/v1/logs/${OTHER}/proofs/inclusion?index=1`, h.keys.acmeRead), 403);
    await check("get", inclusion, await get(`/v1/logs/${LOG}/proofs/inclusion?index=1&treeSize=301`), 404);

    const consistency = "/v1/logs/{log}/proofs/consistency";
    await check("get", consistency, await get(`/v1/logs/${LOG}/proofs/consistency?from=1&to=300`), 200);
    await check("get", consistency, await get(`/v1/logs/${LOG}/proofs/consistency?from=0`), 400);
    await check("get", consistency, await get(`/v1/logs/${LOG}/proofs/consistency?from=1`, null), 401);
    await check("get", consistency, await get(`/v1/logs/${OTHER}/proofs/consistency?from=1`, h.keys.acmeRead), 403);
    await check("get", consistency, await get(`/v1/logs/${LOG}/proofs/consistency?from=1&to=999`), 404);
  });

  it("a log with no checkpoint yet: 404 no_checkpoint", async () => {
    const held = heldSigner(await testSigner());
    const slow = await startHarness({ signer: held.signer });
    try {
      assert.equal((await slow.post(LOG, event())).status, 201);
      const body = await check("get", "/logs/{log}/checkpoint", await slow.request(`/logs/${LOG}/checkpoint`), 404);
      assert.equal((body as { code: string }).code, "no_checkpoint");
    } finally {
      held.release();
      await slow.close();
    }
  });

  it("hash tiles and entry bundles (C2SP tlog-tiles)", async () => {
    const tile = "/logs/{log}/tile/{level}/{index}";
    const bytes = (await check("get", tile, await get(`/logs/${LOG}/tile/0/000`), 200)) as Uint8Array;
    assert.equal(bytes.length, 256 * 32);
    await check("get", tile, await get(`/logs/${LOG}/tile/0/000`, null), 401);
    await check("get", tile, await get(`/logs/${OTHER}/tile/0/000`, h.keys.acmeRead), 403);
    await check("get", tile, await get(`/logs/${LOG}/tile/0/001`), 404);
    await check("get", tile, await get(`/logs/${LOG}/tile/0/x000/000`), 404);
    await check("get", tile, await get("/logs/nope/tile/0/000"), 404);

    const partial = "/logs/{log}/tile/{level}/{index}.p/{width}";
    assert.equal(((await check("get", partial, await get(`/logs/${LOG}/tile/0/001.p/44`), 200)) as Uint8Array).length, 44 * 32);
    await check("get", partial, await get(`/logs/${LOG}/tile/0/001.p/44`, null), 401);
    await check("get", partial, await get(`/logs/${OTHER}/tile/0/000.p/1`, h.keys.acmeRead), 403);
    await check("get", partial, await get(`/logs/${LOG}/tile/0/001.p/45`), 404);

    const bundle = "/logs/{log}/tile/entries/{index}";
    await check("get", bundle, await get(`/logs/${LOG}/tile/entries/000`), 200);
    const gzipped = await get(`/logs/${LOG}/tile/entries/000`, undefined, { "accept-encoding": "gzip" });
    assert.equal(gzipped.headers.get("content-encoding"), "gzip");
    await check("get", bundle, gzipped, 200);
    await check("get", bundle, await get(`/logs/${LOG}/tile/entries/000`, null), 401);
    await check("get", bundle, await get(`/logs/${LOG}/tile/entries/000`, h.keys.ingest), 403);
    await check("get", bundle, await get(`/logs/${LOG}/tile/entries/000`, restrictedToken), 403);
    await check("get", bundle, await get(`/logs/${LOG}/tile/entries/001`), 404);

    const partialBundle = "/logs/{log}/tile/entries/{index}.p/{width}";
    await check("get", partialBundle, await get(`/logs/${LOG}/tile/entries/001.p/44`), 200);
    await check("get", partialBundle, await get(`/logs/${LOG}/tile/entries/001.p/44`, null), 401);
    await check("get", partialBundle, await get(`/logs/${OTHER}/tile/entries/000.p/1`, h.keys.acmeRead), 403);
    await check("get", partialBundle, await get(`/logs/${LOG}/tile/entries/001.p/45`), 404);
  });

  it("ingest", async () => {
    const path = "/v1/logs/{log}/events";
    const log = "ingest-openapi";
    const one = event({ id: "evt-openapi-1" });
    await check("post", path, await h.post(log, one), 201);
    await check("post", path, await h.post(log, one), 200);
    await check("post", path, await h.post(log, { events: events(3) }), 201);
    const waited = (await check("post", path, await h.post(log, event(), { query: "?wait=checkpoint" }), 201)) as Record<string, unknown>;
    assert.ok(typeof waited.checkpoint === "string" && typeof waited.inclusionProof === "object");
    await check("post", path, await h.post(log, { events: events(2) }, { query: "?wait=checkpoint" }), 201);
    await check("post", path, await h.post(log, "{"), 400);
    await check("post", path, await h.post(log, event(), { query: "?wait=later" }), 400);
    await check("post", path, await h.post(log, event(), { key: null }), 401);
    await check("post", path, await h.post(log, event(), { key: h.keys.read }), 403);
    await check("post", path, await h.post(log, { ...one, action: "document.deleted" }), 409);
    await check("post", path, await h.post(log, { events: events(1001) }), 413);
    await check("post", path, await h.post(log, event({ metadata: { blob: "x".repeat(70_000) } })), 413);
    await check("post", path, await h.post(log, `"${"x".repeat(600 * 1024)}"`), 413);
    await check("post", path, await h.post(log, JSON.stringify(event()), { headers: { "content-type": "text/plain" } }), 415);
    await check("post", path, await h.post(log, { action: "nope" }), 422);
    await check("post", path, await h.post("Not-A-Log", event()), 422);
  });

  it("queries: one log", async () => {
    const path = "/v1/logs/{log}/events";
    const page = (await check("get", path, await get(`/v1/logs/${LOG}/events?limit=5&q=action:document.*`), 200)) as { nextCursor: string };
    await check("get", path, await get(`/v1/logs/${LOG}/events?limit=5&q=action:document.*&cursor=${page.nextCursor}`), 200);
    await check("get", path, await get(`/v1/logs/${LOG}/events?order=asc&filter=${encodeURIComponent('{"actor":["u_42"]}')}`), 200);
    await check("get", path, await get(`/v1/logs/${LOG}/events?limit=3&token=${restrictedToken}`, null), 200);
    for (const query of ["limit=0", "order=up", "q=acter:x", "q=a&filter={}", `q=actor:u_1&cursor=${page.nextCursor}`, "cursor=zzz"]) {
      await check("get", path, await get(`/v1/logs/${LOG}/events?${query}`), 400);
    }
    await check("get", path, await get(`/v1/logs/${LOG}/events`, null), 401);
    await check("get", path, await get(`/v1/logs/${OTHER}/events`, h.keys.acmeRead), 403);
    await check("get", path, await get(`/v1/logs/${LOG}/events`, h.keys.ingest), 403);
    await check("get", path, await get("/v1/logs/nope/events"), 404);
    const invalid = (await check("get", path, await get(`/v1/logs/${LOG}/events?filter=${encodeURIComponent('{"actor":[7]}')}`), 422)) as {
      errors: { pointer: string }[];
    };
    assert.deepEqual(
      invalid.errors.map((e) => e.pointer),
      ["/actor/0"],
    );

    const one = "/v1/logs/{log}/events/{id}";
    await check("get", one, await get(`/v1/logs/${LOG}/events/${eventId}`), 200);
    await check("get", one, await get(`/v1/logs/${LOG}/events/${eventId}?token=${viewerToken}`, null), 200);
    await check("get", one, await get(`/v1/logs/${LOG}/events/${eventId}`, null), 401);
    await check("get", one, await get(`/v1/logs/${OTHER}/events/${eventId}`, h.keys.acmeRead), 403);
    await check("get", one, await get(`/v1/logs/${LOG}/events/no-such-event`), 404);
    await check("get", one, await get(`/v1/logs/nope/events/${eventId}`), 404);

    const stats = "/v1/logs/{log}/stats";
    await check("get", stats, await get(`/v1/logs/${LOG}/stats`), 200);
    for (const groupBy of ["action", "actor", "outcome", "hour", "day"]) {
      await check("get", stats, await get(`/v1/logs/${LOG}/stats?groupBy=${groupBy}&q=outcome:success`), 200);
    }
    await check("get", stats, await get(`/v1/logs/${LOG}/stats?groupBy=week`), 400);
    await check("get", stats, await get(`/v1/logs/${LOG}/stats?q=acter:x`), 400);
    await check("get", stats, await get(`/v1/logs/${LOG}/stats`, null), 401);
    await check("get", stats, await get(`/v1/logs/${OTHER}/stats`, h.keys.acmeRead), 403);
    await check("get", stats, await get("/v1/logs/nope/stats"), 404);
    await check("get", stats, await get(`/v1/logs/${LOG}/stats?filter=${encodeURIComponent('{"nope":1}')}`), 422);
  });

  it("evidence bundles and exports", async () => {
    const badFilter = `filter=${encodeURIComponent('{"nope":1}')}`;
    for (const [path, route, ok] of [
      ["/v1/logs/{log}/evidence", "evidence", ["q=action:document.*"]],
      ["/v1/logs/{log}/export", "export", ["format=csv&q=action:document.*", "format=jsonl"]],
    ] as const) {
      for (const query of ok) await check("get", path, await get(`/v1/logs/${LOG}/${route}?${query}`), 200);
      await check("get", path, await get(`/v1/logs/${LOG}/${route}?q=acter:x`), 400);
      await check("get", path, await get(`/v1/logs/${LOG}/${route}`, null), 401);
      await check("get", path, await get(`/v1/logs/${OTHER}/${route}`, h.keys.acmeRead), 403);
      await check("get", path, await get(`/v1/logs/nope/${route}`), 404);
      await check("get", path, await get(`/v1/logs/${LOG}/${route}?${badFilter}`), 422);
    }
  });

  it("queries: across logs (admin)", async () => {
    const path = "/v1/events";
    const page = (await check("get", path, await get("/v1/events?limit=2"), 200)) as { nextCursor: string };
    await check("get", path, await get(`/v1/events?limit=2&cursor=${page.nextCursor}`), 200);
    await check("get", path, await get(`/v1/events?logs=${LOG},${OTHER}&q=outcome:success`), 200);
    await check("get", path, await get(`/v1/events?logs=${LOG}&cursor=${page.nextCursor}`), 400);
    await check("get", path, await get("/v1/events?limit=1001"), 400);
    await check("get", path, await get("/v1/events", null), 401);
    await check("get", path, await get("/v1/events", h.keys.read), 403);
    await check("get", path, await get("/v1/events?logs=nope"), 404);
    await check("get", path, await get("/v1/events?logs=Not-A-Log"), 404);
    await check("get", path, await get(`/v1/events?filter=${encodeURIComponent('{"outcome":["maybe"]}')}`), 422);
  });

  it("live tail: server-sent events", async () => {
    const path = "/v1/logs/{log}/tail";
    const log = "tail-openapi";
    await h.seed(log, events(2));
    const appended = event({ action: "tail.seen" });
    const received = (await check("get", path, await get(`/v1/logs/${log}/tail?q=action:tail.seen`), 200, async (sse) => {
      await sse.until((e) => e.some((x) => x.event === "ready"));
      await h.post(log, event({ action: "tail.ignored" }));
      await h.post(log, appended);
      await sse.until((e) => e.some((x) => x.event === "audit-event"));
    })) as SseEvent[];
    assert.deepEqual(
      received.map((e) => e.event),
      ["ready", "audit-event"],
    );
    const { token } = (await (await post("/v1/viewer-tokens", { log })).json()) as { token: string };
    await check("get", path, await get(`/v1/logs/${log}/tail?token=${token}`, null, { "last-event-id": "0" }), 200, async (sse) => {
      await sse.until((e) => e.filter((x) => x.event === "audit-event").length === 3);
    });
    await check("get", path, await get(`/v1/logs/${log}/tail`, null), 401);
    await check("get", path, await get(`/v1/logs/${log}/tail`, undefined, { "last-event-id": "abc" }), 400);
    await check("get", path, await get(`/v1/logs/${log}/tail?q=acter:x`), 400);
    await check("get", path, await get(`/v1/logs/${OTHER}/tail`, h.keys.acmeRead), 403);
    await check("get", path, await get("/v1/logs/nope/tail"), 404);
    await check("get", path, await get(`/v1/logs/${log}/tail?filter=[]`), 422);
  });

  it("keys and viewer tokens", async () => {
    const keys = "/v1/keys";
    const created = (await check("post", keys, await post(keys, { scope: "read", logs: [LOG], label: "openapi" }), 201)) as { id: string };
    await check("post", keys, await post(keys, ""), 400);
    await check("post", keys, await post(keys, { scope: "read" }, { key: null }), 401);
    await check("post", keys, await post(keys, { scope: "read" }, { key: h.keys.read }), 403);
    await check("post", keys, await post(keys, { scope: "read", label: "x".repeat(70_000) }), 413);
    await check("post", keys, await post(keys, "{}", { headers: { "content-type": "text/plain" } }), 415);
    await check("post", keys, await post(keys, { scope: "owner" }), 422);
    await check("get", keys, await get(keys), 200);
    await check("get", keys, await get(keys, null), 401);
    await check("get", keys, await get(keys, h.keys.acmeRead), 403);

    const key = "/v1/keys/{id}";
    const revoke = (id: string, k?: string | null) =>
      h.request(`/v1/keys/${id}`, { method: "DELETE", ...(k === undefined ? {} : { key: k }) });
    await check("delete", key, await revoke(created.id), 204);
    await check("delete", key, await revoke(created.id, null), 401);
    await check("delete", key, await revoke(created.id, h.keys.read), 403);
    await check("delete", key, await revoke("zzzzzzzzzzzz"), 404);
    await check("delete", key, await revoke("env-admin", ENV_ADMIN_KEY), 422);

    const tokens = "/v1/viewer-tokens";
    await check("post", tokens, await post(tokens, { log: LOG, target: { type: "document" }, ttlSeconds: 60 }), 201);
    await check("post", tokens, await post(tokens, { log: LOG, actor: "u_42" }, { key: h.keys.acmeRead }), 201);
    await check("post", tokens, await post(tokens, "nope"), 400);
    await check("post", tokens, await post(tokens, { log: LOG }, { key: null }), 401);
    await check("post", tokens, await post(tokens, { log: OTHER }, { key: h.keys.acmeRead }), 403);
    await check("post", tokens, await post(tokens, { log: LOG, actor: "x".repeat(70_000) }), 413);
    await check("post", tokens, await post(tokens, "{}", { headers: { "content-type": "text/plain" } }), 415);
    await check("post", tokens, await post(tokens, { log: LOG, ttlSeconds: 0 }), 422);
  });

  it("compliance: erasure, retention, legal holds, pruning, and what pruned ranges answer", async () => {
    const keyDir = await mkdtemp(join(tmpdir(), "sealtrail-openapi-keys-"));
    const personalData = createPersonalData({ keyStore: createSqliteKeyStore({ path: join(keyDir, "keys.db") }) });
    const c = await startHarness({ personalData });
    try {
      const post = (url: string, body: unknown, key?: string | null) =>
        c.request(url, {
          method: "POST",
          body: JSON.stringify(body),
          headers: { "content-type": "application/json" },
          ...(key === undefined ? {} : { key }),
        });
      const put = (url: string, body: unknown, key?: string | null) =>
        c.request(url, {
          method: "PUT",
          body: JSON.stringify(body),
          headers: { "content-type": "application/json" },
          ...(key === undefined ? {} : { key }),
        });
      const del = (url: string, key?: string | null) => c.request(url, { method: "DELETE", ...(key === undefined ? {} : { key }) });
      const get = (url: string, key?: string | null) => c.request(url, key === undefined ? {} : { key });
      await c.seed(
        LOG,
        events(300).map((e, i) => ({ ...e, actor: { type: "user", id: `u_${i % 10}`, name: "Ada" } })),
      );

      const erasures = "/v1/erasures";
      await check("post", erasures, await post(erasures, { subject: "u_1" }), 200);
      await check("post", erasures, await post(erasures, { subject: "u_1" }, null), 401);
      await check("post", erasures, await post(erasures, { subject: "u_1" }, c.keys.read), 403);
      await check("post", erasures, await post(erasures, { subject: "", extra: 1 }), 422);
      await check(
        "post",
        erasures,
        await h.request(erasures, { method: "POST", body: '{"subject":"u_1"}', headers: { "content-type": "application/json" } }),
        501,
      );

      const holds = "/v1/legal-holds";
      const hold = (await check("post", holds, await post(holds, { log: LOG, q: "actor:u_7", reason: "case 1" }), 201)) as { id: string };
      await check("post", holds, await post(holds, { log: LOG, reason: "x" }, null), 401);
      await check("post", holds, await post(holds, { log: LOG, reason: "x" }, c.keys.read), 403);
      await check("post", holds, await post(holds, { log: "Not A Log", q: "acter:x" }), 422);
      await check("get", holds, await get(holds), 200);
      await check("get", holds, await get(holds, null), 401);
      await check("get", holds, await get(holds, c.keys.read), 403);

      const retention = "/v1/logs/{log}/retention";
      await check("put", retention, await put(`/v1/logs/${LOG}/retention`, { days: 1e-9 }), 200);
      await check("put", retention, await put(`/v1/logs/${LOG}/retention`, { days: 1 }, null), 401);
      await check("put", retention, await put(`/v1/logs/${LOG}/retention`, { days: 1 }, c.keys.read), 403);
      await check("put", retention, await put(`/v1/logs/${LOG}/retention`, { days: -1 }), 422);

      const prunes = "/v1/prunes";
      await new Promise((resolve) => setTimeout(resolve, 5));
      const pruned = (await check("post", prunes, await post(prunes, { log: LOG }), 200)) as {
        results: { entries: number; held: number }[];
      };
      assert.ok((pruned.results[0]?.entries ?? 0) > 0 && (pruned.results[0]?.held ?? 0) > 0, JSON.stringify(pruned));
      await check("post", prunes, await post(prunes, {}, null), 401);
      await check("post", prunes, await post(prunes, {}, c.keys.read), 403);
      await check("post", prunes, await post(prunes, { log: "nope" }), 404);
      await check("post", prunes, await post(prunes, { log: 7 }), 422);

      await check("get", retention, await get(`/v1/logs/${LOG}/retention`), 200);
      await check("get", retention, await get(`/v1/logs/${LOG}/retention`, null), 401);
      await check("get", retention, await get(`/v1/logs/${LOG}/retention`, c.keys.read), 403);
      await check("get", retention, await get("/v1/logs/Not%20A%20Log/retention"), 404);

      const one = "/v1/legal-holds/{id}";
      await check("delete", one, await del(`/v1/legal-holds/${hold.id}`, null), 401);
      await check("delete", one, await del(`/v1/legal-holds/${hold.id}`, c.keys.read), 403);
      await check("delete", one, await del(`/v1/legal-holds/${hold.id}`), 204);
      await check("delete", one, await del(`/v1/legal-holds/${hold.id}`), 404);

      const gone = (await check("get", "/logs/{log}/tile/entries/{index}", await get(`/logs/${LOG}/tile/entries/000`), 410)) as {
        detail: string;
      };
      assert.match(gone.detail, /pruned/);
      await check("get", "/logs/{log}/tile/entries/{index}.p/{width}", await get(`/logs/${LOG}/tile/entries/001.p/44`), 410);
      const page = (await check("get", "/v1/logs/{log}/events", await get(`/v1/logs/${LOG}/events?q=actor:u_7`), 200)) as {
        pruned: unknown[];
      };
      assert.ok(page.pruned.length > 0);
      const stats = (await check("get", "/v1/logs/{log}/stats", await get(`/v1/logs/${LOG}/stats`), 200)) as {
        total: number;
        pruned: unknown[];
      };
      assert.equal(stats.total, 30, "only the held events are left to count");
      assert.ok(stats.pruned.length > 0);
    } finally {
      await c.close();
      await personalData.close();
      await rm(keyDir, { recursive: true, force: true });
    }
  });

  it("a server shutting down answers 503 problem+json with Retry-After", async () => {
    const closing = await startHarness({ envAdminKey: ENV_ADMIN_KEY });
    try {
      await closing.engine.close();
      const response = await closing.post("closing", event(), { key: ENV_ADMIN_KEY });
      assert.equal(response.headers.get("retry-after"), "1");
      const body = (await check("post", "/v1/logs/{log}/events", response, 503)) as { code: string };
      assert.equal(body.code, "engine_closed");
    } finally {
      await closing.close();
    }
  });

  it("every documented status of every operation was produced and validated above", () => {
    const missing: string[] = [];
    for (const { method, path, op } of operations) {
      const statuses = seen.get(`${method} ${path}`) ?? new Set<string>();
      for (const status of Object.keys(op.responses)) {
        if (status === "5XX") continue;
        if (!statuses.has(status)) missing.push(`${method.toUpperCase()} ${path} ${status}`);
      }
    }
    const publicOnly = operations.filter((o) => isPublic(o.op)).map((o) => `${o.method.toUpperCase()} ${o.path}`);
    assert.deepEqual(
      missing.filter((m) => !publicOnly.some((p) => m.startsWith(`${p} `))),
      [],
      "documented but never produced in this test",
    );
  });
});
