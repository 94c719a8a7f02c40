import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InputError } from "./errors.js";
import type { QueryFilter } from "./query.js";
import { parseQueryFilter, QUERY_LIMITS } from "./query-filter.js";
import { formatQuery, parseQuery, QUERY_QUALIFIERS, QueryError, suggestQualifier } from "./query-language.js";
import { seededRandom as random } from "./seeded-random.js";

/** The QueryError parseQuery throws, after checking its shape. */
function errorOf(text: string): QueryError {
  try {
    parseQuery(text);
  } catch (error) {
    assert.ok(error instanceof QueryError, `expected a QueryError, got ${String(error)}`);
    assert.ok(error instanceof InputError);
    assert.equal(error.code, "invalid_query");
    assert.equal(error.name, "QueryError");
    assert.ok(error.message.startsWith(`at column ${error.position + 1}: `), error.message);
    assert.deepEqual(error.problems, [{ parameter: "q", detail: error.message }]);
    assert.ok(error.expected.length > 0);
    return error;
  }
  assert.fail(`the query was accepted: ${text.slice(0, 80)}`);
}

describe("parseQuery: qualifiers", () => {
  it("reads actor:ID and actor.type:TYPE", () => {
    assert.deepEqual(parseQuery("actor:u_42 actor.type:service"), { actor: ["u_42"], actorType: ["service"] });
  });

  it("reads action:NAME as an exact action", () => {
    assert.deepEqual(parseQuery("action:document.shared"), { action: ["document.shared"] });
  });

  it("reads a trailing .* as an action prefix that keeps its dot", () => {
    assert.deepEqual(parseQuery("action:document.*"), { actionPrefix: ["document."] });
    assert.deepEqual(parseQuery("action:billing.invoice.*"), { actionPrefix: ["billing.invoice."] });
  });

  it("reads target:TYPE/ID, target:TYPE/*, target.type: and target.id: into one target list", () => {
    assert.deepEqual(parseQuery("target:document/doc_9 target:user/* target.id:x_1 target.type:folder"), {
      target: [{ type: "document", id: "doc_9" }, { type: "user" }, { id: "x_1" }, { type: "folder" }],
    });
  });

  it("splits target at the first slash, so ids may hold slashes", () => {
    assert.deepEqual(parseQuery("target:file/a/b/c.txt"), { target: [{ type: "file", id: "a/b/c.txt" }] });
  });

  it("reads each outcome", () => {
    assert.deepEqual(parseQuery("outcome:success outcome:failure outcome:denied"), { outcome: ["success", "failure", "denied"] });
  });

  it("reads ip:, request: and session:, with colons inside an IPv6 value", () => {
    assert.deepEqual(parseQuery("ip:203.0.113.9 ip:2001:db8::1 request:req-1 session:sess-1"), {
      ip: ["203.0.113.9", "2001:db8::1"],
      requestId: ["req-1"],
      sessionId: ["sess-1"],
    });
  });

  it("reads meta.KEY:VALUE and has:meta.KEY", () => {
    assert.deepEqual(parseQuery("meta.plan:pro has:meta.seats"), { metadata: [{ key: "plan", value: "pro" }, { key: "seats" }] });
  });

  it("keeps dots in a metadata key and takes the value after the first colon", () => {
    assert.deepEqual(parseQuery("meta.a.b:c:d"), { metadata: [{ key: "a.b", value: "c:d" }] });
  });

  it("reads quoted metadata keys and values, and an empty quoted value", () => {
    assert.deepEqual(parseQuery('meta."a key:x":"a value" has:meta."b key" has:"meta.c key" meta.empty:""'), {
      metadata: [{ key: "a key:x", value: "a value" }, { key: "b key" }, { key: "c key" }, { key: "empty", value: "" }],
    });
  });

  it("reads a bare date as its midnight UTC, after inclusive and before exclusive", () => {
    assert.deepEqual(parseQuery("after:2026-11-01 before:2026-11-27"), {
      occurredAfter: "2026-11-01T00:00:00.000Z",
      occurredBefore: "2026-11-27T00:00:00.000Z",
    });
  });

  it("adds the seconds to a time given to the minute", () => {
    assert.deepEqual(parseQuery("before:2026-11-27T12:00Z after:2026-11-27T08:30+02:00"), {
      occurredBefore: "2026-11-27T12:00:00.000Z",
      occurredAfter: "2026-11-27T06:30:00.000Z",
    });
  });

  it("normalizes full RFC 3339 timestamps to UTC and keeps their fraction", () => {
    assert.deepEqual(parseQuery("after:2026-11-27T12:00:00.123456+01:00"), { occurredAfter: "2026-11-27T11:00:00.123456Z" });
  });

  it("reads received-after: and received-before: into the receivedAt bounds", () => {
    assert.deepEqual(parseQuery("received-after:2026-11-01 received-before:2026-11-02"), {
      receivedAfter: "2026-11-01T00:00:00.000Z",
      receivedBefore: "2026-11-02T00:00:00.000Z",
    });
  });

  it("counts relative bounds back from options.now in minutes, hours, days and weeks", () => {
    const now = new Date("2026-11-27T12:00:00.000Z");
    assert.deepEqual(parseQuery("after:-24h", { now }), { occurredAfter: "2026-11-26T12:00:00.000Z" });
    assert.deepEqual(parseQuery("after:-7d before:-30m", { now }), {
      occurredAfter: "2026-11-20T12:00:00.000Z",
      occurredBefore: "2026-11-27T11:30:00.000Z",
    });
    assert.deepEqual(parseQuery("received-after:-2w", { now }), { receivedAfter: "2026-11-13T12:00:00.000Z" });
  });

  it("makes each bare word and each quoted phrase one text phrase", () => {
    assert.deepEqual(parseQuery('shared "with the board" Q3'), { text: ["shared", "with the board", "Q3"] });
  });

  it('unescapes \\" and \\\\ inside quotes', () => {
    assert.deepEqual(parseQuery('"say \\"hi\\" to C:\\\\temp"'), { text: ['say "hi" to C:\\temp'] });
  });

  it("accepts quoted qualifier values with spaces, taking them literally", () => {
    assert.deepEqual(parseQuery('actor:"user with spaces" request:"a*b"'), { actor: ["user with spaces"], requestId: ["a*b"] });
  });

  it("reads the empty query and a blank one as the empty filter", () => {
    assert.deepEqual(parseQuery(""), {});
    assert.deepEqual(parseQuery(" \t\n "), {});
  });

  it("separates terms by any whitespace", () => {
    assert.deepEqual(parseQuery("actor:a\tactor:b\nshared\u00a0file"), { actor: ["a", "b"], text: ["shared", "file"] });
  });

  it("names every qualifier it knows", () => {
    assert.equal(QUERY_QUALIFIERS.length, 16);
    assert.ok(QUERY_QUALIFIERS.includes("received-before"));
    assert.ok(QUERY_QUALIFIERS.includes("meta.KEY"));
  });
});

