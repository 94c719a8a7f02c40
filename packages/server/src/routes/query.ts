import {
  type AuditEvent,
  GROUP_BY,
  type GroupBy,
  InputError,
  matchesFilter,
  NotFoundError,
  parseQuery,
  parseQueryFilter,
  type QueryFilter,
  toBase64,
} from "@sealtrail/core";
import { describeRanges, EventQueries, eventOf, type PrunedRange, type QueriedEvent } from "@sealtrail/engine";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { Principal } from "../keys.js";
import { type App, type Env, integerParam, type RouteContext } from "../route-context.js";

const TAIL_HEARTBEAT_MS = 15_000;
const TAIL_BACKFILL_CHUNK = 1000;

/** DESIGN §6 over HTTP: search, one event with its proof, stats, cross-log search, live tail. */
export function queryRoutes(app: App, ctx: RouteContext): void {
  const { engine } = ctx;
  const queries = new EventQueries(engine);
  /** Events on the wire: where they sit in which log, and the event with its personal values revealed. */
  const wire = async (item: QueriedEvent): Promise<{ log: string; index: number; event: AuditEvent }> => ({
    log: item.log,
    index: item.index,
    event: await ctx.reveal(item.event),
  });

  app.get("/v1/logs/:log/events", async (c) => {
    const log = c.req.param("log");
    const principal = await ctx.allow(c, "read-entries", log);
    await ctx.existingLog(log);
    const filter = restrictTo(principal, filterFrom(c));
    if (!filter) return c.json({ events: [], nextCursor: null });
    const page = await queries.query({ logs: [log], filter, ...pageParams(c) });
    await ctx.onViewerRead?.(c, { route: "events", log });
    const pruned = await prunedRanges(ctx, log);
    return c.json({ events: await Promise.all(page.events.map(wire)), nextCursor: page.nextCursor, ...pruned });
  });

  app.get("/v1/logs/:log/events/:id", async (c) => {
    const log = c.req.param("log");
    const principal = await ctx.allow(c, "read-entries", log);
    await ctx.existingLog(log);
    const entry = await engine.findEntry(log, c.req.param("id"));
    const event = entry ? eventOf(entry) : undefined;
    const restricted = restrictTo(principal, {});
    if (!entry || !event || !restricted || !matchesFilter(event, restricted)) {
      const { pruned } = await prunedRanges(ctx, log);
      const maybe = pruned ? `; entries ${describeRanges(pruned)} were pruned (retention), it may have been one of them` : "";
      throw new NotFoundError("event_not_found", `no event with that id in log ${log}${maybe}`);
    }
    const checkpoint = await engine.waitForCheckpoint(log, entry.index);
    const proof = await engine.proveInclusion(log, entry.index, checkpoint.treeSize);
    await ctx.onViewerRead?.(c, { route: "event", log });
    return c.json({
      log,
      index: entry.index,
      event: await ctx.reveal(event),
      // The exact stored bytes: verifiers hash these, never a re-serialization of `event`.
      leaf: toBase64(entry.leaf),
      leafHash: toBase64(proof.leafHash),
      inclusionProof: { treeSize: proof.treeSize, rootHash: toBase64(proof.rootHash), hashes: proof.hashes.map(toBase64) },
      checkpoint: checkpoint.note,
    });
  });

  app.get("/v1/logs/:log/stats", async (c) => {
    const log = c.req.param("log");
    const principal = await ctx.allow(c, "read-entries", log);
    await ctx.existingLog(log);
    const filter = restrictTo(principal, filterFrom(c));
    const groupBy = groupByParam(c);
    const limit = integerParam(c, "limit", false) ?? 20;
    if (limit < 1 || limit > 1000) throw badParameter("limit", "must be 1 to 1000");
    if (!filter) return c.json({ total: 0, ...(groupBy ? { groupBy, groups: [] } : {}) });
    const total = await queries.count({ logs: [log], filter });
    const groups = groupBy ? await queries.group({ logs: [log], filter, groupBy, limit }) : undefined;
    await ctx.onViewerRead?.(c, { route: "stats", log });
    return c.json({ total, ...(await prunedRanges(ctx, log)), ...(groupBy ? { groupBy, groups } : {}) });
  });

  app.get("/v1/events", async (c) => {
    await ctx.allow(c, "admin");
    const logsParam = c.req.query("logs");
    const logs = logsParam ? logsParam.split(",").filter((l) => l.length > 0) : undefined;
    // As on every read route, a name that cannot exist is a missing log (404), not a 422.
    for (const log of logs ?? []) await ctx.existingLog(log);
    const filter = filterFrom(c);
    const page = await queries.query({ ...(logs ? { logs } : {}), filter, ...pageParams(c) });
    return c.json({ events: await Promise.all(page.events.map(wire)), nextCursor: page.nextCursor });
  });

  app.get("/v1/logs/:log/tail", async (c) => {
    const log = c.req.param("log");
    const principal = await ctx.allow(c, "read-entries", log);
    await ctx.existingLog(log);
    const filter = restrictTo(principal, filterFrom(c));
    const resumeFrom = lastEventId(c);
    await ctx.onViewerRead?.(c, { route: "tail", log });
    return streamSSE(c, async (stream) => {
      // Subscribe before backfilling, so nothing committed in between is missed; the buffer is
      // drained in index order after the backfill, skipping what the backfill already sent.
      let sent = resumeFrom;
      let live: { index: number; event: AuditEvent }[] | undefined = [];
      let wake: (() => void) | undefined;
      const unsubscribe = engine.subscribe(log, (events) => {
        if (live) live.push(...events);
        wake?.();
      });
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      const emit = async (index: number, event: AuditEvent) => {
        if (index <= sent) return;
        sent = index;
        if (filter && matchesFilter(event, filter)) {
          await stream.writeSSE({ id: String(index), event: "audit-event", data: JSON.stringify(await wire({ log, index, event })) });
        }
      };
      try {
        await stream.writeSSE({ event: "ready", data: JSON.stringify({ log, resumeAfter: resumeFrom }) });
        if (resumeFrom >= 0) {
          const end = await engine.integratedSize(log);
          for (let start = resumeFrom + 1; start < end && !stream.aborted; start += TAIL_BACKFILL_CHUNK) {
            const entries = await engine.store.readEntries(log, start, Math.min(TAIL_BACKFILL_CHUNK, end - start));
            for (const entry of entries) await emit(entry.index, eventOf(entry));
          }
        }
        while (!stream.aborted) {
          const pending = live ?? [];
          live = [];
          for (const item of pending) await emit(item.index, item.event);
          // A client that left while events were being written must not leave a waiting timer behind.
          if (live.length > 0 || stream.aborted) continue;
          const woke = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), TAIL_HEARTBEAT_MS);
            wake = () => {
              clearTimeout(timer);
              resolve(true);
            };
          });
          wake = undefined;
          if (!woke && !stream.aborted) {
            // A stream must not outlive its credentials: a revoked key or an expired viewer
            // token ends the tail at the next keep-alive, with the reason as an `error` event.
            try {
              await ctx.allow(c, "read-entries", log);
            } catch (error) {
              const code = (error as { code?: string }).code ?? "invalid_credentials";
              await stream.writeSSE({ event: "error", data: JSON.stringify({ code, detail: "credentials no longer valid; reconnect" }) });
              break;
            }
            await stream.write(": keep-alive\n\n");
          }
        }
      } finally {
        live = undefined;
        unsubscribe();
      }
    });
  });
}

