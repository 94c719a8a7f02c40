import { emptyRoot, InputError, LOG_NAME_PATTERN, NotFoundError, parseTilePath, toBase64 } from "@sealtrail/core";
import type { LogEngine } from "@sealtrail/engine";
import { type Context, Hono } from "hono";
import { readJsonBody } from "./body.js";
import { type Authenticator, authorize, type Operation, type Principal } from "./keys.js";
import { problemResponse } from "./problem.js";

export interface AppOptions {
  readonly engine: LogEngine;
  readonly auth: Authenticator;
  /**
   * Serve checkpoints, hash tiles, log info and proofs without a key. They reveal only hashes,
   * sizes and log names, but log names and sizes are tenant information, so this is off by default.
   */
  readonly publicTree?: boolean;
  /** Largest accepted request body in bytes (default 16 MiB). */
  readonly maxBodyBytes?: number;
  /** Most events in one batch (default 1000). */
  readonly maxBatchEvents?: number;
  /** Called once per request with non-sensitive facts, for access logs. */
  readonly onRequest?: (entry: { method: string; path: string; status: number; ms: number }) => void;
}

type Env = { Variables: { principal?: Principal } };

const DEFAULT_MAX_BODY = 16 * 1024 * 1024;
const DEFAULT_MAX_BATCH = 1000;
const IMMUTABLE = "max-age=31536000, immutable";

/**
 * The HTTP API as a Web-standard app: `app.fetch(request)` answers a Request, so it runs under
 * node:http (see `serve`), inside another framework, or in tests without a port.
 */
