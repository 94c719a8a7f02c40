// Durability acceptance test (DESIGN §5): real server processes are killed with SIGKILL while
// concurrent clients are ingesting, then restarted over the same data directory. After every
// crash the log must verify, hold every acknowledged event at exactly its answered index, never
// hold an index or an id twice, and answer a retry of an acknowledged event with its original index.
// crash-postgres.test.ts runs it on `serve --store postgres://…`, restarted against the same database.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { runCli, type ServerProcess, startServer, tempDir } from "../support/server-process.ts";
import { storeUnderTest, type TestStore } from "../support/store-under-test.ts";

const LOG = "crash";
const ADMIN_KEY = "e2e-crash-admin-key-0123456789";
const WORKERS = 8;
const BATCH = 50;
const CYCLES = 4;
const TILE_WIDTH = 256;

type SentEvent = {
  id: string;
  action: string;
  occurredAt: string;
  actor: { type: string; id: string };
  targets: { type: string; id: string }[];
  metadata: { cycle: number; worker: number; seq: number };
};
type Appended = { id: string; index: number; created: boolean };

const stores = storeUnderTest();
const dir = tempDir("sealtrail-crash-");
const dataDir = join(dir.path, "data");
let store: TestStore;
let server: ServerProcess | undefined;
const startOnStore = () => startServer({ dataDir, adminKey: ADMIN_KEY, args: [...store.serveArgs] });

after(async () => {
  await server?.kill9();
  dir.remove();
});

/** Every event ever sent, by id, exactly as sent (retries must resend the same content). */
const sent = new Map<string, SentEvent>();
/** Acknowledged events: id → the index the server answered. */
const acked = new Map<string, number>();
/** index → id, to catch one index answered for two events. */
const ackedIndex = new Map<number, string>();
/** Sent but never answered (the connection died with the server). */
const unanswered = new Set<string>();
/** How many acknowledged events an earlier check already retried. */
let checkedAcks = 0;
/** Contract violations seen inside the concurrent workers, asserted empty afterwards. */
const violations: string[] = [];

function recordAck(result: Appended, expectCreated: boolean): void {
  const earlier = acked.get(result.id);
  if (earlier !== undefined && earlier !== result.index)
    violations.push(`event ${result.id} was answered with index ${earlier}, later with ${result.index}`);
  const holder = ackedIndex.get(result.index);
  if (holder !== undefined && holder !== result.id)
    violations.push(`index ${result.index} was answered for both ${holder} and ${result.id}`);
  if (result.created !== expectCreated) violations.push(`event ${result.id}: created is ${result.created}, expected ${expectCreated}`);
  acked.set(result.id, result.index);
  ackedIndex.set(result.index, result.id);
  unanswered.delete(result.id);
}

function api(url: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(15_000),
  });
}

async function postEvents(url: string, events: SentEvent[]): Promise<{ status: number; results: Appended[]; text: string }> {
  const single = events.length === 1;
  const response = await api(url, `/v1/logs/${LOG}/events`, { method: "POST", body: single ? events[0] : { events } });
  const text = await response.text();
  if (!response.ok) return { status: response.status, results: [], text };
  const body = JSON.parse(text) as Appended & { events?: Appended[] };
  return { status: response.status, results: single ? [body] : (body.events ?? []), text };
}

