export {
  type AuditMiddlewareOptions,
  type AuditRecorder,
  createRequestCapture,
  type FinishedRequest,
  outcomeOf,
  type RecordRequestsOptions,
  type RequestCapture,
  type RequestFacts,
} from "./capture.js";
export { clientIp, compileTrust, normalizeAddress, type TrustProxy } from "./client-ip.js";
export { ANONYMOUS_ACTOR, type AuditRequestContext, currentAuditContext, runWithAuditContext } from "./context.js";
