import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { canonicalJson, formatCheckpoint, fromUtf8, hashLeaf, type NoteSigner, signNote, utf8 } from "@sealtrail/core";
import { createSqliteStore } from "@sealtrail/store-sqlite";
import Database from "better-sqlite3";
import { auditLog, type LogAuditResult } from "./audit.js";
import { readChunk, verifyChunk, verifyPackedChunk } from "./audit-chunk.js";
import { originSigner } from "./engine.js";
import type { EntryReader, StoredCheckpoint, StoredHash } from "./store.js";
import {
  flipBit,
  InstrumentedStore,
  makeEvents,
  ORIGIN_PREFIX,
  openTestEngine,
  otherSigner,
  referenceRoot,
  type StoreHooks,
  type TempDir,
  tempDir,
  testSigner,
  verifierOf,
} from "./test-harness.js";

const HOUR = 3_600_000;
const LOG = "alpha";
const ORIGIN = `${ORIGIN_PREFIX}/${LOG}`;
const dirs: TempDir[] = [];
after(() => {
  for (const dir of dirs) dir.remove();
});

/** Checkpoint sizes of the log `buildLog` writes. */
const CHECKPOINTS = [100, 257, 600];

/**
 * A healthy 600-entry log (two level-1 tile hashes) with checkpoints at 100, 257 and 600, written by
 * the engine over a real SQLite file, which is closed again before the test looks at it.
 */
async function buildLog(): Promise<string> {
  const dir = tempDir();
  dirs.push(dir);
  const path = dir.file("log.db");
  const a = await openTestEngine(path, { checkpointIntervalMs: HOUR });
  await a.engine.append(LOG, makeEvents(0, 100));
  await a.engine.waitForCheckpoint(LOG, 99);
  await a.engine.append(LOG, makeEvents(100, 157));
  await a.engine.close();
  const b = await openTestEngine(path, { checkpointIntervalMs: HOUR });
  await b.engine.append(LOG, makeEvents(257, 343));
  await b.engine.close();
  return path;
}

async function audit(
  path: string,
  hooks: StoreHooks = {},
  options: { origin?: string; signer?: NoteSigner; workers?: number } = {},
): Promise<LogAuditResult> {
  const store = new InstrumentedStore(createSqliteStore({ path }));
  store.hooks = hooks;
  try {
    const signer = options.signer ?? (await testSigner());
    return await auditLog(store, LOG, {
      verifiers: [await verifierOf(signer, options.origin ?? ORIGIN)],
      origin: options.origin ?? ORIGIN,
      ...(options.workers === undefined ? {} : { workers: options.workers }),
    });
  } finally {
    await store.close();
  }
}

/**
 * Audits through worker threads: the store itself (its `entryReader`: each worker opens the file
 * read-only), chunks of one tile so the 600 entries are spread over both workers and come back in
 * any order.
 */
async function auditInWorkers(path: string): Promise<LogAuditResult> {
  const store = createSqliteStore({ path });
  assert.ok(store.entryReader, "a SQLite file store can be opened from a worker");
  try {
    return await auditLog(store, LOG, {
      verifiers: [await verifierOf(await testSigner(), ORIGIN)],
      origin: ORIGIN,
      workers: 2,
      chunkEntries: 256,
    });
  } finally {
    await store.close();
  }
}

/** Rewrites an entry's stored leaf hash, in its row since store-sqlite's LEAF_HASH_IN_ROW (parameters: hash, index). */
const LEAF_HASH_AT = "UPDATE entries SET leaf_hash = ? WHERE rowid - log_id * 1099511627776 = ?";

/** Tampers with the file the way an attacker with database access would: around the triggers. */
function tamper(path: string, sql: string, ...params: unknown[]): void {
  const db = new Database(path);
  try {
    db.exec(
      "DROP TRIGGER IF EXISTS entries_no_update; DROP TRIGGER IF EXISTS entries_no_delete; DROP TRIGGER IF EXISTS tree_hashes_no_update; DROP TRIGGER IF EXISTS checkpoints_no_update",
    );
    const changes = db.prepare(sql).run(...params).changes;
    assert.equal(changes, 1, "the tampering statement changed one row");
  } finally {
    db.close();
  }
}

