// How fast the viewer shows its first page of results on a 1,000,000-event log, measured in real
// Chromium against a real `sealtrail serve`. Printed and written to a JSON artifact beside a
// same-run baseline (a 2,400-event log on the same server), never asserted: timings on a shared
// CI machine are noise, and the ground rules keep performance out of pass/fail.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { type EventInput, generateSignerKey, parseSignerKey, seededRandom } from "@sealtrail/core";
import { LogEngine } from "@sealtrail/engine";
import { createSqliteStore } from "@sealtrail/store-sqlite";
import type { Page } from "playwright-core";
import { launchChromium, SCREENSHOTS } from "../support/browser.ts";
import { type ServerProcess, startServer, tempDir } from "../support/server-process.ts";

const ADMIN_KEY = "e2e-viewer-scale-admin-key-0123";
// SEALTRAIL_SCALE_EVENTS shrinks the big log while working on this test; CI runs the full million.
const BIG = { log: "big", events: Number(process.env.SEALTRAIL_SCALE_EVENTS ?? 1_000_000) };
const SMALL = { log: "small", events: 2_400 };
const BATCH = 50_000;
const RUNS = 3;
const ARTIFACT = resolve(
  process.env.SEALTRAIL_ARTIFACTS ?? join(import.meta.dirname, "../../.test-tmp/artifacts"),
  "viewer-first-page.json",
);

const ACTIONS = [
  "user.login",
  "document.viewed",
  "document.updated",
  "document.shared",
  "member.invited",
  "api_key.created",
  "settings.updated",
];

/** Compact but realistic events, seeded: what the engine stores for them is what a user's log holds. */
function events(count: number, offset: number, rand: () => number): EventInput[] {
  const start = Date.UTC(2026, 8, 1);
  return Array.from({ length: count }, (_, k) => {
    const i = offset + k;
    const roll = rand();
    return {
      action: ACTIONS[Math.floor(rand() * ACTIONS.length)] as string,
      occurredAt: new Date(start + i * 7_000).toISOString(),
      actor: { type: "user", id: `u_${Math.floor(rand() * 500)}` },
      targets: [{ type: "document", id: `doc_${Math.floor(rand() * 20_000)}` }],
      outcome: roll < 0.92 ? "success" : roll < 0.97 ? "failure" : "denied",
      context: { requestId: `req_${i.toString(36)}` },
    };
  });
}

/**
 * The data directory a server would have written: the real engine and SQLite store, its signing
 * key in `<data>/signing-key`. Large commits and a long checkpoint interval only make loading fast;
 * the stored rows, tiles and checkpoints are the same.
 */
async function buildFixture(dataDir: string): Promise<number> {
  const started = performance.now();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const keyText = await generateSignerKey("sealtrail.local");
  writeFileSync(join(dataDir, "signing-key"), `${keyText}\n`, { mode: 0o600 });
  const store = createSqliteStore({ path: join(dataDir, "sealtrail.db"), durability: "normal" });
  const engine = await LogEngine.open({
    store,
    signer: await parseSignerKey(keyText),
    originPrefix: "sealtrail.local",
    maxEventsPerCommit: BATCH,
    checkpointIntervalMs: 60_000,
  });
  const rand = seededRandom(2026);
  for (const { log, events: total } of [SMALL, BIG]) {
    for (let done = 0; done < total; done += BATCH) await engine.append(log, events(Math.min(BATCH, total - done), done, rand));
  }
  await engine.close();
  return performance.now() - started;
}

const dir = tempDir("sealtrail-viewer-scale-");
let server: ServerProcess;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let fixtureMs = 0;

before(async () => {
  fixtureMs = await buildFixture(join(dir.path, "data"));
  server = await startServer({ dataDir: join(dir.path, "data"), adminKey: ADMIN_KEY });
  browser = await launchChromium();
  // A returning user: the key is already in this tab's session storage.
  await browser.context.addInitScript((key) => sessionStorage.setItem("sealtrail.apiKey", key), ADMIN_KEY);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  dir.remove();
});

/** Milliseconds from navigating to the console until the first result row is on screen. */
async function timeToFirstRows(page: Page, log: string): Promise<number> {
  await page.goto(`${server.url}/healthz`);
  await page.evaluate((name) => sessionStorage.setItem("sealtrail.log", name), log);
  const started = performance.now();
  await page.goto(`${server.url}/`);
  await page.waitForSelector(".viewport [role=row]", { timeout: 60_000 });
  const elapsed = performance.now() - started;
  // Let the overview's counts finish, so the next run does not queue behind them.
  await page.waitForSelector(".charts .total", { timeout: 120_000 });
  return elapsed;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

describe(`the viewer on a ${BIG.events.toLocaleString("en")}-event log`, { timeout: 400_000 }, () => {
  test("shows the newest events first and reports the time to its first page", async (t) => {
    const page = await browser.context.newPage();
    const timings: Record<string, number[]> = { [BIG.log]: [], [SMALL.log]: [] };
    for (let run = 0; run < RUNS; run++) {
      for (const { log } of [BIG, SMALL]) (timings[log] as number[]).push(await timeToFirstRows(page, log));
    }
    const rows = await page.$$eval(".viewport [role=row] [role=gridcell]:last-child", (cells) => cells.map((c) => Number(c.textContent)));
    assert.equal(Math.max(...rows), SMALL.events - 1, "the last page shown is the small log, newest first");
    await page.evaluate((name) => sessionStorage.setItem("sealtrail.log", name), BIG.log);
    await page.reload();
    await page.waitForSelector(".charts .total", { timeout: 120_000 });
    assert.match((await page.textContent(".charts .total")) ?? "", new RegExp(`${BIG.events.toLocaleString("en")} matching events`));
    const first = await page.$eval(".viewport [role=row] [role=gridcell]:last-child", (c) => Number(c.textContent));
    assert.equal(first, BIG.events - 1, "newest first on the big log");
    await page.screenshot({ path: join(SCREENSHOTS, "console-1m.png") });

    const result = {
      measured: "navigation to the console until the first result row is visible (Chromium, real server, same machine)",
      runs: RUNS,
      big: {
        events: BIG.events,
        medianMs: Math.round(median(timings[BIG.log] as number[])),
        runsMs: (timings[BIG.log] as number[]).map(Math.round),
      },
      baseline: {
        events: SMALL.events,
        medianMs: Math.round(median(timings[SMALL.log] as number[])),
        runsMs: (timings[SMALL.log] as number[]).map(Math.round),
      },
      fixtureBuildMs: Math.round(fixtureMs),
      target: "under 1000 ms on the big log",
    };
    mkdirSync(resolve(ARTIFACT, ".."), { recursive: true });
    writeFileSync(ARTIFACT, `${JSON.stringify(result, null, 2)}\n`);
    t.diagnostic(
      `first page: ${result.big.medianMs} ms on ${BIG.events.toLocaleString("en")} events vs ${result.baseline.medianMs} ms on ${SMALL.events.toLocaleString("en")} (baseline, same run; median of ${RUNS}); fixture built in ${(fixtureMs / 1000).toFixed(1)} s; ${ARTIFACT}`,
    );
    await page.close();
  });
});
