// A row changed behind the engine's back (raw SQL, after dropping the append-only trigger that
// refuses it) must make `sealtrail verify --data` fail and name where; a server restarted over
// the tampered data must either refuse to start with a clear message or fail `verify --url`.
import assert from "node:assert/strict";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { runCli, type ServerProcess, startServer, tempDir } from "../support/server-process.ts";

const LOG = "tamper";
const ADMIN_KEY = "e2e-tamper-admin-key-0123456789";
const SIZE = 300;
const ROWS_PER_LOG = 2 ** 40;

const dir = tempDir("sealtrail-tamper-");
const pristine = join(dir.path, "pristine");
const running = new Set<ServerProcess>();

async function start(dataDir: string): Promise<ServerProcess> {
  const server = await startServer({ dataDir, adminKey: ADMIN_KEY });
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

/** A fresh copy of the pristine data dir, changed with raw SQL on a direct connection. */
function tampered(name: string, change: (db: Database.Database, rowid: (index: number) => number) => void): string {
  const copy = join(dir.path, name);
  cpSync(pristine, copy, { recursive: true });
  const db = new Database(join(copy, "sealtrail.db"));
  try {
    const { id } = db.prepare("SELECT id FROM logs WHERE name = ?").get(LOG) as { id: number };
    change(db, (index) => id * ROWS_PER_LOG + index);
  } finally {
    db.close();
  }
  return copy;
}

function leafAt(db: Database.Database, rowid: number): { event_id: string; leaf: Buffer } {
  return db.prepare("SELECT event_id, leaf FROM entries WHERE rowid = ?").get(rowid) as { event_id: string; leaf: Buffer };
}

/**
 * Runs `verify --data` over a tampered copy: it must exit 1 and its output must match every pattern.
 * Worker threads (the built audit-worker.js, each with its own connection) must say exactly the same.
 */
async function assertDataFails(copy: string, patterns: RegExp[]): Promise<string> {
  const result = await runCli(["verify", "--data", copy]);
  const output = `${result.stdout}${result.stderr}`;
  assert.equal(result.code, 1, `verify --data must exit 1\n${output}`);
  assert.match(output, new RegExp(`FAIL ${LOG}:`));
  for (const pattern of patterns) assert.match(output, pattern);
  const inWorkers = await runCli(["verify", "--data", copy, "--workers", "2"]);
  assert.deepEqual([inWorkers.code, inWorkers.stdout, inWorkers.stderr], [result.code, result.stdout, result.stderr]);
  return `verify --data: ${output.trim()}`;
}

type Served =
  /** The engine's start-up check (latest checkpoint root against the stored hashes) must refuse. */
  | { refuses: RegExp }
  /** The server may start; then an outside audit must fail. Refusing to start, naming the log, is fine too. */
  | { audit: { code: number; output: RegExp } };

/** Restarts a server over tampered data; returns what happened, for the test's diagnostics. */
async function assertServedFails(copy: string, expected: Served): Promise<string> {
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
      const offline = await runCli(["verify", "--data", pristine, "--workers", workers]);
      assert.equal(offline.code, 0, `the untampered log verifies offline\n${offline.stdout}${offline.stderr}`);
      assert.match(offline.stdout, new RegExp(`OK\\s+${LOG}: ${SIZE} entries`));
    }
    const bad = await runCli(["verify", "--data", pristine, "--workers", "two"]);
    assert.equal(bad.code, 2, "a --workers that is not a whole number is a usage error");
    assert.match(bad.stderr, /--workers takes a whole number, 0 or more/);
  });

  test("a changed leaf (UPDATE after dropping entries_no_update) fails verify and names index 123", async (t) => {
    const copy = tampered("leaf", (db, rowid) => {
      const { leaf } = leafAt(db, rowid(123));
      const altered = Buffer.from(leaf.toString("utf8").replace("document.shared", "document.sharee"), "utf8");
      assert.equal(altered.length, leaf.length, "one character changed");
      const update = () => db.prepare("UPDATE entries SET leaf = ? WHERE rowid = ?").run(altered, rowid(123));
      assert.throws(update, /sealtrail: entries is append-only/, "the trigger refuses UPDATE");
      db.exec("DROP TRIGGER entries_no_update");
      assert.equal(update().changes, 1);
    });
    t.diagnostic(await assertDataFails(copy, [/entry 123\b/, /first failing index: 123\)/]));
    t.diagnostic(await assertServedFails(copy, { audit: { code: 1, output: /entry 123 does not match its hash/ } }));
  });

  test("a deleted entry (DELETE after dropping entries_no_delete) fails verify and names index 123", async (t) => {
    const copy = tampered("deleted", (db, rowid) => {
      const remove = () => db.prepare("DELETE FROM entries WHERE rowid = ?").run(rowid(123));
      assert.throws(remove, /sealtrail: entries is append-only/, "the trigger refuses DELETE");
      db.exec("DROP TRIGGER entries_no_delete");
      assert.equal(remove().changes, 1);
    });
    t.diagnostic(await assertDataFails(copy, [/entry 123 is missing/, /first failing index: 123\)/]));
    // The server cannot build entry bundle 0 any more: an outside auditor sees it refuse.
    t.diagnostic(await assertServedFails(copy, { audit: { code: 3, output: /tile\/entries\/000 answered 500/ } }));
  });

  test("a deleted last entry (the log shrank under its checkpoint) fails verify and the server refuses to start", async (t) => {
    const copy = tampered("truncated", (db, rowid) => {
      db.exec("DROP TRIGGER entries_no_delete");
      assert.equal(db.prepare("DELETE FROM entries WHERE rowid = ?").run(rowid(SIZE - 1)).changes, 1);
    });
    t.diagnostic(
      await assertDataFails(copy, [new RegExp(`checkpoint ${SIZE} covers entries that are not stored`), /first failing index: 299\)/]),
    );
    t.diagnostic(
      await assertServedFails(copy, { refuses: new RegExp(`checkpoint covers ${SIZE} entries but only ${SIZE - 1} are stored`) }),
    );
  });

  test("a changed level-1 tree hash fails verify and names the tile; the server refuses to start", async (t) => {
    const copy = tampered("tree-hash", (db) => {
      const row = db.prepare("SELECT log_id, hash FROM tree_hashes WHERE level = 1 AND idx = 0").get() as { log_id: number; hash: Buffer };
      const altered = Buffer.from(row.hash);
      altered[7] = (altered[7] as number) ^ 0x01;
      const update = () =>
        db.prepare("UPDATE tree_hashes SET hash = ? WHERE log_id = ? AND level = 1 AND idx = 0").run(altered, row.log_id);
      assert.throws(update, /sealtrail: tree_hashes is append-only/, "the trigger refuses UPDATE");
      db.exec("DROP TRIGGER tree_hashes_no_update");
      assert.equal(update().changes, 1);
    });
    // Level-1 hash 0 covers entries 0..255: it is found wrong once entry 255 completes it.
    t.diagnostic(await assertDataFails(copy, [/stored tile hash 1\/0 does not match the entries/, /entry 255\b/]));
    t.diagnostic(await assertServedFails(copy, { refuses: new RegExp(`stored hashes do not match the checkpoint at size ${SIZE}`) }));
  });

  test("a changed checkpoint signature fails verify; the served checkpoint fails verify --url", async (t) => {
    const copy = tampered("checkpoint", (db) => {
      const row = db.prepare("SELECT log_id, tree_size, note FROM checkpoints ORDER BY tree_size DESC LIMIT 1").get() as {
        log_id: number;
        tree_size: number;
        note: string;
      };
      assert.equal(row.tree_size, SIZE);
      // Flip one base64 character of the Ed25519 signature, well after the 4-byte key id.
      const at = row.note.lastIndexOf(" ") + 30;
      const flipped = row.note[at] === "A" ? "B" : "A";
      const note = row.note.slice(0, at) + flipped + row.note.slice(at + 1);
      const update = () => db.prepare("UPDATE checkpoints SET note = ? WHERE log_id = ? AND tree_size = ?").run(note, row.log_id, SIZE);
      assert.throws(update, /sealtrail: checkpoints is append-only/, "the trigger refuses UPDATE");
      db.exec("DROP TRIGGER checkpoints_no_update");
      assert.equal(update().changes, 1);
    });
    t.diagnostic(await assertDataFails(copy, [new RegExp(`checkpoint ${SIZE}: .*does not verify`)]));
    t.diagnostic(await assertServedFails(copy, { audit: { code: 1, output: /does not verify/ } }));
  });

  test("two entries swapped between indexes 100 and 200 fail verify and name index 100", async (t) => {
    const copy = tampered("swapped", (db, rowid) => {
      const a = leafAt(db, rowid(100));
      const b = leafAt(db, rowid(200));
      const set = db.prepare("UPDATE entries SET event_id = ?, leaf = ? WHERE rowid = ?");
      assert.throws(() => set.run(b.event_id, b.leaf, rowid(100)), /sealtrail: entries is append-only/);
      db.exec("DROP TRIGGER entries_no_update");
      db.transaction(() => {
        set.run("swap-in-progress", a.leaf, rowid(100));
        set.run(a.event_id, a.leaf, rowid(200));
        set.run(b.event_id, b.leaf, rowid(100));
      })();
      assert.equal(leafAt(db, rowid(100)).event_id, b.event_id);
    });
    t.diagnostic(await assertDataFails(copy, [/entry 100\b/, /first failing index: 100\)/]));
    t.diagnostic(await assertServedFails(copy, { audit: { code: 1, output: /entry 100 does not match its hash/ } }));
  });
});
