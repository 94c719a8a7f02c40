const SIGNALS = ["SIGTERM", "SIGINT"] as const;
const open = new Set<{ close(): Promise<void> }>();
let installed = false;

async function onSignal(signal: NodeJS.Signals): Promise<void> {
  uninstall();
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

/**
 * When nothing else is left to run, an app that never called close() is ending: close the logs
 * (commit, sign the final checkpoint). Their work keeps the loop alive until it is done.
 */
function onBeforeExit(): void {
  const closing = [...open].map((log) => log.close());
  open.clear();
  uninstall();
  void Promise.allSettled(closing);
}

function uninstall(): void {
  for (const s of SIGNALS) process.off(s, onSignal);
  process.off("beforeExit", onBeforeExit);
  installed = false;
}

/**
 * Closes `log` (flushing it) when the process gets SIGTERM or SIGINT, or is about to exit because
 * nothing is left to do. Returns the untrack function.
 */
export function trackForShutdown(log: { close(): Promise<void> }): () => void {
  open.add(log);
  if (!installed) {
    for (const s of SIGNALS) process.on(s, onSignal);
    process.on("beforeExit", onBeforeExit);
    installed = true;
  }
  return () => {
    open.delete(log);
    if (open.size === 0 && installed) uninstall();
  };
}