async function entryAt(path: string, index: number) {
  const store = createSqliteStore({ path });
  try {
    const [entry] = await store.readEntries(LOG, index, 1);
    return entry ?? assert.fail(`entry ${index} is missing`);
  } finally {
    await store.close();
  }
}

/** The event of a leaf with its metadata changed, re-encoded canonically. */
function rewrittenLeaf(leaf: Uint8Array): Uint8Array {
  const event = JSON.parse(fromUtf8(leaf));
  return utf8(canonicalJson({ ...event, metadata: { n: -1 } }));
}

function assertFails(result: LogAuditResult, problem: RegExp, failedIndex?: number): void {
  assert.equal(result.ok, false, "the audit passed a tampered log");
  assert.match(result.problem ?? "", problem);
  if (failedIndex !== undefined) assert.equal(result.failedIndex, failedIndex, result.problem);
}

describe("auditLog on a healthy log", () => {
  it("reports ok with every entry and checkpoint checked", async () => {
    const path = await buildLog();
    const result = await audit(path);
    assert.deepEqual(result, { log: LOG, ok: true, entries: 600, checkpoints: CHECKPOINTS.length });
  });

  it("reports ok for a log that does not exist yet", async () => {
    const path = await buildLog();
    const store = createSqliteStore({ path });
    const result = await auditLog(store, "empty", {
      verifiers: [await verifierOf(await testSigner(), `${ORIGIN_PREFIX}/empty`)],
      origin: `${ORIGIN_PREFIX}/empty`,
    });
    await store.close();
    assert.deepEqual(result, { log: "empty", ok: true, entries: 0, checkpoints: 0 });
  });
});

describe("auditLog on a log tampered in the database", () => {
  it("names the entry whose leaf bytes were rewritten", async () => {
    const path = await buildLog();
    const entry = await entryAt(path, 37);
    tamper(path, "UPDATE entries SET leaf = ? WHERE event_id = ?", rewrittenLeaf(entry.leaf), entry.id);
    assertFails(await audit(path), /entry 37: leaf bytes do not match/, 37);
  });

  it("names the entry whose stored leaf hash was rewritten", async () => {
    const path = await buildLog();
    tamper(path, LEAF_HASH_AT, Buffer.alloc(32, 1), 5);
    assertFails(await audit(path), /entry 5: leaf bytes do not match/, 5);
  });

  it("names an entry deleted from the table", async () => {
    const path = await buildLog();
    const entry = await entryAt(path, 250);
    tamper(path, "DELETE FROM entries WHERE event_id = ?", entry.id);
    assertFails(await audit(path), /entry 250 is missing/, 250);
  });

  it("names the entry whose leaf and leaf hash were rewritten together but the leaf is not canonical", async () => {
    const path = await buildLog();
    const entry = await entryAt(path, 400);
    const loose = utf8(`${fromUtf8(entry.leaf).slice(0, -1)} }`);
    tamper(path, "UPDATE entries SET leaf = ? WHERE event_id = ?", loose, entry.id);
    tamper(path, LEAF_HASH_AT, hashLeaf(loose), 400);
    assertFails(await audit(path), /entry 400: leaf is not canonical JSON/, 400);
  });

  it("detects a leaf and leaf hash rewritten together, from the tree above them", async () => {
    const path = await buildLog();
    const entry = await entryAt(path, 300);
    const forged = rewrittenLeaf(entry.leaf);
    tamper(path, "UPDATE entries SET leaf = ? WHERE event_id = ?", forged, entry.id);
    tamper(path, LEAF_HASH_AT, hashLeaf(forged), 300);
    // The level-1 hash over [256, 512) is the first thing above the leaf that disagrees.
    assertFails(await audit(path), /stored tile hash 1\/1 does not match the entries/, 256);
  });
});

/**
 * A log as a store from before store-sqlite's LEAF_HASH_IN_ROW wrote it: entries [0, upTo) have
 * their leaf hashes in tree_hashes, not in their rows.
 */
function toLegacyLayout(path: string, upTo: number): void {
  const db = new Database(path);
  try {
    db.exec("DROP TRIGGER entries_no_update");
    db.prepare(
      `INSERT INTO tree_hashes (log_id, level, idx, hash)
       SELECT log_id, 0, rowid - log_id * 1099511627776, leaf_hash FROM entries WHERE rowid - log_id * 1099511627776 < ?`,
    ).run(upTo);
    assert.equal(db.prepare("UPDATE entries SET leaf_hash = NULL WHERE rowid - log_id * 1099511627776 < ?").run(upTo).changes, upTo);
    db.exec(
      "CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries BEGIN SELECT RAISE(ABORT, 'sealtrail: entries is append-only'); END;",
    );
  } finally {
    db.close();
  }
}

