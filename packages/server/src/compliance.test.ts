import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { PersonalDataConfig } from "@sealtrail/core";
import { createPersonalData, createSqliteKeyStore } from "@sealtrail/privacy";
import { RetentionService } from "./retention.js";
import { SYSTEM_LOG, SystemLog } from "./system-log.js";
import { event, events, expectProblem, startHarness } from "./test-harness.js";

async function withPersonalData<T>(
  config: PersonalDataConfig | undefined,
  fn: (h: Awaited<ReturnType<typeof startHarness>>) => Promise<T>,
) {
  const dir = await mkdtemp(join(tmpdir(), "sealtrail-compliance-"));
  const personalData = createPersonalData({
    keyStore: createSqliteKeyStore({ path: join(dir, "keys.db") }),
    ...(config ? { config } : {}),
  });
  const h = await startHarness({ personalData });
  try {
    return await fn(h);
  } finally {
    await h.close();
    await personalData.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe("compliance over HTTP", () => {
  it("refuses an event whose personal values have no subject, with the value's pointer, and stores nothing", async () => {
    await withPersonalData({ subject: "metadata.customerId" }, async (h) => {
      const ok = await h.post("acme", event({ metadata: { customerId: "c_1" } }));
      assert.equal(ok.status, 201);
      const body = await expectProblem(
        await h.post("acme", { events: [event({ metadata: { customerId: "c_1" } }), event()] }),
        422,
        "personal_data_without_subject",
      );
      assert.equal(body.errors?.[0]?.pointer, "/events/1/actor/name");
      assert.equal((await h.snapshot("acme")).integratedSize, 1);
    });
  });

  it("erasing in one log leaves the same subject id in another log readable (tenants are separate)", async () => {
    await withPersonalData(undefined, async (h) => {
      await h.seed("acme", [event({ id: "a1" })]);
      await h.seed("globex", [event({ id: "g1" })]);
      const erased = await h.request("/v1/erasures", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ subject: "u_42", log: "globex" }),
      });
      assert.equal(erased.status, 200);
      const name = async (log: string, id: string) =>
        ((await (await h.request(`/v1/logs/${log}/events/${id}`)).json()) as { event: { actor: { name: string } } }).event.actor.name;
      assert.equal(await name("acme", "a1"), "Ada");
      assert.equal(await name("globex", "g1"), "[erased]");
    });
  });

  it("runs the periodic job: prunes due events and records it as the retention job", async () => {
    const h = await startHarness();
    const retention = new RetentionService({ engine: h.engine });
    try {
      await h.seed("acme", events(20));
      const systemLog = new SystemLog({ engine: h.engine });
      await retention.setPolicy("acme", 1e-9, (action, details) =>
        systemLog.recordEvent(action, { ...details, actor: { type: "operator", id: "test" } }),
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
      retention.start(10, (action, details) =>
        systemLog.recordEvent(action, { ...details, actor: { type: "service", id: "retention-job" } }),
      );
      for (let i = 0; i < 500 && (await h.store.listPrunedRanges?.("acme"))?.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await retention.stop();
      assert.deepEqual(
        (await h.store.listPrunedRanges?.("acme"))?.map((r) => [r.start, r.end]),
        [[0, 20]],
      );
      const page = (await (await h.request(`/v1/logs/${SYSTEM_LOG}/events?q=action:log.pruned`)).json()) as {
        events: { event: { actor: { type: string; id: string }; metadata: { ranges: string; entries: number } } }[];
      };
      assert.deepEqual(page.events[0]?.event.actor, { type: "service", id: "retention-job" });
      assert.equal(page.events[0]?.event.metadata.ranges, "0-19");
      assert.equal(page.events.length, 1, "a run that prunes nothing records nothing");
    } finally {
      await retention.stop();
      await h.close();
    }
  });
});
