import { type EventInput, seededRandom } from "@sealtrail/core";

const PEOPLE = [
  ["u_1001", "Ada Lovelace", "ada@acme.example"],
  ["u_1002", "Grace Hopper", "grace@acme.example"],
  ["u_1003", "Alan Turing", "alan@acme.example"],
  ["u_1004", "Katherine Johnson", "katherine@acme.example"],
  ["u_1005", "Edsger Dijkstra", "edsger@acme.example"],
  ["u_1006", "Barbara Liskov", "barbara@acme.example"],
  ["u_1007", "Ken Thompson", "ken@acme.example"],
  ["u_1008", "Margaret Hamilton", "margaret@acme.example"],
] as const;

const AGENTS = [
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
  "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
  "acme-cli/2.4.1 (linux; amd64)",
];

const DOCUMENTS = [
  "Q3 board deck",
  "2027 hiring plan",
  "SOC 2 evidence index",
  "Pricing experiments",
  "Incident 4411 postmortem",
  "Vendor DPA",
];
const ROLES = ["viewer", "editor", "admin", "billing"];

/**
 * Realistic audit events for one tenant over the last `days` days, oldest first: logins (some
 * failed), document work, sharing, role changes, denied access, API keys, settings with diffs.
 */
export function demoEvents(tenant: string, count: number, options: { seed?: number; now?: number; days?: number } = {}): EventInput[] {
  const rand = seededRandom(options.seed ?? 42);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const now = options.now ?? Date.now();
  const span = (options.days ?? 30) * 86_400_000;
  const times = Array.from({ length: count }, () => now - Math.floor(rand() * span)).sort((a, b) => a - b);
  return times.map((time, i): EventInput => {
    const [id, name, email] = pick(PEOPLE);
    const actor = { type: "user", id, name, email: email.replace("acme", tenant) };
    const context = {
      ip:
        rand() < 0.8
          ? `203.0.113.${1 + Math.floor(rand() * 250)}`
          : `2001:db8:${Math.floor(rand() * 65535).toString(16)}::${Math.floor(rand() * 255).toString(16)}`,
      userAgent: pick(AGENTS),
      requestId: `req_${tenant}_${i.toString(36).padStart(6, "0")}`,
      sessionId: `sess_${id}_${Math.floor(time / 86_400_000)}`,
    };
    const occurredAt = new Date(time).toISOString();
    const doc = Math.floor(rand() * DOCUMENTS.length);
    const document = { type: "document", id: `doc_${100 + doc}`, name: DOCUMENTS[doc] as string };
    const roll = rand();
    if (roll < 0.22)
      return { action: "user.login", occurredAt, actor, context, metadata: { method: pick(["password", "sso", "passkey"]) } };
    if (roll < 0.27) {
      return {
        action: "user.login",
        occurredAt,
        actor,
        context,
        outcome: "failure",
        metadata: { reason: pick(["bad_password", "mfa_timeout", "locked"]) },
      };
    }
    if (roll < 0.45) return { action: "document.viewed", occurredAt, actor, targets: [document], context };
    if (roll < 0.55) {
      return {
        action: "document.updated",
        occurredAt,
        actor,
        targets: [document],
        context,
        changes: { before: { title: document.name, revision: i }, after: { title: document.name, revision: i + 1 } },
      };
    }
    if (roll < 0.65) {
      const [otherId, otherName] = pick(PEOPLE);
      return {
        action: "document.shared",
        occurredAt,
        actor,
        targets: [document, { type: "user", id: otherId, name: otherName }],
        context,
        metadata: { permission: pick(["view", "comment", "edit"]) },
      };
    }
    if (roll < 0.71)
      return {
        action: "document.exported",
        occurredAt,
        actor,
        targets: [document],
        context,
        metadata: { format: pick(["pdf", "docx", "csv"]) },
      };
    if (roll < 0.76)
      return {
        action: "document.deleted",
        occurredAt,
        actor,
        targets: [document],
        context,
        outcome: "denied",
        metadata: { reason: "missing role editor" },
      };
    if (roll < 0.82) {
      const [otherId, otherName] = pick(PEOPLE);
      const before = pick(ROLES);
      const after = pick(ROLES.filter((r) => r !== before));
      return {
        action: "member.role_changed",
        occurredAt,
        actor,
        targets: [{ type: "user", id: otherId, name: otherName }],
        context,
        changes: { before: { role: before }, after: { role: after } },
      };
    }
    if (roll < 0.86) {
      return {
        action: "member.invited",
        occurredAt,
        actor,
        targets: [{ type: "invitation", id: `inv_${i}` }],
        context,
        metadata: { role: pick(ROLES), invitee: `new.hire${i}@${tenant}.example` },
      };
    }
    if (roll < 0.9)
      return {
        action: "api_key.created",
        occurredAt,
        actor,
        targets: [{ type: "api_key", id: `key_${i.toString(36)}` }],
        context,
        metadata: { scopes: ["read"] },
      };
    if (roll < 0.94) {
      return {
        action: "settings.updated",
        occurredAt,
        actor,
        targets: [{ type: "workspace", id: `ws_${tenant}`, name: tenant }],
        context,
        changes: { before: { mfaRequired: false, sessionHours: 24 }, after: { mfaRequired: true, sessionHours: 12 } },
      };
    }
    if (roll < 0.97) {
      return {
        action: "billing.plan_changed",
        occurredAt,
        actor,
        targets: [{ type: "subscription", id: `sub_${tenant}` }],
        context,
        changes: { before: { plan: "team" }, after: { plan: "business" } },
      };
    }
    return { action: "user.logout", occurredAt, actor, context };
  });
}
