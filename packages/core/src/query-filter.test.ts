import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type FieldProblem, InputError } from "./errors.js";
import { filterValueProblem, normalizeTimeBound, parseQueryFilter, QUERY_LIMITS } from "./query-filter.js";

/** The problems parseQueryFilter reports, asserting it refused with invalid_filter. */
function problemsOf(input: unknown, pointer?: string): FieldProblem[] {
  try {
    parseQueryFilter(input, pointer);
  } catch (error) {
    assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
    assert.equal(error.code, "invalid_filter");
    assert.ok(error.problems.length > 0);
    return [...error.problems];
  }
  assert.fail("the filter was accepted");
}

function pointersOf(input: unknown, pointer?: string): string[] {
  return problemsOf(input, pointer).map((p) => p.pointer ?? "<no pointer>");
}

const strings = (n: number, prefix = "v") => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe("parseQueryFilter: accepted filters", () => {
  it("accepts every field and returns it unchanged when already normalized", () => {
    const filter = {
      actor: ["u_42"],
      actorType: ["user"],
      action: ["document.shared"],
      target: [{ type: "document", id: "doc_9" }, { type: "user" }, { id: "x" }],
      outcome: ["denied", "failure"],
      ip: ["203.0.113.9", "2001:db8::1"],
      requestId: ["req-1"],
      sessionId: ["sess-1"],
      metadata: [{ key: "plan", value: "pro" }, { key: "seats" }, { key: "note", value: "" }],
      text: ["shared with", "Q3"],
      occurredAfter: "2026-11-01T00:00:00.000Z",
      occurredBefore: "2026-11-27T12:00:00.000Z",
      receivedAfter: "2026-11-01T00:00:00.000Z",
      receivedBefore: "2026-11-28T00:00:00.000Z",
      not: { actionPrefix: ["login."], text: ["test"], outcome: ["success"] },
    };
    assert.deepEqual(parseQueryFilter(structuredClone(filter)), filter);
  });

  it("accepts the empty filter", () => {
    assert.deepEqual(parseQueryFilter({}), {});
  });

  it("normalizes time bounds: dates to midnight UTC, minutes get seconds, offsets go to UTC", () => {
    assert.deepEqual(
      parseQueryFilter({
        occurredAfter: "2026-11-01",
        occurredBefore: "2026-11-27T12:00Z",
        receivedAfter: "2026-11-01T01:00:00+01:00",
        receivedBefore: "2026-11-02T00:00:00.5Z",
      }),
      {
        occurredAfter: "2026-11-01T00:00:00.000Z",
        occurredBefore: "2026-11-27T12:00:00.000Z",
        receivedAfter: "2026-11-01T00:00:00.000Z",
        receivedBefore: "2026-11-02T00:00:00.500Z",
      },
    );
  });

  it("drops duplicate values and an empty not", () => {
    assert.deepEqual(
      parseQueryFilter({
        actor: ["a", "b", "a"],
        target: [{ type: "d", id: "1" }, { id: "1", type: "d" }, { type: "d" }],
        metadata: [{ key: "k" }, { key: "k" }, { key: "k", value: "v" }],
        text: ["x", "x"],
        not: {},
      }),
      {
        actor: ["a", "b"],
        target: [{ type: "d", id: "1" }, { type: "d" }],
        metadata: [{ key: "k" }, { key: "k", value: "v" }],
        text: ["x"],
      },
    );
  });

  it("accepts an action prefix of one segment and of several", () => {
    assert.deepEqual(parseQueryFilter({ actionPrefix: ["user.", "billing.invoice."] }), { actionPrefix: ["user.", "billing.invoice."] });
  });

  it("accepts exactly the limits", () => {
    const filter = {
      actor: strings(QUERY_LIMITS.valuesPerField),
      text: strings(QUERY_LIMITS.textPhrases),
      metadata: [{ key: "k".repeat(256), value: "v".repeat(256) }],
    };
    assert.deepEqual(parseQueryFilter(filter), filter);
  });

  it("reads SQL-looking values as plain data", () => {
    const filter = { actor: ["'; DROP TABLE entries; --"], text: ["') OR 1=1 --"] };
    assert.deepEqual(parseQueryFilter(filter), filter);
  });
});

