import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import { ConfigError } from "@sealtrail/core";
import { acquireLock, dataDir, loadSigner } from "@sealtrail/engine";
import { Authenticator, createApp, type PublicApiKey, publicApiKey } from "@sealtrail/server";
import { createSqliteStore } from "@sealtrail/store-sqlite";
import { defineCommand } from "citty";
import { checkStoreUrl, openReadStore, type StoreTarget, storeArg } from "./offline-store.js";
import { openServerParts } from "./server-parts.js";

/**
 * `sealtrail keys create|list|revoke`: API key management, against a running server (--url, as an
 * admin) or offline on a data directory (--data). Offline, create and revoke run the server's own
 * HTTP handler in-process (same validation, same system-log events, the actor being the local
 * operator), under the data-directory lock: the system log is a sequenced log, and two sequencers
 * must never write one log, so they refuse while a server runs. `list` only reads, and works
 * either way (SQLite WAL lets a reader in beside the server). With `--store postgres://…` the
 * database coordinates writers instead (one integrator at a time), so create and revoke join the
 * running instances rather than refuse.
 */

const EXIT = { usage: 2, refused: 3 } as const;
const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const note = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const fail = (line: string, code: number) => {
  process.stderr.write(`sealtrail: ${line}\n`);
  process.exitCode = code;
};

let subCommandRan = false;

/** citty runs a command's own `run` after its subcommand's; `keys` checks this to stay quiet then. */
export function keysSubCommandRan(): boolean {
  return subCommandRan;
}

/** A key as the API shows it (never its secret, except `key` once, on creation). */
type KeyJson = PublicApiKey & { readonly key?: string };

interface ProblemJson {
  status?: number;
  code?: string;
  detail?: string;
  errors?: { pointer?: string; parameter?: string; detail: string }[];
}

export type Call = (method: string, path: string, body?: unknown) => Promise<Response>;

export class CommandFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export const target = {
  url: { type: "string", description: "Server URL (default: $SEALTRAIL_URL)" },
  key: { type: "string", description: "Admin API key for --url (default: $SEALTRAIL_KEY)" },
  data: { type: "string", description: "Work offline on this data directory instead (no server running)" },
  json: { type: "boolean", description: "Print JSON", default: false },
} as const;

interface TargetArgs {
  url?: string;
  key?: string;
  data?: string;
  store?: string;
}

/** `keys create|revoke --store`: the data directory is still needed, for the signing key. */
function offlineTarget(args: TargetArgs): StoreTarget {
  if (args.store) {
    checkStoreUrl(args.store);
    if (!args.data) {
      throw new CommandFailure(
        "with --store, give --data DIR too: the signing key the server instances use (as for serve --store)",
        EXIT.usage,
      );
    }
  }
  return { data: args.data as string, store: args.store };
}

export function remoteUrl(args: TargetArgs): string | undefined {
  if (args.url && args.data) throw new CommandFailure("use either --url or --data, not both", EXIT.usage);
  if (args.url && args.store) throw new CommandFailure("use either --url or --store, not both", EXIT.usage);
  if (args.data || args.store) return undefined;
  const url = args.url ?? process.env.SEALTRAIL_URL;
  if (!url) throw new CommandFailure("give --url URL (or set SEALTRAIL_URL) with an admin key, or --data DIR", EXIT.usage);
  return url.replace(/\/+$/, "");
}

export function remoteCall(url: string, args: TargetArgs): Call {
  const key = args.key ?? process.env.SEALTRAIL_KEY;
  if (!key) throw new CommandFailure("an admin key is required with --url: --key KEY or SEALTRAIL_KEY", EXIT.usage);
  return (method, path, body) =>
    fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
}

function databaseOf(path: string) {
  const dir = dataDir(path);
  if (!existsSync(dir.databasePath)) {
    throw new CommandFailure(`no Sealtrail database in ${dir.path}; start \`sealtrail serve --data ${path}\` once first`, EXIT.usage);
  }
  return dir;
}