/** One concurrent client: singles and batches of 50 until told to stop or the server dies. */
async function worker(url: string, cycle: number, workerId: number, control: { stop: boolean; inFlight: number }): Promise<void> {
  for (let seq = 0; !control.stop; ) {
    const count = Math.random() < 0.4 ? 1 : BATCH;
    const events: SentEvent[] = [];
    for (let i = 0; i < count; i++, seq++) {
      const event: SentEvent = {
        id: `c${cycle}-w${workerId}-${seq}`,
        action: "document.shared",
        occurredAt: new Date(Date.UTC(2026, 10, 27, 12, 0, 0) + seq).toISOString(),
        actor: { type: "user", id: `u_${workerId}` },
        targets: [{ type: "document", id: `doc_${seq % 97}` }],
        metadata: { cycle, worker: workerId, seq },
      };
      sent.set(event.id, event);
      unanswered.add(event.id);
      events.push(event);
    }
    control.inFlight++;
    let answer: Awaited<ReturnType<typeof postEvents>>;
    try {
      answer = await postEvents(url, events);
    } catch {
      // The server died with this request in flight: its events stay unacknowledged.
      return;
    } finally {
      control.inFlight--;
    }
    if (answer.status !== 201) {
      violations.push(`POST of ${count} new events answered ${answer.status}: ${answer.text.slice(0, 300)}`);
      return;
    }
    if (answer.results.length !== count) violations.push(`POST of ${count} events answered ${answer.results.length} results`);
    answer.results.forEach((result, i) => {
      if (result.id !== events[i]?.id) violations.push(`result ${i} names ${result.id}, expected ${events[i]?.id}`);
      recordAck(result, true);
    });
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** C2SP tlog-tiles: N in 3-digit groups, all but the last prefixed with `x`. */
function tileIndex(n: number): string {
  const groups: string[] = [];
  let digits = String(n);
  while (digits.length > 3) {
    groups.unshift(digits.slice(-3));
    digits = digits.slice(0, -3);
  }
  groups.unshift(digits.padStart(3, "0"));
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join("/");
}

/** Reads the whole log through the public entry bundles: index → parsed leaf. */
async function readLog(url: string, size: number): Promise<SentEvent[]> {
  const leaves: SentEvent[] = [];
  for (let n = 0; n * TILE_WIDTH < size; n++) {
    const width = Math.min(TILE_WIDTH, size - n * TILE_WIDTH);
    const path = `/logs/${LOG}/tile/entries/${tileIndex(n)}${width < TILE_WIDTH ? `.p/${width}` : ""}`;
    const response = await api(url, path);
    assert.equal(response.status, 200, `GET ${path}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    let offset = 0;
    let entries = 0;
    while (offset < bytes.length) {
      assert.ok(offset + 2 <= bytes.length, `bundle ${n}: truncated length`);
      const length = ((bytes[offset] as number) << 8) | (bytes[offset + 1] as number);
      assert.ok(offset + 2 + length <= bytes.length, `bundle ${n}: truncated entry`);
      leaves.push(JSON.parse(Buffer.from(bytes.subarray(offset + 2, offset + 2 + length)).toString("utf8")) as SentEvent);
      offset += 2 + length;
      entries++;
    }
    assert.equal(entries, width, `bundle ${n} holds ${entries} entries, expected ${width}`);
  }
  return leaves;
}

async function logInfo(url: string): Promise<{ treeSize: number; integratedSize: number }> {
  const response = await api(url, `/v1/logs/${LOG}`);
  assert.equal(response.status, 200);
  return (await response.json()) as { treeSize: number; integratedSize: number };
}

/** Every invariant of DESIGN §5 over the restarted server; retries what was never answered. */
async function checkAfterCrash(url: string, label: string): Promise<{ size: number; committedUnanswered: number }> {
  assert.deepEqual(violations, [], `${label}: violations during ingest`);
  const stored = await store.settledSize(LOG);
  // After restart the engine signs a checkpoint over everything it found without waiting.
  const info = await until(`${label}: a checkpoint over every stored entry`, async () => {
    const i = await logInfo(url);
    return i.treeSize === stored && i.integratedSize === stored ? i : undefined;
  });
  const size = info.treeSize;
  const leaves = await readLog(url, size);
  assert.equal(leaves.length, size);

  const position = new Map<string, number>();
  leaves.forEach((leaf, index) => {
    const twice = position.get(leaf.id);
    assert.equal(twice, undefined, `${label}: event ${leaf.id} is stored at ${twice} and again at ${index}`);
    position.set(leaf.id, index);
    const original = sent.get(leaf.id);
    assert.ok(original, `${label}: index ${index} holds ${leaf.id}, which no client sent`);
    assert.deepEqual(leaf.metadata, original.metadata, `${label}: index ${index} does not hold what was sent`);
  });
  for (const [id, index] of acked) {
    assert.equal(position.get(id), index, `${label}: acknowledged event ${id} must be at its answered index ${index}`);
  }
  // Unanswered events were either committed (once, checked above) or lost before the commit.
  const committedUnanswered = [...unanswered].filter((id) => position.has(id)).length;
  assert.equal(acked.size + committedUnanswered, size, `${label}: the log holds only acknowledged or in-flight events`);

  const [remote, offline] = await Promise.all([
    runCli(["verify", "--url", url, "--log", LOG, "--key", ADMIN_KEY, "--samples", "32"]),
    runCli(["verify", ...store.offlineArgs]),
  ]);
  assert.equal(remote.code, 0, `${label}: verify --url\n${remote.stdout}${remote.stderr}`);
  assert.equal(
    offline.code,
    0,
    `${label}: verify ${store.offlineArgs.join(" ")} beside the running server\n${offline.stdout}${offline.stderr}`,
  );

  // Retrying an acknowledged event (same id, same content) returns the original index: every
  // event acknowledged since the last check, and a sample of older ones.
  const ackedIds = [...acked.keys()].filter((_, i) => i >= checkedAcks || Math.random() < 200 / checkedAcks);
  checkedAcks = acked.size;
  for (let i = 0; i < ackedIds.length; i += 1000) {
    const chunk = ackedIds.slice(i, i + 1000).map((id) => sent.get(id) as SentEvent);
    const answer = await postEvents(url, chunk);
    assert.equal(answer.status, 200, `${label}: retry of acknowledged events: ${answer.text.slice(0, 300)}`);
    answer.results.forEach((result, j) => {
      assert.deepEqual(result, { id: chunk[j]?.id, index: acked.get(chunk[j]?.id as string), created: false });
    });
  }

  // A client retrying what it never saw answered gets each event exactly once.
  const retry = [...unanswered].map((id) => sent.get(id) as SentEvent);
  let next = size;
  for (let i = 0; i < retry.length; i += 1000) {
    const chunk = retry.slice(i, i + 1000);
    const answer = await postEvents(url, chunk);
    assert.ok(answer.status === 200 || answer.status === 201, `${label}: retry of unanswered events: ${answer.text.slice(0, 300)}`);
    answer.results.forEach((result, j) => {
      const id = chunk[j]?.id as string;
      const stored = position.get(id);
      if (stored === undefined) assert.deepEqual(result, { id, index: next++, created: true }, `${label}: retried lost event`);
      else assert.deepEqual(result, { id, index: stored, created: false }, `${label}: retried committed event`);
      recordAck(result, stored === undefined);
    });
  }
  assert.deepEqual(violations, []);
  assert.equal(unanswered.size, 0);
  return { size, committedUnanswered };
}

test("a log killed with SIGKILL mid-ingest keeps every acknowledged event, at its index, exactly once", { timeout: 55_000 }, async (t) => {
  store = await stores.create(dataDir);
  server = await startOnStore();
  let inFlightAtKills = 0;
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const running = server;
    const control = { stop: false, inFlight: 0 };
    const ackedBefore = acked.size;
    const workers = Array.from({ length: WORKERS }, (_, w) => worker(running.url, cycle, w, control));
    // From the second cycle on, audit the database offline while the server is writing to it.
    const concurrentAudit = cycle > 0 ? runCli(["verify", ...store.offlineArgs]) : undefined;
    await sleep(300 + Math.random() * 1200);
    inFlightAtKills += control.inFlight;
    const inFlight = control.inFlight;
    await running.kill9();
    control.stop = true;
    await Promise.all(workers);
    t.diagnostic(
      `cycle ${cycle}: ${acked.size - ackedBefore} events acknowledged, ${inFlight} requests in flight at the kill, ${unanswered.size} events unanswered`,
    );
    if (concurrentAudit) {
      const audit = await concurrentAudit;
      assert.equal(audit.code, 0, `verify ${store.offlineArgs.join(" ")} while the server was ingesting\n${audit.stdout}${audit.stderr}`);
    }

    server = await startOnStore();
    // On PostgreSQL the database coordinates instances (the integrator lease): there is no lock file.
    if (stores.kind === "sqlite") {
      assert.equal(readFileSync(join(dataDir, "server.lock"), "utf8"), String(server.pid), "the restarted server took over the stale lock");
    }
    const found = await checkAfterCrash(server.url, `after crash ${cycle + 1}`);
    t.diagnostic(`  restart ${cycle + 1}: ${found.size} entries, ${found.committedUnanswered} of them committed but never answered`);
  }
  assert.ok(inFlightAtKills > 0, "at least one kill must hit requests in flight");

  const total = acked.size;
  assert.equal(await server.stop(), 0);
  const offline = await runCli(["verify", ...store.offlineArgs, "--log", LOG]);
  assert.equal(offline.code, 0, `verify ${store.offlineArgs.join(" ")} on the stopped server\n${offline.stdout}${offline.stderr}`);
  assert.match(offline.stdout, new RegExp(`OK\\s+${LOG}: ${total} entries`));
  t.diagnostic(`${total} events over ${CYCLES} crashes`);
});
