import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { ConfigError, parseSignerKey, parseVerifierKey, SealtrailError, VerificationError } from "@sealtrail/core";
import { auditLog, dataDir, loadSigner, originSigner } from "@sealtrail/engine";
import { defineCommand, runMain } from "citty";
import { verifyAgainst } from "./against-command.js";
import { eraseCommand, holdCommand, pruneCommand, retentionCommand } from "./compliance-command.js";
import { describeEvidence, exportCommand, verifyBundleFile } from "./export-command.js";
import { keysSubCommandRan, keysSubCommands } from "./keys-command.js";
import { checkStoreUrl, openReadStore, storeArg } from "./offline-store.js";
import { queryCommand } from "./query-command.js";
import { AuditHttpError, auditRemoteLog } from "./remote-audit.js";
import { serve } from "./serve.js";

/** Exit codes: 0 ok, 1 verification failed, 2 bad usage or configuration, 3 server unreachable or refused. */
const EXIT = { ok: 0, verification: 1, usage: 2, unreachable: 3 } as const;

const print = (line: string) => process.stdout.write(`${line}\n`);
const fail = (line: string, code: number) => {
  process.stderr.write(`sealtrail: ${line}\n`);
  process.exitCode = code;
};

function exitCodeFor(error: unknown): number {
  if (error instanceof VerificationError) return EXIT.verification;
  if (error instanceof AuditHttpError) return EXIT.unreachable;
  if (error instanceof SealtrailError) return EXIT.usage;
  if (error instanceof TypeError && /fetch failed/.test(error.message)) return EXIT.unreachable;
  return EXIT.usage;
}

function describe(error: unknown): string {
  if (error instanceof TypeError && error.cause instanceof Error) return `${error.message}: ${error.cause.message}`;
  return error instanceof Error ? error.message : String(error);
}