export function createApp(options: AppOptions): Hono<Env> {
  const { engine, auth } = options;
  const publicTree = options.publicTree ?? false;
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const maxBatch = options.maxBatchEvents ?? DEFAULT_MAX_BATCH;
  const app = new Hono<Env>();

  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    options.onRequest?.({ method: c.req.method, path: new URL(c.req.url).pathname, status: c.res.status, ms: performance.now() - started });
  });

  /** Authenticates (unless the operation is public) and checks scope and log. */
  const allow = async (c: Context<Env>, operation: Operation, log?: string): Promise<void> => {
    if (operation === "read-tree" && publicTree) return;
    const principal = await auth.authenticate(c.req.header("authorization"));
    authorize(principal, operation, log);
    c.set("principal", principal);
  };

  const cacheScope = publicTree ? "public" : "private";

  /** Log names in GET paths: a name that cannot exist is simply not found. */
  const existingLog = async (log: string): Promise<string> => {
    if (!LOG_NAME_PATTERN.test(log) || !(await engine.hasLog(log))) {
      throw new NotFoundError("log_not_found", `log ${log} does not exist`);
    }
    return log;
  };

  app.get("/healthz", (c) => c.json({ status: "ok" }));

  app.get("/logs/:log/checkpoint", async (c) => {
    const log = c.req.param("log");
    await allow(c, "read-tree", log);
    await existingLog(log);
    const checkpoint = await engine.checkpoint(log);
    if (!checkpoint) throw new NotFoundError("no_checkpoint", `log ${log} has no signed checkpoint yet; retry in a second`);
    return c.body(checkpoint.note, 200, { "content-type": "text/plain; charset=utf-8", "cache-control": `${cacheScope}, no-cache` });
  });

  app.get("/logs/:log/tile/*", async (c) => {
    const log = c.req.param("log");
    // Sliced from the raw path: `log` is percent-decoded, so its length may differ from the URL's.
    const rest = new URL(c.req.url).pathname.replace(/^\/logs\/[^/]+\/tile\//, "");
    let tile: ReturnType<typeof parseTilePath>;
    try {
      tile = parseTilePath(rest);
    } catch {
      throw new NotFoundError("route_not_found", "not a tile path (C2SP tlog-tiles)");
    }
    await allow(c, tile.level === "entries" ? "read-entries" : "read-tree", log);
    await existingLog(log);
    const bytes =
      tile.level === "entries"
        ? await engine.readEntryBundle(log, tile.index, tile.width)
        : await engine.readTile(log, tile.level, tile.index, tile.width);
    if (!bytes) throw new NotFoundError("beyond_tree", "that tile is beyond the latest checkpoint");
    const scope = tile.level === "entries" ? "private" : cacheScope;
    // Whatever a tile URL answers never changes: a full tile is final and a partial tile of width
    // W is a fixed prefix of it, so both are immutable (C2SP tlog-tiles asks for long caching).
    const cache = `${scope}, ${IMMUTABLE}`;
    const headers: Record<string, string> = { "content-type": "application/octet-stream", "cache-control": cache };
    // C2SP tlog-tiles: entry bundles SHOULD be compressed when the client accepts it (JSON
    // leaves shrink several times). Hash tiles are random bytes and would not shrink.
    if (tile.level === "entries" && /\bgzip\b/.test(c.req.header("accept-encoding") ?? "")) {
      const gzipped = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream("gzip"));
      return c.body(gzipped, 200, { ...headers, "content-encoding": "gzip", vary: "accept-encoding" });
    }
    if (tile.level === "entries") headers.vary = "accept-encoding";
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, headers);
  });

  app.get("/v1/server", (c) =>
    c.json({
      originPrefix: engine.originPrefix,
      // Each log's verifier key is `<originPrefix>/<log>+<keyID>+<publicKey>`; see GET /v1/logs/{log}.
      publicKey: engine.signer.verifierKey.split("+").slice(2).join("+"),
      publicTree,
      maxBatchEvents: maxBatch,
      maxBodyBytes: maxBody,
    }),
  );

  app.get("/v1/logs", async (c) => {
    await allow(c, "admin");
    return c.json({ logs: await engine.listLogs() });
  });

  app.get("/v1/logs/:log", async (c) => {
    const log = c.req.param("log");
    await allow(c, "read-tree", log);
    await existingLog(log);
    const checkpoint = await engine.checkpoint(log);
    return c.json({
      name: log,
      origin: engine.origin(log),
      verifierKey: await engine.verifierKey(log),
      treeSize: checkpoint?.treeSize ?? 0,
      rootHash: toBase64(checkpoint?.rootHash ?? emptyRoot()),
      checkpoint: checkpoint?.note ?? null,
      checkpointCreatedAt: checkpoint?.createdAt ?? null,
      integratedSize: await engine.integratedSize(log),
    });
  });

  app.get("/v1/logs/:log/proofs/inclusion", async (c) => {
    const log = c.req.param("log");
    await allow(c, "read-tree", log);
    await existingLog(log);
    const index = integerParam(c, "index", true) as number;
    const treeSize = integerParam(c, "treeSize", false) ?? (await engine.checkpoint(log))?.treeSize ?? 0;
    if (index >= treeSize) {
      if (treeSize > ((await engine.checkpoint(log))?.treeSize ?? 0)) throw beyondTree(log, treeSize);
      throw new InputError("invalid_parameter", "index must be less than treeSize", {
        problems: [{ parameter: "index", detail: `must be less than treeSize (${treeSize})` }],
      });
    }
    const proof = await engine.proveInclusion(log, index, treeSize);
    return c.json({
      index: proof.index,
      treeSize: proof.treeSize,
      leafHash: toBase64(proof.leafHash),
      rootHash: toBase64(proof.rootHash),
      hashes: proof.hashes.map(toBase64),
    });
  });

  app.get("/v1/logs/:log/proofs/consistency", async (c) => {
    const log = c.req.param("log");
    await allow(c, "read-tree", log);
    await existingLog(log);
    const from = integerParam(c, "from", true) as number;
    const to = integerParam(c, "to", false) ?? (await engine.checkpoint(log))?.treeSize ?? 0;
    if (from < 1)
      throw new InputError("invalid_parameter", "from must be at least 1", {
        problems: [{ parameter: "from", detail: "must be at least 1" }],
      });
    if (from > to) {
      if (to > ((await engine.checkpoint(log))?.treeSize ?? 0)) throw beyondTree(log, to);
      throw new InputError("invalid_parameter", "from must not exceed to", {
        problems: [{ parameter: "from", detail: `must not exceed to (${to})` }],
      });
    }
    const hashes = await engine.proveConsistency(log, from, to);
    return c.json({ from, to, hashes: hashes.map(toBase64) });
  });

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
    const body = await readJsonBody(c.req.raw, maxBody);
    const batch = isBatch(body);
    const inputs = batch ? batchEvents(body, maxBatch) : [body];
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

  app.notFound(() => problemResponse(new NotFoundError("route_not_found", "no such route; see the API reference in the README")));
  app.onError((error) => problemResponse(error));
  return app;
}

function beyondTree(log: string, size: number): NotFoundError {
  return new NotFoundError("beyond_tree", `log ${log} has no checkpoint of size ${size} yet`);
}

function integerParam(c: Context<Env>, name: string, required: boolean): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") {
    if (!required) return undefined;
    throw new InputError("invalid_parameter", `query parameter ${name} is required`, {
      problems: [{ parameter: name, detail: "is required" }],
    });
  }
  if (!/^(0|[1-9][0-9]{0,15})$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new InputError("invalid_parameter", `query parameter ${name} must be a non-negative integer`, {
      problems: [{ parameter: name, detail: "must be a non-negative decimal integer" }],
    });
  }
  return Number(raw);
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
