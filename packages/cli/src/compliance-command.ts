import { defineCommand } from "citty";
import { type Call, CommandFailure, expectJson, offline, remoteCall, remoteUrl, target } from "./keys-command.js";

/**
 * `sealtrail erase`, `retention`, `hold` and `prune`: compliance administration against a running
 * server (--url, admin key) or offline on a data directory (--data, no server running), through
 * the server's own HTTP handler either way, so validation and system-log events are the same.
 */

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

interface Args {
  url?: string;
  key?: string;
  data?: string;
  json?: boolean;
}

async function call<T>(args: Args & { store?: string }, method: string, path: string, status: number, body?: unknown): Promise<T> {
  // These run against a data directory's own SQLite database; a PostgreSQL deployment has servers.
  if (args.store !== undefined) throw new CommandFailure("--store is not supported here: on PostgreSQL use --url URL --key ADMINKEY", 2);
  const url = remoteUrl(args);
  const work = async (c: Call) => expectJson<T>(await c(method, path, body), status);
  return url ? work(remoteCall(url, args)) : offline({ data: args.data as string }, work);
}

async function run(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    const code = error instanceof CommandFailure ? error.exitCode : error instanceof TypeError ? 3 : 2;
    const cause = error instanceof TypeError && error.cause instanceof Error ? `: ${error.cause.message}` : "";
    process.stderr.write(`sealtrail: ${error instanceof Error ? error.message : String(error)}${cause}\n`);
    process.exitCode = code;
  }
}

const path = (log: string) => `/v1/logs/${encodeURIComponent(log)}`;

export const eraseCommand = defineCommand({
  meta: {
    name: "erase",
    description: "Erase a data subject: destroy their data keys, so their personal fields read as [erased] everywhere (proofs stay valid)",
  },
  args: {
    subject: { type: "string", description: "The data subject's id (by default the actor id, e.g. u_42)", required: true },
    log: { type: "string", description: "Only in this log (default: every log)" },
    ...target,
  },
  run: ({ args }) =>
    run(async () => {
      const body = { subject: args.subject, ...(args.log ? { log: args.log } : {}) };
      const result = await call<{ subject: string; keysDestroyed: number; erasedAt: string }>(args, "POST", "/v1/erasures", 200, body);
      if (args.json) return print(JSON.stringify(result));
      print(
        `erased ${result.subject}${args.log ? ` in ${args.log}` : ""}: ${result.keysDestroyed} data key(s) destroyed at ${result.erasedAt}`,
      );
    }),
});

export const retentionCommand = defineCommand({
  meta: { name: "retention", description: "Show a log's retention period, pruned ranges and holds; --days sets the period" },
  args: {
    log: { type: "string", description: "Log name", required: true },
    days: { type: "string", description: "Set the retention period in days ('none': keep events forever)" },
    ...target,
  },
  run: ({ args }) =>
    run(async () => {
      if (args.days !== undefined) {
        const days = args.days === "none" ? null : Number(args.days);
        if (days !== null && !(days > 0)) throw new CommandFailure("--days must be a positive number of days, or none", 2);
        await call(args, "PUT", `${path(args.log)}/retention`, 200, { days });
      }
      const state = await call<{
        log: string;
        days: number | null;
        pruned: { start: number; end: number; prunedAt: string }[];
        holds: { id: string; query?: string; reason: string }[];
      }>(args, "GET", `${path(args.log)}/retention`, 200);
      if (args.json) return print(JSON.stringify(state));
      print(`${state.log}: ${state.days === null ? "kept forever" : `retention ${state.days} days`}`);
      for (const r of state.pruned) print(`  pruned   ${r.start}-${r.end - 1} on ${r.prunedAt}`);
      for (const h of state.holds) print(`  held     ${h.id} ${h.query ? `(${h.query})` : "(whole log)"}: ${h.reason}`);
    }),
});

const placeCommand = defineCommand({
  meta: { name: "place", description: "Place a legal hold on a log, or on the events a query matches; pruning skips them" },
  args: {
    log: { type: "string", description: "Log name", required: true },
    q: { type: "string", description: "Only events matching this query (docs/query-language.md)" },
    reason: { type: "string", description: "Why (a case or matter reference)", required: true },
    ...target,
  },
  run: ({ args }) =>
    run(async () => {
      const body = { log: args.log, reason: args.reason, ...(args.q ? { q: args.q } : {}) };
      const hold = await call<{ id: string }>(args, "POST", "/v1/legal-holds", 201, body);
      print(args.json ? JSON.stringify(hold) : hold.id);
    }),
});

const listHoldsCommand = defineCommand({
  meta: { name: "list", description: "List legal holds: id, log, query, placed, state, reason" },
  args: { ...target },
  run: ({ args }) =>
    run(async () => {
      const { holds } = await call<{
        holds: { id: string; log: string; query?: string; reason: string; createdAt: string; releasedAt?: string }[];
      }>(args, "GET", "/v1/legal-holds", 200);
      if (args.json) return print(JSON.stringify({ holds }));
      for (const h of holds) {
        print([h.id, h.log, h.query ?? "*", h.createdAt, h.releasedAt ? `released ${h.releasedAt}` : "active", h.reason].join("\t"));
      }
    }),
});

const releaseCommand = defineCommand({
  meta: { name: "release", description: "Release a legal hold (it stays listed, with when it was released)" },
  args: { id: { type: "positional", description: "Hold id", required: true }, ...target },
  run: ({ args }) =>
    run(async () => {
      await call(args, "DELETE", `/v1/legal-holds/${encodeURIComponent(args.id)}`, 204);
      print(args.json ? JSON.stringify({ id: args.id, released: true }) : `released ${args.id}`);
    }),
});

export const holdCommand = defineCommand({
  meta: { name: "hold", description: "Legal holds: place, list, release" },
  subCommands: { place: placeCommand, list: listHoldsCommand, release: releaseCommand },
});

export const pruneCommand = defineCommand({
  meta: { name: "prune", description: "Prune event bodies older than each log's retention period now (hashes and checkpoints stay)" },
  args: { log: { type: "string", description: "Only this log (default: every log with a retention period)" }, ...target },
  run: ({ args }) =>
    run(async () => {
      const { results } = await call<{
        results: { log: string; entries: number; held: number; pruned: { start: number; end: number }[] }[];
      }>(args, "POST", "/v1/prunes", 200, args.log ? { log: args.log } : {});
      if (args.json) return print(JSON.stringify({ results }));
      if (results.length === 0) print("no log has a retention period");
      for (const r of results) print(`${r.log}: pruned ${r.entries} event(s)${r.held > 0 ? `, ${r.held} kept under legal hold` : ""}`);
    }),
});
