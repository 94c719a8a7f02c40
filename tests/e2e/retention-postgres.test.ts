// Retention and legal hold (issue 8, part 2) on `sealtrail serve --store postgres://…` (issue 5),
// deployed as docs/deployment.md says: the owner migrates, the server runs as the least-privilege
// app role with the prune grants. A whole-log hold blocks the prune; with a query hold instead,
// the server's own periodic job prunes the other 90 %; the database holds nothing of them but the
// ledger row; pruned ranges answer 410; the independent tiles audit and proofs against the
// checkpoint published before the prune still verify.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { createPostgresStore, pruneRoleGrants } from "../../packages/store-postgres/src/index.ts";
import { appRoleGrants } from "../../packages/store-postgres/src/schema.ts";
import { startTestCluster, type TestCluster } from "../../packages/store-postgres/src/test-cluster.ts";
import { auditLog, decodeBase64, type TrustedCheckpoint, verifyInclusion } from "../support/independent-auditor.ts";
import { retentionEvent } from "../support/retention-events.ts";
import { type ServerProcess, startServer, tempDir } from "../support/server-process.ts";

const ADMIN = "e2e-pg-retention-admin-key-0123456789";
const LOG = "retained";
const dir = tempDir("sealtrail-pg-retention-");
let cluster: TestCluster | undefined;
let ownerUrl = "";
let server: ServerProcess | undefined;

before(async () => {
  cluster = await startTestCluster();
  ownerUrl = await cluster.createDatabase();
  await (await createPostgresStore({ connectionString: ownerUrl, poolSize: 1 })).close();
  const database = new URL(ownerUrl).pathname.slice(1);
  cluster.psql(database, `CREATE ROLE app_${database} LOGIN`);
  cluster.psql(database, appRoleGrants(`app_${database}`) + pruneRoleGrants(`app_${database}`));
  server = await startServer({
    dataDir: join(dir.path, "data"),
    adminKey: ADMIN,
    args: ["--store", cluster.url(database, `app_${database}`), "--retention-interval", "1"],
  });
});

after(async () => {
  await server?.stop();
  await cluster?.stop();
  dir.remove();
});

async function json<T>(path: string, init: { method?: string; body?: unknown } = {}, status = 200): Promise<T> {
  assert.ok(server, "the server did not start");
  const response = await fetch(`${server.url}${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${ADMIN}`, ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  assert.equal(response.status, status, `${init.method ?? "GET"} ${path}: ${text}`);
  return (text === "" ? undefined : JSON.parse(text)) as T;
}

const event = retentionEvent;

let published: TrustedCheckpoint | undefined;

test("a whole-log hold blocks pruning; with a query hold instead, the server's own job prunes the other 90 %", async () => {
  for (let i = 0; i < 1000; i += 500) {
    const wait = i + 500 >= 1000 ? "?wait=checkpoint" : "";
    await json(
      `/v1/logs/${LOG}/events${wait}`,
      { method: "POST", body: { events: Array.from({ length: 500 }, (_, j) => event(i + j)) } },
      201,
    );
  }
  published = (await auditLog({ url: (server as ServerProcess).url, log: LOG, key: ADMIN })).checkpoint;
  assert.equal(published.treeSize, 1000);
  const whole = await json<{ id: string }>("/v1/legal-holds", { method: "POST", body: { log: LOG, reason: "litigation 2026-17" } }, 201);
  // Every event is older than a period of ~0.1 ms: due at once, but held.
  await json(`/v1/logs/${LOG}/retention`, { method: "PUT", body: { days: 0.000000001 } });
  const blocked = await json<{ results: { entries: number }[] }>("/v1/prunes", { method: "POST", body: { log: LOG } });
  assert.equal(blocked.results[0]?.entries, 0);

  await json("/v1/legal-holds", { method: "POST", body: { log: LOG, q: "actor:u_matter", reason: "matter 9" } }, 201);
  await json(`/v1/legal-holds/${whole.id}`, { method: "DELETE" }, 204);
  // The periodic job (every second here) does the rest: no prune is asked for from now on.
  let pruned: { start: number; end: number }[] = [];
  for (let waited = 0; pruned.length === 0 && waited < 60; waited++) {
    await sleep(500);
    pruned = (await json<{ pruned: { start: number; end: number }[] }>(`/v1/logs/${LOG}/retention`)).pruned;
  }
  assert.deepEqual(
    pruned.map((r) => [r.start, r.end]),
    [[0, 900]],
  );
});

test("PostgreSQL keeps nothing of the pruned events but the ledger row: no entry, no query index row", async () => {
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT (SELECT count(*)::int FROM entries WHERE log_id = l.id) AS entries, (SELECT count(*)::int FROM events WHERE log_id = l.id) AS indexed,
              (SELECT min(idx)::int FROM entries WHERE log_id = l.id) AS first,
              (SELECT json_agg(json_build_array(start_idx, end_idx)) FROM pruned_ranges WHERE log_id = l.id) AS ranges
       FROM logs l WHERE l.name = $1`,
      [LOG],
    );
    assert.deepEqual(rows[0], { entries: 100, indexed: 100, first: 900, ranges: [[0, 900]] });
  } finally {
    await client.end();
  }
});

test("pruned ranges answer 410 Gone; the tiles audit and proofs against the checkpoint published before the prune verify", async () => {
  const url = (server as ServerProcess).url;
  const gone = await fetch(`${url}/logs/${LOG}/tile/entries/000`, { headers: { authorization: `Bearer ${ADMIN}` } });
  assert.equal(gone.status, 410);
  assert.equal(((await gone.json()) as { code: string }).code, "entries_pruned");
  const page = await json<{ events: unknown[]; pruned: { start: number; end: number }[] }>(`/v1/logs/${LOG}/events?q=actor:u_3`);
  assert.deepEqual(page.events, []);
  assert.equal(page.pruned.length, 1);
  assert.equal((await json<{ index: number }>(`/v1/logs/${LOG}/events/evt-r-950`)).index, 950);

  const cp = published as TrustedCheckpoint;
  const report = await auditLog({ url, log: LOG, key: ADMIN, previous: cp });
  assert.deepEqual(report.prunedBundles, [0, 1, 2, 3]);
  for (const index of [5, 950]) {
    const proof = await json<{ leafHash: string; hashes: string[] }>(
      `/v1/logs/${LOG}/proofs/inclusion?index=${index}&treeSize=${cp.treeSize}`,
    );
    const hashes = proof.hashes.map((h, i) => decodeBase64(h, `hash ${i}`));
    assert.ok(verifyInclusion(index, cp.treeSize, decodeBase64(proof.leafHash, "leaf"), hashes, cp.rootHash), `inclusion of ${index}`);
  }
  const system = await json<{ events: { event: { action: string } }[] }>(
    `/v1/logs/sealtrail-system/events?q=${encodeURIComponent("action:retention.set action:legal_hold.placed action:legal_hold.released action:log.pruned")}&limit=100`,
  );
  assert.deepEqual(system.events.map((e) => e.event.action).sort(), [
    "legal_hold.placed",
    "legal_hold.placed",
    "legal_hold.released",
    "log.pruned",
    "retention.set",
  ]);
});
