import { AuthError, type FieldProblem, InputError, NotFoundError, type SealtrailError, StoreError } from "@sealtrail/core";

/** The RFC 9457 problem body the server answers with (see @sealtrail/server problem.ts). */
interface ProblemBody {
  readonly code?: unknown;
  readonly detail?: unknown;
  readonly errors?: unknown;
}

/**
 * Rebuilds the server's error from its RFC 9457 problem: the same `code`, the field problems with
 * their JSON pointers, and the class the server threw (chosen by status, as the server maps it);
 * the server hides the detail of its own failures, so a 5xx is a StoreError with the code given.
 */
export function errorFromProblem(status: number, body: unknown): SealtrailError {
  const problem = (typeof body === "object" && body !== null ? body : {}) as ProblemBody;
  const code = typeof problem.code === "string" ? problem.code : `http_${status}`;
  const detail = typeof problem.detail === "string" ? problem.detail : `the server answered ${status}`;
  const problems: FieldProblem[] = Array.isArray(problem.errors)
    ? problem.errors.flatMap((e: unknown) => {
        if (typeof e !== "object" || e === null || typeof (e as FieldProblem).detail !== "string") return [];
        const { pointer, parameter, detail: d } = e as FieldProblem;
        return [
          { ...(typeof pointer === "string" ? { pointer } : {}), ...(typeof parameter === "string" ? { parameter } : {}), detail: d },
        ];
      })
    : [];
  const options = { problems };
  if (status === 401 || status === 403) return new AuthError(code, detail, options);
  if (status === 404) return new NotFoundError(code, detail, options);
  if (status >= 400 && status < 500) return new InputError(code, detail, options);
  return new StoreError(code, detail, options);
}
