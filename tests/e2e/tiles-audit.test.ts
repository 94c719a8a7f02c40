// Acceptance test for the public verification surface (DESIGN §4): an independent C2SP
// tlog-tiles client, written from the specs and not from our code (tests/support/independent-
// auditor.ts), audits a real server byte for byte while one log grows through the tree shapes
// that matter: 1, 255, 256, 257 (first full tile, first partial after it), 65,536 (first full
// level-1 tile), 70,000 (the tlog-tiles spec's own example, with a level-2 tile) and beyond.
// Every checkpoint is proven consistent with the one before, Go's reference implementation
// (tools/go-crosscheck/audit) audits the same server at 257 and 70,000, and the auditor is shown
// to fail on every kind of corrupted answer, so a passing audit means something.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { generateKeyPairSync, sign } from "node:crypto";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { startTestCluster, type TestCluster } from "../../packages/store-postgres/src/test-cluster.ts";
import {
  AuditError,
  type AuditReport,
  auditLog,
  ed25519KeyId,
  encodeTileIndex,
  hashLeaf,
  openNote,
  parseCheckpoint,
  parseEntryBundle,
  parseVerifierKey,
  ReferenceTree,
  rootFromTiles,
  TILE_WIDTH,
  type TrustedCheckpoint,
  tileLayout,
  tilePath,
  verifyConsistency,
  verifyInclusion,
} from "../support/independent-auditor.ts";
import { type ServerProcess, startServer, tempDir } from "../support/server-process.ts";

const LOG = "tiles-audit";
const ADMIN_KEY = "e2e-tiles-audit-admin-key-0123456789";
const BATCH = 1000;
const IN_FLIGHT = 4;
const FURTHER = 71_234;
const REPO = resolve(import.meta.dirname, "../..");

const dir = tempDir("sealtrail-tiles-audit-");
let server: ServerProcess | undefined;
let appended = 0;
/** The served verifier key seen by the first audit; every later audit pins it. */
let pinnedKey: string | undefined;
/** Every audited checkpoint, in order of growth. */
const checkpoints: TrustedCheckpoint[] = [];
/** SHOULD-level deviations the auditor reported, shown once. */
const warned = new Set<string>();
let goBuild: Promise<{ binary?: string; error?: string }> | undefined;
/** tiles-audit-postgres.test.ts runs this whole file again on `serve --store postgres://…`. */
let postgres: TestCluster | undefined;

before(async () => {
  if (process.env.SEALTRAIL_E2E_STORE === "postgres") postgres = await startTestCluster();
  const args = postgres ? ["--store", await postgres.createDatabase()] : [];
  server = await startServer({ dataDir: join(dir.path, "data"), adminKey: ADMIN_KEY, args });
  if (goToolchain().available) goBuild = buildGoAuditor();
});

after(async () => {
  await server?.stop();
  await postgres?.stop();
  dir.remove();
});

function live(): ServerProcess {
  assert.ok(server, "the server did not start");
  return server;
}

function get(path: string): Promise<Response> {
  return fetch(`${live().url}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` }, signal: AbortSignal.timeout(15_000) });
}

const EVENT = { action: "document.shared", occurredAt: "2026-11-27T12:00:00.000Z", actor: { type: "user", id: "u_1" } };

