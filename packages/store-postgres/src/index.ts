export { type PostgresCluster, type PostgresClusterOptions, startPostgresCluster } from "./cluster.js";
export { createPostgresKeyStore, type PostgresKeyStoreOptions } from "./key-store.js";
export { dropPartitionsBefore, ensurePartitions, partitionName } from "./migrate.js";
export type { PgPool, PgPoolClient, PgQueryable, PgResult } from "./pg-client.js";
export {
  createPostgresStore,
  openPostgresStore,
  type PostgresPoolOptions,
  type PostgresStore,
  type PostgresStoreOptions,
  redactUrl,
} from "./postgres-store.js";
export { appRoleGrants, LOG_TABLES, MIGRATIONS, pruneRoleGrants } from "./schema.js";
