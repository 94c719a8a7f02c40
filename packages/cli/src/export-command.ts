import { once } from "node:events";
import { createWriteStream, existsSync, readFileSync, writeFileSync } from "node:fs";
import { csvHeader, csvRow, jsonLine, parseQuery, VerificationError, type VerifiedEvidence, verifyEvidenceBundle } from "@sealtrail/core";
import { buildEvidenceBundle, dataDir, EventQueries, loadSigner, originSigner } from "@sealtrail/engine";
import { createSqliteStore } from "@sealtrail/store-sqlite";
import { defineCommand } from "citty";
import { QueryCommandError } from "./query-command.js";
import { openPersonalDataReader } from "./server-parts.js";

type Format = "evidence" | "csv" | "jsonl";

function formatOf(explicit: string | undefined, out: string | undefined): Format {
  if (explicit !== undefined) {
    if (explicit === "evidence" || explicit === "csv" || explicit === "jsonl") return explicit;
    throw new QueryCommandError("--format must be evidence, csv or jsonl", 2);
  }
  if (out?.endsWith(".csv")) return "csv";
  if (out?.endsWith(".jsonl") || out?.endsWith(".ndjson")) return "jsonl";
  return "evidence";
}

function headers(key: string | undefined): Record<string, string> {
  return key ? { authorization: `Bearer ${key}` } : {};
}

async function failure(response: Response): Promise<QueryCommandError> {
  const body = (await response.json().catch(() => ({}))) as { detail?: string };
  return new QueryCommandError(`${response.status}: ${body.detail ?? "request failed"}`, response.status >= 500 ? 3 : 2);
}

/** The bundle's bytes from a server, or built from a data directory without one. */
async function evidenceBytes(options: { url?: string; key?: string; data?: string; log: string; q: string }): Promise<Uint8Array> {
  if (options.url) {
    const params = new URLSearchParams({ q: options.q });
    const response = await fetch(`${options.url}/v1/logs/${encodeURIComponent(options.log)}/evidence?${params}`, {
      headers: headers(options.key),
    });
    if (!response.ok) throw await failure(response);
    return new Uint8Array(await response.arrayBuffer());
  }
  const dir = dataDir(options.data as string);
  if (!existsSync(dir.databasePath)) throw new QueryCommandError(`no Sealtrail database in ${dir.path}`, 2);
  const signer = await loadSigner(dir, { keyName: "unused", create: false, env: process.env.SEALTRAIL_SIGNING_KEY });
  const verifierKey = (await originSigner(signer, `${signer.name}/${options.log}`)).verifierKey;
  const store = createSqliteStore({ path: dir.databasePath, readonly: true });
  try {
    return (await buildEvidenceBundle({ store, log: options.log, query: options.q, verifierKey })).bytes;
  } finally {
    await store.close();
  }
}

/**
 * Writes every matching event, oldest first: a server's export route streamed through, or pages
 * of a data directory's index. Returns the number of events when it counted them (locally).
 */
async function exportRows(
  options: { url?: string; key?: string; data?: string; log: string; q: string; format: "csv" | "jsonl" },
  write: (text: string) => Promise<void>,
): Promise<number | undefined> {
  if (options.url) {
    const params = new URLSearchParams({ q: options.q, format: options.format });
    const response = await fetch(`${options.url}/v1/logs/${encodeURIComponent(options.log)}/export?${params}`, {
      headers: headers(options.key),
    });
    if (!response.ok || !response.body) throw await failure(response);
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) await write(decoder.decode(next.value, { stream: true }));
    await write(decoder.decode());
    return undefined;
  }
  const dir = dataDir(options.data as string);
  if (!existsSync(dir.databasePath)) throw new QueryCommandError(`no Sealtrail database in ${dir.path}`, 2);
  const store = createSqliteStore({ path: dir.databasePath, readonly: true });
  // Personal values are decrypted through the data directory's key store ([erased] once erased).
  const personalData = await openPersonalDataReader(dir);
  try {
    const queries = new EventQueries({ store, hasLog: async (log) => (await store.getLog(log)) !== undefined });
    const filter = parseQuery(options.q);
    // RFC 4180 §2: CSV records end with CRLF, as the server's export does.
    const newline = options.format === "csv" ? "\r\n" : "\n";
    if (options.format === "csv") await write(csvHeader() + newline);
    let count = 0;
    let cursor: string | undefined;
    do {
      const page = await queries.query({ logs: [options.log], filter, order: "asc", limit: 1000, ...(cursor ? { cursor } : {}) });
      let text = "";
      for (const row of page.events) {
        const shown = { ...row, event: await personalData.reveal(row.event) };
        text += (options.format === "csv" ? csvRow(shown) : jsonLine(shown)) + newline;
      }
      await write(text);
      count += page.events.length;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return count;
  } finally {
    await store.close();
  }
}

