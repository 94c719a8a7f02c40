export {
  type Acknowledged,
  type ClientEvent,
  type ClientOptions,
  createClient,
  type LogInfo,
  type QueryOptions,
  type QueryResult,
  SealtrailClient,
} from "./client.js";
export type { Fetch } from "./http.js";
export { errorFromProblem } from "./problem.js";
export { type EventProof, openLogCheckpoint, originFor, verifyConsistencyProof, verifyEventProof, type WireEventProof } from "./verify.js";
