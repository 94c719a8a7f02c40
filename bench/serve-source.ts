// `sealtrail` from the TypeScript sources (node --conditions=source --import tsx), so the
// benchmark needs no build: pg-bench.ts starts its server processes with it.
import { main } from "../packages/cli/src/main.ts";

main();
