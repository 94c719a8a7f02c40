import type { Context, MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { type AuditMiddlewareOptions, createRequestCapture } from "./capture.js";
import { runWithAuditContext } from "./context.js";

export interface HonoAuditOptions extends AuditMiddlewareOptions<Context> {
  /**
   * The socket peer's address. Default: the Node adapter's socket (`@hono/node-server` puts the
   * IncomingMessage at `c.env.incoming`); on other runtimes pass their connection info here.
   */
  readonly remoteAddress?: (c: Context) => string | undefined;
}

function nodePeer(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress;
}

/** Hono middleware: handlers after it run inside the request's audit context. */
export function auditContext(options: HonoAuditOptions = {}): MiddlewareHandler {
  const capture = createRequestCapture<Context>(options);
  const peer = options.remoteAddress ?? nodePeer;
  return async (c, next) => {
    const context = capture.begin(c, { peer: peer(c), header: (name) => c.req.header(name) });
    await runWithAuditContext(context, async () => {
      await next();
    });
    c.header(capture.requestIdHeader, context.requestId);
    capture.finish(context, { method: c.req.method, route: routePath(c, -1) || new URL(c.req.url).pathname, status: c.res.status });
  };
}
