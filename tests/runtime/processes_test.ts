import assert from "node:assert/strict";
import { externalRun, reap, start } from "./_processes.ts";
import { tempRunFolder } from "./_plans.ts";

Deno.test("a run of worker processes gives the parameters of a run of thread workers", async () => {
  const parent = await tempRunFolder();
  try {
    const threads = start(
      "run",
      "examples/least_squares.ts",
      "--out",
      `${parent}/threads`,
      "--quiet",
    );
    const processes = start(
      "run",
      "examples/least_squares.ts",
      "--out",
      `${parent}/processes`,
      "--launch",
      "processes",
      "--quiet",
    );
    const [a, b] = [await threads.output, await processes.output];
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const params = async (name: string) => await Deno.readTextFile(`${parent}/${name}/params.json`);
    assert.equal(await params("processes"), await params("threads"));
    const summary = JSON.parse(await Deno.readTextFile(`${parent}/processes/summary.json`));
    assert.equal(summary.launch, "processes");
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("workers started by hand with `gossamer worker` join a coordinator", async () => {
  const parent = await tempRunFolder();
  const { coordinator, workers, rendezvous } = await externalRun(
    "examples/least_squares.ts",
    `${parent}/run`,
  );
  try {
    const results = await Promise.all(workers.map((worker) => worker.output));
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    const done = await coordinator.output;
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stderr, new RegExp(`Waiting for 4 workers at ${rendezvous}`));
    const summary = JSON.parse(await Deno.readTextFile(`${parent}/run/summary.json`));
    assert.equal(summary.status, "completed");
  } finally {
    await Promise.all([coordinator, ...workers].map(reap));
    await Deno.remove(parent, { recursive: true });
  }
});
