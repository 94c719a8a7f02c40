// Test helpers (excluded from the build by tsconfig's `src/**/test-*.ts`): a real SQLite store in a
// temp dir, a thin instrumenting wrapper that counts and can intercept store calls (it always
// delegates to the real store), event factories and an RFC 9162 reference root from stored leaves.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  generateSignerKey,
  type Hash,
  hashLeaf,
  type NoteSigner,
  type NoteVerifier,
  parseSignerKey,
  parseVerifierKey,
  rootFromLeafHashes,
} from "@sealtrail/core";
import { createSqliteStore } from "@sealtrail/store-sqlite";
import { type EngineOptions, LogEngine, originSigner } from "./engine.js";
import type { ApiKeyRecord, LogAppend, LogStore, StoredCheckpoint, StoredEntry } from "./store.js";

export const ORIGIN_PREFIX = "test.example";

export interface TempDir {
  readonly path: string;
  file(name: string): string;
  remove(): void;
}

export function tempDir(): TempDir {
  const path = mkdtempSync(join(tmpdir(), "sealtrail-engine-"));
  return { path, file: (name) => join(path, name), remove: () => rmSync(path, { recursive: true, force: true }) };
}

let sharedSigner: Promise<NoteSigner> | undefined;

/** One signer per test file: generating keys is cheap, but tests reopen engines with the same key. */
export function testSigner(): Promise<NoteSigner> {
  sharedSigner ??= generateSignerKey("test.example").then(parseSignerKey);
  return sharedSigner;
}

export async function otherSigner(name = "test.example"): Promise<NoteSigner> {
  return parseSignerKey(await generateSignerKey(name));
}

/** The verifier of a log's checkpoints: the server key under the log's origin (engine `originSigner`). */
export async function verifierOf(signer: NoteSigner, origin: string): Promise<NoteVerifier> {
  return parseVerifierKey((await originSigner(signer, origin)).verifierKey);
}

export type StoreMethod = Exclude<keyof LogStore, "description">;

/**
 * What a test may put in front of the real store. Each hook gets the real store and the call's
 * arguments; returning normally replaces the result, throwing fails the call.
 */
export interface StoreHooks {
  append?(inner: LogStore, batches: readonly LogAppend[]): Promise<void>;
  appendCheckpoint?(inner: LogStore, checkpoint: StoredCheckpoint): Promise<void>;
  appendCheckpoints?(inner: LogStore, checkpoints: readonly StoredCheckpoint[]): Promise<void>;
  readEntries?(inner: LogStore, log: string, start: number, count: number): Promise<StoredEntry[]>;
  readHashes?(inner: LogStore, log: string, level: number, start: number, count: number): Promise<Uint8Array[]>;
  listCheckpoints?(inner: LogStore, log: string, options?: { afterSize?: number; limit?: number }): Promise<StoredCheckpoint[]>;
}

/**
 * Instrumentation, not a mock: every call reaches the real store unless a hook is set, and the
 * hooks themselves usually call through. `calls` counts calls per method, `appends` keeps every
 * batch list passed to `append` (the unit of one transaction), `crash()` makes every later call
 * fail as if the process had died, and closes the real store underneath.
 */
export class InstrumentedStore implements LogStore {
  readonly inner: LogStore;
  hooks: StoreHooks = {};
  readonly calls = new Map<StoreMethod, number>();
  readonly appends: (readonly LogAppend[])[] = [];
  #crashed = false;

  constructor(inner: LogStore) {
    this.inner = inner;
  }

  get description(): string {
    return `instrumented ${this.inner.description}`;
  }

  count(method: StoreMethod): number {
    return this.calls.get(method) ?? 0;
  }

  async crash(): Promise<void> {
    this.#crashed = true;
    await this.inner.close();
  }

  #enter(method: StoreMethod): void {
    this.calls.set(method, this.count(method) + 1);
    if (this.#crashed && method !== "close") throw new Error(`store crashed (${method})`);
  }

