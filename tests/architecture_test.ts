/**
 * The import graph keeps the architecture honest: no import circles, layers that point one way
 * (cli → report → runtime → dsl → topologies), and runtime rooms that keep their roles (the transport
 * layer knows no algorithm, algorithms know no coordinator, workers never import the
 * coordinator). The graph is Deno's own (`deno info --json`), type-only imports included.
 */

import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";

const ROOT = new URL("../", import.meta.url);

/** Every entry point: the command line, the package's exports and the workers' own entries. */
const ENTRIES = [
  "cli.ts",
  "mod.ts",
  "dsl/mod.ts",
  "topologies/mod.ts",
  "runtime/mod.ts",
  "runtime/comm/mod.ts",
  "runtime/algorithms/mod.ts",
  "runtime/compressors/mod.ts",
  "report/mod.ts",
  "runtime/worker/thread_worker.ts",
  "runtime/worker/process_worker.ts",
];

interface InfoModule {
  readonly specifier: string;
  readonly dependencies?: readonly {
    readonly code?: { readonly specifier: string };
    readonly type?: { readonly specifier: string };
  }[];
}

/** The project's modules and their project-local imports, paths relative to the root. */
async function importGraph(): Promise<Map<string, Set<string>>> {
  const graph = new Map<string, Set<string>>();
  const local = (specifier: string) =>
    specifier.startsWith(ROOT.href) ? specifier.slice(ROOT.href.length) : null;
  for (const entry of ENTRIES) {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: fromFileUrl(ROOT),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(output.success, new TextDecoder().decode(output.stderr));
    const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
      modules: InfoModule[];
    };
    for (const module of info.modules) {
      const from = local(module.specifier);
      if (from === null) continue;
      const edges = graph.get(from) ?? new Set<string>();
      for (const dependency of module.dependencies ?? []) {
        for (const resolved of [dependency.code, dependency.type]) {
          const to = resolved === undefined ? null : local(resolved.specifier);
          if (to !== null) edges.add(to);
        }
      }
      graph.set(from, edges);
    }
  }
  return graph;
}

/** Strongly connected components of more than one module (Tarjan), i.e. import circles. */
function circles(graph: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (module: string) => {
    index.set(module, next);
    low.set(module, next++);
    stack.push(module);
    onStack.add(module);
    for (const to of graph.get(module) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(module, Math.min(low.get(module)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(module, Math.min(low.get(module)!, index.get(to)!));
      }
    }
    if (low.get(module) === index.get(module)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== module);
      if (component.length > 1 || graph.get(module)?.has(module)) found.push(component.sort());
    }
  };
  for (const module of graph.keys()) if (!index.has(module)) visit(module);
  return found;
}

/**
 * The layer of a module: the npm packages (`deps/`), the shared visual style, the factories'
 * strict options and topologies 0, dsl 1, runtime 2, reports 3, the command line and package
 * root 4.
 */
function layer(path: string): number {
  if (
    path.startsWith("deps/") || path === "visual_style.ts" || path === "strict_options.ts" ||
    path.startsWith("topologies/")
  ) return 0;
  if (path.startsWith("dsl/")) return 1;
  if (path.startsWith("runtime/")) return 2;
  if (path.startsWith("report/")) return 3;
  return 4;
}

/** Imports that would blur a runtime room's role: `[importer, imported, why]`. */
const FORBIDDEN: readonly [RegExp, RegExp, string][] = [
  [
    // errors.ts imports nothing: the text of a thrown value and the mark of an error naming its
    // worker, which the transport's failures carry like everyone else's. The vector kernels
    // (kernels/) are arithmetic the reductions run on.
    /^runtime\/comm\//,
    /^runtime\/(?!comm\/|network\/|kernels\/|random\.ts|errors\.ts)/,
    "the transport layer knows nothing above it but the network model",
  ],
  [
    /^runtime\/kernels\//,
    /^runtime\/(?!kernels\/|random\.ts)/,
    "the vector kernels are arithmetic on vectors, below every room that uses them",
  ],
  [
    /^runtime\/network\//,
    /^runtime\/(?!network\/|random\.ts)/,
    "the network model is pure: links and stragglers from the plan",
  ],
  [
    /^runtime\/compressors\//,
    /^runtime\/(algorithms|coordinator|worker|data|models)\//,
    "codecs see only the communicator",
  ],
  [
    /^runtime\/algorithms\//,
    /^runtime\/(coordinator|worker|data|models)\//,
    "algorithms see only the communicator, the compressor and the gradient oracle",
  ],
  [
    /^runtime\/(data|models)\//,
    /^runtime\/(algorithms|compressors|comm|coordinator|worker)\//,
    "data and models know nothing of communication",
  ],
  [/^runtime\/data\//, /^runtime\/models\//, "data knows no model: models read its batches"],
  [/^runtime\/worker\//, /^runtime\/coordinator\//, "a worker never imports the coordinator"],
  [
    /^runtime\/(?!mod\.ts)[^/]+\.ts$/,
    /^runtime\/(coordinator|worker)\//,
    "shared runtime modules sit below the coordinator and the worker",
  ],
];

Deno.test("the import graph has no circles", async () => {
  const graph = await importGraph();
  assert.ok(graph.size > 100, `expected the whole project, found ${graph.size} modules`);
  assert.deepEqual(circles(graph), []);
});

Deno.test("imports point one way: cli → report → runtime → dsl → topologies, rooms keep their roles", async () => {
  const graph = await importGraph();
  const violations: string[] = [];
  for (const [from, imports] of graph) {
    for (const to of imports) {
      if (layer(to) > layer(from)) violations.push(`${from} imports the higher layer ${to}`);
      for (const [importer, imported, why] of FORBIDDEN) {
        if (importer.test(from) && imported.test(to)) {
          violations.push(`${from} imports ${to}: ${why}`);
        }
      }
    }
  }
  assert.deepEqual(violations, []);
});

Deno.test("the runtime never reaches the command line, even through a URL string", async () => {
  const offenders: string[] = [];
  for await (const path of sourceFiles(new URL("runtime/", ROOT))) {
    const text = await Deno.readTextFile(path);
    if (/["'`][./]*cli(\.ts|\/)/.test(text)) offenders.push(path);
  }
  assert.deepEqual(offenders, []);
});

/** Every non-test TypeScript file below a folder. */
async function* sourceFiles(folder: URL): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(folder)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), folder);
    if (entry.isDirectory) yield* sourceFiles(url);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith("_test.ts")) {
      yield fromFileUrl(url);
    }
  }
}
