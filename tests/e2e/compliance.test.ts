// Issue 8, parts 1 and 2, as a user meets them on a real server and the real CLI:
// - crypto-shredding: after `sealtrail erase --subject`, the subject's personal fields are
//   unreadable in every read path (event API, query API, live tail, CLI query over HTTP and over
//   the data directory) and never were in the raw database files, while the independent tiles
//   audit and the offline verifier still pass;
// - retention: a legal hold blocks pruning; pruning 90 % of a log keeps full verification and
//   proofs for the remaining events and for a checkpoint published before the prune.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  type AuditReport,
  auditLog,
  decodeBase64,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  type TrustedCheckpoint,
  verifyConsistency,
  verifyInclusion,
} from "../support/independent-auditor.ts";
import { retentionEvent } from "../support/retention-events.ts";
import { runCli, type ServerProcess, startServer, tempDir } from "../support/server-process.ts";

const ADMIN = "e2e-compliance-admin-key-0123456789";
const dir = tempDir("sealtrail-compliance-");
const dataDir = join(dir.path, "data");
let server: ServerProcess | undefined;

before(async () => {
  server = await startServer({ dataDir, adminKey: ADMIN });
});

after(async () => {
  await server?.stop();
  dir.remove();
});

function url(): string {
  assert.ok(server, "the server did not start");
  return server.url;
}

function call(path: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
  return fetch(`${url()}${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${ADMIN}`, ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(15_000),
  });
}

async function json<T>(path: string, init: { method?: string; body?: unknown } = {}, status = 200): Promise<T> {
  const response = await call(path, init);
  const text = await response.text();
  assert.equal(response.status, status, `${init.method ?? "GET"} ${path}: ${text}`);
  return JSON.parse(text) as T;
}

interface EventJson {
  id: string;
  actor: { id: string; name?: string; email?: string };
  context?: { ip?: string; userAgent?: string; requestId?: string };
}

/** Appends in batches and waits for a checkpoint covering all of them. */
async function append(log: string, events: unknown[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    const last = i + 500 >= events.length;
    await json(
      `/v1/logs/${log}/events${last ? "?wait=checkpoint" : ""}`,
      { method: "POST", body: { events: events.slice(i, i + 500) } },
      201,
    );
  }
}

/** The live tail from just after index 0, until `count` audit events arrived. */
async function tail(log: string, count: number): Promise<EventJson[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 15_000);
  const response = await fetch(`${url()}/v1/logs/${log}/tail`, {
    headers: { authorization: `Bearer ${ADMIN}`, "last-event-id": "0" },
    signal: controller.signal,
  });
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const events: EventJson[] = [];
  let buffer = "";
  try {
    while (events.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const lines = buffer.slice(0, end).split("\n");
        buffer = buffer.slice(end + 2);
        if (!lines.includes("event: audit-event")) continue;
        const data = lines.find((l) => l.startsWith("data: "))?.slice(6) ?? "null";
        events.push((JSON.parse(data) as { event: EventJson }).event);
      }
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events;
}

function databaseFiles(): string[] {
  return readdirSync(dataDir)
    .filter((name) => name.startsWith("sealtrail.db"))
    .map((name) => join(dataDir, name));
}

