import { emptyRoot, InputError, NotFoundError, parseTilePath, toBase64 } from "@sealtrail/core";
import { type App, integerParam, type RouteContext } from "../route-context.js";

const IMMUTABLE = "max-age=31536000, immutable";

/** The verification surface (DESIGN §4): checkpoints, tiles, entry bundles, log info, proofs. */
export function treeRoutes(app: App, ctx: RouteContext): void {
  const { engine, publicTree, maxBatch, maxBody } = ctx;
  const allow = ctx.allow;
  const existingLog = ctx.existingLog;
  const cacheScope = publicTree ? "public" : "private";

  app.get("/logs/:log/checkpoint", async (c) => {
    const log = c.req.param("log");
    await allow(c, "read-tree", log);
    await existingLog(log);
    const checkpoint = await engine.checkpoint(log);
    if (!checkpoint) throw new NotFoundError("no_checkpoint", `log ${log} has no signed checkpoint yet; retry in a second`);
    await ctx.onViewerRead?.(c, { route: "checkpoint", log });
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
    await allow(c, tile.level === "entries" ? "read-bundles" : "read-tree", log);
    await existingLog(log);
    const bytes =
      tile.level === "entries"
        ? await engine.readEntryBundle(log, tile.index, tile.width)
        : await engine.readTile(log, tile.level, tile.index, tile.width);
    if (!bytes) throw new NotFoundError("beyond_tree", "that tile is beyond the latest checkpoint");
    await ctx.onViewerRead?.(c, { route: tile.level === "entries" ? "entry-bundle" : "tile", log });
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
    await ctx.onViewerRead?.(c, { route: "log", log });
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
    await ctx.onViewerRead?.(c, { route: "inclusion-proof", log });
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
    await ctx.onViewerRead?.(c, { route: "consistency-proof", log });
    return c.json({ from, to, hashes: hashes.map(toBase64) });
  });
}

function beyondTree(log: string, size: number): NotFoundError {
  return new NotFoundError("beyond_tree", `log ${log} has no checkpoint of size ${size} yet`);
}
