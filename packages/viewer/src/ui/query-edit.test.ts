import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseQuery } from "@sealtrail/core";
import { completionAt, qualifierValues, quoteValue, setQualifier, splitTerms } from "./query-edit.js";

describe("query editing", () => {
  it("splits terms with quotes kept whole, even unclosed while typing", () => {
    assert.deepEqual(
      splitTerms('actor:"a b" -x  "open q').map((t) => t.text),
      ['actor:"a b"', "-x", '"open q'],
    );
  });

  it("sets one qualifier and leaves every other term as written", () => {
    const text = 'outcome:denied "board report" -actor:svc_1';
    assert.equal(setQualifier(text, "outcome", ["failure"]), '"board report" -actor:svc_1 outcome:failure');
    assert.equal(setQualifier(text, "outcome", undefined), '"board report" -actor:svc_1');
    assert.deepEqual(qualifierValues('actor:"user with spaces" actor:u_1', "actor"), ["user with spaces", "u_1"]);
  });

  it("quotes values the language cannot hold bare, so they parse back to themselves", () => {
    for (const value of ["u_42", "with space", 'q"uote', "-dash", "star*", "back\\slash"]) {
      assert.deepEqual(parseQuery(`actor:${quoteValue(value)}`).actor, [value]);
    }
  });

  it("completes qualifier names for a bare word and keeps a leading minus", () => {
    const request = completionAt("outcome:denied -act", 19);
    assert.equal(request.field, undefined);
    assert.deepEqual(
      request.complete([]).map((c) => c.insert),
      ["actor:", "actor.type:", "action:"],
    );
    assert.equal(request.complete([])[0]?.from, 16, "replaces after the minus");
  });

  it("completes known values after actor:, action: and outcome:, quoting as needed", () => {
    const request = completionAt("actor:u_1", 9);
    assert.equal(request.field, "actor");
    assert.deepEqual(
      request.complete(["u_1001", "u_2", "u_1 x"]).map((c) => c.insert),
      ["actor:u_1001 ", 'actor:"u_1 x" '],
    );
    assert.deepEqual(completionAt("ip:1", 4).complete(["1.2.3.4"]), [], "no known values for other fields");
  });
});
