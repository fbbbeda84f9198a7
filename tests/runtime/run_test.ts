import assert from "node:assert/strict";
import { allReduce, mlp, mnist, sgd, train } from "../../mod.ts";
import { relativeFileRefs } from "../../runtime/coordinator/run_folder.ts";
import { loadPlan } from "../../runtime/load_plan.ts";
import { decodeSafetensors, readSafetensorsHeader } from "../../runtime/safetensors.ts";
import { leastSquaresPlans, readMetrics, runIn, tinyMnist } from "./_plans.ts";

Deno.test("memory and TCP transports give identical parameters for every algorithm (§5.10)", async (t) => {
  for (const [name, plan] of Object.entries(leastSquaresPlans())) {
    await t.step(name, async () => {
      const memory = await runIn(plan, { transport: "memory" }, (r) => r);
      const tcp = await runIn(plan, { transport: "tcp" }, (r) => r);
      assert.deepEqual(tcp.params, memory.params);
      // The same frames are counted by both transports.
      assert.deepEqual(tcp.summary.bytes, memory.summary.bytes);
      // Training moved the model.
      assert.notDeepEqual(memory.params.average, [0, 0, 0]);
    });
  }
});

Deno.test("two TCP runs with the same seed write identical params.json", async () => {
  const plan = leastSquaresPlans().slowMoOverGossip!;
  const first = await runIn(plan, {}, (_, folder) => Deno.readTextFile(`${folder}/params.json`));
  const second = await runIn(plan, {}, (_, folder) => Deno.readTextFile(`${folder}/params.json`));
  assert.equal(second, first);
});

Deno.test("a run folder holds the plan, per-step metrics, a summary and the parameters", async () => {
  const plan = leastSquaresPlans(12).gossipRing!;
  await runIn(plan, { transport: "memory" }, async (result, folder) => {
    // plan.json is the plan that ran, its data file named by the rule for stored paths (the
    // rule itself is tested in runtime/coordinator/run_folder_test.ts), and loads back as it.
    const stored = JSON.parse(await Deno.readTextFile(`${folder}/plan.json`));
    assert.deepEqual(stored, relativeFileRefs(plan, folder));
    assert.deepEqual(await loadPlan(`${folder}/plan.json`), plan);
    const lines = await readMetrics(folder);
    const steps = lines.filter((line) => line.type === "step");
    assert.equal(steps.length, plan.steps * plan.workers);
    for (const line of steps) {
      for (const key of ["step", "worker", "loss", "lr", "computeMs", "commMs"]) {
        assert.ok(key in line, `step line lacks ${key}`);
      }
      assert.deepEqual(Object.keys(line.bytesSent as object).sort(), [
        "base",
        "compressed",
        "control",
        "outer",
        "state",
      ]);
      assert.equal(line.lr, 0.05);
    }
    // Evaluations after steps 9 and 11 (evalEvery 10, and the last step): the average on rank
    // 0, and each worker's own model since gossip workers differ.
    const evals = lines.filter((line) => line.type === "eval");
    assert.deepEqual(
      evals.filter((line) => line.model === "average").map((line) => line.step),
      [9, 11],
    );
    assert.equal(evals.filter((line) => line.model === "worker").length, 2 * plan.workers);
    // Gossip on a ring sends the model to two neighbours every step; nothing else.
    for (const line of steps) {
      const sent = line.bytesSent as Record<string, number>;
      assert.ok(sent.base! > 0);
      assert.equal(sent.outer, 0);
      assert.equal(sent.compressed, 0);
    }
    const params = JSON.parse(await Deno.readTextFile(`${folder}/params.json`));
    assert.equal(params.workers.length, 4);
    // Each worker's last evaluation gives its final model's distance to the average.
    for (const line of evals.filter((e) => e.model === "worker" && e.step === 11)) {
      const own = params.workers[line.worker as number] as number[];
      const distance = Math.hypot(...own.map((value, j) => value - params.average[j]));
      assert.ok(
        Math.abs((line.distanceToAverage as number) - distance) <= 1e-6 * (1 + distance),
        `worker ${line.worker}: ${line.distanceToAverage} vs ${distance}`,
      );
    }
    for (let j = 0; j < 3; j++) {
      const mean = params.workers.reduce((s: number, w: number[]) => s + w[j]!, 0) / 4;
      assert.ok(Math.abs(params.average[j] - mean) < 1e-6);
    }
    const summary = JSON.parse(await Deno.readTextFile(`${folder}/summary.json`));
    assert.equal(summary.status, "completed");
    assert.equal(summary.transport, "memory");
    assert.equal(summary.final.step, 11);
    assert.deepEqual(summary, JSON.parse(JSON.stringify(result.summary)));
  });
});

Deno.test("local SGD and SlowMo traffic appears only on synchronisation steps", async () => {
  const plan = leastSquaresPlans(12).slowMoOverLocalSgd!; // localSgd tau 2, slowMo tau 6
  await runIn(plan, { transport: "memory" }, async (_, folder) => {
    const steps = (await readMetrics(folder)).filter((line) => line.type === "step");
    for (const line of steps) {
      const k = line.step as number;
      const sent = line.bytesSent as Record<string, number>;
      const outerStep = (k + 1) % 6 === 0;
      // A local average that falls on an outer step is skipped: the outer step averages.
      assert.equal(sent.base! > 0, (k + 1) % 2 === 0 && !outerStep, `base bytes at step ${k}`);
      assert.equal(sent.outer! > 0, outerStep, `outer bytes at step ${k}`);
    }
  });
});

