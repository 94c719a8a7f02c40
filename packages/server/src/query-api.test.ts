// The query API over HTTP with a real SQLite store: every answer is compared with a brute-force
// filter over the stored events, using core's reference semantics (`matchesFilter`) as the oracle.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it, mock } from "node:test";
import {
  type AuditEvent,
  fromBase64,
  GROUP_BY,
  matchesFilter,
  openCheckpoint,
  parseQuery,
  parseVerifierKey,
  type QueryFilter,
  seededRandom as random,
  verifyInclusion,
} from "@sealtrail/core";
import { eventOf } from "@sealtrail/engine";
import { createApiKey } from "./keys.js";
import { OPENAPI } from "./openapi.js";
import type { ProblemBody } from "./problem.js";
import { type Harness, json, ORIGIN_PREFIX, startHarness } from "./test-harness.js";

// "acme" and "globex": the harness's acme-scoped keys reach the first only.
const A = "acme";
const B = "globex";

interface Indexed {
  readonly log: string;
  readonly index: number;
  readonly event: AuditEvent;
}

interface Page {
  events: Indexed[];
  nextCursor: string | null;
}

let h: Harness;
/** receivedAt of acme's second half of events is at or after this; of the first half, before it. */
let split: string;

// --- Varied events, reproducibly -------------------------------------------------------------

const ACTIONS = [
  "document.shared",
  "document.deleted",
  "document.viewed",
  "user.login",
  "user.logout",
  "billing.invoice.paid",
  "billing.plan.changed",
];
const ACTORS = [
  { type: "user", id: "u_1", name: "Ada Lovelace", email: "ada@example.com" },
  { type: "user", id: "u_2", name: "Grace Hopper" },
  { type: "user", id: "u_3" },
  { type: "service", id: "svc_backup", name: "Backup Bot" },
  { type: "api_key", id: "key_9" },
];
const TARGETS = [
  { type: "document", id: "doc_1", name: "Quarterly Report" },
  { type: "document", id: "doc_2", name: "Board Minutes" },
  { type: "document", id: "doc_3" },
  { type: "folder", id: "f_1", name: "Finance" },
  { type: "invoice", id: "inv_7" },
  { type: "user", id: "u_2" },
  { type: "document", id: "f_1", name: "Report Draft" },
];
const OUTCOMES = ["success", "success", "success", "failure", "denied"] as const;
const IPS = ["203.0.113.9", "198.51.100.4", "2001:db8::1", undefined];
const DAY = 86_400_000;
const START = Date.parse("2026-11-01T00:00:00.000Z");

function variedEvents(count: number, seed: number): Record<string, unknown>[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  return Array.from({ length: count }, () => {
    const targets = Array.from({ length: Math.floor(next() * 3) }, () => pick(TARGETS));
    const context: Record<string, string> = {};
    const ip = pick(IPS);
    if (ip) context.ip = ip;
    if (next() < 0.7) context.requestId = `req_${Math.floor(next() * 12)}`;
    if (next() < 0.5) context.sessionId = `sess_${Math.floor(next() * 4)}`;
    const metadata: Record<string, unknown> = {};
    if (next() < 0.5) metadata.plan = pick(["pro", "free", "team"]);
    if (next() < 0.3) metadata.seats = pick([3, 10]);
    if (next() < 0.3) metadata.trial = next() < 0.5;
    if (next() < 0.2) metadata.note = pick(["café crème", "cafe noir", "quarterly report sent"]);
    if (next() < 0.1) metadata.nested = { depth: 1 };
    if (next() < 0.1) metadata.nul = null;
    return {
      action: pick(ACTIONS),
      occurredAt: new Date(START + Math.floor(next() * 20 * DAY)).toISOString(),
      actor: pick(ACTORS),
      targets,
      outcome: pick(OUTCOMES),
      ...(Object.keys(context).length > 0 ? { context } : {}),
      ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
    };
  });
}

// --- Helpers -------------------------------------------------------------------------------------

async function stored(log: string): Promise<Indexed[]> {
  const size = await h.engine.integratedSize(log);
  const entries = await h.store.readEntries(log, 0, size);
  return entries.map((entry) => ({ log, index: entry.index, event: eventOf(entry) }));
}

/** The oracle: matching events of a log, newest first. */
async function expected(log: string, filter: QueryFilter): Promise<number[]> {
  return (await stored(log))
    .filter((e) => matchesFilter(e.event, filter))
    .map((e) => e.index)
    .reverse();
}

async function getJson<T>(path: string, key?: string | null): Promise<T> {
  return json<T>(await h.request(path, key === undefined ? {} : { key }));
}

async function problem(path: string, status: number, code: string, key?: string | null): Promise<ProblemBody> {
  const response = await h.request(path, key === undefined ? {} : { key });
  const text = await response.text();
  assert.equal(response.status, status, `${path}: expected ${status} ${code}, got ${response.status}: ${text}`);
  assert.equal(response.headers.get("content-type"), "application/problem+json");
  const body = JSON.parse(text) as ProblemBody;
  assert.equal(body.code, code, text);
  return body;
}

