// Opening an evidence bundle in the web viewer, in real Chromium, as an auditor would: the bundle is
// exported with the real CLI from a real server, then verified in the browser without signing in;
// a bundle with one flipped byte, and a verifier key of another signer, fail and say what broke.
// The screenshot goes to .test-tmp/screenshots/ (docs/screenshots/ with `npm run screenshots`).
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { generateSignerKey, parseSignerKey, readZip } from "@sealtrail/core";
import type { Page } from "playwright-core";
import { launchChromium, SCREENSHOTS } from "../support/browser.ts";
import { runCli, type ServerProcess, startServer, tempDir } from "../support/server-process.ts";

const ADMIN_KEY = "e2e-viewer-evidence-admin-key-0123456789";
const dir = tempDir("sealtrail-viewer-evidence-");
const bundlePath = join(dir.path, "evidence.zip");
let server: ServerProcess;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
let verifierKey = "";
const cspViolations: string[] = [];

const events = Array.from({ length: 40 }, (_, i) => ({
  id: `evt-${i}`,
  action: i % 5 === 0 ? "document.deleted" : "document.viewed",
  occurredAt: `2026-11-27T12:${String(i).padStart(2, "0")}:00.000Z`,
  actor: { type: "user", id: `u_${i % 4}`, ...(i === 35 ? { name: "Alice Example" } : {}) },
  targets: [{ type: "document", id: `doc_${i}` }],
  ...(i === 35 ? { changes: { before: { title: "Q3 plan" }, after: { title: null } }, metadata: { reason: "retention" } } : {}),
}));

/**
 * Fills the key field, then chooses the file (which verifies it) or, with no path, presses Verify
 * on the file already chosen (browsers fire no change event when the same file is chosen again);
 * waits for the verdict.
 */
async function open(path: string | undefined, key = ""): Promise<{ verified: string; text: string }> {
  const previous = await page.$(".verdict[data-verified]");
  await page.fill("input[name=verifierKey]", key);
  if (path) await page.setInputFiles("input[name=bundle]", path);
  else await page.click("button[type=submit]:text('Verify')");
  // A new verification removes the previous verdict first: wait for that, not for the old answer.
  await previous?.waitForElementState("hidden");
  const verdict = await page.waitForSelector(".verdict[data-verified]");
  return { verified: (await verdict.getAttribute("data-verified")) ?? "", text: (await verdict.textContent()) ?? "" };
}

before(async () => {
  server = await startServer({ dataDir: join(dir.path, "data"), adminKey: ADMIN_KEY });
  const response = await fetch(`${server.url}/v1/logs/acme/events?wait=checkpoint`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ events }),
  });
  assert.equal(response.status, 201, await response.text());
  verifierKey = (await runCli(["keys", "--data", server.dataDir, "--log", "acme"])).stdout.trim();
  const run = await runCli([
    "export",
    "--log",
    "acme",
    "--q",
    "action:document.deleted",
    "--out",
    bundlePath,
    "--url",
    server.url,
    "--key",
    ADMIN_KEY,
  ]);
  assert.equal(run.code, 0, run.stderr);
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  dir.remove();
});

