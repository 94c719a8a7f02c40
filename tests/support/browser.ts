import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { tempDir } from "./server-process.ts";

/** Debian's Chromium (scripts/test.sh installs it); never a downloaded browser. */
export const CHROMIUM = "/usr/bin/chromium";

/**
 * Where the viewer tests write their screenshots: `.test-tmp/screenshots`, so a test run leaves the
 * tree clean; `npm run screenshots` (SEALTRAIL_SCREENSHOTS=docs) refreshes the ones the README links to.
 */
export const SCREENSHOTS = resolve(
  import.meta.dirname,
  process.env.SEALTRAIL_SCREENSHOTS === "docs" ? "../../docs/screenshots" : "../../.test-tmp/screenshots",
);

/**
 * Real headless Chromium in a fresh profile: no sandbox (tests run as root), no GPU, and none of
 * Chromium's own network traffic (QUIC, background fetches, component updates, sync), so the only
 * requests are the test's, to 127.0.0.1.
 */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = tempDir("sealtrail-chromium-");
  const context = await chromium.launchPersistentContext(profile.path, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1366, height: 768 },
    acceptDownloads: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    context,
    async close() {
      await context.close();
      profile.remove();
    },
  };
}
