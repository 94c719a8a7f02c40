// AWS's published Signature Version 4 examples for S3 ("Examples: Signature Calculations in AWS
// Signature Version 4", S3 API reference): the same credentials, date, requests and expected
// canonical requests, strings to sign and signatures.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sha256Hex, signAwsV4, uriEncode } from "./sigv4.js";

const credentials = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
const date = new Date("2013-05-24T00:00:00Z");
const EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

describe("AWS SigV4 (S3 examples from the AWS documentation)", () => {
  it("GET Object with a Range header", () => {
    const signed = signAwsV4({
      method: "GET",
      url: new URL("https://examplebucket.s3.amazonaws.com/test.txt"),
      headers: { Range: "bytes=0-9" },
      payloadHash: EMPTY,
      region: "us-east-1",
      credentials,
      date,
    });
    assert.equal(
      signed.canonicalRequest,
      [
        "GET",
        "/test.txt",
        "",
        "host:examplebucket.s3.amazonaws.com",
        "range:bytes=0-9",
        `x-amz-content-sha256:${EMPTY}`,
        "x-amz-date:20130524T000000Z",
        "",
        "host;range;x-amz-content-sha256;x-amz-date",
        EMPTY,
      ].join("\n"),
    );
    assert.equal(sha256Hex(signed.canonicalRequest), "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    assert.equal(signed.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    assert.equal(
      signed.headers.authorization,
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    );
  });

  it("PUT Object with a storage class and a path needing encoding", () => {
    const body = "Welcome to Amazon S3.";
    const payloadHash = sha256Hex(body);
    assert.equal(payloadHash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    const signed = signAwsV4({
      method: "PUT",
      url: new URL("https://examplebucket.s3.amazonaws.com/test$file.text"),
      headers: { Date: "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": "REDUCED_REDUNDANCY" },
      payloadHash,
      region: "us-east-1",
      credentials,
      date,
    });
    assert.match(signed.canonicalRequest, /^PUT\n\/test%24file\.text\n\n/);
    assert.equal(
      signed.stringToSign,
      "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
    );
    assert.equal(signed.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  });

  it("GET Bucket lifecycle (a valueless query parameter)", () => {
    const signed = signAwsV4({
      method: "GET",
      url: new URL("https://examplebucket.s3.amazonaws.com/?lifecycle"),
      headers: {},
      payloadHash: EMPTY,
      region: "us-east-1",
      credentials,
      date,
    });
    assert.equal(signed.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  });

  it("GET Bucket (list objects, query parameters sorted)", () => {
    const signed = signAwsV4({
      method: "GET",
      url: new URL("https://examplebucket.s3.amazonaws.com/?prefix=J&max-keys=2"),
      headers: {},
      payloadHash: EMPTY,
      region: "us-east-1",
      credentials,
      date,
    });
    assert.equal(signed.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
  });

  it("adds a session token to the signed headers and never sends Host itself", () => {
    const signed = signAwsV4({
      method: "GET",
      url: new URL("https://examplebucket.s3.amazonaws.com/a"),
      headers: {},
      payloadHash: EMPTY,
      region: "us-east-1",
      credentials: { ...credentials, sessionToken: "tok" },
      date,
    });
    assert.match(signed.headers.authorization as string, /SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,/);
    assert.equal(signed.headers["x-amz-security-token"], "tok");
    assert.equal(signed.headers.host, undefined);
  });

  it("encodes as SigV4's UriEncode: unreserved kept, slash optional, UTF-8 bytes in uppercase hex", () => {
    assert.equal(uriEncode("a b/c~d*é", false), "a%20b/c~d%2A%C3%A9");
    assert.equal(uriEncode("a/b", true), "a%2Fb");
  });
});
