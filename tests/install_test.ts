/**
 * `deno install` of the command line, as docs/library.md documents it, into a temporary `--root`:
 * the installed `gossamer` runs a plan from a folder outside the repository, and its hints name
 * `gossamer`, the command the user has there (cli/command_name.ts).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { allReduce, leastSquares, linear, sgd, train } from "../mod.ts";
import { checkpointPath } from "../runtime/coordinator/checkpoints.ts";
import { commandIn, STACK_LINE } from "./_cli.ts";

const CLI = fromFileUrl(new URL("../cli.ts", import.meta.url));
const DATA = fromFileUrl(new URL("../examples/data/least_squares_4.json", import.meta.url));

/** The flags docs/library.md gives `deno install -g`, before `--root`, the name and the path. */
const INSTALL_FLAGS = ["-A", "--unstable-worker-options", "--unstable-webgpu"];

/** `command …args` in `cwd`. */
const execute = (command: string, cwd: string, ...args: string[]) =>
  commandIn(command, { cwd }, ...args);

Deno.test("docs/library.md gives deno install these flags", async () => {
  const docs = await Deno.readTextFile(new URL("../docs/library.md", import.meta.url));
  assert.ok(
    docs.includes(
      `deno install -g ${INSTALL_FLAGS.join(" ")} -n gossamer /path/to/gossamer/cli.ts`,
    ),
  );
});

Deno.test("deno install puts a working gossamer on a --root, whose hints name gossamer", async () => {
  const home = await Deno.makeTempDir({ prefix: "gossamer_install_" });
  try {
    const root = join(home, "root");
    const installed = await execute(
      Deno.execPath(),
      home,
      "install",
      "-g",
      ...INSTALL_FLAGS,
      "--root",
      root,
      "-n",
      "gossamer",
      CLI,
    );
    assert.equal(installed.code, 0, installed.stderr);
    const gossamer = join(root, "bin", "gossamer");

    const version = await execute(gossamer, home, "--version");
    assert.equal(version.code, 0, version.stderr);
    assert.match(
      version.stdout,
      /^gossamer \d+\.\d+\.\d+ \(Deno [\d.]+, TensorFlow\.js 4\.22\.0\)/,
    );

    // A run over TCP with thread workers of limited permissions (--unstable-worker-options).
    const plan = train(linear({ dim: 3 })).data(leastSquares({ file: DATA })).workers(4)
      .optimizer(sgd({ lr: 0.05 })).base(allReduce()).steps(6).compile();
    await Deno.writeTextFile(join(home, "plan.json"), JSON.stringify(plan));
    const ran = await execute(
      gossamer,
      home,
      "run",
      "plan.json",
      "--out",
      "run",
      "--checkpoint-every",
      "2",
      "--quiet",
    );
    assert.equal(ran.code, 0, ran.stderr);
    const summary = JSON.parse(await Deno.readTextFile(join(home, "run", "summary.json")));
    assert.equal(summary.status, "completed");

    // The newest checkpoint damaged: the refusal's hint is for the installed command.
    const newest = checkpointPath(join(home, "run"), 6);
    const bytes = await Deno.readFile(newest);
    bytes[bytes.length - 3]! ^= 0x10;
    await Deno.writeFile(newest, bytes);
    const refused = await execute(gossamer, home, "resume", "run", "--steps", "8", "--quiet");
    assert.equal(refused.code, 1);
    assert.doesNotMatch(refused.stderr, STACK_LINE);
    assert.match(
      refused.stderr,
      /\nThe newest usable one is after 4 steps\nContinue from it with: gossamer resume run --from 4 \(or --fallback\)\n$/,
    );
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
