import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { utf8 } from "./bytes.js";
import { canonicalJson } from "./canonical-json.js";
import { type FieldProblem, InputError } from "./errors.js";
import { type AuditEvent, draftFingerprint, isIpAddress, MAX_LEAF_BYTES, MAX_TARGETS, sealEvent, validateEvent } from "./event.js";

const valid = () => ({
  action: "document.shared",
  occurredAt: "2026-11-27T12:00:00.000Z",
  actor: { type: "user", id: "u_42", name: "Ada", email: "ada@example.com" },
  targets: [{ type: "document", id: "doc_9", name: "Q3" }],
  outcome: "success",
  context: { ip: "203.0.113.9", userAgent: "curl/8.5", requestId: "req-1", sessionId: "sess-1", location: "Berlin" },
  changes: { before: { shared: false }, after: { shared: true } },
  metadata: { plan: "pro", seats: 3, tags: ["a", "b"], nested: { ok: null } },
});

const assigned = { id: "01JD0000000000000000000000", receivedAt: "2026-11-27T12:00:01.000Z" };

/** The problems validateEvent reports, asserting it refused with invalid_event. */
function problemsOf(input: unknown, pointer?: string): FieldProblem[] {
  try {
    validateEvent(input, pointer);
  } catch (error) {
    assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
    assert.equal(error.code, "invalid_event");
    assert.ok(error.problems.length > 0);
    return [...error.problems];
  }
  assert.fail("the event was accepted");
}

function pointersOf(input: unknown, pointer?: string): string[] {
  return problemsOf(input, pointer).map((p) => p.pointer ?? "<no pointer>");
}