  async listLogs() {
    this.#enter("listLogs");
    return this.inner.listLogs();
  }
  async getLog(name: string) {
    this.#enter("getLog");
    return this.inner.getLog(name);
  }
  async append(batches: readonly LogAppend[]) {
    this.#enter("append");
    this.appends.push(batches);
    return this.hooks.append ? this.hooks.append(this.inner, batches) : this.inner.append(batches);
  }
  async findEntriesById(log: string, ids: readonly string[]) {
    this.#enter("findEntriesById");
    return this.inner.findEntriesById(log, ids);
  }
  async readEntries(log: string, start: number, count: number) {
    this.#enter("readEntries");
    return this.hooks.readEntries ? this.hooks.readEntries(this.inner, log, start, count) : this.inner.readEntries(log, start, count);
  }
  async readHashes(log: string, level: number, start: number, count: number) {
    this.#enter("readHashes");
    return this.hooks.readHashes
      ? this.hooks.readHashes(this.inner, log, level, start, count)
      : this.inner.readHashes(log, level, start, count);
  }
  async appendCheckpoint(checkpoint: StoredCheckpoint) {
    this.#enter("appendCheckpoint");
    return this.hooks.appendCheckpoint ? this.hooks.appendCheckpoint(this.inner, checkpoint) : this.inner.appendCheckpoint(checkpoint);
  }
  async appendCheckpoints(checkpoints: readonly StoredCheckpoint[]) {
    this.#enter("appendCheckpoints");
    if (this.hooks.appendCheckpoints) return this.hooks.appendCheckpoints(this.inner, checkpoints);
    if (!this.inner.appendCheckpoints) throw new Error("the store has no appendCheckpoints");
    return this.inner.appendCheckpoints(checkpoints);
  }
  async latestCheckpoint(log: string) {
    this.#enter("latestCheckpoint");
    return this.inner.latestCheckpoint(log);
  }
  async listCheckpoints(log: string, options?: { afterSize?: number; limit?: number }) {
    this.#enter("listCheckpoints");
    return this.hooks.listCheckpoints ? this.hooks.listCheckpoints(this.inner, log, options) : this.inner.listCheckpoints(log, options);
  }
  async insertApiKey(key: ApiKeyRecord) {
    this.#enter("insertApiKey");
    return this.inner.insertApiKey(key);
  }
  async findApiKey(id: string) {
    this.#enter("findApiKey");
    return this.inner.findApiKey(id);
  }
  async listApiKeys() {
    this.#enter("listApiKeys");
    return this.inner.listApiKeys();
  }
  async revokeApiKey(id: string, at: string) {
    this.#enter("revokeApiKey");
    return this.inner.revokeApiKey(id, at);
  }
  async close() {
    this.#enter("close");
    return this.inner.close();
  }
}

export interface TestEngine {
  readonly engine: LogEngine;
  readonly store: InstrumentedStore;
  readonly signer: NoteSigner;
  readonly path: string;
}

/** Opens an engine over a real SQLite file (created if missing), wrapped in an InstrumentedStore. */
export async function openTestEngine(
  path: string,
  options: Partial<Omit<EngineOptions, "store">> & { hooks?: StoreHooks } = {},
): Promise<TestEngine> {
  const { hooks, ...engineOptions } = options;
  const store = new InstrumentedStore(createSqliteStore({ path }));
  if (hooks) store.hooks = hooks;
  const signer = engineOptions.signer ?? (await testSigner());
  const engine = await LogEngine.open({ originPrefix: ORIGIN_PREFIX, ...engineOptions, signer, store });
  return { engine, store, signer, path };
}

/** A valid event as an application would send it; `n` lands in the metadata so leaves differ. */
export function makeEvent(n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    action: "document.shared",
    occurredAt: "2026-11-27T12:00:00.000Z",
    actor: { type: "user", id: `u_${n % 17}` },
    targets: [{ type: "document", id: `doc_${n}` }],
    metadata: { n },
    ...extra,
  };
}

export function makeEvents(from: number, count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => makeEvent(from + i));
}

/** Every stored entry of a log, in index order, read straight from a store. */
export async function readAllEntries(store: LogStore, log: string, size: number): Promise<StoredEntry[]> {
  const out: StoredEntry[] = [];
  for (let start = 0; start < size; start += 4096) out.push(...(await store.readEntries(log, start, Math.min(4096, size - start))));
  return out;
}

/** RFC 9162 MTH over the first `size` stored leaves, recomputed from their bytes. */
export async function referenceRoot(store: LogStore, log: string, size: number): Promise<Hash> {
  const entries = await readAllEntries(store, log, size);
  if (entries.length !== size) throw new Error(`expected ${size} entries, read ${entries.length}`);
  return rootFromLeafHashes(entries.map((e) => hashLeaf(e.leaf)));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** A copy with one bit flipped, for tampering. */
export function flipBit(bytes: Uint8Array, at = 0): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[at] = (copy[at] as number) ^ 0x01;
  return copy;
}
