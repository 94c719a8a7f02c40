import { existsSync } from "node:fs";
import { type AgainstReport, readPublishedCheckpoints, verifyAgainstPublished } from "@sealtrail/anchor";
import {
  ConfigError,
  createTileNodeReader,
  fromBase64,
  type Hash,
  parseVerifierKey,
  proveConsistency,
  VerificationError,
} from "@sealtrail/core";
import { auditLog, dataDir, loadSigner, originSigner } from "@sealtrail/engine";
import { createSqliteStore } from "@sealtrail/store-sqlite";

export interface AgainstOptions {
  /** Directory or git work tree of published checkpoints (`serve --anchor dir:|git:`). */
  readonly against: string;
  readonly data?: string;
  readonly url?: string;
  readonly key?: string;
  readonly log?: string;
  readonly verifierKey?: string;
  readonly print: (line: string) => void;
  readonly json: boolean;
}

class HttpRefused extends Error {}

async function getOk(url: string, key: string | undefined): Promise<Response> {
  const response = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  if (!response.ok) throw new HttpRefused(`${url} answered ${response.status}`);
  return response;
}

/**
 * `sealtrail verify --against <published>`: the current log, from a data directory (offline, after
 * auditing its entries and tiles) or a server, must prove consistency with every checkpoint that
 * was published. Returns true when every log checks out; prints which published checkpoint fails.
 */
export async function verifyAgainst(options: AgainstOptions): Promise<boolean> {
  const published = readPublishedCheckpoints(options.against, options.log ? [options.log] : undefined);
  if ([...published.values()].every((list) => list.length === 0)) {
    throw new ConfigError("invalid_anchor", `no published checkpoints (<log>/<size>.checkpoint) in ${options.against}`);
  }
  const reports: AgainstReport[] = [];
  const auditProblems: string[] = [];
  if (options.data) {
    const dir = dataDir(options.data);
    if (!existsSync(dir.databasePath)) throw new ConfigError("no_database", `no Sealtrail database in ${dir.path}`);
    const signer = options.verifierKey
      ? undefined
      : await loadSigner(dir, { keyName: "unused", create: false, env: process.env.SEALTRAIL_SIGNING_KEY });
    const store = createSqliteStore({ path: dir.databasePath, readonly: true });
    try {
      for (const [log, list] of published) {
        if (list.length === 0) continue;
        const origin = signer ? `${signer.name}/${log}` : parseVerifierKey(options.verifierKey as string).name;
        const verifierKey = signer ? (await originSigner(signer, origin)).verifierKey : (options.verifierKey as string);
        const verifiers = [parseVerifierKey(verifierKey)];
        const latest = await store.latestCheckpoint(log);
        if (!latest) {
          reports.push({
            log,
            currentSize: 0,
            ok: false,
            checks: list.map((p) => ({ file: p.file, ok: false, problem: "the log does not exist here" })),
          });
          continue;
        }
        // The published checkpoints are checked against the stored tree: first make sure that tree
        // is the one the stored entries hash to.
        const audit = await auditLog(store, log, { verifiers, origin });
        if (!audit.ok) auditProblems.push(`${log}: ${audit.problem}`);
        const reader = createTileNodeReader((level, start, count) => store.readHashes(log, level, start, count));
        reports.push(
          await verifyAgainstPublished({
            log,
            origin,
            verifiers,
            published: list,
            current: { checkpoint: latest.note, proveConsistency: (from, to) => proveConsistency(from, to, reader) },
          }),
        );
      }
    } finally {
      await store.close();
    }
  } else if (options.url) {
    const base = options.url.replace(/\/+$/, "");
    try {
      for (const [log, list] of published) {
        if (list.length === 0) continue;
        const path = encodeURIComponent(log);
        const info = (await (await getOk(`${base}/v1/logs/${path}`, options.key)).json()) as { origin: string; verifierKey: string };
        const verifierKey = options.verifierKey ?? info.verifierKey;
        const checkpoint = await (await getOk(`${base}/logs/${path}/checkpoint`, options.key)).text();
        const proveRemote = async (from: number, to: number): Promise<Hash[]> => {
          const response = await getOk(`${base}/v1/logs/${path}/proofs/consistency?from=${from}&to=${to}`, options.key);
          return ((await response.json()) as { hashes: string[] }).hashes.map(fromBase64);
        };
        reports.push(
          await verifyAgainstPublished({
            log,
            origin: info.origin,
            verifiers: [parseVerifierKey(verifierKey)],
            published: list,
            current: { checkpoint, proveConsistency: proveRemote },
          }),
        );
      }
    } catch (error) {
      if (error instanceof HttpRefused) throw new VerificationError("anchor_unverifiable", error.message);
      throw error;
    }
  } else {
    throw new ConfigError("invalid_anchor", "--against needs the current log: --data DIR or --url URL");
  }

  const ok = auditProblems.length === 0 && reports.every((r) => r.ok);
  if (options.json) {
    options.print(JSON.stringify({ ok, auditProblems, logs: reports }));
    return ok;
  }
  for (const problem of auditProblems) options.print(`FAIL ${problem}`);
  for (const report of reports) {
    const passed = report.checks.filter((c) => c.ok).length;
    if (report.ok) {
      options.print(`OK   ${report.log}: size ${report.currentSize} is consistent with all ${passed} published checkpoints`);
      continue;
    }
    options.print(`FAIL ${report.log}: ${report.checks.length - passed} of ${report.checks.length} published checkpoints do not match`);
    for (const check of report.checks.filter((c) => !c.ok)) options.print(`     ${check.file}: ${check.problem}`);
  }
  return ok;
}