/** A log's pruned ranges, as a `pruned` member when there are any: results are never silently partial. */
async function prunedRanges(ctx: RouteContext, log: string): Promise<{ pruned?: PrunedRange[] }> {
  const ranges = ctx.engine.store.listPrunedRanges ? await ctx.engine.store.listPrunedRanges(log) : [];
  return ranges.length > 0 ? { pruned: ranges } : {};
}

function badParameter(parameter: string, detail: string): InputError {
  return new InputError("invalid_parameter", `${parameter} ${detail}`, { problems: [{ parameter, detail }] });
}

/** `q` (the query language) or `filter` (the JSON form), not both; neither means everything. */
export function filterFrom(c: Context<Env>): QueryFilter {
  const q = c.req.query("q");
  const json = c.req.query("filter");
  if (q !== undefined && json !== undefined) throw badParameter("filter", "cannot be combined with q; use one or the other");
  if (json !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw badParameter("filter", "must be a JSON object (the structured filter form)");
    }
    return parseQueryFilter(parsed);
  }
  return q === undefined || q.trim() === "" ? {} : parseQuery(q);
}

function pageParams(c: Context<Env>): { order: "asc" | "desc"; limit?: number; cursor?: string } {
  const order = c.req.query("order") ?? "desc";
  if (order !== "asc" && order !== "desc") throw badParameter("order", "must be asc or desc");
  const limit = integerParam(c, "limit", false);
  const cursor = c.req.query("cursor");
  return { order, ...(limit === undefined ? {} : { limit }), ...(cursor ? { cursor } : {}) };
}

function groupByParam(c: Context<Env>): GroupBy | undefined {
  const value = c.req.query("groupBy");
  if (value === undefined || value === "") return undefined;
  if (!(GROUP_BY as readonly string[]).includes(value)) throw badParameter("groupBy", `must be one of ${GROUP_BY.join(", ")}`);
  return value as GroupBy;
}

function lastEventId(c: Context<Env>): number {
  const raw = c.req.header("last-event-id") ?? c.req.query("lastEventId");
  if (raw === undefined || raw === "") return -1;
  if (!/^(0|[1-9][0-9]{0,15})$/.test(raw)) throw badParameter("lastEventId", "must be the index of an event sent earlier");
  return Number(raw);
}

/**
 * Narrows a filter to what a restricted principal (a viewer token bound to one actor or target)
 * may see. Returns undefined when nothing can match, so no query runs at all.
 */
export function restrictTo(principal: Principal | undefined, filter: QueryFilter): QueryFilter | undefined {
  const restrict = principal?.restrict;
  if (!restrict) return filter;
  const narrowed: QueryFilter = { ...filter };
  if (restrict.actor !== undefined) {
    if (filter.actor && !filter.actor.includes(restrict.actor)) return undefined;
    narrowed.actor = [restrict.actor];
  }
  if (restrict.target !== undefined) {
    const only = restrict.target;
    // One target must satisfy both the restriction and the caller's condition.
    const merged = (filter.target ?? [{}]).flatMap((t) => {
      if (t.type !== undefined && t.type !== only.type) return [];
      if (t.id !== undefined && only.id !== undefined && t.id !== only.id) return [];
      const id = t.id ?? only.id;
      return [id === undefined ? { type: only.type } : { type: only.type, id }];
    });
    if (merged.length === 0) return undefined;
    narrowed.target = merged;
  }
  return narrowed;
}
