// The web viewer in real Chromium against a real `sealtrail serve --demo` (logs acme and globex):
// sign-in, the query language, quick filters, paging, detail and in-browser Verify, pivots,
// exports, the live tail, the embedded viewer and its tenant isolation, and Verify failing after
// a stored event is changed behind the engine's back. Screenshots go to .test-tmp/screenshots/ (docs/screenshots/ with `npm run screenshots`).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import type { Frame, Page } from "playwright-core";
import { signViewerToken } from "../../packages/server/src/viewer-token.ts";
import { launchChromium, SCREENSHOTS } from "../support/browser.ts";
import { runCli, type ServerProcess, startServer, tempDir } from "../support/server-process.ts";

const ADMIN_KEY = "e2e-viewer-admin-key-0123456789";
const ROWS_PER_LOG = 2 ** 40;
const dir = tempDir("sealtrail-viewer-");
let server: ServerProcess;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(`${server.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json", ...init.headers },
  });
  assert.ok(response.ok, `${path} answered ${response.status}: ${await response.clone().text()}`);
  return (await response.json()) as T;
}

async function total(q: string, log = "acme"): Promise<number> {
  return (await api<{ total: number }>(`/v1/logs/${log}/stats?q=${encodeURIComponent(q)}`)).total;
}

/** The cells of every row rendered in the grid (the virtualised window), newest first. */
async function visibleRows(scope: Page | Frame): Promise<string[][]> {
  return scope.$$eval(".viewport [role=row]", (rows) =>
    rows
      .map((row) => ({
        at: Number(row.getAttribute("aria-rowindex")),
        cells: [...row.querySelectorAll("[role=gridcell]")].map((c) => c.textContent ?? ""),
      }))
      .sort((a, b) => a.at - b.at)
      .map((r) => r.cells),
  );
}

async function search(q: string): Promise<void> {
  await page.fill("#st-query", q);
  await page.press("#st-query", "Enter");
  await waitForResults(page, q);
}

/** Waits until the results status line (in the page, or in the web component's shadow root) matches. */
async function waitForStatus(scope: Page | Frame, expected: { is?: string; startsWith?: string; not?: string }): Promise<void> {
  await scope.waitForFunction((want) => {
    const root = document.querySelector("sealtrail-viewer")?.shadowRoot ?? document;
    const status = root.querySelector(".status")?.textContent;
    if (typeof status !== "string") return false;
    if (want.is !== undefined) return status === want.is;
    if (want.startsWith !== undefined) return status.startsWith(want.startsWith);
    return !status.includes(want.not ?? "");
  }, expected);
}

/** Waits until the grid shows the first page of the answer to `q`. */
async function waitForResults(scope: Page | Frame, q: string): Promise<void> {
  await scope.waitForFunction((query) => {
    const root = document.querySelector("sealtrail-viewer")?.shadowRoot ?? document;
    const results = root.querySelector(".results");
    return results?.getAttribute("data-query") === query && results.querySelector("[role=grid]")?.getAttribute("aria-busy") === "false";
  }, q);
}

async function mintToken(body: object): Promise<string> {
  return (await api<{ token: string }>("/v1/viewer-tokens", { method: "POST", body: JSON.stringify(body) })).token;
}

/** A vendor's page on another origin (its own server on 127.0.0.1) that frames the viewer. */
async function openEmbed(token: string): Promise<Frame> {
  const host = await browser.context.newPage();
  await host.goto(`${vendor.url}/?src=${encodeURIComponent(`${server.url}/embed#token=${token}`)}`);
  const frame = await (await host.waitForSelector("iframe")).contentFrame();
  assert.ok(frame, "the viewer frame loads");
  await frame.waitForLoadState();
  return frame;
}

let vendor: { url: string; close(): void };

/** The vendor app: one page that frames whatever `src` it is given. */
function startVendor(): Promise<{ url: string; close(): void }> {
  const http = createServer((request, response) => {
    const src = new URL(request.url ?? "/", "http://x").searchParams.get("src") ?? "";
    const escaped = src.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;");
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end(
      `<!doctype html><title>Vendor app</title><h1>Your audit trail</h1><iframe title="Audit trail" src="${escaped}" width="1300" height="680"></iframe>`,
    );
  });
  return new Promise((done) =>
    http.listen(0, "127.0.0.1", () => {
      const { port } = http.address() as AddressInfo;
      done({ url: `http://127.0.0.1:${port}`, close: () => http.close() });
    }),
  );
}

