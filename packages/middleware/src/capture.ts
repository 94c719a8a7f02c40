import { type Actor, type EventContext, type EventInput, type Outcome, sha256, toHex, utf8 } from "@sealtrail/core";
import { clientIp, compileTrust, type TrustProxy } from "./client-ip.js";
import { ANONYMOUS_ACTOR, type AuditRequestContext } from "./context.js";

/**
 * Anything with `record(event)`: an AuditLog from `sealtrail`, or a client from `@sealtrail/client`.
 * It receives a complete `EventInput`. The parameter is typed `never` on purpose: an AuditLog with
 * a strict typed catalog cannot show at compile time that it lists the automatic action; its
 * catalog still validates the event at run time.
 */
export interface AuditRecorder {
  record(event: never): Promise<unknown>;
}

/** A finished mutating request, as automatic recording sees it. */
export interface FinishedRequest {
  readonly method: string;
  /** The route pattern (`/documents/:id`), or the path when the framework matched no route. */
  readonly route: string;
  readonly status: number;
}

export interface RecordRequestsOptions {
  readonly audit: AuditRecorder;
  /** Which finished requests to record; default: every POST, PUT, PATCH and DELETE. */
  readonly filter?: (request: FinishedRequest) => boolean;
  /** The action of these events (default `http.request`). */
  readonly action?: string;
  /** Where a failed automatic record is reported (default: one line on stderr, no payload). */
  readonly onError?: (error: unknown) => void;
}

export interface AuditMiddlewareOptions<Req> {
  /** Who is acting. Called at most once per request, when the first event is recorded. */
  readonly actor?: (request: Req) => Actor | undefined | Promise<Actor | undefined>;
  /** Whose X-Forwarded-For to believe (see `TrustProxy`); default nobody's. */
  readonly trustProxy?: TrustProxy;
  /** Header carrying an incoming request id (default `x-request-id`); a missing or malformed one is generated. */
  readonly requestIdHeader?: string;
  /** The session id. Never return the session secret itself: it would be a credential in the log. */
  readonly sessionId?: (request: Req) => string | undefined;
  /** Or: a session cookie whose SHA-256 (first 32 hex digits) is recorded, which correlates a session without storing the token. */
  readonly sessionCookie?: string;
  /** Record every mutating request as an event of its own (method, route, status). */
  readonly recordRequests?: RecordRequestsOptions;
}

/** What an adapter tells the capture about a request, in framework-neutral terms. */
export interface RequestFacts {
  /** The socket peer's address. */
  readonly peer: string | undefined;
  header(name: string): string | undefined;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export interface RequestCapture<Req> {
  /** The context of a new request; `requestId` is the id to echo in the response. */
  begin(request: Req, facts: RequestFacts): AuditRequestContext & { readonly requestId: string; readonly startedAt: number };
  /** Records the request if automatic recording is on and the filter takes it. */
  finish(context: AuditRequestContext & { readonly startedAt: number }, request: FinishedRequest): void;
  readonly requestIdHeader: string;
}

/** The framework-neutral half of every adapter: options compiled once, then one context per request. */
export function createRequestCapture<Req>(options: AuditMiddlewareOptions<Req> = {}): RequestCapture<Req> {
  const trusted = compileTrust(options.trustProxy);
  const requestIdHeader = (options.requestIdHeader ?? "x-request-id").toLowerCase();
  const auto = options.recordRequests;
  const filter = auto?.filter ?? ((r: FinishedRequest) => MUTATING.has(r.method));
  const onError =
    auto?.onError ??
    ((error: unknown) => process.stderr.write(`sealtrail: automatic request record failed: ${(error as Error).message}\n`));

  return {
    requestIdHeader,
    begin(request, facts) {
      const incoming = facts.header(requestIdHeader);
      const requestId = incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
      const fields: EventContext = { requestId };
      const ip = clientIp(facts.peer, facts.header("x-forwarded-for"), trusted);
      if (ip !== undefined) fields.ip = ip;
      const userAgent = facts.header("user-agent");
      if (userAgent) fields.userAgent = userAgent.slice(0, 1024);
      const sessionId = options.sessionId?.(request) ?? sessionFromCookie(facts.header("cookie"), options.sessionCookie);
      if (sessionId) fields.sessionId = sessionId;
      let actor: Promise<Actor> | undefined;
      return {
        fields: Object.freeze(fields),
        requestId,
        startedAt: Date.now(),
        actor: () => {
          actor ??= Promise.resolve(options.actor?.(request)).then((a) => a ?? ANONYMOUS_ACTOR);
          return actor;
        },
      };
    },
    finish(context, finished) {
      if (!auto || !filter(finished)) return;
      void context
        .actor()
        .then((actor) => {
          const event: EventInput = {
            action: auto.action ?? "http.request",
            occurredAt: new Date(context.startedAt).toISOString(),
            actor,
            targets: [{ type: "http.route", id: `${finished.method} ${finished.route}`.slice(0, 256) }],
            outcome: outcomeOf(finished.status),
            context: { ...context.fields },
            metadata: { method: finished.method, route: finished.route, status: finished.status },
          };
          return auto.audit.record(event as never);
        })
        .catch(onError);
    },
  };
}

/** 401 and 403 are refusals; any other status from 400 up is a failure. */
export function outcomeOf(status: number): Outcome {
  if (status === 401 || status === 403) return "denied";
  return status >= 400 ? "failure" : "success";
}

function sessionFromCookie(header: string | undefined, name: string | undefined): string | undefined {
  if (!header || !name) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return value ? toHex(sha256(utf8(value))).slice(0, 32) : undefined;
    }
  }
  return undefined;
}

/** Node's header value as one string (repeated headers joined as HTTP folds them, RFC 9110 §5.3). */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}
