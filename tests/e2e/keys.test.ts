// `sealtrail keys create|list|revoke` as an operator uses them: against a running server with an
// admin key (flags or SEALTRAIL_URL / SEALTRAIL_KEY), and offline on the data directory while no
// server runs. Every action lands in the system log `sealtrail-system`, which still verifies.
// keys-postgres.test.ts runs it on `serve --store postgres://…`, where the offline commands take
// --store beside --data (the keys live in the database; the data directory holds the signing key).
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { stripVTControlCharacters } from "node:util";
import { runCli, type ServerProcess, startServer, tempDir } from "../support/server-process.ts";
import { onPostgres, storeUnderTest, type TestStore } from "../support/store-under-test.ts";

const ADMIN = "e2e-admin-key-0123456789abcdefghijklmnop";
const stores = storeUnderTest();
const dir = tempDir("sealtrail-keys-");
const dataDir = join(dir.path, "data");
let store: TestStore;
/** Where the commands that work with no server find the keys: --data DIR, and --store URL on PostgreSQL. */
let offline: readonly string[] = [];
const running = new Set<ServerProcess>();

before(async () => {
  store = await stores.create(dataDir);
  offline = store.offlineArgs;
});

async function start(): Promise<ServerProcess> {
  const server = await startServer({ dataDir, adminKey: ADMIN, args: [...store.serveArgs] });
  running.add(server);
  return server;
}

async function stop(server: ServerProcess): Promise<void> {
  running.delete(server);
  assert.equal(await server.stop(), 0);
}

after(async () => {
  for (const server of running) await server.kill9();
  dir.remove();
});

function request(url: string, path: string, key: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...(init.headers ?? {}) },
    signal: AbortSignal.timeout(10_000),
  });
}

async function seed(url: string, log: string): Promise<void> {
  const response = await request(url, `/v1/logs/${log}/events?wait=checkpoint`, ADMIN, {
    method: "POST",
    body: JSON.stringify({ action: "document.shared", occurredAt: "2026-11-27T12:00:00.000Z", actor: { type: "user", id: "u_1" } }),
  });
  assert.equal(response.status, 201);
}

interface KeyJson {
  id: string;
  key?: string;
  scope: string;
  logs: string[];
  label: string;
  revokedAt: string | null;
}

/** The system log's leaves, read through the entry-bundle route (uint16 length + leaf, C2SP). */
async function systemLeaves(url: string): Promise<string[]> {
  const info = (await (await request(url, "/v1/logs/sealtrail-system", ADMIN)).json()) as { treeSize: number };
  const leaves: string[] = [];
  for (let start = 0; start < info.treeSize; start += 256) {
    const width = Math.min(256, info.treeSize - start);
    const index = String(start / 256).padStart(3, "0");
    assert.ok(start < 256 * 1000, "test reads small logs only");
    const response = await request(url, `/logs/sealtrail-system/tile/entries/${index}${width < 256 ? `.p/${width}` : ""}`, ADMIN);
    assert.equal(response.status, 200);
    const bytes = new Uint8Array(await response.arrayBuffer());
    for (let at = 0; at < bytes.length; ) {
      const length = ((bytes[at] as number) << 8) | (bytes[at + 1] as number);
      leaves.push(new TextDecoder().decode(bytes.subarray(at + 2, at + 2 + length)));
      at += 2 + length;
    }
  }
  return leaves;
}

