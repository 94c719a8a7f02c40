import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JsonValue } from "./canonical-json.js";
import type { AuditEvent, Outcome } from "./event.js";
import { compileMatcher, matchesFilter, searchTokens } from "./event-matcher.js";
import type { MetadataMatch, QueryExclusions, QueryFilter, TargetMatch } from "./query.js";
import { parseQuery } from "./query-language.js";
import { seededRandom as random } from "./seeded-random.js";

const base = (): AuditEvent => ({
  id: "01JD0000000000000000000000",
  action: "document.shared",
  occurredAt: "2026-11-27T12:00:00.000Z",
  actor: { type: "user", id: "u_42", name: "Ada Lovelace", email: "ada@example.com" },
  targets: [
    { type: "document", id: "doc_9", name: "Q3 Board Report" },
    { type: "folder", id: "f_1" },
  ],
  outcome: "success",
  context: { ip: "203.0.113.9", requestId: "req-1", sessionId: "sess-1", userAgent: "curl/8.5" },
  metadata: { plan: "pro", seats: 3, trial: false, tags: ["a"], nested: { x: 1 }, nothing: null, note: "Shared with the board" },
  receivedAt: "2026-11-27T12:00:01.000Z",
  version: 1,
});

const event = (patch: Partial<AuditEvent> = {}): AuditEvent => ({ ...base(), ...patch });
const matches = (filter: QueryFilter, e: AuditEvent = base()) => matchesFilter(e, filter);

describe("searchTokens (FTS5 unicode61 remove_diacritics 0)", () => {
  it("splits on everything but letters and digits, and folds case", () => {
    assert.deepEqual(searchTokens("Document.Shared u_42 ada@example.com Q3-Board"), [
      "document",
      "shared",
      "u",
      "42",
      "ada",
      "example",
      "com",
      "q3",
      "board",
    ]);
  });

  it("keeps diacritics, composed or combining, and folds the case of accented letters", () => {
    assert.deepEqual(searchTokens("Café Zoe\u0308 NAÏVE cafe"), ["café", "zoe\u0308", "naïve", "cafe"]);
  });

  it("folds by Unicode case folding, not just lower-casing, as SQLite does", () => {
    assert.deepEqual(searchTokens("Maſs ΣΟΦΟΣ σοφος µ"), ["mass", "σοφοσ", "σοφοσ", "μ"]);
  });

  it("leaves İ as it is, as SQLite does (its lower case is two code points)", () => {
    assert.deepEqual(searchTokens("İSTANBUL"), ["İstanbul"]);
  });

  it("keeps a run of CJK characters as one token", () => {
    assert.deepEqual(searchTokens("报告 东京2026"), ["报告", "东京2026"]);
  });

  it("treats a combining mark that starts a token as a separator", () => {
    assert.deepEqual(searchTokens("a \u0301b"), ["a", "b"]);
  });

  it("finds nothing to search in punctuation and symbols", () => {
    assert.deepEqual(searchTokens("... --- ©®™ 🙂"), []);
  });
});