async function postBatch(count: number): Promise<number[]> {
  const response = await fetch(`${live().url}/v1/logs/${LOG}/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ events: Array.from({ length: count }, () => EVENT) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  assert.equal(response.status, 201, `appending ${count} events: ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as { events: { index: number; created: boolean }[] };
  assert.equal(body.events.length, count);
  return body.events.map((e) => e.index);
}

/** Appends until the log holds `target` events; batches run a few at a time. */
async function growTo(target: number): Promise<void> {
  const start = appended;
  const sizes: number[] = [];
  for (let at = start; at < target; at += BATCH) sizes.push(Math.min(BATCH, target - at));
  const indexes: number[] = [];
  for (let i = 0; i < sizes.length; i += IN_FLIGHT) {
    for (const batch of await Promise.all(sizes.slice(i, i + IN_FLIGHT).map(postBatch))) indexes.push(...batch);
  }
  indexes.sort((a, b) => a - b);
  assert.deepEqual(
    indexes,
    Array.from({ length: target - start }, (_, i) => start + i),
    "the appended events did not get exactly the next indexes",
  );
  appended = target;
}

/** Waits for the signed checkpoint of exactly `size` (DESIGN §5: signed ≤ 1 s after a write). */
async function waitForCheckpoint(size: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  let last = "";
  while (Date.now() < deadline) {
    const response = await get(`/logs/${LOG}/checkpoint`);
    last = await response.text();
    if (response.status === 200 && last.split("\n")[1] === String(size)) return;
    await sleep(25);
  }
  assert.fail(`no checkpoint of size ${size} within 15 s; last answer:\n${last}`);
}

async function audit(size: number, t: { diagnostic(message: string): void }): Promise<AuditReport> {
  const t0 = performance.now();
  await growTo(size);
  const t1 = performance.now();
  await waitForCheckpoint(size);
  const t2 = performance.now();
  const previous = checkpoints.at(-1);
  const report = await auditLog({
    url: live().url,
    log: LOG,
    key: ADMIN_KEY,
    ...(pinnedKey ? { verifierKey: pinnedKey } : {}),
    ...(previous ? { previous } : {}),
  });
  t.diagnostic(
    `append ${(t1 - t0).toFixed(0)} ms, checkpoint wait ${(t2 - t1).toFixed(0)} ms, audit ${(performance.now() - t2).toFixed(0)} ms`,
  );
  for (const warning of report.warnings) {
    if (!warned.has(warning)) t.diagnostic(`warning: ${warning}`);
    warned.add(warning);
  }
  if (!pinnedKey) pinnedKey = ((await (await get(`/v1/logs/${LOG}`)).json()) as { verifierKey: string }).verifierKey;
  assert.equal(report.checkpoint.treeSize, size);
  const layout = tileLayout(size);
  const expectedTiles = layout.reduce((sum, l) => sum + l.fullTiles + (l.partialWidth > 0 ? 1 : 0), 0);
  assert.equal(report.tiles, expectedTiles, "every hash tile of every level was fetched and checked");
  assert.equal(report.bundles, Math.ceil(size / TILE_WIDTH), "every entry bundle was fetched and checked");
  assert.equal(report.entries, size);
  assert.ok(report.inclusionProofs >= 12 && report.consistencyProofs >= 12, "proofs were sampled");
  assert.ok(report.refusals >= 10, "requests beyond the tree were tried");
  checkpoints.push(report.checkpoint);
  return report;
}

function lastCheckpoint(): TrustedCheckpoint {
  const checkpoint = checkpoints.at(-1);
  assert.ok(checkpoint, "an earlier step did not audit a checkpoint");
  return checkpoint;
}

// ---------------------------------------------------------------------------------------------
// The auditor itself, on vectors that come from the specs and from Certificate Transparency.

const hex = (text: string) => Buffer.from(text, "hex");
// RFC 6962 reference leaves and roots (certificate-transparency / transparency-dev test data).
const CT_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map((h) =>
  hashLeaf(hex(h)),
);
const CT_ROOTS = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

test("auditor: its tree hashing and proofs match the RFC 6962 reference vectors", () => {
  const tree = new ReferenceTree(CT_LEAVES);
  assert.equal(tree.root(0).toString("hex"), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  for (const [i, root] of CT_ROOTS.entries()) assert.equal(tree.root(i + 1).toString("hex"), root, `root of ${i + 1}`);
  const paths: [number, number, string[]][] = [
    [
      0,
      8,
      [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
      ],
    ],
    [
      5,
      8,
      [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      ],
    ],
  ];
  for (const [index, size, path] of paths) {
    assert.deepEqual(
      tree.inclusionPath(index, size).map((h) => h.toString("hex")),
      path,
    );
    assert.ok(verifyInclusion(index, size, CT_LEAVES[index] as Buffer, path.map(hex), tree.root(size)));
  }
  const proofs: [number, number, string[]][] = [
    [
      2,
      5,
      [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      ],
    ],
    [
      2,
      8,
      [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
      ],
    ],
  ];
  for (const [from, to, proof] of proofs) {
    assert.deepEqual(
      tree.consistencyProof(from, to).map((h) => h.toString("hex")),
      proof,
    );
    assert.ok(verifyConsistency(from, to, tree.root(from), tree.root(to), proof.map(hex)));
  }
});

test("auditor: its verifiers accept every valid proof and reject every corrupted one", () => {
  const leaves = Array.from({ length: 40 }, (_, i) => hashLeaf(Buffer.from([i, i * 7])));
  const tree = new ReferenceTree(leaves);
  const flip = (hash: Buffer) => {
    const copy = Buffer.from(hash);
    copy[7] = (copy[7] as number) ^ 0x10;
    return copy;
  };
  for (let n = 1; n <= leaves.length; n++) {
    const root = tree.root(n);
    for (let i = 0; i < n; i++) {
      const path = tree.inclusionPath(i, n);
      const leaf = leaves[i] as Buffer;
      assert.ok(verifyInclusion(i, n, leaf, path, root), `inclusion ${i} in ${n}`);
      assert.ok(!verifyInclusion(i, n, flip(leaf), path, root), "a flipped leaf");
      assert.ok(!verifyInclusion(i, n, leaf, path, flip(root)), "a flipped root");
      assert.ok(!verifyInclusion(i, n, leaf, [...path, root], root), "an extra hash");
      assert.ok(!verifyInclusion(n, n, leaf, path, root), "index = tree size");
      if (n > 1) assert.ok(!verifyInclusion((i + 1) % n, n, leaf, path, root), "another index");
      path.forEach((_, j) => {
        assert.ok(!verifyInclusion(i, n, leaf, path.with(j, flip(path[j] as Buffer)), root), `hash ${j} flipped`);
        assert.ok(!verifyInclusion(i, n, leaf, path.toSpliced(j, 1), root), `hash ${j} dropped`);
      });
    }
    for (let m = 1; m <= n; m++) {
      const proof = tree.consistencyProof(m, n);
      const old = tree.root(m);
      assert.ok(verifyConsistency(m, n, old, root, proof), `consistency ${m} to ${n}`);
      assert.ok(!verifyConsistency(m, n, flip(old), root, proof), "a flipped old root");
      assert.ok(!verifyConsistency(m, n, old, flip(root), proof), "a flipped new root");
      assert.ok(!verifyConsistency(m, n, old, root, [...proof, root]), "an extra hash");
      if (m < n) assert.ok(!verifyConsistency(m + 1, n, old, root, proof), "another old size");
      proof.forEach((_, j) => {
        assert.ok(!verifyConsistency(m, n, old, root, proof.with(j, flip(proof[j] as Buffer))), `hash ${j} flipped`);
        assert.ok(!verifyConsistency(m, n, old, root, proof.toSpliced(j, 1)), `hash ${j} dropped`);
      });
    }
  }
  assert.ok(!verifyConsistency(0, 5, tree.root(0), tree.root(5), []), "from 0 is not a proof this API serves");
});

test("auditor: tile paths and layout follow the tlog-tiles examples", () => {
  // tlog-tiles: "index 1234067 will be encoded as x001/x234/067".
  assert.equal(encodeTileIndex(1_234_067), "x001/x234/067");
  assert.equal(encodeTileIndex(0), "000");
  assert.equal(encodeTileIndex(1000), "x001/000");
  assert.equal(tilePath(0, 273, 112), "tile/0/273.p/112");
  assert.equal(tilePath("entries", 5), "tile/entries/005");
  // tlog-tiles: "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial
  // level 0 tile of width 112, one full level 1 tile, one partial level 1 tile of width 17, and
  // one partial level 2 tile of width 1".
  assert.deepEqual(tileLayout(70_000), [
    { level: 0, hashes: 70_000, fullTiles: 273, partialWidth: 112 },
    { level: 1, hashes: 273, fullTiles: 1, partialWidth: 17 },
    { level: 2, hashes: 1, fullTiles: 0, partialWidth: 1 },
  ]);
  // "a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile of width 1".
  assert.deepEqual(tileLayout(256), [
    { level: 0, hashes: 256, fullTiles: 1, partialWidth: 0 },
    { level: 1, hashes: 1, fullTiles: 0, partialWidth: 1 },
  ]);
  // Tile-level hashes rebuild the same root as the leaves, at every shape around a tile edge.
  const leaves = Array.from({ length: 600 }, (_, i) => hashLeaf(Buffer.from(`entry ${i}`)));
  const tree = new ReferenceTree(leaves);
  for (const size of [1, 2, 255, 256, 257, 511, 512, 513, 600]) {
    const level1 = Array.from({ length: Math.floor(size / TILE_WIDTH) }, (_, j) => tree.hash(j * TILE_WIDTH, (j + 1) * TILE_WIDTH));
    assert.ok(rootFromTiles([leaves.slice(0, size), level1], size).equals(tree.root(size)), `size ${size}`);
  }
  // Entry bundles: big-endian uint16 length prefixes, nothing left over.
  assert.deepEqual(parseEntryBundle(Buffer.from([0, 1, 0x61, 0, 0, 0, 2, 0x62, 0x63])).map(String), ["a", "", "bc"]);
  assert.throws(() => parseEntryBundle(Buffer.from([0, 3, 0x61])), AuditError);
  assert.throws(() => parseEntryBundle(Buffer.from([0, 1, 0x61, 0])), AuditError);
});

/** A verifier key string and a signer for it, made here with node:crypto. */
function testKey(name: string): { vkey: string; sign(text: string): string } {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
  const id = ed25519KeyId(name, raw);
  const idBytes = Buffer.alloc(4);
  idBytes.writeUInt32BE(id);
  return {
    vkey: `${name}+${id.toString(16).padStart(8, "0")}+${Buffer.concat([Buffer.from([1]), raw]).toString("base64")}`,
    sign: (text) => `\u2014 ${name} ${Buffer.concat([idBytes, sign(null, Buffer.from(text), privateKey)]).toString("base64")}\n`,
  };
}

test("auditor: signed notes verify only with the right key and untouched text", () => {
  const key = testKey("example.com/log");
  const other = testKey("example.com/log");
  const text = `example.com/log\n3\n${Buffer.alloc(32, 7).toString("base64")}\n`;
  const note = `${text}\n${key.sign(text)}`;
  const verifier = parseVerifierKey(key.vkey);
  assert.deepEqual(openNote(note, [verifier]).verifiedBy, ["example.com/log"]);
  assert.equal(parseCheckpoint(openNote(note, [verifier]).text).treeSize, 3);
  // Unknown signatures are ignored (signed-note), as long as a known key signed too.
  assert.equal(openNote(`${text}\n${other.sign(text)}${key.sign(text)}`, [verifier]).signatureCount, 2);
  const rejects = (bad: string, why: string) => assert.throws(() => openNote(bad, [verifier]), AuditError, why);
  rejects(`${text}\n${other.sign(text)}`, "signed only by an unknown key with the same name");
  rejects(note.replace("\n3\n", "\n4\n"), "a changed tree size");
  rejects(`${text.replace("3", "4")}\n${key.sign(text)}`, "text that is not what was signed");
  rejects(note.slice(0, -1), "no final newline");
  rejects(note.replace("\u2014", "-"), "no em dash");
  rejects(`${text}${key.sign(text)}`, "no blank line");
  rejects(note.replace("\n3\n", "\n3\r\n"), "a control character");
  const sigAt = note.lastIndexOf(" ") + 10;
  rejects(`${note.slice(0, sigAt)}${note[sigAt] === "A" ? "B" : "A"}${note.slice(sigAt + 1)}`, "a flipped signature");
  assert.throws(() => parseVerifierKey(key.vkey.replace(/\+[0-9a-f]{8}\+/, "+00000000+")), AuditError, "a wrong key ID");
  const checkpointRejects = (body: string) => assert.throws(() => parseCheckpoint(body), AuditError, JSON.stringify(body));
  const root = Buffer.alloc(32).toString("base64");
  checkpointRejects(`o\n03\n${root}\n`);
  checkpointRejects(`o\n-1\n${root}\n`);
  checkpointRejects(`o\n3\n${Buffer.alloc(31).toString("base64")}\n`);
  checkpointRejects(`o\n3\n${root}\n\n`);
  checkpointRejects(`o\n3\n`);
});

// ---------------------------------------------------------------------------------------------
// The audit of a growing log, one server for all sizes.

for (const size of [1, 255, 256, 257]) {
  test(`audit at tree size ${size}`, { timeout: 60_000 }, async (t) => {
    await audit(size, t);
  });
}

test("Go's reference client (sumdb/tlog, sumdb/note) audits the same server at 257", { timeout: 120_000 }, async (t) => {
  await runGoAuditor(t, 257);
});

test("at 257, tiles and bundles beyond the checkpoint are 404, never data", async () => {
  assert.equal(lastCheckpoint().treeSize, 257);
  const served = ["tile/0/000", "tile/0/001.p/1", "tile/1/000.p/1", "tile/entries/000", "tile/entries/001.p/1"];
  for (const path of served) assert.equal((await get(`/logs/${LOG}/${path}`)).status, 200, `${path} is part of the tree`);
  const beyond = [
    "tile/0/001", // the next full tile
    "tile/0/001.p/2", // a partial tile wider than what exists
    "tile/0/002.p/1",
    "tile/1/000", // level 1 holds one hash
    "tile/1/000.p/2",
    "tile/1/001.p/1",
    "tile/2/000.p/1", // a level the tree does not reach
    "tile/2/000",
    "tile/63/000.p/1",
    "tile/entries/001",
    "tile/entries/001.p/2",
    "tile/entries/002.p/1",
    "tile/0/x001/000",
    "tile/0/x999/x999/x999/x999/x999/999",
  ];
  for (const path of beyond) await expectRefused(`/logs/${LOG}/${path}`, [404]);
});

test("malformed tile paths are 404, even when a canonical twin exists", async () => {
  const malformed = [
    "tile/0/x000/000", // non-canonical: a leading zero group (twin of tile/0/000)
    "tile/0/x000/001.p/1",
    "tile/entries/x000/000",
    "tile/0/000.p/0", // widths are 1..255
    "tile/0/000.p/256",
    "tile/entries/000.p/0",
    "tile/entries/000.p/256",
    "tile/0/001.p/01", // no leading zeroes in W
    "tile/0/0000", // groups are exactly 3 digits
    "tile/0/00",
    "tile/0/1",
    "tile/entries/0000",
    "tile/0/x1/000",
    "tile/0/abc", // letters
    "tile/0/00a",
    "tile/0/x001", // only non-final groups carry an x
    "tile/00/000", // no leading zeroes in L
    "tile/01/000",
    "tile/64/000", // L is 0..63
    "tile/-1/000",
    "tile/0/-01",
    "tile/0/000/",
    "tile/0/000.p",
    "tile/0/000.p/",
    "tile/0/001.p/1.p/1",
    "tile/0/001.p/+1",
    "tile/0/001.p/1x",
    "tile/ENTRIES/000",
    "tile/data/000", // Go sumdb names, not tlog-tiles
    "tile/8/0/000",
    "tile/8/data/000",
    "tile/0/",
    "tile/",
  ];
  for (const path of malformed) await expectRefused(`/logs/${LOG}/${path}`, [404]);
});

test("bad proof requests get 400 or 404 and no proof", async () => {
  const size = lastCheckpoint().treeSize;
  const inclusion = `/v1/logs/${LOG}/proofs/inclusion`;
  const consistency = `/v1/logs/${LOG}/proofs/consistency`;
  const bad = [
    `${inclusion}?index=${size}&treeSize=${size}`, // index ≥ treeSize
    `${inclusion}?index=${size + 5}&treeSize=${size}`,
    `${inclusion}?index=0&treeSize=${size + 1}`, // treeSize beyond the checkpoint
    `${inclusion}?index=${size}&treeSize=${size + 1}`,
    `${inclusion}?index=0&treeSize=0`,
    `${inclusion}?index=abc&treeSize=${size}`, // not integers
    `${inclusion}?index=1.5&treeSize=${size}`,
    `${inclusion}?index=-1&treeSize=${size}`,
    `${inclusion}?index=1e2&treeSize=${size}`,
    `${inclusion}?index=0x1&treeSize=${size}`,
    `${inclusion}?index=%201&treeSize=${size}`,
    `${inclusion}?index=&treeSize=${size}`,
    `${inclusion}?treeSize=${size}`,
    `${inclusion}?index=1&treeSize=25a`,
    `${inclusion}?index=1&treeSize=${size}.0`,
    `${inclusion}?index=99999999999999999999&treeSize=${size}`,
    `${consistency}?from=1&to=${size + 1}`, // to beyond the checkpoint
    `${consistency}?from=${size + 1}&to=${size + 1}`,
    `${consistency}?from=2&to=1`, // from > to
    `${consistency}?from=${size}&to=${size - 1}`,
    `${consistency}?from=0&to=${size}`, // from = 0
    `${consistency}?from=abc&to=${size}`,
    `${consistency}?from=1&to=2.5`,
    `${consistency}?from=-1&to=${size}`,
    `${consistency}?from=1&to=1e3`,
    `${consistency}?to=${size}`,
  ];
  for (const path of bad) await expectRefused(path, [400, 404]);
});

async function expectRefused(path: string, statuses: readonly number[]): Promise<void> {
  const response = await get(path);
  const body = Buffer.from(await response.arrayBuffer());
  assert.ok(statuses.includes(response.status), `GET ${path} answered ${response.status}, expected ${statuses.join(" or ")}`);
  assert.ok(!(response.headers.get("content-type") ?? "").startsWith("application/octet-stream"), `GET ${path} answered with tile data`);
  assert.ok(!/"hashes"\s*:/.test(body.toString("utf8")), `GET ${path} answered with a proof`);
}

// ---------------------------------------------------------------------------------------------
// The auditor is not a no-op: fed one corrupted answer, the same audit fails.

type Change = (reply: { status: number; body: Buffer }) => { status?: number; body: Buffer; contentType?: string };

/** A fetch that passes everything through except answers to matching paths, which it changes. */
function tamperingFetch(match: RegExp, change: Change): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const url = new URL(String(input));
    if (!match.test(`${url.pathname}${url.search}`)) return response;
    const changed = change({ status: response.status, body: Buffer.from(await response.arrayBuffer()) });
    const headers = new Headers(response.headers);
    headers.delete("content-length");
    headers.delete("content-encoding");
    if (changed.contentType) headers.set("content-type", changed.contentType);
    return new Response(new Uint8Array(changed.body), { status: changed.status ?? response.status, headers });
  };
}

