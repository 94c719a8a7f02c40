// Evidence bundles and CSV / JSON Lines exports over HTTP, in-process on a real SQLite store.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { verifyEvidenceBundle } from "@sealtrail/core";
import { expectProblem, type Harness, json, startHarness } from "./test-harness.js";

let h: Harness;
let verifierKey: string;

const sample = (i: number) => ({
  id: `evt-${i}`,
  action: i % 3 === 0 ? "document.deleted" : "document.viewed",
  occurredAt: "2026-11-27T12:00:00.000Z",
  actor: { type: "user", id: `u_${i % 4}`, name: i === 5 ? "=cmd()" : `User ${i}` },
  targets: [{ type: "document", id: `doc_${i}` }],
});

before(async () => {
  h = await startHarness();
  await h.seed(
    "acme",
    Array.from({ length: 40 }, (_, i) => sample(i)),
  );
  await h.seed("globex", [sample(100)]);
  verifierKey = (await json<{ verifierKey: string }>(await h.request("/v1/logs/acme"))).verifierKey;
});
after(() => h.close());

describe("GET /v1/logs/{log}/evidence", () => {
  it("answers a zip that verifies offline under the log's key, holding exactly the matching events", async () => {
    const response = await h.request("/v1/logs/acme/evidence?q=action:document.deleted", { key: h.keys.acmeRead });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/zip");
    assert.match(response.headers.get("content-disposition") ?? "", /attachment; filename="evidence-acme-40\.zip"/);
    const verified = await verifyEvidenceBundle(new Uint8Array(await response.arrayBuffer()), { verifierKey });
    assert.equal(verified.query, "action:document.deleted");
    assert.deepEqual(
      verified.events.map((e) => e.id),
      Array.from({ length: 40 }, (_, i) => i)
        .filter((i) => i % 3 === 0)
        .map((i) => `evt-${i}`),
    );
  });

  it("records who exported evidence in the system log", async () => {
    await h.request("/v1/logs/acme/evidence?q=actor:u_1", { key: h.keys.acmeRead });
    const page = await json<{ events: { event: { action: string; targets: { id: string }[] } }[] }>(
      await h.request("/v1/logs/sealtrail-system/events?q=action:evidence.exported"),
    );
    assert.ok(page.events.some((e) => e.event.targets[0]?.id === "acme"));
  });

  it("keeps tenants apart and reports bad queries with the parameter", async () => {
    await expectProblem(await h.request("/v1/logs/globex/evidence", { key: h.keys.acmeRead }), 403, "forbidden");
    await expectProblem(await h.request("/v1/logs/acme/evidence", { key: h.keys.acmeIngest }), 403, "forbidden");
    await expectProblem(await h.request("/v1/logs/nope/evidence"), 404, "log_not_found");
    const bad = await expectProblem(await h.request("/v1/logs/acme/evidence?q=actr:u_1"), 400, "invalid_query");
    assert.equal(bad.errors?.[0]?.parameter, "q");
  });
});

describe("GET /v1/logs/{log}/export", () => {
  it("streams every matching event as JSON Lines, oldest first", async () => {
    const response = await h.request("/v1/logs/acme/export?format=jsonl&q=actor:u_2", { key: h.keys.acmeRead });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^application\/jsonl/);
    const lines = (await response.text()).trimEnd().split("\n");
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { index: number }).index),
      Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 4 === 2),
    );
  });

  it("streams CSV with CRLF rows, a header, and formulas neutralised", async () => {
    const response = await h.request("/v1/logs/acme/export?format=csv", { key: h.keys.acmeRead });
    assert.match(response.headers.get("content-type") ?? "", /^text\/csv/);
    const text = await response.text();
    const rows = text.split("\r\n");
    assert.equal(rows.length, 42, "header, 40 rows and the final empty string");
    assert.match(rows[0] as string, /^log,index,id,/);
    assert.match(text, /,'=cmd\(\),/);
    assert.ok(!/[^\r]\n/.test(text), "every line ends with CRLF");
  });

  it("refuses an unknown format with the parameter at fault", async () => {
    const problem = await expectProblem(await h.request("/v1/logs/acme/export?format=xlsx"), 400, "invalid_parameter");
    assert.equal(problem.errors?.[0]?.parameter, "format");
  });
});
