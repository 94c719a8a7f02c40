import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  ConfigError,
  formatCheckpoint,
  generateSignerKey,
  type Hash,
  hashLeaf,
  type NoteSigner,
  parseSignerKey,
  parseVerifierKey,
  proveConsistency,
  rootFromLeafHashes,
  StoreError,
  signNote,
  utf8,
} from "@sealtrail/core";
import { readPublishedCheckpoints, verifyAgainstPublished } from "./against.js";
import { startAnchoring } from "./anchoring.js";
import { sha256Hex } from "./sigv4.js";
import { directoryTarget, gitTarget, parseAnchorTarget, s3Target } from "./targets.js";

const root = mkdtempSync(join(tmpdir(), "sealtrail-anchor-unit-"));
after(() => rmSync(root, { recursive: true, force: true }));

const ORIGIN = "anchor.test/acme";
let signer: NoteSigner;
async function checkpointOf(leaves: string[], key?: NoteSigner): Promise<{ note: string; hashes: Hash[] }> {
  signer ??= await parseSignerKey(await generateSignerKey(ORIGIN));
  const hashes = leaves.map((l) => hashLeaf(utf8(l)));
  const note = await signNote(formatCheckpoint({ origin: ORIGIN, treeSize: leaves.length, rootHash: rootFromLeafHashes(hashes) }), [
    key ?? signer,
  ]);
  return { note, hashes };
}

describe("directory and git targets", () => {
  it("a directory keeps one file per checkpoint, never replaced; a different one at the same size is a conflict", async () => {
    const target = directoryTarget(join(root, "dir"));
    assert.equal(await target.publish({ log: "acme", treeSize: 3, note: "a\n" }), "published");
    assert.equal(await target.publish({ log: "acme", treeSize: 3, note: "a\n" }), "unchanged");
    assert.equal(readFileSync(join(root, "dir", "acme", "3.checkpoint"), "utf8"), "a\n");
    await assert.rejects(
      target.publish({ log: "acme", treeSize: 3, note: "b\n" }),
      (error: unknown) => error instanceof StoreError && error.code === "anchor_conflict",
    );
  });

  it("a git repository is created if missing and gets one commit per publication", async () => {
    const path = join(root, "git");
    const target = gitTarget(path);
    await target.publish({ log: "acme", treeSize: 1, note: "one\n" });
    await target.publish({ log: "acme", treeSize: 1, note: "one\n" });
    await target.publish({ log: "globex", treeSize: 2, note: "two\n" });
    const subjects = execFileSync("git", ["-C", path, "log", "--format=%s"], { encoding: "utf8" }).trim().split("\n");
    assert.deepEqual(subjects, ["globex: checkpoint at tree size 2", "acme: checkpoint at tree size 1"]);
  });
});

describe("S3 target", () => {
  it("PUTs path-style with Object Lock headers, a Content-MD5, a signed payload hash; 412 means already there", async () => {
    const seen: { method?: string; url?: string; headers: IncomingMessage["headers"]; body: string }[] = [];
    let status = 200;
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.statusCode = status;
        res.end(status === 403 ? "<Error><Code>AccessDenied</Code></Error>" : "");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const target = s3Target({
        bucket: "audit",
        prefix: "sealtrail/prod",
        region: "eu-west-1",
        endpoint: `http://127.0.0.1:${port}`,
        credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
        lockMode: "COMPLIANCE",
        retainDays: 30,
        now: () => Date.parse("2026-11-27T12:00:00Z"),
      });
      assert.equal(await target.publish({ log: "acme", treeSize: 9, note: "cp\n" }), "published");
      const put = seen[0]!;
      assert.equal(put.method, "PUT");
      assert.equal(put.url, "/audit/sealtrail/prod/acme/9.checkpoint");
      assert.equal(put.body, "cp\n");
      assert.equal(put.headers["x-amz-object-lock-mode"], "COMPLIANCE");
      assert.equal(put.headers["x-amz-object-lock-retain-until-date"], "2026-12-27T12:00:00Z");
      assert.equal(put.headers["content-md5"], createHash("md5").update("cp\n").digest("base64"));
      assert.equal(put.headers["x-amz-content-sha256"], sha256Hex("cp\n"));
      assert.equal(put.headers["if-none-match"], "*");
      assert.match(
        put.headers.authorization as string,
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261127\/eu-west-1\/s3\/aws4_request,SignedHeaders=content-md5;content-type;host;if-none-match;x-amz-content-sha256;x-amz-date;x-amz-object-lock-mode;x-amz-object-lock-retain-until-date,Signature=[0-9a-f]{64}$/,
      );
      status = 412;
      assert.equal(await target.publish({ log: "acme", treeSize: 9, note: "cp\n" }), "unchanged");
      status = 403;
      await assert.rejects(target.publish({ log: "acme", treeSize: 10, note: "cp\n" }), /answered 403 AccessDenied/);
    } finally {
      server.close();
    }
  });

  it("parses targets and refuses unusable ones, taking S3 credentials from the environment only", () => {
    const env = { AWS_ACCESS_KEY_ID: "id", AWS_SECRET_ACCESS_KEY: "secret" };
    assert.equal(parseAnchorTarget("s3://bucket/p?region=eu-west-1&lock=compliance&retainDays=7", env).description, "s3://bucket/p");
    assert.match(parseAnchorTarget("dir:/tmp/x", {}).description, /^directory \/tmp\/x$/);
    for (const [spec, e] of [
      ["s3://bucket/p", {}],
      ["s3://bucket/p?lock=forever", env],
      ["s3://bucket/p?retainDays=0", env],
      ["s3://bucket/p?secret=x", env],
      ["ftp://x", env],
      ["dir:", env],
    ] as const) {
      assert.throws(
        () => parseAnchorTarget(spec, e),
        (error: unknown) => error instanceof ConfigError && error.code === "invalid_anchor",
        spec,
      );
    }
  });
});

