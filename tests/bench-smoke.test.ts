// The benchmark's own plumbing, on a few thousand events: its figures are not tested (they are
// measurements), but every load path must run to the end, both sides must answer the same queries,
// and the --json line must carry what BENCHMARKS.md and the issue name.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";

const dir = mkdtempSync(join(tmpdir(), "sealtrail-bench-smoke-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function bench(args: string[]): { figures: Record<string, unknown>; stderr: string } {
  const run = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", "bench/main.ts", ...args, "--json"], {
    encoding: "utf8",
    env: { ...process.env, NODE_OPTIONS: "" },
    timeout: 120_000,
  });
  assert.equal(run.status, 0, `bench ${args.join(" ")} failed:\n${run.stderr}`);
  const last = run.stdout.trim().split("\n").at(-1) ?? "";
  return { figures: JSON.parse(last) as Record<string, unknown>, stderr: run.stderr };
}

const SHAPES = [
  "log",
  "actor",
  "action",
  "action_prefix",
  "target",
  "outcome",
  "time_range",
  "actor_time",
  "prefix_outcome",
  "request",
  "text",
];

describe("npm run bench (a few thousand events)", () => {
  for (const [label, extra] of [
    ["durable ingest", []],
    ["bulk load with deferred indexes (the 10M path)", ["--defer-indexes", "--durability", "normal", "--dir", join(dir, "deferred")]],
  ] as const) {
    it(`${label}: loads, queries both sides alike, prints every figure`, () => {
      const { figures, stderr } = bench(["--events", "3000", "--tenants", "20", "--only", "ingest,query", "--iterations", "20", ...extra]);
      for (const key of ["ingest_embedded_eps", "ingest_embedded_baseline_eps", "bytes_per_event", "baseline_bytes_per_event"]) {
        assert.ok(typeof figures[key] === "number" && figures[key] > 0, `${key}: ${figures[key]}`);
      }
      for (const key of ["query_p99_ms", "query_p99_baseline_ms"]) {
        assert.deepEqual(Object.keys(figures[key] as object).sort(), [...SHAPES].sort(), key);
      }
      // The bench names any exact shape where the two sides found different numbers of events.
      assert.doesNotMatch(stderr, /sealtrail found \d+ events, the plain table \d+/);
    });
  }

  it("--reuse measures a kept store again, migrating it first when it is behind this version", () => {
    const kept = join(dir, "deferred");
    const again = bench(["--events", "3000", "--tenants", "20", "--only", "query", "--iterations", "20", "--reuse", kept]);
    assert.deepEqual(Object.keys(again.figures.query_p99_ms as object).sort(), [...SHAPES].sort());
    assert.doesNotMatch(again.stderr, /migrated/, "a current store is read as it is");
    // As a store of the previous version: its newest index migration not applied (it drops and
    // recreates indexes, so applying it again is harmless).
    const index = new Database(join(kept, "sealtrail-index.db"));
    index.exec("DELETE FROM index_migrations WHERE version = (SELECT max(version) FROM index_migrations)");
    index.close();
    const upgraded = bench(["--events", "3000", "--tenants", "20", "--only", "query", "--iterations", "20", "--reuse", kept]);
    assert.match(upgraded.stderr, /migrated .*sealtrail\.db to the current schemas in \d+\.\d s/);
    assert.deepEqual(Object.keys(upgraded.figures.query_p99_ms as object).sort(), [...SHAPES].sort());
  });
});
