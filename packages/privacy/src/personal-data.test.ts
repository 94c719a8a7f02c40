import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ERASED, type EventDraft, UNREADABLE, utf8 } from "@sealtrail/core";
import { openValue, sealValue } from "./cipher.js";
import { createPersonalData } from "./personal-data.js";
import { createSqliteKeyStore } from "./sqlite-key-store.js";
import { asEvent, draft } from "./testkit.js";

const dir = mkdtempSync(join(tmpdir(), "sealtrail-privacy-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("AES-256-GCM envelopes", () => {
  const key = { kid: "kid_0123456789ab", key: new Uint8Array(32).fill(1) };

  it("opens what it sealed, and nothing altered or under another key", () => {
    const sealed = sealValue(key, utf8('"Ada"'));
    assert.equal(new TextDecoder().decode(openValue(key, sealed)), '"Ada"');
    assert.equal(openValue({ ...key, key: new Uint8Array(32).fill(2) }, sealed), undefined);
    const flipped = sealed.slice(0, -2) + (sealed.at(-2) === "A" ? "B" : "A") + sealed.slice(-1);
    assert.equal(openValue(key, flipped), undefined);
  });

  it("uses a fresh IV, unless a synthetic one is asked for (idempotent retries)", () => {
    assert.notEqual(sealValue(key, utf8("x")), sealValue(key, utf8("x")));
    assert.equal(sealValue(key, utf8("x"), "evt-1/actor"), sealValue(key, utf8("x"), "evt-1/actor"));
    assert.notEqual(sealValue(key, utf8("x"), "evt-1/actor"), sealValue(key, utf8("y"), "evt-1/actor"));
  });
});

describe("crypto-shredding with the SQLite key store", () => {
  const path = join(dir, "keys.db");
  const keyStore = createSqliteKeyStore({ path });
  const personal = createPersonalData({ keyStore });
  after(() => personal.close());

  it("creates its file 0600 and encrypts the personal fields only", async () => {
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const [sealed] = await personal.protect("acme", [draft()], [""]);
    assert.match(sealed?.actor.name ?? "", /^sealtrail-enc:1:/);
    assert.match(sealed?.context?.ip ?? "", /^sealtrail-enc:1:/);
    assert.equal(sealed?.context?.requestId, "req_1");
    assert.equal(sealed?.actor.id, "u_42");
    assert.deepEqual(await personal.reveal(asEvent(sealed as EventDraft)), asEvent(draft()));
  });

  it("seals an event with a client id to the same bytes every time", async () => {
    const [a] = await personal.protect("acme", [draft("evt-7")], [""]);
    const [b] = await personal.protect("acme", [draft("evt-7")], [""]);
    assert.deepEqual(a, b);
  });

  it("keys each subject per log: erasing in one log leaves the other readable", async () => {
    const [inAcme] = await personal.protect("acme", [draft()], [""]);
    const [inGlobex] = await personal.protect("globex", [draft()], [""]);
    assert.deepEqual(await personal.erase("u_42", { log: "globex", at: "now" }), { keys: 1 });
    assert.equal((await personal.reveal(asEvent(inAcme as EventDraft))).actor.name, "Ada Lovelace");
    assert.equal((await personal.reveal(asEvent(inGlobex as EventDraft))).actor.name, ERASED);
  });

  it("erases: every personal field reads [erased]; a later event of the subject gets a new key", async () => {
    const [sealed] = await personal.protect("acme", [draft()], [""]);
    assert.deepEqual(await personal.erase("u_42", { at: "2026-11-27T13:00:00Z" }), { keys: 1 });
    const revealed = await personal.reveal(asEvent(sealed as EventDraft));
    assert.equal(revealed.actor.name, ERASED);
    assert.equal(revealed.actor.email, ERASED);
    assert.equal(revealed.context?.ip, ERASED);
    assert.equal(revealed.context?.requestId, "req_1");
    // Erasure is of the past (the key store contract, testkit.ts, checks the key bytes are gone).
    const [later] = await personal.protect("acme", [draft()], [""]);
    assert.equal((await personal.reveal(asEvent(later as EventDraft))).actor.name, "Ada Lovelace");
    assert.equal((await personal.reveal(asEvent(sealed as EventDraft))).actor.name, ERASED);
  });

  it("shows an envelope that does not authenticate as unreadable, not as its ciphertext", async () => {
    const [sealed] = await personal.protect("acme", [draft()], [""]);
    const name = sealed?.actor.name as string;
    const bad = name.slice(0, -2) + (name.at(-2) === "A" ? "B" : "A") + name.slice(-1);
    const revealed = await personal.reveal(asEvent({ ...(sealed as EventDraft), actor: { type: "user", id: "u_42", name: bad } }));
    assert.equal(revealed.actor.name, UNREADABLE);
  });
});