describe("parseQuery: combinations", () => {
  it("compiles the DESIGN §6 example", () => {
    const query =
      'actor:u_42 action:document.* target:document/doc_9 outcome:denied after:2026-11-01 before:2026-11-27T12:00Z -action:login.success "quoted free text"';
    assert.deepEqual(parseQuery(query), {
      actor: ["u_42"],
      actionPrefix: ["document."],
      target: [{ type: "document", id: "doc_9" }],
      outcome: ["denied"],
      occurredAfter: "2026-11-01T00:00:00.000Z",
      occurredBefore: "2026-11-27T12:00:00.000Z",
      text: ["quoted free text"],
      not: { action: ["login.success"] },
    });
  });

  it("ORs the values of a repeated qualifier into one list, in order", () => {
    assert.deepEqual(parseQuery("action:a.b action:c.d"), { action: ["a.b", "c.d"] });
  });

  it("ANDs different qualifiers as different fields", () => {
    assert.deepEqual(parseQuery("actor:u_1 outcome:denied"), { actor: ["u_1"], outcome: ["denied"] });
  });

  it("drops a value repeated verbatim", () => {
    assert.deepEqual(parseQuery("actor:a actor:a word word target:x/y target:x/y"), {
      actor: ["a"],
      text: ["word"],
      target: [{ type: "x", id: "y" }],
    });
  });

  it("keeps metadata conditions and text phrases as separate conditions (each must hold)", () => {
    assert.deepEqual(parseQuery("meta.plan:pro meta.plan:team alpha beta"), {
      metadata: [
        { key: "plan", value: "pro" },
        { key: "plan", value: "team" },
      ],
      text: ["alpha", "beta"],
    });
  });

  it("accepts several action prefixes, or several exact actions", () => {
    assert.deepEqual(parseQuery("action:user.* action:document.*"), { actionPrefix: ["user.", "document."] });
  });
});