/**
 * Runs `work` against the server's HTTP handler in-process. On SQLite it holds the data-directory
 * lock. On PostgreSQL (`target.store`) it joins the instances as `serve --store` does, so it works
 * beside running servers: what it appends is staged and sequenced by whichever one integrates.
 */
export async function offline<T>(target: StoreTarget, work: (call: Call) => Promise<T>): Promise<T> {
  const dir = target.store ? dataDir(target.data) : databaseOf(target.data);
  if (!existsSync(dir.path)) {
    throw new CommandFailure(`no data directory ${dir.path}: give the one the server instances use (signing key)`, EXIT.usage);
  }
  let release: () => void = () => undefined;
  if (!target.store) {
    try {
      release = acquireLock(dir);
    } catch (error) {
      if (error instanceof ConfigError && error.code === "data_dir_locked") {
        throw new CommandFailure(`${error.message}: manage keys through it with --url URL --key ADMINKEY`, EXIT.usage);
      }
      throw error;
    }
  }
  try {
    const signer = await loadSigner(dir, { keyName: "unused", create: false, env: process.env.SEALTRAIL_SIGNING_KEY });
    const parts = await openServerParts(dir, {
      signer,
      ...(target.store ? { postgres: { url: target.store, poolSize: 2, print: () => undefined } } : {}),
    });
    const { store, engine, personalData } = parts;
    try {
      // A one-time admin credential that never leaves this process: whoever can open the data
      // directory is the operator, and the system log names them as such.
      const credential = randomBytes(32).toString("base64url");
      const auth = new Authenticator(store, credential, {
        envAdminActor: { type: "operator", id: operatorName(), name: "sealtrail keys --data" },
      });
      const app = createApp({ engine, auth, personalData });
      return await work(async (method, path, body) =>
        app.request(path, {
          method,
          headers: {
            authorization: `Bearer ${credential}`,
            "user-agent": "sealtrail-cli (offline --data)",
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
      );
    } finally {
      await parts.close();
    }
  } finally {
    release();
  }
}

function operatorName(): string {
  try {
    return userInfo().username || "unknown";
  } catch {
    return "unknown";
  }
}

/** Reads a JSON answer, or fails with the problem's detail and an exit code for its status. */
export async function expectJson<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  if (response.status === status) return (status === 204 ? undefined : JSON.parse(text)) as T;
  let problem: ProblemJson = {};
  try {
    problem = JSON.parse(text) as ProblemJson;
  } catch {
    // Not problem+json (a proxy's error page): the status says enough.
  }
  const fields = (problem.errors ?? []).map((e) => `\n  ${e.pointer ?? e.parameter ?? ""}: ${e.detail}`).join("");
  const refused = response.status === 401 || response.status === 403 || response.status >= 500;
  throw new CommandFailure(
    `${response.status}${problem.code ? ` ${problem.code}` : ""}: ${problem.detail ?? "the server refused the request"}${fields}`,
    refused ? EXIT.refused : EXIT.usage,
  );
}

async function run(action: () => Promise<void>): Promise<void> {
  subCommandRan = true;
  try {
    await action();
  } catch (error) {
    if (error instanceof CommandFailure) return fail(error.message, error.exitCode);
    if (error instanceof TypeError && /fetch failed/.test(error.message)) {
      const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
      return fail(`${error.message}${cause}`, EXIT.refused);
    }
    fail(error instanceof Error ? error.message : String(error), EXIT.usage);
  }
}

/** Every `--log NAME` (citty keeps only the last of a repeated flag); commas also separate names. */
function logsFrom(rawArgs: readonly string[]): string[] {
  const logs: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i] as string;
    if (arg === "--") break;
    if (arg === "--log" && i + 1 < rawArgs.length) logs.push(rawArgs[++i] as string);
    else if (arg.startsWith("--log=")) logs.push(arg.slice("--log=".length));
  }
  return logs.flatMap((value) => value.split(",")).filter((name) => name !== "");
}

