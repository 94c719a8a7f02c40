import { NotFoundError } from "@sealtrail/core";
import type { App } from "../route-context.js";

/** An event catalog as the server needs it: `defineEvents(...)` from `sealtrail` is one. */
export interface PublishedCatalog {
  toJSONSchema(): Record<string, unknown>;
  /**
   * Checks one event's action and metadata; throws InputError with pointers under `base` (the
   * event's pointer in the body). When present, ingest refuses events the catalog refuses.
   */
  validate?(action: string, metadata: unknown, base: string): Promise<unknown>;
}

/**
 * GET /v1/schemas: the event catalog as one JSON Schema (draft 2020-12). Public, like
 * /openapi.json: it describes the shape of events, never an event or a log.
 */
export function schemaRoutes(app: App, catalog: PublishedCatalog | undefined): void {
  // Converted once at start: a schema that cannot be exported fails the start, not a request.
  const document = catalog ? JSON.stringify(catalog.toJSONSchema()) : undefined;
  app.get("/v1/schemas", (c) => {
    if (document === undefined) {
      throw new NotFoundError("no_catalog", "this server publishes no event catalog (start it with --catalog)");
    }
    return c.body(document, 200, { "content-type": "application/schema+json" });
  });
}