describe("auditLog on a store upgraded from leaf hashes in tree_hashes", () => {
  it("verifies old, new and mixed chunks, on one thread and in workers, and still names a rewritten old leaf hash", async () => {
    const path = await buildLog();
    toLegacyLayout(path, 500);
    const more = await openTestEngine(path, { checkpointIntervalMs: HOUR });
    await more.engine.append(LOG, makeEvents(600, 100));
    await more.engine.close();
    // In chunks of 256 (the workers): [0, 256) old, [256, 512) mixed (new from 500), [512, 700) new.
    for (const result of [await audit(path), await audit(path, {}, { workers: 0 }), await auditInWorkers(path)]) {
      assert.equal(result.ok, true, result.problem);
      assert.equal(result.entries, 700);
    }
    const store = createSqliteStore({ path });
    try {
      const entries = await store.readEntries(LOG, 0, 700);
      assert.deepEqual(
        (await store.readHashes(LOG, 0, 0, 700)).map((hash) => Buffer.from(hash).toString("hex")),
        entries.map((entry) => Buffer.from(hashLeaf(entry.leaf)).toString("hex")),
      );
    } finally {
      await store.close();
    }
    tamper(path, "UPDATE tree_hashes SET hash = ? WHERE level = 0 AND idx = 5", Buffer.alloc(32, 1));
    assertFails(await audit(path), /entry 5: leaf bytes do not match/, 5);
    assertFails(await auditInWorkers(path), /entry 5: leaf bytes do not match/, 5);
  });
});

