import { csvHeader, csvRow, jsonLine } from "@sealtrail/core";
import type { Hit } from "./api.js";

/**
 * The same CSV as the server's and the CLI's exports (core event-export.ts): RFC 4180 with CRLF,
 * formula-like cells defused, one column set everywhere.
 */
export function toCsv(hits: readonly Hit[]): string {
  return `${[csvHeader(), ...hits.map(csvRow)].join("\r\n")}\r\n`;
}

/** JSON Lines: one `{ log, index, event }` per line, the event exactly as the API returned it. */
export function toJsonLines(hits: readonly Hit[]): string {
  return hits.map((hit) => `${jsonLine(hit)}\n`).join("");
}
