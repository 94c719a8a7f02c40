// node --import tsx src/main.ts (or the compiled JS): an Express app with an embedded audit log.
import { createAuditLog } from "sealtrail";
import { buildApp } from "./app.js";

const audit = await createAuditLog({ path: process.env.AUDIT_PATH ?? "./audit-data" });
const port = Number(process.env.PORT ?? 3000);
buildApp(audit).listen(port, "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${port}`));
