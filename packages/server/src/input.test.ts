import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ProblemBody } from "./problem.js";
import {
  event,
  events,
  expectProblem,
  type Harness,
  logName,
  parameters,
  pointers,
  type RequestOptions,
  startHarness,
  streamBody,
} from "./test-harness.js";

let h: Harness;
/** A log with entries and a signed checkpoint, to show a refused request leaves it as it was. */
let seeded: string;

before(async () => {
  h = await startHarness();
  seeded = logName("seeded");
  await h.seed(seeded, events(3));
});
after(() => h.close());

const utf8 = (text: string) => new TextEncoder().encode(text);

/** POSTs raw bytes or text with exactly the headers given (no default content type). */
function postRaw(log: string, body: BodyInit | undefined, headers: Record<string, string>, extra: RequestOptions = {}) {
  return h.request(`/v1/logs/${log}/events`, { method: "POST", headers, ...(body === undefined ? {} : { body }), ...extra });
}

/**
 * Sends the same bad request to a new log and to one with entries: both must answer the same
 * problem, the new log must not appear, and the existing one must keep its size and checkpoint.
 */
async function refused(send: (log: string) => Promise<Response>, status: number, code: string): Promise<ProblemBody> {
  const fresh = logName("fresh");
  const first = await expectProblem(await send(fresh), status, code);
  assert.equal(await h.engine.hasLog(fresh), false, "a failed first write created the log");
  assert.equal(await h.store.getLog(fresh), undefined);
  assert.ok(!(await h.store.listLogs()).some((l) => l.name === fresh));

  const beforeSnapshot = await h.snapshot(seeded);
  const second = await expectProblem(await send(seeded), status, code);
  assert.deepEqual(await h.snapshot(seeded), beforeSnapshot, "a refused request changed the log");
  assert.deepEqual(second.errors, first.errors);
  return first;
}

/** Expects exactly one field problem at `pointer`. */
function onlyPointer(body: ProblemBody, pointer: string, detail?: RegExp): void {
  assert.deepEqual(pointers(body), [pointer], JSON.stringify(body.errors));
  if (detail) assert.match(body.errors?.[0]?.detail ?? "", detail);
}

describe("problem responses", () => {
  it("are RFC 9457 problem+json with type, title, status, detail, code and errors", async () => {
    const response = await h.post(seeded, event({ actor: { type: "user" } }));
    assert.equal(response.headers.get("content-type"), "application/problem+json");
    const body = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ["code", "detail", "errors", "status", "title", "type"]);
    assert.deepEqual(body, {
      type: "urn:sealtrail:problem:invalid_event",
      title: "Unprocessable Content",
      status: 422,
      detail: "/actor/id is required",
      code: "invalid_event",
      errors: [{ pointer: "/actor/id", detail: "is required" }],
    });
  });
});

