import type { AuditEvent } from "@sealtrail/core";

export interface Row {
  readonly log: string;
  readonly index: number;
  readonly event: AuditEvent;
}

const COLUMNS = ["INDEX", "OCCURRED (UTC)", "ACTOR", "ACTION", "TARGETS", "OUTCOME"] as const;
const WIDTHS = [7, 23, 28, 28, 34, 7] as const;

function fit(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}

function cells(row: Row): string[] {
  const e = row.event;
  const actor = e.actor.name ? `${e.actor.id} (${e.actor.name})` : e.actor.id;
  const targets = e.targets.map((t) => `${t.type}/${t.id}`).join(", ");
  return [String(row.index), e.occurredAt.replace("T", " ").replace("Z", ""), actor, e.action, targets || "-", e.outcome];
}

/** A readable fixed-width table, the default output of `sealtrail query`. */
export function tableHeader(): string {
  return COLUMNS.map((c, i) => fit(c, WIDTHS[i] as number))
    .join("  ")
    .trimEnd();
}

export function tableRow(row: Row): string {
  return cells(row)
    .map((c, i) => fit(c, WIDTHS[i] as number))
    .join("  ")
    .trimEnd();
}

const CSV_COLUMNS = [
  "log",
  "index",
  "id",
  "occurredAt",
  "receivedAt",
  "action",
  "outcome",
  "actorType",
  "actorId",
  "actorName",
  "targets",
  "ip",
  "userAgent",
  "requestId",
  "sessionId",
  "metadata",
] as const;

/**
 * RFC 4180 quoting; a cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR) gets a
 * leading apostrophe (OWASP CSV injection), since audit data is attacker-influenced text.
 */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function csvHeader(): string {
  return CSV_COLUMNS.join(",");
}

export function csvRow(row: Row): string {
  const e = row.event;
  const values = [
    row.log,
    String(row.index),
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
    e.context?.userAgent ?? "",
    e.context?.requestId ?? "",
    e.context?.sessionId ?? "",
    e.metadata ? JSON.stringify(e.metadata) : "",
  ];
  return values.map(csvCell).join(",");
}

export function jsonLine(row: Row): string {
  return JSON.stringify(row);
}