const serveCommand = defineCommand({
  meta: { name: "serve", description: "Run the Sealtrail server on the embedded SQLite store, or on PostgreSQL with --store" },
  args: {
    data: {
      type: "string",
      description: "Data directory (signing key, viewer token secret; the SQLite database)",
      default: "./sealtrail-data",
    },
    store: { type: "string", description: "postgres://user:password@host/db: run as one of many instances on PostgreSQL" },
    "read-store": { type: "string", description: "postgres://… of a read replica for queries (with --store)" },
    "pool-size": { type: "string", description: "Connections to PostgreSQL per instance (with --store)", default: "10" },
    port: { type: "string", description: "TCP port", default: "7070" },
    host: { type: "string", description: "Address to bind", default: "127.0.0.1" },
    "origin-prefix": {
      type: "string",
      description: "Checkpoint origin prefix and key name (set once, on first start)",
      default: "sealtrail.local",
    },
    demo: { type: "boolean", description: "Fill the logs acme and globex with realistic sample events", default: false },
    "public-tree": { type: "boolean", description: "Serve checkpoints, hash tiles and proofs without a key", default: false },
    "access-log": { type: "boolean", description: "Print one line per request", default: false },
    anchor: {
      type: "string",
      description: "Publish each log's checkpoints to dir:/path, git:/path or s3://bucket/prefix (repeatable)",
    },
    "anchor-interval": { type: "string", description: "Seconds between anchor publications", default: "60" },
    "personal-data": {
      type: "string",
      description: "Personal-data configuration (JSON, docs/personal-data.md); default: DESIGN §7 fields",
    },
    "retention-interval": { type: "string", description: "Seconds between runs of the retention job", default: "3600" },
    catalog: { type: "string", description: "JavaScript module exporting a defineEvents() catalog, served at /v1/schemas" },
  },
  async run({ args, rawArgs }) {
    const port = Number(args.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) return fail(`--port must be 0-65535, got ${args.port}`, EXIT.usage);
    const anchorSeconds = Number(args["anchor-interval"]);
    if (!(anchorSeconds > 0))
      return fail(`--anchor-interval must be a positive number of seconds, got ${args["anchor-interval"]}`, EXIT.usage);
    // citty keeps only the last of a repeated flag; every --anchor counts.
    const anchors = rawArgs.flatMap((arg, i) =>
      arg === "--anchor" && rawArgs[i + 1] !== undefined ? [rawArgs[i + 1] as string] : arg.startsWith("--anchor=") ? [arg.slice(9)] : [],
    );
    const retentionSeconds = Number(args["retention-interval"]);
    if (!(retentionSeconds >= 1))
      return fail(`--retention-interval must be at least 1 second, got ${args["retention-interval"]}`, EXIT.usage);
    // Handlers go in before anything starts: a signal during startup (or the demo fill) waits for
    // startup to finish, then shuts down cleanly instead of killing the process mid-write.
    let starting: ReturnType<typeof serve> | undefined;
    const shutdown = (signal: string) => {
      print(`${signal}: flushing and closing`);
      (starting ?? Promise.reject(new Error("not started")))
        .then((server) => server.stop())
        .then(
          () => process.exit(0),
          (error) => {
            fail(describe(error), exitCodeFor(error));
            process.exit(exitCodeFor(error));
          },
        );
    };
    process.once("SIGINT", () => shutdown("SIGINT"));
    process.once("SIGTERM", () => shutdown("SIGTERM"));
    const poolSize = Number(args["pool-size"]);
    if (!Number.isInteger(poolSize) || poolSize < 2)
      return fail(`--pool-size must be an integer of at least 2, got ${args["pool-size"]}`, EXIT.usage);
    if (args.store && !/^postgres(ql)?:\/\//.test(args.store)) return fail("--store must be a postgres:// URL", EXIT.usage);
    if (args["read-store"] && !args.store) return fail("--read-store needs --store", EXIT.usage);
    starting = serve({
      data: args.data,
      ...(args.store ? { store: args.store, poolSize } : {}),
      ...(args["read-store"] ? { readStore: args["read-store"] } : {}),
      host: args.host,
      port,
      originPrefix: args["origin-prefix"],
      demo: args.demo,
      publicTree: args["public-tree"],
      accessLog: args["access-log"],
      anchors,
      anchorIntervalMs: anchorSeconds * 1000,
      ...(args["personal-data"] ? { personalDataConfig: args["personal-data"] } : {}),
      retentionIntervalMs: retentionSeconds * 1000,
      ...(args.catalog ? { catalog: args.catalog } : {}),
      env: process.env,
      print,
    });
    try {
      await starting;
    } catch (error) {
      fail(describe(error), exitCodeFor(error));
      process.exit(exitCodeFor(error));
    }
  },
});

const verifyCommand = defineCommand({
  meta: {
    name: "verify",
    description:
      "Audit a log: a running server's (--url) as an outside auditor would, or its database directly (--data DIR, or --store postgres://…)",
  },
  args: {
    bundle: { type: "positional", description: "An evidence bundle (.zip) to verify offline", required: false },
    url: { type: "string", description: "Server URL, e.g. http://127.0.0.1:7070" },
    data: { type: "string", description: "Data directory to audit offline (with --store: where the signing key is)" },
    ...storeArg,
    log: { type: "string", description: "Log name (with --data or --store: default all logs)" },
    key: { type: "string", description: "API key (default: $SEALTRAIL_KEY)" },
    "verifier-key": { type: "string", description: "Pinned verifier key (recommended; default: the server's or the data dir's own)" },
    state: { type: "string", description: "File keeping the last verified checkpoint; the next run proves consistency with it" },
    "tiles-only": { type: "boolean", description: "Check hash tiles and proofs only (no entry bundles)", default: false },
    samples: { type: "string", description: "Inclusion proofs to sample", default: "16" },
    workers: {
      type: "string",
      description: "With --data: worker threads that re-hash entries (default: one per core for large logs; 0: none)",
    },
    json: { type: "boolean", description: "Print the report as JSON", default: false },
    against: {
      type: "string",
      description: "Published checkpoints (serve --anchor dir:|git:): prove the current log (--data or --url) consistent with each",
    },
  },
  async run({ args }) {
    try {
      if (args.against) {
        const key = args.key ?? process.env.SEALTRAIL_KEY;
        const ok = await verifyAgainst({
          against: args.against,
          ...(args.data ? { data: args.data } : {}),
          ...(args.url ? { url: args.url } : {}),
          ...(key ? { key } : {}),
          ...(args.log ? { log: args.log } : {}),
          ...(args["verifier-key"] ? { verifierKey: args["verifier-key"] } : {}),
          print,
          json: args.json,
        });
        if (!ok) process.exitCode = EXIT.verification;
        return;
      }
      if (args.bundle) {
        if (args.url || args.data) return fail("an evidence bundle is verified offline: drop --url and --data", EXIT.usage);
        const result = await verifyBundleFile(args.bundle, args["verifier-key"] ? { verifierKey: args["verifier-key"] } : {});
        if (args.json) {
          const { events, checkpoint, ...rest } = result;
          print(
            JSON.stringify({ ok: true, ...rest, treeSize: checkpoint.treeSize, events: events.map((e) => ({ index: e.index, id: e.id })) }),
          );
        } else for (const line of describeEvidence(result)) print(line);
        return;
      }
      if (args.url && args.data) return fail("use either --url or --data, not both", EXIT.usage);
      if (args.url && args.store) return fail("use either --url or --store, not both", EXIT.usage);
      if (args.store) checkStoreUrl(args.store);
      if (args.url) {
        if (!args.log) return fail("--log is required with --url", EXIT.usage);
        const key = args.key ?? process.env.SEALTRAIL_KEY;
        const previous = args.state && existsSync(args.state) ? readFileSync(args.state, "utf8") : undefined;
        const report = await auditRemoteLog({
          url: args.url,
          log: args.log,
          ...(key ? { key } : {}),
          ...(args["verifier-key"] ? { verifierKey: args["verifier-key"] } : {}),
          ...(previous ? { previousCheckpoint: previous } : {}),
          tilesOnly: args["tiles-only"],
          samples: Number(args.samples),
          onProgress: args.json ? undefined : (m) => print(`  ${m}`),
        });
        if (args.state) writeFileSync(args.state, report.checkpoint, { mode: 0o600 });
        if (args.json) print(JSON.stringify({ ok: true, ...report }));
        else {
          print(`OK ${report.origin}: ${report.treeSize} entries, root ${report.rootHash}`);
          print(
            `   ${report.entriesChecked} entries and ${report.tilesChecked} tiles re-hashed; ${report.inclusionProofsChecked} inclusion and ${report.consistencyProofsChecked} consistency proofs verified`,
          );
          if (report.bundlesPruned > 0)
            print(`   ${report.bundlesPruned} entry bundles answered 410 Gone (pruned by retention): checked by their hashes only`);
          if (report.consistentWithPrevious !== undefined)
            print(`   consistent with the previously verified checkpoint of size ${report.consistentWithPrevious}`);
          if (!report.keyPinned) print("   note: the verifier key came from the server itself; pin it with --verifier-key");
        }
        return;
      }
      if (!args.data && !args.store) return fail("give --url URL --log NAME, or --data DIR, or --store postgres://…", EXIT.usage);
      if (args["verifier-key"] && !args.log) return fail("--verifier-key checks one log: add --log NAME", EXIT.usage);
      const workers = args.workers === undefined ? undefined : Number(args.workers);
      if (workers !== undefined && !(Number.isSafeInteger(workers) && workers >= 0)) {
        return fail("--workers takes a whole number, 0 or more", EXIT.usage);
      }
      const signingKeyEnv = process.env.SEALTRAIL_SIGNING_KEY || undefined;
      if (!args.data && !signingKeyEnv && !args["verifier-key"]) {
        return fail(
          "with --store the verifier keys come from the signing key: add --data DIR (its signing-key) or set SEALTRAIL_SIGNING_KEY, or pin one log's key with --log NAME --verifier-key VK",
          EXIT.usage,
        );
      }
      // The data directory holds the SQLite log, or beside --store only the signing key.
      const dir = args.data === undefined ? undefined : dataDir(args.data);
      const store = await openReadStore({ data: args.data ?? "", store: args.store });
      try {
        const signer = args["verifier-key"]
          ? undefined
          : dir
            ? await loadSigner(dir, { keyName: "unused", create: false, env: signingKeyEnv })
            : await parseSignerKey(signingKeyEnv as string);
        const where = args.store ? store.description : (dir?.path ?? "");
        const logs = args.log ? [args.log] : (await store.listLogs()).map((l) => l.name);
        if (args.log && !(await store.getLog(args.log))) return fail(`log ${args.log} does not exist in ${where}`, EXIT.usage);
        let failed = false;
        const results = [];
        for (const log of logs) {
          const pinnedName = signer ? undefined : parseVerifierKey(args["verifier-key"] as string).name;
          const origin = pinnedName?.endsWith(`/${log}`) ? pinnedName : `${signer?.name ?? pinnedName}/${log}`;
          const verifierKey = signer ? (await originSigner(signer, origin)).verifierKey : (args["verifier-key"] as string);
          const result = await auditLog(store, log, {
            verifiers: [parseVerifierKey(verifierKey)],
            origin,
            ...(workers === undefined ? {} : { workers }),
          });
          results.push(result);
          if (!result.ok) failed = true;
          if (!args.json) {
            const pruned = result.pruned?.map((r) => `${r.start}-${r.end - 1}`).join(", ");
            const prunedNote = pruned ? ` (bodies of ${pruned} pruned by retention: checked by hash)` : "";
            if (result.ok) print(`OK   ${log}: ${result.entries} entries, ${result.checkpoints} checkpoints verified${prunedNote}`);
            else
              print(
                `FAIL ${log}: ${result.problem}${result.failedIndex === undefined ? "" : ` (first failing index: ${result.failedIndex})`}`,
              );
          }
        }
        if (args.json) print(JSON.stringify({ ok: !failed, logs: results }));
        if (failed) process.exitCode = EXIT.verification;
      } finally {
        await store.close();
      }
    } catch (error) {
      fail(describe(error), exitCodeFor(error));
    }
  },
});

const keysCommand = defineCommand({
  meta: { name: "keys", description: "Show the verifier keys that check each log's checkpoints" },
  args: {
    data: { type: "string", description: "Data directory", default: "./sealtrail-data" },
    ...storeArg,
    url: { type: "string", description: "Ask a running server instead" },
    log: { type: "string", description: "Only this log (required with --url)" },
    key: { type: "string", description: "API key for --url (default: $SEALTRAIL_KEY)" },
  },
  subCommands: keysSubCommands,
  async run({ args }) {
    // citty runs this after a subcommand (keys create|list|revoke) too; that one has answered.
    if (keysSubCommandRan()) return;
    try {
      if (args.url) {
        if (args.store) return fail("use either --url or --store, not both", EXIT.usage);
        if (!args.log) return fail("--log is required with --url", EXIT.usage);
        const key = args.key ?? process.env.SEALTRAIL_KEY;
        const response = await fetch(`${args.url.replace(/\/+$/, "")}/v1/logs/${encodeURIComponent(args.log)}`, {
          headers: key ? { authorization: `Bearer ${key}` } : {},
        });
        if (!response.ok) return fail(`${args.url} answered ${response.status}`, EXIT.unreachable);
        print(((await response.json()) as { verifierKey: string }).verifierKey);
        return;
      }
      const dir = dataDir(args.data);
      const signer = await loadSigner(dir, { keyName: "unused", create: false, env: process.env.SEALTRAIL_SIGNING_KEY });
      let logs = args.log ? [args.log] : [];
      if (!args.log && (args.store || existsSync(dir.databasePath))) {
        const store = await openReadStore({ data: args.data, store: args.store });
        try {
          logs = (await store.listLogs()).map((l) => l.name);
        } finally {
          await store.close();
        }
      }
      if (logs.length === 0) print(`no logs yet; each log's key will be ${signer.name}/<log>+…, from the same Ed25519 key`);
      for (const log of logs) {
        const verifierKey = (await originSigner(signer, `${signer.name}/${log}`)).verifierKey;
        print(args.log ? verifierKey : `${log}\t${verifierKey}`);
      }
    } catch (error) {
      fail(describe(error), error instanceof ConfigError ? EXIT.usage : exitCodeFor(error));
    }
  },
});

export const cli = defineCommand({
  meta: { name: "sealtrail", version: "0.1.0", description: "Immutable, verifiable audit log" },
  subCommands: {
    serve: serveCommand,
    verify: verifyCommand,
    keys: keysCommand,
    query: queryCommand,
    erase: eraseCommand,
    retention: retentionCommand,
    hold: holdCommand,
    prune: pruneCommand,
    export: exportCommand,
  },
});

export function main(): void {
  // `sealtrail query ... | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
  void runMain(cli);
}
