import type { QueryOptions } from "@sealtrail/client";
import {
  AuthError,
  ConfigError,
  type EventInput,
  type FieldProblem,
  InputError,
  NotFoundError,
  type QueryFilter,
  SealtrailError,
  StoreError,
  VerificationError,
} from "@sealtrail/core";
import type { EraseRequest } from "./backend.js";

/** Messages to the embedded log's worker; `seq` pairs each with its reply. */
export type Request = { readonly seq: number } & (
  | { readonly op: "open" }
  | { readonly op: "append"; readonly event: EventInput }
  | { readonly op: "query"; readonly query: QueryFilter | string; readonly options: QueryOptions }
  | { readonly op: "prove"; readonly id: string }
  | { readonly op: "verify" }
  | { readonly op: "erase"; readonly subject: string; readonly request: EraseRequest }
  | { readonly op: "close" }
);

export interface WireError {
  readonly kind: string;
  readonly code: string;
  readonly message: string;
  readonly problems: readonly FieldProblem[];
}

export type Reply = { readonly seq: number } & (
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: WireError }
);

const CLASSES = { InputError, VerificationError, StoreError, ConfigError, AuthError, NotFoundError } as const;

/** Structured clone keeps an Error's message but not its class or code: carry them explicitly. */
export function wireError(error: unknown): WireError {
  if (error instanceof SealtrailError) return { kind: error.name, code: error.code, message: error.message, problems: [...error.problems] };
  return { kind: "Error", code: "internal_error", message: error instanceof Error ? error.message : String(error), problems: [] };
}

export function rebuildError(wire: WireError): Error {
  const Class = CLASSES[wire.kind as keyof typeof CLASSES];
  if (Class) return new Class(wire.code, wire.message, { problems: wire.problems });
  if (wire.code === "internal_error") return new Error(wire.message);
  return new SealtrailError(wire.code, wire.message, { problems: wire.problems });
}