describe("matchesFilter: each condition", () => {
  it("matches everything with the empty filter", () => {
    assert.ok(matches({}));
  });

  it("reads empty lists literally: one of none holds for nothing, every one of none always holds, and excludes nothing", () => {
    for (const field of ["actor", "actorType", "action", "actionPrefix", "target", "outcome", "ip", "requestId", "sessionId"]) {
      assert.ok(!matches({ [field]: [] }), field);
      assert.ok(matches({ not: { [field]: [] } }), field);
    }
    assert.ok(matches({ metadata: [], text: [], not: { metadata: [], text: [] } }));
  });

  it("matches any event with a target for a target match with neither type nor id", () => {
    assert.ok(matches({ target: [{}] }));
    assert.ok(!matches({ target: [{}] }, event({ targets: [] })));
  });

  it("matches actor ids and actor types", () => {
    assert.ok(matches({ actor: ["x", "u_42"] }));
    assert.ok(!matches({ actor: ["U_42"] }));
    assert.ok(matches({ actorType: ["user"] }));
    assert.ok(!matches({ actorType: ["service"] }));
  });

  it("matches exact actions and dot-terminated prefixes", () => {
    assert.ok(matches({ action: ["document.shared"] }));
    assert.ok(!matches({ action: ["document"] }));
    assert.ok(matches({ actionPrefix: ["document."] }));
    assert.ok(!matches({ actionPrefix: ["doc."] }));
    assert.ok(!matches({ actionPrefix: ["document."] }, event({ action: "documents.shared" })));
  });

  it("ANDs an exact action with a prefix, as the filter contract says (the parsers refuse the mix)", () => {
    assert.ok(matches({ action: ["document.shared"], actionPrefix: ["document."] }));
    assert.ok(!matches({ action: ["document.shared"], actionPrefix: ["user."] }));
  });

  it("matches a target by type, by id, or by both on the same target", () => {
    assert.ok(matches({ target: [{ type: "folder" }] }));
    assert.ok(matches({ target: [{ id: "doc_9" }] }));
    assert.ok(matches({ target: [{ type: "document", id: "doc_9" }] }));
    assert.ok(!matches({ target: [{ type: "document", id: "f_1" }] }), "type and id must hold on one target");
    assert.ok(matches({ target: [{ type: "document", id: "f_1" }, { id: "f_1" }] }));
    assert.ok(!matches({ target: [{ type: "document" }] }, event({ targets: [] })));
  });

  it("matches outcomes", () => {
    assert.ok(matches({ outcome: ["failure", "success"] }));
    assert.ok(!matches({ outcome: ["denied"] }));
  });

  it("matches context fields exactly, and never when the event lacks them", () => {
    assert.ok(matches({ ip: ["203.0.113.9"], requestId: ["req-1"], sessionId: ["sess-1"] }));
    assert.ok(!matches({ ip: ["203.0.113.10"] }));
    const bare = event({ context: undefined });
    assert.ok(!matches({ ip: ["203.0.113.9"] }, bare));
    assert.ok(!matches({ requestId: ["req-1"] }, bare));
    assert.ok(!matches({ sessionId: ["sess-1"] }, bare));
    assert.ok(matches({ not: { ip: ["203.0.113.9"] } }, bare));
  });

  it("matches metadata keys, and values by their text form", () => {
    assert.ok(matches({ metadata: [{ key: "plan", value: "pro" }] }));
    assert.ok(
      matches({
        metadata: [
          { key: "seats", value: "3" },
          { key: "trial", value: "false" },
        ],
      }),
    );
    assert.ok(!matches({ metadata: [{ key: "seats", value: "3.0" }] }));
    assert.ok(matches({ metadata: [{ key: "tags" }, { key: "nested" }, { key: "nothing" }] }));
    assert.ok(!matches({ metadata: [{ key: "nothing", value: "null" }] }), "null, objects and arrays have no text form");
    assert.ok(!matches({ metadata: [{ key: "tags", value: "a" }] }));
    assert.ok(!matches({ metadata: [{ key: "missing" }] }));
    assert.ok(!matches({ metadata: [{ key: "Plan" }] }));
  });

  it("requires every metadata condition", () => {
    assert.ok(
      !matches({
        metadata: [
          { key: "plan", value: "pro" },
          { key: "plan", value: "team" },
        ],
      }),
    );
  });

  it("sees only the first 32 metadata keys and the first 256 characters of a value, as the index does", () => {
    const metadata: Record<string, JsonValue> = {};
    for (let i = 0; i < 40; i++) metadata[`k${i}`] = i;
    metadata.k0 = "x".repeat(300);
    const e = event({ metadata });
    assert.ok(matches({ metadata: [{ key: "k31" }] }, e));
    assert.ok(!matches({ metadata: [{ key: "k32" }] }, e));
    assert.ok(matches({ metadata: [{ key: "k0", value: "x".repeat(256) }] }, e));
    assert.ok(!matches({ metadata: [{ key: "k0", value: "x".repeat(300) }] }, e));
  });

  it("matches text phrases as consecutive whole tokens, ignoring case and diacritics", () => {
    assert.ok(matches({ text: ["board report"] }));
    assert.ok(matches({ text: ["BOARD-REPORT"] }));
    assert.ok(!matches({ text: ["report board"] }));
    assert.ok(!matches({ text: ["boar"] }), "no prefix matching");
    assert.ok(matches({ text: ["CAFÉ"] }, event({ actor: { type: "user", id: "u", name: "café" } })));
    assert.ok(!matches({ text: ["cafe"] }, event({ actor: { type: "user", id: "u", name: "Café" } })), "diacritics count");
  });

  it("searches action, actor, target names and ids, email and string metadata, and nothing else", () => {
    for (const phrase of [
      "document shared",
      "u 42",
      "ada lovelace",
      "ada example com",
      "doc 9",
      "f 1",
      "folder",
      "pro",
      "with the board",
    ]) {
      assert.ok(matches({ text: [phrase] }), phrase);
    }
    for (const phrase of ["user", "203", "req", "curl", "3", "false", "plan", "seats"]) {
      assert.ok(!matches({ text: [phrase] }), phrase);
    }
  });

  it("lets a phrase run across neighbouring fields, as one FTS5 column does", () => {
    assert.ok(matches({ text: ["shared u 42"] }));
  });

  it("requires every phrase", () => {
    assert.ok(matches({ text: ["ada", "board"] }));
    assert.ok(!matches({ text: ["ada", "grace"] }));
  });

  it("finds a phrase without tokens in every event, so excluding it excludes everything (the parsers refuse one)", () => {
    assert.ok(matches({ text: ["..."] }));
    assert.ok(!matches({ not: { text: ["..."] } }));
  });

  it("bounds occurredAt: after inclusive, before exclusive", () => {
    assert.ok(matches({ occurredAfter: "2026-11-27T12:00:00.000Z" }));
    assert.ok(!matches({ occurredAfter: "2026-11-27T12:00:00.001Z" }));
    assert.ok(!matches({ occurredBefore: "2026-11-27T12:00:00.000Z" }));
    assert.ok(matches({ occurredBefore: "2026-11-27T12:00:00.001Z" }));
  });

  it("bounds receivedAt the same way", () => {
    assert.ok(matches({ receivedAfter: "2026-11-27T12:00:01.000Z", receivedBefore: "2026-11-27T12:00:01.001Z" }));
    assert.ok(!matches({ receivedBefore: "2026-11-27T12:00:01.000Z" }));
    assert.ok(!matches({ receivedAfter: "2026-11-27T12:00:01.001Z" }));
  });

  it("compares times in milliseconds, as the store's index does", () => {
    assert.ok(matches({ occurredAfter: "2026-11-27T12:00:00.000999Z" }));
    assert.ok(matches({ occurredBefore: "2026-11-27T12:00:00.001Z" }, event({ occurredAt: "2026-11-27T12:00:00.000999Z" })));
  });

  it("matches nothing with an unparseable bound", () => {
    assert.ok(!matches({ occurredAfter: "yesterday" }));
  });
});

