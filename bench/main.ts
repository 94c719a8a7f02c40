import { parseArgs } from "node:util";
import { runQueryBench } from "./query-bench.ts";

/**
 * `npm run bench [-- --events N] [--json]`. Every figure is printed beside its baseline from the
 * same run: these machines are noisy, so only side-by-side ratios mean anything.
 */
const { values } = parseArgs({
  options: {
    events: { type: "string", default: "200000" },
    tenants: { type: "string", default: "1000" },
    iterations: { type: "string", default: "200" },
    json: { type: "boolean", default: false },
  },
});
const events = Number(values.events);
const log = (line: string) => process.stderr.write(`${line}\n`);
log(`Sealtrail benchmark: ${events} events across ${values.tenants} tenants (node ${process.version})`);
log("query: first page (50 newest) per documented shape, vs the same question on a plain indexed SQLite table");
const query = await runQueryBench({ events, tenants: Number(values.tenants), iterations: Number(values.iterations), log });
const summary = { ...query };
if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
