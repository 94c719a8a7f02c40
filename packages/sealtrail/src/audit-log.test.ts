import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ConfigError, InputError, NotFoundError, StoreError } from "@sealtrail/core";
import { dataDir } from "@sealtrail/engine";
import { runWithAuditContext } from "@sealtrail/middleware";
import { createSqliteStore } from "@sealtrail/store-sqlite";
import { createAuditLog } from "./index.js";

const root = mkdtempSync(join(tmpdir(), "sealtrail-umbrella-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(root, `audit-${n++}`);
const actor = { type: "user", id: "u_42", name: "Ada" };

describe("createAuditLog over embedded SQLite", () => {
  it("records durably with the final index, and lays the directory out as `sealtrail serve --data` does", async () => {
    const path = freshPath();
    const audit = await createAuditLog({ path, handleSignals: false });
    assert.equal(audit.mode, "sqlite");
    const first = await audit.record({ action: "document.shared", actor, targets: [{ type: "document", id: "doc_9" }] });
    const second = await audit.record({ action: "document.deleted", actor });
    assert.deepEqual([first.index, second.index], [0, 1]);
    assert.match(first.id, /^[0-9A-Z]{26}$/);
    assert.equal(statSync(join(path, "signing-key")).mode & 0o777, 0o600);
    assert.equal(statSync(path).mode & 0o777, 0o700);
    await audit.close();
    // Reopened, it continues the same tree; the CLI's offline audit reads the same directory.
    const again = await createAuditLog({ path, handleSignals: false });
    assert.equal((await again.record({ action: "document.viewed", actor })).index, 2);
    await again.close();
    await assert.rejects(again.record({ action: "document.viewed", actor }), (e) => e instanceof StoreError && e.code === "engine_closed");
    const store = createSqliteStore({ path: dataDir(path).databasePath, readonly: true });
    assert.equal((await store.getLog("default"))?.size, 3);
    await store.close();
  });

  it("refuses a second writer on the same directory while the first is open", async () => {
    const path = freshPath();
    const audit = await createAuditLog({ path, handleSignals: false });
    await assert.rejects(createAuditLog({ path, handleSignals: false }), (e) => e instanceof ConfigError && e.code === "data_dir_locked");
    await audit.close();
    await (await createAuditLog({ path, handleSignals: false })).close();
  });

  it("queries with the query language or a filter, proves an event and verifies the whole log", async () => {
    const audit = await createAuditLog({ path: freshPath(), log: "acme", checkpointIntervalMs: 20, handleSignals: false });
    assert.deepEqual((await audit.query("action:document.*")).events, [], "an empty log answers, not 404");
    assert.deepEqual(await audit.verify(), { ok: true, log: "acme", entries: 0, checkpoints: 0 });
    const shared = await audit.record({ action: "document.shared", actor, metadata: { note: "quarterly figures" } });
    await audit.record({ action: "user.login", actor: { type: "user", id: "u_7" } });
    const found = await audit.query('action:document.* "quarterly"');
    assert.deepEqual(
      found.events.map((e) => e.event.id),
      [shared.id],
    );
    const byFilter = await audit.query({ actor: ["u_7"] });
    assert.equal(byFilter.events.length, 1);
    const proof = await audit.prove(shared.id);
    assert.equal(proof.index, shared.index);
    assert.equal(proof.event.metadata?.note, "quarterly figures");
    assert.match(proof.verifierKey, /^sealtrail\.local\/acme\+[0-9a-f]{8}\+/);
    await assert.rejects(audit.prove("01JDNOPE000000000000000000"), (e) => e instanceof NotFoundError && e.code === "event_not_found");
    const result = await audit.verify();
    assert.equal(result.ok, true);
    assert.equal(result.entries, 2);
    await audit.close();
  });

  it("rejects an invalid event with every field's pointer and stores nothing", async () => {
    const audit = await createAuditLog({ path: freshPath(), handleSignals: false });
    await assert.rejects(audit.record({ action: "nodot", outcome: "maybe" as never }), (e) => {
      assert.ok(e instanceof InputError);
      assert.deepEqual(
        e.problems.map((p) => p.pointer),
        ["/action", "/actor", "/outcome"],
      );
      return true;
    });
    assert.equal((await audit.query("")).events.length, 0);
    await audit.close();
  });

  it("fills actor, ip, user agent, request id and session id from the request context", async () => {
    const audit = await createAuditLog({ path: freshPath(), handleSignals: false });
    const context = {
      fields: { ip: "203.0.113.9", userAgent: "curl/8", requestId: "req_1", sessionId: "s_1" },
      actor: async () => actor,
    };
    const { id } = await runWithAuditContext(context, () =>
      audit.record({ action: "document.shared", targets: [{ type: "document", id: "d" }] }),
    );
    const [stored] = (await audit.query("")).events;
    assert.equal(stored?.event.id, id);
    assert.deepEqual(stored?.event.actor, actor);
    assert.deepEqual(stored?.event.context, context.fields);
    // What the handler states explicitly wins over the request's defaults.
    await runWithAuditContext(context, () =>
      audit.record({ action: "job.ran", actor: { type: "service", id: "cron" }, context: { requestId: "job_9" } }),
    );
    const [latest] = (await audit.query("")).events;
    assert.deepEqual(latest?.event.actor, { type: "service", id: "cron" });
    assert.equal(latest?.event.context?.requestId, "job_9");
    assert.equal(latest?.event.context?.ip, "203.0.113.9");
    await audit.close();
  });

  it("refuses records beyond maxPending instead of queuing without bound", async () => {
    const audit = await createAuditLog({ path: freshPath(), maxPending: 10, handleSignals: false });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) => audit.record({ action: "burst.event", actor, metadata: { i } })),
    );
    const refused = outcomes.filter((o) => o.status === "rejected");
    assert.equal(outcomes.length - refused.length, 10);
    for (const r of refused) assert.equal(((r as PromiseRejectedResult).reason as StoreError).code, "queue_full");
    assert.equal((await audit.query("")).events.length, 10, "exactly the accepted records are stored");
    await audit.close();
  });

  it("explains how to get PostgreSQL support when @sealtrail/store-postgres is not installed", async (t) => {
    try {
      import.meta.resolve("@sealtrail/store-postgres");
      t.skip("@sealtrail/store-postgres is installed: the PostgreSQL path is exercised by audit-log-postgres.test.ts");
      return;
    } catch {
      // Not installed: the case under test.
    }
    await assert.rejects(
      createAuditLog({ url: "postgres://127.0.0.1:1/x", signingKey: undefined, path: freshPath(), handleSignals: false }),
      (e) => e instanceof ConfigError && e.code === "store_not_installed" && /npm install @sealtrail\/store-postgres/.test(e.message),
    );
  });

  it("refuses a URL it cannot serve", async () => {
    await assert.rejects(
      createAuditLog({ url: "mysql://x", handleSignals: false }),
      (e) => e instanceof ConfigError && e.code === "invalid_audit_options",
    );
  });
});

