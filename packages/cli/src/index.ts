export { demoEvents } from "./demo.js";
export { cli, main } from "./main.js";
export { auditRemoteLog, type RemoteAuditOptions, type RemoteAuditReport } from "./remote-audit.js";
export { type ServeOptions, serve } from "./serve.js";
