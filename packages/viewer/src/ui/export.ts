import type { Hit } from "./api.js";

const CSV_COLUMNS = [
  "log",
  "index",
  "id",
  "occurredAt",
  "receivedAt",
  "action",
  "outcome",
  "actor.type",
  "actor.id",
  "actor.name",
  "targets",
  "ip",
  "requestId",
  "metadata",
] as const;

/**
 * One CSV field (RFC 4180). A cell starting with = + - @ or a tab would run as a formula when the
 * file is opened in a spreadsheet (OWASP "CSV injection"), so it is prefixed with a quote mark.
 */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

function csvRow(hit: Hit): string {
  const e = hit.event;
  const cells = [
    hit.log,
    String(hit.index),
    e.id,
    e.occurredAt,
    e.receivedAt,
    e.action,
    e.outcome,
    e.actor.type,
    e.actor.id,
    e.actor.name ?? "",
    e.targets.map((t) => `${t.type}/${t.id}`).join(" "),
    e.context?.ip ?? "",
    e.context?.requestId ?? "",
    e.metadata ? JSON.stringify(e.metadata) : "",
  ];
  return cells.map(csvField).join(",");
}

export function toCsv(hits: readonly Hit[]): string {
  return `${[CSV_COLUMNS.join(","), ...hits.map(csvRow)].join("\r\n")}\r\n`;
}

/** JSON Lines: one `{ log, index, event }` per line, the event exactly as the API returned it. */
export function toJsonLines(hits: readonly Hit[]): string {
  return hits.map((hit) => `${JSON.stringify(hit)}\n`).join("");
}