describe("graceful shutdown", () => {
  const runChild = async (ending: "signal" | "natural") => {
    const path = freshPath();
    const child = spawn(
      process.execPath,
      ["--conditions=source", "--import", "tsx", join(import.meta.dirname, "test-signal-child.ts"), path, ending],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, NODE_OPTIONS: "" },
      },
    );
    let stderr = "";
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    const [code, signal] = await new Promise<[number | null, string | null]>((done) => child.once("exit", (c, s) => done([c, s])));
    const store = createSqliteStore({ path: dataDir(path).databasePath, readonly: true });
    try {
      return {
        code,
        signal,
        stderr,
        size: (await store.getLog("default"))?.size,
        signed: (await store.latestCheckpoint("default"))?.treeSize,
      };
    } finally {
      await store.close();
    }
  };

  it("on SIGTERM flushes what was recorded, signs a final checkpoint, closes and exits by the signal", async () => {
    const run = await runChild("signal");
    assert.equal(run.signal, "SIGTERM", `exits by the signal (code ${run.code}): ${run.stderr}`);
    assert.equal(run.size, 50, "every event recorded before the signal is stored");
    assert.equal(run.signed, 50, "the final checkpoint covers them, without waiting an interval");
  });

  it("closes by itself when the app runs out of work without calling close()", async () => {
    const run = await runChild("natural");
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.size, 50);
    assert.equal(run.signed, 50);
  });
});