function flipByte(body: Buffer, at: number): Buffer {
  const copy = Buffer.from(body);
  const i = at < 0 ? copy.length + at : at;
  copy[i] = (copy[i] as number) ^ 0x01;
  return copy;
}

function editJson(edit: (value: { hashes: string[]; leafHash?: string }) => void): Change {
  return ({ status, body }) => {
    if (status !== 200) return { body };
    const value = JSON.parse(body.toString("utf8"));
    edit(value);
    return { body: Buffer.from(JSON.stringify(value)) };
  };
}

const flipBase64 = (text: string) => flipByte(Buffer.from(text, "base64"), 0).toString("base64");

test("the auditor fails on every kind of corrupted answer", { timeout: 60_000, concurrency: true }, async (t) => {
  const current = lastCheckpoint();
  assert.equal(current.treeSize, 257);
  const earlier = checkpoints.at(-2);
  assert.ok(earlier, "the 256 checkpoint was audited");
  const base = { url: live().url, log: LOG, key: ADMIN_KEY, verifierKey: pinnedKey as string, samples: 6, concurrency: 4 };
  // The untouched audit passes through the tampering hook (matching nothing).
  await auditLog({ ...base, previous: earlier, fetch: tamperingFetch(/^$/, ({ body }) => ({ body })) });

  const wrongKey = testKey(parseVerifierKey(pinnedKey as string).name).vkey;
  const cases: [string, RegExp, Change | undefined, RegExp, Partial<Parameters<typeof auditLog>[0]>?][] = [
    ["a flipped bit in a full level-0 tile", /\/tile\/0\/000$/, ({ body }) => ({ body: flipByte(body, 40) }), /tile-(parent|root)/],
    ["a flipped bit in the partial level-0 tile", /\/tile\/0\/001\.p\/1$/, ({ body }) => ({ body: flipByte(body, 0) }), /tile-root/],
    ["a flipped bit in the level-1 tile", /\/tile\/1\/000\.p\/1$/, ({ body }) => ({ body: flipByte(body, -1) }), /tile-(parent|root)/],
    ["a truncated tile", /\/tile\/0\/000$/, ({ body }) => ({ body: body.subarray(0, -32) }), /^tile$/],
    ["a changed entry in a bundle", /\/tile\/entries\/000$/, ({ body }) => ({ body: flipByte(body, 20) }), /entry-hash/],
    ["an entry missing from a bundle", /\/tile\/entries\/001\.p\/1$/, () => ({ body: Buffer.alloc(0) }), /entry-bundle/],
    ["an extra entry in a bundle", /\/tile\/entries\/001\.p\/1$/, ({ body }) => ({ body: Buffer.concat([body, body]) }), /entry-bundle/],
    [
      "a checkpoint with another tree size",
      /\/checkpoint$/,
      ({ body }) => ({ body: Buffer.from(body.toString().replace("\n257\n", "\n258\n")) }),
      /note-signature/,
    ],
    [
      "a checkpoint with another root",
      /\/checkpoint$/,
      ({ body }) => {
        const lines = body.toString().split("\n");
        lines[2] = flipBase64(lines[2] as string);
        return { body: Buffer.from(lines.join("\n")) };
      },
      /note-signature/,
    ],
    [
      "a checkpoint with a flipped signature bit",
      /\/checkpoint$/,
      ({ body }) => {
        const text = body.toString();
        const sig = text.trimEnd().split(" ").at(-1) as string;
        const bytes = Buffer.from(sig, "base64");
        bytes[10] = (bytes[10] as number) ^ 1;
        return { body: Buffer.from(text.replace(sig, bytes.toString("base64"))) };
      },
      /note-signature/,
    ],
    ["a checkpoint checked against another key of the same name", /^$/, undefined, /note-signature/, { verifierKey: wrongKey }],
    [
      "an inclusion proof with a flipped hash",
      /\/proofs\/inclusion/,
      editJson((p) => {
        if (p.hashes[0]) p.hashes[0] = flipBase64(p.hashes[0]);
      }),
      /inclusion/,
    ],
    ["an inclusion proof with an extra hash", /\/proofs\/inclusion/, editJson((p) => p.hashes.push(p.hashes[0] as string)), /inclusion/],
    ["an inclusion proof missing a hash", /\/proofs\/inclusion/, editJson((p) => p.hashes.pop()), /inclusion/],
    [
      "an inclusion proof for another leaf",
      /\/proofs\/inclusion/,
      editJson((p) => {
        p.leafHash = flipBase64(p.leafHash as string);
      }),
      /inclusion/,
    ],
    [
      "a consistency proof with a flipped hash",
      /\/proofs\/consistency/,
      editJson((p) => {
        if (p.hashes[0]) p.hashes[0] = flipBase64(p.hashes[0]);
      }),
      /consistency/,
    ],
    ["a consistency proof missing a hash", /\/proofs\/consistency/, editJson((p) => p.hashes.pop()), /consistency/],
    [
      "a tile beyond the tree served with data",
      /\/tile\/0\/001$/,
      () => ({ status: 200, body: Buffer.alloc(8192, 1), contentType: "application/octet-stream" }),
      /refusal/,
    ],
    [
      "a proof served for index = treeSize",
      /\/proofs\/inclusion\?index=257&treeSize=257$/,
      () => ({ status: 200, body: Buffer.from('{"hashes":[]}'), contentType: "application/json" }),
      /refusal/,
    ],
    [
      "a forked history (the earlier checkpoint had another root)",
      /^$/,
      undefined,
      /append-only/,
      { previous: { ...earlier, rootHash: flipByte(earlier.rootHash, 3) } },
    ],
    ["a shrunk tree", /^$/, undefined, /append-only/, { previous: { ...earlier, treeSize: 300 } }],
  ];
  await Promise.all(
    cases.map(([name, match, change, expected, extra]) =>
      t.test(name, async () => {
        const options = { ...base, previous: earlier, ...extra, ...(change ? { fetch: tamperingFetch(match, change) } : {}) };
        await assert.rejects(auditLog(options), (error: unknown) => {
          assert.ok(error instanceof AuditError, `expected an AuditError, got ${error}`);
          assert.match(error.check, expected);
          return true;
        });
      }),
    ),
  );
});

