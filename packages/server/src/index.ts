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
export type { PublishedCatalog } from "./routes/schemas.js";
export { listen, type RunningServer } from "./serve.js";
export { SYSTEM_LOG, type SystemAction, SystemLog, type SystemLogOptions } from "./system-log.js";
export { loadViewerTokenSecret } from "./viewer-token.js";
