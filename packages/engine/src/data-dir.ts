import { mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError, generateSignerKey, type NoteSigner, parseSignerKey } from "@sealtrail/core";

export interface DataDir {
  readonly path: string;
  readonly databasePath: string;
  readonly signingKeyPath: string;
  /** Crypto-shredding data keys: a database of their own, never inside the log database. */
  readonly keyStorePath: string;
}

export function dataDir(path: string): DataDir {
  const root = resolve(path);
  return {
    path: root,
    databasePath: join(root, "sealtrail.db"),
    signingKeyPath: join(root, "signing-key"),
    keyStorePath: join(root, "keys.db"),
  };
}

/** Creates the data directory readable by its owner only. */
export function ensureDataDir(dir: DataDir): void {
  mkdirSync(dir.path, { recursive: true, mode: 0o700 });
}

/**
 * The server's signing key: SEALTRAIL_SIGNING_KEY if set (for several instances or a secret
 * manager), else `<data>/signing-key`, created with mode 0600 on first start. A key file that
 * others can read is refused, as ssh refuses a readable private key.
 */
export async function loadSigner(dir: DataDir, options: { keyName: string; create: boolean; env?: string }): Promise<NoteSigner> {
  if (options.env) return parseSignerKey(options.env);
  let text: string;
  try {
    const mode = statSync(dir.signingKeyPath).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new ConfigError(
        "signing_key_exposed",
        `${dir.signingKeyPath} is readable by others (mode ${mode.toString(8)}); run: chmod 600 ${dir.signingKeyPath}`,
      );
    }
    text = readFileSync(dir.signingKeyPath, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    if (!options.create) throw new ConfigError("no_signing_key", `no signing key at ${dir.signingKeyPath}`);
    text = await generateSignerKey(options.keyName);
    writeFileSync(dir.signingKeyPath, `${text}\n`, { mode: 0o600, flag: "wx" });
  }
  return parseSignerKey(text);
}

/**
 * One server per data directory: a second one would sequence the same logs from a stale view.
 * The lock names the owner's pid; a lock left by a killed process (kill -9) is taken over.
 */
export function acquireLock(dir: DataDir): () => void {
  const lockPath = join(dir.path, "server.lock");
  try {
    writeFileSync(lockPath, String(process.pid), { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const owner = Number(readFileSync(lockPath, "utf8"));
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
      throw new ConfigError("data_dir_locked", `another Sealtrail server (pid ${owner}) is using ${dir.path}`);
    }
    writeFileSync(lockPath, String(process.pid), { mode: 0o600 });
  }
  return () => {
    try {
      if (readFileSync(lockPath, "utf8") === String(process.pid)) unlinkSync(lockPath);
    } catch {
      // The lock is advisory; a missing file on shutdown is harmless.
    }
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