// ---------------------------------------------------------------------------------------------
// Growth past the first level-1 and level-2 tiles.

test("audit at tree size 65,536 (a full level-1 tile); nothing beyond the checkpoint leaks in between", { timeout: 120_000 }, async (t) => {
  // Between a write and the checkpoint that covers it, the new entry's tiles, bundle and proofs
  // must still be refused (they are bounded by the latest checkpoint, DESIGN §4). Checkpoints are
  // at least an interval apart, so a write right after one is signed leaves such a window.
  assert.deepEqual(await postBatch(1), [257]);
  await waitForCheckpoint(258);
  assert.deepEqual(await postBatch(1), [258]);
  appended = 259;
  const early = await Promise.all(
    [
      `/logs/${LOG}/tile/0/001.p/3`,
      `/logs/${LOG}/tile/entries/001.p/3`,
      `/v1/logs/${LOG}/proofs/inclusion?index=258&treeSize=259`,
      `/v1/logs/${LOG}/proofs/consistency?from=258&to=259`,
    ].map(async (path) => {
      const response = await get(path);
      await response.arrayBuffer();
      return response.status;
    }),
  );
  const checkpoint = await (await get(`/logs/${LOG}/checkpoint`)).text();
  if (Number(checkpoint.split("\n")[1]) < 259) {
    const [tile, bundle, inclusion, consistency] = early;
    assert.deepEqual([tile, bundle], [404, 404], "a tile or bundle beyond the signed checkpoint was served");
    assert.ok(
      [400, 404].includes(inclusion as number) && [400, 404].includes(consistency as number),
      "a proof beyond the signed checkpoint was served",
    );
    t.diagnostic("checked: an appended but not yet checkpointed entry is not served (tiles, bundle, proofs)");
  } else {
    t.diagnostic("the checkpoint was signed before the requests were answered; the in-between check did not apply");
  }
  await audit(65_536, t);
});