Deno.test("an MNIST pipeline trains over TCP workers and records its backend", async () => {
  const plan = tinyMnist(60);
  await runIn(plan, {}, async (result, folder) => {
    const steps = (await readMetrics(folder)).filter((line) => line.type === "step");
    const loss = (from: number, to: number) => {
      const window = steps.filter((l) => (l.step as number) >= from && (l.step as number) < to);
      return window.reduce((s, l) => s + (l.loss as number), 0) / window.length;
    };
    assert.ok(loss(50, 60) < loss(0, 10), `loss ${loss(0, 10)} → ${loss(50, 60)}`);
    assert.ok(result.summary.final!.testAccuracy! > 0.3, "better than chance (10%)");
    assert.equal(result.summary.backend, "wasm");
    assert.match(result.summary.backendReason ?? "", /\w/);
    assert.match(result.summary.versions.tfjs ?? "", /^4\.22\./);
  });
});

Deno.test("model.safetensors holds the averaged model as named Keras-layout tensors, over TCP and in memory", async () => {
  const plan = tinyMnist(4);
  for (const transport of ["tcp", "memory"] as const) {
    await runIn(plan, { transport }, async (result, folder) => {
      const bytes = await Deno.readFile(`${folder}/model.safetensors`);
      const file = decodeSafetensors(bytes);
      const { header } = readSafetensorsHeader(bytes) as {
        header: Record<string, { shape: number[]; dtype: string }>;
      };
      // mlp({ hidden: [16] }) on 784 MNIST features and 10 classes, Keras layouts.
      assert.deepEqual([...file.tensors.keys()], [
        "hidden0.kernel",
        "hidden0.bias",
        "output.kernel",
        "output.bias",
      ]);
      const shapes = [[784, 16], [16], [16, 10], [10]];
      assert.deepEqual([...file.tensors.keys()].map((name) => header[name]?.shape), shapes);
      // Concatenated in order they are the averaged flat vector of params.json, as float32.
      const flat = [...file.tensors.values()].flatMap((t) => [...t]);
      assert.deepEqual(flat, [...Float32Array.from(result.params.average)]);
      assert.equal(file.metadata.model, "mlp");
    });
  }
});

Deno.test("shared memory, TCP between threads and TCP between processes give identical MLP parameters and bytes", async () => {
  // 50,890 parameters over 3 workers: ring chunks of about 68 KB, which the TCP transport reads
  // straight from the socket into the (shared) result vector.
  const plan = train(mlp({ hidden: [64] }))
    .data(mnist({ trainSize: 384, testSize: 128, batchSize: 16 }))
    .workers(3)
    .optimizer(sgd({ lr: 0.1 }))
    .base(allReduce())
    .steps(6)
    .evalEvery(6)
    .compile();
  const shared = await runIn(plan, {}, (r) => r);
  const threadsTcp = await runIn(plan, { sharedMemory: false }, (r) => r);
  const processes = await runIn(plan, { launch: "processes" }, (r) => r);
  assert.deepEqual(
    [shared.summary.allReduce, threadsTcp.summary.allReduce, processes.summary.allReduce],
    ["shared memory", "ring over TCP", "ring over TCP"],
  );
  assert.deepEqual(threadsTcp.params, shared.params);
  assert.deepEqual(processes.params, shared.params);
  assert.deepEqual(threadsTcp.summary.bytes, shared.summary.bytes);
  assert.deepEqual(processes.summary.bytes, shared.summary.bytes);
});

Deno.test("processes of two thread workers each reduce hierarchically: only each process's first worker sends", async () => {
  // 4 workers in 2 processes; the all-reduce of d floats is a ring of two between workers 0 and
  // 2: each sends one chunk per half, d floats in two messages, every step.
  const steps = 6;
  const plan = train(mlp({ hidden: [16] }))
    .data(mnist({ trainSize: 256, testSize: 64, batchSize: 16 }))
    .workers(4)
    .optimizer(sgd({ lr: 0.1 }))
    .base(allReduce())
    .steps(steps)
    .evalEvery(steps)
    .compile();
  const hierarchical = await runIn(plan, { launch: "processes", localWorkers: 2 }, (r) => r);
  const flat = await runIn(plan, {}, (r) => r);
  assert.equal(hierarchical.summary.status, "completed");
  assert.equal(hierarchical.summary.allReduce, "hierarchical");
  const d = hierarchical.params.average.length;
  assert.deepEqual(
    hierarchical.summary.bytes.map((bytes) => bytes.sent.base),
    [steps * (4 * d + 24), 0, steps * (4 * d + 24), 0],
  );
  // The sums differ from the flat ring's only in their rounding.
  hierarchical.params.average.forEach((value, i) => {
    const expected = flat.params.average[i]!;
    assert.ok(Math.abs(value - expected) <= 1e-5 * (1 + Math.abs(expected)), `parameter ${i}`);
  });
});

Deno.test("several workers per process are refused without --launch processes, or when they do not divide the workers", async () => {
  const plan = leastSquaresPlans().allReduce!;
  await assert.rejects(runIn(plan, { localWorkers: 2 }, () => {}), {
    name: "RunError",
    message:
      "Cannot run the plan: several workers per process (--local-workers) need --launch processes: thread workers already share one process",
  });
  await assert.rejects(runIn(plan, { launch: "processes", localWorkers: 3 }, () => {}), {
    name: "RunError",
    message:
      "Cannot run the plan: --local-workers 3 does not divide the plan's 4 workers: every process runs the same number of workers",
  });
});
