import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InputError } from "./errors.js";
import { assertLogName, LOG_NAME_PATTERN, logOrigin } from "./log-name.js";

describe("log names", () => {
  it("accepts 1 to 63 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit", () => {
    for (const name of ["a", "0", "tenant-42", "acme.prod_eu", "a".repeat(63), "9-._"]) {
      assert.doesNotThrow(() => assertLogName(name), name);
      assert.ok(LOG_NAME_PATTERN.test(name));
    }
  });

  it("refuses everything else, naming the log parameter", () => {
    for (const name of ["", "A", "-a", ".a", "_a", "a".repeat(64), "a/b", "a b", "ä", "a\n", "a%2f"]) {
      assert.throws(
        () => assertLogName(name),
        (error: unknown) => error instanceof InputError && error.code === "invalid_log_name" && error.problems[0]?.parameter === "log",
        JSON.stringify(name),
      );
    }
  });

  it("builds the checkpoint origin from the configured prefix", () => {
    assert.equal(logOrigin("audit.example.com", "tenant-42"), "audit.example.com/tenant-42");
  });
});
