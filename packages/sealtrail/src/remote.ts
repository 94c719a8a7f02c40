import { type ClientOptions, createClient } from "@sealtrail/client";
import { openLogCheckpoint, verifyConsistencyProof } from "@sealtrail/client/verify";
import { NotFoundError, type SealtrailError, VerificationError } from "@sealtrail/core";
import type { Backend, VerifyResult } from "./backend.js";

export interface RemoteOptions {
  readonly url: string;
  readonly apiKey?: string;
  readonly log: string;
  /** The log's verifier key, pinned; by default the one the server reports is trusted on first use. */
  readonly verifierKey?: string;
  readonly client?: Omit<ClientOptions, "url" | "apiKey" | "log">;
}

const isNotFound = (error: unknown) => error instanceof NotFoundError && (error as SealtrailError).code === "log_not_found";

/** The log on a Sealtrail server, through the client SDK (batching, retries, spool). */
export async function openRemote(options: RemoteOptions): Promise<Backend> {
  const client = await createClient({
    ...options.client,
    url: options.url,
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    log: options.log,
  });
  let trusted: { treeSize: number; rootHash: Uint8Array } | undefined;
  let verifierKey = options.verifierKey;
  return {
    mode: "remote",
    log: options.log,
    async append(event) {
      const ack = await client.record(event);
      return { id: ack.id, index: ack.index };
    },
    async query(query, queryOptions) {
      try {
        return await client.query(query, queryOptions);
      } catch (error) {
        if (isNotFound(error)) return { events: [], nextCursor: null };
        throw error;
      }
    },
    async prove(id) {
      if (!verifierKey) verifierKey = (await client.logInfo()).verifierKey;
      return client.prove(id, { verifierKey });
    },
    /**
     * The latest checkpoint is signed by the (pinned) verifier key, and is consistent with the
     * last checkpoint this process verified (RFC 9162 §2.1.4): the log only ever grew.
     */
    async verify(): Promise<VerifyResult> {
      const log = options.log;
      let info: Awaited<ReturnType<typeof client.logInfo>>;
      try {
        info = await client.logInfo();
      } catch (error) {
        if (isNotFound(error)) return { ok: true, log, entries: 0, checkpoints: 0 };
        throw error;
      }
      if (!info.checkpoint) return { ok: true, log, entries: 0, checkpoints: 0 };
      verifierKey ??= info.verifierKey;
      try {
        const checkpoint = await openLogCheckpoint(info.checkpoint, { verifierKey, log });
        if (trusted && trusted.treeSize > 0 && trusted.treeSize <= checkpoint.treeSize) {
          const proof = await client.consistencyProof(trusted.treeSize, checkpoint.treeSize);
          verifyConsistencyProof(trusted, checkpoint, proof.hashes);
        } else if (trusted && trusted.treeSize > checkpoint.treeSize) {
          throw new VerificationError("log_shrank", `the log shrank from ${trusted.treeSize} to ${checkpoint.treeSize} entries`);
        }
        trusted = checkpoint;
        return { ok: true, log, entries: checkpoint.treeSize, checkpoints: 1 };
      } catch (error) {
        if (error instanceof VerificationError) return { ok: false, log, entries: info.treeSize, checkpoints: 1, problem: error.message };
        throw error;
      }
    },
    erase: (subject, request) => client.erase(subject, request.log ? { log: request.log } : {}),
    close: () => client.close(),
  };
}