const createCommand = defineCommand({
  meta: { name: "create", description: "Create an API key; the key is printed once and only its hash is stored" },
  args: {
    scope: { type: "string", description: "ingest | read | admin (required)" },
    log: { type: "string", description: "A log the key may use; repeat for several (default: every log; admin keys reach every log)" },
    label: { type: "string", description: "A note saying what the key is for" },
    ...target,
    ...storeArg,
  },
  run: ({ args, rawArgs }) =>
    run(async () => {
      if (!args.scope) throw new CommandFailure("--scope is required: ingest, read or admin", EXIT.usage);
      const logs = logsFrom(rawArgs);
      const body = { scope: args.scope, ...(logs.length > 0 ? { logs } : {}), ...(args.label === undefined ? {} : { label: args.label }) };
      const url = remoteUrl(args);
      const created = url
        ? await expectJson<KeyJson>(await remoteCall(url, args)("POST", "/v1/keys", body), 201)
        : await offline(offlineTarget(args), async (call) => expectJson<KeyJson>(await call("POST", "/v1/keys", body), 201));
      if (args.json) return print(JSON.stringify(created));
      print(created.key as string);
      const reach = created.logs.length > 0 ? `log${created.logs.length > 1 ? "s" : ""} ${created.logs.join(", ")}` : "every log";
      note(`created ${created.scope} key ${created.id} for ${reach}; it is shown only now, store it in a secret manager`);
    }),
});

function describeKey(key: KeyJson): string {
  const logs = key.logs.length > 0 ? key.logs.join(",") : "*";
  const state = key.revokedAt ? `revoked ${key.revokedAt}` : "active";
  return [key.id, key.scope, logs, key.createdAt, state, key.label].join("\t");
}

const listCommand = defineCommand({
  meta: { name: "list", description: "List API keys (never their secrets): id, scope, logs (* = every log), created, state, label" },
  args: { ...target, ...storeArg },
  run: ({ args }) =>
    run(async () => {
      const url = remoteUrl(args);
      let keys: KeyJson[];
      if (url) keys = (await expectJson<{ keys: KeyJson[] }>(await remoteCall(url, args)("GET", "/v1/keys"), 200)).keys;
      else {
        // Read-only: works beside a running server.
        const store = args.store
          ? await openReadStore({ data: "", store: args.store })
          : createSqliteStore({ path: databaseOf(args.data as string).databasePath, readonly: true });
        try {
          keys = (await store.listApiKeys()).map(publicApiKey);
        } finally {
          await store.close();
        }
      }
      if (args.json) return print(JSON.stringify({ keys }));
      if (keys.length === 0) note("no API keys");
      for (const key of keys) print(describeKey(key));
    }),
});

const revokeCommand = defineCommand({
  meta: { name: "revoke", description: "Revoke an API key (and every viewer token it issued); refused from its next request on" },
  args: {
    id: { type: "positional", description: "Key id (the part after stk_, as `keys list` shows it)", required: false },
    ...target,
    ...storeArg,
  },
  run: ({ args }) =>
    run(async () => {
      if (!args.id) throw new CommandFailure("give the key id: sealtrail keys revoke ID", EXIT.usage);
      const path = `/v1/keys/${encodeURIComponent(args.id)}`;
      const url = remoteUrl(args);
      if (url) await expectJson(await remoteCall(url, args)("DELETE", path), 204);
      else await offline(offlineTarget(args), async (call) => expectJson(await call("DELETE", path), 204));
      if (args.json) print(JSON.stringify({ id: args.id, revoked: true }));
      else print(`revoked ${args.id}`);
    }),
});

export const keysSubCommands = { create: createCommand, list: listCommand, revoke: revokeCommand };
