// An audit worker thread (audit-pool.ts): opens its own read-only handle on the store, then reads
// and verifies the chunks it is sent, one after another, and answers with their verdicts.
import { parentPort, workerData } from "node:worker_threads";
import { auditChunk, type ChunkVerdict } from "./audit-chunk.js";
import type { AuditWorkerData, ChunkReply, ChunkRequest } from "./audit-pool.js";
import type { EntryReader } from "./store.js";

const { recipe, log, pruned } = workerData as AuditWorkerData;
const port = parentPort;
if (!port) throw new Error("audit-worker.ts runs as a worker thread");

let reader: Promise<EntryReader> | undefined;
let queue: Promise<void> = Promise.resolve();

port.on("message", (message: ChunkRequest | "close") => {
  queue = queue.then(async () => {
    if (message === "close") {
      await reader?.then((r) => r.close()).catch(() => undefined); // a reader that never opened has nothing to close
      port.close();
      return;
    }
    let reply: ChunkReply;
    let transfer: ArrayBuffer[] = [];
    try {
      reader ??= import(recipe.module).then((m: { openEntryReader(options: unknown): EntryReader }) => m.openEntryReader(recipe.options));
      const verdict: ChunkVerdict = await auditChunk(await reader, log, message.start, message.count, pruned);
      reply = { id: message.id, verdict };
      transfer = [verdict.leafHashes.buffer as ArrayBuffer, verdict.tiles.buffer as ArrayBuffer];
    } catch (error) {
      const { message: text, code } = error as { message?: string; code?: string };
      reply = { id: message.id, error: { message: String(text ?? error), ...(code ? { code } : {}) } };
    }
    port.postMessage(reply, transfer);
  });
});
