import { serve } from "@hono/node-server";
import { createAuditLog } from "sealtrail";
import { buildApp } from "./app.js";

const audit = await createAuditLog({ path: process.env.AUDIT_PATH ?? "./audit-data" });
serve({ fetch: buildApp(audit).fetch, hostname: "127.0.0.1", port: Number(process.env.PORT ?? 3000) }, (info) =>
  console.log(`listening on http://127.0.0.1:${info.port}`),
);
