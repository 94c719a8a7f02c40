import { type AuditEvent, InputError, LOG_NAME_PATTERN, NotFoundError } from "@sealtrail/core";
import type { LogEngine } from "@sealtrail/engine";
import type { Context, Hono } from "hono";
import { type Authenticator, authorize, type Operation, type Principal } from "./keys.js";
import type { PublishedCatalog } from "./routes/schemas.js";
import { SystemLog } from "./system-log.js";

export type Env = { Variables: { principal?: Principal } };
export type App = Hono<Env>;

/** What every route module gets from `createApp`: the engine, the limits and the access checks. */
export interface RouteContext {
  readonly engine: LogEngine;
  readonly auth: Authenticator;
  readonly publicTree: boolean;
  readonly maxBody: number;
  readonly maxBatch: number;
  readonly systemLog: SystemLog;
  /** Decrypts an event's personal values for the reader (`[erased]` once erased); identity without crypto-shredding. */
  reveal<T extends AuditEvent>(event: T): Promise<T>;
  /** The event catalog (`serve --catalog`): published at /v1/schemas and enforced on ingest. */
  readonly catalog?: PublishedCatalog;
  /** Authenticates (unless the operation is public) and checks scope and log; returns who asked. */
  allow(c: Context<Env>, operation: Operation, log?: string): Promise<Principal | undefined>;
  /** Log names in GET paths: a name that cannot exist, or a log that does not, is not found. */
  existingLog(log: string): Promise<string>;
  /** Records a read made with a viewer token in the system log (set when viewer tokens are on). */
  onViewerRead?(c: Context<Env>, details: { route: string; log: string }): Promise<void>;
}

export function createRouteContext(options: {
  engine: LogEngine;
  auth: Authenticator;
  publicTree: boolean;
  maxBody: number;
  maxBatch: number;
  reveal?: <T extends AuditEvent>(event: T) => Promise<T>;
  catalog?: PublishedCatalog;
}): RouteContext {
  const { engine, auth, publicTree } = options;
  const systemLog = new SystemLog({ engine });
  return {
    ...options,
    systemLog,
    reveal: options.reveal ?? (async (event) => event),
    onViewerRead: (c, details) => systemLog.recordViewerRead(c, details),
    async allow(c, operation, log) {
      if (operation === "read-tree" && publicTree) return undefined;
      const principal = await auth.authenticateRequest(c.req.raw);
      authorize(principal, operation, log);
      c.set("principal", principal);
      return principal;
    },
    async existingLog(log) {
      if (!LOG_NAME_PATTERN.test(log) || !(await engine.hasLog(log))) {
        throw new NotFoundError("log_not_found", `log ${log} does not exist`);
      }
      return log;
    },
  };
}

export function integerParam(c: Context<Env>, name: string, required: boolean): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") {
    if (!required) return undefined;
    throw new InputError("invalid_parameter", `query parameter ${name} is required`, {
      problems: [{ parameter: name, detail: "is required" }],
    });
  }
  if (!/^(0|[1-9][0-9]{0,15})$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new InputError("invalid_parameter", `query parameter ${name} must be a non-negative integer`, {
      problems: [{ parameter: name, detail: "must be a non-negative decimal integer" }],
    });
  }
  return Number(raw);
}
