import { type FieldProblem, InputError, LOG_NAME_PATTERN, pointerChild, toBase64 } from "@sealtrail/core";
import { readJsonBody } from "../body.js";
import type { App, RouteContext } from "../route-context.js";
import type { PublishedCatalog } from "./schemas.js";

/** POST /v1/logs/{log}/events: one event or a batch, answered once durable. */
export function ingestRoutes(app: App, ctx: RouteContext): void {
  const { engine, maxBody, maxBatch } = ctx;
  const allow = ctx.allow;

  app.post("/v1/logs/:log/events", async (c) => {
    const log = c.req.param("log");
    await allow(c, "append", log);
    if (!LOG_NAME_PATTERN.test(log)) {
      throw new InputError(
        "invalid_log_name",
        "a log name is 1 to 63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
        {
          problems: [{ parameter: "log", detail: "must match [a-z0-9][a-z0-9._-]{0,62}" }],
        },
      );
    }
    const waitMode = c.req.query("wait");
    if (waitMode !== undefined && waitMode !== "checkpoint") {
      throw new InputError("invalid_parameter", "wait must be `checkpoint`", {
        problems: [{ parameter: "wait", detail: "must be checkpoint" }],
      });
    }
    const body = await readJsonBody(c, maxBody);
    const batch = isBatch(body);
    const inputs = batch ? batchEvents(body, maxBatch) : [body];
    if (ctx.catalog?.validate) await checkCatalog(ctx.catalog, inputs, batch);
    const results = await engine.append(log, inputs, batch ? { pointerBase: "/events" } : {});
    const status = results.some((r) => r.created) ? 201 : 200;
    const out: Record<string, unknown>[] = results.map((r) => ({ id: r.id, index: r.index, created: r.created }));
    let checkpointNote: string | undefined;
    if (waitMode === "checkpoint") {
      const highest = Math.max(...results.map((r) => r.index));
      const checkpoint = await engine.waitForCheckpoint(log, highest);
      checkpointNote = checkpoint.note;
      const proofs = await engine.proveInclusions(
        log,
        out.map((item) => item.index as number),
        checkpoint.treeSize,
      );
      out.forEach((item, i) => {
        const proof = proofs[i] as (typeof proofs)[number];
        item.inclusionProof = { treeSize: proof.treeSize, leafHash: toBase64(proof.leafHash), hashes: proof.hashes.map(toBase64) };
      });
    }
    const extra = checkpointNote === undefined ? {} : { checkpoint: checkpointNote };
    return c.json(batch ? { events: out, ...extra } : { ...out[0], ...extra }, status);
  });
}

function isBatch(body: unknown): body is { events: unknown } {
  return typeof body === "object" && body !== null && !Array.isArray(body) && "events" in body;
}

function batchEvents(body: { events: unknown }, maxBatch: number): unknown[] {
  const extra = Object.keys(body).filter((k) => k !== "events");
  if (extra.length > 0) {
    throw new InputError("invalid_event", `a batch body has only "events"; unexpected ${extra.join(", ")}`, {
      problems: extra.map((k) => ({ pointer: `/${k}`, detail: "unknown field in a batch body" })),
    });
  }
  if (!Array.isArray(body.events)) {
    throw new InputError("invalid_event", "events must be an array", { problems: [{ pointer: "/events", detail: "must be an array" }] });
  }
  if (body.events.length === 0) {
    throw new InputError("invalid_event", "events must not be empty", {
      problems: [{ pointer: "/events", detail: `must hold 1 to ${maxBatch} events` }],
    });
  }
  if (body.events.length > maxBatch) {
    throw new InputError("batch_too_large", `a batch holds at most ${maxBatch} events, got ${body.events.length}`, {
      problems: [{ pointer: "/events", detail: `must hold at most ${maxBatch} events` }],
    });
  }
  return body.events;
}

/**
 * The server's catalog (`serve --catalog`) checks every event's action and metadata, all events
 * before any error is thrown, so one answer lists every problem. Only checks: the stored metadata
 * is what the client sent (the `sealtrail` library already stores the schema's output).
 * Events without a string action are left to the event validation that follows.
 */
async function checkCatalog(catalog: PublishedCatalog, inputs: readonly unknown[], batch: boolean): Promise<void> {
  const problems: FieldProblem[] = [];
  let code = "invalid_event";
  for (const [i, input] of inputs.entries()) {
    if (typeof input !== "object" || input === null) continue;
    const { action, metadata } = input as { action?: unknown; metadata?: unknown };
    if (typeof action !== "string") continue;
    try {
      await catalog.validate?.(action, metadata, batch ? pointerChild("/events", i) : "");
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      if (problems.length === 0) code = error.code;
      problems.push(...error.problems);
    }
  }
  if (problems.length === 0) return;
  const first = problems[0] as FieldProblem;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
  throw new InputError(code, `${first.pointer} ${first.detail}${more}`, { problems });
}
