import { matchesFilter, parseQuery } from "@sealtrail/core";
import { dataDir, EventQueries, eventOf } from "@sealtrail/engine";
import { defineCommand } from "citty";
import { csvHeader, csvRow, jsonLine, type Row, tableHeader, tableRow } from "./event-format.js";
import { openReadStore, storeArg } from "./offline-store.js";
import { openPersonalDataReader } from "./server-parts.js";

export interface QueryOutput {
  print(line: string): void;
}

type Format = "table" | "json" | "csv";

function formatter(format: Format): { header?: string; row: (row: Row) => string } {
  if (format === "json") return { row: jsonLine };
  if (format === "csv") return { header: csvHeader(), row: csvRow };
  return { header: tableHeader(), row: tableRow };
}

/** Pages through a server's query API; yields rows in the order asked. */
async function* remoteRows(options: {
  url: string;
  key?: string;
  log: string;
  q: string;
  limit: number;
  order: string;
}): AsyncGenerator<Row> {
  let cursor: string | null = null;
  let remaining = options.limit;
  do {
    const params = new URLSearchParams({ q: options.q, order: options.order, limit: String(Math.min(remaining, 1000)) });
    if (cursor) params.set("cursor", cursor);
    const response = await fetch(`${options.url}/v1/logs/${encodeURIComponent(options.log)}/events?${params}`, {
      headers: options.key ? { authorization: `Bearer ${options.key}` } : {},
    });
    const body = (await response.json()) as { events?: Row[]; nextCursor?: string | null; detail?: string; errors?: { detail: string }[] };
    if (!response.ok) throw new QueryCommandError(`${response.status}: ${body.detail ?? "request failed"}`, response.status >= 500 ? 3 : 2);
    for (const row of body.events ?? []) {
      yield row;
      remaining--;
    }
    cursor = body.nextCursor ?? null;
  } while (cursor && remaining > 0);
}

/** Follows a server's live tail (Server-Sent Events) from just after `afterIndex`. */
async function followRemote(
  options: { url: string; key?: string; log: string; q: string; afterIndex: number },
  onRow: (row: Row) => void,
): Promise<void> {
  const params = new URLSearchParams({ q: options.q });
  const response = await fetch(`${options.url}/v1/logs/${encodeURIComponent(options.log)}/tail?${params}`, {
    headers: {
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
      ...(options.afterIndex >= 0 ? { "last-event-id": String(options.afterIndex) } : {}),
    },
  });
  if (!response.ok || !response.body) throw new QueryCommandError(`tail answered ${response.status}`, 3);
  const decoder = new TextDecoder();
  let buffer = "";
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
      const message = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = message.split("\n");
      if (!lines.includes("event: audit-event")) continue;
      const data = lines
        .filter((l) => l.startsWith("data: "))
        .map((l) => l.slice(6))
        .join("\n");
      onRow(JSON.parse(data) as Row);
    }
  }
}

