import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fromUtf8, utf8 } from "./bytes.js";
import { InputError, VerificationError } from "./errors.js";
import { crc32, readZip, writeZip } from "./zip.js";

const sample = [
  { name: "summary.txt", data: utf8("hello\n") },
  { name: "events/0.json", data: utf8('{"id":"a"}') },
  { name: "empty", data: new Uint8Array(0) },
];

function isMalformed(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof VerificationError, String(error));
    assert.equal(error.code, "malformed_zip");
    assert.match(error.message, pattern);
    return true;
  };
}

describe("crc32", () => {
  it("matches the standard check value (CRC-32/ISO-HDLC of '123456789' is 0xCBF43926)", () => {
    assert.equal(crc32(utf8("123456789")), 0xcbf43926);
    assert.equal(crc32(new Uint8Array(0)), 0);
  });
});

describe("writeZip / readZip", () => {
  it("round-trips names and bytes in order", () => {
    const read = readZip(writeZip(sample));
    assert.deepEqual(
      read.map((e) => [e.name, fromUtf8(e.data)]),
      sample.map((e) => [e.name, fromUtf8(e.data)]),
    );
  });

  it("is deterministic", () => {
    assert.deepEqual(writeZip(sample), writeZip(sample));
  });

  it("writes archives another implementation (Python's zipfile) reads and CRC-checks", () => {
    const dir = mkdtempSync(join(tmpdir(), "sealtrail-zip-"));
    try {
      const path = join(dir, "a.zip");
      writeFileSync(path, writeZip(sample));
      const script = [
        "import json, sys, zipfile",
        "z = zipfile.ZipFile(sys.argv[1])",
        "assert z.testzip() is None",
        "print(json.dumps([[i.filename, z.read(i).decode(), i.compress_type] for i in z.infolist()]))",
      ].join("\n");
      const run = spawnSync("python3", ["-c", script, path], { encoding: "utf8" });
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(
        JSON.parse(run.stdout),
        sample.map((e) => [e.name, fromUtf8(e.data), 0]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses an archive written by another tool (compression, timestamps, extra fields)", () => {
    const dir = mkdtempSync(join(tmpdir(), "sealtrail-zip-"));
    try {
      writeFileSync(join(dir, "x.txt"), "some text some text some text");
      const script =
        "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z: z.write(sys.argv[2], 'x.txt')";
      const run = spawnSync("python3", ["-c", script, join(dir, "x.zip"), join(dir, "x.txt")], { encoding: "utf8" });
      assert.equal(run.status, 0, run.stderr);
      assert.throws(() => readZip(new Uint8Array(readFileSync(join(dir, "x.zip")))), isMalformed(/central directory entry 0/));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("detects a change to every single byte of the archive, naming where it is", () => {
    const zip = writeZip(sample);
    for (let at = 0; at < zip.length; at++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const copy = zip.slice();
        copy[at] = (copy[at] as number) ^ mask;
        assert.throws(
          () => readZip(copy),
          isMalformed(/^zip (end of central directory|central directory entry|local header of|data of)/),
          `byte ${at}`,
        );
      }
    }
  });

  it("detects truncation and appended bytes", () => {
    const zip = writeZip(sample);
    for (const cut of [1, 22, 23, zip.length - 1]) assert.throws(() => readZip(zip.subarray(0, zip.length - cut)), VerificationError);
    const longer = new Uint8Array(zip.length + 1);
    longer.set(zip);
    assert.throws(() => readZip(longer), isMalformed(/end of central directory/));
    assert.throws(() => readZip(new Uint8Array(10)), isMalformed(/too short/));
  });

  it("refuses unsafe or repeated names when writing", () => {
    for (const name of ["", "/abs", "a/../b", "a\\b", "ü.txt", "a//b", "x".repeat(256)]) {
      assert.throws(() => writeZip([{ name, data: new Uint8Array(0) }]), InputError, name);
    }
    assert.throws(() => writeZip([sample[0]!, sample[0]!]), /repeat/);
  });
});
