// Test-only helpers for the HTTP tests (files named test-*.ts are excluded from the build).
// Every harness runs the real app over a real SQLite store in its own temp dir: no mocks.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  decodeEntryBundle,
  generateSignerKey,
  type NoteSigner,
  type NoteVerifier,
  parseSignerKey,
  parseVerifierKey,
  splitTile,
  TILE_WIDTH,
  tilePath,
} from "@sealtrail/core";
import { type CheckpointInfo, type EngineOptions, LogEngine, type LogStore } from "@sealtrail/engine";
import { createSqliteStore } from "@sealtrail/store-sqlite";
import { type AppOptions, createApp } from "./app.js";
import { Authenticator, createApiKey } from "./keys.js";
import type { ProblemBody } from "./problem.js";

export const ORIGIN_PREFIX = "audit.test.example";
export const ENV_ADMIN_KEY = "env-admin-key-for-tests-0123456789abcdef";

export interface HarnessOptions {
  readonly publicTree?: boolean;
  readonly checkpointIntervalMs?: number;
  readonly maxBodyBytes?: number;
  readonly maxBatchEvents?: number;
  readonly envAdminKey?: string;
  /** Defaults to a fresh Ed25519 key named after ORIGIN_PREFIX. */
  readonly signer?: NoteSigner;
  readonly onRequest?: AppOptions["onRequest"];
  /** Crypto-shredding: the engine encrypts through it and the app reveals and erases through it. */
  readonly personalData?: NonNullable<AppOptions["personalData"]> & {
    protect: NonNullable<EngineOptions["protect"]>;
  };
  readonly catalog?: AppOptions["catalog"];
}

export interface HarnessKeys {
  /** Admin key from the store. */
  readonly admin: string;
  /** Ingest and read keys for every log. */
  readonly ingest: string;
  readonly read: string;
  /** Ingest and read keys limited to the log `acme`. */
  readonly acmeIngest: string;
  readonly acmeRead: string;
}

export interface RequestOptions extends Omit<RequestInit, "headers"> {
  /** Sent as `Authorization: Bearer <key>`; `null` sends no Authorization header. */
  readonly key?: string | null;
  readonly headers?: Record<string, string>;
}

export interface Harness {
  readonly app: ReturnType<typeof createApp>;
  readonly engine: LogEngine;
  readonly store: LogStore;
  readonly dir: string;
  readonly keys: HarnessKeys;
  /** Calls the fetch handler in-process; the admin key is sent unless `key` says otherwise. */
  request(path: string, options?: RequestOptions): Promise<Response>;
  /** POSTs a JSON body to `/v1/logs/{log}/events` (`query` is appended as is, e.g. `?wait=checkpoint`). */
  post(log: string, body: unknown, options?: RequestOptions & { query?: string }): Promise<Response>;
  /** Appends through HTTP and waits for a checkpoint covering everything appended so far. */
  seed(log: string, events: unknown[]): Promise<CheckpointInfo>;
  /** What a failed request must leave unchanged. */
  snapshot(log: string): Promise<LogSnapshot>;
  close(): Promise<void>;
}

