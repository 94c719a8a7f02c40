import type { AuditEvent } from "./event.js";

/** An event where it sits: the unit of every export (CSV, JSON Lines) and of query answers. */
export interface ExportRow {
  readonly log: string;
  readonly index: number;
  readonly event: AuditEvent;
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
 * RFC 4180 quoting (files join rows with CRLF, §2); a cell a spreadsheet would run as a formula
 * (starting with =, +, -, @, tab or CR) gets a leading apostrophe (OWASP CSV injection), since
 * audit data is attacker-influenced text.
 */
function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function csvHeader(): string {
  return CSV_COLUMNS.join(",");
}

export function csvRow(row: ExportRow): string {
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

export function jsonLine(row: ExportRow): string {
  return JSON.stringify(row);
}
