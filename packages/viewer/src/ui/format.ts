import type { JsonValue } from "@sealtrail/core";

/** "2026-11-27 12:00:05" in UTC: audit times are compared across time zones, so one zone for all. */
export function formatTime(iso: string): string {
  return iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "");
}

export interface DiffLine {
  readonly path: string;
  readonly kind: "added" | "removed" | "changed";
  readonly before?: string;
  readonly after?: string;
}

function flatten(value: JsonValue | undefined, prefix: string, out: Map<string, string>): void {
  if (value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [key, child] of Object.entries(value)) flatten(child, prefix ? `${prefix}.${key}` : key, out);
  } else if (value !== undefined) {
    out.set(prefix || "(value)", JSON.stringify(value));
  }
}

/** The before/after changes of an event as one line per changed leaf path, in path order. */
export function diffChanges(before: JsonValue | undefined, after: JsonValue | undefined): DiffLine[] {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  flatten(before, "", a);
  flatten(after, "", b);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  const lines: DiffLine[] = [];
  for (const path of paths) {
    const was = a.get(path);
    const now = b.get(path);
    if (was === now) continue;
    if (was === undefined) lines.push({ path, kind: "added", after: now as string });
    else if (now === undefined) lines.push({ path, kind: "removed", before: was });
    else lines.push({ path, kind: "changed", before: was, after: now });
  }
  return lines;
}

/** What a viewer token says about itself (unverified: the server checks it; this is for display). */
export interface TokenClaims {
  readonly log: string;
  readonly exp: number;
  readonly act?: string;
  readonly tgt?: { type: string; id?: string };
}

export function tokenClaims(token: string): TokenClaims | undefined {
  const match = /^stv_([A-Za-z0-9_-]+)\./.exec(token);
  if (!match) return undefined;
  try {
    const b64 = (match[1] as string).replaceAll("-", "+").replaceAll("_", "/");
    const bytes = Uint8Array.from(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes)) as TokenClaims;
    return typeof claims.log === "string" && typeof claims.exp === "number" ? claims : undefined;
  } catch {
    return undefined;
  }
}
