import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";

const project = join(import.meta.dirname, "../type-tests");
const file = join(project, "catalog.ts");

/**
 * `tsc -b` already fails if a @ts-expect-error in type-tests/catalog.ts meets no error. This test
 * closes the other gap: with the directives removed, exactly the lines under them must fail, so
 * the build's success really means "wrong payloads do not type-check" (and nothing else errors).
 */
describe("typed catalog (compile time)", () => {
  it("rejects each wrong payload marked in type-tests/catalog.ts, and nothing else", () => {
    const source = readFileSync(file, "utf8");
    const lines = source.split("\n");
    const expected: number[] = [];
    const stripped = lines.map((line, i) => {
      if (!line.trim().startsWith("// @ts-expect-error")) return line;
      expected.push(i + 2); // 1-based number of the line below the directive
      return "";
    });
    assert.ok(expected.length >= 5, "the type test marks its wrong payloads");
    const config = ts.getParsedCommandLineOfConfigFile(
      join(project, "tsconfig.json"),
      {},
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
    );
    assert.ok(config);
    const host = ts.createCompilerHost(config.options);
    const readFile = host.readFile.bind(host);
    host.readFile = (path) => (path === file ? stripped.join("\n") : readFile(path));
    const program = ts.createProgram({
      rootNames: [file],
      options: { ...config.options, noEmit: true, composite: false, incremental: false },
      host,
    });
    const errorLines = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName === file)
      .map((d) => (d.file as ts.SourceFile).getLineAndCharacterOfPosition(d.start ?? 0).line + 1);
    assert.deepEqual(
      [...new Set(errorLines)].sort((a, b) => a - b),
      expected,
    );
  });
});
