import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError } from "@sealtrail/core";
import { acquireLock, dataDir, ensureDataDir, LogEngine, loadSigner } from "@sealtrail/engine";
import { Authenticator, createApp, ensureAdminKey, listen, loadViewerTokenSecret, type PublishedCatalog } from "@sealtrail/server";
import { createSqliteStore } from "@sealtrail/store-sqlite";
import { demoEvents } from "./demo.js";

export interface ServeOptions {
  readonly data: string;
  readonly host: string;
  readonly port: number;
  readonly originPrefix: string;
  readonly demo: boolean;
  readonly publicTree: boolean;
  readonly accessLog: boolean;
  /** A JavaScript module whose default (or `catalog`) export is a `defineEvents(...)` catalog, served at /v1/schemas. */
  readonly catalog?: string;
  readonly env: NodeJS.ProcessEnv;
  readonly print: (line: string) => void;
}

const DEMO_TENANTS = [
  ["acme", 2400, 1],
  ["globex", 600, 2],
] as const;

/** Starts the server on the embedded store; resolves with a stop function once listening. */
export async function serve(options: ServeOptions): Promise<{ url: string; stop: () => Promise<void> }> {
  // Loaded first: a bad catalog module fails the start before anything is opened.
  const catalog = options.catalog === undefined ? undefined : await loadCatalog(options.catalog);
  const dir = dataDir(options.data);
  ensureDataDir(dir);
  const releaseLock = acquireLock(dir);
  const signer = await loadSigner(dir, { keyName: options.originPrefix, create: true, env: options.env.SEALTRAIL_SIGNING_KEY });
  const viewerTokenSecret = loadViewerTokenSecret(join(dir.path, "viewer-token-secret"), { create: true });
  const store = createSqliteStore({ path: dir.databasePath });
  // The origin prefix is the signing key's name: fixed when the key is made, so origins never drift.
  const engine = await LogEngine.open({ store, signer, originPrefix: signer.name });
  const envAdminKey = options.env.SEALTRAIL_ADMIN_KEY || undefined;
  const { generated } = await ensureAdminKey(store, envAdminKey);
  // Shown as soon as it exists: if anything later fails (a port in use), the key is not lost.
  if (generated) {
    options.print("Admin API key (shown once; only its hash is stored):");
    options.print(`  ${generated}`);
    options.print("");
  }
  if (options.demo) {
    for (const [tenant, count, seed] of DEMO_TENANTS) {
      if (await engine.hasLog(tenant)) continue;
      // One append call is one all-or-nothing unit: an interrupted start leaves all or none.
      await engine.append(tenant, demoEvents(tenant, count, { seed }));
      options.print(`demo: wrote ${count} events to log "${tenant}"`);
    }
  }
  const app = createApp({
    engine,
    auth: new Authenticator(store, envAdminKey, { viewerTokenSecret }),
    publicTree: options.publicTree,
    ...(catalog ? { catalog } : {}),
    ...(options.accessLog ? { onRequest: (r) => options.print(`${r.method} ${r.path} ${r.status} ${r.ms.toFixed(1)}ms`) } : {}),
  });
  const server = await listen(app, { host: options.host, port: options.port });
  // One write, so whoever watches the output sees the whole banner at once.
  const banner = [
    `Sealtrail listening on ${server.url}`,
    `  data:         ${dir.path}`,
    `  signing key:  Ed25519, checkpoints of log L are signed as ${signer.name}/L (verifier keys: sealtrail keys)`,
  ];
  if (!generated && !envAdminKey) banner.push("  admin key:    the one printed on first start (or set SEALTRAIL_ADMIN_KEY)");
  if (options.demo) banner.push(`  try:          curl -H "Authorization: Bearer <admin key>" ${server.url}/v1/logs/acme`);
  options.print(banner.join("\n"));
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await server.close();
      await engine.close();
      releaseLock();
    })();
    return stopping;
  };
  return { url: server.url, stop };
}

/** Imports the catalog module given to --catalog (compiled JavaScript, e.g. `events.mjs`). */
async function loadCatalog(path: string): Promise<PublishedCatalog> {
  let module: { default?: unknown; catalog?: unknown };
  try {
    module = await import(pathToFileURL(resolve(path)).href);
  } catch (cause) {
    throw new ConfigError("invalid_catalog", `--catalog ${path} could not be imported: ${(cause as Error).message}`, { cause });
  }
  const catalog = (module.catalog ?? module.default) as Partial<PublishedCatalog> | undefined;
  if (typeof catalog?.toJSONSchema !== "function") {
    throw new ConfigError("invalid_catalog", `--catalog ${path} must export a defineEvents(...) catalog as default or as \`catalog\``);
  }
  return catalog as PublishedCatalog;
}