const enc = encodeURIComponent;

/** Every page of a query, following nextCursor. */
async function allPages(path: string, params: string, key?: string): Promise<Indexed[]> {
  const out: Indexed[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 10_000; pages++) {
    const page: Page = await getJson<Page>(`${path}?${params}${cursor ? `&cursor=${cursor}` : ""}`, key);
    out.push(...page.events);
    cursor = page.nextCursor;
    if (!cursor) return out;
  }
  throw new Error("never ending pages");
}

before(async () => {
  h = await startHarness();
  await h.seed(A, variedEvents(150, 1));
  await new Promise((resolve) => setTimeout(resolve, 5));
  split = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 5));
  await h.seed(A, variedEvents(150, 2));
  await h.seed(B, variedEvents(120, 3));
});
after(() => h.close());

// --- Search ----------------------------------------------------------------------------------------

/** One query per qualifier (and negation, repetition, combination); SPLIT stands for a time between the two halves of acme. */
const QUERIES = [
  "",
  "actor:u_1",
  "actor:u_1 actor:u_2",
  "-actor:u_1",
  "actor.type:service",
  "actor.type:user -actor:u_3",
  "action:document.shared",
  "action:document.*",
  "action:billing.*",
  "action:user.login action:user.logout",
  "-action:document.*",
  "action:billing.invoice.paid -outcome:success",
  "target:document/doc_1",
  "target:folder/*",
  "target.type:invoice",
  "target.id:f_1",
  "target.type:invoice target.id:f_1",
  "-target.type:document",
  "outcome:denied",
  "outcome:failure outcome:denied",
  "-outcome:success",
  "ip:203.0.113.9",
  "ip:2001:db8::1",
  "-ip:198.51.100.4",
  "request:req_3",
  "request:req_3 request:req_4",
  "session:sess_2",
  "-session:sess_2",
  "has:meta.plan",
  "has:meta.nothing",
  "has:meta.nested",
  "has:meta.nul",
  "-has:meta.plan",
  "meta.plan:pro",
  "meta.seats:3",
  "meta.trial:true",
  "meta.nul:null",
  "meta.plan:pro has:meta.seats",
  "-meta.plan:free",
  "after:2026-11-10",
  "before:2026-11-05",
  "after:2026-11-03 before:2026-11-04T12:00Z",
  "received-after:SPLIT",
  "received-before:SPLIT",
  "received-after:-1h",
  "received-before:-1h",
  "report",
  '"quarterly report"',
  "café",
  "cafe",
  "ada",
  "example",
  "-report",
  "bot -action:user.*",
  "actor:u_1 action:document.* outcome:success after:2026-11-03 -target.type:folder",
];

const fill = (q: string) => q.replaceAll("SPLIT", split);

