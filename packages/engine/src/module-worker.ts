import { Worker } from "node:worker_threads";

/**
 * A worker thread running `entry`, a module beside `callerUrl` named without its extension: the
 * built `.js`, or, when the caller runs from source (`--conditions=source --import tsx`, as this
 * repository's tests do), the `.ts` through tsx. Node 20 does not carry the main thread's tsx hooks
 * into workers, so such a worker registers them before importing its entry.
 */
export function startModuleWorker(callerUrl: string, entry: string, workerData: unknown): Worker {
  if (!callerUrl.endsWith(".ts")) return new Worker(new URL(`./${entry}.js`, callerUrl), { workerData });
  const tsx = import.meta.resolve("tsx/esm/api");
  const source = new URL(`./${entry}.ts`, callerUrl).href;
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(source)}); })`;
  return new Worker(boot, { eval: true, workerData });
}
