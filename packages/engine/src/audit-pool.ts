import type { Worker } from "node:worker_threads";
import { StoreError } from "@sealtrail/core";
import type { ChunkVerdict } from "./audit-chunk.js";
import { startModuleWorker } from "./module-worker.js";
import type { EntryReaderRecipe, PrunedRange } from "./store.js";

export interface AuditWorkerData {
  readonly recipe: EntryReaderRecipe;
  readonly log: string;
  readonly pruned: readonly PrunedRange[];
}

export interface ChunkRequest {
  readonly id: number;
  readonly start: number;
  readonly count: number;
}

export type ChunkReply =
  | { readonly id: number; readonly verdict: ChunkVerdict }
  | { readonly id: number; readonly error: { readonly message: string; readonly code?: string } };

interface Pending {
  resolve(verdict: ChunkVerdict): void;
  reject(error: Error): void;
}

/**
 * Worker threads that each open their own read-only handle on a store (its `entryReader` recipe)
 * and read and verify the chunks of one log they are given (audit-chunk.ts): leaf hashing, the
 * canonical check and the tile hashes run on every core while the caller folds the tree.
 */
export class AuditPool {
  readonly #workers: Worker[];
  readonly #load: number[];
  readonly #exited: boolean[];
  readonly #pending = new Map<number, Pending & { worker: number }>();
  #nextId = 0;
  #failure: Error | undefined;

  constructor(options: { recipe: EntryReaderRecipe; log: string; pruned: readonly PrunedRange[]; size: number }) {
    const workerData: AuditWorkerData = { recipe: options.recipe, log: options.log, pruned: options.pruned };
    this.#workers = Array.from({ length: options.size }, (_, w) => {
      const worker = startModuleWorker(import.meta.url, "audit-worker", workerData);
      worker.on("message", (reply: ChunkReply) => this.#settle(w, reply));
      worker.on("error", (error) => this.#abort(error));
      worker.on("exit", (code) => {
        this.#exited[w] = true;
        if (code !== 0) this.#abort(new StoreError("store_failed", `audit worker exited with code ${code}`));
      });
      return worker;
    });
    this.#load = this.#workers.map(() => 0);
    this.#exited = this.#workers.map(() => false);
  }

  get size(): number {
    return this.#workers.length;
  }

  /** Reads and verifies entries [start, start + count) in the least busy worker. */
  verify(start: number, count: number): Promise<ChunkVerdict> {
    if (this.#failure) return Promise.reject(this.#failure);
    let w = 0;
    for (let i = 1; i < this.#load.length; i++) if ((this.#load[i] as number) < (this.#load[w] as number)) w = i;
    const id = this.#nextId++;
    this.#load[w] = (this.#load[w] as number) + 1;
    const request: ChunkRequest = { id, start, count };
    return new Promise<ChunkVerdict>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, worker: w });
      (this.#workers[w] as Worker).postMessage(request);
    });
  }

  /** Lets every worker close its store handle and exit. */
  async close(): Promise<void> {
    await Promise.all(
      this.#workers.map(
        (worker, w) =>
          new Promise<void>((resolve) => {
            if (this.#exited[w]) return resolve();
            worker.once("exit", () => resolve());
            worker.postMessage("close");
          }),
      ),
    );
  }

  #settle(w: number, reply: ChunkReply): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    this.#load[w] = (this.#load[w] as number) - 1;
    if ("verdict" in reply) pending.resolve(reply.verdict);
    else pending.reject(new StoreError(reply.error.code ?? "store_failed", reply.error.message));
  }

  #abort(error: Error): void {
    this.#failure ??= error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}
