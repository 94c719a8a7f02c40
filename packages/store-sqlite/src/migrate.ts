import { StoreError } from "@sealtrail/core";
import type Database from "better-sqlite3";

/**
 * Applies versioned migrations (version = position + 1) recorded in `table`, each in its own
 * IMMEDIATE transaction; never edit a released one, add a new one. `onUpgrade` hears of it first
 * when a database of an earlier version is about to be upgraded (not when one is created).
 */
export function applyMigrations(
  db: Database.Database,
  table: string,
  migrations: readonly string[],
  onUpgrade?: (from: number, to: number) => void,
): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ${table} (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`);
  const current = db.prepare<[], { v: number | null }>(`SELECT max(version) AS v FROM ${table}`).get()?.v ?? 0;
  if (current > 0 && current < migrations.length) onUpgrade?.(current, migrations.length);
  const isApplied = db.prepare<[number], { version: number }>(`SELECT version FROM ${table} WHERE version = ?`);
  for (const [i, sql] of migrations.entries()) {
    const version = i + 1;
    if (isApplied.get(version)) continue;
    db.transaction(() => {
      // Checked again under the write lock: another process may have migrated since the read above.
      if (isApplied.get(version)) return;
      db.exec(sql);
      db.prepare(`INSERT INTO ${table} (version, applied_at) VALUES (?, ?)`).run(version, new Date().toISOString());
    }).immediate();
  }
}

/** A read-only open must find every migration applied: it cannot apply them itself. */
export function assertMigrated(db: Database.Database, table: string, migrations: readonly string[], what: string): void {
  const version = db.prepare<[], { v: number | null }>(`SELECT max(version) AS v FROM ${table}`).get()?.v ?? 0;
  if (version === migrations.length) return;
  db.close();
  throw new StoreError(
    "schema_outdated",
    `sqlite: ${what} has schema version ${version}, expected ${migrations.length}; start the server once to migrate it`,
  );
}
