import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type AuditEvent, ERASED, type EventDraft } from "@sealtrail/core";
import type { DataKey, KeyScope, SubjectKeyStore } from "./key-store.js";
import { createPersonalData } from "./personal-data.js";

/** One test's key store, over a fresh location (file, database) that nothing else uses. */
export interface KeyStoreUnderTest {
  readonly keyStore: SubjectKeyStore;
  /** Another key store over the same location, as a second process (another server instance) opens it. */
  open(): Promise<SubjectKeyStore>;
  /**
   * Every byte the location holds at rest (database files and their write-ahead log), once the
   * store's writes have reached them: where an erased key must no longer be found.
   */
  rawBytes(): Promise<Buffer[]>;
  /** Closes every key store it opened and removes the location. */
  cleanup(): Promise<void>;
}

export interface KeyStoreSuiteOptions {
  readonly name: string;
  readonly create: () => Promise<KeyStoreUnderTest>;
  readonly timeoutMs?: number;
}

const keyFor = async (store: SubjectKeyStore, scope: KeyScope): Promise<DataKey> => (await store.keysFor([scope]))[0] as DataKey;

const holds = (chunks: readonly Buffer[], key: DataKey): boolean => chunks.some((bytes) => bytes.indexOf(Buffer.from(key.key)) !== -1);

/** An event draft with every default personal field set (actor name and email, ip); `id` optional. */
export function draft(id?: string): EventDraft {
  return {
    ...(id ? { id } : {}),
    action: "document.shared",
    occurredAt: "2026-11-27T12:00:00.000Z",
    actor: { type: "user", id: "u_42", name: "Ada Lovelace", email: "ada@example.com" },
    targets: [],
    outcome: "success",
    context: { ip: "203.0.113.9", requestId: "req_1" },
    version: 1,
  };
}

/** The draft as stored: an id (given or `e1`) and a `receivedAt`. */
export const asEvent = (d: EventDraft): AuditEvent => ({ ...d, id: d.id ?? "e1", receivedAt: "2026-11-27T12:00:01.000Z" });

/**
 * The contract every `SubjectKeyStore` keeps (docs/personal-data.md), run against each
 * implementation (SQLite in its own file, PostgreSQL shared by server instances): one key per
 * (log, subject) even when instances race to create it, keys visible to every instance that opens
 * the same location, erasure that every instance sees at once and that leaves no copy of the key
 * in the bytes the store keeps.
 */