test("audit at tree size 70,000 (the tlog-tiles example: a level-2 tile)", { timeout: 120_000 }, async (t) => {
  await audit(70_000, t);
});

test("Go's reference client audits the same server at 70,000, and 257 is a prefix of it", { timeout: 120_000 }, async (t) => {
  await runGoAuditor(t, 70_000);
});

test(`audit after further growth (${FURTHER})`, { timeout: 120_000 }, async (t) => {
  await audit(FURTHER, t);
});

test("append-only across time: every audited checkpoint is consistent with the latest", async () => {
  const latest = lastCheckpoint();
  assert.deepEqual(
    checkpoints.map((c) => c.treeSize),
    [1, 255, 256, 257, 65_536, 70_000, FURTHER],
  );
  for (const earlier of checkpoints) {
    const response = await get(`/v1/logs/${LOG}/proofs/consistency?from=${earlier.treeSize}&to=${latest.treeSize}`);
    assert.equal(response.status, 200);
    const proof = (await response.json()) as { hashes: string[] };
    const hashes = proof.hashes.map((h) => Buffer.from(h, "base64"));
    assert.ok(
      verifyConsistency(earlier.treeSize, latest.treeSize, earlier.rootHash, latest.rootHash, hashes),
      `checkpoint ${earlier.treeSize} is not a prefix of ${latest.treeSize}`,
    );
  }
});