describe("sealtrail keys against a running server", { timeout: 60_000 }, () => {
  let server: ServerProcess;
  const shown: string[] = [];
  let readKey: KeyJson;

  test("create prints the new key once, on stdout alone", async () => {
    server = await start();
    await seed(server.url, "acme");
    await seed(server.url, "globex");
    const result = await runCli([
      "keys",
      "create",
      "--scope",
      "read",
      "--log",
      "acme",
      "--label",
      "e2e reader",
      "--url",
      server.url,
      "--key",
      ADMIN,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const key = result.stdout.trim();
    assert.match(key, /^stk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    assert.match(result.stderr, /created read key [a-z0-9]{12} for log acme; it is shown only now/);
    assert.equal((await request(server.url, "/v1/logs/acme", key)).status, 200);
    assert.equal((await request(server.url, "/v1/logs/globex", key)).status, 403);
    shown.push(key);
  });

  test("create --json takes the server and key from SEALTRAIL_URL and SEALTRAIL_KEY, and several --log", async () => {
    const result = await runCli(["keys", "create", "--scope", "ingest", "--log", "acme", "--log", "globex", "--json"], {
      SEALTRAIL_URL: server.url,
      SEALTRAIL_KEY: ADMIN,
    });
    assert.equal(result.code, 0, result.stderr);
    const created = JSON.parse(result.stdout) as KeyJson;
    assert.deepEqual([created.scope, created.logs, created.label, created.revokedAt], ["ingest", ["acme", "globex"], "", null]);
    shown.push(created.key as string);
    readKey = JSON.parse(
      (await runCli(["keys", "create", "--scope", "read", "--json", "--url", server.url, "--key", ADMIN])).stdout,
    ) as KeyJson;
    shown.push(readKey.key as string);
  });

  test("list shows every key without a secret; --json too", async () => {
    const plain = await runCli(["keys", "list", "--url", server.url, "--key", ADMIN]);
    assert.equal(plain.code, 0, plain.stderr);
    const line = plain.stdout.split("\n").find((l) => l.includes("e2e reader"));
    assert.match(line ?? "", /^[a-z0-9]{12}\tread\tacme\t\S+\tactive\te2e reader$/);
    assert.ok(plain.stdout.includes(`${readKey.id}\tread\t*\t`), "every log shows as *");
    const listed = JSON.parse((await runCli(["keys", "list", "--json", "--url", server.url, "--key", ADMIN])).stdout) as {
      keys: KeyJson[];
    };
    assert.equal(listed.keys.length, 3);
    for (const secret of shown) {
      assert.ok(!plain.stdout.includes(secret.slice(17)));
      assert.ok(!JSON.stringify(listed).includes(secret.slice(17)));
    }
  });

  test("revoke ID refuses the key from its next request on", async () => {
    assert.equal((await request(server.url, "/v1/logs/acme", readKey.key as string)).status, 200);
    const result = await runCli(["keys", "revoke", readKey.id, "--url", server.url, "--key", ADMIN]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), `revoked ${readKey.id}`);
    assert.equal((await request(server.url, "/v1/logs/acme", readKey.key as string)).status, 401);
    const listed = await runCli(["keys", "list", "--url", server.url, "--key", ADMIN]);
    assert.match(listed.stdout, new RegExp(`^${readKey.id}\\tread\\t\\*\\t\\S+\\trevoked \\S+\\t$`, "m"));
  });

  test("explains refusals and usage errors, with exit 3 (refused) or 2 (usage)", async () => {
    const cases: [string[], number, RegExp][] = [
      [
        ["keys", "create", "--scope", "owner", "--url", server.url, "--key", ADMIN],
        2,
        /422 invalid_key_request.*\n {2}\/scope: must be one of ingest, read, admin/s,
      ],
      [["keys", "create", "--scope", "admin", "--url", server.url, "--key", shown[0] as string], 3, /403 forbidden/],
      [["keys", "list", "--url", server.url, "--key", "stk_wrong"], 3, /401 invalid_credentials/],
      [["keys", "revoke", "abcdefghijkl", "--url", server.url, "--key", ADMIN], 2, /404 key_not_found/],
      [["keys", "revoke", "env-admin", "--url", server.url, "--key", ADMIN], 2, /key_not_revocable/],
      [["keys", "revoke", "--url", server.url, "--key", ADMIN], 2, /give the key id/],
      [["keys", "create", "--url", server.url, "--key", ADMIN], 2, /--scope is required/],
      [["keys", "list"], 2, /give --url URL \(or set SEALTRAIL_URL\)/],
      [["keys", "list", "--url", server.url], 2, /admin key is required/],
      [["keys", "list", "--url", server.url, "--key", ADMIN, "--data", dataDir], 2, /either --url or --data/],
    ];
    for (const [args, code, message] of cases) {
      const result = await runCli(args, { SEALTRAIL_URL: "", SEALTRAIL_KEY: "" });
      assert.equal(result.code, code, `sealtrail ${args.join(" ")}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, message, args.join(" "));
    }
  });

  test("plain `keys` still prints verifier keys, and the subcommands print nothing else", async () => {
    const verifier = await runCli(["keys", "--url", server.url, "--log", "acme", "--key", ADMIN]);
    assert.equal(verifier.code, 0, verifier.stderr);
    assert.match(verifier.stdout.trim(), /^sealtrail\.local\/acme\+[0-9a-f]{8}\+\S+$/);
    const create = await runCli(["keys", "create", "--scope", "read", "--log", "acme", "--url", server.url, "--key", ADMIN]);
    assert.equal(create.stdout.trim().split("\n").length, 1, create.stdout);
    shown.push(create.stdout.trim());
    const published = await runCli(["keys", ...offline, "--log", "acme"]);
    assert.equal(published.stdout.trim(), verifier.stdout.trim());
  });

  test("--data refuses to write while the server runs (SQLite), and lists beside it", async () => {
    // On PostgreSQL instances share the database, and `keys create --store` joins them as one more.
    if (!onPostgres) {
      const refused = await runCli(["keys", "create", "--scope", "read", "--data", dataDir]);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /another Sealtrail server \(pid \d+\) is using .*: manage keys through it with --url/);
    }
    const listed = await runCli(["keys", "list", ...offline]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stdout.trim().split("\n").length, 4);
  });

  test("the system log holds every action with its actor, and no secret", async () => {
    const leaves = await systemLeaves(server.url);
    const events = leaves.map((l) => JSON.parse(l) as { action: string; actor: { type: string; id: string }; targets: { id: string }[] });
    assert.deepEqual(
      events.map((e) => e.action),
      ["key.created", "key.created", "key.created", "key.revoked", "key.created"],
    );
    for (const e of events) assert.deepEqual(e.actor, { type: "api_key", id: "env-admin" });
    assert.equal(events[3]?.targets[0]?.id, readKey.id);
    const text = leaves.join("\n");
    for (const secret of [...shown, ADMIN]) assert.ok(!text.includes(secret.slice(17)), "a secret is in the system log");
    await stop(server);
  });
});

describe("sealtrail keys --data, offline", { timeout: 60_000 }, () => {
  let offlineKey: KeyJson;
  let revokedId = "";

  test("creates and revokes keys with no server running, as the local operator", async () => {
    const created = await runCli(["keys", "create", "--scope", "read", "--log", "globex", "--label", "offline", "--json", ...offline]);
    assert.equal(created.code, 0, created.stderr);
    offlineKey = JSON.parse(created.stdout) as KeyJson;
    assert.deepEqual(offlineKey.logs, ["globex"]);
    const listed = JSON.parse((await runCli(["keys", "list", "--json", ...offline])).stdout) as { keys: KeyJson[] };
    const victim = listed.keys.find((k) => k.scope === "ingest" && !k.revokedAt);
    assert.ok(victim);
    revokedId = victim.id;
    const revoked = await runCli(["keys", "revoke", revokedId, ...offline]);
    assert.equal(revoked.code, 0, revoked.stderr);
    const missing = await runCli(["keys", "revoke", "abcdefghijkl", ...offline]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /404 key_not_found/);
    const nowhere = onPostgres
      ? await runCli(["keys", "list", "--store", (store.url as string).replace(/\/[^/]+$/, "/no_such_database")])
      : await runCli(["keys", "list", "--data", join(dir.path, "nothing")]);
    assert.equal(nowhere.code, 2);
    assert.match(nowhere.stderr, onPostgres ? /database "no_such_database" does not exist/ : /no Sealtrail database/);
  });

  test("the server then honours them, and every log (the system log too) verifies", async () => {
    const verified = await runCli(["verify", ...offline]);
    assert.equal(verified.code, 0, `${verified.stdout}${verified.stderr}`);
    assert.match(verified.stdout, /OK {3}sealtrail-system: 7 entries/);
    const server = await start();
    try {
      assert.equal((await request(server.url, "/v1/logs/globex", offlineKey.key as string)).status, 200);
      const events = (await systemLeaves(server.url)).map(
        (l) =>
          JSON.parse(l) as { action: string; actor: Record<string, string>; context?: Record<string, string>; targets: { id: string }[] },
      );
      const offline = events.slice(-2);
      assert.deepEqual(
        offline.map((e) => [e.action, e.targets[0]?.id]),
        [
          ["key.created", offlineKey.id],
          ["key.revoked", revokedId],
        ],
      );
      for (const e of offline) {
        assert.equal(e.actor.type, "operator");
        // The leaf holds personal values encrypted (docs/personal-data.md); the event API reveals them.
        assert.match(e.actor.name ?? "", /^sealtrail-enc:1:/);
        const id = (e as unknown as { id: string }).id;
        const revealed = (await (await request(server.url, `/v1/logs/sealtrail-system/events/${id}`, ADMIN)).json()) as {
          event: { actor: Record<string, string>; context?: Record<string, string> };
        };
        assert.equal(revealed.event.actor.name, "sealtrail keys --data");
        assert.deepEqual(revealed.event.context, { userAgent: "sealtrail-cli (offline --data)" });
      }
    } finally {
      await stop(server);
    }
  });

  test("viewer tokens outlive a restart: their secret is <data>/viewer-token-secret, mode 0600", async (t) => {
    const secretPath = join(dataDir, "viewer-token-secret");
    if (!existsSync(secretPath)) t.todo("serve.ts: load <data>/viewer-token-secret and pass it to the Authenticator (see the report)");
    let server = await start();
    const response = await request(server.url, "/v1/viewer-tokens", ADMIN, { method: "POST", body: JSON.stringify({ log: "acme" }) });
    assert.equal(response.status, 201);
    const { token } = (await response.json()) as { token: string };
    assert.equal((await request(server.url, "/v1/logs/acme", token)).status, 200);
    await stop(server);
    server = await start();
    try {
      assert.equal((await request(server.url, "/v1/logs/acme", token)).status, 200);
      assert.equal((await request(server.url, "/v1/logs/globex", token)).status, 403);
      assert.equal(statSync(secretPath).mode & 0o777, 0o600);
    } finally {
      await stop(server);
    }
  });

  test("--store creates and revokes keys beside a running instance, which honours them at once", {
    skip: !onPostgres && "PostgreSQL only: on SQLite the data-directory lock refuses, as tested above",
  }, async () => {
    const server = await start();
    const signed = async () =>
      ((await (await request(server.url, "/v1/logs/sealtrail-system", ADMIN)).json()) as { treeSize: number }).treeSize;
    try {
      const signedBefore = await signed();
      const created = await runCli(["keys", "create", "--scope", "read", "--log", "acme", "--json", ...offline]);
      assert.equal(created.code, 0, created.stderr);
      const key = JSON.parse(created.stdout) as KeyJson;
      assert.equal((await request(server.url, "/v1/logs/acme", key.key as string)).status, 200);
      const revoked = await runCli(["keys", "revoke", key.id, ...offline]);
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.equal((await request(server.url, "/v1/logs/acme", key.key as string)).status, 401);
      // The running instance sequenced both records into the system log; its next checkpoint covers them.
      for (let waited = 0; (await signed()) < signedBefore + 2; waited += 50) {
        assert.ok(waited < 5_000, "no checkpoint over both records within 5 s");
        await sleep(50);
      }
      const actions = (await systemLeaves(server.url)).slice(-2).map((l) => JSON.parse(l) as { action: string; actor: { type: string } });
      assert.deepEqual(
        actions.map((e) => [e.action, e.actor.type]),
        [
          ["key.created", "operator"],
          ["key.revoked", "operator"],
        ],
      );
    } finally {
      await stop(server);
    }
    const verified = await runCli(["verify", ...offline, "--log", "sealtrail-system"]);
    assert.equal(verified.code, 0, `${verified.stdout}${verified.stderr}`);
    // An auditor given the database and the key from a secret manager needs no data directory.
    const signingKey = readFileSync(join(dataDir, "signing-key"), "utf8").trim();
    const keyOnly = await runCli(["verify", "--store", store.url as string], { SEALTRAIL_SIGNING_KEY: signingKey });
    assert.equal(keyOnly.code, 0, `${keyOnly.stdout}${keyOnly.stderr}`);
    assert.match(keyOnly.stdout, /OK {3}sealtrail-system: \d+ entries/);
  });

  test("help lists the subcommands and their options", async () => {
    const keys = stripVTControlCharacters((await runCli(["keys", "--help"])).stdout);
    for (const word of ["create", "list", "revoke", "--data", "--store", "--url", "--log", "--key"])
      assert.ok(keys.includes(word), `keys --help: ${word}`);
    const create = await runCli(["keys", "create", "--help"]);
    assert.equal(create.code, 0);
    for (const word of ["--scope", "--log", "--label", "--json", "--url", "--key", "--data", "--store"]) {
      assert.ok(stripVTControlCharacters(create.stdout).includes(word), `keys create --help: ${word}`);
    }
  });
});
