import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { externalRun, freePort, reap, start, startWith } from "./_processes.ts";
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
  const { coordinator, workers, rendezvous } = externalRun(
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

Deno.test("workers read the secret the coordinator generated; an impostor is refused, the run goes on", async () => {
  const parent = await tempRunFolder();
  const rendezvous = `127.0.0.1:${freePort()}`;
  const out = `${parent}/run`;
  const worker = (rank: number, env: Record<string, string>) =>
    startWith(
      env,
      "worker",
      "--plan",
      "examples/least_squares.ts",
      "--rank",
      String(rank),
      "--world",
      "4",
      "--rendezvous",
      rendezvous,
    );
  // An impostor with a secret of its own comes first, before the coordinator listens.
  const impostor = worker(0, { GOSSAMER_SECRET: "0000000000000000not0the0secret0of0this0run" });
  const coordinator = startWith(
    { GOSSAMER_SECRET: "", GOSSAMER_SECRET_FILE: "" },
    "run",
    "examples/least_squares.ts",
    "--out",
    out,
    "--launch",
    "none",
    "--rendezvous",
    rendezvous,
    "--quiet",
  );
  const workers: ReturnType<typeof start>[] = [];
  try {
    const secretFile = `${out}/secret`;
    const deadline = performance.now() + 30_000;
    while (!(await Deno.stat(secretFile).catch(() => null))) {
      assert.ok(performance.now() < deadline, `${secretFile} was not written within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal((await Deno.stat(secretFile)).mode! & 0o777, 0o600);
    assert.match(await Deno.readTextFile(secretFile), /^[0-9a-f]{64}\n$/);
    for (let rank = 0; rank < 4; rank++) {
      workers.push(worker(rank, { GOSSAMER_SECRET_FILE: secretFile }));
    }
    for (const result of await Promise.all(workers.map((each) => each.output))) {
      assert.equal(result.code, 0, result.stderr);
    }
    const done = await coordinator.output;
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stderr, new RegExp(`start them with GOSSAMER_SECRET_FILE=${secretFile}`));
    assert.match(
      done.stderr,
      /Warning: the coordinator refused a connection from 127\.0\.0\.1:\d+ to its rendezvous at .*, which /,
    );
    const refused = await impostor.output;
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      new RegExp(
        `Worker 0 was refused by the coordinator at ${rendezvous}: its proof of the run secret failed`,
      ),
    );
  } finally {
    await Promise.all([impostor, coordinator, ...workers].map(reap));
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
      args: ["run", "-A", "--quiet", fileURLToPath(entry)],
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
