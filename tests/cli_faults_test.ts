/**
 * Faults a new user meets before a run even starts, each tried as they would: numbers written
 * as `1e3`, a run folder that already has files, an empty `--out`, two runs started in the same
 * second, and a plan too big for the machine.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { allReduce, mlp, mnist, run, sgd, train } from "../mod.ts";
import { claimRunFolder } from "../runtime/coordinator/run_folder.ts";
import { gossamer, STACK_LINE } from "./_cli.ts";

Deno.test("numeric flags are plain digits: 1e3 and 0x10 are usage errors", async () => {
  for (const value of ["1e3", "0x10", "4.0", "-3", " 4"]) {
    const result = await gossamer("run", "examples/all_reduce_mnist.ts", "--workers", value);
    assert.equal(result.code, 2, value);
    assert.match(result.stderr, /expected a whole number of at least 1, written in digits/);
  }
  const target = await gossamer("compare", "x", "--target", "9e-1");
  assert.equal(target.code, 2);
  assert.match(target.stderr, /expected a decimal number in \(0, 1\]/);
});

Deno.test("a run never writes into a folder that has files, nor into an empty path", async () => {
  const folder = await Deno.makeTempDir({ prefix: "gossamer_out_" });
  try {
    await Deno.writeTextFile(join(folder, "plan.json"), "my own notes");
    const result = await gossamer(
      "run",
      "examples/least_squares.ts",
      "--out",
      folder,
      "--transport",
      "memory",
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /is not empty: choose another --out/);
    assert.equal(await Deno.readTextFile(join(folder, "plan.json")), "my own notes");
    const empty = await gossamer("run", "examples/least_squares.ts", "--out", "");
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /The run folder's path is empty/);
    assert.doesNotMatch(empty.stderr, STACK_LINE);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("runs started under the same default name get folders of their own", async () => {
  const parent = await Deno.makeTempDir({ prefix: "gossamer_names_" });
  try {
    const name = join(parent, "runs", "20261129-120000-allReduce");
    const folders = await Promise.all([1, 2, 3].map(() => claimRunFolder(name)));
    assert.deepEqual(folders.sort(), [name, `${name}-2`, `${name}-3`]);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("a plan too big for the machine is refused before anything starts, unless told", async () => {
  const plan = train(mlp({ hidden: [128] })).data(mnist()).workers(1000)
    .optimizer(sgd({ lr: 0.1 })).base(allReduce()).steps(2).compile();
  const parent = await Deno.makeTempDir({ prefix: "gossamer_memory_" });
  try {
    await assert.rejects(
      run(plan, { out: join(parent, "run") }),
      /Cannot run the plan: this plan needs about \d+\.\d GiB on this machine \(1000 workers × \d+ MiB, with 101,770 parameters\)/,
    );
    await assert.rejects(Deno.stat(join(parent, "run")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});
