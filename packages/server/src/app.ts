import { type AuditEvent, NotFoundError } from "@sealtrail/core";
import type { LogEngine } from "@sealtrail/engine";
import { Hono } from "hono";
import type { Authenticator } from "./keys.js";
import { OPENAPI } from "./openapi.js";
import { problemResponse } from "./problem.js";
import { RetentionService } from "./retention.js";
import { createRouteContext, type Env } from "./route-context.js";
import { complianceRoutes, type Eraser } from "./routes/compliance.js";
import { evidenceRoutes } from "./routes/evidence.js";
import { ingestRoutes } from "./routes/ingest.js";
import { keysRoutes } from "./routes/keys.js";
import { queryRoutes } from "./routes/query.js";
import { type PublishedCatalog, schemaRoutes } from "./routes/schemas.js";
import { treeRoutes } from "./routes/tree.js";
import { type StaticAssets, staticRoutes } from "./static-assets.js";

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
  /**
   * Crypto-shredding (`createPersonalData` of @sealtrail/privacy, also given to the engine as its
   * `protect` hook): read paths reveal personal values through it, `POST /v1/erasures` erases.
   */
  readonly personalData?: Eraser & { reveal<T extends AuditEvent>(event: T): Promise<T> };
  /** The retention service, when the caller runs its periodic job (default: one for the routes only). */
  readonly retention?: RetentionService;
  /** The event catalog published at GET /v1/schemas and, if it can validate, enforced on ingest (`defineEvents(...)` from `sealtrail`). */
  readonly catalog?: PublishedCatalog;
  /** Called once per request with non-sensitive facts, for access logs. */
  readonly onRequest?: (entry: { method: string; path: string; status: number; ms: number }) => void;
  /** The web viewer's built files (`loadStaticAssets`), served at `/`, `/embed` and `/assets/`. */
  readonly viewer?: StaticAssets;
}

const DEFAULT_MAX_BODY = 16 * 1024 * 1024;
const DEFAULT_MAX_BATCH = 1000;

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

  const reveal = options.personalData ? options.personalData.reveal.bind(options.personalData) : undefined;
  const ctx = createRouteContext({
    engine,
    auth,
    publicTree,
    maxBody,
    maxBatch,
    ...(reveal ? { reveal } : {}),
    ...(options.catalog ? { catalog: options.catalog } : {}),
  });
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/openapi.json", (c) => c.json(OPENAPI));
  treeRoutes(app, ctx);
  ingestRoutes(app, ctx);
  keysRoutes(app, ctx);
  queryRoutes(app, ctx);
  evidenceRoutes(app, ctx);
  complianceRoutes(app, ctx, {
    retention: options.retention ?? new RetentionService({ engine }),
    ...(options.personalData ? { eraser: options.personalData } : {}),
  });
  if (options.viewer) staticRoutes(app, options.viewer);
  schemaRoutes(app, options.catalog);

  app.notFound(() => problemResponse(new NotFoundError("route_not_found", "no such route; see the API reference in the README")));
  app.onError((error) => problemResponse(error));
  return app;
}
