import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError, type Hash, type NoteVerifier, openCheckpoint, VerificationError, verifyConsistency } from "@sealtrail/core";

/** A checkpoint as found in an anchor: `<root>/<log>/<treeSize>.checkpoint`. */
export interface PublishedCheckpoint {
  readonly file: string;
  readonly log: string;
  /** The tree size its file name claims (the signed note is what counts). */
  readonly namedSize: number;
  readonly note: string;
}

const FILE = /^(0|[1-9][0-9]{0,15})\.checkpoint$/;
const MAX_CHECKPOINT_BYTES = 64 * 1024;

/** Reads the published checkpoints of a directory or git work tree, per log, in increasing size. */
export function readPublishedCheckpoints(path: string, logs?: readonly string[]): Map<string, PublishedCheckpoint[]> {
  const root = resolve(path);
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    throw new ConfigError("invalid_anchor", `cannot read published checkpoints from ${root}`);
  }
  const out = new Map<string, PublishedCheckpoint[]>();
  for (const log of logs ?? names.filter((n) => !n.startsWith(".") && statSync(join(root, n)).isDirectory()).sort()) {
    const dir = join(root, log);
    let files: string[] = [];
    try {
      files = readdirSync(dir).filter((f) => FILE.test(f));
    } catch {
      // A log that was never published has no directory: nothing to check against.
    }
    const found = files.map((f) => {
      const file = join(dir, f);
      if (statSync(file).size > MAX_CHECKPOINT_BYTES) throw new ConfigError("invalid_anchor", `${file} is too large to be a checkpoint`);
      return { file, log, namedSize: Number(f.slice(0, -".checkpoint".length)), note: readFileSync(file, "utf8") };
    });
    out.set(
      log,
      found.sort((a, b) => a.namedSize - b.namedSize),
    );
  }
  return out;
}

export interface CurrentLog {
  /** The log's latest signed checkpoint note. */
  readonly checkpoint: string;
  /** RFC 9162 consistency proof from an earlier size to the current checkpoint's size. */
  proveConsistency(from: number, to: number): Promise<Hash[]>;
}

export interface PublishedCheck {
  readonly file: string;
  readonly treeSize?: number;
  readonly ok: boolean;
  readonly problem?: string;
}

export interface AgainstReport {
  readonly log: string;
  readonly currentSize: number;
  readonly checks: readonly PublishedCheck[];
  readonly ok: boolean;
}

/**
 * Proves that the current log extends every published checkpoint: each must be signed by the
 * log's key for its origin, no larger than the current tree, and consistent with it (RFC 9162
 * §2.1.4). A store rewritten with a different history fails here even when it verifies on its own.
 */
export async function verifyAgainstPublished(options: {
  readonly log: string;
  readonly origin: string;
  readonly verifiers: readonly NoteVerifier[];
  readonly published: readonly PublishedCheckpoint[];
  readonly current: CurrentLog;
}): Promise<AgainstReport> {
  const current = await openCheckpoint(options.current.checkpoint, { verifiers: options.verifiers, origin: options.origin });
  const checks: PublishedCheck[] = [];
  for (const published of options.published) {
    const fail = (problem: string, treeSize?: number) =>
      checks.push({ file: published.file, ok: false, problem, ...(treeSize === undefined ? {} : { treeSize }) });
    let checkpoint: Awaited<ReturnType<typeof openCheckpoint>>;
    try {
      checkpoint = await openCheckpoint(published.note, { verifiers: options.verifiers, origin: options.origin });
    } catch (error) {
      fail(`not a checkpoint signed by the log's key: ${(error as Error).message}`);
      continue;
    }
    const size = checkpoint.treeSize;
    if (size !== published.namedSize) {
      fail(`its file name says size ${published.namedSize} but it is a checkpoint of size ${size}`, size);
      continue;
    }
    if (size > current.treeSize) {
      fail(`it is ahead of the current log (size ${current.treeSize}): entries were removed or the log was rolled back`, size);
      continue;
    }
    if (size === 0) {
      checks.push({ file: published.file, treeSize: size, ok: true });
      continue;
    }
    try {
      const proof = size === current.treeSize ? [] : await options.current.proveConsistency(size, current.treeSize);
      verifyConsistency(size, current.treeSize, checkpoint.rootHash, current.rootHash, proof);
      checks.push({ file: published.file, treeSize: size, ok: true });
    } catch (error) {
      const why = error instanceof VerificationError ? error.message : `no consistency proof: ${(error as Error).message}`;
      fail(`the current log does not extend it (${why}): the log's history was rewritten`, size);
    }
  }
  return { log: options.log, currentSize: current.treeSize, checks, ok: checks.every((c) => c.ok) };
}
