import express, { type Express, type NextFunction, type Request, type Response } from "express";
import type { AuditLog } from "sealtrail";
import { auditContext } from "sealtrail/express";

type User = { id: string; name: string };
type AuthedRequest = Request & { user?: User };

/**
 * A tiny document service. The handler records `document.shared` with only what it knows (the
 * action and the document); the middleware supplies actor, ip, user agent, request id and session.
 */
export function buildApp(audit: AuditLog): Express {
  const app = express();
  app.use(express.json());
  app.use(
    auditContext({
      actor: (req) => {
        const user = (req as AuthedRequest).user;
        return user && { type: "user", id: user.id, name: user.name };
      },
      // Behind a reverse proxy on this machine: believe X-Forwarded-For from loopback only.
      trustProxy: ["127.0.0.1", "::1"],
      sessionCookie: "sid",
      recordRequests: { audit, filter: (r) => r.method !== "GET" && r.route !== "/healthz" },
    }),
  );
  // Stand-in for real authentication (passport, a session store...): it runs after auditContext,
  // which is fine, because the actor is resolved when the handler records.
  app.use((req: AuthedRequest, _res: Response, next: NextFunction) => {
    const token = req.headers.authorization?.replace(/^Bearer /, "");
    if (token?.startsWith("user:")) req.user = { id: token.slice(5), name: `User ${token.slice(5)}` };
    next();
  });

  app.post("/documents/:id/share", async (req: AuthedRequest, res: Response) => {
    if (!req.user) {
      res.status(401).json({ error: "sign in first" });
      return;
    }
    const { id, index } = await audit.record({
      action: "document.shared",
      targets: [{ type: "document", id: String(req.params.id) }],
      metadata: { with: String(req.body?.with ?? "") },
    });
    res.status(201).json({ shared: true, auditEvent: { id, index } });
  });
  return app;
}