describe("POST /v1/logs/{log}/events refuses a body that is not a JSON document", () => {
  it("refuses malformed JSON with 400 invalid_json", async () => {
    const body = await refused((log) => h.post(log, '{"action": "document.shared",'), 400, "invalid_json");
    assert.equal(body.title, "Bad Request");
  });

  it("does not echo the body back in the detail (it may hold personal data)", async () => {
    const body = await refused((log) => h.post(log, "ssn-123-45-6789 is not json"), 400, "invalid_json");
    assert.doesNotMatch(body.detail, /ssn|6789/);
  });

  it("refuses an empty body with 400 invalid_json", async () => {
    await refused((log) => h.post(log, ""), 400, "invalid_json");
  });

  it("refuses a whitespace-only body with 400 invalid_json", async () => {
    await refused((log) => h.post(log, " \n\t "), 400, "invalid_json");
  });

  it("refuses a body that is not valid UTF-8 with 400 invalid_encoding", async () => {
    const bytes = new Uint8Array([...utf8('{"action":"document.'), 0xc3, 0x28, ...utf8('shared"}')]);
    await refused((log) => postRaw(log, bytes, { "content-type": "application/json" }), 400, "invalid_encoding");
  });

  it("refuses a body with a lone UTF-8 continuation byte", async () => {
    await refused(
      (log) => postRaw(log, new Uint8Array([0x7b, 0x80, 0x7d]), { "content-type": "application/json" }),
      400,
      "invalid_encoding",
    );
  });

  it("refuses a wrong content type with 415 unsupported_media_type", async () => {
    const body = await refused(
      (log) => postRaw(log, JSON.stringify(event()), { "content-type": "text/plain; charset=utf-8" }),
      415,
      "unsupported_media_type",
    );
    assert.equal(body.title, "Unsupported Media Type");
  });

  it("refuses a form-encoded body with 415", async () => {
    await refused(
      (log) => postRaw(log, "action=document.shared", { "content-type": "application/x-www-form-urlencoded" }),
      415,
      "unsupported_media_type",
    );
  });

  it("refuses a body with no content type with 415", async () => {
    await refused((log) => postRaw(log, utf8(JSON.stringify(event())), {}), 415, "unsupported_media_type");
  });

  it("accepts application/json with parameters and +json media types", async () => {
    const log = logName();
    const one = await postRaw(log, JSON.stringify(event()), { "content-type": "Application/JSON; charset=utf-8" });
    assert.equal(one.status, 201, await one.clone().text());
    const two = await postRaw(log, JSON.stringify(event()), { "content-type": "application/vnd.sealtrail+json" });
    assert.equal(two.status, 201);
  });

  it("refuses a JSON array body as an event that is not an object (pointer to the whole body)", async () => {
    const body = await refused((log) => h.post(log, [event()]), 422, "invalid_event");
    onlyPointer(body, "", /must be a JSON object, got an array/);
  });

  it("refuses JSON null and scalars", async () => {
    for (const text of ["null", "42", '"document.shared"', "true"]) {
      const body = await refused((log) => h.post(log, text), 422, "invalid_event");
      onlyPointer(body, "");
    }
  });
});

