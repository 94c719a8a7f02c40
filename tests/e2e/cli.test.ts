// The user's path through the CLI, as the README describes it: `serve --demo`, the admin key
// shown once, file modes, the data-dir lock, graceful shutdown, `keys` and `verify`.
// cli-postgres.test.ts runs it again on `serve --store postgres://…` (`verify` / `keys` / `query`
// then take --store beside --data).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { stripVTControlCharacters } from "node:util";
import { CLI, runCli, type ServerProcess, startServer, tempDir } from "../support/server-process.ts";
import { onPostgres, storeUnderTest, type TestStore } from "../support/store-under-test.ts";

const stores = storeUnderTest();
const dir = tempDir("sealtrail-cli-");
const running = new Set<ServerProcess>();
/** The store of each data directory, made on its first start. */
const storeOf = new Map<string, TestStore>();

async function storeFor(dataDir: string): Promise<TestStore> {
  let store = storeOf.get(dataDir);
  if (!store) {
    store = await stores.create(dataDir);
    storeOf.set(dataDir, store);
  }
  return store;
}

async function start(options: Parameters<typeof startServer>[0]): Promise<ServerProcess> {
  const { serveArgs } = await storeFor(options.dataDir);
  const server = await startServer({ ...options, args: [...serveArgs, ...(options.args ?? [])] });
  running.add(server);
  return server;
}

async function stop(server: ServerProcess): Promise<number | null> {
  running.delete(server);
  return server.stop();
}

/** Starting must fail: returns the error text (exit code and output). Stops the server if it did start. */
async function startRefused(options: Parameters<typeof startServer>[0]): Promise<string> {
  let server: ServerProcess;
  try {
    server = await start(options);
  } catch (error) {
    return (error as Error).message;
  }
  await stop(server);
  assert.fail(`the server started but should have refused:\n${server.output()}`);
}

after(async () => {
  for (const server of running) await server.kill9();
  dir.remove();
});

const mode = (path: string) => statSync(path).mode & 0o777;

/** A loopback port nothing listens on (the OS picked it, then it was closed). */
function unusedPort(): Promise<number> {
  return new Promise((done) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });
}
const keysIn = (output: string) => output.match(/stk_[A-Za-z0-9_-]+/g) ?? [];