describe("matchesFilter: not", () => {
  it("excludes an event matching any single excluded condition", () => {
    assert.ok(!matches({ not: { actor: ["nobody"], outcome: ["success"] } }));
    assert.ok(matches({ not: { actor: ["nobody"], outcome: ["denied"] } }));
    assert.ok(!matches({ not: { actionPrefix: ["document."] } }));
    assert.ok(!matches({ not: { target: [{ type: "folder" }] } }));
    assert.ok(!matches({ not: { metadata: [{ key: "nope" }, { key: "plan" }] } }));
    assert.ok(!matches({ not: { text: ["nope", "board"] } }));
    assert.ok(matches({ not: { text: ["nope"], metadata: [{ key: "plan", value: "team" }] } }));
  });

  it("applies exclusions after the positive conditions", () => {
    assert.ok(!matches({ actor: ["u_42"], not: { action: ["document.shared"] } }));
    assert.ok(matches({ actor: ["u_42"], not: { action: ["document.deleted"] } }));
  });

  it("agrees with the query language end to end", () => {
    const events = [
      event(),
      event({ actor: { type: "user", id: "u_7" }, outcome: "denied" }),
      event({ action: "user.login", targets: [] }),
      event({ occurredAt: "2026-10-01T00:00:00.000Z" }),
    ];
    const ids = (q: string) => events.flatMap((e, i) => (matchesFilter(e, parseQuery(q)) ? [i] : []));
    assert.deepEqual(ids("actor:u_42"), [0, 2, 3]);
    assert.deepEqual(ids("action:document.* -outcome:denied"), [0, 3]);
    assert.deepEqual(ids("after:2026-11-01 board"), [0, 1, 2], "event 2 mentions the board in its metadata");
    assert.deepEqual(ids("target:document/* has:meta.plan"), [0, 1, 3]);
    assert.deepEqual(ids('-"board report"'), [2]);
  });

  it("compiles once and matches many events", () => {
    const matcher = compileMatcher({ outcome: ["denied"] });
    assert.deepEqual(
      (["success", "denied", "failure"] as Outcome[]).map((outcome) => matcher(event({ outcome }))),
      [false, true, false],
    );
  });
});

