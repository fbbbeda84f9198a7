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

Deno.test("the process-worker entry refuses malformed launch parameters with a message", async () => {
  const entry = new URL("../../runtime/worker/process_worker.ts", import.meta.url);
  for (
    const [input, expected] of [
      ["not json", /^Cannot start a process worker: the input is not JSON/],
      ['{"rank": 0}', /need an integer world, a rendezvous host:port, a backend, a plan$/],
    ] as const
  ) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", entry.pathname],
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input));
    await writer.close();
    const { code, stderr } = await child.output();
    const message = new TextDecoder().decode(stderr).trim();
    assert.equal(code, 1);
    assert.match(message, expected);
    assert.doesNotMatch(message, /\n|at .*\.ts:\d+/, "one line, no stack trace");
  }
});