describe("auditLog through a store that serves tampered data", () => {
  it("names the entry served with one flipped byte", async () => {
    const path = await buildLog();
    const result = await audit(path, {
      readEntries: async (inner, log, start, count) =>
        (await inner.readEntries(log, start, count)).map((e) => (e.index === 123 ? { ...e, leaf: flipBit(e.leaf, 40) } : e)),
    });
    assertFails(result, /entry 123/, 123);
  });

  it("names the entry a store leaves out", async () => {
    const path = await buildLog();
    const result = await audit(path, {
      readEntries: async (inner, log, start, count) => (await inner.readEntries(log, start, count)).filter((e) => e.index !== 200),
    });
    assertFails(result, /entry 200 is missing/, 200);
  });

  it("names the entry whose stored id differs from the id in its leaf", async () => {
    const path = await buildLog();
    const result = await audit(path, {
      readEntries: async (inner, log, start, count) =>
        (await inner.readEntries(log, start, count)).map((e) => (e.index === 77 ? { ...e, id: "evt-other" } : e)),
    });
    assertFails(result, /entry 77: stored id does not match/, 77);
  });

  it("detects a wrong level-1 tile hash", async () => {
    const path = await buildLog();
    const result = await audit(path, {
      readHashes: async (inner, log, level, start, count) =>
        (await inner.readHashes(log, level, start, count)).map((h, i) => (level === 1 && start + i === 1 ? flipBit(h, 31) : h)),
    });
    assertFails(result, /stored tile hash 1\/1 does not match the entries/, 256);
  });

  const replaceCheckpoint = (size: number, change: (cp: StoredCheckpoint) => Promise<StoredCheckpoint>): StoreHooks => ({
    listCheckpoints: async (inner, log, options) =>
      Promise.all((await inner.listCheckpoints(log, options)).map((cp) => (cp.treeSize === size ? change(cp) : cp))),
  });
  const noteText = (note: string) => note.slice(0, note.indexOf("\n\n") + 1);

  it("refuses a checkpoint note signed by a different key", async () => {
    const path = await buildLog();
    const impostor = await otherSigner((await testSigner()).name);
    const result = await audit(
      path,
      replaceCheckpoint(257, async (cp) => ({ ...cp, note: await signNote(noteText(cp.note), [impostor]) })),
    );
    assertFails(result, /checkpoint 257: .*not signed by any trusted key/);
  });

  it("refuses a checkpoint note with a forged signature by the trusted key name and id", async () => {
    const path = await buildLog();
    const result = await audit(
      path,
      replaceCheckpoint(100, async (cp) => {
        const lines = cp.note.split("\n");
        const sig = lines.at(-2) as string;
        const flipped = `${sig.slice(0, -6)}${sig.slice(-6, -5) === "A" ? "B" : "A"}${sig.slice(-5)}`;
        return { ...cp, note: [...lines.slice(0, -2), flipped, ""].join("\n") };
      }),
    );
    assertFails(result, /checkpoint 100: signature by test\.example\/alpha does not verify/);
  });

  it("refuses a checkpoint of another log, correctly signed", async () => {
    const path = await buildLog();
    const signer = await testSigner();
    const result = await audit(
      path,
      replaceCheckpoint(600, async (cp) => ({
        ...cp,
        // Signed with the very key (and key name) that signs this log, so only the origin check can catch it.
        note: await signNote(formatCheckpoint({ origin: `${ORIGIN_PREFIX}/beta`, treeSize: cp.treeSize, rootHash: cp.rootHash }), [
          await originSigner(signer, ORIGIN),
        ]),
      })),
    );
    assertFails(result, /checkpoint 600: .*origin/);
  });

  it("refuses a log audited against the wrong origin or key", async () => {
    const path = await buildLog();
    // Each log's checkpoints are signed under its own origin, so the other log's key does not match.
    assertFails(await audit(path, {}, { origin: `${ORIGIN_PREFIX}/beta` }), /not signed by any trusted key/);
    assertFails(await audit(path, {}, { signer: await otherSigner() }), /not signed by any trusted key/);
  });

  it("refuses a checkpoint whose stored root differs from its signed note", async () => {
    const path = await buildLog();
    const result = await audit(
      path,
      replaceCheckpoint(257, async (cp) => ({ ...cp, rootHash: flipBit(cp.rootHash) })),
    );
    assertFails(result, /checkpoint 257: signed note does not match its stored size and root/);
  });

  it("names the last entry of a correctly signed checkpoint whose root is not the root of the entries", async () => {
    const path = await buildLog();
    const signer = await testSigner();
    const store = createSqliteStore({ path });
    const wrongRoot = await referenceRoot(store, LOG, 256);
    await store.close();
    const result = await audit(
      path,
      replaceCheckpoint(257, async (cp) => ({
        ...cp,
        rootHash: wrongRoot,
        note: await signNote(formatCheckpoint({ origin: ORIGIN, treeSize: 257, rootHash: wrongRoot }), [
          await originSigner(signer, ORIGIN),
        ]),
      })),
    );
    assertFails(result, /checkpoint 257: root does not match the entries/, 256);
  });

  it("refuses a signed checkpoint that covers entries the store does not hold", async () => {
    const path = await buildLog();
    const signer = await testSigner();
    const store = createSqliteStore({ path });
    const root = await referenceRoot(store, LOG, 600);
    await store.close();
    const beyond: StoredCheckpoint = {
      log: LOG,
      treeSize: 601,
      rootHash: root,
      note: await signNote(formatCheckpoint({ origin: ORIGIN, treeSize: 601, rootHash: root }), [await originSigner(signer, ORIGIN)]),
      createdAt: new Date().toISOString(),
    };
    const result = await audit(path, {
      listCheckpoints: async (inner, log, options) => {
        const page = await inner.listCheckpoints(log, options);
        return (options?.afterSize ?? -1) < 601 ? [...page, beyond] : [];
      },
    });
    assertFails(result, /checkpoint 601 covers entries that are not stored/, 600);
  });
});

describe("auditLog on tile hashes", () => {
  it("checks every level-1 hash, not only those a checkpoint root reaches", async () => {
    const path = await buildLog();
    const seen: StoredHash[] = [];
    const result = await audit(path, {
      readHashes: async (inner, log, level, start, count) => {
        const hashes = await inner.readHashes(log, level, start, count);
        if (level > 0) for (const [i, hash] of hashes.entries()) seen.push({ level, index: start + i, hash });
        return hashes;
      },
    });
    assert.equal(result.ok, true);
    assert.deepEqual(
      seen.map((h) => `${h.level}/${h.index}`),
      ["1/0", "1/1"],
    );
  });
});

