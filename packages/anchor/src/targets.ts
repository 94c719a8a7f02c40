import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { ConfigError, StoreError } from "@sealtrail/core";
import { type AwsCredentials, sha256Hex, signAwsV4, uriEncode } from "./sigv4.js";

const run = promisify(execFile);

/** One signed checkpoint of one log, as published. */
export interface Publication {
  readonly log: string;
  readonly treeSize: number;
  /** The signed note, verbatim. */
  readonly note: string;
}

/** "published" wrote it; "unchanged" found it there already from an earlier run. */
export type PublishOutcome = "published" | "unchanged";

export interface AnchorTarget {
  /** For logs and errors; never holds credentials. */
  readonly description: string;
  publish(publication: Publication): Promise<PublishOutcome>;
}

/**
 * Where a checkpoint lands, the same in every target: `<log>/<treeSize>.checkpoint`. One file per
 * publication, never rewritten, so an anchor keeps the whole sequence `verify --against` checks.
 */
export function publicationPath(publication: Pick<Publication, "log" | "treeSize">): string {
  return `${publication.log}/${publication.treeSize}.checkpoint`;
}

/** Writes the file unless it exists; a different checkpoint already there is a fork and refused. */
function writeOnce(root: string, publication: Publication): PublishOutcome {
  const path = join(root, publicationPath(publication));
  if (existsSync(path)) {
    if (readFileSync(path, "utf8") === publication.note) return "unchanged";
    throw new StoreError(
      "anchor_conflict",
      `${path} already holds a different checkpoint of the same size: the log no longer matches what was published`,
    );
  }
  mkdirSync(dirname(path), { recursive: true });
  // Written aside, then renamed: a crash never leaves a half-written checkpoint under the real name.
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, publication.note, { flag: "w" });
  renameSync(temporary, path);
  return "published";
}

export function directoryTarget(path: string): AnchorTarget {
  const root = resolve(path);
  return { description: `directory ${root}`, publish: async (publication) => writeOnce(root, publication) };
}

/** A git repository (created if missing): one commit per publication, through the git CLI. */
export function gitTarget(path: string): AnchorTarget {
  const root = resolve(path);
  const git = (...args: string[]) => run("git", ["-C", root, ...args], { env: { ...process.env, GIT_TERMINAL_PROMPT: "0" } });
  let ready: Promise<unknown> | undefined;
  return {
    description: `git repository ${root}`,
    async publish(publication) {
      ready ??= existsSync(join(root, ".git")) ? Promise.resolve() : run("git", ["init", "--quiet", root]);
      await ready;
      const outcome = writeOnce(root, publication);
      if (outcome === "unchanged") return outcome;
      const file = publicationPath(publication);
      await git("add", "--", file);
      // An identity of its own, so publishing works whatever the operator's git config holds.
      await git(
        "-c",
        "user.name=Sealtrail",
        "-c",
        "user.email=sealtrail@localhost",
        "-c",
        "commit.gpgsign=false",
        "commit",
        "--quiet",
        "-m",
        `${publication.log}: checkpoint at tree size ${publication.treeSize}`,
        "--",
        file,
      );
      return outcome;
    },
  };
}

export interface S3Options {
  readonly bucket: string;
  readonly prefix: string;
  readonly region: string;
  /** An S3-compatible endpoint (path-style requests); default AWS's virtual-hosted endpoint. */
  readonly endpoint?: string;
  readonly credentials: AwsCredentials;
  /** S3 Object Lock mode for each object. */
  readonly lockMode: "GOVERNANCE" | "COMPLIANCE";
  readonly retainDays: number;
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
}

/**
 * An S3 bucket with Object Lock: each checkpoint is PUT once with a retention date, so not even
 * the bucket's owner can delete or overwrite it before then (COMPLIANCE) or only with a special
 * permission (GOVERNANCE). The bucket must have Object Lock enabled.
 */
