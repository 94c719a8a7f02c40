import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import type { App } from "./route-context.js";

/** A built web app held in memory: URL path → bytes. The viewer is small (tens of kB). */
export type StaticAssets = ReadonlyMap<string, Uint8Array>;

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * Reads a built app's files (e.g. the viewer's `dist/public`). Undefined when the directory does
 * not exist, so a server without the viewer built still serves the API.
 */
export function loadStaticAssets(dir: string): StaticAssets | undefined {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) return undefined;
  const assets = new Map<string, Uint8Array>();
  const walk = (path: string) => {
    for (const name of readdirSync(path)) {
      const file = join(path, name);
      if (statSync(file).isDirectory()) walk(file);
      else if (CONTENT_TYPES[extname(name)]) assets.set(`/${relative(dir, file).split(sep).join("/")}`, readFileSync(file));
    }
  };
  walk(dir);
  return assets.has("/index.html") ? assets : undefined;
}

// Pages run only our own scripts and styles and talk only to this server; nothing inline, no eval.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'";

/**
 * Serves the viewer: `/` (the console, which must not be framed), `/embed` (the page meant for
 * iframes, framable anywhere: its viewer token is the access control), content-hashed files under
 * `/assets/` as immutable, and everything else revalidated on each use.
 */
export function staticRoutes(app: App, assets: StaticAssets): void {
  const pages: Record<string, { file: string; frameAncestors: string }> = {
    "/": { file: "/index.html", frameAncestors: "'none'" },
    "/embed": { file: "/embed.html", frameAncestors: "*" },
  };
  for (const [path, page] of Object.entries(pages)) {
    const body = assets.get(page.file);
    if (!body) continue;
    app.get(path, (c) =>
      c.body(body as Uint8Array<ArrayBuffer>, 200, {
        "content-type": CONTENT_TYPES[".html"] as string,
        "cache-control": "no-cache",
        "content-security-policy": `${CSP}; frame-ancestors ${page.frameAncestors}`,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        ...(page.frameAncestors === "'none'" ? { "x-frame-options": "DENY" } : {}),
      }),
    );
  }
  for (const [path, body] of assets) {
    if (path.endsWith(".html")) continue;
    app.get(path, (c) =>
      c.body(body as Uint8Array<ArrayBuffer>, 200, {
        "content-type": CONTENT_TYPES[extname(path)] as string,
        // Vite names files under /assets/ by content hash: a name never changes meaning.
        "cache-control": path.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
        "x-content-type-options": "nosniff",
      }),
    );
  }
}
