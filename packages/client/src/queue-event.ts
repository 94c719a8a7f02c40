import type { EventInput } from "@sealtrail/core";

/** An event as the client queues it: its id is fixed before the first attempt, so retries are idempotent. */
export type QueuedEvent = EventInput & { readonly id: string };