function get(url: string, path: string, key?: string): Promise<Response> {
  return fetch(`${url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {}, signal: AbortSignal.timeout(10_000) });
}

function post(url: string, log: string, key: string, body: unknown): Promise<Response> {
  return fetch(`${url}/v1/logs/${log}/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
}

type LogInfo = { treeSize: number; integratedSize: number; verifierKey: string; origin: string };

async function logInfo(url: string, log: string, key: string): Promise<LogInfo> {
  const response = await get(url, `/v1/logs/${log}`, key);
  assert.equal(response.status, 200, `GET /v1/logs/${log}`);
  return (await response.json()) as LogInfo;
}

function events(prefix: string, count: number) {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${i}`,
    action: "document.shared",
    occurredAt: "2026-11-27T12:00:00.000Z",
    actor: { type: "user", id: "u_1" },
  }));
}

describe("sealtrail serve --demo, as the README starts", { timeout: 40_000 }, () => {
  const dataDir = join(dir.path, "demo");
  let adminKey = "";
  let verifierKey = "";

  test("first start fills acme and globex, prints one admin key, and keeps its files private", async () => {
    const server = await start({ dataDir, args: ["--demo"] });
    try {
      const output = server.output();
      assert.equal(keysIn(output).length, 1, `exactly one admin key is printed:\n${output}`);
      adminKey = server.adminKey;
      assert.match(adminKey, /^stk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
      assert.match(output, /demo: wrote 2400 events to log "acme"/);
      assert.match(output, /demo: wrote 600 events to log "globex"/);

      assert.equal(mode(dataDir), 0o700, "data dir");
      assert.equal(mode(join(dataDir, "signing-key")), 0o600, "signing key");
      // On PostgreSQL the log and the data keys are in the database (shared by every instance):
      // the data directory holds only the signing key.
      if (onPostgres) assert.equal(existsSync(join(dataDir, "keys.db")), false, "no keys.db on PostgreSQL");
      else assert.equal(mode(join(dataDir, "keys.db")), 0o600, "personal-data key store");
      assert.equal(existsSync(join(dataDir, "sealtrail.db")), !onPostgres, "the SQLite database is there on SQLite only");
      for (const file of ["sealtrail.db", "sealtrail.db-wal", "sealtrail.db-shm"]) {
        if (existsSync(join(dataDir, file))) assert.equal(mode(join(dataDir, file)), 0o600, file);
      }

      assert.equal((await get(server.url, "/v1/logs/acme")).status, 401, "log info needs a key unless --public-tree");
      for (const [log, count] of [
        ["acme", 2400],
        ["globex", 600],
      ] as const) {
        let info = await logInfo(server.url, log, adminKey);
        for (const deadline = Date.now() + 5_000; info.treeSize === 0 && Date.now() < deadline; await sleep(50)) {
          info = await logInfo(server.url, log, adminKey);
        }
        assert.ok(info.treeSize > 0 && info.treeSize <= count, `${log}: the first checkpoint covers events (treeSize ${info.treeSize})`);
        assert.equal(info.integratedSize, count, `${log}: every demo event is sequenced`);
        assert.equal(info.origin, `sealtrail.local/${log}`);
      }
      verifierKey = (await logInfo(server.url, "acme", adminKey)).verifierKey;
      assert.match(verifierKey, /^sealtrail\.local\/acme\+[0-9a-f]{8}\+/, "each log's checkpoints are signed under its origin");
      assert.match(output, /checkpoints of log L are signed as sealtrail\.local\/L/);

      const remote = await runCli(["verify", "--url", server.url, "--log", "acme", "--key", adminKey]);
      assert.equal(remote.code, 0, `verify --url\n${remote.stdout}${remote.stderr}`);
      assert.match(remote.stdout, /OK sealtrail\.local\/acme: \d+ entries/);

      const viaUrl = await runCli(["keys", "--url", server.url, "--log", "acme", "--key", adminKey]);
      assert.equal(viaUrl.code, 0, viaUrl.stderr);
      assert.equal(viaUrl.stdout.trim(), verifierKey, "keys --url prints the server's verifier key");
    } finally {
      assert.equal(await stop(server), 0);
    }
  });

  test("query output piped into a reader that stops early (| head) exits cleanly", async () => {
    const { offlineArgs } = await storeFor(dataDir);
    const child = spawn(process.execPath, [CLI, "query", "", "--log", "acme", ...offlineArgs, "--limit", "1000"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    // Read the first chunk, then close the pipe as `head -1` would.
    await new Promise((resolve) => child.stdout.once("data", resolve));
    child.stdout.destroy();
    const code = await new Promise((resolve) => child.once("exit", resolve));
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
  });

  test("keys --data (and --store) prints the verifier keys the server publishes", async () => {
    const { offlineArgs } = await storeFor(dataDir);
    const one = await runCli(["keys", ...offlineArgs, "--log", "acme"]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout.trim(), verifierKey);
    const all = await runCli(["keys", ...offlineArgs]);
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.trim().split("\n");
    assert.deepEqual(
      lines.map((l) => l.split("\t")[0]),
      ["acme", "globex"],
    );
    assert.ok(lines.includes(`acme\t${verifierKey}`));
    assert.match(lines[1] as string, /^globex\tsealtrail\.local\/globex\+/);
  });

  test("a second start over the same data prints no key, keeps the demo data, and the first key still works", async () => {
    const server = await start({ dataDir, args: ["--demo"] });
    try {
      const output = server.output();
      assert.deepEqual(keysIn(output), [], `no admin key on a later start:\n${output}`);
      assert.match(output, /admin key: {4}the one printed on first start/);
      assert.doesNotMatch(output, /demo: wrote/, "the demo does not append twice");
      // The SIGTERM before signed a checkpoint over everything, so it is there at once.
      const acme = await logInfo(server.url, "acme", adminKey);
      assert.equal(acme.treeSize, 2400);
      assert.equal(acme.integratedSize, 2400);
      assert.equal((await logInfo(server.url, "globex", adminKey)).treeSize, 600);
    } finally {
      assert.equal(await stop(server), 0);
    }
    const offline = await runCli(["verify", ...(await storeFor(dataDir)).offlineArgs]);
    assert.equal(offline.code, 0, `verify offline\n${offline.stdout}${offline.stderr}`);
    assert.match(offline.stdout, /OK\s+acme: 2400 entries/);
    assert.match(offline.stdout, /OK\s+globex: 600 entries/);
  });
});

describe("serve configuration and safety", { timeout: 40_000 }, () => {
  test("with SEALTRAIL_ADMIN_KEY set no key is generated and that key works", async () => {
    const dataDir = join(dir.path, "env-key");
    const key = "e2e-env-admin-key-0123456789";
    const server = await start({ dataDir, adminKey: key });
    try {
      assert.deepEqual(keysIn(server.output()), [], server.output());
      const created = await post(server.url, "app", key, events("env", 1)[0]);
      assert.equal(created.status, 201, await created.text());
      assert.equal((await post(server.url, "app", "not-the-key", events("env", 1)[0])).status, 401);
      assert.equal((await get(server.url, "/v1/logs", key)).status, 200);
    } finally {
      assert.equal(await stop(server), 0);
    }
  });

  test("a first start that fails (port in use) does not lose the admin key: it is shown as soon as it exists", async () => {
    const dataDir = join(dir.path, "port-in-use");
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, "127.0.0.1", done));
    let shown: string[] = [];
    try {
      const { port } = blocker.address() as { port: number };
      const { serveArgs } = await storeFor(dataDir);
      const failed = await runCli(["serve", "--data", dataDir, ...serveArgs, "--host", "127.0.0.1", "--port", String(port)]);
      assert.equal(failed.code, 2, `${failed.stdout}${failed.stderr}`);
      assert.match(failed.stderr, /EADDRINUSE/);
      shown = keysIn(failed.stdout);
      assert.equal(shown.length, 1, "the start that generated the key showed it before failing");
    } finally {
      await new Promise((done) => blocker.close(done));
    }
    const server = await start({ dataDir });
    try {
      assert.deepEqual(keysIn(server.output()), [], "the key is shown once, not again");
      assert.equal((await get(server.url, "/v1/logs", shown[0])).status, 200, "the key shown by the failed start works");
    } finally {
      assert.equal(await stop(server), 0);
    }
  });

  test("a signing key file readable by others makes serve refuse and name chmod", {
    skip: onPostgres && "store-independent (the key is read before any store opens): runs in cli.test.ts",
  }, async () => {
    const dataDir = join(dir.path, "exposed-key");
    const key = "e2e-exposed-admin-key-0123456789";
    const first = await start({ dataDir, adminKey: key });
    assert.equal((await get(first.url, "/healthz")).status, 200);
    assert.equal(await stop(first), 0);
    const keyPath = join(dataDir, "signing-key");
    chmodSync(keyPath, 0o644);
    const refusal = await startRefused({ dataDir, adminKey: key });
    assert.match(refusal, /server exited with 2 before listening/);
    assert.match(refusal, new RegExp(`chmod 600 ${keyPath}`));
    chmodSync(keyPath, 0o600);
    const fixed = await start({ dataDir, adminKey: key });
    assert.equal((await get(fixed.url, "/healthz")).status, 200, "starts again once the mode is fixed");
    assert.equal(await stop(fixed), 0);
  });

  test("a second server on a data dir in use is refused by the lock", {
    skip: onPostgres && "SQLite only: on PostgreSQL instances share the database by design (postgres-cluster.test.ts runs three)",
  }, async () => {
    const dataDir = join(dir.path, "locked");
    const key = "e2e-lock-admin-key-0123456789";
    const first = await start({ dataDir, adminKey: key });
    try {
      const refusal = await startRefused({ dataDir, adminKey: key });
      assert.match(refusal, /server exited with 2 before listening/);
      assert.match(refusal, new RegExp(`another Sealtrail server \\(pid ${first.pid}\\) is using`));
      assert.equal(readFileSync(join(dataDir, "server.lock"), "utf8"), String(first.pid), "the refused server left the lock alone");
      assert.equal((await get(first.url, "/healthz")).status, 200, "the first server keeps running");
    } finally {
      assert.equal(await stop(first), 0);
    }
    assert.equal(existsSync(join(dataDir, "server.lock")), false, "a clean shutdown releases the lock");
  });

  test("SIGTERM as soon as the server says it is listening still shuts down cleanly", async () => {
    // Supervisors send SIGTERM whenever they like; readiness is the "listening on" line.
    const dataDir = join(dir.path, "early-sigterm");
    const key = "e2e-early-admin-key-0123456789";
    const codes: (number | null)[] = [];
    for (let attempt = 0; attempt < 5; attempt++) codes.push(await stop(await start({ dataDir, adminKey: key })));
    assert.deepEqual(codes, [0, 0, 0, 0, 0], "exit codes (null: killed by the signal, without flushing or releasing the lock)");
    assert.equal(existsSync(join(dataDir, "server.lock")), false, "the lock is released");
  });

  test("SIGTERM exits 0 after signing a checkpoint over everything appended", async (t) => {
    const dataDir = join(dir.path, "sigterm");
    const key = "e2e-sigterm-admin-key-0123456789";
    const server = await start({ dataDir, adminKey: key });
    let appended = 0;
    try {
      assert.equal((await post(server.url, "app", key, { events: events("first", 10) })).status, 201);
      appended += 10;
      // The first checkpoint follows at once; later ones wait for the checkpoint interval.
      for (let waited = 0; (await logInfo(server.url, "app", key)).treeSize < appended; waited += 20) {
        assert.ok(waited < 5_000, "no first checkpoint within 5 s");
        await sleep(20);
      }
      for (let batch = 0; batch < 3; batch++) {
        assert.equal((await post(server.url, "app", key, { events: events(`more${batch}`, 100) })).status, 201);
        appended += 100;
      }
      // On PostgreSQL an instance's view follows the integrator once per checkpoint (docs/deployment.md).
      let before = await logInfo(server.url, "app", key);
      for (let waited = 0; before.integratedSize < appended; waited += 20) {
        assert.ok(waited < 5_000, `integratedSize ${before.integratedSize} did not reach ${appended} within 5 s`);
        await sleep(20);
        before = await logInfo(server.url, "app", key);
      }
      assert.equal(before.integratedSize, appended);
      t.diagnostic(`at SIGTERM: ${before.integratedSize} appended, the latest checkpoint covers ${before.treeSize}`);
    } finally {
      assert.equal(await stop(server), 0, "SIGTERM exits 0");
    }
    assert.match(server.output(), /SIGTERM: flushing and closing/);

    const restarted = await start({ dataDir, adminKey: key });
    try {
      // No waiting: the checkpoint read at start-up must already cover every appended event.
      const info = await logInfo(restarted.url, "app", key);
      assert.equal(info.treeSize, appended);
      assert.equal(info.integratedSize, appended);
      const checkpoint = await (await get(restarted.url, "/logs/app/checkpoint", key)).text();
      assert.equal(checkpoint.split("\n")[1], String(appended));
    } finally {
      assert.equal(await stop(restarted), 0);
    }
  });
});

describe("sealtrail verify and keys: usage, errors and help", {
  timeout: 30_000,
  skip: onPostgres && "no store is opened: these run once, in cli.test.ts",
}, () => {
  test("verify without --url or --data is a usage error (exit 2) that says what to give", async () => {
    const result = await runCli(["verify"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /give --url URL --log NAME, or --data DIR, or --store postgres:\/\//);
  });

  test("verify and keys --store: usage errors (exit 2) that say what to give", async () => {
    const cases: [string[], RegExp][] = [
      [["verify", "--store", "mysql://x"], /--store must be a postgres:\/\/ URL/],
      [["verify", "--url", "http://127.0.0.1:7070", "--log", "acme", "--store", "postgres://x/y"], /either --url or --store, not both/],
      [["verify", "--store", "postgres://127.0.0.1:1/x"], /add --data DIR \(its signing-key\) or set SEALTRAIL_SIGNING_KEY/],
      [["keys", "--url", "http://127.0.0.1:7070", "--log", "acme", "--store", "postgres://x/y"], /either --url or --store, not both/],
      [["keys", "create", "--scope", "read", "--store", "postgres://127.0.0.1:1/x"], /with --store, give --data DIR too/],
      [["keys", "list", "--store", "sqlite:x"], /--store must be a postgres:\/\/ URL/],
      [["query", "", "--log", "acme", "--url", "http://127.0.0.1:7070", "--store", "postgres://x/y"], /either --url or --store/],
      [
        ["keys", "create", "--scope", "read", "--store", "postgres://127.0.0.1:1/x", "--data", join(dir.path, "absent")],
        /no data directory .*absent: give the one the server instances use/,
      ],
      [["erase", "--subject", "u_1", "--store", "postgres://x/y"], /--store is not supported here: on PostgreSQL use --url/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args, { SEALTRAIL_SIGNING_KEY: "" });
      assert.equal(result.code, 2, `sealtrail ${args.join(" ")}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, message, args.join(" "));
    }
  });

  test("verify --store on a server that is down exits 2 and names it without the password", async () => {
    const port = await unusedPort();
    const result = await runCli(["verify", "--store", `postgres://app:hunter2@127.0.0.1:${port}/audit`, "--data", dir.path]);
    assert.equal(result.code, 2, `${result.stdout}${result.stderr}`);
    assert.match(result.stderr, /ECONNREFUSED/);
    assert.doesNotMatch(result.stderr, /hunter2/);
  });

  test("verify --url without --log is a usage error (exit 2)", async () => {
    const result = await runCli(["verify", "--url", "http://127.0.0.1:7070"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--log is required with --url/);
  });

  test("verify with both --url and --data is a usage error (exit 2)", async () => {
    const result = await runCli(["verify", "--url", "http://127.0.0.1:7070", "--log", "acme", "--data", dir.path]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /either --url or --data, not both/);
  });

  test("verify --data on a directory without a database is a usage error (exit 2)", async () => {
    const result = await runCli(["verify", "--data", join(dir.path, "nothing-here")]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /no Sealtrail database in/);
  });

  test("serve with an impossible port is a usage error (exit 2)", async () => {
    const result = await runCli(["serve", "--data", join(dir.path, "never"), "--port", "70000"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--port must be 0-65535, got 70000/);
  });

  test("verify --url on a server that is down exits 3", async () => {
    const port = await unusedPort();
    const result = await runCli(["verify", "--url", `http://127.0.0.1:${port}`, "--log", "acme", "--key", "k"]);
    assert.equal(result.code, 3, `${result.stdout}${result.stderr}`);
    assert.match(result.stderr, /ECONNREFUSED/);
  });

  test("--help works for the program and each command and lists the options", async () => {
    const expected: [string[], string[]][] = [
      [["--help"], ["serve", "verify", "keys"]],
      [
        ["serve", "--help"],
        ["--data", "--port", "--host", "--origin-prefix", "--demo", "--public-tree", "--access-log"],
      ],
      [
        ["verify", "--help"],
        ["--url", "--data", "--store", "--log", "--key", "--verifier-key", "--state", "--tiles-only", "--samples", "--json"],
      ],
      [
        ["keys", "--help"],
        ["--data", "--store", "--url", "--log", "--key"],
      ],
    ];
    for (const [args, words] of expected) {
      const result = await runCli(args);
      assert.equal(result.code, 0, `sealtrail ${args.join(" ")}: ${result.stderr}`);
      const text = stripVTControlCharacters(result.stdout);
      for (const word of words) assert.ok(text.includes(word), `sealtrail ${args.join(" ")} lists ${word}:\n${text}`);
    }
  });
});
