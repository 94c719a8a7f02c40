import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ConfigError, isEnvelope, SealtrailError } from "@sealtrail/core";
import { dataDir } from "@sealtrail/engine";
import { z } from "zod";
import { createAuditLog, defineEvents } from "./index.js";

const root = mkdtempSync(join(tmpdir(), "sealtrail-personal-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(root, `audit-${n++}`);
const actor = { type: "user", id: "u_42", name: "Ada Lovelace", email: "ada@example.com" };

const events = defineEvents(
  { "user.invited": z.object({ inviteeId: z.string(), inviteeEmail: z.email(), plan: z.string() }) },
  { personal: { "user.invited": { personal: ["metadata.inviteeEmail"], subject: "metadata.inviteeId" } } },
);

/** The log database's bytes as they are on disk (and its WAL, if one is left). */
function databaseBytes(path: string): Buffer {
  const file = dataDir(path).databasePath;
  return Buffer.concat([readFileSync(file), ...(existsSync(`${file}-wal`) ? [readFileSync(`${file}-wal`)] : [])]);
}

describe("defineEvents({ personal })", () => {
  it("exposes the marks as PersonalDataConfig actions, and refuses unknown paths and actions when defined", () => {
    assert.deepEqual(events.personalData, { "user.invited": { personal: ["metadata.inviteeEmail"], subject: "metadata.inviteeId" } });
    assert.deepEqual(defineEvents({ "a.b": z.object({}) }).personalData, {});
    assert.throws(
      () => defineEvents({ "a.b": z.object({}) }, { personal: { "a.b": { personal: ["metadata"] } } }),
      (e) => e instanceof ConfigError && e.code === "invalid_personal_data_config" && /"metadata" is not a personal path/.test(e.message),
    );
    assert.throws(
      () => defineEvents({ "a.b": z.object({}) }, { personal: { "a.b": { subject: "actor.name" } } }),
      (e) => e instanceof ConfigError && e.code === "invalid_personal_data_config" && /cannot name a data subject/.test(e.message),
    );
    assert.throws(
      // Untyped callers (JavaScript) are refused at run time; type-tests/catalog.ts checks the type.
      () => defineEvents({ "a.b": z.object({}) }, { personal: { "c.d": { personal: ["metadata.x"] } } as object }),
      (e) => e instanceof ConfigError && e.code === "invalid_catalog" && /"c\.d", which is not in the catalog/.test(e.message),
    );
  });
});

describe("createAuditLog encrypts personal values (crypto-shredding)", () => {
  it("seals the catalog's marks and the default fields into the leaf, shows them to queries, and erases them", async () => {
    const path = freshPath();
    const audit = await createAuditLog({ path, catalog: events, handleSignals: false });
    const invited = await audit.record(
      "user.invited",
      { inviteeId: "u_77", inviteeEmail: "bo@example.com", plan: "team" },
      { actor, context: { ip: "203.0.113.9" } },
    );
    await audit.record({ action: "user.login", actor });
    assert.equal(statSync(dataDir(path).keyStorePath).mode & 0o777, 0o600);

    const leaf = (await audit.prove(invited.id)).event;
    assert.ok(isEnvelope(leaf.metadata?.inviteeEmail), "the catalog's mark");
    assert.ok(isEnvelope(leaf.actor.name) && isEnvelope(leaf.actor.email) && isEnvelope(leaf.context?.ip), "the default fields");
    assert.equal(leaf.metadata?.plan, "team", "an unmarked field stays as given");
    assert.equal(leaf.actor.id, "u_42");

    const shown = async () => (await audit.query("action:user.invited")).events[0]?.event;
    assert.equal((await shown())?.metadata?.inviteeEmail, "bo@example.com");
    assert.equal((await shown())?.actor.name, "Ada Lovelace");

    const erased = await audit.erase("u_77", { actor: { type: "user", id: "dpo_1" } });
    assert.equal(erased.subject, "u_77");
    assert.equal(erased.keysDestroyed, 1);
    assert.equal((await shown())?.metadata?.inviteeEmail, "[erased]");
    // The action's subject is the invitee: every personal value of that event was theirs.
    assert.equal((await shown())?.actor.name, "[erased]");
    const login = (await audit.query("action:user.login")).events[0]?.event;
    assert.equal(login?.actor.name, "Ada Lovelace", "another subject's values stay readable");
    const verified = await audit.verify();
    assert.equal(verified.ok, true, verified.problem);
    await audit.close();

    const bytes = databaseBytes(path);
    for (const plaintext of ["bo@example.com", "Ada Lovelace", "ada@example.com", "203.0.113.9"]) {
      assert.equal(bytes.includes(plaintext), false, `${plaintext} is not in the database file`);
    }
    assert.ok(bytes.includes("team"), "the check can see plaintext where there is some");

    // Recorded as the server records it, in the same directory's system log.
    const system = await createAuditLog({ path, log: "sealtrail-system", handleSignals: false });
    const [record] = (await system.query("action:subject.erased")).events;
    assert.deepEqual(record?.event.targets, [{ type: "data_subject", id: "u_77" }]);
    assert.deepEqual(record?.event.actor, { type: "user", id: "dpo_1" });
    assert.deepEqual(record?.event.metadata, { scope: "every log" });
    await system.close();
  });

  it("on the request thread too; personalData adds paths; false stores values as given and refuses erase", async () => {
    const path = freshPath();
    const audit = await createAuditLog({ path, worker: false, personalData: { personal: ["metadata.note"] }, handleSignals: false });
    const { id } = await audit.record({ action: "note.added", actor, metadata: { note: "call Ada", size: 3 } });
    const leaf = (await audit.prove(id)).event;
    assert.ok(isEnvelope(leaf.metadata?.note) && isEnvelope(leaf.actor.name));
    assert.equal((await audit.query("")).events[0]?.event.metadata?.note, "call Ada");
    assert.equal((await audit.erase("u_42", { log: "default" })).keysDestroyed, 1);
    const shown = (await audit.query("")).events[0]?.event;
    assert.deepEqual([shown?.actor.name, shown?.metadata?.note], ["[erased]", "[erased]"]);
    await audit.close();

    const plainPath = freshPath();
    const plain = await createAuditLog({ path: plainPath, personalData: false, handleSignals: false });
    const stored = await plain.record({ action: "note.added", actor });
    assert.equal((await plain.prove(stored.id)).event.actor.name, "Ada Lovelace");
    await assert.rejects(plain.erase("u_42"), (e) => e instanceof SealtrailError && e.code === "personal_data_unsupported");
    await plain.close();
    assert.equal(existsSync(dataDir(plainPath).keyStorePath), false);
  });

  it("refuses a personal-data path it does not know before opening anything", async () => {
    const path = freshPath();
    await assert.rejects(
      createAuditLog({ path, personalData: { personal: ["actor.id"] }, handleSignals: false }),
      (e) => e instanceof ConfigError && e.code === "invalid_personal_data_config",
    );
    assert.equal(existsSync(path), false);
  });
});
