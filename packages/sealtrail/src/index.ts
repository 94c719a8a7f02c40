export {
  type EventProof,
  type QueryOptions,
  type QueryResult,
  verifyEventProof,
} from "@sealtrail/client";
export {
  type Actor,
  AuthError,
  ConfigError,
  type EventInput,
  InputError,
  NotFoundError,
  type PersonalDataConfig,
  type PersonalDataOverride,
  type QueryFilter,
  SealtrailError,
  StoreError,
  VerificationError,
} from "@sealtrail/core";
export {
  type AuditLog,
  type AuditLogOptions,
  createAuditLog,
  type EraseOptions,
  type RecordEvent,
  type RecordExtras,
  type RecordInput,
} from "./audit-log.js";
export type { Erased, Recorded, VerifyResult } from "./backend.js";
export {
  type CatalogOptions,
  type CatalogPersonalData,
  defineEvents,
  type EventCatalog,
  type EventSchemas,
  type PayloadOf,
} from "./catalog.js";
