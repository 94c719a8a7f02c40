/*
 * The OpenAPI 3.1 description of every route `createApp` serves, served at GET /openapi.json.
 * Schemas are JSON Schema 2020-12 (the `jsonSchemaDialect` below), closed with
 * `additionalProperties: false` wherever the server's answer has a fixed shape, so a client
 * generator and openapi.test.ts (which checks real answers against this document) both notice a
 * field that appears or disappears. Keep it in step with the routes: the test fails on any route
 * the app serves that is not here, and on any path here that the app does not serve.
 */

/** A JSON Schema 2020-12 schema, as data. */
export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

// A type alias, not an interface, so a reference is also a JsonSchema (implicit index signature).
export type Reference = { readonly $ref: string };

export interface MediaTypeObject {
  readonly schema: JsonSchema;
  readonly examples?: Readonly<Record<string, { readonly summary?: string; readonly value: unknown }>>;
  /** Server-sent events only: the schema of each event's `data` (JSON), by event name. */
  readonly "x-sse-events"?: Readonly<Record<string, JsonSchema>>;
}

export interface HeaderObject {
  readonly description: string;
  readonly schema: JsonSchema;
}

export interface ResponseObject {
  readonly description: string;
  readonly headers?: Readonly<Record<string, HeaderObject>>;
  readonly content?: Readonly<Record<string, MediaTypeObject>>;
}

export interface ParameterObject {
  readonly name: string;
  readonly in: "path" | "query" | "header";
  readonly description: string;
  readonly required?: boolean;
  readonly schema?: JsonSchema;
  /** For a parameter whose value is a serialized document (the JSON `filter`). */
  readonly content?: Readonly<Record<string, MediaTypeObject>>;
  readonly example?: string;
}

export interface OperationObject {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  /** Alternatives: any one of them suffices; `{}` means no credentials at all. */
  readonly security: readonly Readonly<Record<string, readonly string[]>>[];
  readonly parameters?: readonly (ParameterObject | Reference)[];
  readonly requestBody?: {
    readonly description?: string;
    readonly required: boolean;
    readonly content: Readonly<Record<string, MediaTypeObject>>;
  };
  readonly responses: Readonly<Record<string, ResponseObject | Reference>>;
}

export type HttpMethod = "get" | "post" | "put" | "delete";
export type PathItemObject = Partial<Readonly<Record<HttpMethod, OperationObject>>>;

export interface OpenApiDocument {
  readonly openapi: string;
  readonly jsonSchemaDialect: string;
  readonly info: {
    readonly title: string;
    readonly version: string;
    readonly summary: string;
    readonly description: string;
    readonly license: { readonly name: string; readonly identifier: string };
  };
  readonly tags: readonly { readonly name: string; readonly description: string }[];
  readonly paths: Readonly<Record<string, PathItemObject>>;
  readonly components: {
    readonly schemas: Readonly<Record<string, JsonSchema>>;
    readonly parameters: Readonly<Record<string, ParameterObject>>;
    readonly responses: Readonly<Record<string, ResponseObject>>;
    readonly securitySchemes: Readonly<Record<string, Readonly<Record<string, string>>>>;
  };
}

const schema = (name: string): Reference => ({ $ref: `#/components/schemas/${name}` });
const parameter = (name: string): Reference => ({ $ref: `#/components/parameters/${name}` });
const shared = (name: string): Reference => ({ $ref: `#/components/responses/${name}` });

const PROBLEM = "application/problem+json";
const NO_STORE_HEADER: Readonly<Record<string, HeaderObject>> = {
  "Cache-Control": { description: "The answer holds a secret: no cache may keep it.", schema: { const: "no-store" } },
};

function json(description: string, body: JsonSchema, headers?: Readonly<Record<string, HeaderObject>>): ResponseObject {
  return { description, ...(headers ? { headers } : {}), content: { "application/json": { schema: body } } };
}

