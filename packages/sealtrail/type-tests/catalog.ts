// Compile-time tests of typed catalogs, checked by `tsc -b` (this project is in the root
// tsconfig.json). Each @ts-expect-error must meet a type error: if one ever stops failing,
// TypeScript reports the unused directive and the build breaks. catalog-types.test.ts also
// compiles this file with the directives removed and checks each line really errors.
import { type AuditLog, createAuditLog, defineEvents } from "sealtrail";
import { z } from "zod";

const events = defineEvents(
  {
    "document.shared": z.object({ documentId: z.string(), sharedWith: z.email(), expiresInDays: z.number().int().optional() }),
    "user.login": z.object({ method: z.enum(["password", "sso"]) }),
  },
  { strict: true },
);

export async function recordsTyped(audit: AuditLog<typeof events.schemas, true>): Promise<void> {
  await audit.record("document.shared", { documentId: "doc_9", sharedWith: "bo@example.com" });
  await audit.record("user.login", { method: "sso" }, { actor: { type: "user", id: "u_1" } });
  await audit.record({ action: "user.login", metadata: { method: "password" } });

  // @ts-expect-error a wrong payload type for a catalogued action
  await audit.record("document.shared", { documentId: 9, sharedWith: "bo@example.com" });
  // @ts-expect-error a missing required payload field
  await audit.record("document.shared", { documentId: "doc_9" });
  // @ts-expect-error a value outside the schema's enum
  await audit.record("user.login", { method: "magic-link" });
  // @ts-expect-error an action the strict catalog does not list
  await audit.record("document.burned", {});
  // @ts-expect-error the object form checks the payload of its action too
  await audit.record({ action: "user.login", metadata: { method: 1 } });
}

export async function infersFromOptions(): Promise<void> {
  const audit = await createAuditLog({ path: "./unused", catalog: events, handleSignals: false });
  await audit.record("user.login", { method: "password" });
  // @ts-expect-error inferred from the catalog passed to createAuditLog
  await audit.record("user.login", { method: "pigeon" });
}

export function marksCataloguedActionsOnly(): void {
  defineEvents({ "user.login": z.object({ email: z.email() }) }, { personal: { "user.login": { personal: ["metadata.email"] } } });
  // @ts-expect-error personal data can be marked only for a catalogued action
  defineEvents({ "user.login": z.object({ email: z.email() }) }, { personal: { "user.logout": { personal: ["metadata.email"] } } });
}