export interface LogSnapshot {
  readonly exists: boolean;
  readonly integratedSize: number;
  readonly storedSize: number;
  readonly checkpointSize: number | undefined;
  readonly checkpointNote: string | undefined;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), "sealtrail-server-test-"));
  const store = createSqliteStore({ path: join(dir, "log.db"), durability: "normal" });
  const signer = options.signer ?? (await testSigner());
  const engine = await LogEngine.open({
    store,
    signer,
    originPrefix: ORIGIN_PREFIX,
    checkpointIntervalMs: options.checkpointIntervalMs ?? 20,
    ...(options.personalData ? { protect: options.personalData.protect.bind(options.personalData) } : {}),
  });
  const auth = new Authenticator(store, options.envAdminKey);
  const keys: HarnessKeys = {
    admin: (await createApiKey(store, { scope: "admin", label: "test admin" })).key,
    ingest: (await createApiKey(store, { scope: "ingest" })).key,
    read: (await createApiKey(store, { scope: "read" })).key,
    acmeIngest: (await createApiKey(store, { scope: "ingest", logs: ["acme"] })).key,
    acmeRead: (await createApiKey(store, { scope: "read", logs: ["acme"] })).key,
  };
  const app = createApp({
    engine,
    auth,
    ...(options.publicTree === undefined ? {} : { publicTree: options.publicTree }),
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
    ...(options.maxBatchEvents === undefined ? {} : { maxBatchEvents: options.maxBatchEvents }),
    ...(options.onRequest === undefined ? {} : { onRequest: options.onRequest }),
    ...(options.personalData === undefined ? {} : { personalData: options.personalData }),
    ...(options.catalog === undefined ? {} : { catalog: options.catalog }),
  });

  const request = (path: string, init: RequestOptions = {}): Promise<Response> => {
    const { key, headers, ...rest } = init;
    const all: Record<string, string> = { ...headers };
    const bearer = key === undefined ? keys.admin : key;
    if (bearer !== null) all.authorization = `Bearer ${bearer}`;
    return Promise.resolve(app.request(path, { ...rest, headers: all }));
  };

  const post = (log: string, body: unknown, init: RequestOptions & { query?: string } = {}): Promise<Response> => {
    const { query, headers, ...rest } = init;
    return request(`/v1/logs/${log}/events${query ?? ""}`, {
      method: "POST",
      body: typeof body === "string" ? body : JSON.stringify(body),
      headers: { "content-type": "application/json", ...headers },
      ...rest,
    });
  };

  const snapshot = async (log: string): Promise<LogSnapshot> => {
    const exists = await engine.hasLog(log);
    const checkpoint = exists ? await engine.checkpoint(log) : undefined;
    return {
      exists,
      integratedSize: exists ? await engine.integratedSize(log) : 0,
      storedSize: (await store.getLog(log))?.size ?? 0,
      checkpointSize: checkpoint?.treeSize,
      checkpointNote: checkpoint?.note,
    };
  };

  const seed = async (log: string, events: unknown[]): Promise<CheckpointInfo> => {
    // Not `?wait=checkpoint`: that builds a proof per event, which large seeds do not need.
    const response = await post(log, { events });
    assert.ok(response.status === 201 || response.status === 200, `seeding ${log} answered ${response.status}`);
    const size = await engine.integratedSize(log);
    const checkpoint = await engine.waitForCheckpoint(log, size - 1);
    assert.equal(checkpoint.treeSize, size, "seed expects one writer: the checkpoint covers every entry");
    return checkpoint;
  };

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await engine.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };

  return { app, engine, store, dir, keys, request, post, seed, snapshot, close };
}

let counter = 0;

/** A valid event; each call gets a distinct action suffix so leaves differ. */
export function event(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter++;
  return {
    action: "document.shared",
    occurredAt: "2026-11-27T12:00:00.000Z",
    actor: { type: "user", id: "u_42", name: "Ada" },
    targets: [{ type: "document", id: `doc_${counter}`, name: "Q3" }],
    outcome: "success",
    context: { ip: "203.0.113.9", userAgent: "test-agent/1.0", requestId: `req_${counter}` },
    ...overrides,
  };
}

/** `count` valid events. */
export function events(count: number, overrides: Record<string, unknown> = {}): Record<string, unknown>[] {
  return Array.from({ length: count }, () => event(overrides));
}

/** A fresh log name per call, so tests sharing a harness never share a log. */
export function logName(prefix = "log"): string {
  counter++;
  return `${prefix}-${process.pid}-${counter}`;
}

