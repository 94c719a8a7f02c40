import type { IncomingMessage, ServerResponse } from "node:http";
import { type AuditMiddlewareOptions, createRequestCapture, headerValue } from "./capture.js";
import { runWithAuditContext } from "./context.js";

export type NodeHandler<Req extends IncomingMessage, Res extends ServerResponse> = (request: Req, response: Res) => unknown;

export interface NodeAuditOptions<Req> extends AuditMiddlewareOptions<Req> {
  /** The route pattern recorded by automatic recording (default: the path without query). */
  readonly route?: (request: Req) => string;
}

/**
 * Wraps a plain `(req, res)` handler (node:http, or a Next.js API route) so everything it runs
 * sees the request's audit context.
 */
export function withAuditContext<Req extends IncomingMessage, Res extends ServerResponse>(
  handler: NodeHandler<Req, Res>,
  options: NodeAuditOptions<Req> = {},
): (request: Req, response: Res) => Promise<void> {
  const capture = createRequestCapture<Req>(options);
  return async (request, response) => {
    const context = capture.begin(request, {
      peer: request.socket.remoteAddress,
      header: (name) => headerValue(request.headers[name]),
    });
    if (!response.headersSent) response.setHeader(capture.requestIdHeader, context.requestId);
    response.once("finish", () => {
      const route = options.route?.(request) ?? (request.url ?? "/").split("?")[0] ?? "/";
      capture.finish(context, { method: request.method ?? "GET", route, status: response.statusCode });
    });
    await runWithAuditContext(context, () => handler(request, response));
  };
}

export interface FetchAuditOptions extends AuditMiddlewareOptions<Request> {
  /**
   * The client's address as the platform reports it (a fetch handler sees no socket), e.g.
   * `(req) => req.headers.get("x-real-ip") ?? undefined` where the platform sets that header.
   * It is then the "peer" that `trustProxy` applies to.
   */
  readonly remoteAddress?: (request: Request) => string | undefined;
  /** The route pattern for automatic recording (default: the URL path). */
  readonly route?: (request: Request) => string;
}

/**
 * Wraps a Web-standard handler, `(request: Request) => Response` (Next.js App Router route
 * handlers, Hono's `app.fetch`, Bun, Deno), so everything it runs sees the request's audit context.
 */
export function withAuditContextFetch<Args extends unknown[]>(
  handler: (request: Request, ...rest: Args) => Response | Promise<Response>,
  options: FetchAuditOptions = {},
): (request: Request, ...rest: Args) => Promise<Response> {
  const capture = createRequestCapture<Request>(options);
  return async (request, ...rest) => {
    const context = capture.begin(request, {
      peer: options.remoteAddress?.(request),
      header: (name) => request.headers.get(name) ?? undefined,
    });
    const response = await runWithAuditContext(context, () => handler(request, ...rest));
    const route = options.route?.(request) ?? new URL(request.url).pathname;
    capture.finish(context, { method: request.method, route, status: response.status });
    if (!response.headers.has(capture.requestIdHeader)) {
      try {
        response.headers.set(capture.requestIdHeader, context.requestId);
      } catch {
        // Some responses (Response.redirect, fetched ones) have immutable headers; the id is only a courtesy.
      }
    }
    return response;
  };
}
