import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AuditEvent } from "@sealtrail/core";
import type { Hit } from "./api.js";
import { createSseParser } from "./api.js";
import { toCsv, toJsonLines } from "./export.js";
import { diffChanges, tokenClaims } from "./format.js";

const event: AuditEvent = {
  id: "evt-1",
  action: "document.shared",
  occurredAt: "2026-11-27T12:00:00.000Z",
  actor: { type: "user", id: "u_1", name: '=HYPERLINK("x"), "Ada"' },
  targets: [
    { type: "document", id: "doc_9" },
    { type: "folder", id: "f,1" },
  ],
  outcome: "denied",
  context: { ip: "203.0.113.9", requestId: "req_1" },
  metadata: { plan: "pro" },
  receivedAt: "2026-11-27T12:00:01.000Z",
  version: 1,
};
const hit: Hit = { log: "acme", index: 7, event };

describe("exports", () => {
  it("writes RFC 4180 CSV and defuses spreadsheet formulas", () => {
    const [header, row, end] = toCsv([hit]).split("\r\n");
    assert.equal(
      header,
      "log,index,id,occurredAt,receivedAt,action,outcome,actorType,actorId,actorName,targets,ip,userAgent,requestId,sessionId,metadata",
    );
    assert.equal(
      row,
      'acme,7,evt-1,2026-11-27T12:00:00.000Z,2026-11-27T12:00:01.000Z,document.shared,denied,user,u_1,"\'=HYPERLINK(""x""), ""Ada""",' +
        '"document/doc_9 folder/f,1",203.0.113.9,,req_1,,"{""plan"":""pro""}"',
    );
    assert.equal(end, "");
  });

  it("writes one JSON document per line", () => {
    const lines = toJsonLines([hit, { ...hit, index: 6 }]).split("\n");
    assert.equal(lines.length, 3);
    assert.deepEqual(JSON.parse(lines[0] as string), hit);
  });
});

describe("changes diff", () => {
  it("lists changed, added and removed leaf paths in order", () => {
    assert.deepEqual(diffChanges({ role: "viewer", a: { b: 1, c: 2 } }, { role: "admin", a: { b: 1 }, d: true }), [
      { path: "a.c", kind: "removed", before: "2" },
      { path: "d", kind: "added", after: "true" },
      { path: "role", kind: "changed", before: '"viewer"', after: '"admin"' },
    ]);
  });
});

describe("viewer token claims", () => {
  it("reads the log and expiry of a token, and nothing from anything else", () => {
    const payload = Buffer.from(JSON.stringify({ v: 1, log: "acme", act: "u_1", exp: 1, iat: 0 })).toString("base64url");
    assert.deepEqual(tokenClaims(`stv_${payload}.${"A".repeat(43)}`), { v: 1, log: "acme", act: "u_1", exp: 1, iat: 0 });
    assert.equal(tokenClaims("stk_abc_def"), undefined);
    assert.equal(tokenClaims("stv_!!!.x"), undefined);
  });
});

describe("server-sent events parser", () => {
  it("parses events split across chunks (even inside a CRLF), skipping comments", () => {
    const seen: unknown[] = [];
    const feed = createSseParser((m) => seen.push(m));
    for (const chunk of [
      'event: ready\ndata: {"log":',
      '"acme"}\n\n: keep-alive\n\n',
      "event: audit-event\r\ndata: 1\r",
      "\ndata: 2\r\nid: 5\r\n\r\n",
    ])
      feed(chunk);
    assert.deepEqual(seen, [
      { event: "ready", data: '{"log":"acme"}' },
      { event: "audit-event", data: "1\n2", id: "5" },
    ]);
  });
});