// ---------------------------------------------------------------------------------------------
// Go's reference implementation (tools/go-crosscheck/audit).

function goToolchain(): { available: boolean; gopath: string; why?: string } {
  const gopath =
    process.env.GOPATH && existsSync(join(process.env.GOPATH, "src/golang.org/x/mod/sumdb/tlog"))
      ? process.env.GOPATH
      : "/usr/share/gocode";
  const version = spawnSync("go", ["version"], { encoding: "utf8" });
  if (version.error || version.status !== 0) return { available: false, gopath, why: "go is not on PATH" };
  if (!existsSync(join(gopath, "src/golang.org/x/mod/sumdb/tlog"))) {
    return { available: false, gopath, why: `golang.org/x/mod is not in ${gopath} (apt-get install golang-golang-x-mod-dev)` };
  }
  return { available: true, gopath };
}

function goEnv(gopath: string): Record<string, string> {
  // Debian's x/mod sources build offline in GOPATH mode (tools/go-crosscheck/audit/README.md).
  return { ...(process.env as Record<string, string>), GOPATH: gopath, GO111MODULE: "off", GOFLAGS: "" };
}

function run(command: string, args: string[], env?: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child: ChildProcess = spawn(command, args, { cwd: REPO, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout?.on("data", (c) => {
      output += c;
    });
    child.stderr?.on("data", (c) => {
      output += c;
    });
    child.once("error", (error) => done({ code: -1, output: `${output}${error}` }));
    child.once("exit", (code) => done({ code, output }));
  });
}

