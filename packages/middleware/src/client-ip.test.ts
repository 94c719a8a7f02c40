import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "@sealtrail/core";
import { clientIp, compileTrust } from "./client-ip.js";

describe("clientIp", () => {
  it("ignores X-Forwarded-For unless the peer is trusted (the default trusts nobody)", () => {
    assert.equal(clientIp("198.51.100.7", "203.0.113.9", compileTrust(undefined)), "198.51.100.7");
    assert.equal(clientIp("198.51.100.7", "203.0.113.9", compileTrust(["10.0.0.0/8"])), "198.51.100.7");
  });

  it("takes the address a trusted proxy appended, never one the client wrote further left", () => {
    const trust = compileTrust(["10.0.0.0/8", "127.0.0.1"]);
    assert.equal(clientIp("127.0.0.1", "203.0.113.9", trust), "203.0.113.9");
    // The client forged "1.2.3.4"; our proxies 10.0.0.2 and 127.0.0.1 appended what they saw.
    assert.equal(clientIp("127.0.0.1", "1.2.3.4, 203.0.113.9, 10.0.0.2", trust), "203.0.113.9");
    assert.equal(clientIp("127.0.0.1", "10.0.0.3, 10.0.0.2", trust), "10.0.0.3", "all hops trusted: the leftmost");
  });

  it("counts hops when given a number", () => {
    assert.equal(clientIp("10.0.0.1", "1.2.3.4, 203.0.113.9", compileTrust(1)), "203.0.113.9");
    assert.equal(clientIp("10.0.0.1", "1.2.3.4, 203.0.113.9", compileTrust(2)), "1.2.3.4");
  });

  it("matches IPv6 ranges and IPv4-mapped peers", () => {
    const trust = compileTrust(["fd00::/8", "127.0.0.0/8"]);
    assert.equal(clientIp("fd12:3456::1", "2001:db8::7", trust), "2001:db8::7");
    assert.equal(clientIp("::ffff:127.0.0.1", "203.0.113.9", trust), "203.0.113.9");
    assert.equal(clientIp("::ffff:198.51.100.7", undefined, trust), "198.51.100.7");
    assert.equal(clientIp("2001:db8::1", "203.0.113.9", trust), "2001:db8::1");
  });

  it("stops at a malformed entry instead of recording it", () => {
    assert.equal(clientIp("127.0.0.1", "203.0.113.9, not-an-ip", compileTrust(true)), "127.0.0.1");
    assert.equal(clientIp("127.0.0.1", "<script>, 198.51.100.2", compileTrust(true)), "198.51.100.2");
  });

  it("refuses a trust setting it cannot read", () => {
    for (const bad of [["10.0.0.0/33"], ["nope"], ["10.0.0.1/x"], -1]) {
      assert.throws(
        () => compileTrust(bad as never),
        (e) => e instanceof ConfigError && e.code === "invalid_trust_proxy",
      );
    }
  });
});