describe("opening an evidence bundle in the viewer", { timeout: 120_000 }, () => {
  test("is reachable from the sign-in page, with no key", async () => {
    await page.goto(server.url);
    await page.click("text=Open evidence bundle");
    await page.waitForSelector("h1:text('Open evidence bundle')");
    assert.ok(page.url().endsWith("/#evidence"));
    assert.equal(await page.evaluate(() => sessionStorage.getItem("sealtrail.apiKey")), null);
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Open evidence bundle", "focus moves to the page title");
    assert.equal(await page.getAttribute("input[name=bundle]", "accept"), ".zip,application/zip");
  });

  test("verifies the CLI's bundle in the browser against the bundle's own key, and says so", async () => {
    const { verified, text } = await open(bundlePath);
    assert.equal(verified, "yes", text);
    assert.match(
      text,
      /Verified in this browser: these 8 events are, byte for byte, entries of sealtrail\.local\/acme, each with an inclusion proof to the checkpoint of 40 entries signed by the bundle's own key\./,
    );
    assert.ok(text.includes(`No verifier key was given, so the bundle's own key was trusted: ${verifierKey}.`), text);
    assert.match(text, /Checkpointtree size 40, root hash [A-Za-z0-9+/]{43}=/);
    // actor.name is personal: the log stores (and the bundle proves) its ciphertext, never the name.
    assert.match(text, /Events verified8; 1 personal value\(s\) in them are encrypted \(crypto-shredding\)/);
    assert.match(text, /Not includednone, says the exporter/);
    assert.match(text, /Queryaction:document\.deleted — stated by the exporter, not signed/);
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-verified")), "yes", "focus moves to the verdict");
    assert.equal(await page.textContent(".results .status"), "8 events shown (all)");
    const indexes = await page.$$eval(".viewport [role=row]", (rows) => rows.map((r) => r.querySelector(".num")?.textContent));
    assert.deepEqual(indexes, ["35", "30", "25", "20", "15", "10", "5", "0"]);
    await page.click(".viewport [role=row] >> nth=0");
    const detail = (await page.textContent(".detail")) ?? "";
    assert.match(
      detail,
      /Proven by the bundle: this exact event is entry 35 of sealtrail\.local\/acme, in the signed tree of 40 entries\./,
    );
    assert.match(detail, /title"Q3 plan"null/, "the changes diff is rendered");
    assert.match(detail, /Actor name\[encrypted personal value\]/);
    assert.ok(!detail.includes("Alice") && !detail.includes("sealtrail-enc:"));
    assert.match(detail, /"reason": "retention"/);
    await page.screenshot({ path: join(SCREENSHOTS, "evidence-verified.png") });
  });

  test("with the log's key pasted, Verify checks the same file again and says the pasted key was used", async () => {
    const { verified, text } = await open(undefined, verifierKey);
    assert.equal(verified, "yes", text);
    assert.ok(text.includes(`Checked against the verifier key you gave: ${verifierKey}`), text);
  });

  test("a bundle with one flipped byte fails, naming the part of the zip that broke", async () => {
    const bytes = new Uint8Array(readFileSync(bundlePath));
    let at = 0;
    for (const entry of readZip(bytes)) {
      if (entry.name === "events/15.json") break;
      at += 30 + entry.name.length + entry.data.length;
    }
    const altered = bytes.slice();
    const flip = at + 30 + "events/15.json".length + 12;
    altered[flip] = (altered[flip] as number) ^ 0x01;
    const path = join(dir.path, "altered.zip");
    writeFileSync(path, altered);
    const { verified, text } = await open(path, verifierKey);
    assert.equal(verified, "no", text);
    assert.match(text, /^✘ altered\.zip: Not verified\. .*zip data of "events\/15\.json"/);
    assert.equal(await page.$(".results"), null, "no events are shown from a bundle that failed");
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("role")), "alert");
  });

  test("a verifier key other than the log's fails", async () => {
    const other = (await parseSignerKey(await generateSignerKey("sealtrail.local/acme"))).verifierKey;
    const { verified, text } = await open(bundlePath, other);
    assert.equal(verified, "no", text);
    assert.match(
      text,
      /Not verified\. verifier-key\.txt: is not the pinned verifier key\. The bundle names another signing key than the one you gave/,
    );
  });

  test("a dropped file is verified too, and the page broke no CSP rule", async () => {
    const previous = await page.$(".verdict[data-verified]");
    await page.fill("input[name=verifierKey]", verifierKey);
    const bytes = [...readFileSync(bundlePath)];
    const transfer = await page.evaluateHandle((data) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(data)], "dropped.zip", { type: "application/zip" }));
      return dt;
    }, bytes);
    await page.dispatchEvent("form.bundle-form", "drop", { dataTransfer: transfer });
    await previous?.waitForElementState("hidden");
    await page.waitForFunction(() => document.querySelector(".verdict[data-verified]")?.textContent?.includes("dropped.zip"));
    assert.equal(await page.getAttribute(".verdict[data-verified]", "data-verified"), "yes");
    await page.click("text=Back to the console");
    await page.waitForSelector("input[name=key]");
    assert.deepEqual(cspViolations, []);
  });
});
