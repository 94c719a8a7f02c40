import type { ExportRow } from "@sealtrail/core";

export { csvHeader, csvRow, jsonLine } from "@sealtrail/core";
export type Row = ExportRow;

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
