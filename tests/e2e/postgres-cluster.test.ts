// Scale-out acceptance test (DESIGN §5, issue 5): three `sealtrail serve --store postgres://…`
// processes accept appends to the same logs at once; the integrating one is killed with SIGKILL
// mid-run. Afterwards every acknowledged event is in its log exactly once at its answered index,
// each log passes the independent tiles audit, and the checkpoints signed before the failover
// (by the dead instance) and after it (by its successor) are consistent.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { generateSignerKey, parseSignerKey } from "@sealtrail/core";
import { startTestCluster, type TestCluster } from "../../packages/store-postgres/src/test-cluster.ts";
import {
  auditLog,
  openNote,
  parseCheckpoint,
  parseEntryBundle,
  parseVerifierKey,
  type TrustedCheckpoint,
  tilePath,
} from "../support/independent-auditor.ts";
import { runCli, type ServerProcess, startServer, tempDir } from "../support/server-process.ts";

const LOGS = ["acme", "globex"];
const ADMIN_KEY = "e2e-cluster-admin-key-0123456789";
const TILE_WIDTH = 256;

type Appended = { id: string; index: number; created: boolean };

let cluster: TestCluster;
const dir = tempDir("sealtrail-pg-cluster-");
const servers: ServerProcess[] = [];

before(async () => {
  cluster = await startTestCluster();
});
after(async () => {
  for (const server of servers) await server.kill9().catch(() => undefined);
  await cluster?.stop();
  dir.remove();
});

function api(url: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(20_000),
  });
}

const integrator = (among: readonly ServerProcess[]): ServerProcess | undefined => {
  // The last role line each server printed tells whether it integrates now.
  return among.find((s) => {
    const lines = s.output().match(/cluster: this instance (now integrates|stopped integrating)/g) ?? [];
    return lines.at(-1)?.includes("now integrates");
  });
};

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, seconds = 30): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

