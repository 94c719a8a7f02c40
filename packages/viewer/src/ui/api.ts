import type { AuditEvent } from "@sealtrail/core";

/** One search hit, as `GET /v1/logs/{log}/events` answers it. */
export interface Hit {
  readonly log: string;
  readonly index: number;
  readonly event: AuditEvent;
}

export interface Page {
  readonly events: Hit[];
  readonly nextCursor: string | null;
}

export interface LogInfo {
  readonly name: string;
  readonly origin: string;
  readonly verifierKey: string;
  readonly treeSize: number;
}

/** `GET /v1/logs/{log}/events/{id}`: the event, its stored leaf bytes and an inclusion proof. */
export interface EventDetail {
  readonly log: string;
  readonly index: number;
  readonly event: AuditEvent;
  readonly leaf: string;
  readonly leafHash: string;
  readonly inclusionProof: { readonly treeSize: number; readonly rootHash: string; readonly hashes: readonly string[] };
  readonly checkpoint: string;
}

export type GroupBy = "action" | "actor" | "outcome" | "hour" | "day";

export interface Stats {
  readonly total: number;
  readonly groups?: { key: string; count: number }[];
}

/** An RFC 9457 problem the server answered, or a network failure (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export interface ApiOptions {
  /** Server origin, e.g. "" for the page's own. */
  readonly base: string;
  /** An API key (stk_…) or a viewer token (stv_…); always sent as a header, never in a URL. */
  readonly secret: string;
}

type Params = Record<string, string | number | undefined>;

function query(params: Params): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== "") search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** The query API of one server, as the viewer uses it. */
export function createApi(options: ApiOptions) {
  const headers = { authorization: `Bearer ${options.secret}` };
  const logPath = (log: string) => `${options.base}/v1/logs/${encodeURIComponent(log)}`;

  async function get<T>(url: string, signal?: AbortSignal): Promise<T> {
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: signal ?? null });
    } catch (cause) {
      if (signal?.aborted) throw cause;
      throw new ApiError(0, "unreachable", "the server could not be reached");
    }
    if (response.ok) return (await response.json()) as T;
    const problem = (await response.json().catch(() => ({}))) as { detail?: string; code?: string };
    throw new ApiError(response.status, problem.code ?? "http_error", problem.detail ?? `the server answered ${response.status}`);
  }

  return {
    logInfo: (log: string) => get<LogInfo>(logPath(log)),
    search: (log: string, params: { q: string; cursor?: string; limit?: number }, signal?: AbortSignal) =>
      get<Page>(`${logPath(log)}/events${query({ q: params.q, cursor: params.cursor, limit: params.limit })}`, signal),
    event: (log: string, id: string) => get<EventDetail>(`${logPath(log)}/events/${encodeURIComponent(id)}`),
    stats: (log: string, params: { q: string; groupBy?: GroupBy; limit?: number }, signal?: AbortSignal) =>
      get<Stats>(`${logPath(log)}/stats${query(params)}`, signal),
    /**
     * The live tail. `EventSource` cannot send an Authorization header and API keys are never
     * accepted in URLs, so this reads the event stream with fetch and parses it (WHATWG HTML §9.2).
     */
    async tail(
      log: string,
      params: { q: string; lastEventId?: number; signal: AbortSignal; onEvent: (hit: Hit) => void; onReady: () => void },
    ) {
      const response = await fetch(`${logPath(log)}/tail${query({ q: params.q, lastEventId: params.lastEventId })}`, {
        headers: { ...headers, accept: "text/event-stream" },
        signal: params.signal,
      });
      if (!response.ok || !response.body) {
        const problem = (await response.json().catch(() => ({}))) as { detail?: string; code?: string };
        throw new ApiError(response.status, problem.code ?? "http_error", problem.detail ?? `the server answered ${response.status}`);
      }
      const parser = createSseParser((message) => {
        if (message.event === "ready") params.onReady();
        else if (message.event === "audit-event") params.onEvent(JSON.parse(message.data) as Hit);
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        parser(value);
      }
    },
  };
}

export type Api = ReturnType<typeof createApi>;

export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

/** Incremental `text/event-stream` parser: feed it chunks as they arrive, in any split. */
export function createSseParser(onMessage: (message: SseMessage) => void): (chunk: string) => void {
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let id: string | undefined;
  return (chunk) => {
    buffer += chunk;
    for (;;) {
      const end = buffer.search(/\r\n|\r|\n/);
      // A CR at the end of a chunk may be the first half of a CRLF: wait for the next chunk.
      if (end < 0 || (end === buffer.length - 1 && buffer[end] === "\r")) return;
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + (buffer.startsWith("\r\n", end) ? 2 : 1));
      if (line === "") {
        if (data.length > 0) onMessage({ event: event || "message", data: data.join("\n"), ...(id !== undefined ? { id } : {}) });
        event = "";
        data = [];
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
      else if (field === "id") id = value;
    }
  };
}
