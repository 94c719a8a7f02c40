import { createAuditLog } from "sealtrail";
import { buildApp, events } from "./app.js";

const audit = await createAuditLog({ path: process.env.AUDIT_PATH ?? "./audit-data", catalog: events });
const app = buildApp(audit);
await app.listen({ port: Number(process.env.PORT ?? 3000), host: "127.0.0.1" });
console.log(`listening on ${app.listeningOrigin}`);
