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
