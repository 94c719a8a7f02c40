import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import {
  type Checkpoint,
  computeKeyId,
  fromBase64,
  openCheckpoint,
  parseVerifierKey,
  toBase64,
  VerificationError,
  verifyConsistency,
  verifyInclusion,
} from "@sealtrail/core";
import {
  events,
  expectProblem,
  fetchLeafHashes,
  fetchLeaves,
  fetchVerifier,
  type Harness,
  heldSigner,
  json,
  logName,
  ORIGIN_PREFIX,
  parameters,
  startHarness,
  testSigner,
} from "./test-harness.js";

// Hashing here is node:crypto, not @sealtrail/core, so the served bytes are checked independently.
const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
};
/** RFC 6962 §2.1 leaf hash. */
const leafHash = (leaf: Uint8Array) => sha256(new Uint8Array([0]), leaf);
/** RFC 6962 §2.1 Merkle tree hash of leaf hashes. */
function mth(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return sha256();
  if (hashes.length === 1) return hashes[0] as Uint8Array;
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return sha256(new Uint8Array([1]), mth(hashes.slice(0, k)), mth(hashes.slice(k)));
}

const concat = (parts: readonly Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const bytesOf = async (response: Response) => new Uint8Array(await response.arrayBuffer());
const FIRST_SIZE = 300;
const SIZE = 305;
const FULL_TILE_CACHE = "private, max-age=31536000, immutable";
const PARTIAL_TILE_CACHE = "private, max-age=31536000, immutable";

let h: Harness;
const log = logName("surface");
/** The checkpoint note served at size 300, before 5 more events. */
let firstNote: string;
/** Every leaf and leaf hash at size 305, read through the entry bundles. */
let leaves: Uint8Array[];
let hashes: Uint8Array[];

before(async () => {
  h = await startHarness();
  await h.seed(log, events(FIRST_SIZE));
  firstNote = await (await h.request(`/logs/${log}/checkpoint`)).text();
  await h.seed(log, events(SIZE - FIRST_SIZE));
  leaves = await fetchLeaves(h, log, SIZE);
  hashes = leaves.map(leafHash);
});
after(() => h.close());

async function open(note: string): Promise<Checkpoint> {
  return openCheckpoint(note, { verifiers: [await fetchVerifier(h, log)], origin: `${ORIGIN_PREFIX}/${log}` });
}

describe("GET /logs/{log}/checkpoint", () => {
  it("serves a C2SP signed note as text/plain; charset=utf-8, not cached without revalidation", async () => {
    const response = await h.request(`/logs/${log}/checkpoint`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(response.headers.get("cache-control"), "private, no-cache");
    const text = await response.text();
    const lines = text.split("\n");
    assert.equal(lines.length, 6, JSON.stringify(text));
    assert.deepEqual(lines.slice(0, 4), [`${ORIGIN_PREFIX}/${log}`, String(SIZE), toBase64(mth(hashes)), ""]);
    assert.match(lines[4] as string, new RegExp(`^\u2014 ${`${ORIGIN_PREFIX}/${log}`.replaceAll(".", "\\.")} [A-Za-z0-9+/]{91}=$`));
    assert.equal(lines[5], "");
  });

  it("verifies with the verifierKey from /v1/logs/{log} and names the origin <prefix>/<log>", async () => {
    const checkpoint = await open(await (await h.request(`/logs/${log}/checkpoint`)).text());
    assert.equal(checkpoint.origin, `${ORIGIN_PREFIX}/${log}`);
    assert.equal(checkpoint.treeSize, SIZE);
    assert.deepEqual(checkpoint.rootHash, mth(hashes));
  });

  it("is signed under the log's origin as key name, with the public key /v1/server lists", async () => {
    const server = await json<{ originPrefix: string; publicKey: string }>(await h.request("/v1/server", { key: null }));
    const note = await (await h.request(`/logs/${log}/checkpoint`)).text();
    const origin = `${server.originPrefix}/${log}`;
    const verifierKey = `${origin}+${computeKeyId(origin, fromBase64(server.publicKey).slice(1)).toString(16).padStart(8, "0")}+${server.publicKey}`;
    await openCheckpoint(note, { verifiers: [parseVerifierKey(verifierKey)], origin });
    assert.match(note, new RegExp(`\n\n\u2014 ${origin.replaceAll(".", "\\.")} `), "the signature line names the origin");
  });

  it("does not pass for another log's checkpoint", async () => {
    const other = logName("other");
    await h.seed(other, events(1));
    const note = await (await h.request(`/logs/${other}/checkpoint`)).text();
    // Signed under the other log's origin, so this log's verifier key does not even match.
    await assert.rejects(open(note), (error: unknown) => error instanceof VerificationError && error.code === "unknown_signer");
  });

  it("publishes a verifier key <name>+<keyID>+<base64(0x01 ‖ key)> with keyID = SHA-256(name ‖ \\n ‖ 0x01 ‖ key)[0:4]", async () => {
    const info = await json<{ verifierKey: string }>(await h.request(`/v1/logs/${log}`));
    const match = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]{44})$/.exec(info.verifierKey);
    assert.ok(match, info.verifierKey);
    const [, name, keyId, keyText] = match as unknown as [string, string, string, string];
    assert.equal(name, `${ORIGIN_PREFIX}/${log}`, "C2SP tlog-checkpoint: the key name is the origin");
    const key = fromBase64(keyText);
    assert.equal(key.length, 33);
    assert.equal(key[0], 0x01);
    const expected = sha256(new TextEncoder().encode(`${name}\n`), key);
    assert.equal(Buffer.from(expected.slice(0, 4)).toString("hex"), keyId);
    // The signature line names the key and starts with the same key ID.
    const note = await (await h.request(`/logs/${log}/checkpoint`)).text();
    const signature = fromBase64(note.trimEnd().split(" ").at(-1) as string);
    assert.equal(signature.length, 4 + 64);
    assert.equal(Buffer.from(signature.slice(0, 4)).toString("hex"), keyId);
  });
});