describe("POST /v1/logs/{log}/events reports each invalid field with its JSON pointer (422)", () => {
  const required: [string, (e: Record<string, unknown>) => void][] = [
    ["/action", (e) => delete e.action],
    ["/occurredAt", (e) => delete e.occurredAt],
    ["/actor", (e) => delete e.actor],
    ["/actor/type", (e) => delete (e.actor as Record<string, unknown>).type],
    ["/actor/id", (e) => delete (e.actor as Record<string, unknown>).id],
    ["/targets/0/type", (e) => delete (e.targets as Record<string, unknown>[])[0]?.type],
    ["/targets/0/id", (e) => delete (e.targets as Record<string, unknown>[])[0]?.id],
  ];
  for (const [pointer, strip] of required) {
    it(`refuses an event without ${pointer}`, async () => {
      const body = await refused(
        (log) => {
          const e = event();
          strip(e);
          return h.post(log, e);
        },
        422,
        "invalid_event",
      );
      onlyPointer(body, pointer, /is required/);
      assert.equal(body.title, "Unprocessable Content");
    });
  }

  const wrongTypes: [string, Record<string, unknown>, RegExp][] = [
    ["/action", { action: 42 }, /must be a string, got a number/],
    ["/action", { action: "shared" }, /dot-separated/],
    ["/action", { action: "" }, /must not be empty/],
    ["/occurredAt", { occurredAt: 1_764_244_800_000 }, /must be a string/],
    ["/actor", { actor: "u_42" }, /must be an object, got a string/],
    ["/actor", { actor: [] }, /must be an object, got an array/],
    ["/actor/id", { actor: { type: "user", id: 42 } }, /must be a string, got a number/],
    ["/actor/type", { actor: { type: "a user", id: "u_42" } }, /letters, digits/],
    ["/actor/email", { actor: { type: "user", id: "u_42", email: "not-an-email" } }, /email/],
    ["/targets", { targets: { type: "document", id: "d" } }, /must be an array, got an object/],
    ["/targets/1", { targets: [{ type: "document", id: "d" }, null] }, /must be an object, got null/],
    ["/context", { context: [] }, /must be an object, got an array/],
    ["/changes", { changes: "everything" }, /must be an object/],
    ["/changes/before", { changes: { before: [1] } }, /must be an object, got an array/],
    ["/metadata", { metadata: "x" }, /must be an object, got a string/],
    ["/version", { version: 2 }, /must be 1/],
    ["/id", { id: "has space" }, /characters of/],
    ["/id", { id: 7 }, /must be a string/],
  ];
  for (const [pointer, overrides, detail] of wrongTypes) {
    it(`refuses ${pointer} = ${JSON.stringify(Object.values(overrides)[0])}`, async () => {
      const body = await refused((log) => h.post(log, event(overrides)), 422, "invalid_event");
      onlyPointer(body, pointer, detail);
    });
  }

  it("lists every problem of an event at once", async () => {
    const body = await refused(
      (log) => h.post(log, event({ action: undefined, actor: { type: "user" }, outcome: "maybe" })),
      422,
      "invalid_event",
    );
    assert.deepEqual(pointers(body), ["/action", "/actor/id", "/outcome"]);
    assert.match(body.detail, /^\/action is required \(and 2 more\)$/);
  });

  it("refuses unknown top-level fields", async () => {
    const body = await refused((log) => h.post(log, event({ severity: "high" })), 422, "invalid_event");
    onlyPointer(body, "/severity", /unknown field/);
  });

  it("refuses unknown nested fields with their full pointer", async () => {
    const body = await refused(
      (log) =>
        h.post(
          log,
          event({
            actor: { type: "user", id: "u_42", role: "owner" },
            targets: [{ type: "document", id: "d", owner: "x" }],
            context: { ip: "203.0.113.9", city: "Oslo" },
            changes: { before: {}, during: {} },
          }),
        ),
      422,
      "invalid_event",
    );
    assert.deepEqual(pointers(body), ["/actor/role", "/targets/0/owner", "/context/city", "/changes/during"]);
  });

  it("escapes field names in pointers (RFC 6901)", async () => {
    const body = await refused((log) => h.post(log, event({ "a/b~c": 1 })), 422, "invalid_event");
    onlyPointer(body, "/a~1b~0c");
  });

  it("refuses a client-sent receivedAt: the server sets it", async () => {
    const body = await refused((log) => h.post(log, event({ receivedAt: "2026-11-27T12:00:00.000Z" })), 422, "invalid_event");
    onlyPointer(body, "/receivedAt", /set by the server/);
  });

  for (const outcome of ["succeeded", "SUCCESS", "", 1, null]) {
    it(`refuses outcome ${JSON.stringify(outcome)}`, async () => {
      const body = await refused((log) => h.post(log, event({ outcome })), 422, "invalid_event");
      onlyPointer(body, "/outcome", /success, failure, denied/);
    });
  }

  for (const ip of ["256.1.1.1", "1.2.3", "01.2.3.4", "not-an-ip", "1::2::3", "2001:db8::g", "203.0.113.9 "]) {
    it(`refuses context.ip ${JSON.stringify(ip)}`, async () => {
      const body = await refused((log) => h.post(log, event({ context: { ip } })), 422, "invalid_event");
      onlyPointer(body, "/context/ip", /IPv4 or IPv6/);
    });
  }

  for (const occurredAt of [
    "2026-02-30T12:00:00Z",
    "2025-02-29T12:00:00Z",
    "2026-11-27",
    "2026-11-27T24:00:00Z",
    "2026-11-27T12:00:60Z",
    "2026-11-27T12:00:00",
    "2026-11-27 12:00:00Z",
    "2026-11-27T12:00:00+25:00",
    "27/11/2026",
  ]) {
    it(`refuses occurredAt ${occurredAt}`, async () => {
      const body = await refused((log) => h.post(log, event({ occurredAt })), 422, "invalid_event");
      onlyPointer(body, "/occurredAt", /RFC 3339/);
    });
  }

  it("refuses a metadata string with a lone surrogate", async () => {
    const body = await refused(
      (log) =>
        h.post(log, `{"action":"a.b","occurredAt":"2026-11-27T12:00:00Z","actor":{"type":"user","id":"u"},"metadata":{"note":"\\ud800"}}`),
      422,
      "invalid_event",
    );
    onlyPointer(body, "/metadata/note", /lone surrogate/);
  });
});

