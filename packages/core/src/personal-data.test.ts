import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, InputError } from "./errors.js";
import { type EventDraft, validateEvent } from "./event.js";
import {
  collectEnvelopes,
  compareRevealed,
  compilePersonalData,
  ENVELOPE_PREFIX,
  formatEnvelope,
  isEnvelope,
  parseEnvelope,
  replaceEnvelopes,
  replaceValues,
} from "./personal-data.js";
import { indexFieldsOf } from "./query.js";
import { seededRandom } from "./seeded-random.js";

const KID = "kid_0123456789ab";
const envelope = formatEnvelope({ kid: KID, iv: new Uint8Array(12).fill(7), ciphertext: new Uint8Array(20).fill(9) });

function draft(overrides: Partial<EventDraft> = {}): EventDraft {
  return {
    action: "user.updated",
    occurredAt: "2026-11-27T12:00:00.000Z",
    actor: { type: "user", id: "u_42", name: "Ada", email: "ada@example.com" },
    targets: [
      { type: "user", id: "u_99", name: "Bob" },
      { type: "document", id: "doc_1", name: "Q3" },
    ],
    outcome: "success",
    context: { ip: "203.0.113.9", userAgent: "curl/8", requestId: "req_1" },
    metadata: { phone: "+1 555", nested: { street: "Main St 1" }, plan: "pro" },
    version: 1,
    ...overrides,
  };
}

describe("envelopes", () => {
  it("round-trips and binds the header as AAD", () => {
    assert.ok(envelope.startsWith(ENVELOPE_PREFIX));
    const parsed = parseEnvelope(envelope);
    assert.equal(parsed?.kid, KID);
    assert.deepEqual([...(parsed?.iv ?? [])], new Array(12).fill(7));
    assert.equal(new TextDecoder().decode(parsed?.aad), `${ENVELOPE_PREFIX}${KID}`);
  });

  it("refuses malformed ones: wrong IV size, short ciphertext, padding, extra parts, bad kid", () => {
    const [, , , kid, iv, ct] = envelope.split(":") as string[];
    for (const bad of [
      `${ENVELOPE_PREFIX}${kid}:${iv}A:${ct}`,
      `${ENVELOPE_PREFIX}${kid}:${iv}:AAAA`,
      `${ENVELOPE_PREFIX}${kid}:${iv}:${ct}=`,
      `${ENVELOPE_PREFIX}${kid}:${iv}:${ct}:x`,
      `${ENVELOPE_PREFIX}k:${iv}:${ct}`,
      "sealtrail-enc:2:whatever",
      "Ada",
    ]) {
      assert.equal(parseEnvelope(bad), undefined, bad);
      assert.equal(isEnvelope(bad), false);
    }
  });
});

describe("envelope recognition without decoding", () => {
  it("agrees with the full parse on every length and on thousands of mutated envelopes", () => {
    const rand = seededRandom(7);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_:=+/.é";
    for (let length = 0; length < 70; length++) {
      const ciphertext = Uint8Array.from({ length }, () => Math.floor(rand() * 256));
      const text = formatEnvelope({ kid: KID, iv: Uint8Array.from({ length: 12 }, (_, i) => i * 21), ciphertext });
      const parsed = parseEnvelope(text);
      assert.equal(isEnvelope(text), parsed !== undefined, text);
      if (length >= 16) assert.deepEqual([...(parsed?.ciphertext ?? [])], [...ciphertext], "the encoder round-trips");
      for (let m = 0; m < 60; m++) {
        const at = Math.floor(rand() * text.length);
        const chars = [...text];
        const op = Math.floor(rand() * 3);
        const c = alphabet[Math.floor(rand() * alphabet.length)] as string;
        if (op === 0) chars[at] = c;
        else if (op === 1) chars.splice(at, 1);
        else chars.splice(at, 0, c);
        const mutated = chars.join("");
        assert.equal(isEnvelope(mutated), parseEnvelope(mutated) !== undefined, mutated);
      }
    }
    assert.equal(isEnvelope(42), false);
  });
});

