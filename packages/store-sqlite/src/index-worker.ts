// The query index thread (index-thread.ts): owns the index connection, and reads the log database
// through a connection of its own. Every message is handled to the end before the next one.

import { parentPort, workerData } from "node:worker_threads";
import { wireError } from "@sealtrail/core";
import Database from "better-sqlite3";
import { type IndexService, openIndexService } from "./index-service.js";
import type { IndexMessage, IndexReply, IndexThreadData } from "./index-thread.js";

const port = parentPort;
if (!port) throw new Error("index-worker.ts runs as a worker thread only");
const data = workerData as IndexThreadData;
const logDb = new Database(data.logPath, { fileMustExist: true });
logDb.pragma("busy_timeout = 5000");
const service = openService();

/**
 * A failure to open reaches the store as the worker's `error` event, a structured clone of what
 * was thrown: a better-sqlite3 SqliteError arrives as `{ code }` without its message, a plain
 * Error keeps it.
 */
function openService(): IndexService {
  try {
    return openIndexService({
      logDb,
      indexPath: data.indexPath,
      readonly: false,
      onUpgrade: (notice) => parentPort?.postMessage({ notice } satisfies IndexReply),
    });
  } catch (error) {
    const { message, code } = error as { message?: string; code?: string };
    throw new Error(`the query index (${data.indexPath}) could not be opened: ${message ?? String(error)}${code ? ` (${code})` : ""}`);
  }
}

port.on("message", (message: IndexMessage) => {
  if (message.op === "add") {
    service.add(message.batches);
    const added = message.batches.reduce((n, batch) => n + batch.entries.length, 0);
    return port.postMessage({ added } satisfies IndexReply);
  }
  let reply: IndexReply;
  try {
    const value = (service[message.method] as (...args: unknown[]) => unknown)(...message.args);
    reply = { seq: message.seq, ok: true, value };
  } catch (error) {
    reply = { seq: message.seq, ok: false, error: wireError(error) };
  }
  if (message.method === "close") logDb.close();
  port.postMessage(reply);
  if (message.method === "close") port.close();
});
