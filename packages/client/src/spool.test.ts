import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { AuthError, ConfigError, InputError, StoreError } from "@sealtrail/core";
import { errorFromProblem } from "./problem.js";
import { Spool } from "./spool.js";

const dir = mkdtempSync(join(tmpdir(), "sealtrail-spool-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const event = (id: string) => ({ id, action: "a.b", occurredAt: "2026-11-27T12:00:00.000Z", actor: { type: "user", id: "u" } });

describe("Spool", () => {
  it("replays what was never acknowledged, in order, and skips a line torn by a crash", () => {
    const path = join(dir, "torn.spool");
    writeFileSync(
      path,
      [
        JSON.stringify({ e: event("e1") }),
        JSON.stringify({ e: event("e2") }),
        JSON.stringify({ a: ["e1"] }),
        JSON.stringify({ e: event("e3") }),
        '{"e":{"id":"e4","act',
      ].join("\n"),
    );
    const { spool, replay } = Spool.open(path);
    assert.deepEqual(
      replay.map((e) => e.id),
      ["e2", "e3"],
    );
    spool.close();
    assert.equal(statSync(path).mode & 0o777, 0o600, "payloads: owner only");
    assert.equal(readFileSync(path, "utf8").trim().split("\n").length, 2, "compacted to the survivors");
  });

  it("starts the file over once everything is acknowledged", () => {
    const path = join(dir, "drained.spool");
    const { spool } = Spool.open(path);
    spool.add(event("x1"));
    spool.add(event("x2"));
    spool.acknowledge(["x1"]);
    assert.ok(readFileSync(path, "utf8").length > 0);
    spool.acknowledge(["x2"]);
    spool.close();
    assert.equal(readFileSync(path, "utf8"), "");
    assert.deepEqual(Spool.open(path).replay, []);
  });

  it("refuses a spool corrupted anywhere but its last line", () => {
    const path = join(dir, "corrupt.spool");
    writeFileSync(path, `not json\n${JSON.stringify({ e: event("e1") })}\n`);
    assert.throws(
      () => Spool.open(path),
      (e) => e instanceof ConfigError && e.code === "spool_corrupt",
    );
  });
});

describe("errorFromProblem", () => {
  it("rebuilds the class, code and pointers of an RFC 9457 problem", () => {
    const e = errorFromProblem(422, {
      code: "invalid_event",
      detail: "/events/0/actor is required",
      errors: [{ pointer: "/events/0/actor", detail: "is required" }, { nonsense: true }],
    });
    assert.ok(e instanceof InputError);
    assert.equal(e.code, "invalid_event");
    assert.deepEqual(e.problems, [{ pointer: "/events/0/actor", detail: "is required" }]);
    assert.ok(errorFromProblem(403, { code: "forbidden" }) instanceof AuthError);
    const opaque = errorFromProblem(502, "<html>bad gateway</html>");
    assert.ok(opaque instanceof StoreError);
    assert.equal(opaque.code, "http_502");
  });
});
