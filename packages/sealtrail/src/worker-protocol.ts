import type { QueryOptions } from "@sealtrail/client";
import type { EventInput, QueryFilter, WireError } from "@sealtrail/core";
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

export type Reply = { readonly seq: number } & (
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: WireError }
);
