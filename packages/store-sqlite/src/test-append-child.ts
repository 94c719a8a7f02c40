// Run by deferred-index.test.ts as a child process: appends seeded batches to a store, says so,
// and waits to be killed with SIGKILL while its index transaction (on the index thread) is still open.
import { eventBatches, random, randomDraft } from "@sealtrail/store-testkit";
import { createSqliteStore } from "./sqlite-store.js";

const [path, rounds] = process.argv.slice(2) as [string, string];
const store = createSqliteStore({ path, durability: "normal" });
const rng = random(7);
const sizes = new Map<string, number>();
for (let round = 0; round < Number(rounds); round++) {
  const items = ["acme", "globex"].map((log) => {
    const startIndex = sizes.get(log) ?? 0;
    const drafts = Array.from({ length: 20 }, () => randomDraft(rng, Date.UTC(2026, 0, 1 + round)));
    sizes.set(log, startIndex + drafts.length);
    return { log, startIndex, drafts, receivedAt: new Date(Date.UTC(2026, 1, 1, 0, round)).toISOString() };
  });
  await store.append(eventBatches(items).batches);
  // The first round's rows committed: the rounds after it go into the index's open transaction.
  if (round === 0) await store.flushIndex();
}
process.stdout.write("appended\n");
setInterval(() => {}, 1000);
