import { InputError, type JsonValue, NotFoundError } from "@sealtrail/core";
import { readJsonBody } from "../body.js";
import { authorize, createApiKey, ENV_ADMIN_ID, newApiKeyId, type Principal, parseApiKeyRequest, publicApiKey } from "../keys.js";
import type { App, RouteContext } from "../route-context.js";
import type { SystemLog } from "../system-log.js";
import { viewerTokenRequestProblems } from "../viewer-token.js";

/** Key and token requests are a few hundred bytes; no reason to buffer the ingest limit. */
const MAX_ADMIN_BODY = 64 * 1024;
/** Answers that carry a secret must not be kept by any cache. */
const NO_STORE = { "cache-control": "no-store" };

/**
 * Key management (admin) and viewer-token issuing. Every action is recorded in the system log
 * BEFORE it takes effect: if it cannot be recorded, nothing happens (503 audit_unavailable); if
 * the effect then fails, a second event with outcome "failure" says so.
 */
export function keysRoutes(app: App, ctx: RouteContext, options: { systemLog?: SystemLog } = {}): void {
  const { engine, auth } = ctx;
  const store = engine.store;
  const systemLog = options.systemLog ?? ctx.systemLog;
  const bodyLimit = Math.min(ctx.maxBody, MAX_ADMIN_BODY);

  app.post("/v1/keys", async (c) => {
    await ctx.allow(c, "admin");
    const request = parseApiKeyRequest(await readJsonBody(c, bodyLimit));
    const id = newApiKeyId();
    const targets = [{ type: "api_key", id }];
    const metadata = { scope: request.scope, logs: [...(request.logs ?? [])], label: request.label ?? "" };
    await systemLog.record(c, "key.created", { targets, metadata });
    let created: Awaited<ReturnType<typeof createApiKey>>;
    try {
      created = await createApiKey(store, { ...request, id });
    } catch (error) {
      await systemLog.record(c, "key.created", { targets, metadata, outcome: "failure" }).catch(() => undefined);
      throw error;
    }
    return c.json({ ...publicApiKey(created.record), key: created.key }, 201, NO_STORE);
  });

  app.get("/v1/keys", async (c) => {
    await ctx.allow(c, "admin");
    const keys = await store.listApiKeys();
    return c.json({ keys: keys.map(publicApiKey) }, 200, NO_STORE);
  });

  app.delete("/v1/keys/:id", async (c) => {
    await ctx.allow(c, "admin");
    const id = c.req.param("id");
    if (id === ENV_ADMIN_ID) {
      throw new InputError(
        "key_not_revocable",
        "SEALTRAIL_ADMIN_KEY cannot be revoked through the API: unset it (or change it) and restart the server",
        { problems: [{ parameter: "id", detail: "is the environment admin key" }] },
      );
    }
    const record = /^[a-z0-9]{12}$/.test(id) ? await store.findApiKey(id) : undefined;
    if (!record) throw new NotFoundError("key_not_found", "no API key has that id");
    // Revoking is idempotent: a key already revoked stays revoked, and nothing new is recorded.
    if (record.revokedAt) return c.body(null, 204);
    if (record.scope === "admin" && !auth.hasEnvAdminKey) {
      const admins = (await store.listApiKeys()).filter((k) => k.scope === "admin" && !k.revokedAt);
      if (admins.length <= 1) {
        throw new InputError("last_admin_key", "this is the last admin key: create another admin key first, then revoke this one", {
          problems: [{ parameter: "id", detail: "is the only admin key that is not revoked" }],
        });
      }
    }
    const targets = [{ type: "api_key", id }];
    const metadata = { scope: record.scope, logs: [...record.logs], label: record.label };
    await systemLog.record(c, "key.revoked", { targets, metadata });
    try {
      await store.revokeApiKey(id, new Date().toISOString());
    } catch (error) {
      await systemLog.record(c, "key.revoked", { targets, metadata, outcome: "failure" }).catch(() => undefined);
      throw error;
    }
    return c.body(null, 204);
  });

  app.post("/v1/viewer-tokens", async (c) => {
    // `allow` answers without a principal only for public tree reads.
    const principal = (await ctx.allow(c, "issue-viewer-token")) as Principal;
    const { request, problems } = viewerTokenRequestProblems(await readJsonBody(c, bodyLimit));
    if (!request) {
      const first = problems[0] as { pointer: string; detail: string };
      const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
      throw new InputError("invalid_token_request", `${first.pointer || "/"} ${first.detail}${more}`, { problems });
    }
    authorize(principal, "issue-viewer-token", request.log);
    const issued = auth.issueViewerToken(principal, request);
    const restriction: Record<string, JsonValue> = {
      ...(request.actor === undefined ? {} : { actor: request.actor }),
      ...(request.target === undefined ? {} : { target: { ...request.target } }),
    };
    await systemLog.record(c, "viewer_token.issued", {
      targets: [
        { type: "log", id: request.log },
        { type: "viewer_token", id: issued.id },
      ],
      metadata: { ttlSeconds: request.ttlSeconds, expiresAt: issued.expiresAt, ...restriction },
    });
    return c.json({ token: issued.token, id: issued.id, expiresAt: issued.expiresAt, log: request.log, ...restriction }, 201, NO_STORE);
  });
}
