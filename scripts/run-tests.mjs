// Runs every *.test.ts under packages/, tests/ and examples/ with Node's test runner, on the TypeScript
// sources (the "source" export condition) so a failing line points at the real file.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["packages", "tests", "examples"];
const files = [];
const walk = (dir) => {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name === "node_modules" || name === "dist") continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith(".test.ts")) files.push(path);
  }
};
for (const root of roots) {
  if (root.endsWith(".test.ts")) files.push(root);
  else walk(root);
}
files.sort();
if (files.length === 0) {
  console.error("no test files found");
  process.exit(1);
}
const result = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", "--test", "--test-concurrency=2", ...files], {
  stdio: "inherit",
  env: { ...process.env, NODE_OPTIONS: "" },
});
process.exit(result.status ?? 1);
