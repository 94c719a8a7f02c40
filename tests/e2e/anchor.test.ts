// Checkpoint anchoring as an operator uses it: `serve --anchor dir:… --anchor git:…` publishes
// each log's checkpoints; later someone holding the signing key rebuilds the whole data directory
// with one event changed. The rebuilt store verifies on its own, and `verify --against` names every
// published checkpoint it no longer extends.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CompactRange,
  canonicalJson,
  formatCheckpoint,
  hashLeaf,
  indexFieldsOf,
  parseSignerKey,
  signNote,
  TILE_HEIGHT,
  utf8,
} from "@sealtrail/core";
import { originSigner, type StoredHash } from "@sealtrail/engine";
import { createSqliteStore } from "@sealtrail/store-sqlite";
import { runCli, startServer, tempDir } from "../support/server-process.ts";

const dir = tempDir("sealtrail-anchor-");
after(() => dir.remove());

const adminKey = "anchor-admin-key-0123456789abcdefghijkl";
const data = join(dir.path, "data");
const published = join(dir.path, "published");
const repo = join(dir.path, "repo");

const batch = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    id: `evt-${from + i}`,
    action: "document.viewed",
    occurredAt: "2026-11-27T12:00:00.000Z",
    actor: { type: "user", id: `u_${(from + i) % 3}` },
  }));

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (check()) return;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

/**
 * What an attacker with the signing key and write access does: rebuild the store from the
 * original leaves with one event edited, recompute every tile and sign a fresh checkpoint.
 */
async function rewriteStore(original: string, target: string, log: string, edit: number): Promise<void> {
  const source = createSqliteStore({ path: join(original, "sealtrail.db"), readonly: true });
  const size = (await source.getLog(log))?.size ?? 0;
  const entries = await source.readEntries(log, 0, size);
  await source.close();
  execFileSync("mkdir", ["-p", "-m", "700", target]);
  copyFileSync(join(original, "signing-key"), join(target, "signing-key"));
  const range = CompactRange.empty();
  const hashes: StoredHash[] = [];
  const rewritten = entries.map((entry) => {
    const event = JSON.parse(new TextDecoder().decode(entry.leaf));
    if (entry.index === edit) event.action = "document.deleted";
    const leaf = utf8(canonicalJson(event));
    range.append(hashLeaf(leaf), (height, index, hash) => {
      if (height % TILE_HEIGHT === 0) hashes.push({ level: height / TILE_HEIGHT, index, hash });
    });
    return { index: entry.index, id: entry.id, leaf, fields: indexFieldsOf(event) };
  });
  const store = createSqliteStore({ path: join(target, "sealtrail.db") });
  await store.append([{ log, startIndex: 0, entries: rewritten, hashes }]);
  const serverKey = await parseSignerKey(readFileSync(join(target, "signing-key"), "utf8"));
  const origin = `${serverKey.name}/${log}`;
  const note = await signNote(formatCheckpoint({ origin, treeSize: size, rootHash: range.root() }), [
    await originSigner(serverKey, origin),
  ]);
  await store.appendCheckpoint({ log, treeSize: size, rootHash: range.root(), note, createdAt: new Date().toISOString() });
  await store.close();
}

describe("serve --anchor, then verify --against a rewritten store", { timeout: 120_000 }, () => {
  const sizes = [5, 12, 20];

  it("publishes every checkpoint to a directory and to a git repository, one commit each", async () => {
    const server = await startServer({
      dataDir: data,
      adminKey,
      args: ["--anchor", `dir:${published}`, "--anchor", `git:${repo}`, "--anchor-interval", "0.2"],
    });
    try {
      let from = 0;
      for (const size of sizes) {
        const response = await fetch(`${server.url}/v1/logs/acme/events?wait=checkpoint`, {
          method: "POST",
          headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
          body: JSON.stringify({ events: batch(from, size - from) }),
        });
        assert.equal(response.status, 201);
        from = size;
        await until(`checkpoint ${size} in both anchors`, () =>
          [published, repo].every((root) => existsSync(join(root, "acme", `${size}.checkpoint`))),
        );
      }
    } finally {
      await server.stop();
    }
    assert.deepEqual(readdirSync(join(published, "acme")).sort(), ["12.checkpoint", "20.checkpoint", "5.checkpoint"]);
    await until("the last git commit", () => execFileSync("git", ["-C", repo, "status", "--porcelain"], { encoding: "utf8" }) === "");
    const log = execFileSync("git", ["-C", repo, "log", "--format=%s"], { encoding: "utf8" }).trim().split("\n");
    assert.deepEqual(log, ["acme: checkpoint at tree size 20", "acme: checkpoint at tree size 12", "acme: checkpoint at tree size 5"]);
  });

  it("verify --against passes for the untouched store, from the directory and from the git repository", async () => {
    for (const against of [published, repo]) {
      const run = await runCli(["verify", "--data", data, "--against", against]);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /OK +acme: size 20 is consistent with all 3 published checkpoints/);
    }
  });

  it("detects a whole-store rewrite with one event changed, naming each checkpoint it no longer extends", async () => {
    const rebuilt = join(dir.path, "rebuilt");
    await rewriteStore(data, rebuilt, "acme", 7);
    rmSync(data, { recursive: true, force: true });
    renameSync(rebuilt, data);

    const alone = await runCli(["verify", "--data", data]);
    assert.equal(alone.code, 0, `the rewritten store is self-consistent: ${alone.stdout}${alone.stderr}`);

    for (const against of [published, repo]) {
      const run = await runCli(["verify", "--data", data, "--against", against]);
      assert.equal(run.code, 1, run.stdout + run.stderr);
      assert.match(run.stdout, /FAIL acme: 2 of 3 published checkpoints do not match/);
      assert.match(run.stdout, /acme\/12\.checkpoint: the current log does not extend it/);
      assert.match(run.stdout, /acme\/20\.checkpoint: the current log does not extend it/);
      assert.doesNotMatch(run.stdout, /acme\/5\.checkpoint/, "index 7 is after the first checkpoint, which still matches");
    }
  });

  it("also checks a running server against the published checkpoints (--url)", async () => {
    const server = await startServer({ dataDir: data, adminKey });
    try {
      const run = await runCli(["verify", "--url", server.url, "--key", adminKey, "--against", published]);
      assert.equal(run.code, 1, run.stdout + run.stderr);
      assert.match(run.stdout, /acme\/20\.checkpoint: the current log does not extend it/);
    } finally {
      await server.stop();
    }
  });
});