before(async () => {
  vendor = await startVendor();
  server = await startServer({ dataDir: join(dir.path, "data"), adminKey: ADMIN_KEY, args: ["--demo"] });
  browser = await launchChromium();
  page = await browser.context.newPage();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  vendor?.close();
  dir.remove();
});

describe("the web viewer", { timeout: 120_000 }, () => {
  test("serves the console with a CSP, and hashed assets as immutable", async () => {
    const index = await fetch(`${server.url}/`);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get("content-type"), "text/html; charset=utf-8");
    assert.match(index.headers.get("content-security-policy") ?? "", /script-src 'self'.*frame-ancestors 'none'/);
    const html = await index.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(asset, "the page loads a hashed script");
    const script = await fetch(`${server.url}${asset}`);
    assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(script.headers.get("cache-control"), "public, max-age=31536000, immutable");
    const embed = await fetch(`${server.url}/embed`);
    assert.match(embed.headers.get("content-security-policy") ?? "", /frame-ancestors \*/);
    assert.equal((await fetch(`${server.url}/v1/nope`)).status, 404, "API 404s are unchanged");
  });

  test("signs in with an API key kept in sessionStorage, never in the URL", async () => {
    await page.goto(server.url);
    await page.fill("input[name=key]", ADMIN_KEY);
    await page.fill("input[name=log]", "acme");
    await page.click("button[type=submit]");
    await page.waitForSelector(".viewport [role=row]");
    await page.waitForSelector(".charts .total");
    assert.ok(!page.url().includes(ADMIN_KEY));
    assert.equal(await page.evaluate(() => sessionStorage.getItem("sealtrail.apiKey")), ADMIN_KEY);
    assert.equal(await page.evaluate(() => localStorage.length && JSON.stringify(localStorage).includes("stk_")), false);
    const rows = await visibleRows(page);
    const indexes = rows.map((r) => Number(r[5]));
    assert.deepEqual(indexes.slice(0, 3), [2399, 2398, 2397], "newest first");
    assert.match((await page.textContent(".charts .total")) ?? "", /2,400 matching events/);
    await page.screenshot({ path: join(SCREENSHOTS, "console.png") });
  });

  test("a read key scoped to globex asks for a log, is refused acme and opens globex", async () => {
    const { key } = await api<{ key: string }>("/v1/keys", { method: "POST", body: JSON.stringify({ scope: "read", logs: ["globex"] }) });
    const tab = await browser.context.newPage();
    await tab.goto(server.url);
    await tab.fill("input[name=key]", key);
    await tab.click("button[type=submit]");
    await tab.getByLabel("Log", { exact: true }).fill("acme");
    await tab.getByRole("button", { name: "Open" }).click();
    const refused = await tab.waitForSelector("[role=alert]");
    assert.match((await refused.textContent()) ?? "", /acme/);
    await tab.getByLabel("Log", { exact: true }).fill("globex");
    await tab.getByRole("button", { name: "Open" }).click();
    await tab.waitForSelector(".viewport [role=row]");
    assert.equal(await tab.textContent(".log-name"), "globex");
    await tab.close();
  });

  test("reports a query error at its column and searches with the language", async () => {
    await page.fill("#st-query", "acter:u_1001");
    await page.press("#st-query", "Enter");
    const error = await page.textContent("#st-query-error");
    assert.match(error ?? "", /at column 1: unknown qualifier "acter:"; did you mean "actor:"/);
    assert.equal(await page.textContent("#st-query-error mark"), "a");
    assert.equal(await page.getAttribute("#st-query", "aria-invalid"), "true");

    await search("action:document.* outcome:denied");
    const rows = await visibleRows(page);
    assert.ok(rows.length > 0);
    for (const row of rows) {
      assert.match(row[1] as string, /^document\./);
      assert.equal(row[4], "denied");
    }
    const expected = await total("action:document.* outcome:denied");
    assert.match((await page.textContent(".charts .total")) ?? "", new RegExp(`${expected} matching events`));
  });

  test("completes qualifiers and known values", async () => {
    await page.fill("#st-query", "");
    await page.type("#st-query", "act");
    await page.waitForSelector("#st-query-options [role=option]");
    const names = await page.$$eval("#st-query-options [role=option]", (o) => o.map((x) => x.textContent));
    assert.deepEqual(names, ["actor:", "actor.type:", "action:"]);
    await page.keyboard.press("Tab");
    assert.equal(await page.inputValue("#st-query"), "actor:");
    await page.waitForSelector("#st-query-options [role=option]");
    const actors = await page.$$eval("#st-query-options [role=option]", (o) => o.map((x) => x.textContent));
    const known = await api<{ groups: { key: string }[] }>("/v1/logs/acme/stats?groupBy=actor&limit=100");
    assert.deepEqual(actors, known.groups.map((g) => g.key).slice(0, actors.length), "known actors, most frequent first");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    assert.equal(await page.inputValue("#st-query"), `actor:${known.groups[1]?.key} `);
  });

  test("quick filters write the query and narrow the results", async () => {
    await search("");
    await page.getByLabel("Outcome").selectOption("failure");
    await waitForResults(page, "outcome:failure");
    assert.equal(await page.inputValue("#st-query"), "outcome:failure");
    await page.getByLabel("Target").fill("document/doc_103");
    await page.getByLabel("Target").press("Enter");
    await waitForResults(page, "outcome:failure target:document/doc_103");
    assert.equal(await page.inputValue("#st-query"), "outcome:failure target:document/doc_103");
    const rows = await visibleRows(page);
    assert.equal(rows.length, await total("outcome:failure target:document/doc_103"));
    for (const row of rows) assert.equal(row[4], "failure");
    await page.getByLabel("Time").selectOption("-24h");
    await waitForResults(page, "outcome:failure target:document/doc_103 after:-24h");
    assert.equal(await page.inputValue("#st-query"), "outcome:failure target:document/doc_103 after:-24h");
  });

  test("pages by infinite scroll over the cursor API and moves by keyboard", async () => {
    await search("");
    assert.match((await page.textContent(".status")) ?? "", /^100 events shown; scroll for more/);
    await page.$eval(".viewport", (v) => {
      v.scrollTop = v.scrollHeight;
    });
    await waitForStatus(page, { startsWith: "200 events" });
    await page.$eval(".viewport", (v) => {
      v.scrollTop = v.scrollHeight;
    });
    await waitForStatus(page, { startsWith: "300 events" });
    await page.$eval(".viewport", (v) => {
      v.scrollTop = v.scrollHeight;
    });
    await waitForStatus(page, { startsWith: "400 events" });
    const indexes = (await visibleRows(page)).map((r) => Number(r[5]));
    for (let i = 1; i < indexes.length; i++) assert.equal(indexes[i], (indexes[i - 1] as number) - 1, "no gap and no repeat across pages");
    assert.ok((await page.$$(".viewport [role=row]")).length < 60, "only the rows in view are in the DOM");

    await page.focus("[role=grid]");
    await page.keyboard.press("Home");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowDown");
    assert.equal(await page.getAttribute("[role=grid]", "aria-activedescendant"), "st-row-2397");
    await page.keyboard.press("Enter");
    await page.waitForSelector(".detail");
    assert.equal(await page.textContent(".detail dl dd"), "2397");
  });

  test("moves focus in reading order: search, quick filters, results", async () => {
    await search("");
    await page.focus("#st-query");
    const order: string[] = [];
    while (order.at(-1) !== "grid" && order.length < 40) {
      await page.keyboard.press("Tab");
      order.push(
        await page.evaluate(() => {
          const el = document.activeElement as HTMLElement;
          return el.getAttribute("role") === "grid"
            ? "grid"
            : (el.closest("label")?.firstChild?.textContent ?? el.textContent ?? "").trim();
        }),
      );
    }
    assert.deepEqual(order.slice(0, 6), ["Search", "Time", "Actor", "Action", "Target", "Outcome"]);
    assert.equal(order.at(-1), "grid", `the results grid is reachable by Tab: ${order.join(", ")}`);
    assert.equal(order.length, 6 + 6 + 6 + 3 + 1, "after the filters come the overview's bars (6 actions, 6 actors, 3 outcomes)");
  });

  test("shows every field and the changes as a diff; Verify proves the event in the browser", async () => {
    await search("action:member.role_changed");
    await page.click(".viewport [role=row] >> nth=0");
    await page.waitForSelector(".detail .diff");
    const diff = await page.$$eval(".diff tbody tr", (rows) => rows.map((r) => [...r.children].map((c) => c.textContent)));
    assert.equal(diff.length, 1);
    assert.equal(diff[0]?.[0], "role");
    assert.notEqual(diff[0]?.[1], diff[0]?.[2]);
    const labels = await page.$$eval(".detail dt", (d) => d.map((x) => x.textContent));
    for (const label of [
      "Index",
      "ID",
      "Occurred (UTC)",
      "Received (UTC)",
      "Outcome",
      "Actor",
      "Target 1",
      "IP",
      "User agent",
      "Request",
      "Session",
    ]) {
      assert.ok(labels.includes(label), `shows ${label}`);
    }
    // A small laptop screen: nothing spills sideways, and Verify is in view beside the results.
    await page.setViewportSize({ width: 1280, height: 720 });
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true);
    assert.ok(await page.isVisible("text=Verify"));
    await page.setViewportSize({ width: 1366, height: 768 });
    await page.click("text=Verify");
    const verdict = await page.waitForSelector(".verdict[data-verified]");
    assert.equal(await verdict.getAttribute("data-verified"), "yes", (await verdict.textContent()) ?? "");
    const text = (await verdict.textContent()) ?? "";
    assert.match(text, /Verified in this browser: this exact event is entry \d+ of sealtrail\.local\/acme, in the tree of 2400 entries/);
    assert.match(
      text,
      /Leaf hash:.*Shown = stored:.*Checkpoint signature: Ed25519 signature by sealtrail\.local\/acme\+[0-9a-f]{8}.*Inclusion proof:/s,
    );
    await page.screenshot({ path: join(SCREENSHOTS, "detail-verified.png") });
  });

  test("pivots to the same actor and the same request", async () => {
    const actor = ((await page.textContent(".detail dl dd >> nth=5")) ?? "").split("/")[1];
    await page.click("text=Same actor");
    await waitForResults(page, `actor:${actor}`);
    assert.equal(await page.inputValue("#st-query"), `actor:${actor}`);
    for (const row of await visibleRows(page)) assert.match(row[2] as string, new RegExp(`\\(${actor}\\)$`));
    await page.click(".viewport [role=row] >> nth=0");
    await page.click("text=Same request");
    await page.waitForFunction(() => document.querySelector(".results")?.getAttribute("data-query")?.startsWith("request:"));
    const q = await page.inputValue("#st-query");
    assert.match(q, /^request:req_acme_/);
    await waitForResults(page, q);
    assert.equal((await visibleRows(page)).length, 1, "a request id belongs to one event");
  });

  test("exports the current query as CSV and JSON Lines", async () => {
    await search("outcome:denied");
    const expected = await total("outcome:denied");
    const [csv] = await Promise.all([page.waitForEvent("download"), page.click("text=Export CSV")]);
    const csvText = readFileSync((await csv.path()) as string, "utf8");
    const lines = csvText.trimEnd().split("\r\n");
    assert.equal(
      lines[0],
      "log,index,id,occurredAt,receivedAt,action,outcome,actorType,actorId,actorName,targets,ip,userAgent,requestId,sessionId,metadata",
    );
    assert.equal(lines.length - 1, expected);
    const [jsonl] = await Promise.all([page.waitForEvent("download"), page.click("text=Export JSON Lines")]);
    const hits = readFileSync((await jsonl.path()) as string, "utf8")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { log: string; index: number; event: { outcome: string } });
    assert.equal(hits.length, expected);
    assert.ok(hits.every((h) => h.log === "acme" && h.event.outcome === "denied"));
    assert.ok(hits[0] && hits[1] && hits[0].index > hits[1].index, "newest first");
  });

  test("live mode shows an event appended during the test", async () => {
    await search("action:viewer.e2e_live");
    assert.equal((await visibleRows(page)).length, 0);
    await page.waitForSelector(".charts .total");
    await page.click("button.live");
    await page.waitForFunction(() => document.querySelector(".notice")?.textContent?.startsWith("live:"));
    await api("/v1/logs/acme/events", {
      method: "POST",
      body: JSON.stringify({
        action: "viewer.e2e_live",
        occurredAt: new Date().toISOString(),
        actor: { type: "user", id: "u_live", name: "Live Tester" },
        outcome: "denied",
      }),
    });
    await page.waitForSelector(".viewport [role=row].fresh");
    const rows = await visibleRows(page);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.[1], "viewer.e2e_live");
    assert.equal(rows[0]?.[2], "Live Tester (u_live)");
    assert.match((await page.textContent(".charts .total")) ?? "", /^1 matching event$/);
    await page.screenshot({ path: join(SCREENSHOTS, "live.png") });
    await page.click("button.live");
  });

  test("the embedded viewer with a token for acme shows nothing of globex", async () => {
    const token = await mintToken({ log: "acme", ttlSeconds: 600 });
    const frame = await openEmbed(token);
    await frame.waitForSelector(".viewport [role=row]");
    assert.equal(await frame.textContent(".log-name"), "acme");
    assert.equal(new URL(frame.url()).hash, "", "the token is taken out of the address bar");
    // globex's demo request ids are req_globex_…: searching one from acme's viewer finds nothing.
    const globexHit = await api<{ events: { event: { context: { requestId: string } } }[] }>("/v1/logs/globex/events?limit=1");
    const requestId = globexHit.events[0]?.event.context.requestId as string;
    await frame.fill("#st-query", `request:${requestId}`);
    await frame.press("#st-query", "Enter");
    await waitForResults(frame, `request:${requestId}`);
    await waitForStatus(frame, { is: "No events match." });
    const denied = await frame.evaluate(
      async (t) => (await fetch("/v1/logs/globex/events", { headers: { authorization: `Bearer ${t}` } })).status,
      token,
    );
    assert.equal(denied, 403, "the token cannot read globex at all");
    await frame.fill("#st-query", "");
    await frame.press("#st-query", "Enter");
    await frame.waitForSelector(".viewport [role=row]");
    await frame.waitForSelector(".charts .total");
    await frame.page().screenshot({ path: join(SCREENSHOTS, "embed.png") });
    await frame.page().close();
  });

  test("a token bound to one actor shows only that actor; the web component themes by CSS variables", async () => {
    const token = await mintToken({ log: "acme", actor: "u_1003", ttlSeconds: 600 });
    const embedPage = await browser.context.newPage();
    await embedPage.goto(`${server.url}/embed`);
    await embedPage.waitForSelector("sealtrail-viewer");
    await embedPage.evaluate((t) => {
      const element = document.querySelector("sealtrail-viewer") as HTMLElement;
      element.style.setProperty("--st-accent", "rgb(122, 51, 170)");
      element.setAttribute("token", t);
    }, token);
    await embedPage.waitForSelector(".viewport [role=row]");
    assert.match((await embedPage.textContent(".scope")) ?? "", /only events of actor u_1003/);
    for (const row of await visibleRows(embedPage as Page)) assert.match(row[2] as string, /\(u_1003\)$/);
    const accent = await embedPage.$eval(".log-name", (el) => getComputedStyle(el).color);
    assert.equal(accent, "rgb(122, 51, 170)", "the host's --st-accent reaches inside the shadow root");
    await embedPage.close();
  });

  test("the embedded viewer refuses an expired token", async () => {
    const secret = Buffer.from(readFileSync(join(server.dataDir, "viewer-token-secret"), "utf8").trim(), "base64url");
    const now = Math.floor(Date.now() / 1000);
    const expired = signViewerToken(secret, {
      v: 1,
      jti: "e2eExpiredToken0",
      iss: "env-admin",
      log: "acme",
      iat: now - 7200,
      exp: now - 3600,
    });
    const frame = await openEmbed(expired);
    const alert = await frame.waitForSelector(".refused[role=alert]");
    assert.match((await alert.textContent()) ?? "", /The server refused this viewer token: the viewer token has expired/);
    assert.equal(await frame.$(".viewport [role=row]"), null, "no event is shown");
    await frame.page().close();
  });

  test("after a subject is erased, the viewer shows [erased] for their personal fields and Verify still proves the event", async () => {
    const before = await api<{ events: { event: { actor: { id: string; name?: string; email?: string } } }[] }>(
      "/v1/logs/acme/events?q=outcome:success&limit=1",
    );
    const actor = before.events[0]?.event.actor;
    assert.ok(actor?.name, "the demo actor has a name");
    const erased = await runCli(["erase", "--subject", actor.id, "--url", server.url, "--key", ADMIN_KEY]);
    assert.equal(erased.code, 0, erased.stderr);
    await search(`actor:${actor.id}`);
    const rows = await visibleRows(page);
    assert.ok(rows.length > 0);
    for (const row of rows) assert.ok(!row.join(" ").includes(actor.name), `a row still shows ${actor.name}`);
    await page.click(".viewport [role=row] >> nth=0");
    await page.waitForSelector(".detail dl");
    const detail = (await page.textContent(".detail")) ?? "";
    assert.match(detail, /\[erased\]/);
    assert.ok(!detail.includes(actor.name), "the detail panel shows the erased name");
    if (actor.email) assert.ok(!detail.includes(actor.email), "the detail panel shows the erased email");
    await page.click("text=Verify");
    const verdict = await page.waitForSelector(".verdict[data-verified]");
    const text = (await verdict.textContent()) ?? "";
    assert.equal(await verdict.getAttribute("data-verified"), "yes", text);
    assert.match(text, /personal values? (is|are) encrypted in it/);
  });

  test("after a stored event is changed behind the engine's back, Verify fails and says why", async () => {
    const target = await api<{ events: { index: number; event: { id: string } }[] }>(
      "/v1/logs/acme/events?q=action:settings.updated&limit=1",
    );
    const hit = target.events[0];
    assert.ok(hit);
    const db = new Database(join(server.dataDir, "sealtrail.db"));
    try {
      const { id } = db.prepare("SELECT id FROM logs WHERE name = ?").get("acme") as { id: number };
      const rowid = id * ROWS_PER_LOG + hit.index;
      const { leaf } = db.prepare("SELECT leaf FROM entries WHERE rowid = ?").get(rowid) as { leaf: Buffer };
      const altered = Buffer.from(leaf.toString("utf8").replace("settings.updated", "settings.upgated"), "utf8");
      assert.equal(altered.length, leaf.length);
      db.exec("DROP TRIGGER entries_no_update");
      assert.equal(db.prepare("UPDATE entries SET leaf = ? WHERE rowid = ?").run(altered, rowid).changes, 1);
    } finally {
      db.close();
    }
    await search(`action:settings.updated`);
    await page.click(".viewport [role=row] >> nth=0");
    await page.click("text=Verify");
    const verdict = await page.waitForSelector(".verdict[data-verified]");
    const text = (await verdict.textContent()) ?? "";
    assert.equal(await verdict.getAttribute("data-verified"), "no", text);
    assert.match(
      text,
      new RegExp(
        `Not verified\\. Leaf hash: the stored event bytes hash to .* but the tree holds .* at index ${hit.index}: the event was changed after it was logged`,
      ),
    );
    assert.match(text, new RegExp(`Inclusion proof: leaf ${hit.index} is not included in the tree of size`));
    await page.screenshot({ path: join(SCREENSHOTS, "verify-failed.png") });
  });
});
