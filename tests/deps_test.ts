/**
 * gossamer must import from anywhere with no configuration (`deps/mod.ts`): every import names a
 * relative path, a URL or a versioned `npm:`/`node:` specifier, never a bare name that only a
 * `deno.json` import map resolves; and each npm package's version is written once, in `deps/`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { PINNED_VERSIONS } from "../deps/mod.ts";

const ROOT = fromFileUrl(new URL("../", import.meta.url));

/** This file, whose examples of bad imports are the point. */
const THIS_FILE = "tests/deps_test.ts";

/** Folders that hold no source of ours. */
const SKIPPED = new Set([".git", "node_modules", "runs", "vendor"]);

/** Every TypeScript and JavaScript file under the repository, as paths relative to it. */
async function sourceFiles(folder = ROOT): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(folder)) {
    const path = join(folder, entry.name);
    if (entry.isDirectory && !SKIPPED.has(entry.name)) files.push(...await sourceFiles(path));
    if (entry.isFile && /\.(ts|tsx|js|mjs)$/.test(entry.name)) files.push(relative(ROOT, path));
  }
  return files.filter((file) => file !== THIS_FILE).sort();
}

/**
 * The module specifiers a file's static imports, re-exports and literal dynamic imports name,
 * with their line numbers (doc-comment examples included: `deno test --doc` runs them). Imports
 * inside strings that tests write to files are found too, when a line starts with them.
 */
export function specifiersOf(source: string): { line: number; specifier: string }[] {
  const found: { line: number; specifier: string }[] = [];
  const patterns = [
    /^\s*(?:\*\s*)?(?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"'\s]+)["']/gm,
    /^\s*(?:\*\s*)?import\s*["']([^"'\s]+)["']/gm,
    /\bimport\s*\(\s*["']([^"'\s]+)["']\s*[,)]/g,
  ];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) {
      // The match may start with the blank lines before the import.
      const start = match.index + match[0].search(/\S/);
      const line = source.slice(0, start).split("\n").length;
      found.push({ line, specifier: match[1]! });
    }
  }
  return found;
}

/** Whether a specifier resolves without an import map. */
function resolvesAnywhere(specifier: string): boolean {
  return /^(\.{1,2}\/|\/|[a-z][a-z0-9+.-]*:)/i.test(specifier);
}

Deno.test("specifiersOf finds static, re-exported, side-effect and dynamic imports", () => {
  const source = [
    `import * as v from "valibot";`,
    `\nimport type { X } from './x.ts';`,
    `export * from "npm:yaml@2.9.1";`,
    `import "npm:commander@14.0.0";`,
    `const tf = await import("@tensorflow/tfjs");`,
    `const m = await import(\`\${name}\`);`,
    ` * write \`import { x } from "@gossamer/gossamer"\` above it`,
    ` * import { y } from "../../mod.ts";`,
    `import {\n  a,\n  b,\n} from "yaml";`,
  ].join("\n");
  assert.deepEqual(specifiersOf(source).sort((a, b) => a.line - b.line), [
    { line: 1, specifier: "valibot" },
    { line: 3, specifier: "./x.ts" },
    { line: 4, specifier: "npm:yaml@2.9.1" },
    { line: 5, specifier: "npm:commander@14.0.0" },
    { line: 6, specifier: "@tensorflow/tfjs" },
    { line: 9, specifier: "../../mod.ts" },
    { line: 10, specifier: "yaml" },
  ]);
  assert.deepEqual(
    ["valibot", "@tensorflow/tfjs", "./a.ts", "../b.ts", "/c.ts", "npm:d@1", "node:path"]
      .map(resolvesAnywhere),
    [false, false, true, true, true, true, true],
  );
});

Deno.test("no module imports a bare specifier: each resolves without deno.json's import map", async () => {
  const bare: string[] = [];
  for (const file of await sourceFiles()) {
    const source = await Deno.readTextFile(join(ROOT, file));
    for (const { line, specifier } of specifiersOf(source)) {
      if (!resolvesAnywhere(specifier)) bare.push(`${file}:${line}: "${specifier}"`);
    }
  }
  assert.deepEqual(
    bare,
    [],
    `bare specifiers need an import map, which a script elsewhere does not have; import the ` +
      `package's module in deps/ instead:\n${bare.join("\n")}`,
  );
});

Deno.test("npm packages are imported only in deps/, each at the version deps/mod.ts pins", async () => {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const file of await sourceFiles()) {
    const source = await Deno.readTextFile(join(ROOT, file));
    for (const { line, specifier } of specifiersOf(source)) {
      const npm = /^npm:(@?[^@/]+(?:\/[^@/]+)?)@([^/]+)/.exec(specifier);
      if (specifier.startsWith("npm:") && !file.startsWith("deps/")) {
        problems.push(`${file}:${line}: "${specifier}" outside deps/`);
      } else if (specifier.startsWith("npm:") && npm === null) {
        problems.push(`${file}:${line}: "${specifier}" has no version`);
      } else if (npm !== null) {
        const [, name, version] = npm as unknown as [string, string, string];
        seen.add(name);
        if (PINNED_VERSIONS[name] !== version) {
          problems.push(
            `${file}:${line}: ${name}@${version}, but deps/mod.ts pins ${PINNED_VERSIONS[name]}`,
          );
        }
      }
    }
  }
  assert.deepEqual(problems, []);
  assert.deepEqual([...seen].sort(), Object.keys(PINNED_VERSIONS).sort());
});

Deno.test("deno.json maps no imports, so nothing in the repository can depend on a map", async () => {
  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  assert.equal(config.imports, undefined);
  assert.equal(config.importMap, undefined);
});
