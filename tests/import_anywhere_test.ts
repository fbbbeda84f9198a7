/**
 * A script outside the repository imports gossamer by file path or by `http://` URL with no
 * configuration of its own (no deno.json, no import map, no `--config`), and `deno check` and
 * `deno run` both work: the library's modules name their npm packages with versioned `npm:`
 * specifiers (`deps/mod.ts`). The script runs a plan over TCP with worker processes, which start
 * from the script's folder, and must end with the same parameters as the same plan run here.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { allReduce, leastSquares, linear, run, sgd, train } from "../mod.ts";
import { commandIn, STACK_LINE } from "./_cli.ts";

const ROOT = fromFileUrl(new URL("../", import.meta.url));
const DATA = fromFileUrl(new URL("../examples/data/least_squares_4.json", import.meta.url));

/** The script: a pipeline on the least-squares file next to it, run, its average printed. */
function script(library: string): string {
  return `import { allReduce, leastSquares, linear, run, sgd, train } from "${library}";

const plan = train(linear({ dim: 3 }))
  .data(leastSquares({ file: new URL("./least_squares_4.json", import.meta.url) }))
  .workers(4)
  .optimizer(sgd({ lr: 0.05 }))
  .base(allReduce())
  .steps(5)
  .compile();
const out = await Deno.makeTempDir();
const result = await run(plan, { transport: "tcp", launch: "processes", out });
await Deno.remove(out, { recursive: true });
console.log(JSON.stringify({ status: result.summary.status, average: result.params.average }));
`;
}

/** The same plan, run here in memory: the script's result must match it bit for bit. */
async function expectedAverage(): Promise<number[]> {
  const plan = train(linear({ dim: 3 }))
    .data(leastSquares({ file: DATA }))
    .workers(4)
    .optimizer(sgd({ lr: 0.05 }))
    .base(allReduce())
    .steps(5)
    .compile();
  const out = await Deno.makeTempDir();
  try {
    return (await run(plan, { transport: "memory", out })).params.average;
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

/** Writes the script into a fresh folder outside the repository, then checks and runs it there. */
async function checkAndRun(library: string, checkFlags: string[]): Promise<void> {
  const folder = await Deno.makeTempDir({ prefix: "gossamer_outside_" });
  try {
    assert.ok(!folder.startsWith(ROOT), `${folder} must be outside ${ROOT}`);
    await Deno.writeTextFile(join(folder, "pipeline.ts"), script(library));
    await Deno.copyFile(DATA, join(folder, "least_squares_4.json"));
    const checked = await deno(folder, "check", ...checkFlags, "pipeline.ts");
    assert.equal(checked.code, 0, checked.stderr);
    const ran = await deno(folder, "run", "-A", "pipeline.ts");
    assert.equal(ran.code, 0, ran.stderr);
    assert.doesNotMatch(ran.stderr, STACK_LINE);
    const printed = JSON.parse(ran.stdout.trim().split("\n").at(-1)!);
    assert.deepEqual(printed, { status: "completed", average: await expectedAverage() });
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
}

/** `deno …args` in `cwd`. */
const deno = (cwd: string, ...args: string[]) => commandIn(Deno.execPath(), { cwd }, ...args);

Deno.test("a script elsewhere imports mod.ts by file path: deno check and deno run need no config", async () => {
  await checkAndRun(fromFileUrl(new URL("../mod.ts", import.meta.url)), []);
});

Deno.test("a script elsewhere imports mod.ts over http://127.0.0.1, served by the test", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = decodeURIComponent(new URL(request.url).pathname);
    if (path.includes("..")) return new Response("no", { status: 403 });
    try {
      const body = await Deno.readFile(join(ROOT, path));
      const type = path.endsWith(".json") ? "application/json" : "application/typescript";
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  try {
    const host = `127.0.0.1:${server.addr.port}`;
    // Deno imports from hosts other than a few registries only when allowed: `deno run -A`
    // allows all; `deno check` needs `--allow-import` for the host.
    await checkAndRun(`http://${host}/mod.ts`, [`--allow-import=${host}`]);
  } finally {
    await server.shutdown();
  }
});