describe("parseQuery: negation", () => {
  it("moves every negated qualifier into not", () => {
    const query =
      "-actor:a -actor.type:bot -action:x.y -action:z.* -target:d/1 -target.type:t -target.id:i -outcome:denied -ip:10.0.0.1 -request:r -session:s -meta.k:v -has:meta.h";
    assert.deepEqual(parseQuery(query), {
      not: {
        actor: ["a"],
        actorType: ["bot"],
        action: ["x.y"],
        actionPrefix: ["z."],
        target: [{ type: "d", id: "1" }, { type: "t" }, { id: "i" }],
        outcome: ["denied"],
        ip: ["10.0.0.1"],
        requestId: ["r"],
        sessionId: ["s"],
        metadata: [{ key: "k", value: "v" }, { key: "h" }],
      },
    });
  });

  it('negates a word and a "phrase" into not.text', () => {
    assert.deepEqual(parseQuery('-spam -"test run" keep'), { text: ["keep"], not: { text: ["spam", "test run"] } });
  });

  it("keeps a qualifier and its negation apart", () => {
    assert.deepEqual(parseQuery("action:user.* -action:user.login"), { actionPrefix: ["user."], not: { action: ["user.login"] } });
  });

  it("treats a dash inside a term, or inside a value, as part of it", () => {
    assert.deepEqual(parseQuery("e-mail actor:-x after:-1h", { now: new Date("2026-01-01T01:00:00Z") }), {
      text: ["e-mail"],
      actor: ["-x"],
      occurredAfter: "2026-01-01T00:00:00.000Z",
    });
  });
});

