// createAuditLog({ url: "postgres://…" }) for real, on a throwaway PostgreSQL cluster (issue 6):
// the same interface as the SQLite default, the log and the keys for erasure in PostgreSQL.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ConfigError, generateSignerKey, InputError, NotFoundError, StoreError } from "@sealtrail/core";
import { createPostgresStore } from "@sealtrail/store-postgres";
import { z } from "zod";
import { hasPostgres, startTestCluster, type TestCluster } from "../../store-postgres/src/test-cluster.ts";
import { createAuditLog, defineEvents } from "./index.js";

const root = mkdtempSync(join(tmpdir(), "sealtrail-umbrella-pg-"));
let cluster: TestCluster | undefined;
before(async () => {
  if (hasPostgres()) cluster = await startTestCluster();
});
after(async () => {
  await cluster?.stop();
  rmSync(root, { recursive: true, force: true });
});
let n = 0;
const freshPath = () => join(root, `audit-${n++}`);

const catalog = defineEvents(
  {
    "document.shared": z.object({ documentId: z.string(), notify: z.boolean().default(true) }),
    "user.invited": z.object({ inviteeId: z.string(), inviteeEmail: z.email() }),
  },
  { strict: true, personal: { "user.invited": { personal: ["metadata.inviteeEmail"], subject: "metadata.inviteeId" } } },
);
const ada = { type: "user", id: "u_42", name: "Ada Lovelace" };

