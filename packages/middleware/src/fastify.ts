import type { FastifyInstance, FastifyRequest } from "fastify";
import { type AuditMiddlewareOptions, createRequestCapture, headerValue } from "./capture.js";
import { type AuditRequestContext, runWithAuditContext } from "./context.js";

const CONTEXT = Symbol("sealtrail.audit-context");
type WithContext = FastifyRequest & { [CONTEXT]?: AuditRequestContext & { startedAt: number } };

/**
 * Registers the audit context on a Fastify instance (call it before registering routes, or wrap
 * it with fastify-plugin semantics by calling it on the root instance). Each request's handlers
 * and hooks after `onRequest` run inside the context.
 */
export function auditContext(fastify: FastifyInstance, options: AuditMiddlewareOptions<FastifyRequest> = {}): void {
  const capture = createRequestCapture<FastifyRequest>(options);
  fastify.addHook("onRequest", (request, reply, done) => {
    const context = capture.begin(request, {
      peer: request.raw.socket.remoteAddress,
      header: (name) => headerValue(request.headers[name]),
    });
    (request as WithContext)[CONTEXT] = context;
    reply.header(capture.requestIdHeader, context.requestId);
    // Everything Fastify runs for this request after done() descends from this call.
    runWithAuditContext(context, () => done());
  });
  fastify.addHook("onResponse", (request, reply, done) => {
    const context = (request as WithContext)[CONTEXT];
    if (context)
      capture.finish(context, {
        method: request.method,
        route: request.routeOptions.url ?? request.url.split("?")[0] ?? "/",
        status: reply.statusCode,
      });
    done();
  });
}