describe("the personal-data policy", () => {
  it("finds the default fields, all under the actor as subject", () => {
    const found = compilePersonalData().locate(draft());
    assert.deepEqual(
      found.map((f) => [f.path.join("/"), f.subject, f.value]),
      [
        ["actor/name", "u_42", "Ada"],
        ["actor/email", "u_42", "ada@example.com"],
        ["context/ip", "u_42", "203.0.113.9"],
        ["context/userAgent", "u_42", "curl/8"],
      ],
    );
  });

  it("marks metadata paths and target names; a typed target is its own subject", () => {
    const policy = compilePersonalData({ personal: ["metadata.phone", "metadata.nested.street", "targets[user].name"] });
    const found = policy.locate(draft());
    const byPath = new Map(found.map((f) => [f.path.join("/"), f]));
    assert.equal(byPath.get("metadata/phone")?.subject, "u_42");
    assert.equal(byPath.get("metadata/nested/street")?.value, "Main St 1");
    assert.equal(byPath.get("targets/0/name")?.subject, "u_99");
    assert.equal(byPath.has("targets/1/name"), false, "a document's name is not personal");
  });

  it("takes another subject, per configuration or per action (what a catalog compiles to)", () => {
    const policy = compilePersonalData({
      subject: "metadata.customerId",
      actions: { "user.updated": { subject: "targets[user].id", personal: ["metadata.plan"] } },
    });
    const other = policy.locate(draft({ action: "doc.viewed", metadata: { customerId: "c_7" } }));
    assert.ok(other.every((f) => f.subject === "c_7"));
    const updated = policy.locate(draft());
    assert.ok(updated.every((f) => f.subject === "u_99"));
    assert.ok(updated.some((f) => f.path.join("/") === "metadata/plan"));
  });

  it("refuses an event whose personal values have no subject, naming the field", () => {
    const policy = compilePersonalData({ subject: "metadata.customerId" });
    assert.throws(
      () => policy.locate(draft(), "/events/2"),
      (error: unknown) => error instanceof InputError && error.problems[0]?.pointer === "/events/2/actor/name",
    );
  });

  it("refuses unknown paths in configuration", () => {
    for (const config of [
      { personal: ["actor.id"] },
      { personal: ["context.nothing"] },
      { subject: "actor.name" },
      { personal: ["metadata"] },
    ]) {
      assert.throws(() => compilePersonalData(config), ConfigError, JSON.stringify(config));
    }
  });

  it("leaves values that are already envelopes alone, and replaces located values in a copy", () => {
    const sealed = draft({ actor: { type: "user", id: "u_42", name: envelope } });
    assert.ok(
      !compilePersonalData()
        .locate(sealed)
        .some((f) => f.path.join("/") === "actor/name"),
    );
    const original = draft();
    const replaced = replaceValues(original, [{ path: ["context", "ip"], value: envelope }]);
    assert.equal(replaced.context?.ip, envelope);
    assert.equal(original.context?.ip, "203.0.113.9");
  });

  it("replaces several values on shared paths, deep in arrays and objects, and never touches the original", () => {
    const original = {
      actor: { type: "user", id: "u_42", name: "Ada", email: "ada@example.com" },
      targets: [
        { type: "user", id: "u_7", name: "Bob" },
        { type: "user", id: "u_8", name: "Cy" },
      ],
      metadata: { profile: { address: { city: "Paris", zip: "75001" }, plan: "pro" } },
    };
    const before = structuredClone(original);
    const replaced = replaceValues(original, [
      { path: ["actor", "name"], value: "n" },
      { path: ["actor", "email"], value: "e" },
      { path: ["targets", 0, "name"], value: "t0" },
      { path: ["targets", 1, "name"], value: "t1" },
      { path: ["metadata", "profile", "address", "city"], value: "c" },
      { path: ["metadata", "profile", "address", "zip"], value: "z" },
    ]);
    assert.deepEqual(original, before);
    assert.deepEqual(replaced, {
      actor: { type: "user", id: "u_42", name: "n", email: "e" },
      targets: [
        { type: "user", id: "u_7", name: "t0" },
        { type: "user", id: "u_8", name: "t1" },
      ],
      metadata: { profile: { address: { city: "c", zip: "z" }, plan: "pro" } },
    });
    assert.ok(Array.isArray(replaced.targets), "arrays stay arrays");
  });
});

describe("stored events with envelopes", () => {
  const stored = { ...draft(), actor: { type: "user", id: "u_42", name: envelope, email: envelope }, context: { ip: envelope } };

  it("pass validation where personal values may sit (a stored event re-validates)", () => {
    const validated = validateEvent(stored);
    assert.equal(validated.actor.email, envelope);
    assert.throws(() => validateEvent({ ...stored, actor: { type: "user", id: "u_42", email: "not an email" } }), InputError);
  });

  it("never put plaintext or ciphertext into the index fields", () => {
    const fields = indexFieldsOf({ ...stored, id: "e1", receivedAt: "2026-11-27T12:00:00.000Z" });
    assert.equal(fields.ip, undefined);
    assert.ok(!fields.text.includes("sealtrail-enc"));
    assert.ok(fields.text.includes("u_42"), "the pseudonymous subject id stays searchable");
  });

  it("are found and replaced wherever they sit", () => {
    const event = { ...stored, metadata: { deep: [{ x: envelope }] } };
    assert.equal(collectEnvelopes(event).length, 4);
    const revealed = replaceEnvelopes(event, new Map([[envelope, "[erased]"]]));
    assert.equal(revealed.actor.name, "[erased]");
    assert.deepEqual(revealed.metadata, { deep: [{ x: "[erased]" }] });
  });
});

describe("compareRevealed", () => {
  const stored = { action: "a.b", actor: { id: "u_1", name: envelope }, context: { ip: envelope }, targets: [{ id: "d", type: "doc" }] };
  it("accepts a shown event equal to the leaf but for its decrypted or erased values, and counts them", () => {
    assert.deepEqual(
      compareRevealed(stored, {
        action: "a.b",
        actor: { id: "u_1", name: "Ada" },
        context: { ip: "[erased]" },
        targets: [{ id: "d", type: "doc" }],
      }),
      { encrypted: 2 },
    );
    assert.deepEqual(compareRevealed({ a: [1, "x"] }, { a: [1, "x"] }), { encrypted: 0 });
  });
  it("refuses any other difference: a changed, missing or extra field, or a different shape", () => {
    const shown = { action: "a.b", actor: { id: "u_1", name: "Ada" }, context: { ip: "1.2.3.4" }, targets: [{ id: "d", type: "doc" }] };
    assert.equal(compareRevealed(stored, { ...shown, action: "a.c" }), undefined);
    assert.equal(compareRevealed(stored, { ...shown, actor: { id: "u_2", name: "Ada" } }), undefined);
    assert.equal(compareRevealed(stored, { ...shown, extra: 1 }), undefined);
    assert.equal(compareRevealed(stored, { ...shown, targets: [] }), undefined);
    assert.equal(compareRevealed({ a: [1] }, { a: { 0: 1 } }), undefined);
    assert.equal(compareRevealed({ a: "plain" }, { a: "changed" }), undefined);
  });
});