describe("GET /v1/logs/{log}", () => {
  it("answers name, origin, verifierKey, treeSize and a base64 std rootHash of the latest checkpoint", async () => {
    const response = await h.request(`/v1/logs/${log}`);
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    const info = await json<Record<string, unknown>>(response);
    const note = await (await h.request(`/logs/${log}/checkpoint`)).text();
    assert.equal(info.name, log);
    assert.equal(info.origin, `${ORIGIN_PREFIX}/${log}`);
    assert.equal(info.verifierKey, await h.engine.verifierKey(log));
    assert.equal(parseVerifierKey(info.verifierKey as string).name, `${ORIGIN_PREFIX}/${log}`, "the key name is the origin");
    assert.equal(info.treeSize, SIZE);
    assert.match(info.rootHash as string, /^[A-Za-z0-9+/]{43}=$/);
    assert.equal(info.rootHash, toBase64(mth(hashes)));
    assert.equal(info.checkpoint, note);
    assert.equal(info.integratedSize, SIZE);
    assert.equal(typeof info.checkpointCreatedAt, "string");
  });
});

describe("GET /logs/{log}/tile/{L}/{N}[.p/{W}]", () => {
  it("serves a full tile as 256 hashes (8192 bytes), immutable", async () => {
    const response = await h.request(`/logs/${log}/tile/0/000`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/octet-stream");
    assert.equal(response.headers.get("cache-control"), FULL_TILE_CACHE);
    const bytes = await bytesOf(response);
    assert.equal(bytes.length, 8192);
    assert.deepEqual(bytes, concat(hashes.slice(0, 256)));
  });

  it("serves a partial tile .p/W as W × 32 bytes", async () => {
    const response = await h.request(`/logs/${log}/tile/0/001.p/${SIZE - 256}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("cache-control"), PARTIAL_TILE_CACHE);
    const bytes = await bytesOf(response);
    assert.equal(bytes.length, (SIZE - 256) * 32);
    assert.deepEqual(bytes, concat(hashes.slice(256)));
  });

  it("serves any narrower partial tile, for clients holding an older checkpoint", async () => {
    for (const width of [1, 10, FIRST_SIZE - 256]) {
      const bytes = await bytesOf(await h.request(`/logs/${log}/tile/0/001.p/${width}`));
      assert.deepEqual(bytes, concat(hashes.slice(256, 256 + width)));
    }
    const prefix = await bytesOf(await h.request(`/logs/${log}/tile/0/000.p/7`));
    assert.deepEqual(prefix, concat(hashes.slice(0, 7)));
  });

  it("serves level 1: the hash of each full 256-leaf subtree", async () => {
    const bytes = await bytesOf(await h.request(`/logs/${log}/tile/1/000.p/1`));
    assert.deepEqual(bytes, mth(hashes.slice(0, 256)));
  });

  it("answers 404 beyond_tree for a tile the checkpoint does not cover", async () => {
    for (const path of [
      "0/001",
      `0/001.p/${SIZE - 256 + 1}`,
      "0/002.p/1",
      "0/x001/000.p/1",
      "1/000",
      "1/000.p/2",
      "2/000.p/1",
      "63/000.p/1",
    ]) {
      await expectProblem(await h.request(`/logs/${log}/tile/${path}`), 404, "beyond_tree");
    }
  });

  it("answers 404 route_not_found for every non-canonical tile path", async () => {
    for (const path of [
      "0/0",
      "0/00",
      "0/0000",
      "0/x000/000",
      "0/x000/001",
      "0/001/",
      "0/000.p/0",
      "0/000.p/256",
      "0/000.p/010",
      "0/000.p/",
      "0/000.p",
      "00/000",
      "01/000",
      "64/000",
      "-1/000",
      "0/X001/000",
      "0/x1/000",
      "data/000",
      "entries/0",
      "entries/000.p/0",
      "0",
      "",
    ]) {
      await expectProblem(await h.request(`/logs/${log}/tile/${path}`), 404, "route_not_found");
    }
  });

  it("serves tiles of a log reached through a percent-encoded name", async () => {
    const encoded = log.replace(/^s/, "%73");
    const bytes = await bytesOf(await h.request(`/logs/${encoded}/tile/0/000.p/2`));
    assert.deepEqual(bytes, concat(hashes.slice(0, 2)));
  });
});

describe("GET /logs/{log}/tile/entries/{N}[.p/{W}]", () => {
  /** C2SP tlog-tiles entry bundle, decoded here by hand: big-endian uint16 length, then the leaf. */
  function decode(bytes: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let offset = 0; offset < bytes.length; ) {
      const length = ((bytes[offset] as number) << 8) | (bytes[offset + 1] as number);
      out.push(bytes.slice(offset + 2, offset + 2 + length));
      offset += 2 + length;
      assert.ok(offset <= bytes.length, "truncated bundle");
    }
    return out;
  }

  it("serves a full bundle of 256 leaves that hash to the level-0 tile", async () => {
    const response = await h.request(`/logs/${log}/tile/entries/000`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/octet-stream");
    assert.equal(response.headers.get("cache-control"), FULL_TILE_CACHE);
    const bundle = decode(await bytesOf(response));
    assert.equal(bundle.length, 256);
    const tile = await bytesOf(await h.request(`/logs/${log}/tile/0/000`));
    assert.deepEqual(concat(bundle.map(leafHash)), tile);
  });

  it("gzips a bundle for a client that accepts it, to the same bytes", async () => {
    const plain = await bytesOf(await h.request(`/logs/${log}/tile/entries/000`));
    const response = await h.request(`/logs/${log}/tile/entries/000`, { headers: { "accept-encoding": "gzip" } });
    assert.equal(response.headers.get("content-encoding"), "gzip");
    const packed = await bytesOf(response);
    assert.ok(packed.length < plain.length / 2, `gzip should shrink JSON leaves (${packed.length} vs ${plain.length})`);
    assert.deepEqual(new Uint8Array(gunzipSync(packed)), plain);
  });

  it("serves a partial bundle .p/W with W leaves", async () => {
    const response = await h.request(`/logs/${log}/tile/entries/001.p/${SIZE - 256}`);
    assert.equal(response.headers.get("cache-control"), PARTIAL_TILE_CACHE);
    const bundle = decode(await bytesOf(response));
    assert.equal(bundle.length, SIZE - 256);
    assert.deepEqual(bundle.map(leafHash), hashes.slice(256));
    for (const leaf of bundle) assert.equal(typeof (JSON.parse(new TextDecoder().decode(leaf)) as { id: unknown }).id, "string");
  });

  it("answers 404 beyond_tree for a bundle the checkpoint does not cover", async () => {
    for (const path of ["001", `001.p/${SIZE - 256 + 1}`, "002.p/1"]) {
      await expectProblem(await h.request(`/logs/${log}/tile/entries/${path}`), 404, "beyond_tree");
    }
  });

  it("cross-checks with the hash tiles read by the harness", async () => {
    assert.deepEqual(await fetchLeafHashes(h, log, SIZE), hashes);
  });
});

describe("GET /v1/logs/{log}/proofs/inclusion", () => {
  const checkpointRoot = () => mth(hashes);

  it("answers { index, treeSize, leafHash, rootHash, hashes } that verify against the checkpoint", async () => {
    const checkpoint = await open(await (await h.request(`/logs/${log}/checkpoint`)).text());
    for (const index of [0, 1, 2, 127, 255, 256, 257, SIZE - 1]) {
      const proof = await json<Record<string, unknown>>(await h.request(`/v1/logs/${log}/proofs/inclusion?index=${index}`));
      assert.deepEqual(Object.keys(proof).sort(), ["hashes", "index", "leafHash", "rootHash", "treeSize"]);
      assert.equal(proof.index, index);
      assert.equal(proof.treeSize, SIZE);
      assert.equal(proof.leafHash, toBase64(hashes[index] as Uint8Array));
      assert.equal(proof.rootHash, toBase64(checkpoint.rootHash));
      const path = (proof.hashes as string[]).map(fromBase64);
      verifyInclusion(index, SIZE, leafHash(leaves[index] as Uint8Array), path, checkpoint.rootHash);
    }
  });

  it("proves inclusion in an older tree size", async () => {
    const older = await open(firstNote);
    for (const [index, treeSize] of [
      [0, 1],
      [5, 6],
      [17, 100],
      [299, FIRST_SIZE],
    ] as const) {
      const proof = await json<{ rootHash: string; hashes: string[]; treeSize: number }>(
        await h.request(`/v1/logs/${log}/proofs/inclusion?index=${index}&treeSize=${treeSize}`),
      );
      assert.equal(proof.treeSize, treeSize);
      const root = mth(hashes.slice(0, treeSize));
      assert.equal(proof.rootHash, toBase64(root));
      verifyInclusion(index, treeSize, hashes[index] as Uint8Array, proof.hashes.map(fromBase64), root);
      if (treeSize === FIRST_SIZE) assert.deepEqual(root, older.rootHash);
    }
  });

  it("answers a proof that fails for another leaf", async () => {
    const proof = await json<{ hashes: string[] }>(await h.request(`/v1/logs/${log}/proofs/inclusion?index=3`));
    assert.throws(
      () => verifyInclusion(3, SIZE, hashes[4] as Uint8Array, proof.hashes.map(fromBase64), checkpointRoot()),
      VerificationError,
    );
  });

  const bad: [string, string][] = [
    ["", "index"],
    ["index=", "index"],
    ["index=-1", "index"],
    ["index=abc", "index"],
    ["index=01", "index"],
    ["index=1.5", "index"],
    ["index=1e3", "index"],
    ["index=0x1", "index"],
    ["index=%201", "index"],
    ["index=99999999999999999", "index"],
    ["index=1&treeSize=abc", "treeSize"],
    ["index=1&treeSize=-5", "treeSize"],
    ["index=5&treeSize=5", "index"],
    ["index=0&treeSize=0", "index"],
    [`index=${SIZE}`, "index"],
  ];
  for (const [query, parameter] of bad) {
    it(`answers 400 invalid_parameter naming ${parameter} for ?${query}`, async () => {
      const body = await expectProblem(await h.request(`/v1/logs/${log}/proofs/inclusion?${query}`), 400, "invalid_parameter");
      assert.deepEqual(parameters(body), [parameter]);
      assert.equal(body.title, "Bad Request");
    });
  }

  for (const query of [`index=0&treeSize=${SIZE + 1}`, `index=${SIZE}&treeSize=${SIZE + 1}`, "index=0&treeSize=9007199254740991"]) {
    it(`answers 404 beyond_tree for ?${query}`, async () => {
      await expectProblem(await h.request(`/v1/logs/${log}/proofs/inclusion?${query}`), 404, "beyond_tree");
    });
  }
});

describe("GET /v1/logs/{log}/proofs/consistency", () => {
  it("answers { from, to, hashes } that verify between two signed checkpoints", async () => {
    const older = await open(firstNote);
    const newer = await open(await (await h.request(`/logs/${log}/checkpoint`)).text());
    assert.equal(older.treeSize, FIRST_SIZE);
    assert.equal(newer.treeSize, SIZE);
    const proof = await json<Record<string, unknown>>(await h.request(`/v1/logs/${log}/proofs/consistency?from=${FIRST_SIZE}&to=${SIZE}`));
    assert.deepEqual(Object.keys(proof).sort(), ["from", "hashes", "to"]);
    assert.equal(proof.from, FIRST_SIZE);
    assert.equal(proof.to, SIZE);
    verifyConsistency(FIRST_SIZE, SIZE, older.rootHash, newer.rootHash, (proof.hashes as string[]).map(fromBase64));
  });

  it("defaults to to the latest checkpoint", async () => {
    const proof = await json<{ to: number; hashes: string[] }>(await h.request(`/v1/logs/${log}/proofs/consistency?from=${FIRST_SIZE}`));
    assert.equal(proof.to, SIZE);
    verifyConsistency(FIRST_SIZE, SIZE, mth(hashes.slice(0, FIRST_SIZE)), mth(hashes), proof.hashes.map(fromBase64));
  });

  it("proves consistency between any two sizes up to the checkpoint", async () => {
    for (const [from, to] of [
      [1, 1],
      [1, 2],
      [1, SIZE],
      [7, 8],
      [17, 256],
      [256, 257],
      [255, SIZE],
      [SIZE, SIZE],
    ] as const) {
      const proof = await json<{ hashes: string[] }>(await h.request(`/v1/logs/${log}/proofs/consistency?from=${from}&to=${to}`));
      verifyConsistency(from, to, mth(hashes.slice(0, from)), mth(hashes.slice(0, to)), proof.hashes.map(fromBase64));
      if (from === to) assert.deepEqual(proof.hashes, []);
    }
  });

  it("answers a proof that fails against a different old root", async () => {
    const proof = await json<{ hashes: string[] }>(await h.request(`/v1/logs/${log}/proofs/consistency?from=10&to=${SIZE}`));
    assert.throws(
      () => verifyConsistency(10, SIZE, mth(hashes.slice(1, 11)), mth(hashes), proof.hashes.map(fromBase64)),
      VerificationError,
    );
  });

  const bad: [string, string][] = [
    ["", "from"],
    ["from=0", "from"],
    ["from=-1", "from"],
    ["from=abc", "from"],
    ["from=1&to=abc", "to"],
    ["from=1&to=1.0", "to"],
    ["from=10&to=5", "from"],
    [`from=${SIZE + 1}`, "from"],
  ];
  for (const [query, parameter] of bad) {
    it(`answers 400 invalid_parameter naming ${parameter} for ?${query}`, async () => {
      const body = await expectProblem(await h.request(`/v1/logs/${log}/proofs/consistency?${query}`), 400, "invalid_parameter");
      assert.deepEqual(parameters(body), [parameter]);
    });
  }

  for (const query of [`from=1&to=${SIZE + 1}`, `from=${SIZE + 1}&to=${SIZE + 2}`, "from=1&to=9007199254740991"]) {
    it(`answers 404 beyond_tree for ?${query}`, async () => {
      await expectProblem(await h.request(`/v1/logs/${log}/proofs/consistency?${query}`), 404, "beyond_tree");
    });
  }
});

describe("a log that does not exist", () => {
  it("is 404 log_not_found on every route", async () => {
    const missing = logName("missing");
    for (const path of ["/checkpoint", "/tile/0/000", "/tile/0/000.p/1", "/tile/1/000.p/1", "/tile/entries/000.p/1"]) {
      await expectProblem(await h.request(`/logs/${missing}${path}`), 404, "log_not_found");
    }
    for (const path of ["", "/proofs/inclusion?index=0", "/proofs/consistency?from=1"]) {
      await expectProblem(await h.request(`/v1/logs/${missing}${path}`), 404, "log_not_found");
    }
    assert.equal(await h.store.getLog(missing), undefined, "reading must not create a log");
  });
});

describe("a log whose first checkpoint is not signed yet", () => {
  let slow: Harness;
  let release: () => void;
  const fresh = "unsigned";
  before(async () => {
    const held = heldSigner(await testSigner());
    release = held.release;
    slow = await startHarness({ signer: held.signer, checkpointIntervalMs: 60_000 });
    await json(await slow.post(fresh, { events: events(2) }), 201);
  });
  after(async () => {
    release();
    await slow.close();
  });

  it("answers 404 no_checkpoint for the checkpoint", async () => {
    const body = await expectProblem(await slow.request(`/logs/${fresh}/checkpoint`), 404, "no_checkpoint");
    assert.match(body.detail, /retry/);
  });

  it("describes the log with the empty tree and its committed size", async () => {
    const info = await json<Record<string, unknown>>(await slow.request(`/v1/logs/${fresh}`));
    assert.equal(info.treeSize, 0);
    assert.equal(info.rootHash, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "RFC 6962: the empty tree's hash is SHA-256 of nothing");
    assert.equal(info.checkpoint, null);
    assert.equal(info.integratedSize, 2);
  });

  it("serves no tile, bundle or proof yet", async () => {
    for (const path of ["/tile/0/000.p/1", "/tile/entries/000.p/1"]) {
      await expectProblem(await slow.request(`/logs/${fresh}${path}`), 404, "beyond_tree");
    }
    await expectProblem(await slow.request(`/v1/logs/${fresh}/proofs/inclusion?index=0&treeSize=1`), 404, "beyond_tree");
    await expectProblem(await slow.request(`/v1/logs/${fresh}/proofs/consistency?from=1&to=2`), 404, "beyond_tree");
  });

  it("serves the checkpoint once the signer answers", async () => {
    release();
    const checkpoint = await slow.engine.waitForCheckpoint(fresh, 1);
    const response = await slow.request(`/logs/${fresh}/checkpoint`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), checkpoint.note);
    assert.equal(checkpoint.treeSize, 2);
  });
});

describe("entries committed after the latest checkpoint", () => {
  let lagging: Harness;
  const name = "lagging";
  before(async () => {
    // A log's first checkpoint is signed at once; the next waits a whole interval.
    lagging = await startHarness({ checkpointIntervalMs: 60_000 });
    await lagging.seed(name, events(3));
    await json(await lagging.post(name, { events: events(2) }), 201);
  });
  after(() => lagging.close());

  it("are counted in integratedSize but not in the checkpoint", async () => {
    const info = await json<{ treeSize: number; integratedSize: number }>(await lagging.request(`/v1/logs/${name}`));
    assert.equal(info.treeSize, 3);
    assert.equal(info.integratedSize, 5);
    const note = await (await lagging.request(`/logs/${name}/checkpoint`)).text();
    assert.equal(note.split("\n")[1], "3");
  });

  it("are not served in tiles or bundles until a checkpoint covers them", async () => {
    assert.equal((await lagging.request(`/logs/${name}/tile/0/000.p/3`)).status, 200);
    assert.equal((await lagging.request(`/logs/${name}/tile/entries/000.p/3`)).status, 200);
    await expectProblem(await lagging.request(`/logs/${name}/tile/0/000.p/4`), 404, "beyond_tree");
    await expectProblem(await lagging.request(`/logs/${name}/tile/entries/000.p/5`), 404, "beyond_tree");
  });

  it("cannot be proved until a checkpoint covers them", async () => {
    const body = await expectProblem(await lagging.request(`/v1/logs/${name}/proofs/inclusion?index=3`), 400, "invalid_parameter");
    assert.deepEqual(parameters(body), ["index"]);
    await expectProblem(await lagging.request(`/v1/logs/${name}/proofs/inclusion?index=3&treeSize=5`), 404, "beyond_tree");
    await expectProblem(await lagging.request(`/v1/logs/${name}/proofs/consistency?from=3&to=4`), 404, "beyond_tree");
  });
});