/**
 * An independent evaluation of a filter, written from the contract in query.ts and the FTS5
 * phrase rules, reading the event directly (not through indexFieldsOf or searchTokens). It only
 * has to be right for the alphabet the generator below uses: ASCII plus é, ë and Å, precomposed.
 */
function bruteForce(e: AuditEvent, filter: QueryFilter): boolean {
  const tokens = (text: string) =>
    text
      .toLowerCase()
      .split(/[^a-z0-9\u00e9\u00eb\u00e5]+/)
      .filter((t) => t !== "");
  const entries = Object.entries(e.metadata ?? {}).slice(0, 32);
  const textOf = (v: JsonValue) => (v === null || typeof v === "object" ? undefined : String(v).slice(0, 256));
  const words = [e.action, e.actor.id, e.actor.name ?? "", e.actor.email ?? ""];
  for (const t of e.targets) words.push(t.type, t.id, t.name ?? "");
  for (const [, v] of entries) if (typeof v === "string") words.push(v.slice(0, 256));
  const haystack = ` ${tokens(words.join(" ")).join(" ")} `;

  const one = {
    actor: (v: string) => e.actor.id === v,
    actorType: (v: string) => e.actor.type === v,
    action: (v: string) => e.action === v,
    actionPrefix: (v: string) => e.action.slice(0, v.length) === v,
    outcome: (v: string) => e.outcome === v,
    ip: (v: string) => e.context?.ip === v,
    requestId: (v: string) => e.context?.requestId === v,
    sessionId: (v: string) => e.context?.sessionId === v,
    target: (m: TargetMatch) => e.targets.some((t) => (m.type ?? t.type) === t.type && (m.id ?? t.id) === t.id),
    metadata: (m: MetadataMatch) => entries.some(([k, v]) => k === m.key && (m.value === undefined || textOf(v) === m.value)),
    // The empty token sequence occurs in every text.
    text: (p: string) => tokens(p).length === 0 || haystack.includes(` ${tokens(p).join(" ")} `),
  };
  const fields = Object.keys(one) as (keyof typeof one)[];
  const holds = (field: keyof typeof one, value: unknown) => (one[field] as (v: unknown) => boolean)(value);
  const listed = (c: QueryExclusions, field: keyof typeof one): unknown[] => (c[field] as unknown[] | undefined) ?? [];

  // Fields AND; values of a field OR, except metadata and text where each entry must hold.
  for (const field of fields) {
    const values = filter[field] as unknown[] | undefined;
    if (values === undefined) continue;
    const ok = field === "metadata" || field === "text" ? values.every((v) => holds(field, v)) : values.some((v) => holds(field, v));
    if (!ok) return false;
  }
  // Normalized timestamps with three fractional digits order as strings.
  if (filter.occurredAfter !== undefined && e.occurredAt < filter.occurredAfter) return false;
  if (filter.occurredBefore !== undefined && !(e.occurredAt < filter.occurredBefore)) return false;
  if (filter.receivedAfter !== undefined && e.receivedAt < filter.receivedAfter) return false;
  if (filter.receivedBefore !== undefined && !(e.receivedAt < filter.receivedBefore)) return false;
  const not = filter.not ?? {};
  return !fields.some((field) => listed(not, field).some((v) => holds(field, v)));
}