describe("GET /v1/logs/{log}/events: each qualifier returns exactly what the reference filter matches", () => {
  for (const template of QUERIES) {
    it(`q=${template || "(empty)"}`, async () => {
      const q = fill(template);
      const filter = parseQuery(q);
      for (const log of [A, B]) {
        const want = await expected(log, filter);
        const byQ = await getJson<Page>(`/v1/logs/${log}/events?limit=1000&q=${enc(q)}`);
        assert.deepEqual(
          byQ.events.map((e) => e.index),
          want,
          `${log}: q=${q}`,
        );
        assert.equal(byQ.nextCursor, null);
        assert.ok(byQ.events.every((e) => e.log === log));
        // The JSON form of the same filter answers the same.
        const byFilter = await getJson<Page>(`/v1/logs/${log}/events?limit=1000&filter=${enc(JSON.stringify(filter))}`);
        assert.deepEqual(byFilter, byQ, `${log}: filter=${JSON.stringify(filter)}`);
        // And so does the count.
        const stats = await getJson<{ total: number }>(`/v1/logs/${log}/stats?q=${enc(q)}`);
        assert.equal(stats.total, want.length, `${log}: stats total for q=${q}`);
      }
    });
  }

  it("the seed is varied enough that most queries match some events but not all", async () => {
    const total = (await stored(A)).length;
    let partial = 0;
    for (const template of QUERIES) {
      const n = (await expected(A, parseQuery(fill(template)))).length;
      if (n > 0 && n < total) partial++;
    }
    assert.ok(partial >= QUERIES.length - 6, `${partial} of ${QUERIES.length} queries select a proper subset`);
  });

  it("returns events as stored, with their log and index", async () => {
    const page = await getJson<Page>(`/v1/logs/${A}/events?limit=5&order=asc`);
    const all = await stored(A);
    assert.deepEqual(page.events, all.slice(0, 5));
  });

  it("refuses q and filter together (400), an unreadable filter (400) and an invalid one (422)", async () => {
    const both = await problem(`/v1/logs/${A}/events?q=actor:u_1&filter=${enc('{"actor":["u_1"]}')}`, 400, "invalid_parameter");
    assert.deepEqual(both.errors, [{ parameter: "filter", detail: "cannot be combined with q; use one or the other" }]);
    await problem(`/v1/logs/${A}/events?q=&filter={}`, 400, "invalid_parameter");
    await problem(`/v1/logs/${A}/stats?q=a&filter={}`, 400, "invalid_parameter");
    await problem(`/v1/logs/${A}/tail?q=a&filter={}`, 400, "invalid_parameter");
    await problem(`/v1/events?q=a&filter={}`, 400, "invalid_parameter");
    const notJson = await problem(`/v1/logs/${A}/events?filter=${enc("{actor:")}`, 400, "invalid_parameter");
    assert.equal(notJson.errors?.[0]?.parameter, "filter");
    const invalid = await problem(`/v1/logs/${A}/events?filter=${enc('{"actor":[],"bogus":1}')}`, 422, "invalid_filter");
    assert.deepEqual(invalid.errors?.map((e) => e.pointer).sort(), ["/actor", "/bogus"]);
  });

  it("refuses an invalid query with its column", async () => {
    const body = await problem(`/v1/logs/${A}/events?q=${enc("actor:u_1 acter:x")}`, 400, "invalid_query");
    assert.equal(body.errors?.[0]?.parameter, "q");
    assert.match(body.detail, /column 11/);
  });

  it("bounds limit to 1..1000, default 50", async () => {
    for (const limit of ["0", "1001", "-1", "abc", "1.5", "99999999999999999999"]) {
      const body = await problem(`/v1/logs/${A}/events?limit=${limit}`, 400, "invalid_parameter");
      assert.equal(body.errors?.[0]?.parameter, "limit");
    }
    assert.equal((await getJson<Page>(`/v1/logs/${A}/events`)).events.length, 50);
    const one = await getJson<Page>(`/v1/logs/${A}/events?limit=1`);
    assert.equal(one.events.length, 1);
    assert.equal(typeof one.nextCursor, "string");
    assert.equal((await getJson<Page>(`/v1/logs/${A}/events?limit=1000`)).events.length, 300);
    await problem(`/v1/logs/${A}/events?order=newest`, 400, "invalid_parameter");
  });
});

// --- Cursors -----------------------------------------------------------------------------------