describe("POST /v1/logs/{log}/events: batches are all or nothing", () => {
  it("points at the event in the batch: /events/3/occurredAt", async () => {
    const body = await refused(
      (log) => {
        const batch = events(5);
        delete (batch[3] as Record<string, unknown>).occurredAt;
        return h.post(log, { events: batch });
      },
      422,
      "invalid_event",
    );
    onlyPointer(body, "/events/3/occurredAt", /is required/);
    assert.match(body.detail, /^\/events\/3\/occurredAt is required$/);
  });

  it("stores nothing from a batch where only event #7 is bad", async () => {
    const body = await refused(
      (log) => {
        const batch = events(10);
        batch[7] = event({ actor: { type: "user", id: 7 } });
        return h.post(log, { events: batch });
      },
      422,
      "invalid_event",
    );
    onlyPointer(body, "/events/7/actor/id");
  });

  it("reports the problems of several events, each with its index", async () => {
    const body = await refused(
      (log) => {
        const batch = events(10);
        batch[2] = event({ outcome: "ok" });
        batch[9] = event({ context: { ip: "x" } });
        return h.post(log, { events: batch });
      },
      422,
      "invalid_event",
    );
    assert.deepEqual(pointers(body), ["/events/2/outcome", "/events/9/context/ip"]);
  });

  it("refuses an empty batch", async () => {
    const body = await refused((log) => h.post(log, { events: [] }), 422, "invalid_event");
    onlyPointer(body, "/events", /1 to 1000/);
  });

  it("refuses events that are not an array", async () => {
    const body = await refused((log) => h.post(log, { events: event() }), 422, "invalid_event");
    onlyPointer(body, "/events", /must be an array/);
  });

  it("refuses unknown fields next to events", async () => {
    const body = await refused((log) => h.post(log, { events: events(1), source: "x" }), 422, "invalid_event");
    onlyPointer(body, "/source", /unknown field/);
  });

  it("refuses a batch of 1001 events with 413 batch_too_large", async () => {
    const body = await refused((log) => h.post(log, { events: events(1001) }), 413, "batch_too_large");
    assert.equal(body.title, "Content Too Large");
    onlyPointer(body, "/events", /at most 1000/);
  });
});

describe("POST /v1/logs/{log}/events with maxBatchEvents: 5", () => {
  let five: Harness;
  before(async () => {
    five = await startHarness({ maxBatchEvents: 5 });
  });
  after(() => five.close());

  it("names the configured limit, not the default, in batch problems", async () => {
    const tooMany = await expectProblem(await five.post("acme", { events: events(6) }), 413, "batch_too_large");
    assert.match(tooMany.errors?.[0]?.detail ?? "", /at most 5 events/);
    const empty = await expectProblem(await five.post("acme", { events: [] }), 422, "invalid_event");
    assert.match(empty.errors?.[0]?.detail ?? "", /1 to 5 events/);
    assert.equal(await five.store.getLog("acme"), undefined);
    assert.equal((await five.post("acme", { events: events(5) })).status, 201);
  });
});

describe("POST /v1/logs/{log}/events: size limits", () => {
  const big = (bytes: number) => ({ metadata: { blob: "x".repeat(bytes) } });

  it("refuses an event that encodes to more than 64 KiB with 413 event_too_large", async () => {
    const body = await refused((log) => h.post(log, event(big(70_000))), 413, "event_too_large");
    assert.equal(body.errors?.length, 1);
    assert.match(body.errors?.[0]?.detail ?? "", /65535-byte limit/);
  });

  it('points at the whole body (RFC 6901 pointer "") when a single event is too large', async () => {
    const body = await refused((log) => h.post(log, event(big(70_000))), 413, "event_too_large");
    onlyPointer(body, "");
  });

  it("points at the oversized event of a batch and stores none of the batch", async () => {
    const body = await refused(
      (log) => {
        const batch = events(10);
        batch[7] = event(big(70_000));
        return h.post(log, { events: batch });
      },
      413,
      "event_too_large",
    );
    onlyPointer(body, "/events/7", /over the 65535-byte limit/);
  });

  describe("with a 4 KiB body limit", () => {
    let small: Harness;
    before(async () => {
      small = await startHarness({ maxBodyBytes: 4096 });
    });
    after(() => small.close());

    const oversized = () => JSON.stringify(event(big(5000)));

    async function refusedSmall(send: (log: string) => Promise<Response>): Promise<void> {
      const log = logName("small");
      await expectProblem(await send(log), 413, "payload_too_large");
      assert.equal(await small.engine.hasLog(log), false);
      assert.equal(await small.store.getLog(log), undefined);
    }

    const postSmall = (log: string, init: RequestOptions) => small.request(`/v1/logs/${log}/events`, { method: "POST", ...init });

    it("refuses a body over the limit with 413 payload_too_large", async () => {
      await refusedSmall((log) => postSmall(log, { body: oversized(), headers: { "content-type": "application/json" } }));
    });

    it("refuses on a declared Content-Length over the limit", async () => {
      await refusedSmall((log) =>
        postSmall(log, {
          body: oversized(),
          headers: { "content-type": "application/json", "content-length": String(oversized().length) },
        }),
      );
    });

    it("refuses a streamed body with no Content-Length once it passes the limit", async () => {
      const chunks = Array.from({ length: 10 }, () => utf8(" ".repeat(1000)));
      await refusedSmall((log) =>
        postSmall(log, { ...streamBody([...chunks, utf8(JSON.stringify(event()))]), headers: { "content-type": "application/json" } }),
      );
    });

    it("refuses a body whose Content-Length lies (claims less than it sends)", async () => {
      const chunks = [utf8(`{"pad":"`), ...Array.from({ length: 8 }, () => utf8("y".repeat(1000))), utf8('"}')];
      await refusedSmall((log) =>
        postSmall(log, { ...streamBody(chunks), headers: { "content-type": "application/json", "content-length": "20" } }),
      );
    });

    it("stops reading a streamed body at the limit", async () => {
      let pulled = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled++;
          if (pulled > 1000) controller.close();
          else controller.enqueue(utf8(" ".repeat(1024)));
        },
      });
      const log = logName("small");
      await expectProblem(
        await postSmall(log, { body, duplex: "half", headers: { "content-type": "application/json" } } as RequestOptions),
        413,
        "payload_too_large",
      );
      assert.ok(pulled < 20, `read ${pulled} KiB of a body limited to 4 KiB`);
    });

    it("accepts a body just under the limit", async () => {
      const e = JSON.stringify(event());
      const padded = e + " ".repeat(4096 - e.length);
      assert.equal(padded.length, 4096);
      const response = await postSmall(logName("small"), { body: padded, headers: { "content-type": "application/json" } });
      assert.equal(response.status, 201);
    });
  });
});