describe("startAnchoring", () => {
  it("publishes each new checkpoint once per target and reports failures without stopping", async () => {
    const checkpoints = new Map([["acme", { treeSize: 1, note: "n1\n" }]]);
    const publications: string[] = [];
    const errors: string[] = [];
    let failNext = true;
    const anchoring = startAnchoring({
      source: { listLogs: async () => [...checkpoints.keys()], checkpoint: async (log) => checkpoints.get(log) },
      targets: [
        {
          description: "flaky",
          publish: async (p) => {
            if (failNext) {
              failNext = false;
              throw new Error("disk full");
            }
            publications.push(`${p.log}@${p.treeSize}`);
            return "published";
          },
        },
      ],
      intervalMs: 60_000,
      onError: (m) => errors.push(m),
    });
    await anchoring.publishNow();
    await anchoring.publishNow();
    await anchoring.publishNow();
    checkpoints.set("acme", { treeSize: 2, note: "n2\n" });
    await anchoring.publishNow();
    await anchoring.stop();
    assert.deepEqual(errors, ["anchor flaky: acme at size 1: disk full"]);
    assert.deepEqual(publications, ["acme@1", "acme@2"]);
  });
});

describe("verifyAgainstPublished", () => {
  it("passes checkpoints the current tree extends and names those it does not", async () => {
    const leaves = Array.from({ length: 11 }, (_, i) => `leaf-${i}`);
    const forged = leaves.map((l, i) => (i === 6 ? "forged" : l));
    const other = await parseSignerKey(await generateSignerKey(ORIGIN));
    const dir = join(root, "published");
    const write = (size: number, note: string) => {
      execFileSync("mkdir", ["-p", join(dir, "acme")]);
      writeFileSync(join(dir, "acme", `${size}.checkpoint`), note);
    };
    write(4, (await checkpointOf(leaves.slice(0, 4))).note);
    write(8, (await checkpointOf(leaves.slice(0, 8))).note);
    write(9, (await checkpointOf(leaves.slice(0, 8))).note); // named 9, holds 8
    write(10, (await checkpointOf(leaves.slice(0, 10), other)).note);
    write(12, (await checkpointOf([...leaves, "x"])).note);
    const current = await checkpointOf(forged);
    const readNodes = async (nodes: readonly { height: number; index: number }[]) =>
      nodes.map((n) => rootFromLeafHashes(current.hashes.slice(n.index * 2 ** n.height, (n.index + 1) * 2 ** n.height)));
    const published = readPublishedCheckpoints(dir).get("acme") ?? [];
    assert.deepEqual(
      published.map((p) => p.namedSize),
      [4, 8, 9, 10, 12],
    );
    const report = await verifyAgainstPublished({
      log: "acme",
      origin: ORIGIN,
      verifiers: [parseVerifierKey(signer.verifierKey)],
      published,
      current: { checkpoint: current.note, proveConsistency: (from, to) => proveConsistency(from, to, readNodes) },
    });
    assert.equal(report.ok, false);
    const problems = report.checks.map((c) => [c.file.split("/").pop(), c.ok ? "ok" : c.problem]);
    assert.deepEqual(problems[0], ["4.checkpoint", "ok"]);
    assert.match(String(problems[1]?.[1]), /does not extend it/);
    assert.match(String(problems[2]?.[1]), /file name says size 9/);
    assert.match(String(problems[3]?.[1]), /not a checkpoint signed by the log's key/);
    assert.match(String(problems[4]?.[1]), /ahead of the current log \(size 11\)/);
  });
});
