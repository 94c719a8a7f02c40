import Fastify, { type FastifyInstance } from "fastify";
import { type AuditLog, defineEvents, InputError } from "sealtrail";
import { auditContext } from "sealtrail/fastify";
import { z } from "zod";

/** The events this service records, typed and validated (strict: nothing else may be recorded). */
export const events = defineEvents(
  {
    "invoice.paid": z.object({ amountCents: z.number().int().positive(), currency: z.string().length(3) }),
    "http.request": z.object({ method: z.string(), route: z.string(), status: z.number().int() }),
  },
  { strict: true },
);

export type InvoiceAudit = AuditLog<typeof events.schemas, true>;

export function buildApp(audit: InvoiceAudit): FastifyInstance {
  const app = Fastify();
  auditContext(app, {
    // Fastify's own setting has the same meaning; here loopback proxies are believed.
    trustProxy: ["127.0.0.1"],
    actor: (req) => {
      const user = req.headers["x-user-id"];
      return typeof user === "string" ? { type: "user", id: user } : undefined;
    },
    recordRequests: { audit },
  });

  // An event the catalog refuses is the caller's fault: answer 422 with the fields at fault.
  app.setErrorHandler((error, _req, reply) => {
    if (error instanceof InputError) return reply.code(422).send({ code: error.code, errors: error.problems });
    return reply.send(error);
  });

  app.post<{ Params: { id: string }; Body: { amountCents: number; currency: string } }>("/invoices/:id/pay", async (req, reply) => {
    // Type-checked against the catalog: a wrong payload does not compile.
    const { id } = await audit.record(
      "invoice.paid",
      { amountCents: req.body.amountCents, currency: req.body.currency },
      {
        targets: [{ type: "invoice", id: req.params.id }],
      },
    );
    return reply.code(201).send({ paid: true, auditEventId: id });
  });
  return app;
}
