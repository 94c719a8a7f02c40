import { AuthError, InputError, NotFoundError, SealtrailError, StoreError } from "@sealtrail/core";

/** HTTP status per error code; codes not listed fall back to their class's status. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  invalid_json: 400,
  invalid_parameter: 400,
  invalid_proof_request: 400,
  invalid_query: 400,
  invalid_cursor: 400,
  invalid_encoding: 400,
  missing_credentials: 401,
  invalid_credentials: 401,
  forbidden: 403,
  route_not_found: 404,
  log_not_found: 404,
  event_not_found: 404,
  beyond_tree: 404,
  no_checkpoint: 404,
  hold_not_found: 404,
  entries_pruned: 410,
  id_conflict: 409,
  payload_too_large: 413,
  event_too_large: 413,
  batch_too_large: 413,
  unsupported_media_type: 415,
  queries_unsupported: 501,
  retention_unsupported: 501,
  personal_data_unsupported: 501,
  audit_unavailable: 503,
  concurrent_writer: 503,
  engine_closed: 503,
};

function statusOf(error: SealtrailError): number {
  const byCode = STATUS_BY_CODE[error.code];
  if (byCode !== undefined) return byCode;
  if (error instanceof InputError) return 422;
  if (error instanceof AuthError) return 401;
  if (error instanceof NotFoundError) return 404;
  // Store, configuration and verification failures are the server's problem.
  return 500;
}

const TITLES: Readonly<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  410: "Gone",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
};

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: { pointer?: string; parameter?: string; detail: string }[];
}

/** RFC 9457 problem details for an error; unknown errors become an opaque 500. */
export function problemFor(error: unknown): { status: number; body: ProblemBody; headers: Record<string, string> } {
  const known = error instanceof SealtrailError ? error : new SealtrailError("internal_error", "internal error");
  const status = statusOf(known);
  // Internal errors may quote SQL or paths: the client gets the code, the operator the log line.
  const detail =
    status >= 500 && !(known instanceof StoreError && status === 503) ? "the server could not complete the request" : known.message;
  const body: ProblemBody = {
    type: `urn:sealtrail:problem:${known.code}`,
    title: TITLES[status] ?? "Error",
    status,
    detail,
    code: known.code,
  };
  if (known.problems.length > 0 && status < 500) body.errors = known.problems.map((p) => ({ ...p }));
  const headers: Record<string, string> = { "content-type": "application/problem+json" };
  if (status === 401) headers["www-authenticate"] = 'Bearer realm="sealtrail"';
  if (status === 503) headers["retry-after"] = "1";
  return { status, body, headers };
}

export function problemResponse(error: unknown): Response {
  const { status, body, headers } = problemFor(error);
  return new Response(JSON.stringify(body), { status, headers });
}
