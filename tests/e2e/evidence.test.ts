// Evidence bundles and exports as a user makes them: `sealtrail export` against a running server
// and against its data directory, then `sealtrail verify evidence.zip` offline, with the bundle's
// bytes altered in every part of the file (zip headers, events, proofs, checkpoint, manifest).
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readZip } from "@sealtrail/core";
import { runCli, type ServerProcess, startServer, tempDir } from "../support/server-process.ts";

const dir = tempDir("sealtrail-evidence-");
const dataDir = join(dir.path, "data");
const adminKey = "e2e-admin-key-0123456789abcdefghijklmnop";
let server: ServerProcess | undefined;
let verifierKey = "";

const events = Array.from({ length: 300 }, (_, i) => ({
  id: `evt-${i}`,
  action: i % 5 === 0 ? "document.deleted" : "document.viewed",
  occurredAt: "2026-11-27T12:00:00.000Z",
  actor: { type: "user", id: `u_${i % 7}`, name: i === 14 ? "@SUM(A1)" : `User ${i}` },
  targets: [{ type: "document", id: `doc_${i}` }],
}));

before(async () => {
  server = await startServer({ dataDir, adminKey });
  const response = await fetch(`${server.url}/v1/logs/acme/events?wait=checkpoint`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ events }),
  });
  assert.equal(response.status, 201);
  const keys = await runCli(["keys", "--data", dataDir, "--log", "acme"]);
  verifierKey = keys.stdout.trim();
  assert.match(verifierKey, /^sealtrail\.local\/acme\+[0-9a-f]{8}\+/);
});

after(async () => {
  await server?.stop();
  dir.remove();
});

describe("sealtrail export --format evidence, then sealtrail verify evidence.zip", { timeout: 120_000 }, () => {
  const fromServer = join(dir.path, "server.zip");
  const fromData = join(dir.path, "data.zip");

  it("exports from a running server and verifies offline, pinned to the log's key", async () => {
    const run = await runCli([
      "export",
      "--log",
      "acme",
      "--q",
      "action:document.deleted",
      "--out",
      fromServer,
      "--url",
      server!.url,
      "--key",
      adminKey,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /wrote .*server\.zip: 60 events with inclusion proofs to checkpoint 300/);
    const verify = await runCli(["verify", fromServer, "--verifier-key", verifierKey]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /^OK sealtrail\.local\/acme: 60 events proven included in the signed checkpoint of size 300/);
    const json = await runCli(["verify", fromServer, "--json"]);
    const report = JSON.parse(json.stdout) as { ok: boolean; keyPinned: boolean; events: { index: number }[] };
    assert.equal(report.ok, true);
    assert.equal(report.keyPinned, false);
    assert.deepEqual(
      report.events.map((e) => e.index),
      Array.from({ length: 60 }, (_, i) => i * 5),
    );
  });

  it("exports the same evidence from the data directory, with no server involved", async () => {
    const run = await runCli(["export", "--log", "acme", "--q", "action:document.deleted", "--out", fromData, "--data", dataDir]);
    assert.equal(run.code, 0, run.stderr);
    const verify = await runCli(["verify", fromData, "--verifier-key", verifierKey]);
    assert.equal(verify.code, 0, verify.stderr);
    const names = (path: string) => readZip(new Uint8Array(readFileSync(path))).map((e) => e.name);
    assert.deepEqual(names(fromData), names(fromServer));
  });

  it("fails, naming what broke, when any part of the bundle is altered", async () => {
    const bundle = new Uint8Array(readFileSync(fromServer));
    const entries = readZip(bundle);
    // One position in each kind of region: local headers, every file's data, central directory, end record.
    const starts = new Map<string, number>();
    let at = 0;
    for (const entry of entries) {
      starts.set(entry.name, at + 30 + entry.name.length);
      at += 30 + entry.name.length + entry.data.length;
    }
    const offsetOf = (name: string) => starts.get(name) as number;
    const positions: [number, RegExp][] = [
      [0, /zip local header of "summary\.txt"/],
      [offsetOf("summary.txt") + 40, /zip data of "summary\.txt".*CRC-32/],
      [offsetOf("manifest.json") + 10, /zip data of "manifest\.json"/],
      [offsetOf("checkpoint.txt") + 30, /zip data of "checkpoint\.txt"/],
      [offsetOf("events/5.json") + 20, /zip data of "events\/5\.json"/],
      [offsetOf("proofs/295.tlog-proof") + 60, /zip data of "proofs\/295\.tlog-proof"/],
      [bundle.length - 22 - 46 * 2, /zip central directory entry/],
      [bundle.length - 10, /zip end of central directory/],
    ];
    assert.equal(entries.length, 4 + 2 * 60);
    for (const [at, pattern] of positions) {
      const altered = bundle.slice();
      altered[at] = (altered[at] as number) ^ 0x20;
      const path = join(dir.path, `altered-${at}.zip`);
      writeFileSync(path, altered);
      const verify = await runCli(["verify", path, "--verifier-key", verifierKey]);
      assert.equal(verify.code, 1, `byte ${at}: ${verify.stdout}`);
      assert.match(verify.stderr, pattern, `byte ${at}`);
    }
  });

  it("refuses a bundle under a key other than the pinned one", async () => {
    const other = "sealtrail.local/acme+00000000+AQ" + "A".repeat(42) + "=";
    const verify = await runCli(["verify", fromServer, "--verifier-key", other]);
    assert.equal(verify.code, 2, verify.stderr);
  });
});

describe("sealtrail export --format csv|jsonl", { timeout: 60_000 }, () => {
  it("writes RFC 4180 CSV with formulas neutralised, the same from a server and from the data directory", async () => {
    const remote = join(dir.path, "remote.csv");
    const local = join(dir.path, "local.csv");
    const a = await runCli(["export", "--log", "acme", "--q", "actor:u_0", "--out", remote, "--url", server!.url, "--key", adminKey]);
    const b = await runCli(["export", "--log", "acme", "--q", "actor:u_0", "--out", local, "--data", dataDir]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const text = readFileSync(remote, "utf8");
    assert.equal(text, readFileSync(local, "utf8"));
    const rows = text.split("\r\n");
    assert.equal(rows.length, 1 + 43 + 1);
    assert.match(text, /,'@SUM\(A1\),/);
  });

  it("writes JSON Lines to stdout", async () => {
    const run = await runCli(["export", "--log", "acme", "--q", "actor:u_3", "--format", "jsonl", "--data", dataDir]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 43);
    assert.equal((JSON.parse(lines[0] as string) as { event: { id: string } }).event.id, "evt-3");
  });
});