/** The query comes from the bundle: escape control characters so it cannot drive the terminal. */
function shown(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: exactly these are escaped
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export function describeEvidence(result: VerifiedEvidence): string[] {
  return [
    `OK ${result.origin}: ${result.events.length} event${result.events.length === 1 ? "" : "s"} proven included in the signed checkpoint of size ${result.checkpoint.treeSize}`,
    `   query: ${result.query === "" ? "(every event)" : shown(result.query)}; created ${result.createdAt}`,
    ...(result.notIncluded > 0
      ? [`   ${result.notIncluded} matching event(s) were newer than the checkpoint and are not in the bundle`]
      : []),
    ...(result.keyPinned ? [] : ["   note: checked against the bundle's own verifier key; pin the log's real key with --verifier-key"]),
  ];
}

/** `sealtrail verify evidence.zip`: offline, no server. */
export async function verifyBundleFile(path: string, options: { verifierKey?: string }): Promise<VerifiedEvidence> {
  return verifyEvidenceBundle(new Uint8Array(readFileSync(path)), options);
}

export const exportCommand = defineCommand({
  meta: { name: "export", description: "Export matching events: an evidence bundle (zip, verifiable offline), CSV or JSON Lines" },
  args: {
    log: { type: "string", description: "Log to export from", required: true },
    q: { type: "string", description: 'Query, e.g. "actor:u_42 after:2026-11-01" (default: every event)', default: "" },
    out: { type: "string", description: "Output file (evidence needs one; CSV and JSON Lines default to stdout)" },
    format: { type: "string", description: "evidence, csv or jsonl (default: from --out's extension, else evidence)" },
    url: { type: "string", description: "Server URL (default: $SEALTRAIL_URL)" },
    key: { type: "string", description: "API key (default: $SEALTRAIL_KEY)" },
    data: { type: "string", description: "Or: a data directory, read directly (read-only)" },
  },
  async run({ args }) {
    const print = (line: string) => process.stderr.write(`${line}\n`);
    try {
      const format = formatOf(args.format, args.out);
      parseQuery(args.q); // fail fast, with the position, before any I/O
      const url = (args.url ?? process.env.SEALTRAIL_URL)?.replace(/\/+$/, "");
      if (url && args.data) throw new QueryCommandError("use either --url or --data, not both", 2);
      if (!url && !args.data) throw new QueryCommandError("give --url (or SEALTRAIL_URL) for a server, or --data DIR", 2);
      const source = {
        ...(url ? { url } : { data: args.data as string }),
        key: args.key ?? process.env.SEALTRAIL_KEY,
        log: args.log,
        q: args.q,
      };
      if (format === "evidence") {
        if (!args.out) throw new QueryCommandError("an evidence bundle needs --out FILE.zip", 2);
        const bytes = await evidenceBytes(source);
        // Checked before it is written: a bundle that does not verify is never handed to an auditor.
        const result = await verifyEvidenceBundle(bytes);
        writeFileSync(args.out, bytes);
        print(
          `wrote ${args.out}: ${result.events.length} events with inclusion proofs to checkpoint ${result.checkpoint.treeSize} of ${result.origin}`,
        );
        if (result.notIncluded > 0)
          print(`  ${result.notIncluded} newer matching event(s) are not covered by a checkpoint yet and were left out`);
        print(`  verify offline: sealtrail verify ${args.out} --verifier-key '${result.verifierKey}'`);
        return;
      }
      const stream = args.out ? createWriteStream(args.out) : process.stdout;
      const write = async (text: string) => {
        if (text.length > 0 && !stream.write(text)) await once(stream, "drain");
      };
      const count = await exportRows({ ...source, format }, write);
      if (args.out) {
        await new Promise<void>((resolve, reject) =>
          (stream as ReturnType<typeof createWriteStream>).end((error?: Error | null) => (error ? reject(error) : resolve())),
        );
        print(`wrote ${args.out}: ${count === undefined ? "" : `${count} events, `}${format === "csv" ? "CSV" : "JSON Lines"}`);
      }
    } catch (error) {
      const code =
        error instanceof QueryCommandError ? error.exitCode : error instanceof VerificationError ? 1 : error instanceof TypeError ? 3 : 2;
      process.stderr.write(`sealtrail: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = code;
    }
  },
});
