import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SubjectKeyStore } from "./key-store.js";
import { createSqliteKeyStore } from "./sqlite-key-store.js";
import { testSubjectKeyStore } from "./testkit.js";

testSubjectKeyStore({
  name: "SQLite",
  create: async () => {
    const dir = mkdtempSync(join(tmpdir(), "sealtrail-keys-"));
    const path = join(dir, "keys.db");
    const opened: SubjectKeyStore[] = [];
    const open = async () => {
      const store = createSqliteKeyStore({ path });
      opened.push(store);
      return store;
    };
    return {
      keyStore: await open(),
      open,
      rawBytes: async () =>
        [path, `${path}-wal`].flatMap((file) => {
          try {
            return [readFileSync(file)];
          } catch {
            return [];
          }
        }),
      cleanup: async () => {
        for (const store of opened) await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});