describe("crypto-shredding", () => {
  const LOG = "shred";
  // Unusual strings, so a hit in a file can only be them.
  const PERSONAL = ["Zelda Quartermain", "zelda.quartermain@example.org", "198.51.100.77", "ZeldaBrowser/9.9"];
  const zelda = (i: number) => ({
    id: `evt-z-${i}`,
    action: "document.viewed",
    occurredAt: "2026-11-27T12:00:00.000Z",
    actor: { type: "user", id: "u_42", name: PERSONAL[0], email: PERSONAL[1] },
    targets: [{ type: "document", id: `doc_${i}` }],
    context: { ip: PERSONAL[2], userAgent: PERSONAL[3], requestId: `req_${i}` },
  });
  const otto = (i: number) => ({
    action: "document.viewed",
    occurredAt: "2026-11-27T12:00:00.000Z",
    actor: { type: "user", id: "u_7", name: "Otto Normal" },
    targets: [{ type: "document", id: `doc_${i}` }],
  });

  test("personal fields are stored encrypted: not in the log database or its WAL, yet readable before erasure", async () => {
    await append(
      LOG,
      Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? otto(i) : zelda(i))),
    );
    for (const file of databaseFiles()) {
      const bytes = readFileSync(file);
      for (const text of PERSONAL) assert.equal(bytes.indexOf(Buffer.from(text)), -1, `${file} holds "${text}" in plaintext`);
    }
    const one = await json<{ event: EventJson; leaf: string }>(`/v1/logs/${LOG}/events/evt-z-1`);
    assert.equal(one.event.actor.name, PERSONAL[0]);
    assert.equal(one.event.context?.ip, PERSONAL[2]);
    assert.ok(
      !Buffer.from(one.leaf, "base64")
        .toString("utf8")
        .includes(PERSONAL[0] as string),
      "the leaf commits to ciphertext",
    );
    // A retry of a client id seals the same leaf: idempotent, not a conflict.
    const retry = await json<{ created: boolean }>(`/v1/logs/${LOG}/events`, { method: "POST", body: zelda(1) }, 200);
    assert.equal(retry.created, false);
  });

  let before: AuditReport | undefined;
  test("the independent tiles audit passes before erasure", async () => {
    before = await auditLog({ url: url(), log: LOG, key: ADMIN });
    assert.equal(before.entries, 300);
  });

  const bundle = join(dir.path, "u42-before-erasure.zip");
  test("an evidence bundle of the subject's events is exported before erasure", async () => {
    const out = await runCli(["export", "--log", LOG, "--q", "actor:u_42", "--out", bundle, "--url", url(), "--key", ADMIN]);
    assert.equal(out.code, 0, out.stderr);
    const verified = await runCli(["verify", bundle]);
    assert.equal(verified.code, 0, verified.stderr + verified.stdout);
  });

  test("after `sealtrail erase --subject u_42`, every read path shows [erased]; u_7 and proofs are untouched", async () => {
    const erased = await runCli(["erase", "--subject", "u_42", "--url", url(), "--key", ADMIN]);
    assert.equal(erased.code, 0, erased.stderr);
    assert.match(erased.stdout, /erased u_42: 1 data key\(s\) destroyed/);

    const one = await json<{ event: EventJson }>(`/v1/logs/${LOG}/events/evt-z-1`);
    assert.equal(one.event.actor.name, "[erased]");
    assert.equal(one.event.actor.email, "[erased]");
    assert.equal(one.event.context?.ip, "[erased]");
    assert.equal(one.event.context?.userAgent, "[erased]");
    assert.equal(one.event.context?.requestId, "req_1", "what is not personal stays");

    // Queries by the pseudonymous subject id keep working.
    const page = await json<{ events: { event: EventJson }[] }>(`/v1/logs/${LOG}/events?q=${encodeURIComponent("actor:u_42")}&limit=1000`);
    assert.equal(page.events.length, 200);
    assert.ok(page.events.every((e) => e.event.actor.name === "[erased]" && e.event.context?.ip === "[erased]"));
    const others = await json<{ events: { event: EventJson }[] }>(`/v1/logs/${LOG}/events?q=actor:u_7&limit=1`);
    assert.equal(others.events[0]?.event.actor.name, "Otto Normal");

    const tailed = await tail(LOG, 299);
    assert.equal(tailed.length, 299);
    assert.ok(tailed.filter((e) => e.actor.id === "u_42").every((e) => e.actor.name === "[erased]" && e.context?.userAgent === "[erased]"));

    const cliUrl = await runCli(["query", "actor:u_42", "--log", LOG, "--url", url(), "--key", ADMIN, "--json", "--limit", "1000"]);
    const cliData = await runCli(["query", "actor:u_42", "--log", LOG, "--data", dataDir, "--csv", "--limit", "1000"]);
    for (const [what, out] of [
      ["query --url", cliUrl],
      ["query --data", cliData],
    ] as const) {
      assert.equal(out.code, 0, `${what}: ${out.stderr}`);
      assert.match(out.stdout, /\[erased\]/, what);
      for (const text of PERSONAL) assert.ok(!out.stdout.includes(text), `${what} prints "${text}"`);
    }
    assert.equal(cliUrl.stdout.trim().split("\n").length, 200);

    // Exports for spreadsheets and SIEMs, over HTTP and from the data directory.
    const exports: [string, string][] = [];
    for (const format of ["csv", "jsonl"]) {
      const response = await call(`/v1/logs/${LOG}/export?format=${format}&q=${encodeURIComponent("actor:u_42")}`);
      assert.equal(response.status, 200);
      exports.push([`HTTP export ${format}`, await response.text()]);
      const cli = await runCli(["export", "--log", LOG, "--q", "actor:u_42", "--format", format, "--data", dataDir]);
      assert.equal(cli.code, 0, cli.stderr);
      exports.push([`export --data ${format}`, cli.stdout]);
    }
    for (const [what, text] of exports) {
      assert.match(text, /\[erased\]/, what);
      for (const value of PERSONAL) assert.ok(!text.includes(value), `${what} shows "${value}"`);
    }

    // A bundle exported before the erasure still verifies: its leaves hold ciphertext, never changed.
    const verified = await runCli(["verify", bundle]);
    assert.equal(verified.code, 0, verified.stderr + verified.stdout);

    for (const file of databaseFiles()) {
      const bytes = readFileSync(file);
      for (const text of PERSONAL) assert.equal(bytes.indexOf(Buffer.from(text)), -1, `${file} holds "${text}"`);
    }

    // The erasure is itself an audit event, naming the subject by its pseudonymous id only.
    const system = await json<{ events: { event: { action: string; targets: { type: string; id: string }[] } }[] }>(
      "/v1/logs/sealtrail-system/events?q=action:subject.erased",
    );
    assert.deepEqual(system.events[0]?.event.targets, [{ type: "data_subject", id: "u_42" }]);
  });

  test("the independent tiles audit and the offline verifier still pass, consistent with before the erasure", async () => {
    const report = await auditLog({ url: url(), log: LOG, key: ADMIN, previous: before?.checkpoint as TrustedCheckpoint });
    assert.ok(report.checkpoint.treeSize >= 300);
    assert.deepEqual(report.prunedBundles, []);
    const verified = await runCli(["verify", "--data", dataDir, "--log", LOG]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  });
});

