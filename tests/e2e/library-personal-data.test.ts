// The embedded library and the CLI share a data directory: values the library encrypted are
// erased by `sealtrail erase --data`, and the library then reads them as [erased].
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createAuditLog } from "sealtrail";
import { runCli, tempDir } from "../support/server-process.js";

describe("createAuditLog and `sealtrail erase --data` on one directory", () => {
  const dir = tempDir("sealtrail-library-erase-");
  after(() => dir.remove());

  it("the CLI erases what the library encrypted; the library shows [erased] and still verifies", async () => {
    const path = join(dir.path, "audit");
    const audit = await createAuditLog({ path, handleSignals: false });
    await audit.record({ action: "user.login", actor: { type: "user", id: "u_42", name: "Ada Lovelace" } });
    await audit.close();

    const erased = await runCli(["erase", "--subject", "u_42", "--data", path]);
    assert.equal(erased.code, 0, erased.stderr);
    assert.match(erased.stdout, /erased u_42: 1 data key\(s\) destroyed/);

    const again = await createAuditLog({ path, handleSignals: false });
    assert.equal((await again.query("")).events[0]?.event.actor.name, "[erased]");
    const verified = await again.verify();
    assert.equal(verified.ok, true, verified.problem);
    await again.close();
  });
});