describe("POST /v1/logs/{log}/events: the log name and query", () => {
  for (const [why, log] of [
    ["uppercase", "Acme"],
    ["64 characters", "a".repeat(64)],
    ["a leading '-'", "-acme"],
    ["a leading '.'", "..acme"],
    ["a leading '_'", "_acme"],
    ["a space", "ac%20me"],
    ["a non-ASCII letter", "%C3%A6cme"],
  ] as const) {
    it(`refuses a log name with ${why} with 422 invalid_log_name and parameter log`, async () => {
      const response = await h.post(log, event());
      const body = await expectProblem(response, 422, "invalid_log_name");
      assert.deepEqual(parameters(body), ["log"]);
      assert.deepEqual(pointers(body), [undefined]);
      assert.equal(await h.store.getLog(decodeURIComponent(log)), undefined);
      assert.ok(!(await h.store.listLogs()).some((l) => l.name === decodeURIComponent(log)));
    });
  }

  it("never reaches a log named '..': the URL resolves the dot segment first (404)", async () => {
    const logsBefore = await h.store.listLogs();
    for (const path of ["/v1/logs/../events", "/v1/logs/%2e%2e/events", "/v1/logs/%2E./events"]) {
      const response = await h.request(path, {
        method: "POST",
        body: JSON.stringify(event()),
        headers: { "content-type": "application/json" },
      });
      await expectProblem(response, 404, "route_not_found");
    }
    assert.deepEqual(await h.store.listLogs(), logsBefore);
  });

  it("accepts a 63-character log name", async () => {
    const log = `a${"-".repeat(61)}z`;
    assert.equal(log.length, 63);
    const response = await h.post(log, event());
    assert.equal(response.status, 201);
  });

  it("refuses an unknown wait mode with 400 and parameter wait", async () => {
    const body = await refused((log) => h.post(log, event(), { query: "?wait=forever" }), 400, "invalid_parameter");
    assert.deepEqual(parameters(body), ["wait"]);
  });

  for (const path of [
    "/logs/{log}/checkpoint",
    "/logs/{log}/tile/0/000",
    "/logs/{log}/tile/entries/000",
    "/v1/logs/{log}",
    "/v1/logs/{log}/proofs/inclusion?index=0",
    "/v1/logs/{log}/proofs/consistency?from=1",
  ]) {
    it(`answers 404 log_not_found for impossible log names on GET ${path}`, async () => {
      for (const log of ["Acme", "a".repeat(64), "-acme", ".acme", "ac%20me"]) {
        await expectProblem(await h.request(path.replace("{log}", log)), 404, "log_not_found");
      }
    });
  }
});