test("three instances append concurrently; the integrator is SIGKILLed; nothing acknowledged is lost, duplicated or forked", {
  timeout: 180_000,
}, async () => {
  const url = await cluster.createDatabase();
  const signingKey = await generateSignerKey("cluster.test");
  const signer = await parseSignerKey(signingKey);
  // Each log's checkpoints are signed under its origin as key name (C2SP tlog-checkpoint).
  const verifierKeys = new Map<string, string>();
  for (const log of LOGS) verifierKeys.set(log, (await (signer.withName?.(`cluster.test/${log}`) ?? signer)).verifierKey);
  const verifierOf = (log: string) => parseVerifierKey(verifierKeys.get(log) as string);
  for (let i = 0; i < 3; i++) {
    servers.push(
      await startServer({
        dataDir: join(dir.path, `data-${i}`),
        adminKey: ADMIN_KEY,
        args: ["--store", url, "--pool-size", "4"],
        // The shared signing key: whoever integrates signs with it.
        env: { SEALTRAIL_SIGNING_KEY: signingKey },
      }),
    );
  }
  const first = await until("an integrator", () => integrator(servers));

  const acked = new Map<string, { log: string; index: number }>();
  const violations: string[] = [];
  let counter = 0;
  const control = { stop: false };
  const worker = async (server: ServerProcess, n: number): Promise<void> => {
    while (!control.stop) {
      const log = LOGS[n % LOGS.length] as string;
      const count = 1 + (counter % 20);
      // Half the events carry a client id, half get one from the server.
      const events = Array.from({ length: count }, (_, i) => ({
        ...(i % 2 === 0 ? { id: `w${n}-${counter}-${i}` } : {}),
        action: "document.shared",
        occurredAt: new Date().toISOString(),
        actor: { type: "user", id: `u_${n}` },
        targets: [{ type: "document", id: `doc_${i}` }],
        outcome: "success",
      }));
      counter++;
      let response: Response;
      try {
        response = await api(server.url, `/v1/logs/${log}/events`, { method: "POST", body: { events } });
      } catch {
        // This instance died with the request in flight: not acknowledged.
        return;
      }
      const text = await response.text();
      if (response.status !== 201) {
        violations.push(`${server.url}: POST answered ${response.status}: ${text.slice(0, 200)}`);
        return;
      }
      const results = (JSON.parse(text) as { events: Appended[] }).events;
      for (const result of results) {
        const key = `${log}/${result.id}`;
        const earlier = acked.get(key);
        if (earlier && earlier.index !== result.index) violations.push(`${key} answered ${earlier.index}, then ${result.index}`);
        if (!result.created) violations.push(`${key} answered created: false on its first append`);
        acked.set(key, { log, index: result.index });
      }
    }
  };
  const workers = servers.flatMap((server, s) => [0, 1, 2].map((w) => worker(server, s * 3 + w)));

  await until("some acknowledged events", () => (acked.size >= 300 ? true : undefined));
  // Checkpoints signed before the failover, by the first integrator.
  const before = new Map<string, TrustedCheckpoint>();
  for (const log of LOGS) {
    const text = await until(`a checkpoint of ${log}`, async () => {
      const response = await api(first.url, `/logs/${log}/checkpoint`);
      return response.ok ? response.text() : undefined;
    });
    before.set(log, { ...parseCheckpoint(openNote(text, [verifierOf(log)]).text), note: text });
  }
  await first.kill9();
  const survivors = servers.filter((s) => s !== first);
  const ackedAtKill = acked.size;
  const second = await until("a new integrator", () => integrator(survivors));
  assert.notEqual(second, first);
  // The survivors keep accepting (their workers never stopped) and the new integrator keeps up.
  await until("acknowledgements after the failover", () => (acked.size >= ackedAtKill + 300 ? true : undefined), 60);
  control.stop = true;
  await Promise.all(workers);
  assert.deepEqual(violations, []);

  for (const log of LOGS) {
    const expected = [...acked.values()].filter((a) => a.log === log);
    const size = Math.max(...expected.map((a) => a.index)) + 1;
    // A checkpoint covering every acknowledged event, signed by the new integrator.
    const after = await until(`a checkpoint of ${log} covering ${size}`, async () => {
      const text = await (await api(survivors[0]?.url as string, `/logs/${log}/checkpoint`)).text();
      const checkpoint = parseCheckpoint(openNote(text, [verifierOf(log)]).text);
      return checkpoint.treeSize >= size ? checkpoint : undefined;
    });
    // The independent auditor: every tile and bundle, the root, and consistency with the
    // checkpoint from before the failover (append-only across the change of integrator).
    const report = await auditLog({
      url: survivors[1]?.url as string,
      log,
      key: ADMIN_KEY,
      verifierKey: verifierKeys.get(log) as string,
      previous: before.get(log) as TrustedCheckpoint,
    });
    assert.ok(report.checkpoint.treeSize >= after.treeSize);
    assert.ok(report.consistencyProofs > 0);
    // Every acknowledged event exactly once, at the index it was answered with.
    const ids: string[] = [];
    for (let n = 0; n * TILE_WIDTH < report.checkpoint.treeSize; n++) {
      const width = Math.min(TILE_WIDTH, report.checkpoint.treeSize - n * TILE_WIDTH);
      const response = await api(survivors[0]?.url as string, `/logs/${log}/${tilePath("entries", n, width)}`);
      assert.equal(response.status, 200);
      for (const leaf of parseEntryBundle(new Uint8Array(await response.arrayBuffer())))
        ids.push((JSON.parse(leaf.toString("utf8")) as { id: string }).id);
    }
    assert.equal(new Set(ids).size, ids.length, `${log}: no event twice`);
    for (const [key, { index }] of acked) {
      if (!key.startsWith(`${log}/`)) continue;
      assert.equal(ids[index], key.slice(log.length + 1), `${key} at its acknowledged index ${index}`);
    }
  }
});

test("serve --store refuses what is not a postgres:// URL, a tiny pool, and --read-store alone, as usage errors", async () => {
  const data = join(dir.path, "usage");
  for (const [args, message] of [
    [["--store", "mysql://db/audit"], /--store must be a postgres:\/\/ URL/],
    [["--store", "postgres://db/audit", "--pool-size", "1"], /--pool-size must be an integer of at least 2/],
    [["--read-store", "postgres://replica/audit"], /--read-store needs --store/],
  ] as const) {
    const result = await runCli(["serve", "--data", data, "--port", "0", ...args]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, message);
  }
});

test("serve --store on a database that cannot be reached fails with the address and never the password", async () => {
  const result = await runCli([
    "serve",
    "--data",
    join(dir.path, "unreachable"),
    "--port",
    "0",
    "--store",
    "postgres://app:hunter2@127.0.0.1:1/audit",
  ]);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /postgres: cannot open postgres:\/\/127\.0\.0\.1:1\/audit/);
  assert.doesNotMatch(result.stdout + result.stderr, /hunter2/);
});
