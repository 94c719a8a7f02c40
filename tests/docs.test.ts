import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";

const root = resolve(import.meta.dirname, "..");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === "node_modules" || name === "dist") return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") && !path.endsWith(".test.ts") && !name.startsWith("test-") ? [path] : [];
  });
}

describe("docs/errors.md", () => {
  const catalogue = readFileSync(join(root, "docs/errors.md"), "utf8");
  const documented = new Set([...catalogue.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]));

  it("documents every error code the code can throw", () => {
    const thrown = new Set<string>();
    for (const file of sourceFiles(join(root, "packages"))) {
      const text = readFileSync(file, "utf8");
      for (const match of text.matchAll(
        /new (?:InputError|VerificationError|StoreError|ConfigError|AuthError|NotFoundError|SealtrailError)\(\s*"([a-z_]+)"/g,
      )) {
        thrown.add(match[1] as string);
      }
    }
    assert.ok(thrown.size > 30, `found only ${thrown.size} codes; the scan is broken`);
    const missing = [...thrown].filter((code) => !documented.has(code));
    assert.deepEqual(missing, [], `undocumented error codes: ${missing.join(", ")}`);
  });

  it("gives every code with an HTTP status in the server's table a row", () => {
    const table = readFileSync(join(root, "packages/server/src/problem.ts"), "utf8");
    const block = table.slice(table.indexOf("STATUS_BY_CODE"), table.indexOf("};"));
    const codes = [...block.matchAll(/^\s+([a-z_]+): \d{3},$/gm)].map((m) => m[1] as string);
    assert.ok(codes.length > 10);
    const missing = codes.filter((code) => !documented.has(code));
    assert.deepEqual(missing, []);
  });
});

describe("README", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const quickStart = readme.slice(readme.indexOf("## Quick start"), readme.indexOf("## Use it"));
  const commands = [...quickStart.matchAll(/```sh\n([^`]+)```/g)].map((m) => (m[1] as string).trim());

  it("has a quick start of exactly two commands", () => {
    assert.deepEqual(commands, ["npm ci && npx sealtrail serve --demo", "bash scripts/test.sh"]);
  });

  it("names the same test command that CI runs", () => {
    const ci = readFileSync(join(root, ".ci/run"), "utf8");
    assert.match(ci, /^bash scripts\/test\.sh$/m);
  });
});
