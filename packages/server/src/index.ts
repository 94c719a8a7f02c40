export { type AppOptions, createApp } from "./app.js";
export {
  Authenticator,
  authorize,
  createApiKey,
  ensureAdminKey,
  generateApiKey,
  type Operation,
  type Principal,
  type PublicApiKey,
  publicApiKey,
} from "./keys.js";
export { type ProblemBody, problemFor, problemResponse } from "./problem.js";
export { type PruneResult, type RecordAction, RetentionService, type RetentionServiceOptions } from "./retention.js";
export type { Eraser } from "./routes/compliance.js";
export type { PublishedCatalog } from "./routes/schemas.js";
export { listen, type RunningServer } from "./serve.js";
export { loadStaticAssets, type StaticAssets } from "./static-assets.js";
export { SYSTEM_LOG, type SystemAction, SystemLog, type SystemLogOptions } from "./system-log.js";
export { loadViewerTokenSecret } from "./viewer-token.js";
