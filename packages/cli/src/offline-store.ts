import { existsSync } from "node:fs";
import { ConfigError } from "@sealtrail/core";
import { dataDir, type LogStore, type QueryableStore } from "@sealtrail/engine";
import { createPostgresStore } from "@sealtrail/store-postgres";
import { createSqliteStore } from "@sealtrail/store-sqlite";

/**
 * Where the commands that work without a server find the log: the data directory's SQLite
 * database, or with `--store postgres://…` the PostgreSQL database `serve --store` uses (the data
 * directory then holds only the signing key, as it does for serve; data keys are in the database).
 */
export interface StoreTarget {
  readonly data: string;
  readonly store?: string | undefined;
}

/** The `--store` flag as every command that has it declares it. */
export const storeArg = {
  store: {
    type: "string",
    description: "postgres://… : the PostgreSQL database of `serve --store` (the signing key still comes from --data or the environment)",
  },
} as const;

export function checkStoreUrl(url: string): void {
  if (!/^postgres(ql)?:\/\//.test(url)) throw new ConfigError("invalid_store_url", "--store must be a postgres:// URL");
}

/**
 * Opens the log store to read it directly, with no server in between. PostgreSQL: no migration
 * (a reader must not change the schema; the least-privilege app role could not) and a small pool;
 * SQLite: read-only, which WAL allows beside a running server.
 */
export async function openReadStore(target: StoreTarget): Promise<LogStore & QueryableStore> {
  if (target.store !== undefined) {
    checkStoreUrl(target.store);
    return createPostgresStore({ connectionString: target.store, migrate: false, poolSize: 2 });
  }
  const dir = dataDir(target.data);
  if (!existsSync(dir.databasePath)) throw new ConfigError("no_database", `no Sealtrail database in ${dir.path}`);
  return createSqliteStore({ path: dir.databasePath, readonly: true });
}
