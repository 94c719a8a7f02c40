import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { normalizeTimestamp, nowTimestamp } from "./timestamp.js";

describe("RFC 3339 timestamps", () => {
  it("normalizes to UTC with at least millisecond digits, keeping extra precision", () => {
    const cases: [string, string][] = [
      ["2026-11-27T12:00:00Z", "2026-11-27T12:00:00.000Z"],
      ["2026-11-27T12:00:00.1Z", "2026-11-27T12:00:00.100Z"],
      ["2026-11-27T12:00:00.123456789Z", "2026-11-27T12:00:00.123456789Z"],
      ["2026-11-27T12:00:00.000+00:00", "2026-11-27T12:00:00.000Z"],
      ["2026-11-27T12:00:00-00:00", "2026-11-27T12:00:00.000Z"],
      ["2026-11-27T07:00:00-05:00", "2026-11-27T12:00:00.000Z"],
      ["2026-11-27T17:45:00+05:45", "2026-11-27T12:00:00.000Z"],
      ["2026-11-27T23:59:59+23:59", "2026-11-27T00:00:59.000Z"],
      ["2026-12-31T23:30:00-01:00", "2027-01-01T00:30:00.000Z"],
      ["2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"],
      ["2000-02-29T00:00:00Z", "2000-02-29T00:00:00.000Z"],
      ["2026-11-27t12:00:00z", "2026-11-27T12:00:00.000Z"],
      ["9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"],
    ];
    for (const [input, expected] of cases) assert.equal(normalizeTimestamp(input), expected, input);
  });

  it("keeps years 0001..0099 as written instead of moving them to the 1900s", () => {
    assert.equal(normalizeTimestamp("0001-01-01T00:00:00Z"), "0001-01-01T00:00:00.000Z");
    assert.equal(normalizeTimestamp("0050-06-15T12:00:00+02:00"), "0050-06-15T10:00:00.000Z");
    assert.equal(normalizeTimestamp("0096-02-29T00:00:00Z"), "0096-02-29T00:00:00.000Z");
    assert.equal(normalizeTimestamp("0099-12-31T23:59:59Z"), "0099-12-31T23:59:59.000Z");
    assert.equal(normalizeTimestamp("0097-02-29T00:00:00Z"), undefined);
  });

  it("refuses dates and times that do not exist or leave years 1..9999", () => {
    for (const text of [
      "2026-02-30T00:00:00Z",
      "2026-04-31T00:00:00Z",
      "1900-02-29T00:00:00Z",
      "2026-00-10T00:00:00Z",
      "2026-01-00T00:00:00Z",
      "2026-11-27T24:00:00Z",
      "2026-11-27T12:60:00Z",
      "2026-11-27T12:00:60Z",
      "2026-11-27T12:00:00+24:00",
      "2026-11-27T12:00:00+01:60",
      "0000-06-01T00:00:00Z",
      "0001-01-01T00:30:00+01:00",
      "9999-12-31T23:30:00-01:00",
    ]) {
      assert.equal(normalizeTimestamp(text), undefined, text);
    }
  });

  it("refuses other spellings", () => {
    for (const text of [
      "",
      "2026-11-27",
      "2026-11-27T12:00Z",
      "2026-11-27T12:00:00",
      "2026-11-27 12:00:00Z",
      "2026-11-27T12:00:00.Z",
      "2026-11-27T12:00:00,5Z",
      "2026-11-27T12:00:00.1234567891Z",
      "2026-11-27T12:00:00+01",
      "2026-11-27T12:00:00+0100",
      "26-11-27T12:00:00Z",
      "+002026-11-27T12:00:00Z",
      "2026-11-27T12:00:00Z ",
      "２０２６-11-27T12:00:00Z",
      "Fri, 27 Nov 2026 12:00:00 GMT",
    ]) {
      assert.equal(normalizeTimestamp(text), undefined, text);
    }
  });

  it("stamps the current time as an ISO string with milliseconds", () => {
    assert.equal(nowTimestamp(Date.UTC(2026, 10, 27, 12, 0, 0, 7)), "2026-11-27T12:00:00.007Z");
    assert.match(nowTimestamp(), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    assert.equal(normalizeTimestamp(nowTimestamp(0)), "1970-01-01T00:00:00.000Z");
  });
});
