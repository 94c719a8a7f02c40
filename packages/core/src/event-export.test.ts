import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import type { AuditEvent } from "./event.js";
import { csvHeader, csvRow, jsonLine } from "./event-export.js";

const hostile: AuditEvent = {
  id: "evt_1",
  action: "document.shared",
  occurredAt: "2026-11-27T12:00:00.000Z",
  receivedAt: "2026-11-27T12:00:01.000Z",
  actor: { type: "user", id: '=HYPERLINK("http://x","y")', name: '+cmd|" /C calc"!A0' },
  targets: [{ type: "document", id: "doc,9" }],
  outcome: "success",
  context: { ip: "203.0.113.9", userAgent: "-2+3", requestId: "@SUM(A1)", sessionId: "line\r\nbreak" },
  metadata: { note: 'say "hi"' },
  version: 1,
};

describe("CSV export", () => {
  const row = csvRow({ log: "acme", index: 7, event: hostile });

  it("neutralises every cell a spreadsheet would run as a formula", () => {
    assert.match(row, /,"'=HYPERLINK\(""http:\/\/x"",""y""\)",/);
    assert.match(row, /,"'\+cmd\|"" \/C calc""!A0",/);
    assert.match(row, /,'-2\+3,'@SUM\(A1\),/);
  });

  it("is RFC 4180: Python's csv module reads back the same cells", () => {
    const text = `${csvHeader()}\r\n${row}\r\n`;
    const run = spawnSync("python3", ["-c", "import csv, json, sys; print(json.dumps(list(csv.reader(sys.stdin, strict=True))))"], {
      input: text,
      encoding: "utf8",
    });
    assert.equal(run.status, 0, run.stderr);
    const [header, cells] = JSON.parse(run.stdout) as [string[], string[]];
    assert.equal(header.length, cells.length);
    const byName = Object.fromEntries(header.map((h, i) => [h, cells[i]]));
    assert.equal(byName.index, "7");
    assert.equal(byName.actorId, '\'=HYPERLINK("http://x","y")');
    assert.equal(byName.targets, "document/doc,9");
    assert.equal(byName.sessionId, "line\r\nbreak");
    assert.equal(byName.metadata, '{"note":"say \\"hi\\""}');
  });

  it("JSON Lines keep one event per line whatever it holds", () => {
    const line = jsonLine({ log: "acme", index: 7, event: hostile });
    assert.ok(!line.includes("\n"));
    assert.deepEqual(JSON.parse(line), { log: "acme", index: 7, event: hostile });
  });
});