/** A problem+json answer with this status, whose `code` is one of `codes` (docs/errors.md). */
function problem(status: number, description: string, codes: readonly string[]): ResponseObject {
  return {
    description: `${description} Codes: ${codes.map((c) => `\`${c}\``).join(", ")}.`,
    content: {
      [PROBLEM]: {
        schema: { $ref: "#/components/schemas/Problem", properties: { status: { const: status }, code: { enum: [...codes] } } },
      },
    },
  };
}

const unauthorized = shared("Unauthorized");
const forbidden = shared("Forbidden");
const serverError = shared("ServerError");

/** Problems every authenticated route can answer. */
const AUTH_FAILURES = { "401": unauthorized, "403": forbidden } as const;

// Security requirement alternatives.
const ADMIN_KEY = [{ apiKey: [] }] as const;
/** An API key whose scope allows the operation (ingest for appends, read or admin for tokens). */
const ANY_KEY = [{ apiKey: [] }] as const;
const READER = [{ apiKey: [] }, { viewerToken: [] }, { viewerTokenQuery: [] }] as const;
/** Verification data: with `--public-tree` no credentials are needed. */
const TREE_READER = [{ apiKey: [] }, { viewerToken: [] }, { viewerTokenQuery: [] }, {}] as const;
const PUBLIC = [{}] as const;

const QUERY_PARAMETER_CODES = ["invalid_parameter", "invalid_query"] as const;
const PAGE_PARAMETER_CODES = [...QUERY_PARAMETER_CODES, "invalid_cursor"] as const;
/** A `filter` that is JSON but not a valid filter: each problem by pointer into it. */
const INVALID_FILTER = problem(422, "`filter` is JSON but not a valid filter (each problem by JSON pointer into it).", ["invalid_filter"]);

const BASE64 = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$";

/** What ingest answers per event; `inclusionProof` only with ?wait=checkpoint. */
const APPENDED_EVENT = {
  id: schema("EventId"),
  index: { type: "integer", minimum: 0, description: "The event's final position in the log." },
  created: { type: "boolean", description: "false when the event was already stored (an idempotent retry)." },
  inclusionProof: {
    type: "object",
    description: "With ?wait=checkpoint: RFC 9162 audit path to the root of `checkpoint`.",
    required: ["treeSize", "leafHash", "hashes"],
    additionalProperties: false,
    properties: {
      treeSize: { type: "integer", minimum: 1 },
      leafHash: schema("Hash"),
      hashes: { type: "array", items: schema("Hash") },
    },
  },
} as const;

const schemas: Record<string, JsonSchema> = {
  Problem: {
    type: "object",
    description: "RFC 9457 problem details. `code` is the stable machine-readable reason (docs/errors.md).",
    required: ["type", "title", "status", "detail", "code"],
    additionalProperties: false,
    properties: {
      type: { type: "string", pattern: "^urn:sealtrail:problem:[a-z][a-z0-9_]*$", examples: ["urn:sealtrail:problem:invalid_event"] },
      title: { type: "string", minLength: 1 },
      status: { type: "integer", minimum: 400, maximum: 599 },
      detail: { type: "string", minLength: 1, description: "Concrete, never quotes event payloads; 5xx details are generic." },
      code: { type: "string", pattern: "^[a-z][a-z0-9_]*$" },
      errors: {
        type: "array",
        minItems: 1,
        description: "Each field or parameter at fault (only on 4xx answers).",
        items: schema("ProblemItem"),
      },
    },
  },
  ProblemItem: {
    oneOf: [
      {
        type: "object",
        required: ["pointer", "detail"],
        additionalProperties: false,
        properties: {
          pointer: {
            type: "string",
            format: "json-pointer",
            description: "RFC 6901 pointer into the request body (or the `filter` JSON).",
          },
          detail: { type: "string", minLength: 1 },
        },
      },
      {
        type: "object",
        required: ["parameter", "detail"],
        additionalProperties: false,
        properties: {
          parameter: { type: "string", minLength: 1, description: "The path or query parameter at fault." },
          detail: { type: "string", minLength: 1 },
        },
      },
    ],
  },
  LogName: { type: "string", pattern: "^[a-z0-9][a-z0-9._-]{0,62}$", examples: ["acme"] },
  PrunedRange: {
    type: "object",
    required: ["start", "end", "prunedAt"],
    additionalProperties: false,
    description: "Entries [start, end) whose bodies retention removed; their hashes remain in the tiles.",
    properties: { start: { type: "integer", minimum: 0 }, end: { type: "integer", minimum: 1 }, prunedAt: { type: "string" } },
  },
  ErasureRequest: {
    type: "object",
    required: ["subject"],
    additionalProperties: false,
    properties: {
      subject: { type: "string", minLength: 1, maxLength: 256, description: "The data subject's id (by default an actor id)." },
      log: { ...schema("LogName"), description: "Only in this log; default every log." },
    },
  },
  Erasure: {
    type: "object",
    required: ["subject", "keysDestroyed", "erasedAt"],
    additionalProperties: false,
    properties: {
      subject: { type: "string" },
      log: schema("LogName"),
      keysDestroyed: { type: "integer", minimum: 0 },
      erasedAt: { type: "string" },
    },
  },
  RetentionRequest: {
    type: "object",
    required: ["days"],
    additionalProperties: false,
    properties: { days: { oneOf: [{ type: "number", exclusiveMinimum: 0, maximum: 36500 }, { type: "null" }] } },
  },
  Retention: {
    type: "object",
    required: ["log", "days"],
    additionalProperties: false,
    properties: {
      log: schema("LogName"),
      days: { oneOf: [{ type: "number" }, { type: "null" }], description: "null: events are kept forever." },
      pruned: { type: "array", items: schema("PrunedRange") },
      holds: { type: "array", items: schema("LegalHold") },
    },
  },
  LegalHoldRequest: {
    type: "object",
    required: ["log", "reason"],
    additionalProperties: false,
    properties: {
      log: schema("LogName"),
      q: { type: "string", maxLength: 4096, description: "Hold only the events this query matches; absent: the whole log." },
      reason: { type: "string", minLength: 1, maxLength: 1024 },
    },
  },
  LegalHold: {
    type: "object",
    required: ["id", "log", "reason", "createdAt"],
    additionalProperties: false,
    properties: {
      id: { type: "string" },
      log: schema("LogName"),
      query: { type: "string" },
      reason: { type: "string" },
      createdAt: { type: "string" },
      releasedAt: { type: "string" },
    },
  },
  PruneRequest: { type: "object", additionalProperties: false, properties: { log: schema("LogName") } },
  PruneResults: {
    type: "object",
    required: ["results"],
    additionalProperties: false,
    properties: {
      results: {
        type: "array",
        items: {
          type: "object",
          required: ["log", "pruned", "entries", "held"],
          additionalProperties: false,
          properties: {
            log: schema("LogName"),
            pruned: {
              type: "array",
              items: { type: "object", required: ["start", "end"], properties: { start: { type: "integer" }, end: { type: "integer" } } },
            },
            entries: { type: "integer", minimum: 0 },
            held: { type: "integer", minimum: 0 },
            before: { type: "string" },
          },
        },
      },
    },
  },
  Hash: {
    type: "string",
    description: "A SHA-256 hash, standard base64 with padding.",
    contentEncoding: "base64",
    pattern: "^[A-Za-z0-9+/]{43}=$",
  },
  Timestamp: { type: "string", format: "date-time", examples: ["2026-11-27T12:00:00.000Z"] },
  SignedNote: {
    type: "string",
    description: "A C2SP signed note holding a tlog-checkpoint: origin, tree size, base64 root hash, a blank line, signature lines.",
    pattern: "^[^\\n]+\\n(0|[1-9][0-9]*)\\n[A-Za-z0-9+/]{43}=\\n(?:[^\\n]+\\n)*\\n(?:\u2014 [^\\n]+\\n)+$",
  },
  JsonObject: { type: "object", description: "Free-form JSON (at most 16 levels deep)." },
  Actor: {
    type: "object",
    required: ["type", "id"],
    additionalProperties: false,
    properties: {
      type: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$", examples: ["user"] },
      id: { type: "string", minLength: 1, maxLength: 256, examples: ["u_42"] },
      name: { type: "string", minLength: 1, maxLength: 256 },
      email: { type: "string", minLength: 1, maxLength: 320, pattern: "^[^\\s@]+@[^\\s@]+$" },
    },
  },
  Target: {
    type: "object",
    required: ["type", "id"],
    additionalProperties: false,
    properties: {
      type: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$", examples: ["document"] },
      id: { type: "string", minLength: 1, maxLength: 256, examples: ["doc_9"] },
      name: { type: "string", minLength: 1, maxLength: 256 },
    },
  },
  EventContext: {
    type: "object",
    additionalProperties: false,
    properties: {
      ip: { type: "string", minLength: 1, maxLength: 64, description: "IPv4 or IPv6 address (zone ids allowed)." },
      userAgent: { type: "string", minLength: 1, maxLength: 1024 },
      requestId: { type: "string", minLength: 1, maxLength: 256 },
      sessionId: { type: "string", minLength: 1, maxLength: 256 },
      location: { type: "string", minLength: 1, maxLength: 256 },
    },
  },
  EventChanges: {
    type: "object",
    additionalProperties: false,
    properties: { before: schema("JsonObject"), after: schema("JsonObject") },
  },
  Outcome: { enum: ["success", "failure", "denied"] },
  EventId: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$", examples: ["01JD8X7Q6R2M4V5W6Y7Z8A9B0C"] },
  Action: { type: "string", maxLength: 128, pattern: "^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)+$", examples: ["document.shared"] },
  EventInput: {
    type: "object",
    description:
      "An event as an application sends it (DESIGN §3). The server validates every field and reports each problem by JSON pointer; the whole stored event encodes to at most 65,535 bytes.",
    required: ["action", "occurredAt", "actor"],
    additionalProperties: false,
    properties: {
      id: { ...(schema("EventId") as object), description: "Optional: set it to make retries idempotent. Default: a ULID." },
      action: schema("Action"),
      occurredAt: { type: "string", maxLength: 64, description: "RFC 3339 timestamp (the client's clock); stored normalized to UTC." },
      actor: schema("Actor"),
      targets: { type: "array", maxItems: 64, items: schema("Target") },
      outcome: { ...(schema("Outcome") as object), description: "Default: success." },
      context: schema("EventContext"),
      changes: schema("EventChanges"),
      metadata: schema("JsonObject"),
      version: { const: 1 },
    },
  },
  AuditEvent: {
    type: "object",
    description: "An event as stored: the leaf is the UTF-8 of its RFC 8785 canonical JSON.",
    required: ["id", "action", "occurredAt", "actor", "targets", "outcome", "receivedAt", "version"],
    additionalProperties: false,
    properties: {
      id: schema("EventId"),
      action: schema("Action"),
      occurredAt: schema("Timestamp"),
      actor: schema("Actor"),
      targets: { type: "array", maxItems: 64, items: schema("Target") },
      outcome: schema("Outcome"),
      context: schema("EventContext"),
      changes: schema("EventChanges"),
      metadata: schema("JsonObject"),
      receivedAt: schema("Timestamp"),
      version: { const: 1 },
    },
  },
  EventBatch: {
    type: "object",
    required: ["events"],
    additionalProperties: false,
    properties: { events: { type: "array", minItems: 1, maxItems: 1000, items: schema("EventInput") } },
  },
  AppendedEvent: {
    type: "object",
    required: ["id", "index", "created"],
    additionalProperties: false,
    properties: APPENDED_EVENT,
  },
  AppendResult: {
    oneOf: [
      {
        type: "object",
        description: "One event was sent.",
        required: ["id", "index", "created"],
        additionalProperties: false,
        properties: { ...APPENDED_EVENT, checkpoint: schema("SignedNote") },
      },
      {
        type: "object",
        description: "A batch was sent: one result per event, in order.",
        required: ["events"],
        additionalProperties: false,
        properties: { events: { type: "array", minItems: 1, items: schema("AppendedEvent") }, checkpoint: schema("SignedNote") },
      },
    ],
  },
  LogInfo: {
    type: "object",
    required: ["name", "origin", "verifierKey", "treeSize", "rootHash", "checkpoint", "checkpointCreatedAt", "integratedSize"],
    additionalProperties: false,
    properties: {
      name: schema("LogName"),
      origin: { type: "string", description: "`<origin prefix>/<log>`, the checkpoint origin and key name." },
      verifierKey: {
        type: "string",
        pattern: "^[^+\\s]+\\+[0-9a-f]{8}\\+[A-Za-z0-9+/]+=*$",
        description: "Go sumdb/note Ed25519 verifier key.",
      },
      treeSize: { type: "integer", minimum: 0, description: "Size of the latest signed checkpoint." },
      rootHash: schema("Hash"),
      checkpoint: { oneOf: [schema("SignedNote"), { type: "null" }] },
      checkpointCreatedAt: { oneOf: [schema("Timestamp"), { type: "null" }] },
      integratedSize: { type: "integer", minimum: 0, description: "Also counts committed events not yet covered by a checkpoint." },
    },
  },
  InclusionProof: {
    type: "object",
    required: ["index", "treeSize", "leafHash", "rootHash", "hashes"],
    additionalProperties: false,
    properties: {
      index: { type: "integer", minimum: 0 },
      treeSize: { type: "integer", minimum: 1 },
      leafHash: schema("Hash"),
      rootHash: schema("Hash"),
      hashes: { type: "array", items: schema("Hash"), description: "RFC 9162 §2.1.3 audit path, leaf to root." },
    },
  },
  ConsistencyProof: {
    type: "object",
    required: ["from", "to", "hashes"],
    additionalProperties: false,
    properties: {
      from: { type: "integer", minimum: 1 },
      to: { type: "integer", minimum: 1 },
      hashes: { type: "array", items: schema("Hash"), description: "RFC 9162 §2.1.4 consistency proof." },
    },
  },
  ServerInfo: {
    type: "object",
    required: ["originPrefix", "publicKey", "publicTree", "maxBatchEvents", "maxBodyBytes"],
    additionalProperties: false,
    properties: {
      originPrefix: { type: "string" },
      publicKey: {
        type: "string",
        pattern: BASE64,
        description: "base64(0x01 ‖ Ed25519 public key): the last part of every verifier key.",
      },
      publicTree: { type: "boolean" },
      maxBatchEvents: { type: "integer", minimum: 1 },
      maxBodyBytes: { type: "integer", minimum: 1 },
    },
  },
  LogList: {
    type: "object",
    required: ["logs"],
    additionalProperties: false,
    properties: { logs: { type: "array", items: schema("LogName") } },
  },
  Health: { type: "object", required: ["status"], additionalProperties: false, properties: { status: { const: "ok" } } },
  QueriedEvent: {
    type: "object",
    description: "An event, and where it sits: its log and index (its leaf's position in that log's tree).",
    required: ["log", "index", "event"],
    additionalProperties: false,
    properties: { log: schema("LogName"), index: { type: "integer", minimum: 0 }, event: schema("AuditEvent") },
  },
  EventPage: {
    type: "object",
    required: ["events", "nextCursor"],
    additionalProperties: false,
    properties: {
      events: { type: "array", maxItems: 1000, items: schema("QueriedEvent") },
      pruned: {
        type: "array",
        items: schema("PrunedRange"),
        description: "Present when retention pruned part of the log: those events can no longer match (docs/retention.md).",
      },
      nextCursor: {
        oneOf: [{ type: "string", pattern: "^[A-Za-z0-9_-]{1,512}$" }, { type: "null" }],
        description: "Pass as `cursor` (with the same q/filter, order and logs) for the next page; null when nothing more matches now.",
      },
    },
  },
  EventWithProof: {
    type: "object",
    required: ["log", "index", "event", "leaf", "leafHash", "inclusionProof", "checkpoint"],
    additionalProperties: false,
    properties: {
      log: schema("LogName"),
      index: { type: "integer", minimum: 0 },
      event: schema("AuditEvent"),
      leaf: {
        type: "string",
        contentEncoding: "base64",
        contentMediaType: "application/json",
        pattern: BASE64,
        description: "The stored leaf bytes; SHA-256(0x00 ‖ leaf) is `leafHash`. Verify these, never a re-serialization of `event`.",
      },
      leafHash: schema("Hash"),
      inclusionProof: {
        type: "object",
        required: ["treeSize", "rootHash", "hashes"],
        additionalProperties: false,
        properties: {
          treeSize: { type: "integer", minimum: 1 },
          rootHash: schema("Hash"),
          hashes: { type: "array", items: schema("Hash") },
        },
      },
      checkpoint: {
        ...(schema("SignedNote") as object),
        description: "The signed checkpoint the proof leads to (its root is `rootHash`).",
      },
    },
  },
  Stats: {
    type: "object",
    required: ["total"],
    additionalProperties: false,
    dependentRequired: { groupBy: ["groups"], groups: ["groupBy"] },
    properties: {
      total: { type: "integer", minimum: 0 },
      pruned: {
        type: "array",
        items: schema("PrunedRange"),
        description: "Present when retention pruned part of the log: those events are no longer counted.",
      },
      groupBy: { enum: ["action", "actor", "outcome", "hour", "day"] },
      groups: {
        type: "array",
        description:
          "action/actor/outcome: the `limit` largest groups, largest first (ties by key). hour/day: the newest `limit` buckets of occurredAt (UTC `YYYY-MM-DDTHH`, `YYYY-MM-DD`), oldest first.",
        items: {
          type: "object",
          required: ["key", "count"],
          additionalProperties: false,
          properties: { key: { type: "string" }, count: { type: "integer", minimum: 1 } },
        },
      },
    },
  },
  TailReady: {
    type: "object",
    required: ["log", "resumeAfter"],
    additionalProperties: false,
    properties: {
      log: schema("LogName"),
      resumeAfter: { type: "integer", minimum: -1, description: "The Last-Event-ID resumed after; -1 when starting live." },
    },
  },
  TargetMatch: {
    type: "object",
    minProperties: 1,
    additionalProperties: false,
    properties: { type: { type: "string" }, id: { type: "string" } },
  },
  MetadataMatch: {
    type: "object",
    required: ["key"],
    additionalProperties: false,
    properties: { key: { type: "string" }, value: { type: "string", description: 'Compared as text: "3", "true".' } },
  },
  QueryConditions: {
    type: "object",
    additionalProperties: false,
    properties: {
      actor: { type: "array", minItems: 1, maxItems: 100, items: { type: "string" } },
      actorType: { type: "array", minItems: 1, maxItems: 100, items: { type: "string" } },
      action: { type: "array", minItems: 1, maxItems: 100, items: { type: "string" } },
      actionPrefix: { type: "array", minItems: 1, maxItems: 100, items: { type: "string", pattern: "\\.$" } },
      target: { type: "array", minItems: 1, maxItems: 100, items: schema("TargetMatch") },
      outcome: { type: "array", minItems: 1, maxItems: 100, items: schema("Outcome") },
      ip: { type: "array", minItems: 1, maxItems: 100, items: { type: "string" } },
      requestId: { type: "array", minItems: 1, maxItems: 100, items: { type: "string" } },
      sessionId: { type: "array", minItems: 1, maxItems: 100, items: { type: "string" } },
      metadata: { type: "array", minItems: 1, maxItems: 100, items: schema("MetadataMatch") },
      text: { type: "array", minItems: 1, maxItems: 20, items: { type: "string" } },
    },
  },
  QueryFilter: {
    type: "object",
    description:
      "The structured filter (docs/query-language.md): fields AND, the values of one field OR, any condition under `not` excludes. Every `q` compiles to one of these.",
    additionalProperties: false,
    properties: {
      actor: true,
      actorType: true,
      action: true,
      actionPrefix: true,
      target: true,
      outcome: true,
      ip: true,
      requestId: true,
      sessionId: true,
      metadata: true,
      text: true,
      occurredAfter: { type: "string", description: "Inclusive: a date, a time to the minute with zone, or RFC 3339." },
      occurredBefore: { type: "string", description: "Exclusive." },
      receivedAfter: { type: "string" },
      receivedBefore: { type: "string" },
      not: schema("QueryConditions"),
    },
    allOf: [schema("QueryConditions")],
  },
  ApiKey: {
    type: "object",
    required: ["id", "scope", "logs", "label", "createdAt", "revokedAt"],
    additionalProperties: false,
    properties: {
      id: { type: "string", pattern: "^[a-z0-9]{12}$" },
      scope: { enum: ["ingest", "read", "admin"] },
      logs: { type: "array", items: schema("LogName"), description: "Empty: every log." },
      label: { type: "string", maxLength: 200 },
      createdAt: schema("Timestamp"),
      revokedAt: { oneOf: [schema("Timestamp"), { type: "null" }] },
    },
  },
  CreatedApiKey: {
    type: "object",
    required: ["id", "key", "scope", "logs", "label", "createdAt", "revokedAt"],
    additionalProperties: false,
    properties: {
      id: { type: "string", pattern: "^[a-z0-9]{12}$" },
      key: { type: "string", pattern: "^stk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$", description: "The secret: shown in this answer only." },
      scope: { enum: ["ingest", "read", "admin"] },
      logs: { type: "array", items: schema("LogName") },
      label: { type: "string", maxLength: 200 },
      createdAt: schema("Timestamp"),
      revokedAt: { type: "null" },
    },
  },
  ApiKeyRequest: {
    type: "object",
    required: ["scope"],
    additionalProperties: false,
    properties: {
      scope: { enum: ["ingest", "read", "admin"] },
      logs: {
        type: "array",
        maxItems: 100,
        uniqueItems: true,
        items: schema("LogName"),
        description: "Absent or empty: every log (required for admin).",
      },
      label: { type: "string", maxLength: 200 },
    },
  },
  KeyList: {
    type: "object",
    required: ["keys"],
    additionalProperties: false,
    properties: { keys: { type: "array", items: schema("ApiKey") } },
  },
  ViewerTarget: {
    type: "object",
    required: ["type"],
    additionalProperties: false,
    properties: {
      type: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$" },
      id: { type: "string", minLength: 1, maxLength: 256 },
    },
  },
  ViewerTokenRequest: {
    type: "object",
    required: ["log"],
    additionalProperties: false,
    properties: {
      log: schema("LogName"),
      actor: { type: "string", minLength: 1, maxLength: 256, description: "Only this actor's events." },
      target: schema("ViewerTarget"),
      ttlSeconds: { type: "integer", minimum: 1, maximum: 86400, default: 900 },
    },
  },
  ViewerToken: {
    type: "object",
    required: ["token", "id", "expiresAt", "log"],
    additionalProperties: false,
    properties: {
      token: { type: "string", pattern: "^stv_[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}$" },
      id: { type: "string", pattern: "^[A-Za-z0-9_-]{16}$" },
      expiresAt: schema("Timestamp"),
      log: schema("LogName"),
      actor: { type: "string" },
      target: schema("ViewerTarget"),
    },
  },
  EventCatalog: {
    type: "object",
    required: ["$schema", "oneOf", "$defs"],
    properties: {
      $schema: { const: "https://json-schema.org/draft/2020-12/schema" },
      oneOf: { type: "array", items: { type: "object" } },
      $defs: { type: "object", additionalProperties: { type: "object" } },
    },
  },
  OpenApi: {
    type: "object",
    required: ["openapi", "info", "paths", "components"],
    properties: {
      openapi: { type: "string", pattern: "^3\\.1\\.[0-9]+$" },
      info: { type: "object" },
      paths: { type: "object" },
      components: { type: "object" },
    },
  },
};

const parameters: Record<string, ParameterObject> = {
  log: {
    name: "log",
    in: "path",
    required: true,
    description:
      "Log name. On read routes a log that does not exist (or cannot) is 404 `log_not_found`, after the key's log list is checked.",
    schema: schema("LogName"),
    example: "acme",
  },
  tileLevel: {
    name: "level",
    in: "path",
    required: true,
    description: "Tile level L, 0 to 63 (C2SP tlog-tiles).",
    schema: { type: "string", pattern: "^(0|[1-9][0-9]?)$" },
    example: "0",
  },
  tileIndex: {
    name: "index",
    in: "path",
    required: true,
    description:
      "Tile index N in 3-digit groups, all but the last prefixed with `x` (1234067 → `x001/x234/067`). For N ≥ 1000 the value spans several path segments and is sent with its `/` unescaped (C2SP tlog-tiles).",
    schema: { type: "string", pattern: "^(x[0-9]{3}/)*[0-9]{3}$" },
    example: "000",
  },
  tileWidth: {
    name: "width",
    in: "path",
    required: true,
    description: "Width W of a partial tile, 1 to 255.",
    schema: { type: "string", pattern: "^[1-9][0-9]{0,2}$" },
    example: "1",
  },
  q: {
    name: "q",
    in: "query",
    description:
      'Query language (docs/query-language.md), e.g. `actor:u_42 action:document.* target:document/doc_9 outcome:denied after:2026-11-01 "free text"`. Not with `filter`. Absent or blank: every event.',
    schema: { type: "string", maxLength: 2000 },
    example: "action:document.* -outcome:success",
  },
  filter: {
    name: "filter",
    in: "query",
    description: "The same filter as JSON (the QueryFilter form). Not with `q`. Problems name their JSON pointer inside this value.",
    content: { "application/json": { schema: schema("QueryFilter") } },
    example: '{"action":["document.shared"]}',
  },
  order: {
    name: "order",
    in: "query",
    description: "desc (newest first, the default) or asc, by commit order.",
    schema: { enum: ["desc", "asc"], default: "desc" },
    example: "desc",
  },
  limit: {
    name: "limit",
    in: "query",
    description: "Events per page, 1 to 1000 (default 50).",
    schema: { type: "string", pattern: "^(0|[1-9][0-9]*)$", examples: ["50"] },
    example: "50",
  },
  cursor: {
    name: "cursor",
    in: "query",
    description:
      "`nextCursor` of the previous page. Opaque and bound to its query: reusing it with another q/filter, order or logs is 400 `invalid_cursor`. Pages continue from the last event's commit position, so events appended while paging never shift, repeat or skip results.",
    schema: { type: "string", pattern: "^[A-Za-z0-9_-]{1,512}$" },
  },
};

const responses: Record<string, ResponseObject> = {
  Unauthorized: {
    ...problem(401, "No credentials, or credentials that are malformed, unknown, revoked or expired.", [
      "missing_credentials",
      "invalid_credentials",
    ]),
    headers: { "WWW-Authenticate": { description: 'Always `Bearer realm="sealtrail"`.', schema: { const: 'Bearer realm="sealtrail"' } } },
  },
  Forbidden: problem(403, "The key's scope or log list (or the viewer token's log or restriction) does not allow this.", ["forbidden"]),
  ServerError: {
    description:
      "The server could not complete the request (details only in the server's log). 503 (`engine_closed`, `concurrent_writer`, `audit_unavailable`) carries `Retry-After` and is worth retrying.",
    content: { [PROBLEM]: { schema: { $ref: "#/components/schemas/Problem", properties: { status: { minimum: 500 } } } } },
  },
};

function operation(op: Omit<OperationObject, "responses"> & { responses: Record<string, ResponseObject | Reference> }): OperationObject {
  return { ...op, responses: { ...op.responses, "5XX": serverError } };
}

const logNotFound = problem(404, "No such log.", ["log_not_found"]);
const bodyProblems = {
  "400": problem(400, "The body is empty, not UTF-8 or not JSON.", ["invalid_json", "invalid_encoding"]),
  "413": problem(413, "The body is over the size limit.", ["payload_too_large"]),
  "415": problem(415, "The body was not sent as application/json.", ["unsupported_media_type"]),
} as const;

const tileResponses = (what: string, level: "hash" | "entries"): Record<string, ResponseObject | Reference> => ({
  "200": {
    description: what,
    headers: {
      "Cache-Control": {
        description: "A tile URL's content never changes: `public|private, max-age=31536000, immutable`.",
        schema: { type: "string", pattern: "^(public|private), max-age=31536000, immutable$" },
      },
      ...(level === "entries"
        ? { "Content-Encoding": { description: "gzip when the request accepts it.", schema: { const: "gzip" } } }
        : {}),
    },
    content: { "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } } },
  },
  ...AUTH_FAILURES,
  "404": problem(404, "Not a canonical tile path, no such log, or beyond the latest signed checkpoint.", [
    "route_not_found",
    "log_not_found",
    "beyond_tree",
  ]),
  ...(level === "entries"
    ? {
        "410": problem(410, "Retention pruned entries of this bundle; the hash tiles still cover them (docs/retention.md).", [
          "entries_pruned",
        ]),
      }
    : {}),
});

const hashTile = (partial: boolean): OperationObject =>
  operation({
    operationId: partial ? "getPartialHashTile" : "getHashTile",
    summary: partial ? "A partial hash tile (W hashes)" : "A full hash tile (256 hashes)",
    tags: ["verification"],
    security: TREE_READER,
    parameters: [parameter("log"), parameter("tileLevel"), parameter("tileIndex"), ...(partial ? [parameter("tileWidth")] : [])],
    responses: tileResponses(partial ? "W × 32 bytes: a fixed prefix of the full tile." : "256 × 32 bytes of hashes.", "hash"),
  });

const entryBundle = (partial: boolean): OperationObject =>
  operation({
    operationId: partial ? "getPartialEntryBundle" : "getEntryBundle",
    summary: partial ? "A partial entry bundle (W entries)" : "A full entry bundle (256 entries)",
    description:
      "Each entry as a big-endian uint16 length followed by the leaf bytes. Holds every event of the range unfiltered, so restricted viewer tokens get 403; never public.",
    tags: ["verification"],
    security: READER,
    parameters: [parameter("log"), parameter("tileIndex"), ...(partial ? [parameter("tileWidth")] : [])],
    responses: tileResponses("The entry bundle.", "entries"),
  });

const paths: Record<string, PathItemObject> = {
  "/healthz": {
    get: operation({
      operationId: "getHealth",
      summary: "Liveness",
      tags: ["server"],
      security: PUBLIC,
      responses: { "200": json("The server answers.", schema("Health")) },
    }),
  },
  "/openapi.json": {
    get: operation({
      operationId: "getOpenApi",
      summary: "This document",
      tags: ["server"],
      security: PUBLIC,
      responses: { "200": json("The OpenAPI 3.1 description of this API.", schema("OpenApi")) },
    }),
  },
  "/v1/server": {
    get: operation({
      operationId: "getServer",
      summary: "Server facts: origin prefix, public key, limits",
      tags: ["server"],
      security: PUBLIC,
      responses: { "200": json("Server facts.", schema("ServerInfo")) },
    }),
  },
  "/v1/schemas": {
    get: operation({
      operationId: "getEventSchemas",
      summary: "The event catalog as one JSON Schema",
      description:
        "The catalog the server was started with (`sealtrail serve --catalog`): a JSON Schema (draft 2020-12) that an event's `action` and `metadata` satisfy, one `$defs` entry per catalogued action. Public like this document: it describes event shapes, never events.",
      tags: ["server"],
      security: PUBLIC,
      responses: {
        "200": { description: "The catalog.", content: { "application/schema+json": { schema: schema("EventCatalog") } } },
        "404": problem(404, "The server was started without a catalog.", ["no_catalog"]),
      },
    }),
  },
  "/logs/{log}/checkpoint": {
    get: operation({
      operationId: "getCheckpoint",
      summary: "The latest signed checkpoint (C2SP tlog-checkpoint)",
      tags: ["verification"],
      security: TREE_READER,
      parameters: [parameter("log")],
      responses: {
        "200": {
          description: "A C2SP signed note; `Cache-Control: …, no-cache`.",
          content: { "text/plain": { schema: schema("SignedNote") } },
        },
        ...AUTH_FAILURES,
        "404": problem(404, "No such log, or its first checkpoint is not signed yet (retry within a second).", [
          "log_not_found",
          "no_checkpoint",
        ]),
      },
    }),
  },
  "/logs/{log}/tile/{level}/{index}": { get: hashTile(false) },
  "/logs/{log}/tile/{level}/{index}.p/{width}": { get: hashTile(true) },
  "/logs/{log}/tile/entries/{index}": { get: entryBundle(false) },
  "/logs/{log}/tile/entries/{index}.p/{width}": { get: entryBundle(true) },
  "/v1/logs": {
    get: operation({
      operationId: "listLogs",
      summary: "Every log's name (admin)",
      tags: ["logs"],
      security: ADMIN_KEY,
      responses: { "200": json("Log names.", schema("LogList")), ...AUTH_FAILURES },
    }),
  },
  "/v1/logs/{log}": {
    get: operation({
      operationId: "getLog",
      summary: "A log's origin, verifier key and latest checkpoint",
      tags: ["verification"],
      security: TREE_READER,
      parameters: [parameter("log")],
      responses: { "200": json("The log.", schema("LogInfo")), ...AUTH_FAILURES, "404": logNotFound },
    }),
  },
  "/v1/logs/{log}/proofs/inclusion": {
    get: operation({
      operationId: "proveInclusion",
      summary: "RFC 9162 inclusion proof of entry `index` in the tree of `treeSize`",
      tags: ["verification"],
      security: TREE_READER,
      parameters: [
        parameter("log"),
        {
          name: "index",
          in: "query",
          required: true,
          description: "Entry index.",
          schema: { type: "string", pattern: "^(0|[1-9][0-9]*)$" },
          example: "0",
        },
        {
          name: "treeSize",
          in: "query",
          description: "Default: the latest checkpoint's size.",
          schema: { type: "string", pattern: "^(0|[1-9][0-9]*)$" },
        },
      ],
      responses: {
        "200": json("The audit path.", schema("InclusionProof")),
        "400": problem(400, "index missing, not an integer, or not less than treeSize.", ["invalid_parameter", "invalid_proof_request"]),
        ...AUTH_FAILURES,
        "404": problem(404, "No such log, or treeSize is beyond the latest checkpoint.", ["log_not_found", "beyond_tree"]),
      },
    }),
  },
  "/v1/logs/{log}/proofs/consistency": {
    get: operation({
      operationId: "proveConsistency",
      summary: "RFC 9162 consistency proof between tree sizes `from` and `to`",
      tags: ["verification"],
      security: TREE_READER,
      parameters: [
        parameter("log"),
        {
          name: "from",
          in: "query",
          required: true,
          description: "1 ≤ from ≤ to.",
          schema: { type: "string", pattern: "^(0|[1-9][0-9]*)$" },
          example: "1",
        },
        {
          name: "to",
          in: "query",
          description: "Default: the latest checkpoint's size.",
          schema: { type: "string", pattern: "^(0|[1-9][0-9]*)$" },
        },
      ],
      responses: {
        "200": json("The proof.", schema("ConsistencyProof")),
        "400": problem(400, "from missing, not an integer, less than 1 or more than to.", ["invalid_parameter", "invalid_proof_request"]),
        ...AUTH_FAILURES,
        "404": problem(404, "No such log, or `to` is beyond the latest checkpoint.", ["log_not_found", "beyond_tree"]),
      },
    }),
  },
  "/v1/logs/{log}/events": {
    post: operation({
      operationId: "appendEvents",
      summary: "Append one event or a batch (answered once durable)",
      description:
        "The log is created on first write. A batch is all or nothing. An event whose id is already stored with the same content is an idempotent retry (`created: false`).",
      tags: ["ingest"],
      security: ANY_KEY,
      parameters: [
        { ...(parameters.log as ParameterObject), description: "Log name; created on first write." },
        {
          name: "wait",
          in: "query",
          description: "`checkpoint`: also wait for the signed checkpoint covering the events (≤ 1 s) and return inclusion proofs.",
          schema: { const: "checkpoint" },
        },
      ],
      requestBody: {
        required: true,
        content: { "application/json": { schema: { oneOf: [schema("EventInput"), schema("EventBatch")] } } },
      },
      responses: {
        "200": json("Every event was already stored (idempotent retries).", schema("AppendResult")),
        "201": json("At least one event was stored.", schema("AppendResult")),
        "400": problem(400, "The body is empty, not UTF-8 or not JSON, or `wait` is not `checkpoint`.", [
          "invalid_json",
          "invalid_encoding",
          "invalid_parameter",
        ]),
        ...AUTH_FAILURES,
        "409": problem(409, "An event id is already stored with different content.", ["id_conflict"]),
        "413": problem(413, "The body, an event or the batch is too large.", ["payload_too_large", "event_too_large", "batch_too_large"]),
        "415": bodyProblems["415"],
        "422": problem(
          422,
          "Invalid events (each problem by JSON pointer), an action the server's strict catalog does not list, or log name.",
          ["invalid_event", "unknown_action", "invalid_log_name", "non_canonical_json"],
        ),
      },
    }),
    get: operation({
      operationId: "queryEvents",
      summary: "Search a log's events, newest first, a page at a time",
      description:
        "Viewer tokens restricted to an actor or target see only those events. Follow `nextCursor` to page; the cursor holds a commit position, so pages stay exact while events are appended.",
      tags: ["queries"],
      security: READER,
      parameters: [parameter("log"), parameter("q"), parameter("filter"), parameter("order"), parameter("limit"), parameter("cursor")],
      responses: {
        "200": json("A page of matching events.", schema("EventPage")),
        "400": problem(400, "A query parameter is invalid (each problem by parameter, or by pointer into `filter`).", PAGE_PARAMETER_CODES),
        ...AUTH_FAILURES,
        "404": logNotFound,
        "422": INVALID_FILTER,
      },
    }),
  },
  "/v1/logs/{log}/events/{id}": {
    get: operation({
      operationId: "getEvent",
      summary: "One event, its leaf bytes and an inclusion proof to a signed checkpoint",
      description: "Waits (≤ the checkpoint interval) for a checkpoint covering an event committed a moment ago.",
      tags: ["queries"],
      security: READER,
      parameters: [
        parameter("log"),
        {
          name: "id",
          in: "path",
          required: true,
          description: "The event id.",
          schema: { type: "string", minLength: 1 },
          example: "01JD8X7Q6R2M4V5W6Y7Z8A9B0C",
        },
      ],
      responses: {
        "200": json("The event with its proof.", schema("EventWithProof")),
        ...AUTH_FAILURES,
        "404": problem(404, "No such log, or no event with that id in it (or none the viewer token may see).", [
          "log_not_found",
          "event_not_found",
        ]),
      },
    }),
  },
  "/v1/logs/{log}/stats": {
    get: operation({
      operationId: "getStats",
      summary: "Count matching events, optionally grouped",
      tags: ["queries"],
      security: READER,
      parameters: [
        parameter("log"),
        parameter("q"),
        parameter("filter"),
        {
          name: "groupBy",
          in: "query",
          description: "action, actor (id), outcome, hour or day (of occurredAt, UTC).",
          schema: { enum: ["action", "actor", "outcome", "hour", "day"] },
          example: "action",
        },
        {
          name: "limit",
          in: "query",
          description: "Groups to return, 1 to 1000 (default 20).",
          schema: { type: "string", pattern: "^(0|[1-9][0-9]*)$" },
        },
      ],
      responses: {
        "200": json("The count (and groups).", schema("Stats")),
        "400": problem(400, "A query parameter is invalid.", QUERY_PARAMETER_CODES),
        ...AUTH_FAILURES,
        "404": logNotFound,
        "422": INVALID_FILTER,
      },
    }),
  },
  "/v1/logs/{log}/evidence": {
    get: operation({
      operationId: "getEvidenceBundle",
      summary: "An evidence bundle: matching events with inclusion proofs, verifiable offline",
      description:
        "A zip (stored, uncompressed) holding summary.txt, manifest.json, the signed checkpoint, the verifier key, each matching event's exact leaf bytes (events/<index>.json) and its C2SP tlog-proof (proofs/<index>.tlog-proof). Waits for the checkpoint covering every committed event (at most one checkpoint interval). At most 10,000 events; verify with `sealtrail verify evidence.zip` or core's `verifyEvidenceBundle`. Recorded in the system log as `evidence.exported`.",
      tags: ["queries"],
      security: READER,
      parameters: [parameter("log"), parameter("q"), parameter("filter")],
      responses: {
        "200": {
          description: "The evidence bundle.",
          headers: {
            "Content-Disposition": {
              description: 'attachment; filename="evidence-<log>-<treeSize>.zip"',
              schema: { type: "string", pattern: "^attachment; filename=" },
            },
          },
          content: { "application/zip": { schema: { type: "string", contentMediaType: "application/zip" } } },
        },
        "400": problem(400, "A query parameter is invalid.", QUERY_PARAMETER_CODES),
        ...AUTH_FAILURES,
        "404": problem(404, "No such log, or it has no signed checkpoint yet.", ["log_not_found", "no_checkpoint"]),
        "422": problem(422, "`filter` is invalid, or more than 10,000 events match (narrow the query).", [
          "invalid_filter",
          "too_many_events",
        ]),
      },
    }),
  },
  "/v1/logs/{log}/export": {
    get: operation({
      operationId: "exportEvents",
      summary: "Every matching event as CSV or JSON Lines, oldest first (streamed)",
      description:
        "For spreadsheets and SIEMs. CSV is RFC 4180 with CRLF line ends and a header row; cells a spreadsheet would run as formulas (starting with =, +, -, @, tab or CR) get a leading apostrophe. JSON Lines: one `{ log, index, event }` per line.",
      tags: ["queries"],
      security: READER,
      parameters: [
        parameter("log"),
        parameter("q"),
        parameter("filter"),
        { name: "format", in: "query", description: "csv or jsonl (default jsonl).", schema: { enum: ["csv", "jsonl"] } },
      ],
      responses: {
        "200": {
          description: "The events.",
          content: {
            "text/csv": { schema: { type: "string" } },
            "application/jsonl": { schema: { type: "string" } },
          },
        },
        "400": problem(400, "A query parameter is invalid.", QUERY_PARAMETER_CODES),
        ...AUTH_FAILURES,
        "404": logNotFound,
        "422": INVALID_FILTER,
      },
    }),
  },
  "/v1/events": {
    get: operation({
      operationId: "queryAllEvents",
      summary: "Search across logs (admin)",
      description: "Like GET /v1/logs/{log}/events over several logs, newest first by commit across all of them.",
      tags: ["queries"],
      security: ADMIN_KEY,
      parameters: [
        {
          name: "logs",
          in: "query",
          description: "Comma-separated log names to search; absent: every log.",
          schema: { type: "string" },
          example: "acme,globex",
        },
        parameter("q"),
        parameter("filter"),
        parameter("order"),
        parameter("limit"),
        parameter("cursor"),
      ],
      responses: {
        "200": json("A page of matching events.", schema("EventPage")),
        "400": problem(400, "A query parameter is invalid.", PAGE_PARAMETER_CODES),
        ...AUTH_FAILURES,
        "404": problem(404, "A log named in `logs` does not exist.", ["log_not_found"]),
        "422": INVALID_FILTER,
      },
    }),
  },
  "/v1/logs/{log}/tail": {
    get: operation({
      operationId: "tailEvents",
      summary: "Live tail: matching events as server-sent events",
      description:
        "First an `event: ready` (data TailReady), then each matching event committed from now on as `event: audit-event` with `id:` its index and data a QueriedEvent. A comment line `: keep-alive` is sent after 15 s of silence. Reconnect with `Last-Event-ID` (EventSource does) to resume after that index with no loss and no duplicate.",
      tags: ["queries"],
      security: READER,
      parameters: [
        parameter("log"),
        parameter("q"),
        parameter("filter"),
        {
          name: "Last-Event-ID",
          in: "header",
          description: "Resume after this index: matching events after it are sent first, then live ones.",
          schema: { type: "string", pattern: "^(0|[1-9][0-9]{0,15})$" },
        },
        {
          name: "lastEventId",
          in: "query",
          description: "The same as Last-Event-ID, for clients that cannot set headers (the header wins).",
          schema: { type: "string", pattern: "^(0|[1-9][0-9]{0,15})$" },
        },
      ],
      responses: {
        "200": {
          description: "A text/event-stream that stays open.",
          content: {
            "text/event-stream": {
              schema: { type: "string" },
              "x-sse-events": {
                ready: schema("TailReady"),
                "audit-event": schema("QueriedEvent"),
                // Sent once, then the stream ends, when the key is revoked or the viewer token expires.
                error: {
                  type: "object",
                  required: ["code", "detail"],
                  additionalProperties: false,
                  properties: { code: { type: "string" }, detail: { type: "string" } },
                },
              },
            },
          },
        },
        "400": problem(400, "A query parameter or Last-Event-ID is invalid.", QUERY_PARAMETER_CODES),
        ...AUTH_FAILURES,
        "404": logNotFound,
        "422": INVALID_FILTER,
      },
    }),
  },
  "/v1/keys": {
    post: operation({
      operationId: "createKey",
      summary: "Create an API key (admin); its secret is shown once",
      tags: ["keys"],
      security: ADMIN_KEY,
      requestBody: { required: true, content: { "application/json": { schema: schema("ApiKeyRequest") } } },
      responses: {
        "201": json("The key, with its secret `key`.", schema("CreatedApiKey"), NO_STORE_HEADER),
        ...bodyProblems,
        ...AUTH_FAILURES,
        "422": problem(422, "The request is invalid (each problem by JSON pointer).", ["invalid_key_request"]),
      },
    }),
    get: operation({
      operationId: "listKeys",
      summary: "Every API key, without secrets (admin)",
      tags: ["keys"],
      security: ADMIN_KEY,
      responses: { "200": json("The keys.", schema("KeyList"), NO_STORE_HEADER), ...AUTH_FAILURES },
    }),
  },
  "/v1/keys/{id}": {
    delete: operation({
      operationId: "revokeKey",
      summary: "Revoke an API key and every viewer token it issued (admin); idempotent",
      tags: ["keys"],
      security: ADMIN_KEY,
      parameters: [
        { name: "id", in: "path", required: true, description: "The key id.", schema: { type: "string" }, example: "abcdefghijkl" },
      ],
      responses: {
        "204": { description: "Revoked (or already revoked)." },
        ...AUTH_FAILURES,
        "404": problem(404, "No API key has that id.", ["key_not_found"]),
        "422": problem(422, "The environment admin key, or the last admin key, cannot be revoked.", [
          "key_not_revocable",
          "last_admin_key",
        ]),
      },
    }),
  },
  "/v1/erasures": {
    post: operation({
      operationId: "eraseSubject",
      summary: "Erase a data subject: destroy their data keys (admin); their personal fields then read as [erased]",
      tags: ["compliance"],
      security: ADMIN_KEY,
      requestBody: { required: true, content: { "application/json": { schema: schema("ErasureRequest") } } },
      responses: {
        "200": json("Erased (recorded in sealtrail-system first).", schema("Erasure")),
        ...AUTH_FAILURES,
        "422": problem(422, "The request is invalid (each problem by JSON pointer).", ["invalid_erasure_request"]),
        "501": problem(501, "This server does not encrypt personal data.", ["personal_data_unsupported"]),
      },
    }),
  },
  "/v1/logs/{log}/retention": {
    get: operation({
      operationId: "getRetention",
      summary: "A log's retention period, pruned ranges and active legal holds (admin)",
      tags: ["compliance"],
      security: ADMIN_KEY,
      parameters: [parameter("log")],
      responses: { "200": json("The log's retention state.", schema("Retention")), ...AUTH_FAILURES, "404": logNotFound },
    }),
    put: operation({
      operationId: "setRetention",
      summary: "Set (days) or clear (null) a log's retention period (admin)",
      tags: ["compliance"],
      security: ADMIN_KEY,
      parameters: [parameter("log")],
      requestBody: { required: true, content: { "application/json": { schema: schema("RetentionRequest") } } },
      responses: {
        "200": json("The period now in force.", schema("Retention")),
        ...AUTH_FAILURES,
        "422": problem(422, "`days` is not a positive number of days or null.", ["invalid_retention_request"]),
      },
    }),
  },
  "/v1/legal-holds": {
    get: operation({
      operationId: "listLegalHolds",
      summary: "Every legal hold, released ones included (admin)",
      tags: ["compliance"],
      security: ADMIN_KEY,
      responses: {
        "200": json("The holds.", {
          type: "object",
          required: ["holds"],
          properties: { holds: { type: "array", items: schema("LegalHold") } },
        }),
        ...AUTH_FAILURES,
      },
    }),
    post: operation({
      operationId: "placeLegalHold",
      summary: "Place a legal hold on a log or on the events a query matches (admin); pruning skips them",
      tags: ["compliance"],
      security: ADMIN_KEY,
      requestBody: { required: true, content: { "application/json": { schema: schema("LegalHoldRequest") } } },
      responses: {
        "201": json("The hold (recorded in sealtrail-system first).", schema("LegalHold")),
        ...AUTH_FAILURES,
        "422": problem(422, "The request is invalid (each problem by JSON pointer).", ["invalid_hold_request"]),
      },
    }),
  },
  "/v1/legal-holds/{id}": {
    delete: operation({
      operationId: "releaseLegalHold",
      summary: "Release a legal hold (admin); it stays listed with its release time",
      tags: ["compliance"],
      security: ADMIN_KEY,
      parameters: [
        { name: "id", in: "path", required: true, description: "The hold id.", schema: { type: "string" }, example: "hold_abc" },
      ],
      responses: {
        "204": { description: "Released." },
        ...AUTH_FAILURES,
        "404": problem(404, "No active hold has that id.", ["hold_not_found"]),
      },
    }),
  },
  "/v1/prunes": {
    post: operation({
      operationId: "runPrune",
      summary: "Prune now: event bodies older than each log's retention period go, hashes and checkpoints stay (admin)",
      tags: ["compliance"],
      security: ADMIN_KEY,
      requestBody: { required: true, content: { "application/json": { schema: schema("PruneRequest") } } },
      responses: {
        "200": json("What each log lost, and what legal holds kept.", schema("PruneResults")),
        ...AUTH_FAILURES,
        "404": logNotFound,
        "422": problem(422, "The request is invalid (each problem by JSON pointer).", ["invalid_prune_request"]),
      },
    }),
  },
  "/v1/viewer-tokens": {
    post: operation({
      operationId: "issueViewerToken",
      summary: "Issue a short-lived viewer token for one log (admin, or a read key for that log)",
      tags: ["keys"],
      security: ANY_KEY,
      requestBody: { required: true, content: { "application/json": { schema: schema("ViewerTokenRequest") } } },
      responses: {
        "201": json("The token.", schema("ViewerToken"), NO_STORE_HEADER),
        ...bodyProblems,
        ...AUTH_FAILURES,
        "422": problem(422, "The request is invalid (each problem by JSON pointer).", ["invalid_token_request"]),
      },
    }),
  },
};

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export const OPENAPI: OpenApiDocument = deepFreeze({
  openapi: "3.1.1",
  jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
  info: {
    title: "Sealtrail",
    version: "0.1.0",
    summary: "An immutable, verifiable audit log.",
    description:
      "Ingest, query, proofs, C2SP tiles and checkpoints, live tail, keys. Errors are RFC 9457 problem+json with a stable `code` (docs/errors.md). See docs/http-api.md.",
    license: { name: "Apache-2.0", identifier: "Apache-2.0" },
  },
  tags: [
    { name: "server", description: "Facts about the server, no key needed." },
    { name: "ingest", description: "Appending events." },
    { name: "queries", description: "Searching, counting and tailing events (DESIGN §6)." },
    { name: "verification", description: "Checkpoints, tiles, entry bundles and proofs (DESIGN §4, C2SP tlog-tiles)." },
    { name: "logs", description: "Log administration." },
    { name: "keys", description: "API keys and viewer tokens." },
    { name: "compliance", description: "Erasure (crypto-shredding), retention periods, legal holds and pruning (DESIGN §7)." },
  ],
  paths,
  components: {
    schemas,
    parameters,
    responses,
    securitySchemes: {
      apiKey: {
        type: "http",
        scheme: "bearer",
        bearerFormat: "stk_<id>_<secret>",
        description: "An API key of scope ingest, read or admin, possibly limited to some logs.",
      },
      viewerToken: {
        type: "http",
        scheme: "bearer",
        bearerFormat: "stv_<claims>.<mac>",
        description: "A short-lived viewer token: reads one log, possibly only one actor's or target's events.",
      },
      viewerTokenQuery: {
        type: "apiKey",
        in: "query",
        name: "token",
        description: "A viewer token as ?token=, on GET only (for EventSource and iframes). API keys are never accepted in the URL.",
      },
    },
  },
});
