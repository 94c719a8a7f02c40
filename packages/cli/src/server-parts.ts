import { existsSync, readFileSync } from "node:fs";
import { ConfigError, compilePersonalData, type EventDraft, type NoteSigner, type PersonalDataConfig } from "@sealtrail/core";
import { type DataDir, LogEngine, type LogStore, type QueryableStore } from "@sealtrail/engine";
import { createPersonalData, createSqliteKeyStore, type PersonalData, type SubjectKeyStore } from "@sealtrail/privacy";
import { createPostgresKeyStore } from "@sealtrail/store-postgres";
import { createSqliteStore } from "@sealtrail/store-sqlite";
import { openServeStore, type PostgresServeOptions } from "./serve-store.js";

export interface ServerParts {
  readonly store: LogStore & QueryableStore;
  readonly engine: LogEngine;
  readonly personalData: PersonalData;
  /** On PostgreSQL, true while this instance integrates: it alone runs the periodic retention job. */
  readonly integrating?: () => boolean;
  /** Closes the engine (flushing, signing a last checkpoint), the store and the key store. */
  close(): Promise<void>;
}

/** Reads a personal-data configuration file (JSON, core `PersonalDataConfig`), refusing unknown paths. */
export function loadPersonalDataConfig(path: string | undefined): PersonalDataConfig | undefined {
  if (path === undefined) return undefined;
  let config: PersonalDataConfig;
  try {
    config = JSON.parse(readFileSync(path, "utf8")) as PersonalDataConfig;
  } catch (error) {
    throw new ConfigError("invalid_personal_data_config", `cannot read ${path}: ${(error as Error).message}`);
  }
  compilePersonalData(config);
  return config;
}

/**
 * What a server over a data directory is made of, for `serve` and for the offline commands that
 * run the server's own handler in-process: the log store, the key store beside it and an engine
 * that encrypts personal values before sealing them into leaves. The key store is the data
 * directory's `keys.db` on SQLite; on PostgreSQL it is in the database, shared by every instance,
 * so any of them reveals what another sealed and an erasure through one holds for all.
 */
export async function openServerParts(
  dir: DataDir,
  options: {
    signer: NoteSigner;
    personalData?: PersonalDataConfig;
    postgres?: PostgresServeOptions;
    /** Where a SQLite store's one-time schema upgrade is announced. */
    print?: (line: string) => void;
  },
): Promise<ServerParts> {
  const config = options.personalData ? { config: options.personalData } : {};
  const engineOptions = (personalData: () => PersonalData) => ({
    signer: options.signer,
    originPrefix: options.signer.name,
    protect: (log: string, drafts: readonly EventDraft[], pointers: readonly string[]) => personalData().protect(log, drafts, pointers),
  });
  if (options.postgres) {
    let opened: PersonalData | undefined;
    // The log store first, so an unreachable database is reported as the store's error. Nothing
    // is appended (nothing calls protect) before this function returns.
    const cluster = await openServeStore({ ...options.postgres, engine: engineOptions(() => opened as PersonalData) });
    try {
      opened = createPersonalData({ keyStore: await createPostgresKeyStore({ connectionString: options.postgres.url }), ...config });
    } catch (error) {
      await cluster.close();
      throw error;
    }
    const personalData = opened;
    return {
      ...cluster,
      personalData,
      close: async () => {
        await cluster.close();
        await personalData.close();
      },
    };
  }
  const personalData = createPersonalData({ keyStore: createSqliteKeyStore({ path: dir.keyStorePath }), ...config });
  const print = options.print;
  const store = createSqliteStore({ path: dir.databasePath, ...(print ? { onUpgrade: (message) => print(`sealtrail: ${message}`) } : {}) });
  try {
    const engine = await LogEngine.open({ store, ...engineOptions(() => personalData) });
    return {
      store,
      engine,
      personalData,
      close: async () => {
        await engine.close();
        await personalData.close();
      },
    };
  } catch (error) {
    await store.close();
    await personalData.close();
    throw error;
  }
}

/**
 * The key store of a data directory (read-only) or of the PostgreSQL database `serve --store`
 * uses, for commands that read events. Without a key store every encrypted value reads as
 * erased: without its key, it is.
 */
export async function openPersonalDataReader(dir: DataDir, store?: string): Promise<PersonalData> {
  // No migration: a reader must not change the schema (openReadStore, offline-store.ts).
  if (store !== undefined)
    return createPersonalData({ keyStore: await createPostgresKeyStore({ connectionString: store, migrate: false, poolSize: 1 }) });
  const keyStore: SubjectKeyStore = existsSync(dir.keyStorePath)
    ? createSqliteKeyStore({ path: dir.keyStorePath, readonly: true })
    : {
        description: "no key store",
        keysFor: () => Promise.reject(new ConfigError("no_key_store", `no key store at ${dir.keyStorePath}`)),
        keyById: async () => undefined,
        erase: async () => [],
        close: async () => undefined,
      };
  return createPersonalData({ keyStore });
}