describe("event validation", () => {
  it("accepts a complete event and keeps every field", () => {
    const draft = validateEvent(valid());
    assert.deepEqual(draft, { ...valid(), version: 1 });
  });

  it("fills in the defaults: no targets, outcome success, version 1", () => {
    const draft = validateEvent({ action: "user.login", occurredAt: "2026-11-27T12:00:00Z", actor: { type: "user", id: "u" } });
    assert.deepEqual(draft, {
      action: "user.login",
      occurredAt: "2026-11-27T12:00:00.000Z",
      actor: { type: "user", id: "u" },
      targets: [],
      outcome: "success",
      version: 1,
    });
  });

  it("says /actor/id is required", () => {
    const input = valid() as Record<string, unknown>;
    input.actor = { type: "user" };
    assert.deepEqual(problemsOf(input), [{ pointer: "/actor/id", detail: "is required" }]);
  });

  it("says which required top-level field is missing", () => {
    for (const field of ["action", "occurredAt", "actor"]) {
      const input = valid() as Record<string, unknown>;
      delete input[field];
      assert.deepEqual(problemsOf(input), [{ pointer: `/${field}`, detail: "is required" }]);
    }
  });

  it("points into the third target", () => {
    const input = valid();
    input.targets.push({ type: "folder", id: "f_1", name: "x" }, { id: "d_2" } as never);
    assert.deepEqual(problemsOf(input), [{ pointer: "/targets/2/type", detail: "is required" }]);
    const badType = valid();
    badType.targets.push({ type: "a", id: "1", name: "x" }, { type: "bad type!", id: "x", name: "y" });
    assert.deepEqual(pointersOf(badType), ["/targets/2/type"]);
  });

  it("refuses an invalid /context/ip", () => {
    for (const ip of [
      "999.1.1.1",
      "1.2.3",
      "01.2.3.4",
      "1.2.3.4.5",
      "::1::2",
      "1:2:3:4:5:6:7:8:9",
      "12345::",
      "not-an-ip",
      "1.2.3.4 ",
      "g::1",
    ]) {
      const input = valid();
      input.context.ip = ip;
      assert.deepEqual(problemsOf(input), [{ pointer: "/context/ip", detail: "must be an IPv4 or IPv6 address" }], ip);
    }
  });

  it("accepts IPv4 and IPv6 addresses in their usual spellings", () => {
    for (const ip of [
      "203.0.113.9",
      "0.0.0.0",
      "::",
      "::1",
      "2001:db8::1",
      "2001:DB8:0:0:0:0:0:1",
      "::ffff:192.0.2.1",
      "fe80::1%eth0",
      "1:2:3:4:5:6:7::",
    ]) {
      assert.ok(isIpAddress(ip), ip);
      const input = valid();
      input.context.ip = ip;
      assert.equal(validateEvent(input).context?.ip, ip);
    }
  });

  it("refuses unknown fields at every level, escaping the pointer", () => {
    const input = { ...valid(), extra: 1, "a/b": 2, "m~n": 3 };
    assert.deepEqual(pointersOf(input), ["/extra", "/a~1b", "/m~0n"]);
    const nested = valid() as Record<string, unknown> & ReturnType<typeof valid>;
    (nested.actor as Record<string, unknown>).role = "admin";
    (nested.targets[0] as Record<string, unknown>).email = "x@example.com";
    (nested.context as Record<string, unknown>).country = "DE";
    (nested.changes as Record<string, unknown>).diff = {};
    assert.deepEqual(pointersOf(nested), ["/actor/role", "/targets/0/email", "/context/country", "/changes/diff"]);
  });

  it("refuses a receivedAt sent by the client", () => {
    assert.deepEqual(problemsOf({ ...valid(), receivedAt: "2026-11-27T12:00:00.000Z" }), [
      { pointer: "/receivedAt", detail: "is set by the server and must not be sent" },
    ]);
  });

  it("refuses an outcome outside success, failure and denied", () => {
    for (const outcome of ["ok", "SUCCESS", "", 1, null]) {
      assert.deepEqual(problemsOf({ ...valid(), outcome }), [{ pointer: "/outcome", detail: "must be one of success, failure, denied" }]);
    }
    for (const outcome of ["success", "failure", "denied"]) assert.equal(validateEvent({ ...valid(), outcome }).outcome, outcome);
  });

  it("refuses occurredAt values that are not real RFC 3339 instants", () => {
    for (const occurredAt of [
      "2026-02-30T00:00:00Z",
      "2025-02-29T00:00:00Z",
      "2026-13-01T00:00:00Z",
      "2026-11-27T24:00:00Z",
      "2026-11-27T12:60:00Z",
      "2026-11-27T12:00:60Z",
      "2026-11-27 12:00:00Z",
      "2026-11-27T12:00:00",
      "2026-11-27",
      "2026-11-27T12:00:00.Z",
      "2026-11-27T12:00:00.1234567890Z",
      "2026-11-27T12:00:00+0100",
      "2026-11-27T12:00:00+24:00",
      "+2026-11-27T12:00:00Z",
      "0000-01-01T00:00:00Z",
      "1764244800000",
    ]) {
      assert.deepEqual(
        problemsOf({ ...valid(), occurredAt }),
        [{ pointer: "/occurredAt", detail: "must be an RFC 3339 timestamp like 2026-11-27T12:00:00.000Z" }],
        occurredAt,
      );
    }
    assert.deepEqual(problemsOf({ ...valid(), occurredAt: 1764244800000 }), [
      { pointer: "/occurredAt", detail: "must be a string, got a number" },
    ]);
  });

  it("normalizes occurredAt to UTC, keeping the fraction given", () => {
    const cases: [string, string][] = [
      ["2026-11-27T13:30:00.123456+01:30", "2026-11-27T12:00:00.123456Z"],
      ["2026-11-27T12:00:00Z", "2026-11-27T12:00:00.000Z"],
      ["2026-11-27T12:00:00.5Z", "2026-11-27T12:00:00.500Z"],
      ["2026-11-27t12:00:00z", "2026-11-27T12:00:00.000Z"],
      ["2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00.000Z"],
      ["2026-11-27T12:00:00.000000001-00:00", "2026-11-27T12:00:00.000000001Z"],
      ["2024-02-29T23:00:00-02:00", "2024-03-01T01:00:00.000Z"],
    ];
    for (const [input, expected] of cases) assert.equal(validateEvent({ ...valid(), occurredAt: input }).occurredAt, expected, input);
  });

  it("prefixes every pointer for events inside a batch", () => {
    const input = valid() as Record<string, unknown>;
    input.actor = { type: "user" };
    input.outcome = "maybe";
    assert.deepEqual(pointersOf(input, "/events/3"), ["/events/3/actor/id", "/events/3/outcome"]);
    assert.deepEqual(pointersOf("not an event", "/events/0"), ["/events/0"]);
  });

  it("reports every problem at once and names the first in the message", () => {
    const input = { action: "nodot", occurredAt: "yesterday", actor: "ada", targets: {}, version: 2, context: [], metadata: [] };
    assert.deepEqual(pointersOf(input), ["/version", "/action", "/occurredAt", "/actor", "/targets", "/context", "/metadata"]);
    assert.throws(() => validateEvent(input), { message: "/version must be 1 (and 6 more)" });
  });

  it("refuses events that are not JSON objects", () => {
    for (const input of [null, [], "x", 1, undefined]) {
      assert.deepEqual(pointersOf(input), [""]);
    }
  });

  it("checks strings: type, emptiness, length and format", () => {
    assert.deepEqual(problemsOf({ ...valid(), action: 5 }), [{ pointer: "/action", detail: "must be a string, got a number" }]);
    assert.deepEqual(problemsOf({ ...valid(), action: "" }), [{ pointer: "/action", detail: "must not be empty" }]);
    assert.deepEqual(pointersOf({ ...valid(), action: `a.${"b".repeat(127)}` }), ["/action"]);
    for (const action of ["document", ".shared", "document.", "document..shared", "doc ument.shared"]) {
      assert.deepEqual(pointersOf({ ...valid(), action }), ["/action"], action);
    }
    for (const id of ["", "-leading", "has space", "x".repeat(129), "é"]) assert.deepEqual(pointersOf({ ...valid(), id }), ["/id"], id);
    const badEmail = valid();
    badEmail.actor.email = "not-an-email";
    assert.deepEqual(problemsOf(badEmail), [{ pointer: "/actor/email", detail: "must be an email address" }]);
    const longName = valid();
    longName.actor.name = "n".repeat(257);
    assert.deepEqual(problemsOf(longName), [{ pointer: "/actor/name", detail: "must be at most 256 characters, got 257" }]);
  });

  it("refuses lone surrogates in every string, key included, before sealing", () => {
    const inName = valid();
    inName.actor.name = "Ada\ud800";
    assert.deepEqual(problemsOf(inName), [{ pointer: "/actor/name", detail: "contains a lone surrogate" }]);
    const inContext = valid();
    inContext.context.userAgent = "\udc00";
    assert.deepEqual(pointersOf(inContext), ["/context/userAgent"]);
    assert.deepEqual(pointersOf({ ...valid(), metadata: { note: "\ud83d" } }), ["/metadata/note"]);
    assert.deepEqual(pointersOf({ ...valid(), metadata: { "\ud83d": 1 } }), ["/metadata/\ud83d"]);
  });

  it("refuses more than 64 targets and targets that are not an array", () => {
    const many = Array.from({ length: MAX_TARGETS + 1 }, (_, i) => ({ type: "t", id: String(i) }));
    assert.deepEqual(problemsOf({ ...valid(), targets: many }), [{ pointer: "/targets", detail: "must have at most 64 items" }]);
    assert.equal(validateEvent({ ...valid(), targets: many.slice(1) }).targets.length, 64);
    assert.deepEqual(pointersOf({ ...valid(), targets: [null] }), ["/targets/0"]);
  });

  it("checks metadata and changes as bounded JSON", () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 17; i++) deep = { d: deep };
    assert.deepEqual(problemsOf({ ...valid(), metadata: deep }), [
      { pointer: `/metadata${"/d".repeat(17)}`, detail: "is nested more than 16 levels deep" },
    ]);
    let deepest: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 15; i++) deepest = { d: deepest };
    assert.deepEqual(validateEvent({ ...valid(), metadata: deepest }).metadata, deepest, "a value 16 levels down is fine");
    assert.deepEqual(pointersOf({ ...valid(), metadata: { n: Number.NaN, list: [1, Number.POSITIVE_INFINITY] } }), [
      "/metadata/n",
      "/metadata/list/1",
    ]);
    assert.deepEqual(problemsOf({ ...valid(), changes: { after: { when: new Date(0), f: () => 1 } } }), [
      { pointer: "/changes/after/when", detail: "must be JSON" },
      { pointer: "/changes/after/f", detail: "must be JSON" },
    ]);
    assert.deepEqual(pointersOf({ ...valid(), metadata: new Map() }), ["/metadata"]);
  });

  it("refuses a version other than 1", () => {
    assert.deepEqual(problemsOf({ ...valid(), version: 2 }), [{ pointer: "/version", detail: "must be 1" }]);
    assert.equal(validateEvent({ ...valid(), version: 1 }).version, 1);
  });
});