describe("parseQueryFilter: refused filters", () => {
  it("refuses a non-object at the given pointer", () => {
    assert.deepEqual(problemsOf([], "/filter"), [{ pointer: "/filter", detail: "a filter must be a JSON object, got an array" }]);
    assert.deepEqual(pointersOf(null), [""]);
    assert.deepEqual(pointersOf("actor:x"), [""]);
  });

  it("refuses unknown keys, including prototype names", () => {
    assert.deepEqual(pointersOf({ acter: ["x"] }), ["/acter"]);
    assert.deepEqual(pointersOf(JSON.parse('{"__proto__": {"actor": ["x"]}, "constructor": 1}')), ["/__proto__", "/constructor"]);
  });

  it("refuses a list that is not an array of strings, with a pointer per item", () => {
    assert.deepEqual(problemsOf({ actor: "u_42" }), [{ pointer: "/actor", detail: "must be an array of strings, got a string" }]);
    assert.deepEqual(problemsOf({ actor: ["ok", 7, null] }), [
      { pointer: "/actor/1", detail: "must be a string, got a number" },
      { pointer: "/actor/2", detail: "must be a string, got null" },
    ]);
  });

  it("refuses an empty list rather than guessing what it means", () => {
    assert.deepEqual(problemsOf({ action: [] }), [
      { pointer: "/action", detail: "must not be empty (leave the field out to set no condition)" },
    ]);
  });

  it("refuses more than 100 values in a field and more than 20 phrases", () => {
    assert.deepEqual(pointersOf({ actor: strings(101), text: strings(21) }), ["/actor", "/text"]);
    assert.match(problemsOf({ actor: strings(101) })[0]?.detail ?? "", /at most 100 items, got 101/);
  });

  it("refuses a value over 256 characters, and an empty one", () => {
    assert.deepEqual(problemsOf({ requestId: ["x".repeat(257), ""] }), [
      { pointer: "/requestId/0", detail: "must be at most 256 characters, got 257" },
      { pointer: "/requestId/1", detail: "must not be empty" },
    ]);
  });

  it("validates values like the event fields they compare with", () => {
    assert.deepEqual(
      problemsOf({
        actorType: ["has space"],
        action: ["login"],
        actionPrefix: ["document"],
        outcome: ["ok"],
        ip: ["999.0.0.1"],
      }),
      [
        { pointer: "/actorType/0", detail: "must be 1-64 characters of letters, digits, '_', '.', ':' or '-'" },
        { pointer: "/action/0", detail: "must be dot-separated segments of letters, digits, '_' or '-', like document.shared" },
        { pointer: "/actionPrefix/0", detail: "must be dot-separated segments ending in '.', like document." },
        { pointer: "/outcome/0", detail: "must be one of success, failure, denied" },
        { pointer: "/ip/0", detail: "must be an IPv4 or IPv6 address" },
      ],
    );
  });

  it("refuses a text phrase with nothing to search for", () => {
    assert.deepEqual(problemsOf({ text: ["...", "\u0000"] }), [
      { pointer: "/text/0", detail: "must contain a letter or digit to search for" },
      { pointer: "/text/1", detail: "contains a control character" },
    ]);
  });

  it("refuses control characters and lone surrogates in any value", () => {
    assert.deepEqual(pointersOf({ actor: ["a\u0000b", "a\ud800", "tab\tok"] }), ["/actor/0", "/actor/1"]);
  });

  it("checks targets: known keys, type and/or id, each valid", () => {
    assert.deepEqual(problemsOf({ target: [{}, { type: "bad type" }, { id: 3 }, { type: "d", name: "x" }, "document/doc_9"] }), [
      { pointer: "/target/0", detail: "must have a type, an id or both" },
      { pointer: "/target/1/type", detail: "must be 1-64 characters of letters, digits, '_', '.', ':' or '-'" },
      { pointer: "/target/2/id", detail: "must be a string, got a number" },
      { pointer: "/target/3/name", detail: "unknown field; allowed: type, id" },
      { pointer: "/target/4", detail: "must be an object with type and/or id, got a string" },
    ]);
  });

  it("checks metadata: a key is required, values are text", () => {
    assert.deepEqual(problemsOf({ metadata: [{ value: "x" }, { key: "seats", value: 3 }, { key: "" }, { key: "k", op: "=" }] }), [
      { pointer: "/metadata/0/key", detail: "is required" },
      { pointer: "/metadata/1/value", detail: 'must be a string (metadata values compare as text: "3", "true"), got a number' },
      { pointer: "/metadata/2/key", detail: "must not be empty" },
      { pointer: "/metadata/3/op", detail: "unknown field; allowed: key, value" },
    ]);
  });

  it("refuses a bad timestamp and a range that holds nothing", () => {
    assert.deepEqual(
      problemsOf({
        occurredAfter: "2026-02-30",
        receivedAfter: "2026-11-02",
        receivedBefore: "2026-11-02T00:00:00.000Z",
        occurredBefore: 1700000000,
      }),
      [
        { pointer: "/occurredAfter", detail: "must be a date like 2026-11-01, a time like 2026-11-01T12:00Z, or an RFC 3339 timestamp" },
        { pointer: "/occurredBefore", detail: "must be a date like 2026-11-01, a time like 2026-11-01T12:00Z, or an RFC 3339 timestamp" },
        { pointer: "/receivedBefore", detail: "must be later than receivedAfter (receivedAfter is inclusive, receivedBefore exclusive)" },
      ],
    );
  });

  it("refuses an exact action together with an action prefix", () => {
    assert.deepEqual(pointersOf({ action: ["user.login"], actionPrefix: ["document."] }), ["/actionPrefix"]);
    assert.deepEqual(parseQueryFilter({ action: ["user.login"], not: { actionPrefix: ["user."] } }), {
      action: ["user.login"],
      not: { actionPrefix: ["user."] },
    });
  });

  it("refuses time bounds, nesting and unknown keys under not, with pointers below /not", () => {
    assert.deepEqual(problemsOf({ not: { occurredAfter: "2026-01-01", not: {}, nope: 1, actor: [""] } }), [
      { pointer: "/not/occurredAfter", detail: "time bounds cannot be negated; use the opposite bound" },
      { pointer: "/not/not", detail: "cannot be nested" },
      {
        pointer: "/not/nope",
        detail: "unknown field; allowed: actor, actorType, action, actionPrefix, outcome, ip, requestId, sessionId, target, metadata, text",
      },
      { pointer: "/not/actor/0", detail: "must not be empty" },
    ]);
    assert.deepEqual(pointersOf({ not: [] }), ["/not"]);
  });

  it("reports every problem at once, under the given pointer, and sums them up in the message", () => {
    try {
      parseQueryFilter({ actor: [""], outcome: ["nope"], extra: true }, "/filter");
      assert.fail("accepted");
    } catch (error) {
      assert.ok(error instanceof InputError);
      assert.deepEqual(
        error.problems.map((p) => p.pointer),
        ["/filter/extra", "/filter/actor/0", "/filter/outcome/0"],
      );
      assert.match(error.message, /^\/filter\/extra unknown field; allowed: actor, .* \(and 2 more\)$/);
    }
  });
});

describe("filter values and time bounds", () => {
  it("allows an empty metadata value and nothing else empty", () => {
    assert.equal(filterValueProblem("metadataValue", ""), undefined);
    assert.equal(filterValueProblem("metadataKey", ""), "must not be empty");
    assert.equal(filterValueProblem("actor", ""), "must not be empty");
  });

  it("normalizes the three accepted time forms and refuses others", () => {
    assert.equal(normalizeTimeBound("2026-11-01"), "2026-11-01T00:00:00.000Z");
    assert.equal(normalizeTimeBound("2026-11-01T23:30-01:00"), "2026-11-02T00:30:00.000Z");
    assert.equal(normalizeTimeBound("2026-11-01t10:00:00z"), "2026-11-01T10:00:00.000Z");
    for (const bad of ["2026-11", "2026-11-01T10Z", "2026-11-01 10:00Z", "2026-11-31", "1700000000", "", `2026-11-01${" ".repeat(100)}`]) {
      assert.equal(normalizeTimeBound(bad), undefined, bad);
    }
  });
});