describe("createAuditLog({ url: 'postgres://…' })", { skip: !hasPostgres() && "no PostgreSQL 15 binaries here" }, () => {
  for (const worker of [true, false]) {
    it(`records, queries, proves, verifies, closes, reopens and erases (${worker ? "on a worker thread" : "in-process"})`, async () => {
      const url = await (cluster as TestCluster).createDatabase();
      const path = freshPath();
      const options = { url, path, log: "acme", catalog, checkpointIntervalMs: 20, handleSignals: false, worker } as const;
      const audit = await createAuditLog(options);
      assert.equal(audit.mode, "postgres");
      const shared = await audit.record("document.shared", { documentId: "doc_9" }, { actor: ada });
      const invited = await audit.record("user.invited", { inviteeId: "u_77", inviteeEmail: "bo@example.com" }, { actor: ada });
      assert.deepEqual([shared.index, invited.index], [0, 1]);
      await assert.rejects(
        audit.record("document.shared", { documentId: 9 } as never, { actor: ada }),
        (e) => e instanceof InputError && e.problems[0]?.pointer === "/metadata/documentId",
      );
      await assert.rejects(
        audit.record({ action: "not.catalogued", actor: ada } as never),
        (e) => e instanceof InputError && e.code === "unknown_action",
      );

      const found = await audit.query("action:document.*");
      assert.deepEqual(
        found.events.map((e) => [e.event.id, e.event.metadata]),
        [[shared.id, { documentId: "doc_9", notify: true }]],
        "the catalog's default is stored",
      );
      assert.equal((await audit.query({ actor: ["u_42"] })).events.length, 2);
      const proof = await audit.prove(invited.id);
      assert.equal(proof.index, 1);
      assert.match(String(proof.event.metadata?.inviteeEmail), /^sealtrail-enc:1:/, "the leaf commits to the ciphertext");
      await assert.rejects(audit.prove("01JDNOPE000000000000000000"), (e) => e instanceof NotFoundError);
      const verified = await audit.verify();
      assert.equal(verified.ok, true, verified.problem);
      assert.equal(verified.entries, 2);
      await audit.close();
      await assert.rejects(audit.record({ action: "document.shared", actor: ada, metadata: { documentId: "x" } }), (e) => {
        return e instanceof StoreError && e.code === "engine_closed";
      });

      // The log lives in PostgreSQL: a reopened audit log continues the same tree.
      const store = await createPostgresStore({ connectionString: url, migrate: false, poolSize: 2 });
      try {
        assert.equal((await store.getLog("acme"))?.size, 2);
        assert.equal((await store.latestCheckpoint("acme"))?.treeSize, 2, "close signed a final checkpoint");
      } finally {
        await store.close();
      }
      const again = await createAuditLog(options);
      const third = await again.record("document.shared", { documentId: "doc_10", notify: false }, { actor: ada });
      assert.equal(third.index, 2);
      assert.deepEqual(
        (await again.query("")).events.map((e) => e.event.id),
        [third.id, invited.id, shared.id],
      );
      assert.equal((await again.query("")).events[1]?.event.metadata?.inviteeEmail, "bo@example.com");

      const erased = await again.erase("u_77");
      assert.equal(erased.keysDestroyed, 1);
      const shown = async (id: string) => (await again.query("")).events.find((e) => e.event.id === id)?.event;
      assert.equal((await shown(invited.id))?.metadata?.inviteeEmail, "[erased]");
      assert.equal((await shown(shared.id))?.actor.name, "Ada Lovelace", "another subject's values stay readable");
      const reverified = await again.verify();
      assert.equal(reverified.ok, true, reverified.problem);
      assert.equal(reverified.entries, 3);
      assert.equal((await again.prove(invited.id)).index, 1, "proofs still verify after the erasure");
      await again.close();

      // The erasure is accounted for in the same database's system log, as the server records it.
      const system = await createAuditLog({ ...options, log: "sealtrail-system", catalog: undefined });
      const [record] = (await system.query("action:subject.erased")).events;
      assert.deepEqual(record?.event.targets, [{ type: "data_subject", id: "u_77" }]);
      await system.close();
      // Only ciphertext reached PostgreSQL: the leaves (bytea, as hashed) hold no personal value.
      const database = new URL(url).pathname.slice(1);
      for (const plaintext of ["bo@example.com", "Ada Lovelace"]) {
        const found = (cluster as TestCluster).psql(
          database,
          `COPY (SELECT count(*) FROM entries WHERE position(convert_to('${plaintext}', 'UTF8') in leaf) > 0) TO STDOUT`,
        );
        assert.equal(found.trim(), "0", `${plaintext} is stored in a leaf`);
      }
      const visible = (cluster as TestCluster).psql(
        database,
        "COPY (SELECT count(*) FROM entries WHERE position(convert_to('doc_9', 'UTF8') in leaf) > 0) TO STDOUT",
      );
      assert.equal(visible.trim(), "1", "the check sees plaintext where there is some");
    });
  }

  it("keeps data keys in the database: another app instance reveals them, and an erasure through one holds for both", async () => {
    const url = await (cluster as TestCluster).createDatabase();
    const signingKey = await generateSignerKey("apps.example");
    const open = (path?: string) =>
      createAuditLog({
        url,
        ...(path ? { path } : { signingKey }),
        log: "acme",
        catalog,
        checkpointIntervalMs: 20,
        handleSignals: false,
        worker: false,
      });
    // One instance with a data directory (for its signing key), one with none at all.
    const pathA = freshPath();
    const a = await open(pathA);
    const b = await open();
    try {
      const invited = await a.record("user.invited", { inviteeId: "u_77", inviteeEmail: "bo@example.com" }, { actor: ada });
      const shown = async (audit: typeof a) => (await audit.query("")).events.find((e) => e.event.id === invited.id)?.event;
      assert.equal((await shown(b))?.metadata?.inviteeEmail, "bo@example.com", "sealed by a, revealed by b");
      assert.equal(existsSync(join(pathA, "keys.db")), false, "no key file: the keys are in the database");
      assert.equal((await b.erase("u_77")).keysDestroyed, 1);
      assert.equal((await shown(a))?.metadata?.inviteeEmail, "[erased]", "erased through b, erased for a");
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("without a path (no key file) it needs a signing key", async () => {
    const url = await (cluster as TestCluster).createDatabase();
    await assert.rejects(
      createAuditLog({ url, handleSignals: false, signingKey: undefined }),
      (e) => e instanceof ConfigError && e.code === "no_signing_key",
    );
  });

  it("a database that is not there fails createAuditLog with the store's error, without the password", async () => {
    await assert.rejects(
      createAuditLog({ url: (cluster as TestCluster).url("no_such_database", "postgres:secret"), path: freshPath(), handleSignals: false }),
      (e) => e instanceof StoreError && /does not exist/.test(e.message) && !e.message.includes("secret"),
    );
  });
});