describe("parseQuery: errors", () => {
  const cases: [string, number, RegExp][] = [
    ["actor:", 6, /expected a value after "actor:"/],
    ["actor:u_1 acter:x", 10, /unknown qualifier "acter:"; did you mean "actor:"\?/],
    ["Actor:x", 0, /did you mean "actor:"/],
    ['"unterminated', 0, /never closed/],
    ['action:"a.b', 7, /never closed/],
    ["report*", 6, /"\*" is not a wildcard in free text/],
    ["action:doc*", 10, /only a trailing "\.\*" is a wildcard/],
    ["action:*", 7, /"\*" is not a wildcard/],
    ["action:a.*.b", 9, /"\*" is not a wildcard/],
    ["target:doc/*x", 11, /"\*" is not a wildcard in a target id/],
    ["actor:u*", 7, /"\*" is not a wildcard/],
    ["after:2026-02-30", 6, /"after:" expects a date/],
    ["before:yesterday", 7, /"before:" expects a date/],
    ["outcome:ok", 8, /must be one of success, failure, denied/],
    ["-after:2026-01-01", 0, /"after:" cannot be negated; use "before:"/],
    ["x -received-before:2026-01-01", 2, /use "received-after:"/],
    ["actor:a -", 8, /a lone "-"/],
    ["a - b", 2, /a lone "-"/],
    ["--x", 1, /not another "-"/],
    ["after:2026-01-01 after:2026-02-01", 17, /may appear only once/],
    ["after:2026-02-01 before:2026-01-01", 17, /"before:" must be later than "after:"/],
    ["before:2026-01-01 after:2026-01-01", 18, /must be later/],
    ['"a\\x"', 2, /unknown escape/],
    ['actor:"x"y', 9, /expected a space after the closing quote/],
    ['foo"bar"', 3, /a quote may only open a term/],
    ['actor:ab"c', 8, /quote the whole value/],
    ["meta.:x", 5, /expected a metadata key after "meta\."/],
    ["meta.k:", 7, /expected a value after "meta\.k:"/],
    ["has:plan", 4, /"has:" takes a metadata key/],
    ["has:meta.", 9, /expected a metadata key/],
    ["target:document", 7, /expected TYPE\/ID or TYPE\/\*/],
    ["target:/x", 7, /the type in "target:" must not be empty/],
    ["target:doc/", 11, /the id in "target:" must not be empty/],
    ['"..."', 0, /must contain a letter or digit/],
    ["ip:999.1.1.1", 3, /IPv4 or IPv6/],
    ['actor.type:"bad type"', 11, /1-64 characters/],
    ["action:a.b action:c.*", 11, /cannot mix exact actions and prefixes/],
    [":x", 0, /expected a qualifier before ":"/],
    ["https://example.com", 0, /unknown qualifier "https:"/],
    ["actor:a\u0000b", 7, /control characters/],
    ["ok \ud800", 3, /lone surrogates/],
  ];
  for (const [query, position, message] of cases) {
    it(`refuses ${JSON.stringify(query)} at position ${position}`, () => {
      const error = errorOf(query);
      assert.equal(error.position, position, error.message);
      assert.match(error.message, message);
    });
  }

  it("says what it expected", () => {
    assert.equal(errorOf("actor:").expected, 'a value after "actor:"');
    assert.equal(errorOf('"abc').expected, 'a closing "');
    assert.equal(errorOf("outcome:ok").expected, "success, failure or denied");
    assert.match(errorOf("acter:x").expected, /^a qualifier: actor, actor\.type, action/);
  });

  it("suggests the nearest qualifier, and the one people usually mean", () => {
    assert.equal(suggestQualifier("actr"), "actor");
    assert.equal(suggestQualifier("recieved-after"), "received-after");
    assert.equal(suggestQualifier("target.ID"), "target.id");
    assert.equal(suggestQualifier("status"), "outcome");
    assert.equal(suggestQualifier("since"), "after");
    assert.equal(suggestQualifier("metadata.plan"), "meta.plan");
    assert.equal(suggestQualifier("user"), "actor");
  });

  it("refuses an out-of-range relative time", () => {
    assert.equal(errorOf("after:-999999w").position, 6);
  });

  it("refuses more than 100 values for one qualifier on one side, at the 101st", () => {
    const terms = Array.from({ length: 101 }, (_, i) => `ip:10.0.${i >> 8}.${i & 255}`);
    const query = terms.join(" ");
    assert.ok(query.length <= QUERY_LIMITS.queryLength);
    const error = errorOf(query);
    assert.equal(error.position, query.lastIndexOf("ip:"));
    assert.match(error.message, /at most 100/);
  });

  it("refuses more than 20 text phrases", () => {
    const query = Array.from({ length: 21 }, (_, i) => `w${i}`).join(" ");
    assert.equal(errorOf(query).position, query.lastIndexOf("w20"));
  });

  it("refuses a phrase over 256 characters", () => {
    assert.match(errorOf(`"${"a ".repeat(200)}"`).message, /at most 256 characters/);
  });
});

