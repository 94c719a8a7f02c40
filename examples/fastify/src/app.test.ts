import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { InputError } from "@sealtrail/core";
import { createAuditLog } from "sealtrail";
import { buildApp, events, type InvoiceAudit } from "./app.js";

describe("examples/fastify", () => {
  const dir = mkdtempSync(join(tmpdir(), "sealtrail-example-fastify-"));
  let audit: InvoiceAudit;
  let app: ReturnType<typeof buildApp>;
  let url: string;
  before(async () => {
    audit = await createAuditLog({ path: dir, catalog: events, handleSignals: false });
    app = buildApp(audit);
    url = await app.listen({ port: 0, host: "127.0.0.1" });
  });
  after(async () => {
    await app.close();
    await audit.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("records a complete, catalog-validated event without the handler passing actor, ip, user agent or request id", async () => {
    const response = await fetch(`${url}/invoices/inv_7/pay`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-user-id": "u_42",
        "user-agent": "example-test/2.0",
        "x-forwarded-for": "198.51.100.23",
        "x-request-id": "req-fastify-1",
      },
      body: JSON.stringify({ amountCents: 1999, currency: "EUR" }),
    });
    assert.equal(response.status, 201);
    const { auditEventId } = (await response.json()) as { auditEventId: string };
    // The proof covers the leaf, where personal values (name, IP, user agent) are encrypted;
    // a query shows them decrypted.
    const proof = await audit.prove(auditEventId);
    const found = (await audit.query({ requestId: ["req-fastify-1"] })).events.find((e) => e.event.id === proof.event.id);
    const event = found?.event as typeof proof.event;
    assert.equal(event.action, "invoice.paid");
    assert.deepEqual(event.actor, { type: "user", id: "u_42" });
    assert.deepEqual(event.targets, [{ type: "invoice", id: "inv_7" }]);
    assert.deepEqual(event.metadata, { amountCents: 1999, currency: "EUR" });
    assert.equal(event.context?.ip, "198.51.100.23");
    assert.equal(event.context?.userAgent, "example-test/2.0");
    assert.equal(event.context?.requestId, "req-fastify-1");
    assert.equal(response.headers.get("x-request-id"), "req-fastify-1");
  });

  it("answers a payload the catalog refuses without storing anything", async () => {
    const before = (await audit.query("action:invoice.paid")).events.length;
    const response = await fetch(`${url}/invoices/inv_8/pay`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-user-id": "u_42" },
      body: JSON.stringify({ amountCents: -5, currency: "EURO" }),
    });
    assert.equal(response.status, 422);
    const problem = (await response.json()) as { code: string; errors: { pointer: string }[] };
    assert.equal(problem.code, "invalid_event");
    assert.deepEqual(
      problem.errors.map((e) => e.pointer),
      ["/metadata/amountCents", "/metadata/currency"],
    );
    assert.equal((await audit.query("action:invoice.paid")).events.length, before);
    await assert.rejects(
      audit.record("invoice.paid", { amountCents: -5, currency: "EUR" }, { actor: { type: "user", id: "u" } }),
      (e) => e instanceof InputError && e.problems[0]?.pointer === "/metadata/amountCents",
    );
  });
});
