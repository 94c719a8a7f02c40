import assert from "node:assert/strict";
import { hashLeaf, StoreError, sha256, toBase64, toHex, utf8 } from "@sealtrail/core";
import type { ApiKeyRecord, LogAppend, LogStore, StoredCheckpoint, StoredEntry, StoredHash } from "@sealtrail/engine";

/** Hashes per level-1 tile hash: a level-1 hash covers 256 leaves (C2SP tlog-tiles, height 8). */
const TILE_WIDTH = 256;
/** More than any test stores: "read everything". */
export const ALL = 1_000_000;

/** A leaf that looks like a stored event, with non-ASCII text so a text column would show. */
export function leafOf(log: string, index: number): Uint8Array {
  return utf8(JSON.stringify({ action: "document.shared", actor: { id: `u_${index}`, name: "Zoë 🦊 日本" }, log, index }));
}

export function entryOf(log: string, index: number, id: string = `${log}-${index}`): StoredEntry {
  return { index, id, leaf: leafOf(log, index) };
}

/**
 * A well-formed batch of `count` entries from `start`, with the level-0 hash of each and the
 * level-1 hash of every 256-entry tile it completes (the values only need to be distinct).
 */
export function batchOf(log: string, start: number, count: number, idPrefix: string = log): LogAppend {
  const entries: StoredEntry[] = [];
  const hashes: StoredHash[] = [];
  for (let index = start; index < start + count; index++) {
    const entry = entryOf(log, index, `${idPrefix}-${index}`);
    entries.push(entry);
    hashes.push({ level: 0, index, hash: hashLeaf(entry.leaf) });
    if ((index + 1) % TILE_WIDTH === 0) {
      const tile = (index + 1) / TILE_WIDTH - 1;
      hashes.push({ level: 1, index: tile, hash: sha256(utf8(`${log} level 1 tile ${tile}`)) });
    }
  }
  return { log, startIndex: start, entries, hashes };
}

export function checkpointOf(log: string, treeSize: number): StoredCheckpoint {
  const rootHash = sha256(utf8(`${log} root ${treeSize}`));
  // C2SP signed-note shape, with the em dash of the signature line.
  const note = `example.com/${log}\n${treeSize}\n${toBase64(rootHash)}\n\n— example.com AAAAAA==\n`;
  return { log, treeSize, rootHash, note, createdAt: new Date(Date.UTC(2026, 10, 27, 12, 0, treeSize)).toISOString() };
}

export function apiKeyOf(id: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id,
    secretHash: sha256(utf8(`secret of ${id}`)),
    scope: "read",
    logs: ["acme", "globex"],
    label: `key ${id} — für Zoë`,
    createdAt: "2026-11-27T12:00:00.000Z",
    ...overrides,
  };
}

/** Plain comparable values: bytes become hex, so deepStrictEqual shows readable diffs. */
export function plainEntries(entries: readonly StoredEntry[]): { index: number; id: string; leaf: string }[] {
  return entries.map((e) => {
    assert.ok(e.leaf instanceof Uint8Array, "leaf must be a Uint8Array");
    return { index: e.index, id: e.id, leaf: toHex(e.leaf) };
  });
}

export function plainHashes(hashes: readonly Uint8Array[]): string[] {
  return hashes.map((h) => {
    assert.ok(h instanceof Uint8Array, "hash must be a Uint8Array");
    return toHex(h);
  });
}

export function plainCheckpoint(cp: StoredCheckpoint | undefined): Record<string, unknown> | undefined {
  return cp && { log: cp.log, treeSize: cp.treeSize, rootHash: toHex(cp.rootHash), note: cp.note, createdAt: cp.createdAt };
}

export function plainKey(key: ApiKeyRecord | undefined): Record<string, unknown> | undefined {
  return (
    key && {
      id: key.id,
      secretHash: toHex(key.secretHash),
      scope: key.scope,
      logs: [...key.logs],
      label: key.label,
      createdAt: key.createdAt,
      revokedAt: key.revokedAt,
    }
  );
}

/** Entries a batch would store, as plain values. */
export function expectedEntries(...batches: readonly LogAppend[]): { index: number; id: string; leaf: string }[] {
  return plainEntries(batches.flatMap((b) => b.entries));
}

/** Hashes of one level a batch would store, in index order, as plain values. */
export function expectedHashes(level: number, ...batches: readonly LogAppend[]): string[] {
  return plainHashes(
    batches
      .flatMap((b) => b.hashes)
      .filter((h) => h.level === level)
      .sort((a, b) => a.index - b.index)
      .map((h) => h.hash),
  );
}

export interface StoreSnapshot {
  readonly logs: { name: string; size: number; createdAt: string }[];
  readonly data: Record<string, unknown>;
}

/** Everything the store exposes about its logs, to prove that nothing changed. */
export async function snapshot(store: LogStore): Promise<StoreSnapshot> {
  const logs = (await store.listLogs()).map((l) => ({ name: l.name, size: l.size, createdAt: l.createdAt }));
  logs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const data: Record<string, unknown> = {};
  for (const { name } of logs) {
    data[name] = {
      entries: plainEntries(await store.readEntries(name, 0, ALL)),
      level0: plainHashes(await store.readHashes(name, 0, 0, ALL)),
      level1: plainHashes(await store.readHashes(name, 1, 0, ALL)),
      checkpoints: (await store.listCheckpoints(name)).map(plainCheckpoint),
      latest: plainCheckpoint(await store.latestCheckpoint(name)),
    };
  }
  return { logs, data };
}

/** Sorted names of the store's logs. */
export async function logNames(store: LogStore): Promise<string[]> {
  return (await store.listLogs()).map((l) => l.name).sort();
}

/** Asserts a rejection with a StoreError, optionally of one code. */
export async function rejectsWithStoreError(promise: Promise<unknown>, code?: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof StoreError, `expected a StoreError, got ${String(error)}`);
    if (code !== undefined) assert.equal(error.code, code);
    return true;
  });
}
