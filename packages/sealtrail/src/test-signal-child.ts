// Run by audit-log.test.ts as a child process: records without awaiting and never calls close(),
// then either gets SIGTERM ("signal") or simply runs out of work ("natural").
import { createAuditLog } from "./index.js";

const [path, ending] = process.argv.slice(2) as [string, "signal" | "natural"];
const audit = await createAuditLog({ path, checkpointIntervalMs: 60_000 });
for (let i = 0; i < 50; i++) void audit.record({ action: "job.step", actor: { type: "service", id: "worker" }, metadata: { i } });
if (ending === "signal") {
  process.kill(process.pid, "SIGTERM");
  // Keeps the process alive: only the signal handling may end it.
  setInterval(() => {}, 1000);
}
