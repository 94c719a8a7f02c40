import type { EngineOptions, LogEngine, LogStore, QueryableStore } from "@sealtrail/engine";
import { createPostgresStore, startPostgresCluster } from "@sealtrail/store-postgres";

export interface PostgresServeOptions {
  readonly url: string;
  readonly readUrl?: string;
  readonly poolSize?: number;
  readonly print: (line: string) => void;
}

/**
 * `serve --store postgres://…`: the PostgreSQL store with this instance in the cluster (every
 * instance accepts appends, one integrates at a time; docs/deployment.md).
 */
export async function openServeStore(
  options: PostgresServeOptions & { engine: Omit<EngineOptions, "store" | "sequencer"> },
): Promise<{ store: LogStore & QueryableStore; engine: LogEngine; integrating: () => boolean; close: () => Promise<void> }> {
  const store = await createPostgresStore({
    connectionString: options.url,
    ...(options.readUrl ? { readConnectionString: options.readUrl } : {}),
    ...(options.poolSize ? { poolSize: options.poolSize } : {}),
  });
  const cluster = await startPostgresCluster({
    store,
    connectionString: options.url,
    engine: options.engine,
    onRoleChange: (integrating) =>
      options.print(integrating ? "cluster: this instance now integrates" : "cluster: this instance stopped integrating"),
  });
  return { store, engine: cluster.engine, integrating: () => cluster.integrating(), close: () => cluster.close() };
}