describe("cursor pagination", () => {
  it("pages desc and asc through every matching event exactly once", async () => {
    const q = "action:document.* -outcome:denied";
    const want = await expected(A, parseQuery(q));
    const desc = await allPages(`/v1/logs/${A}/events`, `limit=7&q=${enc(q)}`);
    assert.deepEqual(
      desc.map((e) => e.index),
      want,
    );
    const asc = await allPages(`/v1/logs/${A}/events`, `limit=7&order=asc&q=${enc(q)}`);
    assert.deepEqual(
      asc.map((e) => e.index),
      [...want].reverse(),
    );
  });

  /** Pages through a query while another writer appends between (and during) page requests. */
  async function pageWhileAppending(log: string, q: string, order: "asc" | "desc", appendingPages: number) {
    const filter = parseQuery(q);
    const before = await expected(log, filter);
    const seen: Indexed[] = [];
    let cursor: string | null = null;
    let pages = 0;
    let seed = 1000 + (order === "asc" ? 1 : 0);
    do {
      const request: Promise<Page> = getJson<Page>(
        `/v1/logs/${log}/events?limit=7&order=${order}&q=${enc(q)}${cursor ? `&cursor=${cursor}` : ""}`,
      );
      // Appended concurrently with the page request, and committed before the next one.
      const append: Promise<Response | undefined> =
        pages < appendingPages ? h.post(log, { events: variedEvents(3, seed++) }) : Promise.resolve(undefined);
      const [page, appended] = await Promise.all([request, append]);
      if (appended) assert.equal(appended.status, 201);
      seen.push(...page.events);
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    const indexes = seen.map((e) => e.index);
    assert.equal(new Set(indexes).size, indexes.length, "an event was returned twice");
    return { before, indexes, pages, after: await expected(log, filter) };
  }

  it("desc: every event that matched when paging began, exactly once, while events are appended", async () => {
    const log = "paging-desc";
    await h.seed(log, variedEvents(200, 10));
    const { before, indexes, pages, after } = await pageWhileAppending(log, "action:document.*", "desc", 1000);
    assert.ok(pages > 5, `paged ${pages} times`);
    assert.ok(after.length > before.length, "events that match were appended meanwhile");
    // Newest first from the first page's top: exactly the matching events at or below it.
    const top = indexes[0] as number;
    assert.deepEqual(
      indexes,
      after.filter((i) => i <= top),
    );
    for (const index of before) assert.ok(indexes.includes(index), `lost ${index}`);
  });

  it("asc: every matching event exactly once, including those appended while paging", async () => {
    const log = "paging-asc";
    await h.seed(log, variedEvents(200, 20));
    const { before, indexes, pages, after } = await pageWhileAppending(log, "action:document.*", "asc", 6);
    assert.ok(pages > 6, `paged ${pages} times`);
    assert.ok(after.length > before.length, "events that match were appended meanwhile");
    assert.deepEqual(indexes, [...after].reverse());
  });

  it("pages across logs (admin) exactly once, newest first by commit", async () => {
    const q = "outcome:denied";
    const filter = parseQuery(q);
    const got = await allPages("/v1/events", `logs=${A},${B}&limit=9&q=${enc(q)}`);
    const keys = got.map((e) => `${e.log}#${e.index}`);
    assert.equal(new Set(keys).size, keys.length);
    const want = [...(await expected(A, filter)).map((i) => `${A}#${i}`), ...(await expected(B, filter)).map((i) => `${B}#${i}`)];
    assert.deepEqual([...keys].sort(), want.sort());
    for (const log of [A, B]) {
      const own = got.filter((e) => e.log === log).map((e) => e.index);
      assert.deepEqual(
        own,
        [...own].sort((x, y) => y - x),
        `${log} newest first`,
      );
    }
    // B was seeded after A: newest first puts every B event before every A event.
    const firstA = got.findIndex((e) => e.log === A);
    assert.ok(got.slice(firstA).every((e) => e.log === A));
  });

  it("refuses a cursor reused with another q, filter, order or log (400 invalid_cursor)", async () => {
    const q = "action:document.*";
    const { nextCursor } = await getJson<Page>(`/v1/logs/${A}/events?limit=3&q=${enc(q)}`);
    assert.ok(nextCursor);
    for (const other of [
      `/v1/logs/${A}/events?limit=3&q=${enc("action:user.*")}&cursor=${nextCursor}`,
      `/v1/logs/${A}/events?limit=3&cursor=${nextCursor}`,
      `/v1/logs/${A}/events?limit=3&order=asc&q=${enc(q)}&cursor=${nextCursor}`,
      `/v1/logs/${A}/events?limit=3&filter=${enc('{"actionPrefix":["user."]}')}&cursor=${nextCursor}`,
      `/v1/logs/${B}/events?limit=3&q=${enc(q)}&cursor=${nextCursor}`,
      `/v1/events?limit=3&q=${enc(q)}&cursor=${nextCursor}`,
    ]) {
      const body = await problem(other, 400, "invalid_cursor");
      assert.deepEqual(
        body.errors?.map((e) => e.parameter),
        ["cursor"],
      );
    }
    // The cursor is bound to the query, not to its spelling or route: the JSON form continues it,
    // and so does the same search through /v1/events?logs=acme.
    const same = await getJson<Page>(`/v1/logs/${A}/events?limit=3&filter=${enc(JSON.stringify(parseQuery(q)))}&cursor=${nextCursor}`);
    const again = await getJson<Page>(`/v1/logs/${A}/events?limit=3&q=${enc(`${q} ${q}`)}&cursor=${nextCursor}`);
    assert.deepEqual(same, again);
    assert.deepEqual(await getJson<Page>(`/v1/events?logs=${A}&limit=3&q=${enc(q)}&cursor=${nextCursor}`), same);
  });

  it("refuses a tampered or forged cursor (400 invalid_cursor)", async () => {
    const { nextCursor } = await getJson<Page>(`/v1/logs/${A}/events?limit=3`);
    assert.ok(nextCursor);
    const decoded = JSON.parse(Buffer.from(nextCursor, "base64url").toString("utf8")) as { v: number; s: number; f: string };
    const forge = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
    const flipped = (decoded.f[0] === "0" ? "1" : "0") + decoded.f.slice(1);
    for (const cursor of [
      "not a cursor",
      `${nextCursor}$`,
      nextCursor.slice(0, -3),
      Buffer.from("hello").toString("base64url"),
      forge({ ...decoded, v: 2 }),
      forge({ ...decoded, f: flipped }),
      forge({ ...decoded, s: String(decoded.s) }),
      forge({ ...decoded, s: 1.5 }),
      forge({ v: 1, s: decoded.s }),
      forge([decoded]),
      "A".repeat(600),
    ]) {
      const body = await problem(`/v1/logs/${A}/events?limit=3&cursor=${enc(cursor)}`, 400, "invalid_cursor");
      assert.deepEqual(
        body.errors?.map((e) => e.parameter),
        ["cursor"],
      );
    }
  });
});

// --- One event -------------------------------------------------------------------------------------

describe("GET /v1/logs/{log}/events/{id}", () => {
  interface WithProof {
    log: string;
    index: number;
    event: AuditEvent;
    leaf: string;
    leafHash: string;
    inclusionProof: { treeSize: number; rootHash: string; hashes: string[] };
    checkpoint: string;
  }

  async function verified(log: string, id: string): Promise<WithProof> {
    const body = await getJson<WithProof>(`/v1/logs/${log}/events/${enc(id)}`);
    const leaf = fromBase64(body.leaf);
    // RFC 6962 §2.1: the leaf hash is SHA-256(0x00 ‖ leaf), computed here with node:crypto.
    const leafHash = new Uint8Array(
      createHash("sha256")
        .update(Buffer.from([0]))
        .update(leaf)
        .digest(),
    );
    assert.deepEqual(leafHash, fromBase64(body.leafHash));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(leaf)), body.event);
    const info = await getJson<{ verifierKey: string }>(`/v1/logs/${log}`);
    const checkpoint = await openCheckpoint(body.checkpoint, {
      verifiers: [parseVerifierKey(info.verifierKey)],
      origin: `${ORIGIN_PREFIX}/${log}`,
    });
    assert.equal(checkpoint.treeSize, body.inclusionProof.treeSize);
    assert.deepEqual(checkpoint.rootHash, fromBase64(body.inclusionProof.rootHash));
    verifyInclusion(body.index, checkpoint.treeSize, leafHash, body.inclusionProof.hashes.map(fromBase64), checkpoint.rootHash);
    return body;
  }

  it("returns the event, its stored leaf bytes and an inclusion proof that verifies against the signed checkpoint", async () => {
    const all = await stored(A);
    for (const item of [all[0], all[1], all[137], all[255], all[256], all.at(-1)] as Indexed[]) {
      const body = await verified(A, item.event.id);
      assert.equal(body.log, A);
      assert.equal(body.index, item.index);
      assert.deepEqual(body.event, item.event);
    }
  });

  it("answers an event appended a moment ago once its checkpoint is signed", async () => {
    const log = "fresh";
    const response = await h.post(log, { ...variedEvents(1, 77)[0], id: "fresh-1" });
    assert.equal(response.status, 201);
    const body = await verified(log, "fresh-1");
    assert.equal(body.index, 0);
  });

  it("is 404 for an unknown id, an id of another log, and an unknown log", async () => {
    await problem(`/v1/logs/${A}/events/no-such-id`, 404, "event_not_found");
    const [inB] = await stored(B);
    await problem(`/v1/logs/${A}/events/${(inB as Indexed).event.id}`, 404, "event_not_found");
    await problem("/v1/logs/nope/events/x", 404, "log_not_found");
  });
});