describe("auditLog through worker threads", () => {
  /** Each case tampers with a fresh copy of the log; the worker path must say what entry by entry says. */
  const cases: [string, (path: string) => Promise<void>, RegExp | undefined, number | undefined][] = [
    ["a healthy log", async () => {}, undefined, undefined],
    [
      "a leaf with one flipped byte",
      async (path) => {
        const entry = await entryAt(path, 300);
        tamper(path, "UPDATE entries SET leaf = ? WHERE event_id = ?", flipBit(entry.leaf, 40), entry.id);
      },
      /^entry 300: leaf bytes do not match the stored leaf hash$/,
      300,
    ],
    [
      "a non-canonical leaf whose leaf hash was rewritten too",
      async (path) => {
        const entry = await entryAt(path, 520);
        const loose = utf8(`${fromUtf8(entry.leaf).slice(0, -1)} }`);
        tamper(path, "UPDATE entries SET leaf = ? WHERE event_id = ?", loose, entry.id);
        tamper(path, LEAF_HASH_AT, hashLeaf(loose), 520);
      },
      /^entry 520: leaf is not canonical JSON$/,
      520,
    ],
    [
      "a leaf that is canonical only once a byte order mark is dropped",
      async (path) => {
        const entry = await entryAt(path, 10);
        const marked = Uint8Array.from([0xef, 0xbb, 0xbf, ...entry.leaf]);
        tamper(path, "UPDATE entries SET leaf = ? WHERE event_id = ?", marked, entry.id);
        tamper(path, LEAF_HASH_AT, hashLeaf(marked), 10);
      },
      /^entry 10: leaf is not canonical JSON$/,
      10,
    ],
    [
      "a leaf that is not UTF-8, with its leaf hash",
      async (path) => {
        const entry = await entryAt(path, 599);
        const broken = Uint8Array.from([...entry.leaf.subarray(0, 20), 0xc0, 0xaf, ...entry.leaf.subarray(20)]);
        tamper(path, "UPDATE entries SET leaf = ? WHERE event_id = ?", broken, entry.id);
        tamper(path, LEAF_HASH_AT, hashLeaf(broken), 599);
      },
      /^entry 599: leaf is not valid UTF-8$/,
      599,
    ],
    [
      "a stored leaf hash rewritten",
      async (path) => tamper(path, LEAF_HASH_AT, Buffer.alloc(32, 3), 5),
      /^entry 5: leaf bytes do not match the stored leaf hash$/,
      5,
    ],
    [
      "a stored id rewritten (the leaf keeps its own)",
      async (path) => {
        const entry = await entryAt(path, 130);
        tamper(path, "UPDATE entries SET event_id = ? WHERE event_id = ?", "evt-rewritten", entry.id);
      },
      /^entry 130: stored id does not match the leaf$/,
      130,
    ],
    [
      "a leaf with a NUL byte and more after it (a reader that stops at NUL would hash the original)",
      async (path) => {
        const entry = await entryAt(path, 40);
        tamper(path, "UPDATE entries SET leaf = ? WHERE event_id = ?", Buffer.concat([entry.leaf, Buffer.from([0, 0x78])]), entry.id);
      },
      /^entry 40: leaf bytes do not match the stored leaf hash$/,
      40,
    ],
    [
      "leaf ids holding commas, every hash rewritten to fit, so the ids joined by commas read the same",
      async (path) => {
        // Stored ids a and b,c under leaf ids a,b and c: joined, both are "a,b,c".
        const [first, second] = [await entryAt(path, 3), await entryAt(path, 4)];
        const withId = (leaf: Uint8Array, id: string) => utf8(canonicalJson({ ...JSON.parse(fromUtf8(leaf)), id }));
        const [leaf3, leaf4] = [withId(first.leaf, `${first.id},b`), withId(second.leaf, "c")];
        tamper(path, "UPDATE entries SET leaf = ?, event_id = ? WHERE event_id = ?", leaf3, first.id, first.id);
        tamper(path, "UPDATE entries SET leaf = ?, event_id = ? WHERE event_id = ?", leaf4, "b,c", second.id);
        tamper(path, LEAF_HASH_AT, hashLeaf(leaf3), 3);
        tamper(path, LEAF_HASH_AT, hashLeaf(leaf4), 4);
        const store = createSqliteStore({ path, readonly: true });
        const tile = await referenceRoot(store, LOG, 256);
        await store.close();
        tamper(path, "UPDATE tree_hashes SET hash = ? WHERE level = 1 AND idx = 0", tile);
      },
      /^entry 3: stored id does not match the leaf$/,
      3,
    ],
    [
      "a wrong level-1 tile hash",
      async (path) => tamper(path, "UPDATE tree_hashes SET hash = ? WHERE level = 1 AND idx = 1", Buffer.alloc(32, 7)),
      /^entry 511: stored tile hash 1\/1 does not match the entries$/,
      256,
    ],
    [
      "a deleted entry",
      async (path) => {
        const entry = await entryAt(path, 255);
        tamper(path, "DELETE FROM entries WHERE event_id = ?", entry.id);
      },
      /^entry 255 is missing$/,
      255,
    ],
    [
      "a checkpoint with a forged signature",
      async (path) => {
        const db = new Database(path, { readonly: true });
        const note = (db.prepare("SELECT note FROM checkpoints WHERE tree_size = 257").pluck().get() as string).split("\n");
        db.close();
        const sig = note.at(-2) as string;
        note[note.length - 2] = `${sig.slice(0, -6)}${sig.slice(-6, -5) === "A" ? "B" : "A"}${sig.slice(-5)}`;
        tamper(path, "UPDATE checkpoints SET note = ? WHERE tree_size = 257", note.join("\n"));
      },
      /^checkpoint 257: signature by test\.example\/alpha does not verify/,
      undefined,
    ],
    [
      "a correctly signed checkpoint whose root is not the root of the entries",
      async (path) => {
        const signer = await testSigner();
        const store = createSqliteStore({ path });
        const wrongRoot = await referenceRoot(store, LOG, 256);
        await store.close();
        const note = await signNote(formatCheckpoint({ origin: ORIGIN, treeSize: 257, rootHash: wrongRoot }), [
          await originSigner(signer, ORIGIN),
        ]);
        tamper(path, "UPDATE checkpoints SET note = ?, root_hash = ? WHERE tree_size = 257", note, wrongRoot);
      },
      /^checkpoint 257: root does not match the entries$/,
      256,
    ],
  ];
  for (const [name, change, problem, failedIndex] of cases) {
    it(`${problem ? "names" : "passes"} ${name}, as the entry-by-entry audit does`, async () => {
      const path = await buildLog();
      await change(path);
      const inWorkers = await auditInWorkers(path);
      assert.deepEqual(inWorkers, await audit(path, {}, { workers: 0 }));
      if (problem) assertFails(inWorkers, problem, failedIndex);
      else assert.deepEqual(inWorkers, { log: LOG, ok: true, entries: 600, checkpoints: CHECKPOINTS.length });
    });
  }

  it("verifies a healthy chunk in one piece (readPackedChunk), with the verdict entry by entry gives", async () => {
    const path = await buildLog();
    const store = createSqliteStore({ path, readonly: true });
    const recipe = store.entryReader ?? assert.fail("a SQLite file store has an entry reader");
    const { openEntryReader } = (await import(recipe.module)) as { openEntryReader(options: unknown): EntryReader };
    const reader = openEntryReader(recipe.options);
    try {
      for (const [start, count] of [
        [0, 600],
        [256, 256],
        [512, 88],
      ] as const) {
        const packed = (await reader.readPackedChunk?.(LOG, start, count)) ?? assert.fail(`chunk ${start}+${count} in one piece`);
        const verdict = verifyPackedChunk(packed, count) ?? assert.fail(`chunk ${start}+${count} passes in one piece`);
        assert.deepEqual(verdict, verifyChunk(await readChunk(store, LOG, start, count), start, count, []));
      }
    } finally {
      await reader.close();
      await store.close();
    }
  });

  it("refuses options it cannot honour", async () => {
    const path = await buildLog();
    const store = createSqliteStore({ path });
    const verifiers = [await verifierOf(await testSigner(), ORIGIN)];
    try {
      for (const bad of [{ workers: -1 }, { workers: 1.5 }, { chunkEntries: 100 }, { chunkEntries: 0 }]) {
        await assert.rejects(auditLog(store, LOG, { verifiers, origin: ORIGIN, ...bad }), { code: "invalid_log_audit_options" });
      }
    } finally {
      await store.close();
    }
  });
});
