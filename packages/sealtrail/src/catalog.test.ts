import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ConfigError, InputError } from "@sealtrail/core";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { Ajv2020 } from "ajv/dist/2020.js";
import { z } from "zod";
import { createAuditLog, defineEvents } from "./index.js";

const root = mkdtempSync(join(tmpdir(), "sealtrail-catalog-"));
after(() => rmSync(root, { recursive: true, force: true }));

const schemas = {
  "document.shared": z.object({
    documentId: z.string(),
    sharedWith: z.array(z.object({ email: z.email() })).min(1),
    notify: z.boolean().default(true),
  }),
  "user.login": z.object({ method: z.enum(["password", "sso"]) }),
};
const actor = { type: "user", id: "u_42" };

function pointers(error: unknown): string[] {
  assert.ok(error instanceof InputError, String(error));
  return error.problems.map((p) => p.pointer ?? "");
}

describe("defineEvents", () => {
  it("validates a payload and points at each field at fault, under /metadata", async () => {
    const catalog = defineEvents(schemas);
    await assert.rejects(catalog.validate("document.shared", { documentId: 9, sharedWith: [{ email: "x" }] }), (e) => {
      assert.equal((e as InputError).code, "invalid_event");
      assert.deepEqual(pointers(e), ["/metadata/documentId", "/metadata/sharedWith/0/email"]);
      return true;
    });
  });

  it("stores the schema's output: defaults applied", async () => {
    const catalog = defineEvents(schemas);
    assert.deepEqual(await catalog.validate("document.shared", { documentId: "d", sharedWith: [{ email: "ada@example.com" }] }), {
      documentId: "d",
      sharedWith: [{ email: "ada@example.com" }],
      notify: true,
    });
  });

  it("refuses unknown actions in strict mode and lets them through otherwise", async () => {
    await assert.rejects(defineEvents(schemas, { strict: true }).validate("document.burned", {}), (e) => {
      assert.equal((e as InputError).code, "unknown_action");
      assert.deepEqual(pointers(e), ["/action"]);
      return true;
    });
    // Under a batch event's own pointer, as the server's ingest route asks.
    await assert.rejects(
      defineEvents(schemas, { strict: true }).validate("document.burned", {}, "/events/2"),
      (e) => pointers(e)[0] === "/events/2/action",
    );
    await assert.rejects(
      defineEvents(schemas).validate("user.login", { method: 1 }, "/events/0"),
      (e) => pointers(e)[0] === "/events/0/metadata/method",
    );
    assert.deepEqual(await defineEvents(schemas).validate("document.burned", { any: 1 }), { any: 1 });
  });

  it("refuses a catalog whose action or schema is unusable", () => {
    assert.throws(
      () => defineEvents({ nodot: z.object({}) }),
      (e) => e instanceof ConfigError && e.code === "invalid_catalog",
    );
    assert.throws(
      () => defineEvents({ "a.b": { parse: () => 1 } as unknown as StandardSchemaV1 }),
      (e) => e instanceof ConfigError && e.code === "invalid_catalog",
    );
  });

  it("exports one JSON Schema that accepts the catalogued events and refuses the others", () => {
    const strict = defineEvents(schemas, { strict: true }).toJSONSchema();
    const validate = new Ajv2020({ strict: false }).compile(strict);
    assert.equal(validate({ action: "user.login", metadata: { method: "sso" } }), true);
    assert.equal(validate({ action: "user.login", metadata: { method: "magic" } }), false);
    assert.equal(validate({ action: "document.shared", metadata: { documentId: "d", sharedWith: [{ email: "ada@example.com" }] } }), true);
    assert.equal(validate({ action: "document.burned", metadata: {} }), false, "strict: unknown actions fail");
    const lenient = new Ajv2020({ strict: false }).compile(defineEvents(schemas).toJSONSchema());
    assert.equal(lenient({ action: "document.burned", metadata: {} }), true, "not strict: unknown actions pass");
    assert.equal(lenient({ action: "user.login", metadata: { method: "magic" } }), false);
  });

  it("uses a per-schema converter for a Standard Schema library without JSON Schema support", async () => {
    // A tiny Standard Schema implementation of our own: Valibot and ArkType plug in the same way.
    const positive: StandardSchemaV1<{ n: number }> = {
      "~standard": {
        version: 1,
        vendor: "handmade",
        validate: (value) =>
          typeof (value as { n?: unknown })?.n === "number" && (value as { n: number }).n > 0
            ? { value: value as { n: number } }
            : { issues: [{ message: "must be a positive number", path: [{ key: "n" }] }] },
      },
    };
    assert.throws(
      () => defineEvents({ "counter.bumped": positive }).toJSONSchema(),
      (e) => e instanceof ConfigError && e.code === "schema_not_convertible",
    );
    const catalog = defineEvents(
      { "counter.bumped": positive },
      { toJSONSchema: () => ({ type: "object", properties: { n: { type: "number", exclusiveMinimum: 0 } }, required: ["n"] }) },
    );
    assert.deepEqual((catalog.toJSONSchema().$defs as Record<string, unknown>)["counter.bumped"], {
      type: "object",
      properties: { n: { type: "number", exclusiveMinimum: 0 } },
      required: ["n"],
    });
    await assert.rejects(catalog.validate("counter.bumped", { n: -1 }), (e) => pointers(e)[0] === "/metadata/n");
  });
});

describe("audit.record with a catalog", () => {
  it("stores a valid payload as metadata and refuses an invalid one before anything is written", async () => {
    const audit = await createAuditLog({ path: join(root, "a"), catalog: defineEvents(schemas, { strict: true }), handleSignals: false });
    const { id } = await audit.record("document.shared", { documentId: "doc_9", sharedWith: [{ email: "bo@example.com" }] }, { actor });
    await assert.rejects(audit.record("user.login", { method: "magic" as "sso" }, { actor }), (e) => pointers(e)[0] === "/metadata/method");
    await assert.rejects(
      audit.record({ action: "document.burned" as "user.login", actor, metadata: { method: "sso" } }),
      (e) => (e as InputError).code === "unknown_action",
    );
    const { events } = await audit.query("");
    assert.deepEqual(
      events.map((e) => [e.event.id, e.event.metadata]),
      [[id, { documentId: "doc_9", sharedWith: [{ email: "bo@example.com" }], notify: true }]],
    );
    await audit.close();
  });
});