// --- Stats -------------------------------------------------------------------------------------------

describe("GET /v1/logs/{log}/stats", () => {
  const keyOf: Record<(typeof GROUP_BY)[number], (e: AuditEvent) => string> = {
    action: (e) => e.action,
    actor: (e) => e.actor.id,
    outcome: (e) => e.outcome,
    hour: (e) => new Date(Date.parse(e.occurredAt)).toISOString().slice(0, 13),
    day: (e) => new Date(Date.parse(e.occurredAt)).toISOString().slice(0, 10),
  };

  async function bruteForce(log: string, q: string, groupBy: (typeof GROUP_BY)[number], limit: number) {
    const filter = parseQuery(q);
    const counts = new Map<string, number>();
    for (const { event } of await stored(log)) {
      if (!matchesFilter(event, filter)) continue;
      const key = keyOf[groupBy](event);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const groups = [...counts].map(([key, count]) => ({ key, count }));
    const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    // Time buckets: the newest `limit`, oldest first; other groups: largest first, ties by key.
    if (groupBy === "hour" || groupBy === "day") return groups.sort(byKey).slice(Math.max(0, groups.length - limit));
    return groups.sort((a, b) => b.count - a.count || byKey(a, b)).slice(0, limit);
  }

  for (const groupBy of GROUP_BY) {
    it(`groupBy=${groupBy} equals a brute-force count, with and without a filter and a limit`, async () => {
      for (const q of ["", "outcome:denied", "action:document.* -actor:u_1", "has:meta.nothing"]) {
        for (const limit of [1000, 3]) {
          const body = await getJson<{ total: number; groupBy: string; groups: { key: string; count: number }[] }>(
            `/v1/logs/${A}/stats?groupBy=${groupBy}&limit=${limit}&q=${enc(q)}`,
          );
          assert.equal(body.groupBy, groupBy);
          assert.equal(body.total, (await expected(A, parseQuery(q))).length);
          assert.deepEqual(body.groups, await bruteForce(A, q, groupBy, limit), `groupBy=${groupBy} limit=${limit} q=${q}`);
        }
      }
    });
  }

  it("answers only the total without groupBy, and bounds its parameters", async () => {
    assert.deepEqual(await getJson(`/v1/logs/${B}/stats`), { total: 120 });
    for (const [query, parameter] of [
      ["groupBy=week", "groupBy"],
      ["groupBy=day&limit=0", "limit"],
      ["limit=1001", "limit"],
      ["groupBy=actor&limit=x", "limit"],
    ]) {
      const body = await problem(`/v1/logs/${A}/stats?${query}`, 400, "invalid_parameter");
      assert.deepEqual(
        body.errors?.map((e) => e.parameter),
        [parameter],
      );
    }
  });
});

// --- Across logs -------------------------------------------------------------------------------------

describe("GET /v1/events (admin, across logs)", () => {
  it("is for admin keys only", async () => {
    for (const key of [h.keys.read, h.keys.acmeRead, h.keys.ingest, h.keys.acmeIngest]) {
      await problem("/v1/events", 403, "forbidden", key);
      await problem(`/v1/events?logs=${A}`, 403, "forbidden", key);
    }
    const { token } = await json<{ token: string }>(
      await h.request("/v1/viewer-tokens", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ log: A }),
      }),
      201,
    );
    await problem(`/v1/events?logs=${A}`, 403, "forbidden", token);
    await problem("/v1/events", 401, "missing_credentials", null);
  });

  it("searches every log, or those named in logs=", async () => {
    const q = "actor:u_2 outcome:success";
    const filter = parseQuery(q);
    const everything = await allPages("/v1/events", `limit=1000&q=${enc(q)}`);
    const logs = await h.engine.listLogs();
    const want: string[] = [];
    for (const log of logs) want.push(...(await expected(log, filter)).map((i) => `${log}#${i}`));
    assert.deepEqual(everything.map((e) => `${e.log}#${e.index}`).sort(), want.sort());
    const onlyB = await getJson<Page>(`/v1/events?logs=${B}&limit=1000&q=${enc(q)}`);
    assert.deepEqual(
      onlyB.events.map((e) => e.index),
      await expected(B, filter),
    );
    assert.ok(onlyB.events.every((e) => e.log === B));
    await problem(`/v1/events?logs=${A},nope`, 404, "log_not_found");
    await problem(`/v1/events?logs=${A},Not_A_Log`, 404, "log_not_found");
  });
});

