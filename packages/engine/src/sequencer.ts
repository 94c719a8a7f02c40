import type { EventDraft } from "@sealtrail/core";
import type { AppendedEvent } from "./engine.js";

/**
 * Multi-writer mode (DESIGN §5): an engine with a sequencer never writes entries or signs
 * checkpoints itself. It validates an append, then hands it to the sequencer, which stages it
 * durably and resolves once whichever process integrates has given the events their indexes
 * (store-postgres `startPostgresCluster`). The engine learns of integrated entries and new
 * checkpoints through `LogEngine.reload`.
 */
export interface Sequencer {
  append(log: string, drafts: readonly EventDraft[], options: { readonly pointerBase?: string }): Promise<AppendedEvent[]>;
}