/** Asserts an RFC 9457 problem+json response and returns its body. */
export async function expectProblem(response: Response, status: number, code: string): Promise<ProblemBody> {
  const text = await response.text();
  assert.equal(response.status, status, `expected ${status} ${code}, got ${response.status}: ${text}`);
  assert.equal(response.headers.get("content-type"), "application/problem+json");
  const body = JSON.parse(text) as ProblemBody;
  assert.equal(body.code, code, `expected code ${code}: ${text}`);
  assert.equal(body.status, status);
  assert.equal(body.type, `urn:sealtrail:problem:${code}`);
  assert.equal(typeof body.title, "string");
  assert.ok(body.title.length > 0);
  assert.equal(typeof body.detail, "string");
  assert.ok(body.detail.length > 0);
  return body;
}

/** The JSON pointers (or parameters) a problem names, in order. */
export function pointers(body: ProblemBody): (string | undefined)[] {
  return (body.errors ?? []).map((e) => e.pointer);
}

export function parameters(body: ProblemBody): (string | undefined)[] {
  return (body.errors ?? []).map((e) => e.parameter);
}

/** Reads a successful JSON response, failing with the body text otherwise. */
export async function json<T = Record<string, unknown>>(response: Response, status = 200): Promise<T> {
  const text = await response.text();
  assert.equal(response.status, status, `expected ${status}, got ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** A request body that arrives in chunks, with no Content-Length known up front. */
export function streamBody(chunks: readonly Uint8Array[]): { body: ReadableStream<Uint8Array>; duplex: "half" } {
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[i++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
  });
  return { body, duplex: "half" };
}

export function testSigner(): Promise<NoteSigner> {
  return generateSignerKey(ORIGIN_PREFIX).then(parseSignerKey);
}

/**
 * A signer that does not answer until released, like a remote KMS that is slow: the engine
 * commits entries but cannot sign a checkpoint for them yet.
 */
export function heldSigner(inner: NoteSigner): { signer: NoteSigner; release(): void } {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const signer: NoteSigner = {
    name: inner.name,
    keyId: inner.keyId,
    verifierKey: inner.verifierKey,
    sign: async (message) => {
      await released;
      return inner.sign(message);
    },
  };
  return { signer, release };
}

/** The verifier a client would pin: taken from `GET /v1/logs/{log}`, not from the engine. */
export async function fetchVerifier(h: Harness, log: string): Promise<NoteVerifier> {
  const info = await json<{ verifierKey: string }>(await h.request(`/v1/logs/${log}`));
  return parseVerifierKey(info.verifierKey);
}

/** Every leaf of the first `treeSize` entries, read back through the entry-bundle route. */
export async function fetchLeaves(h: Harness, log: string, treeSize: number): Promise<Uint8Array[]> {
  const leaves: Uint8Array[] = [];
  for (let index = 0; index * TILE_WIDTH < treeSize; index++) {
    const width = Math.min(TILE_WIDTH, treeSize - index * TILE_WIDTH);
    const response = await h.request(`/logs/${log}/${tilePath({ level: "entries", index, width })}`);
    assert.equal(response.status, 200, `entry bundle ${index}.p/${width}`);
    const bundle = decodeEntryBundle(new Uint8Array(await response.arrayBuffer()));
    assert.equal(bundle.length, width);
    leaves.push(...bundle);
  }
  return leaves;
}

/** The level-0 hashes of the first `treeSize` entries, read back through the hash-tile route. */
export async function fetchLeafHashes(h: Harness, log: string, treeSize: number): Promise<Uint8Array[]> {
  const hashes: Uint8Array[] = [];
  for (let index = 0; index * TILE_WIDTH < treeSize; index++) {
    const width = Math.min(TILE_WIDTH, treeSize - index * TILE_WIDTH);
    const response = await h.request(`/logs/${log}/${tilePath({ level: 0, index, width })}`);
    assert.equal(response.status, 200, `tile 0/${index}.p/${width}`);
    hashes.push(...splitTile(new Uint8Array(await response.arrayBuffer()), width));
  }
  return hashes;
}
