// A row changed behind the engine's back (raw SQL, after dropping or disabling the append-only
// trigger that refuses it) must make `sealtrail verify --data` (SQLite) / `verify --store`
// (PostgreSQL: tamper-postgres.test.ts runs this file there) fail and name where; a server
// restarted over the tampered data must either refuse to start with a clear message or fail `verify --url`.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { runCli, type ServerProcess, startServer, tempDir } from "../support/server-process.ts";
import { type RawLog, storeUnderTest, type TestStore } from "../support/store-under-test.ts";

const LOG = "tamper";
const ADMIN_KEY = "e2e-tamper-admin-key-0123456789";
const SIZE = 300;

const stores = storeUnderTest();
const dir = tempDir("sealtrail-tamper-");
let pristine: TestStore;
const running = new Set<ServerProcess>();

async function start(store: TestStore): Promise<ServerProcess> {
  const server = await startServer({ dataDir: store.dataDir, adminKey: ADMIN_KEY, args: [...store.serveArgs] });
  running.add(server);
  return server;
}

async function stop(server: ServerProcess): Promise<number | null> {
  running.delete(server);
  return server.stop();
}

after(async () => {
  for (const server of running) await server.kill9();
  dir.remove();
});

function event(n: number) {
  return {
    id: `evt-${String(n).padStart(4, "0")}`,
    action: "document.shared",
    occurredAt: new Date(Date.UTC(2026, 10, 27, 12, 0, n)).toISOString(),
    actor: { type: "user", id: `u_${n % 7}` },
    targets: [{ type: "document", id: `doc_${n}` }],
  };
}

