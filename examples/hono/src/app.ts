import { Hono } from "hono";
import type { AuditLog } from "sealtrail";
import { auditContext } from "sealtrail/hono";

type Env = { Variables: { userId?: string } };

export function buildApp(audit: AuditLog): Hono<Env> {
  const app = new Hono<Env>();
  app.use(
    auditContext({
      // Read when the handler records, after the auth middleware below has run.
      actor: (c) => {
        const userId = c.get("userId");
        return userId ? { type: "user", id: userId } : undefined;
      },
      trustProxy: ["127.0.0.1"],
      sessionId: (c) => c.req.header("x-session-id"),
    }),
  );
  app.use(async (c, next) => {
    const auth = c.req.header("authorization");
    if (auth?.startsWith("Bearer user:")) c.set("userId", auth.slice("Bearer user:".length));
    await next();
  });

  app.delete("/projects/:id", async (c) => {
    const { id } = await audit.record({ action: "project.deleted", targets: [{ type: "project", id: c.req.param("id") }] });
    return c.json({ deleted: true, auditEventId: id });
  });
  return app;
}