describe("parseQuery: hostile input", () => {
  it("reads SQL in a quoted value as plain data", () => {
    assert.deepEqual(parseQuery(`actor:"'; DROP TABLE entries; --"`), { actor: ["'; DROP TABLE entries; --"] });
    assert.deepEqual(parseQuery(`"') OR 1=1 --"`), { text: ["') OR 1=1 --"] });
  });

  it("refuses unquoted SQL at the stray double dash", () => {
    const error = errorOf("actor:'; DROP TABLE entries; --");
    assert.equal(error.position, 30);
  });

  it('refuses "\\u0000" (an unknown escape) and a real NUL', () => {
    assert.equal(errorOf('"\\u0000"').position, 1);
    assert.equal(errorOf('"\u0000"').position, 1);
  });

  it("refuses a query over 2,000 characters at once, without reading it", () => {
    const started = performance.now();
    const error = errorOf(`actor:${"x".repeat(1_000_000)}`);
    assert.equal(error.position, QUERY_LIMITS.queryLength);
    assert.match(error.message, /the limit is 2000/);
    assert.ok(performance.now() - started < 5_000, "bounded: no catastrophic backtracking");
  });

  it("answers every pathological query at the limit quickly", () => {
    const n = QUERY_LIMITS.queryLength;
    const inputs = [
      '"'.repeat(n),
      "\\".repeat(n),
      "-".repeat(n),
      ":".repeat(n),
      "*".repeat(n),
      `"${"\\\\".repeat((n - 2) / 2)}"`,
      "a".repeat(n),
      "a:".repeat(n / 2),
      `meta.${"k".repeat(n - 7)}:v`,
      "actor:x ".repeat(n / 8),
      `${"a".repeat(n - 6)}actor:`,
      "x".repeat(n - 1) + String.fromCharCode(0),
    ];
    const started = performance.now();
    for (const input of inputs) {
      assert.ok(input.length <= n);
      try {
        parseQuery(input);
      } catch (error) {
        assert.ok(error instanceof QueryError, String(error));
        assert.ok(error.position >= 0 && error.position <= n);
      }
    }
    assert.ok(performance.now() - started < 5_000, "bounded: no catastrophic backtracking");
  });

  it("never echoes a value into the message", () => {
    const error = errorOf("outcome:secret-person@example.com");
    assert.doesNotMatch(error.message, /secret-person/);
  });
});

describe("formatQuery", () => {
  it("prints the DESIGN §6 example back in the language", () => {
    const filter = parseQuery('actor:u_42 action:document.* target:document/doc_9 outcome:denied after:2026-11-01 "free text"');
    assert.equal(formatQuery(filter), 'actor:u_42 action:document.* target:document/doc_9 outcome:denied "free text" after:2026-11-01');
  });

  it("prints time bounds in their shortest form", () => {
    assert.equal(
      formatQuery({
        occurredAfter: "2026-11-01T00:00:00.000Z",
        occurredBefore: "2026-11-27T12:00:00.000Z",
        receivedAfter: "2026-11-27T12:00:01.500Z",
      }),
      "after:2026-11-01 before:2026-11-27T12:00Z received-after:2026-11-27T12:00:01.500Z",
    );
  });

  it("quotes what a bare term cannot hold", () => {
    assert.equal(
      formatQuery({
        actor: ["a b", 'q"', "x*", ""],
        target: [{ type: "doc", id: "*" }, { type: "doc", id: "a b" }, { id: "x" }, { type: "t" }],
        metadata: [{ key: "a:b", value: "c" }, { key: "k k" }],
        text: ["-dash", "a:b", "plain", "two words"],
        not: { text: ["x"], actionPrefix: ["user."] },
      }),
      [
        'actor:"a b" actor:"q\\"" actor:"x*" actor:""',
        'target:"doc/*" target:"doc/a b" target.id:x target.type:t',
        'meta."a:b":c has:meta."k k"',
        '"-dash" "a:b" plain "two words"',
        "-action:user.* -x",
      ].join(" "),
    );
  });

  it("prints the empty filter as the empty query", () => {
    assert.equal(formatQuery({}), "");
  });
});

