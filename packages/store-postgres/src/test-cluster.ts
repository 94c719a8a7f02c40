import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A throwaway PostgreSQL 15 cluster for tests: initdb + pg_ctl in a temp dir, on a free loopback
 * port, trust authentication. initdb refuses to run as root, so as root (CI) the binaries run as
 * the `postgres` system user over a directory it owns. One cluster per test file; a database per test.
 */
export interface TestCluster {
  readonly port: number;
  /** A connection URL to `database` as `user` (default: the superuser `postgres`). */
  url(database: string, user?: string): string;
  /** Creates a database with a fresh name (a copy of `template` if given) and returns its URL. */
  createDatabase(template?: string): Promise<string>;
  /** Runs SQL as the superuser (psql, one transaction), returning its output. */
  psql(database: string, sql: string): string;
  /**
   * The bytes of every file of `database` on the primary's disk (heap, indexes, free space maps),
   * after a CHECKPOINT wrote out what was in shared buffers: what a copy of the data directory
   * holds. Not the write-ahead log.
   */
  databaseFiles(database: string): Buffer[];
  /**
   * Starts a streaming replica of the whole cluster (pg_basebackup -R) on its own port; `stop`
   * stops it with the cluster. Returns the URL maker of the replica.
   */
  startReplica(): Promise<{ readonly port: number; url(database: string): string }>;
  stop(): Promise<void>;
}

export const PG_BIN = process.env.SEALTRAIL_PG_BIN ?? "/usr/lib/postgresql/15/bin";

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });

export function hasPostgres(): boolean {
  return existsSync(join(PG_BIN, "initdb"));
}

export async function startTestCluster(
  options: {
    settings?: Record<string, string>;
    /**
     * Keep the cluster in this directory (benchmarks' --keep / --reuse): created with initdb if it
     * holds no cluster yet, started as it is otherwise, and never removed (stop only stops it).
     */
    dir?: string;
  } = {},
): Promise<TestCluster> {
  const kept = options.dir !== undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "sealtrail-pg-"));
  mkdirSync(dir, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  const run = (bin: string, args: string[]): string => {
    const command = asRoot ? "runuser" : join(PG_BIN, bin);
    const argv = asRoot ? ["-u", "postgres", "--", join(PG_BIN, bin), ...args] : args;
    return execFileSync(command, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  };
  if (asRoot) {
    const { uid, gid } = userIds("postgres");
    chownSync(dir, uid, gid);
  }
  const data = join(dir, "data");
  if (!existsSync(join(data, "PG_VERSION")))
    run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"]);
  const port = await freePort();
  const settings = {
    listen_addresses: "127.0.0.1",
    port: String(port),
    unix_socket_directories: dir,
    // A test cluster need not survive power loss; commits still wait for the WAL write.
    fsync: "off",
    full_page_writes: "off",
    max_connections: "200",
    ...options.settings,
  };
  const opts = (values: Record<string, string>) =>
    Object.entries(values)
      .map(([k, v]) => `-c ${k}=${v}`)
      .join(" ");
  run("pg_ctl", ["-D", data, "-l", join(dir, "log"), "-o", opts(settings), "-w", "-t", "30", "start"]);
  const dataDirs = [data];
  let counter = 0;
  const url = (database: string, user = "postgres") => `postgres://${user}@127.0.0.1:${port}/${database}`;
  const psql = (database: string, sql: string): string =>
    run("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", database, "-c", sql]);
  let stopped = false;
  const stopAll = () => {
    try {
      // Replicas first: a primary that stops first leaves them retrying.
      for (const each of [...dataDirs].reverse()) run("pg_ctl", ["-D", each, "-m", kept ? "fast" : "immediate", "-w", "stop"]);
    } finally {
      if (!kept) rmSync(dir, { recursive: true, force: true });
    }
  };
  // A process that ends without calling stop (a crash, process.exit) still takes its cluster along.
  const onExit = () => {
    if (stopped) return;
    stopped = true;
    stopAll();
  };
  process.once("exit", onExit);
  return {
    port,
    url,
    psql,
    databaseFiles: (database) => {
      psql(database, "CHECKPOINT");
      const oid = psql(database, "COPY (SELECT oid FROM pg_database WHERE datname = current_database()) TO STDOUT").trim();
      const files = join(data, "base", oid);
      return readdirSync(files).map((name) => readFileSync(join(files, name)));
    },
    createDatabase: async (template) => {
      const name = `t${process.pid}_${++counter}`;
      psql("postgres", `CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ""}`);
      return url(name);
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      process.removeListener("exit", onExit);
      stopAll();
    },
    startReplica: async () => {
      const replica = join(dir, `replica${dataDirs.length}`);
      run("pg_basebackup", [
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-U",
        "postgres",
        "-D",
        replica,
        "-R",
        "-X",
        "stream",
        "--checkpoint=fast",
        "--no-sync",
      ]);
      const replicaPort = await freePort();
      run("pg_ctl", [
        "-D",
        replica,
        "-l",
        `${replica}.log`,
        "-o",
        opts({ ...settings, port: String(replicaPort) }),
        "-w",
        "-t",
        "30",
        "start",
      ]);
      dataDirs.push(replica);
      return { port: replicaPort, url: (database: string) => `postgres://postgres@127.0.0.1:${replicaPort}/${database}` };
    },
  };
}

function userIds(name: string): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no system user ${name}: create it, or run the tests as a non-root user`);
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}
