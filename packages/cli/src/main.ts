import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { ConfigError, parseVerifierKey, SealtrailError, VerificationError } from "@sealtrail/core";
import { auditLog, dataDir, loadSigner, originSigner } from "@sealtrail/engine";
import { createSqliteStore } from "@sealtrail/store-sqlite";
import { defineCommand, runMain } from "citty";
import { keysSubCommandRan, keysSubCommands } from "./keys-command.js";
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
  meta: { name: "serve", description: "Run the Sealtrail server on the embedded SQLite store" },
  args: {
    data: { type: "string", description: "Data directory", default: "./sealtrail-data" },
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
    catalog: { type: "string", description: "JavaScript module exporting a defineEvents() catalog, served at /v1/schemas" },
  },
  async run({ args }) {
    const port = Number(args.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) return fail(`--port must be 0-65535, got ${args.port}`, EXIT.usage);
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
    starting = serve({
      data: args.data,
      host: args.host,
      port,
      originPrefix: args["origin-prefix"],
      demo: args.demo,
      publicTree: args["public-tree"],
      accessLog: args["access-log"],
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
    description: "Audit a log: a running server's (--url) as an outside auditor would, or a data directory offline (--data)",
  },
  args: {
    url: { type: "string", description: "Server URL, e.g. http://127.0.0.1:7070" },
    data: { type: "string", description: "Data directory to audit offline" },
    log: { type: "string", description: "Log name (with --data: default all logs)" },
    key: { type: "string", description: "API key (default: $SEALTRAIL_KEY)" },
    "verifier-key": { type: "string", description: "Pinned verifier key (recommended; default: the server's or the data dir's own)" },
    state: { type: "string", description: "File keeping the last verified checkpoint; the next run proves consistency with it" },
    "tiles-only": { type: "boolean", description: "Check hash tiles and proofs only (no entry bundles)", default: false },
    samples: { type: "string", description: "Inclusion proofs to sample", default: "16" },
    json: { type: "boolean", description: "Print the report as JSON", default: false },
  },
  async run({ args }) {
    try {
      if (args.url && args.data) return fail("use either --url or --data, not both", EXIT.usage);
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
          if (report.consistentWithPrevious !== undefined)
            print(`   consistent with the previously verified checkpoint of size ${report.consistentWithPrevious}`);
          if (!report.keyPinned) print("   note: the verifier key came from the server itself; pin it with --verifier-key");
        }
        return;
      }
      if (!args.data) return fail("give --url URL --log NAME, or --data DIR", EXIT.usage);
      const dir = dataDir(args.data);
      if (!existsSync(dir.databasePath)) return fail(`no Sealtrail database in ${dir.path}`, EXIT.usage);
      if (args["verifier-key"] && !args.log) return fail("--verifier-key checks one log: add --log NAME", EXIT.usage);
      const signer = args["verifier-key"]
        ? undefined
        : await loadSigner(dir, { keyName: "unused", create: false, env: process.env.SEALTRAIL_SIGNING_KEY });
      const store = createSqliteStore({ path: dir.databasePath, readonly: true });
      try {
        const logs = args.log ? [args.log] : (await store.listLogs()).map((l) => l.name);
        if (args.log && !(await store.getLog(args.log))) return fail(`log ${args.log} does not exist in ${dir.path}`, EXIT.usage);
        let failed = false;
        const results = [];
        for (const log of logs) {
          const pinnedName = signer ? undefined : parseVerifierKey(args["verifier-key"] as string).name;
          const origin = pinnedName?.endsWith(`/${log}`) ? pinnedName : `${signer?.name ?? pinnedName}/${log}`;
          const verifierKey = signer ? (await originSigner(signer, origin)).verifierKey : (args["verifier-key"] as string);
          const result = await auditLog(store, log, { verifiers: [parseVerifierKey(verifierKey)], origin });
          results.push(result);
          if (!result.ok) failed = true;
          if (!args.json) {
            if (result.ok) print(`OK   ${log}: ${result.entries} entries, ${result.checkpoints} checkpoints verified`);
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
      if (!args.log && existsSync(dir.databasePath)) {
        const store = createSqliteStore({ path: dir.databasePath, readonly: true });
        logs = (await store.listLogs()).map((l) => l.name);
        await store.close();
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
  subCommands: { serve: serveCommand, verify: verifyCommand, keys: keysCommand, query: queryCommand },
});

export function main(): void {
  // `sealtrail query ... | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
  void runMain(cli);
}
