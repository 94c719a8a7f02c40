import { type Actor, type EventContext, type EventInput, isIpAddress, type JsonValue, StoreError, type Target } from "@sealtrail/core";
import type { LogEngine } from "@sealtrail/engine";
import type { Context } from "hono";
import type { Principal } from "./keys.js";
import type { Env } from "./route-context.js";

/**
 * The server's own audit log: a normal, verifiable log that records who managed keys, who issued
 * viewer tokens, and what viewer tokens read. Only the server writes it (`authorize` refuses
 * appends to it from any key, admin included).
 */
export const SYSTEM_LOG = "sealtrail-system";

/** At most one `viewer_token.read` per token, log and route in this window (tail and polling). */
export const VIEWER_READ_INTERVAL_MS = 10_000;

export type SystemAction =
  | "key.created"
  | "key.revoked"
  | "viewer_token.issued"
  | "viewer_token.read"
  | "subject.erased"
  | "retention.set"
  | "legal_hold.placed"
  | "legal_hold.released"
  | "log.pruned"
  | "evidence.exported";

export interface SystemEvent {
  readonly actor: Actor;
  readonly targets?: readonly Target[];
  readonly context?: EventContext;
  /** Non-secret facts only: never a key, a token or a secret hash. */
  readonly metadata?: Record<string, JsonValue>;
  readonly outcome?: "success" | "failure";
}

export interface SystemLogOptions {
  /** Anything that appends like `LogEngine.append` (all the system log needs). */
  readonly engine: Pick<LogEngine, "append">;
  readonly now?: () => number;
  readonly viewerReadIntervalMs?: number;
  /**
   * Take the client address from the last `X-Forwarded-For` entry (the one your proxy added).
   * Off by default: without a proxy that sets it, any client can write what it likes there.
   */
  readonly trustForwardedFor?: boolean;
  /** Where a failure to record is reported (default: one line on stderr). */
  readonly onError?: (line: string) => void;
}

const MAX_THROTTLE_ENTRIES = 10_000;

export class SystemLog {
  readonly #engine: Pick<LogEngine, "append">;
  readonly #now: () => number;
  readonly #interval: number;
  readonly #trustForwardedFor: boolean;
  readonly #onError: (line: string) => void;
  /** token id, log and route → when its last read was recorded. */
  readonly #lastRead = new Map<string, number>();

  constructor(options: SystemLogOptions) {
    this.#engine = options.engine;
    this.#now = options.now ?? Date.now;
    this.#interval = options.viewerReadIntervalMs ?? VIEWER_READ_INTERVAL_MS;
    this.#trustForwardedFor = options.trustForwardedFor ?? false;
    this.#onError = options.onError ?? ((line) => process.stderr.write(`${line}\n`));
  }

  /** How system events name a principal: its API key (or env-admin), or its viewer token. */
  static actorOf(principal: Principal): Actor {
    if (principal.actor) return { ...principal.actor };
    if (principal.scope === "viewer" && principal.token) return { type: "viewer_token", id: principal.token.id };
    return { type: "api_key", id: principal.keyId };
  }

  /**
   * Records an action taken in request `c` by the principal that `allow` authenticated (or
   * `principal`). Resolves once the event is durable; throws `audit_unavailable` (503) when it
   * cannot be recorded, after reporting why, so the caller refuses the action.
   */
  async record(
    c: Context<Env>,
    action: SystemAction,
    details: Omit<SystemEvent, "actor" | "context"> & { principal?: Principal } = {},
  ): Promise<void> {
    const principal = details.principal ?? c.get("principal");
    if (!principal) throw new StoreError("audit_unavailable", `cannot record ${action}: the request has no principal`);
    const { principal: _, ...rest } = details;
    await this.recordEvent(action, { ...rest, actor: SystemLog.actorOf(principal), context: this.requestContext(c) });
  }

  /** Records an event that did not come through HTTP (the CLI working on a data directory). */
  async recordEvent(action: SystemAction, event: SystemEvent): Promise<void> {
    const input: EventInput = {
      action,
      occurredAt: new Date(this.#now()).toISOString(),
      actor: event.actor,
      targets: [...(event.targets ?? [])],
      outcome: event.outcome ?? "success",
      ...(event.context && Object.keys(event.context).length > 0 ? { context: event.context } : {}),
      ...(event.metadata ? { metadata: event.metadata } : {}),
    };
    try {
      await this.#engine.append(SYSTEM_LOG, [input]);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#onError(`sealtrail: could not record ${action} in the system log ${SYSTEM_LOG}: ${reason}`);
      throw new StoreError("audit_unavailable", `the system log could not record ${action}, so the action was not taken; retry`, {
        cause: error,
      });
    }
  }

  /**
   * Records a read made with a viewer token (any other principal: nothing). Throttled: one event
   * per token, log and route per interval covers every read of that route in the interval.
   * A read that cannot be recorded is refused (throws `audit_unavailable`).
   */
  async recordViewerRead(c: Context<Env>, details: { route: string; log: string }): Promise<void> {
    const principal = c.get("principal");
    if (principal?.scope !== "viewer" || !principal.token) return;
    const now = this.#now();
    const key = `${principal.token.id}\n${details.log}\n${details.route}`;
    const last = this.#lastRead.get(key);
    if (last !== undefined && now - last < this.#interval) return;
    this.#forgetOld(now);
    // Claimed before the await, so concurrent reads in one window record once.
    this.#lastRead.set(key, now);
    try {
      await this.record(c, "viewer_token.read", {
        principal,
        targets: [{ type: "log", id: details.log }],
        metadata: { route: details.route, issuedBy: principal.keyId, throttleSeconds: this.#interval / 1000 },
      });
    } catch (error) {
      if (this.#lastRead.get(key) === now) this.#lastRead.delete(key);
      throw error;
    }
  }

  #forgetOld(now: number): void {
    if (this.#lastRead.size < MAX_THROTTLE_ENTRIES) return;
    for (const [key, at] of this.#lastRead) if (now - at >= this.#interval) this.#lastRead.delete(key);
    // Still full (that many tokens reading at once): forget the oldest half; at worst a read is recorded twice.
    if (this.#lastRead.size >= MAX_THROTTLE_ENTRIES) {
      let drop = this.#lastRead.size / 2;
      for (const key of this.#lastRead.keys()) {
        if (drop-- <= 0) break;
        this.#lastRead.delete(key);
      }
    }
  }

  /** The client's address and user agent. Never the URL: a viewer token may be in its query. */
  requestContext(c: Context<Env>): EventContext {
    const context: EventContext = {};
    const ip = this.#clientAddress(c);
    if (ip) context.ip = ip;
    const userAgent = c.req.header("user-agent");
    if (userAgent) context.userAgent = userAgent.slice(0, 1024);
    return context;
  }

  #clientAddress(c: Context<Env>): string | undefined {
    let address: string | undefined;
    if (this.#trustForwardedFor) address = c.req.header("x-forwarded-for")?.split(",").at(-1)?.trim();
    // @hono/node-server puts the Node request in the bindings; other runtimes leave no address.
    address ||= (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress;
    if (!address) return undefined;
    const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
    const ip = mapped ? (mapped[1] as string) : address;
    return ip.length <= 64 && isIpAddress(ip) ? ip : undefined;
  }
}
