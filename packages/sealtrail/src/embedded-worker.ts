// The embedded log's thread (see worker-backend.ts): the engine, the store and all hashing run
// here, so recording costs the app's request thread one message, not the CPU of a commit.
import { parentPort, workerData } from "node:worker_threads";
import { wireError } from "@sealtrail/core";
import type { Backend } from "./backend.js";
import { type EmbeddedOptions, openEmbedded } from "./embedded.js";
import type { Reply, Request } from "./worker-protocol.js";

if (!parentPort) throw new Error("embedded-worker.ts runs as a worker thread only");
const port = parentPort;
let backend: Backend | undefined;
const opening = openEmbedded(workerData as EmbeddedOptions).then((opened) => {
  backend = opened;
  return opened;
});
// A failed open is reported in the answer to the "open" message. Until that message arrives the
// rejection has no handler, and an unhandled rejection would kill the thread with a bare Error.
opening.catch(() => undefined);

// Answers go back in batches, as requests come (worker-backend.ts): those settled in one turn share a message.
let outbox: Reply[] = [];
const send = () => {
  const replies = outbox;
  outbox = [];
  port.postMessage(replies);
};
const reply = (message: Reply) => {
  if (outbox.length === 0) setImmediate(send);
  outbox.push(message);
};

port.on("message", (requests: readonly Request[]) => {
  for (const request of requests) handle(request);
});

function handle(request: Request): void {
  (async () => {
    const log = backend ?? (await opening);
    switch (request.op) {
      case "open":
        return { mode: log.mode };
      case "append":
        return log.append(request.event);
      case "query":
        return log.query(request.query, request.options);
      case "prove":
        return log.prove(request.id);
      case "verify":
        return log.verify();
      case "erase":
        return log.erase(request.subject, request.request);
      case "close":
        await log.close();
        return undefined;
    }
  })()
    .then(
      (value) => reply({ seq: request.seq, ok: true, value }),
      (error: unknown) => reply({ seq: request.seq, ok: false, error: wireError(error) }),
    )
    .finally(() => {
      // After the answer to close, the thread ends: nothing may run on a closed store.
      if (request.op === "close") {
        send();
        port.close();
      }
    });
}
