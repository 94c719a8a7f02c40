import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ulid } from "./ulid.js";

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

function decodeTime(id: string): number {
  let time = 0;
  for (const char of id.slice(0, 10)) time = time * 32 + CROCKFORD.indexOf(char);
  return time;
}

// ulid() never goes back in time within a process, so the tests use ascending times and the
// largest time comes last.
describe("ULID", () => {
  it("encodes the given millisecond time in its first 10 characters", () => {
    for (const time of [0, 1, 31, 32, 1_469_918_176_385, Date.UTC(2026, 10, 27, 12)]) {
      const id = ulid(time);
      assert.equal(decodeTime(id), time, String(time));
      // github.com/ulid/spec: 1469918176385 encodes as 01ARYZ6S41.
      if (time === 1_469_918_176_385) assert.equal(id.slice(0, 10), "01ARYZ6S41");
    }
  });

  it("is 26 characters of Crockford base32", () => {
    for (let i = 0; i < 200; i++) {
      const id = ulid();
      assert.equal(id.length, 26);
      assert.match(id, ULID_PATTERN);
      assert.doesNotMatch(id, /[ILOU]/);
    }
  });

  it("increases strictly within one millisecond", () => {
    const time = Date.UTC(2030, 0, 1);
    const ids = Array.from({ length: 1000 }, () => ulid(time));
    for (let i = 1; i < ids.length; i++) {
      assert.ok((ids[i] as string) > (ids[i - 1] as string), `${ids[i]} after ${ids[i - 1]}`);
      assert.equal(decodeTime(ids[i] as string), time);
    }
  });

  it("sorts by time across milliseconds", () => {
    const time = Date.UTC(2031, 0, 1);
    const ids = [ulid(time), ulid(time + 1), ulid(time + 1000), ulid(time + 86_400_000)];
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(decodeTime(ids[3] as string), time + 86_400_000);
  });

  it("stays monotonic when the clock steps back", () => {
    const time = Date.UTC(2032, 0, 1);
    const first = ulid(time);
    const second = ulid(time - 5);
    assert.ok(second > first);
    assert.equal(decodeTime(second), time);
  });

  it("draws fresh randomness for each new millisecond", () => {
    const ids = new Set(Array.from({ length: 100 }, (_, i) => ulid(Date.UTC(2033, 0, 1) + i * 7).slice(10)));
    assert.ok(ids.size > 95);
  });

  it("encodes the largest 48-bit time", () => {
    assert.equal(ulid(2 ** 48 - 1).slice(0, 10), "7ZZZZZZZZZ");
  });
});
