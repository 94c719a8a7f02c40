import { type FieldProblem, InputError, LOG_NAME_PATTERN, NotFoundError, parseQuery, SealtrailError } from "@sealtrail/core";
import type { Context } from "hono";
import { readJsonBody } from "../body.js";
import type { RetentionService } from "../retention.js";
import type { App, Env, RouteContext } from "../route-context.js";
import type { SystemAction } from "../system-log.js";

/** Erasing one data subject's keys (crypto-shredding), as the server's key store does it. */
export interface Eraser {
  erase(subject: string, options: { log?: string; at: string }): Promise<{ keys: number }>;
}

const MAX_ADMIN_BODY = 64 * 1024;
const isLogName = (name: string): boolean => LOG_NAME_PATTERN.test(name);
const MAX_DAYS = 36_500;

function requestError(code: string, problems: FieldProblem[]): InputError {
  const first = problems[0] as FieldProblem;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
  return new InputError(code, `${first.pointer || "/"} ${first.detail}${more}`, { problems });
}

function objectBody(body: unknown, code: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw requestError(code, [{ pointer: "", detail: "must be a JSON object" }]);
  const problems = Object.keys(body)
    .filter((k) => !allowed.includes(k))
    .map((k) => ({ pointer: `/${k}`, detail: `unknown field; allowed: ${allowed.join(", ")}` }));
  if (problems.length > 0) throw requestError(code, problems);
  return body as Record<string, unknown>;
}

function text(value: unknown, pointer: string, max: number, problems: FieldProblem[], required: boolean): string | undefined {
  if (value === undefined) {
    if (required) problems.push({ pointer, detail: "is required" });
    return undefined;
  }
  if (typeof value !== "string" || value.length === 0 || value.length > max) {
    problems.push({ pointer, detail: `must be a string of 1 to ${max} characters` });
    return undefined;
  }
  return value;
}

function logName(value: unknown, pointer: string, problems: FieldProblem[], required: boolean): string | undefined {
  const name = text(value, pointer, 63, problems, required);
  if (name !== undefined && !isLogName(name)) {
    problems.push({ pointer, detail: "is not a log name ([a-z0-9][a-z0-9._-]{0,62})" });
    return undefined;
  }
  return name;
}

/**
 * Compliance administration (admin keys only): erasure of a data subject (crypto-shredding),
 * retention periods, legal holds and pruning (docs/personal-data.md, docs/retention.md). Each
 * action is recorded in the system log before it takes effect, as key management is.
 */
export function complianceRoutes(app: App, ctx: RouteContext, options: { retention: RetentionService; eraser?: Eraser }): void {
  const { retention, eraser } = options;
  const bodyLimit = Math.min(ctx.maxBody, MAX_ADMIN_BODY);
  const recorder = (c: Context<Env>) => (action: SystemAction, details: Parameters<typeof ctx.systemLog.record>[2]) =>
    ctx.systemLog.record(c, action, details);

  app.post("/v1/erasures", async (c) => {
    await ctx.allow(c, "admin");
    const body = objectBody(await readJsonBody(c, bodyLimit), "invalid_erasure_request", ["subject", "log"]);
    const problems: FieldProblem[] = [];
    const subject = text(body.subject, "/subject", 256, problems, true);
    const log = logName(body.log, "/log", problems, false);
    if (problems.length > 0 || subject === undefined) throw requestError("invalid_erasure_request", problems);
    if (!eraser) {
      throw new SealtrailError("personal_data_unsupported", "this server does not encrypt personal data, so there is no key to erase");
    }
    const erasedAt = new Date().toISOString();
    const targets = [{ type: "data_subject", id: subject }, ...(log ? [{ type: "log", id: log }] : [])];
    const metadata = { scope: log ?? "every log" };
    await ctx.systemLog.record(c, "subject.erased", { targets, metadata });
    let keys: number;
    try {
      ({ keys } = await eraser.erase(subject, { ...(log ? { log } : {}), at: erasedAt }));
    } catch (error) {
      await ctx.systemLog.record(c, "subject.erased", { targets, metadata, outcome: "failure" }).catch(() => undefined);
      throw error;
    }
    return c.json({ subject, ...(log ? { log } : {}), keysDestroyed: keys, erasedAt }, 200);
  });

  app.get("/v1/logs/:log/retention", async (c) => {
    const log = c.req.param("log");
    await ctx.allow(c, "admin");
    if (!isLogName(log)) throw new NotFoundError("log_not_found", `log ${log} does not exist`);
    const store = ctx.engine.store;
    return c.json({
      log,
      days: (await retention.policy(log)) ?? null,
      pruned: store.listPrunedRanges ? await store.listPrunedRanges(log) : [],
      holds: await retention.holds({ log, active: true }),
    });
  });

  app.put("/v1/logs/:log/retention", async (c) => {
    const log = c.req.param("log");
    await ctx.allow(c, "admin");
    if (!isLogName(log)) throw new NotFoundError("log_not_found", `log ${log} does not exist`);
    const body = objectBody(await readJsonBody(c, bodyLimit), "invalid_retention_request", ["days"]);
    const days = body.days;
    if (days !== null && (typeof days !== "number" || !Number.isFinite(days) || days <= 0 || days > MAX_DAYS)) {
      throw requestError("invalid_retention_request", [
        { pointer: "/days", detail: `must be a number of days above 0 and at most ${MAX_DAYS}, or null to keep events forever` },
      ]);
    }
    await retention.setPolicy(log, days ?? undefined, recorder(c));
    return c.json({ log, days: days ?? null });
  });

  app.post("/v1/legal-holds", async (c) => {
    await ctx.allow(c, "admin");
    const body = objectBody(await readJsonBody(c, bodyLimit), "invalid_hold_request", ["log", "q", "reason"]);
    const problems: FieldProblem[] = [];
    const log = logName(body.log, "/log", problems, true);
    const query = text(body.q, "/q", 4096, problems, false);
    const reason = text(body.reason, "/reason", 1024, problems, true);
    if (query !== undefined) {
      try {
        parseQuery(query);
      } catch (error) {
        problems.push({ pointer: "/q", detail: error instanceof Error ? error.message : "is not a valid query" });
      }
    }
    if (problems.length > 0 || log === undefined || reason === undefined) throw requestError("invalid_hold_request", problems);
    const hold = await retention.placeHold({ log, reason, ...(query === undefined ? {} : { query }) }, recorder(c));
    return c.json(hold, 201);
  });

  app.get("/v1/legal-holds", async (c) => {
    await ctx.allow(c, "admin");
    return c.json({ holds: await retention.holds() });
  });

  app.delete("/v1/legal-holds/:id", async (c) => {
    await ctx.allow(c, "admin");
    if (!(await retention.releaseHold(c.req.param("id"), recorder(c)))) {
      throw new NotFoundError("hold_not_found", "no active legal hold has that id");
    }
    return c.body(null, 204);
  });

  app.post("/v1/prunes", async (c) => {
    await ctx.allow(c, "admin");
    const body = objectBody(await readJsonBody(c, bodyLimit), "invalid_prune_request", ["log"]);
    const problems: FieldProblem[] = [];
    const log = logName(body.log, "/log", problems, false);
    if (problems.length > 0) throw requestError("invalid_prune_request", problems);
    if (log !== undefined) await ctx.existingLog(log);
    return c.json({ results: await retention.prune(recorder(c), log) });
  });
}
