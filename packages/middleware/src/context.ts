import { AsyncLocalStorage } from "node:async_hooks";
import type { Actor, EventContext } from "@sealtrail/core";

/** What a request knows about who is acting and from where, captured once by the middleware. */
export interface AuditRequestContext {
  /** ip, userAgent, requestId, sessionId, as `EventContext` stores them. */
  readonly fields: EventContext;
  /**
   * The acting user, resolved when an event is recorded rather than when the request arrives:
   * authentication usually runs after this middleware, so `req.user` is only set by then.
   */
  actor(): Promise<Actor>;
}

/** The actor of a request whose resolver found no user. */
export const ANONYMOUS_ACTOR: Actor = Object.freeze({ type: "anonymous", id: "anonymous" });

// One store per process even if two copies of this module are loaded (a bundled app next to
// node_modules, or src next to dist): both halves must see the same request context.
const KEY = Symbol.for("sealtrail.audit-request-context");
const holder = globalThis as { [KEY]?: AsyncLocalStorage<AuditRequestContext> };
holder[KEY] ??= new AsyncLocalStorage<AuditRequestContext>();
const storage: AsyncLocalStorage<AuditRequestContext> = holder[KEY];

/** Runs `fn` (and everything it awaits) with `context` as the current request's audit context. */
export function runWithAuditContext<T>(context: AuditRequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The audit context of the request being handled, if any. */
export function currentAuditContext(): AuditRequestContext | undefined {
  return storage.getStore();
}
