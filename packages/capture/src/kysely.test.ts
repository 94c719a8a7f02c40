import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type EventInput, NotFoundError } from "@sealtrail/core";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { diffChanges, REDACTED } from "./index.js";
import { kyselyCapture } from "./kysely.js";

interface DB {
  users: { id: number; email: string; name: string; password_hash: string; updated_at: string };
}

async function setup() {
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: new Database(":memory:") }) });
  await db.schema
    .createTable("users")
    .addColumn("id", "integer", (c) => c.primaryKey())
    .addColumn("email", "text")
    .addColumn("name", "text")
    .addColumn("password_hash", "text")
    .addColumn("updated_at", "text")
    .execute();
  const recorded: EventInput[] = [];
  const capture = kyselyCapture<DB>({
    audit: { record: async (e: never) => void recorded.push(e as EventInput) },
    exclude: ["password_hash"],
    tables: { users: { type: "user" } },
  });
  return { db, recorded, capture };
}

describe("kyselyCapture over better-sqlite3", () => {
  it("records created, updated (changed fields only, secrets redacted) and deleted", async () => {
    const { db, recorded, capture } = await setup();
    const created = await capture.insert(db, "users", { email: "ada@example.com", name: "Ada", password_hash: "h1", updated_at: "t0" });
    const id = (created.after as DB["users"]).id;
    await capture.update(db, "users", id, { email: "ada@lovelace.dev", password_hash: "h2", updated_at: "t1" });
    await capture.update(db, "users", id, { name: "Ada" }); // no change: nothing recorded
    await capture.delete(db, "users", id);
    assert.deepEqual(
      recorded.map((e) => e.action),
      ["user.created", "user.updated", "user.deleted"],
    );
    assert.deepEqual(recorded[0]?.changes, {
      after: { email: "ada@example.com", id, name: "Ada", password_hash: REDACTED, updated_at: "t0" },
    });
    assert.deepEqual(recorded[1]?.targets, [{ type: "user", id: String(id) }]);
    assert.deepEqual(recorded[1]?.changes, {
      before: { email: "ada@example.com", password_hash: REDACTED, updated_at: "t0" },
      after: { email: "ada@lovelace.dev", password_hash: REDACTED, updated_at: "t1" },
    });
    assert.ok(!JSON.stringify(recorded).includes("h1") && !JSON.stringify(recorded).includes("h2"), "secrets never reach the log");
    assert.deepEqual(recorded[2]?.changes?.after, undefined);
    assert.equal(recorded[2]?.changes?.before?.email, "ada@lovelace.dev");
    assert.equal(await db.selectFrom("users").selectAll().executeTakeFirst(), undefined);
    await db.destroy();
  });

  it("records nothing and changes nothing when the row does not exist or the statement fails", async () => {
    const { db, recorded, capture } = await setup();
    await assert.rejects(capture.update(db, "users", 404, { name: "x" }), (e) => e instanceof NotFoundError && e.code === "row_not_found");
    const { after } = await capture.insert(db, "users", { email: "a@b.c", name: "A", password_hash: "h", updated_at: "t" });
    const id = (after as DB["users"]).id;
    recorded.length = 0;
    await assert.rejects(capture.update(db, "users", id, { nope: 1 } as never));
    assert.deepEqual(recorded, []);
    await db.destroy();
  });
});

describe("diffChanges", () => {
  it("compares as JSON: dates, bytes and nested objects", () => {
    const when = new Date("2026-11-27T12:00:00Z");
    assert.equal(diffChanges({ at: when, tags: ["a"] }, { at: new Date(when), tags: ["a"] }), undefined);
    assert.deepEqual(diffChanges({ blob: new Uint8Array([1]) }, { blob: new Uint8Array([2]) }), {
      before: { blob: "AQ==" },
      after: { blob: "Ag==" },
    });
  });
});
