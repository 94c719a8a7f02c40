/**
 * One error family for the whole project. `code` is public and stable (see docs/errors.md):
 * the server maps it to an HTTP status, the client rebuilds it, the CLI maps it to an exit code.
 * Messages never carry event payloads: they may hold personal data.
 */
export interface FieldProblem {
  /** RFC 6901 JSON pointer to the field at fault in the request body ("" is the whole body). */
  readonly pointer?: string;
  /** Or: the path or query parameter at fault. */
  readonly parameter?: string;
  readonly detail: string;
}

export class SealtrailError extends Error {
  readonly code: string;
  readonly problems: readonly FieldProblem[];
  constructor(code: string, message: string, options?: { cause?: unknown; problems?: readonly FieldProblem[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.problems = options?.problems ?? [];
  }
}

/** The caller sent something we refuse; nothing was stored. */
export class InputError extends SealtrailError {}
/** A proof, signature, tile or bundle does not check out. */
export class VerificationError extends SealtrailError {}
/** The storage layer failed or holds something it should not. */
export class StoreError extends SealtrailError {}
/** The configuration or key material is unusable. */
export class ConfigError extends SealtrailError {}
/** Missing, unknown or insufficient credentials. */
export class AuthError extends SealtrailError {}
/** The thing asked for does not exist (or not yet: beyond the tree). */
export class NotFoundError extends SealtrailError {}

/** Extends a JSON pointer with one reference token (RFC 6901 §4 escaping). */
export function pointerChild(pointer: string, token: string | number): string {
  const text = String(token);
  // Validation builds a pointer for every field it visits; most tokens need no escaping.
  if (!text.includes("~") && !text.includes("/")) return `${pointer}/${text}`;
  return `${pointer}/${text.replaceAll("~", "~0").replaceAll("/", "~1")}`;
}

/** An error as it crosses a thread boundary: structured clone keeps a message, not a class or code. */
export interface WireError {
  readonly kind: string;
  readonly code: string;
  readonly message: string;
  readonly problems: readonly FieldProblem[];
}

const ERROR_CLASSES = { InputError, VerificationError, StoreError, ConfigError, AuthError, NotFoundError } as const;

export function wireError(error: unknown): WireError {
  if (error instanceof SealtrailError) return { kind: error.name, code: error.code, message: error.message, problems: [...error.problems] };
  return { kind: "Error", code: "internal_error", message: error instanceof Error ? error.message : String(error), problems: [] };
}

export function rebuildError(wire: WireError): Error {
  const Class = ERROR_CLASSES[wire.kind as keyof typeof ERROR_CLASSES];
  if (Class) return new Class(wire.code, wire.message, { problems: wire.problems });
  if (wire.code === "internal_error") return new Error(wire.message);
  return new SealtrailError(wire.code, wire.message, { problems: wire.problems });
}
