import type { NextFunction, Request, RequestHandler, Response } from "express";
import { type AuditMiddlewareOptions, createRequestCapture, headerValue } from "./capture.js";
import { runWithAuditContext } from "./context.js";

/**
 * Express middleware: every handler after it runs inside the request's audit context, so
 * `audit.record({ action, targets })` there is complete. Mount it before your routes; the actor
 * resolver runs when the first event is recorded, so it sees what your auth middleware set.
 */
export function auditContext(options: AuditMiddlewareOptions<Request> = {}): RequestHandler {
  const capture = createRequestCapture<Request>(options);
  return (request: Request, response: Response, next: NextFunction) => {
    const context = capture.begin(request, {
      peer: request.socket.remoteAddress,
      header: (name) => headerValue(request.headers[name]),
    });
    response.setHeader(capture.requestIdHeader, context.requestId);
    response.once("finish", () => {
      // req.route is the matched route; baseUrl adds the prefix of a mounted router.
      const routePath = request.route?.path;
      const route = typeof routePath === "string" ? `${request.baseUrl}${routePath}` : request.path;
      capture.finish(context, { method: request.method, route, status: response.statusCode });
    });
    runWithAuditContext(context, () => next());
  };
}
