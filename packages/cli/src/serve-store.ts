import type { NoteSigner } from "@sealtrail/core";
import type { LogEngine, LogStore } from "@sealtrail/engine";
import { createPostgresStore, startPostgresCluster } from "@sealtrail/store-postgres";

/**
 * `serve --store postgres://…`: the PostgreSQL store with this instance in the cluster (every
 * instance accepts appends, one integrates at a time; docs/deployment.md).
 */
export async function openServeStore(options: {
  url: string;
  readUrl?: string;
  poolSize?: number;
  signer: NoteSigner;
  print: (line: string) => void;
}): Promise<{ store: LogStore; engine: LogEngine; close: () => Promise<void> }> {
  const store = await createPostgresStore({
    connectionString: options.url,
    ...(options.readUrl ? { readConnectionString: options.readUrl } : {}),
    ...(options.poolSize ? { poolSize: options.poolSize } : {}),
  });
  const cluster = await startPostgresCluster({
    store,
    connectionString: options.url,
    engine: { signer: options.signer, originPrefix: options.signer.name },
    onRoleChange: (integrating) =>
      options.print(integrating ? "cluster: this instance now integrates" : "cluster: this instance stopped integrating"),
  });
  return { store, engine: cluster.engine, close: () => cluster.close() };
}
