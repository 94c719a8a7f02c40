import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Hono } from "hono";
import type { Env } from "./route-context.js";
import { loadStaticAssets, staticRoutes } from "./static-assets.js";

const dir = mkdtempSync(join(tmpdir(), "sealtrail-static-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function built(files: Record<string, string>): string {
  const root = mkdtempSync(join(dir, "app-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe("static assets (the web viewer)", () => {
  const root = built({
    "index.html": "<!doctype html><title>console</title>",
    "embed.html": "<!doctype html><title>embed</title>",
    "assets/viewer-AbC123.js": "export {}",
    "assets/console-AbC123.css": "body{}",
    "sealtrail-viewer.js": "export {}",
    "notes.md": "not served",
  });
  const assets = loadStaticAssets(root);
  const app = new Hono<Env>();
  if (assets) staticRoutes(app, assets);

  it("is absent when the viewer is not built", () => {
    assert.equal(loadStaticAssets(join(dir, "missing")), undefined);
    assert.equal(loadStaticAssets(built({ "assets/a.js": "" })), undefined, "no index.html, no viewer");
  });

  it("serves the console at / with a CSP that allows only its own scripts, and forbids framing it", async () => {
    const response = await app.request("/");
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "<!doctype html><title>console</title>");
    assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(response.headers.get("cache-control"), "no-cache");
    const csp = response.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'$/);
    assert.equal(response.headers.get("x-frame-options"), "DENY");
    assert.equal(response.headers.get("referrer-policy"), "no-referrer");
  });

  it("serves /embed framable by any page: the viewer token is its access control", async () => {
    const response = await app.request("/embed");
    assert.equal(await response.text(), "<!doctype html><title>embed</title>");
    assert.match(response.headers.get("content-security-policy") ?? "", /frame-ancestors \*$/);
    assert.equal(response.headers.get("x-frame-options"), null);
  });

  it("caches content-hashed assets forever and the stable component name never", async () => {
    const script = await app.request("/assets/viewer-AbC123.js");
    assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(script.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.equal(script.headers.get("x-content-type-options"), "nosniff");
    assert.equal((await app.request("/assets/console-AbC123.css")).headers.get("content-type"), "text/css; charset=utf-8");
    assert.equal((await app.request("/sealtrail-viewer.js")).headers.get("cache-control"), "no-cache");
  });

  it("serves nothing else: unknown files and types, and the .html names, are not routes", async () => {
    for (const path of ["/notes.md", "/index.html", "/assets/other.js", "/../package.json"]) {
      assert.equal((await app.request(path)).status, 404, path);
    }
  });
});