describe("round trip", () => {
  const rand = random(20261127);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const some = <T>(make: () => T): T[] => Array.from({ length: 1 + Math.floor(rand() * 3) }, make);
  // Values chosen to hit every quoting rule: spaces, quotes, backslashes, colons, stars, dashes, Unicode.
  const ids = ["u_42", "a b", 'say "hi"', "C:\\dir", "x*y", "*", "-lead", "ünï", "a:b", "/slash/", "tab\there", "x"];
  const words = ["shared", "Q3 report", "-dash", 'he said "no"', "a:b", "naïve café", "back\\slash", "x*", "9"];
  const metaValues = ["pro", "", "3", "true", "a b", 'q"', "x*"];
  const metaKeys = ["plan", "a.b", "k k", "a:b", "ü", "x*"];
  const conditions = () => {
    const c: Record<string, unknown> = {};
    const unique = <T>(items: T[]) => [...new Map(items.map((i) => [JSON.stringify(i), i])).values()];
    if (rand() < 0.3) c.actor = unique(some(() => pick(ids)));
    if (rand() < 0.2) c.actorType = unique(some(() => pick(["user", "service", "api_key", "a.b:c-d"])));
    const actions = rand();
    if (actions < 0.3) c.action = unique(some(() => pick(["user.login", "document.shared", "a_b.c-d.e"])));
    else if (actions < 0.5) c.actionPrefix = unique(some(() => pick(["user.", "document.", "billing.invoice."])));
    if (rand() < 0.3) {
      c.target = unique(
        some(() => {
          const r = rand();
          return r < 0.4
            ? { type: pick(["document", "user"]), id: pick(ids) }
            : r < 0.7
              ? { type: pick(["document", "user"]) }
              : { id: pick(ids) };
        }),
      );
    }
    if (rand() < 0.2) c.outcome = unique(some(() => pick(["success", "failure", "denied"])));
    if (rand() < 0.2) c.ip = unique(some(() => pick(["203.0.113.9", "2001:db8::1", "10.0.0.1"])));
    if (rand() < 0.2) c.requestId = unique(some(() => pick(ids)));
    if (rand() < 0.2) c.sessionId = unique(some(() => pick(ids)));
    if (rand() < 0.3)
      c.metadata = unique(some(() => (rand() < 0.3 ? { key: pick(metaKeys) } : { key: pick(metaKeys), value: pick(metaValues) })));
    if (rand() < 0.3) c.text = unique(some(() => pick(words)));
    return c;
  };
  const filterAt = (): QueryFilter => {
    const filter = conditions() as QueryFilter;
    if (rand() < 0.3) filter.occurredAfter = pick(["2026-11-01T00:00:00.000Z", "2026-11-01T12:30:00.000Z", "2026-11-01T12:30:05.123456Z"]);
    if (rand() < 0.3) filter.occurredBefore = "2026-12-01T00:00:00.000Z";
    if (rand() < 0.2) filter.receivedAfter = "2026-11-02T00:00:00.001Z";
    if (rand() < 0.2) filter.receivedBefore = "2026-11-30T23:59:59.999Z";
    if (rand() < 0.4) {
      const not = conditions();
      if (Object.keys(not).length > 0) filter.not = not;
    }
    return filter;
  };

  it("parses 500 random valid filters back from their printed form", () => {
    for (let i = 0; i < 500; i++) {
      const filter = filterAt();
      assert.deepEqual(parseQueryFilter(filter), filter, "the generator makes valid, normalized filters");
      const text = formatQuery(filter);
      assert.deepEqual(parseQuery(text), filter, text);
      assert.equal(formatQuery(parseQuery(text)), text);
    }
  });

  it("prints a parsed query so that it parses to the same filter", () => {
    for (const query of [
      "actor:u_42 action:document.* -outcome:success after:2026-11-01",
      'has:meta."a b" meta.x:"" -"quoted phrase" word',
      "target:doc/* target.id:x target:doc/y received-before:2026-11-27T12:00:00.5Z",
    ]) {
      const filter = parseQuery(query);
      assert.deepEqual(parseQuery(formatQuery(filter)), filter);
    }
  });
});