export function s3Target(options: S3Options): AnchorTarget {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const base = options.endpoint
    ? `${options.endpoint.replace(/\/+$/, "")}/${options.bucket}`
    : `https://${options.bucket}.s3.${options.region}.amazonaws.com`;
  const description = `s3://${options.bucket}/${options.prefix}`;
  return {
    description,
    async publish(publication) {
      const key = [options.prefix, publicationPath(publication)].filter((p) => p.length > 0).join("/");
      const url = new URL(`${base}/${uriEncode(key, false)}`);
      const body = new TextEncoder().encode(publication.note);
      const retainUntil = new Date(now() + options.retainDays * 86_400_000).toISOString().replace(/\.\d{3}Z$/, "Z");
      const signed = signAwsV4({
        method: "PUT",
        url,
        headers: {
          "content-type": "text/plain; charset=utf-8",
          // Object Lock PUTs must carry an integrity checksum (S3 PutObject: Content-MD5 or x-amz-checksum-*).
          "content-md5": createHash("md5").update(body).digest("base64"),
          "x-amz-object-lock-mode": options.lockMode,
          "x-amz-object-lock-retain-until-date": retainUntil,
          // Never replace an object: an existing one is the checkpoint published first.
          "if-none-match": "*",
        },
        payloadHash: sha256Hex(body),
        region: options.region,
        credentials: options.credentials,
        date: new Date(now()),
      });
      // Bounded, so one unreachable endpoint cannot hold up every later round of publications.
      const response = await doFetch(url, { method: "PUT", headers: signed.headers, body, signal: AbortSignal.timeout(30_000) });
      if (response.status === 412) return "unchanged";
      if (!response.ok) {
        const text = (await response.text()).slice(0, 300);
        const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? "";
        throw new StoreError("anchor_failed", `${description}: PUT ${key} answered ${response.status} ${code}`.trim());
      }
      return "published";
    },
  };
}

/**
 * Parses `dir:/path`, `git:/path` or `s3://bucket/prefix?region=…&endpoint=…&lock=…&retainDays=…`.
 * S3 credentials come from the environment only (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN), never from arguments, which other users can read in the process list.
 */
export function parseAnchorTarget(spec: string, env: Readonly<Record<string, string | undefined>>): AnchorTarget {
  if (spec.startsWith("dir:") && spec.length > 4) return directoryTarget(spec.slice(4));
  if (spec.startsWith("git:") && spec.length > 4) return gitTarget(spec.slice(4));
  if (spec.startsWith("s3://")) {
    let url: URL;
    try {
      url = new URL(spec);
    } catch {
      throw new ConfigError("invalid_anchor", `--anchor ${spec} is not a valid s3:// URL`);
    }
    const params = url.searchParams;
    for (const name of params.keys()) {
      if (!["region", "endpoint", "lock", "retainDays"].includes(name)) {
        throw new ConfigError("invalid_anchor", `--anchor: unknown S3 option ${name} (region, endpoint, lock, retainDays)`);
      }
    }
    const lock = (params.get("lock") ?? "governance").toUpperCase();
    if (lock !== "GOVERNANCE" && lock !== "COMPLIANCE")
      throw new ConfigError("invalid_anchor", "--anchor: lock must be governance or compliance");
    const retainDays = Number(params.get("retainDays") ?? "365");
    if (!Number.isInteger(retainDays) || retainDays < 1)
      throw new ConfigError("invalid_anchor", "--anchor: retainDays must be a positive integer");
    const accessKeyId = env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) {
      throw new ConfigError("invalid_anchor", "--anchor s3://… needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment");
    }
    const endpoint = params.get("endpoint") ?? undefined;
    return s3Target({
      bucket: url.hostname,
      prefix: url.pathname.replace(/^\/+|\/+$/g, ""),
      region: params.get("region") ?? env.AWS_REGION ?? "us-east-1",
      ...(endpoint ? { endpoint } : {}),
      credentials: { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) },
      lockMode: lock,
      retainDays,
    });
  }
  throw new ConfigError("invalid_anchor", `--anchor ${spec}: expected dir:/path, git:/path or s3://bucket/prefix`);
}
