/**
 * examples/notebook.ipynb cannot rot: its code cells, concatenated in order into a script (as
 * the Deno kernel runs them, one after another in one module scope), are type-checked and run.
 * The notebook imports gossamer relative to `examples/`, where Jupyter starts its kernel; the
 * script, written outside the repository, imports the same files by URL.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { commandIn, ROOT } from "./_cli.ts";

const NOTEBOOK = new URL("../examples/notebook.ipynb", import.meta.url);

/** The parts of a notebook this test reads. */
interface Notebook {
  readonly nbformat: number;
  readonly metadata: { readonly kernelspec?: { readonly name?: string } };
  readonly cells: readonly {
    readonly cell_type: string;
    readonly source: string | readonly string[];
    readonly outputs?: readonly unknown[];
  }[];
}

/** The code cells' sources, in order. */
async function codeCells(): Promise<string[]> {
  const notebook = JSON.parse(await Deno.readTextFile(NOTEBOOK)) as Notebook;
  assert.equal(notebook.nbformat, 4);
  assert.equal(notebook.metadata.kernelspec?.name, "deno", "the notebook runs on Deno's kernel");
  const cells = notebook.cells.filter((cell) => cell.cell_type === "code");
  // Stored outputs would go stale (and bloat diffs): the notebook is kept without them.
  assert.ok(cells.every((cell) => (cell.outputs ?? []).length === 0), "no stored outputs");
  return cells.map((cell) => typeof cell.source === "string" ? cell.source : cell.source.join(""));
}

/** `deno …args` in `cwd`. */
const deno = (cwd: string, ...args: string[]) => commandIn(Deno.execPath(), { cwd }, ...args);

Deno.test("the example notebook's code cells type-check and run: two runs, read back, compared, plotted", async () => {
  const cells = await codeCells();
  assert.ok(cells.length >= 4, `expected the notebook's cells, found ${cells.length}`);
  const source = cells.join("\n\n");
  const specifiers = [...source.matchAll(/from "([^"]+)"/g)].map((match) => match[1]!);
  assert.ok(specifiers.length > 0 && specifiers.every((specifier) => specifier.startsWith("../")));
  const script = source.replaceAll('from "../', `from "${ROOT.href}`);
  const folder = await Deno.makeTempDir({ prefix: "gossamer_notebook_test_" });
  try {
    await Deno.writeTextFile(join(folder, "notebook.ts"), script);
    const checked = await deno(folder, "check", "notebook.ts");
    assert.equal(checked.code, 0, checked.stderr);
    const ran = await deno(folder, "run", "-A", "notebook.ts");
    assert.equal(ran.code, 0, ran.stderr);
    // 8 workers × 60 steps: one progress call per step per worker, in both runs.
    assert.match(ran.stdout, /^all_reduce: completed, 480 progress calls, test accuracy \d/m);
    assert.match(ran.stdout, /^gossip: completed, 480 progress calls, test accuracy \d/m);
    // 16 features × 4 classes of weights, and 4 biases.
    assert.match(ran.stdout, /^all_reduce: 480 step lines, 68 parameters, /m);
    assert.match(ran.stdout, /^gossip +gossip +8 +60 +completed/m);
    assert.match(ran.stdout, /^\d+ charts: test accuracy against step; /m);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});
