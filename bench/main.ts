import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runHttpBench } from "./http-bench.ts";
import { migrateKeptStore, reuseLoadedData, runIngestBench } from "./ingest-bench.ts";
import { runPostgresBench } from "./pg-bench.ts";
import { runProofBench } from "./proof-bench.ts";
import { runQueryBench } from "./query-bench.ts";
import { runRecordOverheadBench } from "./record-overhead.ts";

/**
 * `npm run bench [-- --events N] [--json] [--only ingest,query,proof,http,record,pg]`. Every figure is
 * printed beside its baseline from the same run: these machines are noisy, so only side-by-side
 * ratios mean anything. With --json the last line of stdout is one object with every figure.
 * BENCHMARKS.md explains the method and holds the latest results.
 */
const { values } = parseArgs({
  options: {
    events: { type: "string", default: "200000" },
    tenants: { type: "string", default: "1000" },
    callers: { type: "string", default: "256" },
    iterations: { type: "string", default: "200" },
    "http-seconds": { type: "string", default: "8" },
    "sustain-seconds": { type: "string", default: "0" },
    concurrency: { type: "string", default: "16" },
    only: { type: "string", default: "ingest,query,proof,http,record" },
    durability: { type: "string", default: "full" },
    "defer-indexes": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    reuse: { type: "string" },
    dir: { type: "string" },
    resume: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});
const suites = new Set(values.only.split(","));
const events = Number(values.events);
const tenants = Number(values.tenants);
const log = (line: string) => process.stderr.write(`${line}\n`);
// --keep leaves the loaded databases for a later `--reuse DIR --only query,proof` (10M takes an hour to load);
// --dir DIR loads into DIR (created if missing) and keeps it.
const keep = values.keep || values.dir !== undefined;
const dir = values.reuse ?? values.dir ?? mkdtempSync(join(tmpdir(), "sealtrail-bench-"));
mkdirSync(dir, { recursive: true });
const summary: Record<string, unknown> = { events, tenants, node: process.version, cpus: cpus().length };
log(`Sealtrail benchmark: ${events} events across ${tenants} tenants, node ${process.version}, ${cpus().length} CPUs (${dir})`);
try {
  if (values.reuse && (suites.has("query") || suites.has("proof"))) {
    const data = reuseLoadedData(dir, events, tenants);
    // The suites read it read-only, as an audit would; a store from an older version is first
    // migrated to the current schema, as the server would at its first start (timed: a real upgrade).
    const migration = await migrateKeptStore(data.storePath);
    if (migration) log(`  migrated ${data.storePath} to the current schemas in ${migration.seconds.toFixed(1)} s`);
    if (suites.has("query")) {
      log(`query: on the databases an earlier run kept in ${dir}, first page (50 newest) per documented shape:`);
      Object.assign(summary, await runQueryBench({ data, iterations: Number(values.iterations), log }));
    }
    if (suites.has("proof")) {
      if (data.signerKey === "") throw new Error(`${dir} has no bench-signer-key: it was loaded before the bench kept one`);
      log(`proofs, signing and verification: on the log an earlier run kept in ${dir}:`);
      Object.assign(summary, await runProofBench({ data, log }));
    }
  } else if (!values.reuse && (suites.has("ingest") || suites.has("query") || suites.has("proof"))) {
    log("ingest (embedded library, durable) and storage, vs a plain indexed better-sqlite3 table:");
    const data = await runIngestBench({
      dir,
      events,
      tenants,
      callers: Number(values.callers),
      durability: values.durability === "normal" ? "normal" : "full",
      deferIndexes: values["defer-indexes"],
      log,
    });
    Object.assign(summary, data.figures);
    if (suites.has("query")) {
      log("query: first page (50 newest) per documented shape, vs the same question on the plain table:");
      Object.assign(summary, await runQueryBench({ data, iterations: Number(values.iterations), log }));
    }
    if (suites.has("proof")) {
      log("proofs, signing and verification:");
      Object.assign(summary, await runProofBench({ data, log }));
    }
  }
  if (suites.has("http")) {
    log("HTTP ingest (sealtrail serve), vs a minimal node:http endpoint over the plain table:");
    Object.assign(
      summary,
      await runHttpBench({
        dir,
        tenants,
        seconds: Number(values["http-seconds"]),
        sustainSeconds: Number(values["sustain-seconds"]),
        concurrency: Number(values.concurrency),
        log,
      }),
    );
  }
  if (suites.has("record")) {
    log("audit.record() inside a request handler: requests/s with and without it, same app, same run:");
    Object.assign(summary, prefixed("record_", await runRecordOverheadBench({ log })));
  }
  if (suites.has("pg") || suites.has("pg-query")) {
    log(
      suites.has("pg")
        ? "PostgreSQL: ingest through 1, 2 and 4 server processes vs INSERT / COPY; queries vs a plain table:"
        : "PostgreSQL: queries vs a plain table:",
    );
    Object.assign(
      summary,
      prefixed(
        "pg_",
        await runPostgresBench({
          events,
          tenants,
          iterations: Number(values.iterations),
          queriesOnly: !suites.has("pg"),
          deferIndexes: values["defer-indexes"],
          // The kept cluster lives in DIR/pg, beside the SQLite suite's databases.
          ...(keep || values.reuse ? { dir: join(dir, "pg"), reuse: values.reuse !== undefined, resume: values.resume } : {}),
          log,
        }),
      ),
    );
  }
} finally {
  if (keep || values.reuse) log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

function prefixed(prefix: string, figures: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(figures).map(([key, value]) => [key.startsWith(prefix) ? key : prefix + key, value]));
}
if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