describe("retention and legal hold", () => {
  const LOG = "retained";
  const event = retentionEvent;
  let published: TrustedCheckpoint | undefined;

  test("a legal hold on the whole log blocks pruning", async () => {
    await append(
      LOG,
      Array.from({ length: 1000 }, (_, i) => event(i)),
    );
    published = (await auditLog({ url: url(), log: LOG, key: ADMIN })).checkpoint;
    assert.equal(published.treeSize, 1000);
    // Every event is older than a retention of ~0.1 ms.
    const set = await runCli(["retention", "--log", LOG, "--days", "0.000000001", "--url", url(), "--key", ADMIN]);
    assert.equal(set.code, 0, set.stderr);
    const placed = await runCli(["hold", "place", "--log", LOG, "--reason", "litigation hold 2026-17", "--url", url(), "--key", ADMIN]);
    assert.equal(placed.code, 0, placed.stderr);
    const pruned = await runCli(["prune", "--log", LOG, "--url", url(), "--key", ADMIN, "--json"]);
    assert.equal(pruned.code, 0, pruned.stderr);
    const [result] = (JSON.parse(pruned.stdout) as { results: { entries: number; held: number }[] }).results;
    assert.equal(result?.entries, 0);
    assert.equal((await call(`/logs/${LOG}/tile/entries/000`)).status, 200);
    const release = await runCli(["hold", "release", placed.stdout.trim(), "--url", url(), "--key", ADMIN]);
    assert.equal(release.code, 0, release.stderr);
  });

  test("a hold on a query keeps exactly its events; the other 90 % are pruned", async () => {
    await json("/v1/legal-holds", { method: "POST", body: { log: LOG, q: "actor:u_matter", reason: "matter 9" } }, 201);
    const { results } = await json<{ results: { entries: number; held: number; pruned: { start: number; end: number }[] }[] }>(
      "/v1/prunes",
      { method: "POST", body: { log: LOG } },
    );
    assert.deepEqual(results[0]?.pruned, [{ start: 0, end: 900 }]);
    assert.equal(results[0]?.held, 100);
    // The log keeps growing after the prune.
    await append(
      LOG,
      Array.from({ length: 10 }, (_, i) => event(2000 + i)),
    );
  });

  test("pruned ranges answer 410 Gone with a problem naming them; the rest still reads, never silently empty", async () => {
    for (const path of [`/logs/${LOG}/tile/entries/000`, `/logs/${LOG}/tile/entries/003.p/242`]) {
      const response = await call(path);
      assert.equal(response.status, 410, path);
      assert.equal(response.headers.get("content-type"), "application/problem+json");
      const problem = (await response.json()) as { code: string; detail: string };
      assert.equal(problem.code, "entries_pruned");
      assert.match(problem.detail, /entries 0-899 were pruned/);
    }
    assert.equal((await call(`/logs/${LOG}/tile/0/000`)).status, 200, "hash tiles stay");
    const page = await json<{ events: unknown[]; pruned: { start: number; end: number }[] }>(`/v1/logs/${LOG}/events?q=actor:u_3`);
    assert.deepEqual(page.events, []);
    assert.deepEqual(
      page.pruned.map((r) => [r.start, r.end]),
      [[0, 900]],
    );
    const gone = await call(`/v1/logs/${LOG}/events/evt-r-5`);
    assert.equal(gone.status, 404);
    assert.match(((await gone.json()) as { detail: string }).detail, /0-899 were pruned/);
    const kept = await json<{ index: number; event: { id: string } }>(`/v1/logs/${LOG}/events/evt-r-950`);
    assert.equal(kept.index, 950);
  });

  test("the offline verifier and the tiles audit verify what remains, report the pruned range, and stay consistent", async () => {
    const verified = await runCli(["verify", "--data", dataDir, "--log", LOG]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /OK {3}retained: 1010 entries, \d+ checkpoints verified \(bodies of 0-899 pruned by retention/);
    const report = await auditLog({ url: url(), log: LOG, key: ADMIN, previous: published });
    assert.equal(report.checkpoint.treeSize, 1010);
    assert.deepEqual(report.prunedBundles, [0, 1, 2, 3]);
    const remote = await runCli(["verify", "--url", url(), "--log", LOG, "--key", ADMIN]);
    assert.equal(remote.code, 0, remote.stdout + remote.stderr);
    assert.match(remote.stdout, /4 entry bundles answered 410 Gone/);
  });

  test("proofs against the checkpoint published before the prune still verify, for kept and pruned leaves", async () => {
    const cp = published as TrustedCheckpoint;
    const info = await json<{ verifierKey: string; checkpoint: string; treeSize: number; rootHash: string }>(`/v1/logs/${LOG}`);
    openNote(cp.note, [parseVerifierKey(info.verifierKey)]);
    for (const index of [950, 5, 899]) {
      const proof = await json<{ leafHash: string; rootHash: string; hashes: string[] }>(
        `/v1/logs/${LOG}/proofs/inclusion?index=${index}&treeSize=${cp.treeSize}`,
      );
      const hashes = proof.hashes.map((h, i) => decodeBase64(h, `hash ${i}`));
      assert.ok(verifyInclusion(index, cp.treeSize, decodeBase64(proof.leafHash, "leaf"), hashes, cp.rootHash), `inclusion of ${index}`);
    }
    const current = parseCheckpoint(openNote(info.checkpoint, [parseVerifierKey(info.verifierKey)]).text);
    const consistency = await json<{ hashes: string[] }>(`/v1/logs/${LOG}/proofs/consistency?from=${cp.treeSize}&to=${current.treeSize}`);
    assert.ok(
      verifyConsistency(
        cp.treeSize,
        current.treeSize,
        cp.rootHash,
        current.rootHash,
        consistency.hashes.map((h, i) => decodeBase64(h, `hash ${i}`)),
      ),
    );
    // A kept event's own proof (event API) verifies against the current checkpoint.
    const kept = await json<{ leafHash: string; inclusionProof: { treeSize: number; rootHash: string; hashes: string[] } }>(
      `/v1/logs/${LOG}/events/evt-r-990`,
    );
    assert.ok(
      verifyInclusion(
        990,
        kept.inclusionProof.treeSize,
        decodeBase64(kept.leafHash, "leaf"),
        kept.inclusionProof.hashes.map((h, i) => decodeBase64(h, `hash ${i}`)),
        decodeBase64(kept.inclusionProof.rootHash, "root"),
      ),
    );
  });

  test("every retention action is an audit event in sealtrail-system", async () => {
    const page = await json<{ events: { event: { action: string } }[] }>(
      `/v1/logs/sealtrail-system/events?q=${encodeURIComponent("action:retention.set action:legal_hold.placed action:legal_hold.released action:log.pruned")}&limit=100`,
    );
    const actions = page.events.map((e) => e.event.action).sort();
    assert.deepEqual(actions, ["legal_hold.placed", "legal_hold.placed", "legal_hold.released", "log.pruned", "retention.set"]);
  });
});