describe("matchesFilter agrees with a brute-force evaluation", () => {
  const rand = random(6962);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const maybe = <T>(p: number, make: () => T): T | undefined => (rand() < p ? make() : undefined);
  // Now and then an empty list, which the parsers refuse but the matcher must still read literally.
  const some = <T>(make: () => T, max = 3): T[] => Array.from({ length: rand() < 0.03 ? 0 : 1 + Math.floor(rand() * max) }, make);

  const vocabulary = [
    "board",
    "report",
    "Q3",
    "caf\u00e9",
    "CAF\u00c9",
    "cafe",
    "Zo\u00eb",
    "\u00c5sa",
    "alpha",
    "beta",
    "2026",
    "shared",
    "u",
    "42",
  ];
  const sentence = () => some(() => pick(vocabulary), 4).join(pick([" ", "-", ", ", "_", "."]));
  const actions = ["user.login", "user.logout", "document.shared", "document.deleted", "billing.invoice.paid", "documents.x"];
  const actorIds = ["u_1", "u_2", "u_42", "svc-9"];
  const targetTypes = ["document", "folder", "user"];
  const targetIds = ["doc_1", "doc_2", "f_1", "u_1"];
  const ips = ["203.0.113.9", "10.0.0.1", "2001:db8::1"];
  const requestIds = ["req-1", "req-2"];
  const metaKeys = ["plan", "seats", "note", "tags", "trial"];
  const metaValue = (): JsonValue =>
    pick<JsonValue>(["pro", "team", 3, 4, true, false, null, ["a"], { x: 1 }, "Board report", "caf\u00e9"]);
  const times = ["2026-11-01T00:00:00.000Z", "2026-11-15T08:30:00.000Z", "2026-11-27T12:00:00.000Z", "2026-12-01T00:00:00.000Z"];
  const outcomes: Outcome[] = ["success", "failure", "denied"];

  const randomEvent = (i: number): AuditEvent => {
    const metadata: Record<string, JsonValue> = {};
    for (const key of metaKeys) if (rand() < 0.4) metadata[key] = metaValue();
    const context = {
      ...(rand() < 0.7 ? { ip: pick(ips) } : {}),
      ...(rand() < 0.5 ? { requestId: pick(requestIds) } : {}),
      ...(rand() < 0.5 ? { sessionId: pick(["s1", "s2"]) } : {}),
    };
    const e: AuditEvent = {
      id: `e${i}`,
      action: pick(actions),
      occurredAt: pick(times),
      actor: { type: pick(["user", "service"]), id: pick(actorIds), ...(rand() < 0.6 ? { name: sentence() } : {}) },
      targets:
        rand() < 0.2
          ? []
          : some(() => ({ type: pick(targetTypes), id: pick(targetIds), ...(rand() < 0.5 ? { name: sentence() } : {}) }), 2),
      outcome: pick(outcomes),
      receivedAt: pick(times),
      version: 1,
    };
    if (rand() < 0.8) e.context = context;
    if (rand() < 0.8) e.metadata = metadata;
    return e;
  };

  const randomConditions = (p: number): QueryExclusions => {
    const c: QueryExclusions = {
      actor: maybe(p, () => some(() => pick([...actorIds, "nobody"]))),
      actorType: maybe(p, () => some(() => pick(["user", "service", "bot"]))),
      action: maybe(p, () => some(() => pick(actions))),
      actionPrefix: maybe(p, () => some(() => pick(["user.", "document.", "billing.", "billing.invoice.", "doc."]))),
      target: maybe(p, () =>
        some(() =>
          pick<TargetMatch>([{ type: pick(targetTypes) }, { id: pick(targetIds) }, { type: pick(targetTypes), id: pick(targetIds) }]),
        ),
      ),
      outcome: maybe(p, () => some(() => pick(outcomes))),
      ip: maybe(p, () => some(() => pick(ips))),
      requestId: maybe(p, () => some(() => pick([...requestIds, "req-3"]))),
      sessionId: maybe(p, () => some(() => pick(["s1", "s2", "s3"]))),
      metadata: maybe(p, () =>
        some(
          () =>
            rand() < 0.4 ? { key: pick(metaKeys) } : { key: pick(metaKeys), value: pick(["pro", "team", "3", "true", "false", "null"]) },
          2,
        ),
      ),
      text: maybe(p, () => some(() => (rand() < 0.02 ? "..." : rand() < 0.5 ? pick(vocabulary) : sentence()), 2)),
    };
    for (const key of Object.keys(c) as (keyof QueryExclusions)[]) if (c[key] === undefined) delete c[key];
    return c;
  };

  const randomFilter = (): QueryFilter => {
    const filter: QueryFilter = randomConditions(0.25);
    const bounds = [...times, "2026-11-15T08:30:00.001Z"];
    if (rand() < 0.3) filter.occurredAfter = pick(bounds);
    if (rand() < 0.3) filter.occurredBefore = pick(bounds);
    if (rand() < 0.2) filter.receivedAfter = pick(bounds);
    if (rand() < 0.2) filter.receivedBefore = pick(bounds);
    if (rand() < 0.5) filter.not = randomConditions(0.15);
    return filter;
  };

  it("on 300 random events against 250 random filters", () => {
    const events = Array.from({ length: 300 }, (_, i) => randomEvent(i));
    let matched = 0;
    let total = 0;
    for (let f = 0; f < 250; f++) {
      const filter = randomFilter();
      const matcher = compileMatcher(filter);
      for (const e of events) {
        const expected = bruteForce(e, filter);
        if (matcher(e) !== expected) {
          assert.fail(`disagreement (brute force says ${expected})\nfilter ${JSON.stringify(filter)}\nevent ${JSON.stringify(e)}`);
        }
        total++;
        if (expected) matched++;
      }
    }
    // The generator must exercise both answers, or the comparison proves little.
    assert.ok(matched / total > 0.05 && matched / total < 0.95, `matched ${matched} of ${total}`);
  });

  it("on 200 single-condition filters and their negations, where each field decides alone", () => {
    const events = Array.from({ length: 200 }, (_, i) => randomEvent(i));
    const fields = [
      "actor",
      "actorType",
      "action",
      "actionPrefix",
      "target",
      "outcome",
      "ip",
      "requestId",
      "sessionId",
      "metadata",
      "text",
    ] as const;
    for (let f = 0; f < 200; f++) {
      const field = pick(fields);
      const filter = { [field]: randomConditions(1)[field] } as QueryFilter;
      const negated: QueryFilter = { not: filter };
      for (const e of events) {
        assert.equal(matchesFilter(e, filter), bruteForce(e, filter), JSON.stringify({ filter, e }));
        assert.equal(matchesFilter(e, negated), bruteForce(e, negated), JSON.stringify({ negated, e }));
      }
    }
  });
});
