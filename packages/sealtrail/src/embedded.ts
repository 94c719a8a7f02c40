import { type EventProof, verifyEventProof } from "@sealtrail/client/verify";
import {
  ConfigError,
  type NoteSigner,
  NotFoundError,
  type PersonalDataConfig,
  parseQuery,
  parseQueryFilter,
  parseSignerKey,
  parseVerifierKey,
  SealtrailError,
  toBase64,
} from "@sealtrail/core";
import { acquireLock, auditLog, dataDir, EventQueries, ensureDataDir, LogEngine, type LogStore, loadSigner } from "@sealtrail/engine";
import { createPersonalData, createSqliteKeyStore, type PersonalData, type SubjectKeyStore } from "@sealtrail/privacy";
import type { Backend, Erased } from "./backend.js";

export interface EmbeddedOptions {
  readonly log: string;
  /** The data directory (database, signing key 0600, lock), laid out as `sealtrail serve --data` does. */
  readonly path?: string;
  /** A `postgres://` URL: the log lives in PostgreSQL (the signing key still comes from `path` or `signingKey`). */
  readonly postgresUrl?: string;
  readonly originPrefix: string;
  readonly signingKey?: string;
  readonly checkpointIntervalMs?: number;
  /**
   * Which values are encrypted before the leaf is formed (crypto-shredding), the catalog's marks
   * already merged in; false stores them as given. Keys live where the server's do: in
   * `<path>/keys.db` on SQLite, in the database on PostgreSQL (shared with every instance and app).
   */
  readonly personalData?: PersonalDataConfig | false;
}

interface PostgresModule {
  createPostgresStore(options: { connectionString: string }): Promise<LogStore>;
  createPostgresKeyStore(options: { connectionString: string }): Promise<SubjectKeyStore>;
}

const POSTGRES_PACKAGE = "@sealtrail/store-postgres";
const openHere = new Set<string>();

/** Loads the PostgreSQL store only when asked for, so SQLite users never install `pg`. */
async function loadPostgres(): Promise<PostgresModule> {
  let module: PostgresModule;
  try {
    // A variable specifier: the package is an optional peer, absent from most installs.
    const specifier = POSTGRES_PACKAGE;
    module = (await import(specifier)) as PostgresModule;
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ERR_MODULE_NOT_FOUND" && String((cause as Error).message).includes(POSTGRES_PACKAGE)) {
      throw new ConfigError("store_not_installed", `a postgres:// URL needs the PostgreSQL store: npm install ${POSTGRES_PACKAGE}`, {
        cause,
      });
    }
    throw cause;
  }
  return module;
}

/** The log in this process: the same engine the server runs, over SQLite or PostgreSQL. */
export async function openEmbedded(options: EmbeddedOptions): Promise<Backend> {
  const cleanup: (() => unknown)[] = [];
  try {
    let signer: NoteSigner;
    let store: LogStore;
    let personalData: PersonalData | undefined;
    const envKey = options.signingKey ?? (process.env.SEALTRAIL_SIGNING_KEY || undefined);
    if (options.postgresUrl) {
      if (options.path) {
        const dir = dataDir(options.path);
        ensureDataDir(dir);
        signer = await loadSigner(dir, { keyName: options.originPrefix, create: true, ...(envKey ? { env: envKey } : {}) });
      } else if (envKey) signer = await parseSignerKey(envKey);
      else {
        throw new ConfigError(
          "no_signing_key",
          "a PostgreSQL log needs a signing key: pass path (a directory for the key file), signingKey, or set SEALTRAIL_SIGNING_KEY",
        );
      }
      store = await (await loadPostgres()).createPostgresStore({ connectionString: options.postgresUrl });
    } else {
      const dir = dataDir(options.path as string);
      ensureDataDir(dir);
      // One writer per data directory: a server or a second app on it would fork the log. The
      // lock file stops other processes; this process's own open logs are tracked here.
      if (openHere.has(dir.path))
        throw new ConfigError("data_dir_locked", `${dir.path} is already open in this process; share one audit log`);
      cleanup.push(acquireLock(dir));
      openHere.add(dir.path);
      cleanup.push(() => openHere.delete(dir.path));
      signer = await loadSigner(dir, { keyName: options.originPrefix, create: true, ...(envKey ? { env: envKey } : {}) });
      const { createSqliteStore } = await import("@sealtrail/store-sqlite");
      store = createSqliteStore({ path: dir.databasePath });
    }
    const closeStore = () => store.close();
    cleanup.push(closeStore);
    // The same key store as `sealtrail serve` uses: the data directory's file on SQLite (one
    // process at a time), the database on PostgreSQL (every server instance and app at once).
    const postgresUrl = options.postgresUrl;
    if (options.personalData !== false && (postgresUrl !== undefined || options.path !== undefined)) {
      const keyStore = postgresUrl
        ? await (await loadPostgres()).createPostgresKeyStore({ connectionString: postgresUrl })
        : createSqliteKeyStore({ path: dataDir(options.path as string).keyStorePath });
      const opened = createPersonalData({ keyStore, ...(options.personalData ? { config: options.personalData } : {}) });
      personalData = opened;
      cleanup.push(() => opened.close());
    }
    // As the CLI does: the origin prefix is the key's name, fixed when the key was made.
    const engine = await LogEngine.open({
      store,
      signer,
      originPrefix: signer.name,
      ...(options.checkpointIntervalMs === undefined ? {} : { checkpointIntervalMs: options.checkpointIntervalMs }),
      ...(personalData ? { protect: personalData.protect.bind(personalData) } : {}),
    });
    // The engine closes the log store; the key store is closed after it (engine.close flushes).
    cleanup.splice(cleanup.indexOf(closeStore), 1);
    return embeddedBackend(engine, options.log, options.postgresUrl ? "postgres" : "sqlite", personalData, cleanup);
  } catch (error) {
    for (const undo of cleanup.reverse()) await undo();
    throw error;
  }
}

