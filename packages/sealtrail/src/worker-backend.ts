import { resolve } from "node:path";
import { ConfigError, rebuildError, StoreError } from "@sealtrail/core";
import { startModuleWorker } from "@sealtrail/engine";
import type { Backend } from "./backend.js";
import type { EmbeddedOptions } from "./embedded.js";
import type { Reply, Request } from "./worker-protocol.js";

type Call = Request extends infer R ? (R extends { seq: number } ? Omit<R, "seq"> : never) : never;

/** Data directories opened by this process (each worker only sees its own). */
const openHere = new Set<string>();

/**
 * An embedded log whose engine runs on its own thread: the app's request thread neither hashes
 * nor writes; it posts the event and awaits the durable answer, so a commit's CPU time is not
 * taken from request handling. The worker is unref'd whenever no call is pending, so an idle
 * audit log never keeps the process alive.
 */
export async function openWorkerBackend(options: EmbeddedOptions & { maxPending?: number }): Promise<Backend> {
  const maxPending = options.maxPending ?? 10_000;
  const claimed = options.path === undefined || options.postgresUrl ? undefined : resolve(options.path);
  if (claimed !== undefined) {
    if (openHere.has(claimed)) throw new ConfigError("data_dir_locked", `${claimed} is already open in this process; share one audit log`);
    openHere.add(claimed);
  }
  const release = () => {
    if (claimed !== undefined) openHere.delete(claimed);
  };
  const worker = startModuleWorker(import.meta.url, "embedded-worker", options);
  const exited = new Promise((done) => worker.once("exit", done));
  const waiting = new Map<number, { resolve(value: unknown): void; reject(error: unknown): void }>();
  let seq = 0;
  let failure: Error | undefined;
  worker.on("message", (replies: readonly Reply[]) => {
    for (const reply of replies) {
      const call = waiting.get(reply.seq);
      if (!call) continue;
      waiting.delete(reply.seq);
      if (reply.ok) call.resolve(reply.value);
      else call.reject(rebuildError(reply.error));
    }
    if (waiting.size === 0) worker.unref();
  });
  const fail = (error: Error) => {
    failure = error;
    for (const call of waiting.values()) call.reject(error);
    waiting.clear();
  };
  worker.on("error", fail);
  worker.on("exit", () => fail(new Error("the audit log's worker thread has exited")));

  // Calls made in one turn of the event loop (the records of every request it handled) cross to
  // the worker in one message, and their answers come back the same way: a message costs ~15 µs
  // of CPU across both threads, a batch of them ~4 µs per call.
  let outbox: Request[] = [];
  const send = () => {
    const requests = outbox;
    outbox = [];
    if (!failure) worker.postMessage(requests);
  };
  const call = <T>(message: Call): Promise<T> => {
    if (failure) return Promise.reject(failure);
    const id = seq++;
    if (waiting.size === 0) worker.ref();
    if (outbox.length === 0) setImmediate(send);
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      outbox.push({ ...message, seq: id } as Request);
    });
  };

  const { mode } = await call<{ mode: "sqlite" | "postgres" }>({ op: "open" }).catch(async (error) => {
    await worker.terminate();
    release();
    throw error;
  });
  return {
    mode,
    log: options.log,
    append: (event) => {
      // Backpressure: an app recording faster than the log commits gets an error, not a heap
      // that grows until the process dies (the same bound as the client SDK's queue).
      if (waiting.size >= maxPending) {
        return Promise.reject(new StoreError("queue_full", `${waiting.size} events are waiting for the audit log to commit them`));
      }
      return call({ op: "append", event });
    },
    query: (query, queryOptions) => call({ op: "query", query, options: queryOptions }),
    prove: (id) => call({ op: "prove", id }),
    verify: () => call({ op: "verify" }),
    erase: (subject, request) => call({ op: "erase", subject, request }),
    close: async () => {
      try {
        await call({ op: "close" });
        // Held until the thread has ended: the store is closed only then.
        worker.ref();
        await exited;
      } finally {
        release();
      }
    },
  };
}
