import { createServer } from "node:http";
import { openPlainTable, type PlainRow } from "./plain-table.ts";

/**
 * The HTTP baseline: a minimal node:http endpoint that only parses the JSON body and inserts its
 * events into the plain indexed table, one fsync'd transaction per request. Started as a child
 * process by http-bench.ts: `baseline-server.ts <database path>`; prints its URL.
 */
const table = openPlainTable(process.argv[2] as string, { durability: "full" });
const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    try {
      const tenant = (request.url ?? "").split("/")[3] ?? "";
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      const events = Array.isArray(body.events) ? body.events : [body];
      table.insertBatch(events.map((event: PlainRow["event"]) => ({ tenant, event })));
      response.writeHead(201, { "content-type": "application/json" });
      response.end(JSON.stringify({ count: events.length }));
    } catch (error) {
      response.writeHead(400, { "content-type": "text/plain" });
      response.end(String(error));
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address && typeof address === "object") process.stdout.write(`listening on http://127.0.0.1:${address.port}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
