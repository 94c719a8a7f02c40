import { type SealtrailError, StoreError } from "@sealtrail/core";
import { errorFromProblem } from "./problem.js";

export type Fetch = (input: string, init: RequestInit) => Promise<Response>;

export type HttpResult<T> =
  | { readonly ok: true; readonly status: number; readonly body: T }
  | { readonly ok: false; readonly retriable: boolean; readonly error: SealtrailError };

/** Talks JSON to one Sealtrail server with one API key; never throws, so callers decide on retries. */
export class HttpTransport {
  readonly #base: string;
  readonly #apiKey: string | undefined;
  readonly #fetch: Fetch;
  readonly #timeoutMs: number;

  constructor(options: { url: string; apiKey?: string; fetch?: Fetch; timeoutMs?: number }) {
    this.#base = options.url.replace(/\/+$/, "");
    this.#apiKey = options.apiKey;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  get url(): string {
    return this.#base;
  }

  async request<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#apiKey) headers.authorization = `Bearer ${this.#apiKey}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await this.#fetch(`${this.#base}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (cause) {
      // Refused, reset or timed out: the request may or may not have reached the server, which
      // is why every event carries its own id and a retry is answered with created: false.
      return { ok: false, retriable: true, error: new StoreError("server_unreachable", `${this.#base} did not answer`, { cause }) };
    }
    let parsed: unknown;
    try {
      parsed = await response.json();
    } catch (cause) {
      if (response.ok)
        return { ok: false, retriable: true, error: new StoreError("invalid_response", `${this.#base} answered with non-JSON`, { cause }) };
    }
    if (response.ok) return { ok: true, status: response.status, body: parsed as T };
    const status = response.status;
    return { ok: false, retriable: status >= 500 || status === 408 || status === 429, error: errorFromProblem(status, parsed) };
  }

  /** Like `request`, but throws the rebuilt error. */
  async call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    const result = await this.request<T>(method, path, body);
    if (!result.ok) throw result.error;
    return result.body;
  }
}
