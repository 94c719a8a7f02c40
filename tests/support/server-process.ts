import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The built CLI, exactly what `npx sealtrail` runs (the test command builds first). */
export const CLI = resolve(import.meta.dirname, "../../packages/cli/bin/sealtrail.js");

export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  readonly dataDir: string;
  /** The admin key: SEALTRAIL_ADMIN_KEY if given, else the one the server printed on first start. */
  readonly adminKey: string;
  readonly output: () => string;
  /** SIGTERM and wait for exit (graceful: flushes and signs a final checkpoint). */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit: the crash case. */
  kill9(): Promise<void>;
}

export function tempDir(prefix = "sealtrail-test-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Starts `sealtrail serve` as a real child process on 127.0.0.1 with an OS-chosen port and
 * resolves once it prints its URL. Stop it by PID (stop / kill9).
 */
export async function startServer(options: {
  dataDir: string;
  args?: string[];
  env?: Record<string, string>;
  adminKey?: string;
  /** A fixed port, so a restarted server is found where clients left it (default: OS-chosen). */
  port?: number;
}): Promise<ServerProcess> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ...options.env };
  delete env.NODE_OPTIONS;
  if (options.adminKey) env.SEALTRAIL_ADMIN_KEY = options.adminKey;
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI, "serve", "--data", options.dataDir, "--port", String(options.port ?? 0), "--host", "127.0.0.1", ...(options.args ?? [])],
    {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start within 30 s:\n${output}`)), 30_000);
    const check = () => {
      const match = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (match && (options.adminKey || /stk_[A-Za-z0-9_-]+|admin key:/.test(output))) {
        clearTimeout(timer);
        done(match[1] as string);
      }
    };
    child.stdout?.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`server exited with ${code} before listening:\n${output}`));
    });
  });
  const printedKey = /(stk_[A-Za-z0-9_-]+)/.exec(output)?.[1];
  return {
    url,
    pid: child.pid as number,
    dataDir: options.dataDir,
    adminKey: options.adminKey ?? printedKey ?? "",
    output: () => output,
    async stop() {
      child.kill("SIGTERM");
      return exited;
    },
    async kill9() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Runs the CLI to completion and returns its exit code and output. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const merged: Record<string, string> = { ...(process.env as Record<string, string>), ...env };
    delete merged.NODE_OPTIONS;
    const child = spawn(process.execPath, [CLI, ...args], { env: merged, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => {
      stdout += c;
    });
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    child.once("exit", (code) => done({ code, stdout, stderr }));
  });
}