export function testSubjectKeyStore(options: KeyStoreSuiteOptions): void {
  const timeout = options.timeoutMs ?? 20_000;
  const withStore = (fn: (under: KeyStoreUnderTest) => Promise<void>) => async () => {
    const under = await options.create();
    try {
      await fn(under);
    } finally {
      await under.cleanup();
    }
  };

  describe(`SubjectKeyStore contract: ${options.name}`, { timeout }, () => {
    it(
      "keys each (log, subject) once: 32 random bytes under a random id that names no one",
      withStore(async ({ keyStore }) => {
        const a = await keyFor(keyStore, { log: "acme", subject: "u_42" });
        assert.equal(a.key.length, 32);
        assert.match(a.kid, /^[A-Za-z0-9_-]{16,}$/);
        assert.ok(!a.kid.includes("u_42") && !a.kid.includes("acme"), "the key id names no one");
        assert.deepEqual(await keyFor(keyStore, { log: "acme", subject: "u_42" }), a);
        const otherLog = await keyFor(keyStore, { log: "globex", subject: "u_42" });
        const otherSubject = await keyFor(keyStore, { log: "acme", subject: "u_7" });
        assert.equal(new Set([a.kid, otherLog.kid, otherSubject.kid]).size, 3);
        assert.notDeepEqual(otherLog.key, a.key);
        assert.deepEqual(await keyStore.keyById(a.kid), a);
        assert.equal(await keyStore.keyById("no-such-kid-000000"), undefined);
      }),
    );

    it(
      "answers a batch in order, one key per distinct subject, creating only the missing ones",
      withStore(async ({ keyStore, open }) => {
        const known = await keyFor(keyStore, { log: "acme", subject: "u_1" });
        const scopes = [
          { log: "acme", subject: "u_2" },
          { log: "acme", subject: "u_1" },
          { log: "globex", subject: "u_2" },
          { log: "acme", subject: "u_2" },
        ];
        const keys = await keyStore.keysFor(scopes);
        assert.equal(keys.length, 4);
        assert.deepEqual(keys[1], known);
        assert.deepEqual(keys[3], keys[0], "the same subject twice in a batch gets one key");
        assert.equal(new Set(keys.map((key) => key.kid)).size, 3);
        assert.deepEqual(await keyStore.keysFor([]), []);
        // Concurrent batches over the same new subjects in different orders, from two instances,
        // agree on one key each (and, on PostgreSQL, do not deadlock each other).
        const other = await open();
        for (let round = 0; round < 3; round++) {
          const fresh = Array.from({ length: 100 }, (_, i) => ({ log: "acme", subject: `n_${round}_${i}` }));
          const rotated = [...fresh.slice(50), ...fresh.slice(0, 50)];
          const [a, b, c, d] = await Promise.all([
            keyStore.keysFor(fresh),
            other.keysFor([...fresh].reverse()),
            keyStore.keysFor(rotated),
            other.keysFor(fresh),
          ]);
          assert.deepEqual(b?.reverse(), a);
          assert.deepEqual([...(c ?? []).slice(50), ...(c ?? []).slice(0, 50)], a);
          assert.deepEqual(d, a);
          for (const key of a ?? []) assert.deepEqual(await other.keyById(key.kid), key);
        }
      }),
    );

    it(
      "shares keys with every instance over the same location, durably",
      withStore(async ({ keyStore, open }) => {
        const a = await keyFor(keyStore, { log: "acme", subject: "u_42" });
        const other = await open();
        assert.deepEqual(await other.keyById(a.kid), a);
        assert.deepEqual(await keyFor(other, { log: "acme", subject: "u_42" }), a);
        await keyStore.close();
        const reopened = await open();
        assert.deepEqual(await keyFor(reopened, { log: "acme", subject: "u_42" }), a);
      }),
    );

    it(
      "resolves instances racing to create a subject's first key to one key",
      withStore(async ({ keyStore, open }) => {
        const instances = [keyStore, await open(), await open()];
        const subjects = Array.from({ length: 20 }, (_, i) => `u_${i}`);
        const got = await Promise.all(instances.flatMap((store) => subjects.map((subject) => keyFor(store, { log: "acme", subject }))));
        for (const [i, subject] of subjects.entries()) {
          const kids = new Set(instances.map((_, n) => got[n * subjects.length + i]?.kid));
          assert.equal(kids.size, 1, `${subject} got ${kids.size} keys`);
        }
        for (const key of got) assert.deepEqual(await keyStore.keyById(key.kid), key);
      }),
    );

    it(
      "erases in one log or in all, for every instance at once; a later key is a new one",
      withStore(async ({ keyStore, open }) => {
        const other = await open();
        const acme = await keyFor(keyStore, { log: "acme", subject: "u_42" });
        const globex = await keyFor(keyStore, { log: "globex", subject: "u_42" });
        const initech = await keyFor(keyStore, { log: "initech", subject: "u_42" });
        const bystander = await keyFor(keyStore, { log: "acme", subject: "u_7" });
        assert.deepEqual(await other.erase("u_nobody", { at: "2026-11-27T13:00:00.000Z" }), []);
        assert.deepEqual(await other.erase("u_42", { log: "globex", at: "2026-11-27T13:00:00.000Z" }), [globex.kid]);
        assert.equal(await keyStore.keyById(globex.kid), undefined, "the instance that did not erase sees it at once");
        assert.deepEqual(await keyStore.keyById(acme.kid), acme);
        assert.deepEqual((await other.erase("u_42", { at: "2026-11-27T13:00:01.000Z" })).sort(), [acme.kid, initech.kid].sort());
        for (const store of [keyStore, other]) {
          assert.equal(await store.keyById(acme.kid), undefined);
          assert.equal(await store.keyById(initech.kid), undefined);
          assert.deepEqual(await store.keyById(bystander.kid), bystander);
        }
        const later = await keyFor(keyStore, { log: "acme", subject: "u_42" });
        assert.notEqual(later.kid, acme.kid);
        assert.notDeepEqual(later.key, acme.key);
        assert.deepEqual(await keyFor(other, { log: "acme", subject: "u_42" }), later);
      }),
    );

    it(
      "crypto-shreds: sealed by one instance, revealed by another, [erased] on both once erased",
      withStore(async ({ keyStore, open }) => {
        const a = createPersonalData({ keyStore });
        const b = createPersonalData({ keyStore: await open() });
        const [sealed] = await a.protect("acme", [draft("evt-1")], [""]);
        assert.match(sealed?.actor.name ?? "", /^sealtrail-enc:1:/);
        const event = asEvent(sealed as EventDraft);
        assert.deepEqual(await b.reveal(event), asEvent(draft("evt-1")));
        assert.deepEqual(await b.erase("u_42", { log: "acme", at: "2026-11-27T13:00:00.000Z" }), { keys: 1 });
        for (const personal of [a, b]) {
          const revealed = await personal.reveal(event);
          assert.equal(revealed.actor.name, ERASED);
          assert.equal(revealed.actor.email, ERASED);
          assert.equal(revealed.context?.ip, ERASED);
          assert.equal(revealed.context?.requestId, "req_1");
        }
      }),
    );

    it(
      "keeps no copy of an erased key in the bytes it stores",
      withStore(async ({ keyStore, open, rawBytes }) => {
        const doomed = await keyFor(keyStore, { log: "acme", subject: "u_42" });
        const kept = await keyFor(keyStore, { log: "acme", subject: "u_7" });
        // The scan must be able to see a key at all, or its finding nothing proves nothing.
        assert.ok(holds(await rawBytes(), doomed), "the stored bytes hold the key before erasure");
        const other = await open();
        assert.deepEqual(await other.erase("u_42", { at: "2026-11-27T13:00:00.000Z" }), [doomed.kid]);
        const after = await rawBytes();
        assert.ok(!holds(after, doomed), "an erased key is still in the stored bytes");
        assert.ok(holds(after, kept), "a key that was not erased is still there");
      }),
    );
  });
}
