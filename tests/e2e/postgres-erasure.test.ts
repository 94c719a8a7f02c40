// Crypto-shredding across a PostgreSQL scale-out (issue 5 with docs/personal-data.md): two
// `sealtrail serve --store postgres://…` instances share the data keys through the database. An
// event with personal data accepted by instance A is shown decrypted by instance B; after
// `sealtrail erase` through B, A shows `[erased]`, and the database's bytes on disk no longer
// hold the key the leaf was sealed under.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { generateSignerKey, parseEnvelope } from "@sealtrail/core";
import { openValue } from "@sealtrail/privacy";
import { startTestCluster, type TestCluster } from "../../packages/store-postgres/src/test-cluster.ts";
import { runCli, type ServerProcess, startServer, tempDir } from "../support/server-process.ts";

const ADMIN_KEY = "e2e-erasure-admin-key-0123456789";
const LOG = "acme";

let cluster: TestCluster;
const dir = tempDir("sealtrail-pg-erasure-");
const servers: ServerProcess[] = [];

before(async () => {
  cluster = await startTestCluster();
});
after(async () => {
  for (const server of servers) await server.stop().catch(() => undefined);
  await cluster?.stop();
  dir.remove();
});

type Shown = { event: { actor: { id: string; name?: string; email?: string }; context?: { ip?: string } } };

function get(server: ServerProcess, path: string): Promise<Response> {
  return fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` }, signal: AbortSignal.timeout(20_000) });
}

/** The event as an instance shows it, once that instance has caught up with the shared log. */
async function shown(server: ServerProcess, id: string): Promise<Shown> {
  for (const deadline = Date.now() + 20_000; ; await sleep(100)) {
    const response = await get(server, `/v1/logs/${LOG}/events/${id}`);
    if (response.status === 200) return (await response.json()) as Shown;
    await response.body?.cancel();
    assert.ok(Date.now() < deadline, `${server.url} did not show ${id} within 20 s (last status ${response.status})`);
  }
}

const holds = (files: readonly Buffer[], key: Buffer): boolean => files.some((bytes) => bytes.indexOf(key) !== -1);

test("two instances share data keys: A's event is revealed by B; erased through B, it is [erased] on A and its key is gone from disk", {
  timeout: 120_000,
}, async () => {
  const url = await cluster.createDatabase();
  const database = new URL(url).pathname.slice(1);
  const signingKey = await generateSignerKey("erasure.test");
  for (const name of ["a", "b"]) {
    servers.push(
      await startServer({
        // Separate data directories, as on separate machines: nothing of the keys is shared there.
        dataDir: join(dir.path, `data-${name}`),
        adminKey: ADMIN_KEY,
        args: ["--store", url, "--pool-size", "2"],
        env: { SEALTRAIL_SIGNING_KEY: signingKey },
      }),
    );
  }
  const [a, b] = servers as [ServerProcess, ServerProcess];

  const posted = await fetch(`${a.url}/v1/logs/${LOG}/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({
      events: [
        {
          id: "evt-ada-1",
          action: "document.shared",
          occurredAt: "2026-11-27T12:00:00.000Z",
          actor: { type: "user", id: "u_42", name: "Ada Lovelace", email: "ada@example.com" },
          targets: [{ type: "document", id: "doc_1" }],
          outcome: "success",
          context: { ip: "203.0.113.9" },
        },
        {
          id: "evt-bo-1",
          action: "document.shared",
          occurredAt: "2026-11-27T12:00:01.000Z",
          actor: { type: "user", id: "u_7", name: "Bo Ek" },
          targets: [{ type: "document", id: "doc_1" }],
          outcome: "success",
        },
      ],
    }),
    signal: AbortSignal.timeout(20_000),
  });
  assert.equal(posted.status, 201, await posted.text());

  const onB = await shown(b, "evt-ada-1");
  assert.equal(onB.event.actor.name, "Ada Lovelace", "B decrypts what A sealed");
  assert.equal(onB.event.actor.email, "ada@example.com");
  assert.equal(onB.event.context?.ip, "203.0.113.9");

  // What a superuser finds in the database: the leaf holds only the envelope; the key is in subject_keys.
  const envelope = cluster
    .psql(
      database,
      "COPY (SELECT convert_from(leaf, 'UTF8')::jsonb #>> '{actor,name}' FROM entries WHERE event_id = 'evt-ada-1') TO STDOUT",
    )
    .trim();
  const kid = parseEnvelope(envelope)?.kid;
  assert.ok(kid, `the stored name is an envelope: ${envelope}`);
  const hex = cluster.psql(database, `COPY (SELECT encode(key, 'hex') FROM subject_keys WHERE kid = '${kid}') TO STDOUT`).trim();
  const key = Buffer.from(hex, "hex");
  assert.equal(key.length, 32);
  assert.equal(
    new TextDecoder().decode(openValue({ kid, key: new Uint8Array(key) }, envelope)),
    '"Ada Lovelace"',
    "the stored key opens the leaf",
  );
  assert.ok(holds(cluster.databaseFiles(database), key), "the scan finds the key on disk before the erasure");

  // `sealtrail erase` goes through the server: here instance B, which never saw the event arrive.
  const erased = await runCli(["erase", "--url", b.url, "--key", ADMIN_KEY, "--subject", "u_42", "--json"]);
  assert.equal(erased.code, 0, erased.stderr);
  assert.equal(JSON.parse(erased.stdout).keysDestroyed, 1);

  const onA = await shown(a, "evt-ada-1");
  assert.equal(onA.event.actor.name, "[erased]", "A no longer shows what was erased through B");
  assert.equal(onA.event.actor.email, "[erased]");
  assert.equal(onA.event.context?.ip, "[erased]");
  assert.equal(onA.event.actor.id, "u_42", "the subject id is not personal data to encrypt");
  assert.equal((await shown(b, "evt-ada-1")).event.actor.name, "[erased]");
  assert.equal((await shown(a, "evt-bo-1")).event.actor.name, "Bo Ek", "another subject stays readable");

  // The raw database no longer allows decryption: no row, and no byte of the key on disk.
  assert.equal(cluster.psql(database, `COPY (SELECT count(*) FROM subject_keys WHERE kid = '${kid}') TO STDOUT`).trim(), "0");
  assert.equal(cluster.psql(database, `COPY (SELECT count(*) FROM subject_key_erasures WHERE kid = '${kid}') TO STDOUT`).trim(), "1");
  assert.ok(!holds(cluster.databaseFiles(database), key), "the erased key is still in the database's files");
});
