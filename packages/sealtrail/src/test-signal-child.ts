// Run by audit-log.test.ts as a child process: records without awaiting, then gets SIGTERM.
import { createAuditLog } from "./index.js";

const audit = await createAuditLog({ path: process.argv[2] as string, checkpointIntervalMs: 60_000 });
for (let i = 0; i < 50; i++) void audit.record({ action: "job.step", actor: { type: "service", id: "worker" }, metadata: { i } });
process.kill(process.pid, "SIGTERM");
// Keeps the process alive: only the signal handling may end it.
setInterval(() => {}, 1000);