describe("sealing events into leaves", () => {
  it("makes the leaf exactly the canonical JSON of the stored event", () => {
    const { event, leaf } = sealEvent(validateEvent(valid()), assigned);
    assert.deepEqual(leaf, utf8(canonicalJson(event)));
    assert.equal(event.id, assigned.id);
    assert.equal(event.receivedAt, assigned.receivedAt);
    assert.equal(event.version, 1);
    const text = new TextDecoder().decode(leaf);
    assert.ok(text.startsWith('{"action":"document.shared","actor":{"email":"ada@example.com","id":"u_42","name":"Ada","type":"user"}'));
    assert.deepEqual(JSON.parse(text) as AuditEvent, event);
  });

  it("keeps an id the client chose", () => {
    const { event } = sealEvent(validateEvent({ ...valid(), id: "client-id-1" }), assigned);
    assert.equal(event.id, "client-id-1");
  });

  it("accepts a leaf of exactly 65535 bytes and refuses one byte more with event_too_large", () => {
    const sized = (padding: string) => sealEvent(validateEvent({ ...valid(), metadata: { pad: padding } }), assigned, "/events/7");
    const base = sized("").leaf.length;
    assert.equal(sized("a".repeat(MAX_LEAF_BYTES - base)).leaf.length, MAX_LEAF_BYTES);
    assert.throws(
      () => sized("a".repeat(MAX_LEAF_BYTES - base + 1)),
      (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.equal(error.code, "event_too_large");
        assert.deepEqual(
          error.problems.map((p) => p.pointer),
          ["/events/7"],
        );
        assert.ok(!error.message.includes("aaaa"), "the message carries no payload");
        return true;
      },
    );
  });

  it("counts UTF-8 bytes, not characters, against the limit", () => {
    const padding = "\u20ac".repeat(22_000); // 22,000 characters, 66,000 bytes
    assert.throws(
      () => sealEvent(validateEvent({ ...valid(), metadata: { pad: padding } }), assigned),
      (error: unknown) => error instanceof InputError && error.code === "event_too_large" && error.problems[0]?.pointer === "",
    );
  });

  it("fingerprints what the client sent, ignoring receivedAt", () => {
    const draft = validateEvent({ ...valid(), id: "same" });
    const first = sealEvent(draft, assigned).event;
    const retry = sealEvent(validateEvent({ ...valid(), id: "same" }), { ...assigned, receivedAt: "2026-11-27T12:00:09.000Z" }).event;
    assert.equal(draftFingerprint(first), draftFingerprint(retry));
    const changed = sealEvent(validateEvent({ ...valid(), id: "same", outcome: "denied" }), assigned).event;
    assert.notEqual(draftFingerprint(first), draftFingerprint(changed));
  });
});