// --- Live tail ---------------------------------------------------------------------------------------

interface SseEvent {
  event?: string;
  id?: string;
  data?: string;
  comment?: string;
}

class SseReader {
  readonly events: SseEvent[] = [];
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = "";

  constructor(response: Response) {
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
    this.#reader = (response.body as ReadableStream<Uint8Array>).getReader();
  }

  get audit(): { index: number; event: AuditEvent; id: string }[] {
    return this.events
      .filter((e) => e.event === "audit-event")
      .map((e) => ({ ...(JSON.parse(e.data as string) as Indexed), id: e.id as string }));
  }

  async until(done: (reader: SseReader) => boolean, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done(this)) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(this.events).slice(-1000)}`)), deadline - Date.now());
      });
      const chunk = await Promise.race([this.#reader.read(), timeout]).finally(() => clearTimeout(timer));
      if (chunk.done) throw new Error("the event stream ended");
      const blocks = (this.#buffer + this.#decoder.decode(chunk.value, { stream: true })).split("\n\n");
      this.#buffer = blocks.pop() ?? "";
      for (const block of blocks) {
        const item: SseEvent = {};
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) item.comment = line.slice(1).trim();
          const match = /^(event|id|data): ?(.*)$/.exec(line);
          if (match) item[match[1] as "event" | "id" | "data"] = match[2] as string;
        }
        this.events.push(item);
      }
    }
  }

  async close(): Promise<void> {
    await this.#reader.cancel().catch(() => undefined);
  }
}

async function tail(log: string, query = "", headers: Record<string, string> = {}): Promise<SseReader> {
  const reader = new SseReader(await h.request(`/v1/logs/${log}/tail${query}`, { headers }));
  await reader.until((r) => r.events.some((e) => e.event === "ready"));
  return reader;
}

describe("GET /v1/logs/{log}/tail", () => {
  it("streams an event appended after connecting, and only events matching q", async () => {
    const log = "tail-live";
    await h.seed(log, variedEvents(5, 30));
    const sse = await tail(log, `?q=${enc("action:document.shared actor:u_9")}`);
    try {
      const ready = sse.events.find((e) => e.event === "ready");
      assert.deepEqual(JSON.parse(ready?.data as string), { log, resumeAfter: -1 });
      const ignored = { ...variedEvents(1, 31)[0], action: "document.viewed", actor: { type: "user", id: "u_9" } };
      const wanted = { ...variedEvents(1, 32)[0], action: "document.shared", actor: { type: "user", id: "u_9" }, id: "tail-wanted" };
      assert.equal((await h.post(log, { events: [ignored, wanted] })).status, 201);
      await sse.until((r) => r.audit.length === 1);
      const [got] = sse.audit;
      assert.equal(got?.index, 6);
      assert.equal(got?.id, "6");
      assert.equal(got?.event.id, "tail-wanted");
      assert.deepEqual(got?.event, (await stored(log))[6]?.event);
    } finally {
      await sse.close();
    }
  });

  it("resumes after Last-Event-ID with no loss and no duplicate while appends continue", async () => {
    const log = "tail-resume";
    const q = "action:document.*";
    const filter = parseQuery(q);
    await h.seed(log, variedEvents(20, 40));
    let appending = true;
    let seed = 41;
    const appender = (async () => {
      while (appending) {
        const response = await h.post(log, { events: variedEvents(3, seed++) });
        assert.equal(response.status, 201);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const received: number[] = [];
    try {
      const first = await tail(log, `?q=${enc(q)}`);
      await first.until((r) => r.audit.length >= 10);
      await first.close();
      received.push(...first.audit.map((e) => e.index));
      const last = first.audit.at(-1)?.id as string;
      // Appends go on while the client is away.
      await new Promise((resolve) => setTimeout(resolve, 30));
      const second = await tail(log, `?q=${enc(q)}`, { "last-event-id": last });
      assert.deepEqual(JSON.parse(second.events[0]?.data as string), { log, resumeAfter: Number(last) });
      await second.until((r) => r.audit.length >= 20);
      appending = false;
      await appender;
      const want = (await expected(log, filter)).reverse();
      await second.until((r) => (r.audit.at(-1)?.index ?? -1) >= (want.at(-1) as number));
      await second.close();
      received.push(...second.audit.map((e) => e.index));
      const start = received[0] as number;
      assert.deepEqual(
        received,
        want.filter((i) => i >= start),
      );
      assert.ok(second.audit.every((e) => e.event.action.startsWith("document.")));
    } finally {
      appending = false;
      await appender;
    }
  });

  it("backfills from lastEventId=, for clients that cannot set headers", async () => {
    const log = "tail-query-resume";
    await h.seed(log, variedEvents(12, 50));
    const sse = await tail(log, "?lastEventId=7");
    try {
      await sse.until((r) => r.audit.length === 4);
      assert.deepEqual(
        sse.audit.map((e) => e.index),
        [8, 9, 10, 11],
      );
    } finally {
      await sse.close();
    }
    await problem(`/v1/logs/${log}/tail?lastEventId=-1`, 400, "invalid_parameter");
  });

  it("sends a keep-alive comment after 15 s without events", async () => {
    const log = "tail-quiet";
    await h.seed(log, variedEvents(1, 60));
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const sse = new SseReader(await h.request(`/v1/logs/${log}/tail`));
      let done = false;
      const waiting = sse
        .until((r) => r.events.some((e) => e.comment === "keep-alive"), 1e9)
        .finally(() => {
          done = true;
        });
      for (let i = 0; i < 200 && !done; i++) {
        mock.timers.tick(15_000);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await waiting;
      assert.deepEqual(
        sse.events.map((e) => e.event ?? `: ${e.comment}`),
        ["ready", ": keep-alive"],
      );
      await sse.close();
    } finally {
      mock.timers.reset();
    }
  });
});

describe("a live tail ends when its credentials do", () => {
  it("sends an error event and closes at the next keep-alive after the key is revoked", async () => {
    const log = "tail-revoked";
    await h.seed(log, variedEvents(1, 61));
    const { key, record } = await createApiKey(h.store, { scope: "read", logs: [log] });
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const sse = new SseReader(await h.request(`/v1/logs/${log}/tail`, { key }));
      await h.store.revokeApiKey(record.id, new Date().toISOString());
      let done = false;
      const waiting = sse
        .until((r) => r.events.some((e) => e.event === "error"), 1e9)
        .finally(() => {
          done = true;
        });
      for (let i = 0; i < 200 && !done; i++) {
        mock.timers.tick(15_000);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await waiting;
      const error = sse.events.find((e) => e.event === "error");
      assert.equal(JSON.parse(error?.data ?? "{}").code, "invalid_credentials");
      assert.ok(!sse.events.some((e) => e.comment === "keep-alive"), "no keep-alive goes to a revoked key");
      await sse.close();
    } finally {
      mock.timers.reset();
    }
  });
});

// --- Viewer tokens narrowed to an actor or target ------------------------------------------------------

describe("restricted viewer tokens see only their actor's or target's events", () => {
  async function token(body: Record<string, unknown>): Promise<string> {
    const response = await h.request("/v1/viewer-tokens", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ log: A, ...body }),
    });
    return (await json<{ token: string }>(response, 201)).token;
  }

  it("actor: events, stats and single events are narrowed to the actor", async () => {
    const viewer = await token({ actor: "u_1" });
    for (const q of ["", "outcome:denied", "actor:u_1 actor:u_2", "actor:u_2", "-actor:u_1"]) {
      const filter = parseQuery(q);
      const want = (await stored(A))
        .filter((e) => matchesFilter(e.event, filter) && e.event.actor.id === "u_1")
        .map((e) => e.index)
        .reverse();
      const page = await getJson<Page>(`/v1/logs/${A}/events?limit=1000&q=${enc(q)}`, viewer);
      assert.deepEqual(
        page.events.map((e) => e.index),
        want,
        `q=${q}`,
      );
      assert.equal((await getJson<{ total: number }>(`/v1/logs/${A}/stats?q=${enc(q)}`, viewer)).total, want.length);
    }
    const all = await stored(A);
    const mine = all.find((e) => e.event.actor.id === "u_1") as Indexed;
    const other = all.find((e) => e.event.actor.id !== "u_1") as Indexed;
    assert.equal((await getJson<{ index: number }>(`/v1/logs/${A}/events/${mine.event.id}`, viewer)).index, mine.index);
    await problem(`/v1/logs/${A}/events/${other.event.id}`, 404, "event_not_found", viewer);
  });

  it("target: only events with a target of that type", async () => {
    const viewer = await token({ target: { type: "folder" } });
    const want = (await stored(A))
      .filter((e) => e.event.targets.some((t) => t.type === "folder") && e.event.outcome !== "success")
      .map((e) => e.index)
      .reverse();
    const page = await getJson<Page>(`/v1/logs/${A}/events?limit=1000&q=${enc("-outcome:success")}`, viewer);
    assert.deepEqual(
      page.events.map((e) => e.index),
      want,
    );
    assert.deepEqual(await getJson<Page>(`/v1/logs/${A}/events?q=${enc("target.type:invoice")}`, viewer), { events: [], nextCursor: null });
  });
});

// --- Isolation -------------------------------------------------------------------------------------

/** Every documented operation on a log, with a concrete URL for `log` (examples for other parameters). */
function logOperations(log: string): { method: string; url: string; label: string; adminOnly: boolean }[] {
  const out: { method: string; url: string; label: string; adminOnly: boolean }[] = [];
  for (const [path, item] of Object.entries(OPENAPI.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!op) continue;
      const params = (op.parameters ?? []).map((p) => {
        if (!("$ref" in p)) return p;
        return OPENAPI.components.parameters[p.$ref.split("/").at(-1) as string] as NonNullable<
          (typeof OPENAPI.components.parameters)[string]
        >;
      });
      if (!path.includes("{log}")) continue;
      const examples = new Map(params.map((p) => [p.name, p.example]));
      const concrete = path.replace(/\{([^}]+)\}/g, (_, name: string) => (name === "log" ? log : (examples.get(name) ?? "x")));
      const required = params.filter((p) => p.in === "query" && p.required).map((p) => `${p.name}=${p.example ?? "0"}`);
      out.push({
        method: method.toUpperCase(),
        url: concrete + (required.length ? `?${required.join("&")}` : ""),
        label: `${method.toUpperCase()} ${path}`,
        // No viewer-token alternative on a read: only admin keys (compliance settings).
        adminOnly: op.security.every((alternative) => Object.keys(alternative).join() === "apiKey") && method === "get",
      });
    }
  }
  return out;
}

describe("isolation between logs and scopes", () => {
  it("a read key for acme gets 403 on every documented route of globex, and not on acme's read routes", async () => {
    const operations = logOperations(B);
    assert.ok(operations.length >= 12, `${operations.length} operations on a log`);
    for (const { method, url, label } of operations) {
      const response = await h.request(url, {
        method,
        key: h.keys.acmeRead,
        ...(method === "POST" ? { headers: { "content-type": "application/json" }, body: "{}" } : {}),
      });
      const body = (await response.json()) as ProblemBody;
      assert.equal(response.status, 403, `${label}: ${JSON.stringify(body)}`);
      assert.equal(body.code, "forbidden");
    }
    for (const { method, url, label, adminOnly } of logOperations(A)) {
      if (method !== "GET" || adminOnly) continue;
      const response = await h.request(url, { key: h.keys.acmeRead });
      await response.body?.cancel();
      assert.notEqual(response.status, 403, `${label} on acme`);
      assert.notEqual(response.status, 401, `${label} on acme`);
    }
  });

  it("a viewer token for acme gets 403 on every documented route of globex", async () => {
    const { token } = await json<{ token: string }>(
      await h.request("/v1/viewer-tokens", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ log: A }),
      }),
      201,
    );
    for (const { method, url, label } of logOperations(B)) {
      const response = await h.request(url, { method, key: token });
      const body = (await response.json()) as ProblemBody;
      assert.equal(response.status, 403, `${label}: ${JSON.stringify(body)}`);
    }
  });

  it("an ingest key cannot read anything", async () => {
    const reads: { url: string; label: string }[] = [...logOperations(A), ...logOperations(B)].filter((o) => o.method === "GET");
    for (const [path, item] of Object.entries(OPENAPI.paths)) {
      const op = item.get;
      if (!op || path.includes("{")) continue;
      if (op.security.every((alternative) => Object.keys(alternative).length === 0)) continue;
      reads.push({ url: path, label: `GET ${path}` });
    }
    assert.ok(reads.some((r) => r.url === "/v1/events") && reads.some((r) => r.url === "/v1/logs"));
    for (const key of [h.keys.ingest, h.keys.acmeIngest]) {
      for (const { url, label } of reads) {
        const response = await h.request(url, { key });
        const body = (await response.json()) as ProblemBody;
        assert.equal(response.status, 403, `${label}: ${JSON.stringify(body)}`);
        assert.equal(body.code, "forbidden");
      }
    }
  });
});
