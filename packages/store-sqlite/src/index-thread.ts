import type { Worker } from "node:worker_threads";
import { rebuildError, type WireError } from "@sealtrail/core";
import { startModuleWorker } from "@sealtrail/engine";
import type { IndexService } from "./index-service.js";
import type { IndexBatch } from "./query-index.js";

type Calls = Omit<IndexService, "add">;
type Method = keyof Calls;

/**
 * The store's query index, asked asynchronously: on the index thread, or inline. `add` returns a
 * promise only when the appender must wait for the index to catch up (backpressure).
 */
export type QueryIndex = { add(batches: readonly IndexBatch[]): Promise<void> | undefined } & {
  [M in Method]: (...args: Parameters<Calls[M]>) => Promise<ReturnType<Calls[M]>>;
};

/** Messages to the index thread. Only calls are answered; adds are fire-and-forget. */
export type IndexMessage =
  | { readonly op: "add"; readonly batches: readonly IndexBatch[] }
  | { readonly op: "call"; readonly seq: number; readonly method: Method; readonly args: readonly unknown[] };

export type IndexReply =
  | ({ readonly seq: number } & ({ readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: WireError }))
  /** Sent after each add: how many entries it covered. */
  | { readonly added: number }
  /** Something the operator should hear of (an upgrade of the index database starting). */
  | { readonly notice: string };

/**
 * Entries posted to the index thread and not yet added there. Above this the appender waits:
 * a thread held up (a long query, a catch-up of millions of entries) must not let the queue of
 * index rows grow without bound. About one index commit's worth.
 */
const DEFAULT_MAX_UNINDEXED = 50_000;

export interface IndexThreadData {
  readonly logPath: string;
  readonly indexPath: string;
}

export interface IndexThreadOptions extends IndexThreadData {
  /** Entries posted and not yet added above which `add` makes the appender wait (default 50,000). */
  readonly maxUnindexed?: number;
  /** Hears the thread's notices (an upgrade of the index database starting). */
  readonly onNotice?: (notice: string) => void;
}

/** The index service on the store's own thread (`:memory:`, read-only opens). */
export function inlineIndex(service: IndexService): QueryIndex {
  const run =
    <M extends Method>(method: M) =>
    (...args: Parameters<Calls[M]>): Promise<ReturnType<Calls[M]>> => {
      try {
        return Promise.resolve((service[method] as (...a: unknown[]) => ReturnType<Calls[M]>)(...args));
      } catch (error) {
        return Promise.reject(error);
      }
    };
  return {
    add: (batches) => {
      service.add(batches);
      return undefined;
    },
    queryEvents: run("queryEvents"),
    countEvents: run("countEvents"),
    groupEvents: run("groupEvents"),
    unindex: run("unindex"),
    flush: run("flush"),
    close: run("close"),
  };
}

/**
 * The query index on a thread of its own (index-worker.ts), which owns the index connection: the
 * appending thread commits entries and posts their index rows, and goes on with the next commit
 * while the rows are written. Messages are handled in order, so a query asked after an append
 * returned runs after that append's rows were added (read-your-writes). A thread that dies loses
 * only uncommitted index rows; the next one catches up from the leaves (query-index.ts).
 */
export function openIndexThread(options: IndexThreadOptions): QueryIndex {
  const data: IndexThreadData = { logPath: options.logPath, indexPath: options.indexPath };
  const maxUnindexed = options.maxUnindexed ?? DEFAULT_MAX_UNINDEXED;
  let worker: Worker | undefined;
  const waiting = new Map<number, { resolve(value: unknown): void; reject(error: unknown): void }>();
  let seq = 0;
  let unindexed = 0;
  let blocked: (() => void)[] = [];
  const unblock = () => {
    for (const resume of blocked) resume();
    blocked = [];
  };

  const start = (): Worker => {
    const started = startModuleWorker(import.meta.url, "index-worker", data);
    started.unref();
    started.on("message", (reply: IndexReply) => {
      if ("notice" in reply) return options.onNotice?.(reply.notice);
      if ("added" in reply) {
        unindexed -= reply.added;
        if (unindexed <= maxUnindexed / 2) unblock();
        return;
      }
      const call = waiting.get(reply.seq);
      if (!call) return;
      waiting.delete(reply.seq);
      if (waiting.size === 0) started.unref();
      if (reply.ok) call.resolve(reply.value);
      else call.reject(rebuildError(reply.error));
    });
    const fail = (error: Error) => {
      if (worker === started) worker = undefined;
      for (const call of waiting.values()) call.reject(error);
      waiting.clear();
      // Its queued adds died with it; the next thread catches up from the leaves.
      unindexed = 0;
      unblock();
    };
    started.on("error", fail);
    started.on("exit", () => fail(new Error("the query index thread has exited")));
    return started;
  };
  const current = (): Worker => {
    worker ??= start();
    return worker;
  };
  const call =
    <M extends Method>(method: M) =>
    (...args: Parameters<Calls[M]>): Promise<ReturnType<Calls[M]>> => {
      const target = current();
      const id = seq++;
      if (waiting.size === 0) target.ref();
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
        target.postMessage({ op: "call", seq: id, method, args } satisfies IndexMessage);
      });
    };

  return {
    add(batches) {
      current().postMessage({ op: "add", batches } satisfies IndexMessage);
      for (const batch of batches) unindexed += batch.entries.length;
      if (unindexed <= maxUnindexed) return undefined;
      return new Promise<void>((resume) => blocked.push(resume));
    },
    queryEvents: call("queryEvents"),
    countEvents: call("countEvents"),
    groupEvents: call("groupEvents"),
    unindex: call("unindex"),
    flush: call("flush"),
    async close() {
      const closing = worker;
      if (!closing) return;
      const exited = new Promise((done) => closing.once("exit", done));
      await call("close")();
      // Held until the thread has gone: an unref'd thread would let the process leave before.
      closing.ref();
      await exited;
    },
  };
}
