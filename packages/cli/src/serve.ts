import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseAnchorTarget, startAnchoring } from "@sealtrail/anchor";
import { ConfigError, compilePersonalData, type PersonalDataOverride, withActionOverrides } from "@sealtrail/core";
import { acquireLock, dataDir, ensureDataDir, loadSigner } from "@sealtrail/engine";
import {
  Authenticator,
  createApp,
  ensureAdminKey,
  listen,
  loadStaticAssets,
  loadViewerTokenSecret,
  type PublishedCatalog,
  type RecordAction,
  RetentionService,
  SystemLog,
} from "@sealtrail/server";
import { viewerAssetsDir } from "@sealtrail/viewer";
import { demoEvents } from "./demo.js";
import { loadPersonalDataConfig, openServerParts } from "./server-parts.js";

export interface ServeOptions {
  readonly data: string;
  /** `postgres://…` for the scale-out store (several instances, one integrator); default: SQLite in `data`. */
  readonly store?: string;
  /** A read replica for queries (PostgreSQL only). */
  readonly readStore?: string;
  readonly poolSize?: number;
  readonly host: string;
  readonly port: number;
  readonly originPrefix: string;
  readonly demo: boolean;
  readonly publicTree: boolean;
  readonly accessLog: boolean;
  /** `dir:/path`, `git:/path` or `s3://bucket/prefix?…` targets for each log's checkpoints. */
  readonly anchors?: readonly string[];
  readonly anchorIntervalMs?: number;
  /** A personal-data configuration file (JSON); default: DESIGN §7's personal fields. */
  readonly personalDataConfig?: string;
  /** How often the retention job runs (default hourly). */
  readonly retentionIntervalMs?: number;
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
  // Parsed first: a mistyped target must stop the start, not surface an hour later.
  const anchorTargets = (options.anchors ?? []).map((spec) => parseAnchorTarget(spec, options.env));
  // Loaded first: a bad catalog module fails the start before anything is opened.
  const catalog = options.catalog === undefined ? undefined : await loadCatalog(options.catalog);
  const dir = dataDir(options.data);
  ensureDataDir(dir);
  // On PostgreSQL many instances share the database: the database coordinates them, not a lock file.
  const releaseLock = options.store ? () => undefined : acquireLock(dir);
  const signer = await loadSigner(dir, { keyName: options.originPrefix, create: true, env: options.env.SEALTRAIL_SIGNING_KEY });
  const viewerTokenSecret = loadViewerTokenSecret(join(dir.path, "viewer-token-secret"), { create: true });
  // A catalog's marks (defineEvents(..., { personal })) win over the file for their own actions.
  const personalDataConfig = catalog?.personalData
    ? withActionOverrides(loadPersonalDataConfig(options.personalDataConfig), catalog.personalData)
    : loadPersonalDataConfig(options.personalDataConfig);
  if (personalDataConfig) compilePersonalData(personalDataConfig);
  // The origin prefix is the signing key's name: fixed when the key is made, so origins never drift.
  const parts = await openServerParts(dir, {
    signer,
    print: options.print,
    ...(personalDataConfig ? { personalData: personalDataConfig } : {}),
    ...(options.store
      ? {
          postgres: {
            url: options.store,
            ...(options.readStore ? { readUrl: options.readStore } : {}),
            ...(options.poolSize ? { poolSize: options.poolSize } : {}),
            print: options.print,
          },
        }
      : {}),
  });
  const { store, engine, personalData } = parts;
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
  const retention = new RetentionService({ engine });
  const systemLog = new SystemLog({ engine });
  // The job's own events name it as their actor: no person asked for them.
  const recordJob: RecordAction = (action, details) =>
    systemLog.recordEvent(action, { ...details, actor: { type: "service", id: "retention-job" } });
  const viewer = loadStaticAssets(viewerAssetsDir());
  const app = createApp({
    engine,
    auth: new Authenticator(store, envAdminKey, { viewerTokenSecret }),
    publicTree: options.publicTree,
    personalData,
    retention,
    ...(viewer ? { viewer } : {}),
    ...(catalog ? { catalog } : {}),
    ...(options.accessLog ? { onRequest: (r) => options.print(`${r.method} ${r.path} ${r.status} ${r.ms.toFixed(1)}ms`) } : {}),
  });
  const server = await listen(app, { host: options.host, port: options.port });
  const anchorIntervalMs = options.anchorIntervalMs ?? 60_000;
  const anchoring =
    anchorTargets.length > 0
      ? startAnchoring({
          source: engine,
          targets: anchorTargets,
          intervalMs: anchorIntervalMs,
          onError: (m) => options.print(`sealtrail: ${m}`),
        })
      : undefined;
  // One write, so whoever watches the output sees the whole banner at once.
  const banner = [
    `Sealtrail listening on ${server.url}`,
    `  data:         ${dir.path}`,
    ...(options.store ? [`  store:        ${store.description} (many instances, one integrator)`] : []),
    viewer ? `  viewer:       ${server.url}/` : "  viewer:       not built (npm run build -w @sealtrail/viewer)",
    `  signing key:  Ed25519, checkpoints of log L are signed as ${signer.name}/L (verifier keys: sealtrail keys)`,
  ];
  for (const target of anchorTargets) banner.push(`  anchor:       ${target.description}, every ${anchorIntervalMs / 1000} s`);
  if (!generated && !envAdminKey) banner.push("  admin key:    the one printed on first start (or set SEALTRAIL_ADMIN_KEY)");
  if (options.demo) banner.push(`  try:          curl -H "Authorization: Bearer <admin key>" ${server.url}/v1/logs/acme`);
  options.print(banner.join("\n"));
  retention.start(options.retentionIntervalMs ?? 3_600_000, recordJob, parts.integrating);
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await server.close();
      // The final checkpoint engine.close signs is published at the next start.
      await anchoring?.stop();
      await retention.stop();
      await parts.close();
      releaseLock();
    })();
    return stopping;
  };
  return { url: server.url, stop };
}

/** A `defineEvents(...)` catalog as `serve` uses it: published, and its personal-data marks applied. */
type ServedCatalog = PublishedCatalog & { readonly personalData?: Readonly<Record<string, PersonalDataOverride>> };

/** Imports the catalog module given to --catalog (compiled JavaScript, e.g. `events.mjs`). */
async function loadCatalog(path: string): Promise<ServedCatalog> {
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
  return catalog as ServedCatalog;
}