async function logInfo(url: string): Promise<{ treeSize: number }> {
  const response = await fetch(`${url}/v1/logs/${LOG}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  assert.equal(response.status, 200);
  return (await response.json()) as { treeSize: number };
}

function verifyUrl(url: string) {
  return runCli(["verify", "--url", url, "--log", LOG, "--key", ADMIN_KEY]);
}

/** A fresh copy of the pristine store, changed with raw SQL on a direct superuser connection. */
async function tampered(name: string, change: (log: RawLog) => Promise<void>): Promise<TestStore> {
  const copy = await pristine.copy(join(dir.path, name));
  const log = await copy.open(LOG);
  try {
    await change(log);
  } finally {
    await log.close();
  }
  return copy;
}

/** The database refuses the change while its append-only guard is in place. */
const refused = (change: () => Promise<number>, table: string) =>
  assert.rejects(change, new RegExp(`sealtrail: ${table} is append-only`), "the trigger refuses the change");

/**
 * Audits a tampered copy with no server: it must exit 1 and its output must match every pattern.
 * Worker threads (the built audit-worker.js, each with its own connection) must say exactly the same.
 */
async function assertDataFails(copy: TestStore, patterns: RegExp[]): Promise<string> {
  const result = await runCli(["verify", ...copy.offlineArgs]);
  const output = `${result.stdout}${result.stderr}`;
  assert.equal(result.code, 1, `verify ${copy.offlineArgs.join(" ")} must exit 1\n${output}`);
  assert.match(output, new RegExp(`FAIL ${LOG}:`));
  for (const pattern of patterns) assert.match(output, pattern);
  const inWorkers = await runCli(["verify", ...copy.offlineArgs, "--workers", "2"]);
  assert.deepEqual([inWorkers.code, inWorkers.stdout, inWorkers.stderr], [result.code, result.stdout, result.stderr]);
  return `verify ${copy.offlineArgs.includes("--store") ? "--store" : "--data"}: ${output.trim()}`;
}

type Served =
  /** The engine's start-up check (latest checkpoint root against the stored hashes) must refuse. */
  | { refuses: RegExp }
  /** The server may start; then an outside audit must fail. Refusing to start, naming the log, is fine too. */
  | { audit: { code: number; output: RegExp } };

/** Restarts a server over tampered data; returns what happened, for the test's diagnostics. */
async function assertServedFails(copy: TestStore, expected: Served): Promise<string> {
  let server: ServerProcess;
  try {
    server = await start(copy);
  } catch (error) {
    const message = (error as Error).message;
    assert.match(message, /server exited with 2 before listening/);
    assert.match(message, "refuses" in expected ? expected.refuses : new RegExp(`log ${LOG}: `));
    return `the server refused to start: ${/sealtrail: (.*)/.exec(message)?.[1]}`;
  }
  try {
    assert.ok("audit" in expected, "the server started over data whose stored hashes do not match its checkpoint");
    const result = await verifyUrl(server.url);
    const output = `${result.stdout}${result.stderr}`;
    assert.equal(result.code, expected.audit.code, `verify --url must fail with ${expected.audit.code}\n${output}`);
    assert.match(output, expected.audit.output);
    return `the server started; verify --url exited ${result.code}: ${result.stderr.trim()}`;
  } finally {
    await stop(server);
  }
}

describe("tampering behind the engine's back", { timeout: 50_000 }, () => {
  before(async () => {
    pristine = await stores.create(join(dir.path, "pristine"));
    const server = await start(pristine);
    try {
      for (let start = 0; start < SIZE; start += 100) {
        const events = Array.from({ length: 100 }, (_, i) => event(start + i));
        const response = await fetch(`${server.url}/v1/logs/${LOG}/events`, {
          method: "POST",
          headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
          body: JSON.stringify({ events }),
        });
        assert.equal(response.status, 201, await response.text());
      }
      for (let waited = 0; (await logInfo(server.url)).treeSize < SIZE; waited += 50) {
        assert.ok(waited < 10_000, "no checkpoint over every entry within 10 s");
        await sleep(50);
      }
      const remote = await verifyUrl(server.url);
      assert.equal(remote.code, 0, `the untampered log verifies over HTTP\n${remote.stdout}${remote.stderr}`);
    } finally {
      assert.equal(await stop(server), 0);
    }
    for (const workers of ["0", "2"]) {
      const offline = await runCli(["verify", ...pristine.offlineArgs, "--workers", workers]);
      assert.equal(offline.code, 0, `the untampered log verifies offline\n${offline.stdout}${offline.stderr}`);
      assert.match(offline.stdout, new RegExp(`OK\\s+${LOG}: ${SIZE} entries`));
    }
    const bad = await runCli(["verify", ...pristine.offlineArgs, "--workers", "two"]);
    assert.equal(bad.code, 2, "a --workers that is not a whole number is a usage error");
    assert.match(bad.stderr, /--workers takes a whole number, 0 or more/);
  });

  test("a changed leaf (UPDATE after dropping the guard) fails verify and names index 123", async (t) => {
    const copy = await tampered("leaf", async (log) => {
      const { eventId, leaf } = await log.entry(123);
      const altered = Buffer.from(leaf.toString("utf8").replace("document.shared", "document.sharee"), "utf8");
      assert.equal(altered.length, leaf.length, "one character changed");
      await refused(() => log.updateEntry(123, eventId, altered), "entries");
      await log.dropGuard("entries", "update");
      assert.equal(await log.updateEntry(123, eventId, altered), 1);
    });
    t.diagnostic(await assertDataFails(copy, [/entry 123\b/, /first failing index: 123\)/]));
    t.diagnostic(await assertServedFails(copy, { audit: { code: 1, output: /entry 123 does not match its hash/ } }));
  });

  test("a deleted entry (DELETE after dropping the guard) fails verify and names index 123", async (t) => {
    const copy = await tampered("deleted", async (log) => {
      await refused(() => log.deleteEntry(123), "entries");
      await log.dropGuard("entries", "delete");
      assert.equal(await log.deleteEntry(123), 1);
    });
    t.diagnostic(await assertDataFails(copy, [/entry 123 is missing/, /first failing index: 123\)/]));
    // The server cannot build the first level-0 tile (on SQLite the deleted row held its leaf hash)
    // or entry bundle 0 any more: an outside auditor sees it refuse.
    t.diagnostic(await assertServedFails(copy, { audit: { code: 3, output: /tile\/(0|entries)\/000 answered 500/ } }));
  });

  test("a deleted last entry (the log shrank under its checkpoint) fails verify and the server refuses to start", async (t) => {
    const copy = await tampered("truncated", async (log) => {
      await log.dropGuard("entries", "delete");
      assert.equal(await log.deleteEntry(SIZE - 1), 1);
    });
    t.diagnostic(
      await assertDataFails(copy, [new RegExp(`checkpoint ${SIZE} covers entries that are not stored`), /first failing index: 299\)/]),
    );
    t.diagnostic(
      await assertServedFails(copy, { refuses: new RegExp(`checkpoint covers ${SIZE} entries but only ${SIZE - 1} are stored`) }),
    );
  });

  test("a changed level-1 tree hash fails verify and names the tile; the server refuses to start", async (t) => {
    const copy = await tampered("tree-hash", async (log) => {
      const altered = Buffer.from(await log.treeHash(1, 0));
      altered[7] = (altered[7] as number) ^ 0x01;
      await refused(() => log.updateTreeHash(1, 0, altered), "tree_hashes");
      await log.dropGuard("tree_hashes", "update");
      assert.equal(await log.updateTreeHash(1, 0, altered), 1);
    });
    // Level-1 hash 0 covers entries 0..255: it is found wrong once entry 255 completes it.
    t.diagnostic(await assertDataFails(copy, [/stored tile hash 1\/0 does not match the entries/, /entry 255\b/]));
    t.diagnostic(await assertServedFails(copy, { refuses: new RegExp(`stored hashes do not match the checkpoint at size ${SIZE}`) }));
  });

  test("a changed checkpoint signature fails verify; the served checkpoint fails verify --url", async (t) => {
    const copy = await tampered("checkpoint", async (log) => {
      const latest = await log.latestCheckpoint();
      assert.equal(latest.treeSize, SIZE);
      // Flip one base64 character of the Ed25519 signature, well after the 4-byte key id.
      const at = latest.note.lastIndexOf(" ") + 30;
      const flipped = latest.note[at] === "A" ? "B" : "A";
      const note = latest.note.slice(0, at) + flipped + latest.note.slice(at + 1);
      await refused(() => log.updateCheckpointNote(SIZE, note), "checkpoints");
      await log.dropGuard("checkpoints", "update");
      assert.equal(await log.updateCheckpointNote(SIZE, note), 1);
    });
    t.diagnostic(await assertDataFails(copy, [new RegExp(`checkpoint ${SIZE}: .*does not verify`)]));
    t.diagnostic(await assertServedFails(copy, { audit: { code: 1, output: /does not verify/ } }));
  });

  test("two entries swapped between indexes 100 and 200 fail verify and name index 100", async (t) => {
    const copy = await tampered("swapped", async (log) => {
      const a = await log.entry(100);
      const b = await log.entry(200);
      await refused(() => log.updateEntry(100, b.eventId, b.leaf), "entries");
      await log.dropGuard("entries", "update");
      // Through a placeholder id: event ids are unique per log.
      await log.updateEntry(100, "swap-in-progress", a.leaf);
      await log.updateEntry(200, a.eventId, a.leaf);
      await log.updateEntry(100, b.eventId, b.leaf);
      assert.equal((await log.entry(100)).eventId, b.eventId);
    });
    t.diagnostic(await assertDataFails(copy, [/entry 100\b/, /first failing index: 100\)/]));
    t.diagnostic(await assertServedFails(copy, { audit: { code: 1, output: /entry 100 does not match its hash/ } }));
  });
});