function embeddedBackend(
  engine: LogEngine,
  log: string,
  mode: "sqlite" | "postgres",
  personalData: PersonalData | undefined,
  release: (() => unknown)[],
): Backend {
  const queries = new EventQueries(engine);
  return {
    mode,
    log,
    async append(event) {
      const [result] = await engine.append(log, [event]);
      return { id: result?.id as string, index: result?.index as number };
    },
    async query(query, options) {
      const filter = typeof query === "string" ? (query.trim() === "" ? {} : parseQuery(query)) : parseQueryFilter(query);
      if (!(await engine.hasLog(log))) return { events: [], nextCursor: null };
      const result = await queries.query({ logs: [log], filter, ...options });
      if (!personalData) return result;
      // Decrypted for the reader ([erased] once the key is gone); the leaves keep the ciphertext.
      return {
        ...result,
        events: await Promise.all(result.events.map(async (item) => ({ ...item, event: await personalData.reveal(item.event) }))),
      };
    },
    async prove(id): Promise<EventProof> {
      const entry = (await engine.hasLog(log)) ? await engine.findEntry(log, id) : undefined;
      if (!entry) throw new NotFoundError("event_not_found", `no event with that id in log ${log}`);
      // Resolves at the next checkpoint (within the checkpoint interval) if the event is that new.
      const checkpoint = await engine.waitForCheckpoint(log, entry.index);
      const proof = await engine.proveInclusion(log, entry.index, checkpoint.treeSize);
      const wire = {
        log,
        index: entry.index,
        event: JSON.parse(new TextDecoder().decode(entry.leaf)),
        leaf: toBase64(entry.leaf),
        leafHash: toBase64(proof.leafHash),
        inclusionProof: { treeSize: proof.treeSize, rootHash: toBase64(proof.rootHash), hashes: proof.hashes.map(toBase64) },
        checkpoint: checkpoint.note,
      };
      return verifyEventProof(wire, { verifierKey: await engine.verifierKey(log) });
    },
    async verify() {
      if (!(await engine.hasLog(log))) return { ok: true, log, entries: 0, checkpoints: 0 };
      const verifierKey = await engine.verifierKey(log);
      return auditLog(engine.store, log, { verifiers: [parseVerifierKey(verifierKey)], origin: engine.origin(log) });
    },
    async erase(subject, request): Promise<Erased> {
      if (!personalData) {
        throw new SealtrailError(
          "personal_data_unsupported",
          "this audit log does not encrypt personal data (personalData: false), so there is no key to erase",
        );
      }
      return eraseSubject(engine, personalData, subject, request);
    },
    async close() {
      await engine.close();
      for (const undo of release.reverse()) await undo();
    },
  };
}

/**
 * Crypto-shredding as `POST /v1/erasures` does it: recorded in the system log first (an erasure
 * nobody can account for is refused), then the keys destroyed; a failure is recorded too.
 */
async function eraseSubject(
  engine: LogEngine,
  personalData: PersonalData,
  subject: string,
  request: Parameters<Backend["erase"]>[1],
): Promise<Erased> {
  // Loaded when needed: the system log is the server's, and most apps never erase.
  const { SystemLog } = await import("@sealtrail/server");
  const systemLog = new SystemLog({ engine });
  const { log, actor } = request;
  const erasedAt = new Date().toISOString();
  const event = {
    actor,
    targets: [{ type: "data_subject", id: subject }, ...(log ? [{ type: "log", id: log }] : [])],
    metadata: { scope: log ?? "every log" },
  };
  await systemLog.recordEvent("subject.erased", event);
  let keys: number;
  try {
    ({ keys } = await personalData.erase(subject, { ...(log ? { log } : {}), at: erasedAt }));
  } catch (error) {
    await systemLog.recordEvent("subject.erased", { ...event, outcome: "failure" }).catch(() => undefined);
    throw error;
  }
  return { subject, ...(log ? { log } : {}), keysDestroyed: keys, erasedAt };
}