async function integratedSize(url: string, key: string | undefined, log: string): Promise<number> {
  const response = await fetch(`${url}/v1/logs/${encodeURIComponent(log)}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  if (!response.ok) throw new QueryCommandError(`${url} answered ${response.status} for log ${log}`, response.status >= 500 ? 3 : 2);
  return ((await response.json()) as { integratedSize: number }).integratedSize;
}

export class QueryCommandError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

export const queryCommand = defineCommand({
  meta: { name: "query", description: "Search a log with the query language (docs/query-language.md)" },
  args: {
    q: { type: "positional", description: 'Query, e.g. "actor:u_42 action:document.* after:2026-11-01"', required: false, default: "" },
    log: { type: "string", description: "Log to search", required: true },
    url: { type: "string", description: "Server URL (default: $SEALTRAIL_URL)" },
    key: { type: "string", description: "API key (default: $SEALTRAIL_KEY)" },
    data: {
      type: "string",
      description: "Or: a data directory, read directly (read-only; with --store, the data keys are read from the database too)",
    },
    ...storeArg,
    limit: { type: "string", description: "Most events to print", default: "50" },
    order: { type: "string", description: "desc (newest first) or asc", default: "desc" },
    json: { type: "boolean", description: "JSON Lines, one event per line", default: false },
    csv: { type: "boolean", description: "CSV with a header row", default: false },
    follow: { type: "boolean", description: "Keep printing new matching events as they arrive", default: false },
  },
  async run({ args }) {
    const print = (line: string) => process.stdout.write(`${line}\n`);
    try {
      if (args.json && args.csv) throw new QueryCommandError("choose --json or --csv, not both", 2);
      const limit = Number(args.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new QueryCommandError("--limit must be a positive integer", 2);
      if (args.order !== "desc" && args.order !== "asc") throw new QueryCommandError("--order must be desc or asc", 2);
      const q = String(args.q ?? "");
      parseQuery(q); // fail fast, with the position, before any I/O
      const format = formatter(args.json ? "json" : args.csv ? "csv" : "table");
      if (format.header) print(format.header);
      const url = args.url ?? process.env.SEALTRAIL_URL;
      let highest = -1;
      const show = (row: Row) => {
        highest = Math.max(highest, row.index);
        print(format.row(row));
      };
      if (args.data || args.store) {
        if (args.url) throw new QueryCommandError(`use either --url or --${args.store ? "store" : "data"}, not both`, 2);
        const dir = dataDir(args.data ?? "./sealtrail-data");
        const store = await openReadStore({ data: dir.path, store: args.store });
        // Personal values are decrypted through the key store of the data directory, or of the
        // PostgreSQL database with --store ([erased] once erased).
        const personalData = await openPersonalDataReader(dir, args.store).catch(async (error) => {
          await store.close();
          throw error;
        });
        const reveal = async (row: Row): Promise<Row> => ({ ...row, event: await personalData.reveal(row.event) });
        try {
          const queries = new EventQueries({ store, hasLog: async (log) => (await store.getLog(log)) !== undefined });
          const filter = parseQuery(q);
          const followFrom = (await store.getLog(args.log))?.size ?? 0;
          let cursor: string | undefined;
          let printed = 0;
          do {
            const page = await queries.query({
              logs: [args.log],
              filter,
              order: args.order,
              limit: Math.min(1000, limit - printed),
              ...(cursor ? { cursor } : {}),
            });
            for (const row of page.events) show(await reveal(row));
            printed += page.events.length;
            cursor = page.nextCursor ?? undefined;
          } while (cursor && printed < limit);
          if (args.follow) {
            // Read what was committed since, straight from the entries, and filter like the live tail.
            let next = Math.max(highest + 1, followFrom);
            for (;;) {
              const size = (await store.getLog(args.log))?.size ?? 0;
              for (; next < size; ) {
                const entries = await store.readEntries(args.log, next, Math.min(1000, size - next));
                for (const entry of entries) {
                  const event = eventOf(entry);
                  if (matchesFilter(event, filter)) show(await reveal({ log: args.log, index: entry.index, event }));
                }
                next += entries.length;
                if (entries.length === 0) break;
              }
              await new Promise((resolve) => setTimeout(resolve, 1000));
            }
          }
        } finally {
          await store.close();
          await personalData.close();
        }
        return;
      }
      if (!url) throw new QueryCommandError("give --url (or SEALTRAIL_URL) for a server, or --data DIR", 2);
      const base = url.replace(/\/+$/, "");
      const key = args.key ?? process.env.SEALTRAIL_KEY;
      // With --follow, the tail resumes after what existed before the first page was read, so an
      // event committed in between is neither lost nor shown twice.
      const sizeBefore = args.follow ? await integratedSize(base, key, args.log) : 0;
      for await (const row of remoteRows({ url: base, ...(key ? { key } : {}), log: args.log, q, limit, order: args.order })) show(row);
      if (args.follow) {
        await followRemote({ url: base, ...(key ? { key } : {}), log: args.log, q, afterIndex: Math.max(highest, sizeBefore - 1) }, show);
      }
    } catch (error) {
      const code = error instanceof QueryCommandError ? error.exitCode : error instanceof TypeError ? 3 : 2;
      process.stderr.write(`sealtrail: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = code;
    }
  },
});
