import { csvHeader, csvRow, formatQuery, InputError, jsonLine } from "@sealtrail/core";
import { buildEvidenceBundle, EventQueries } from "@sealtrail/engine";
import type { App, RouteContext } from "../route-context.js";
import { filterFrom, restrictTo } from "./query.js";

const EXPORT_PAGE = 1000;
const FORMATS = {
  csv: { type: "text/csv; charset=utf-8; header=present", extension: "csv" },
  jsonl: { type: "application/jsonl; charset=utf-8", extension: "jsonl" },
} as const;

/** Evidence bundles (a zip an auditor verifies offline) and bulk exports for spreadsheets and SIEMs. */
export function evidenceRoutes(app: App, ctx: RouteContext): void {
  const { engine } = ctx;
  const queries = new EventQueries(engine);

  app.get("/v1/logs/:log/evidence", async (c) => {
    const log = c.req.param("log");
    const principal = await ctx.allow(c, "read-entries", log);
    await ctx.existingLog(log);
    const filter = restrictTo(principal, filterFrom(c));
    if (!filter)
      throw new InputError("invalid_parameter", "this token cannot see any event matching q", {
        problems: [{ parameter: "q", detail: "matches nothing this token may read" }],
      });
    // The manifest states the query that selected the events: the text as given, unless the
    // caller used the JSON filter or a viewer token narrowed it, then the filter in query language.
    const q = c.req.query("q");
    const query = principal?.restrict || q === undefined ? formatQuery(filter) : q;
    // Everything committed so far gets a proof: wait for the checkpoint covering it (≤ 1 interval).
    const size = await engine.integratedSize(log);
    if (size > 0) await engine.waitForCheckpoint(log, size - 1);
    const built = await buildEvidenceBundle({ store: engine.store, log, query, verifierKey: await engine.verifierKey(log) });
    await ctx.onViewerRead?.(c, { route: "evidence", log });
    await ctx.systemLog.record(c, "evidence.exported", {
      targets: [{ type: "log", id: log }],
      metadata: { events: built.events, treeSize: built.treeSize },
    });
    return c.body(built.bytes as Uint8Array<ArrayBuffer>, 200, {
      "content-type": "application/zip",
      "content-disposition": `attachment; filename="evidence-${log}-${built.treeSize}.zip"`,
      "cache-control": "private, no-store",
    });
  });

  app.get("/v1/logs/:log/export", async (c) => {
    const log = c.req.param("log");
    const principal = await ctx.allow(c, "read-entries", log);
    await ctx.existingLog(log);
    const formatName = c.req.query("format") ?? "jsonl";
    if (formatName !== "csv" && formatName !== "jsonl") {
      throw new InputError("invalid_parameter", "format must be csv or jsonl", {
        problems: [{ parameter: "format", detail: "must be csv or jsonl" }],
      });
    }
    const format = FORMATS[formatName];
    const filter = restrictTo(principal, filterFrom(c));
    await ctx.onViewerRead?.(c, { route: "export", log });
    const encoder = new TextEncoder();
    // RFC 4180 §2: CSV records end with CRLF; JSON Lines with LF.
    const newline = formatName === "csv" ? "\r\n" : "\n";
    let cursor: string | undefined;
    let started = false;
    let done = !filter;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        let text = "";
        if (!started) {
          started = true;
          if (formatName === "csv") text += csvHeader() + newline;
        }
        if (!done && filter) {
          // Oldest first, page by page over stable cursors: events arriving meanwhile are appended
          // at the end or picked up by the next export, never repeated or skipped.
          const page = await queries.query({ logs: [log], filter, order: "asc", limit: EXPORT_PAGE, ...(cursor ? { cursor } : {}) });
          // Exports show personal values as every read path does: decrypted, or [erased].
          for (const row of page.events) {
            const shown = { ...row, event: await ctx.reveal(row.event) };
            text += (formatName === "csv" ? csvRow(shown) : jsonLine(shown)) + newline;
          }
          cursor = page.nextCursor ?? undefined;
          done = cursor === undefined;
        }
        if (text.length > 0) controller.enqueue(encoder.encode(text));
        if (done) controller.close();
      },
    });
    return c.body(body, 200, {
      "content-type": format.type,
      "content-disposition": `attachment; filename="${log}.${format.extension}"`,
      "cache-control": "private, no-store",
    });
  });
}