async function buildGoAuditor(): Promise<{ binary?: string; error?: string }> {
  const toolchain = goToolchain();
  const binary = join(dir.path, "go-audit");
  const built = await run("go", ["build", "-o", binary, "./tools/go-crosscheck/audit"], goEnv(toolchain.gopath));
  return built.code === 0 ? { binary } : { error: `go build failed:\n${built.output}` };
}

async function runGoAuditor(t: { skip(message: string): void; diagnostic(message: string): void }, size: number): Promise<void> {
  const toolchain = goToolchain();
  if (!toolchain.available) {
    if (process.env.CI) assert.fail(`Go is required in CI for the reference cross-check: ${toolchain.why}`);
    t.skip(`${toolchain.why}; CI runs this`);
    return;
  }
  const current = lastCheckpoint();
  assert.equal(current.treeSize, size);
  const built = await (goBuild ?? buildGoAuditor());
  assert.ok(built.binary, built.error);
  const target = ["-url", live().url, "-log", LOG, "-key", ADMIN_KEY];
  const args = [...target, "-verifier-key", pinnedKey as string];
  const old = checkpoints.find((c) => c.treeSize === 257);
  if (old && old !== current) args.push("-old", `${old.treeSize}:${old.rootHash.toString("base64")}`);
  const result = await run(built.binary, args, goEnv(toolchain.gopath));
  assert.equal(result.code, 0, `the Go auditor failed:\n${result.output}`);
  if (size === 257) {
    // Nor is the Go client a no-op: a forked earlier checkpoint, or another key, fails it.
    const earlier = checkpoints.at(-2) as TrustedCheckpoint;
    const forked = flipByte(earlier.rootHash, 0).toString("base64");
    const fork = await run(built.binary, [...args, "-old", `${earlier.treeSize}:${forked}`], goEnv(toolchain.gopath));
    assert.equal(fork.code, 1, `a forked history passed the Go auditor:\n${fork.output}`);
    assert.match(fork.output, /earlier root/);
    const wrongKey = testKey(parseVerifierKey(pinnedKey as string).name).vkey;
    const other = await run(built.binary, [...target, "-verifier-key", wrongKey], goEnv(toolchain.gopath));
    assert.equal(other.code, 1, `another key passed the Go auditor:\n${other.output}`);
    assert.match(other.output, /checkpoint does not verify/);
  }
  assert.match(
    result.output,
    new RegExp(`^ok .*: size ${size}, root ${current.rootHash.toString("base64").replace(/[+/]/g, "\\$&")}`, "m"),
  );
  t.diagnostic(result.output.trim());
}
