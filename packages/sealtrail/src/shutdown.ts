const SIGNALS = ["SIGTERM", "SIGINT"] as const;
const open = new Set<{ close(): Promise<void> }>();
let installed = false;

async function onSignal(signal: NodeJS.Signals): Promise<void> {
  for (const s of SIGNALS) process.off(s, onSignal);
  installed = false;
  const closing = [...open].map((log) => log.close());
  open.clear();
  const results = await Promise.allSettled(closing);
  for (const r of results) {
    if (r.status === "rejected")
      process.stderr.write(`sealtrail: closing the audit log on ${signal} failed: ${(r.reason as Error).message}\n`);
  }
  // Listening for a signal replaces Node's default of exiting; once the logs are closed, the
  // signal is raised again so the process ends as it would have, unless the app handles it too.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

/** Closes `log` (flushing it) when the process gets SIGTERM or SIGINT. Returns the untrack function. */
export function trackForShutdown(log: { close(): Promise<void> }): () => void {
  open.add(log);
  if (!installed) {
    for (const s of SIGNALS) process.on(s, onSignal);
    installed = true;
  }
  return () => {
    open.delete(log);
    if (open.size === 0 && installed) {
      for (const s of SIGNALS) process.off(s, onSignal);
      installed = false;
    }
  };
}
