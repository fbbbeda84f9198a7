/**
 * Checkpoints and resume: a run continued from a checkpoint equals the uninterrupted run bit for
 * bit (parameters, and every metrics line but its timings), for every algorithm, on both
 * transports; a checkpoint of another plan is refused.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { gossip, network, type Plan, ring, run, type RunError } from "../../mod.ts";
import { resume } from "../../runtime/coordinator/resume.ts";
import { listCheckpoints } from "../../runtime/coordinator/checkpoints.ts";
import {
  deterministicLines,
  leastSquaresPipeline,
  leastSquaresPlans,
  readMetrics,
  tempRunFolder,
  tinyMnist,
} from "./_plans.ts";

/** Runs a plan with checkpoints, resumes it from `from` into another folder, compares. */
async function assertResumeIsExact(
  plan: Plan,
  transport: "memory" | "tcp",
  from: number,
): Promise<void> {
  const parent = await tempRunFolder();
  try {
    const full = await run(plan, { transport, out: join(parent, "full"), checkpointEvery: 4 });
    const resumed = await resume(join(parent, "full"), {
      transport,
      from,
      out: join(parent, "resumed"),
    });
    assert.deepEqual(resumed.params, full.params);
    // Collectives that run behind computation: overlap's average, an overlapped fragment sync.
    const asynchronous = plan.base.kind === "overlapLocalSgd" ||
      (plan.outer?.kind === "streamingDiloco" && plan.outer.overlap > 0);
    assert.deepEqual(
      await deterministicLines(join(parent, "resumed"), asynchronous),
      await deterministicLines(join(parent, "full"), asynchronous),
    );
    assert.deepEqual(resumed.summary.bytes, full.summary.bytes);
    assert.deepEqual(resumed.summary.final, full.summary.final);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
}

Deno.test("every algorithm resumed from a checkpoint equals the uninterrupted run (memory)", async (t) => {
  for (const [name, plan] of Object.entries(leastSquaresPlans(12))) {
    await t.step(name, () => assertResumeIsExact(plan, "memory", 4));
  }
});

Deno.test("resume over TCP, and on MNIST, equals the uninterrupted run", async (t) => {
  const plans = leastSquaresPlans(12);
  const names = [
    "slowMoOverGossip",
    "overlapLocalSgd",
    "cada",
    "adamLocalSgd",
    "adamwLocalSgd",
    "streamingDilocoOverLocalSgd",
    "slowMoOverChocoQsgd",
  ];
  for (const name of names) {
    await t.step(name, () => assertResumeIsExact(plans[name]!, "tcp", 8));
  }
  await t.step("mnist", () => assertResumeIsExact(tinyMnist(12), "tcp", 4));
});

Deno.test("an interrupted run resumes in its own folder and ends as the uninterrupted run", async () => {
  const plan = leastSquaresPlans(12).slowMoOverGossip!;
  const parent = await tempRunFolder();
  try {
    const reference = await run(plan, {
      transport: "memory",
      out: join(parent, "reference"),
      checkpointEvery: 4,
    });
    const folder = join(parent, "interrupted");
    const controller = new AbortController();
    await assert.rejects(
      run(plan, {
        transport: "memory",
        out: folder,
        checkpointEvery: 4,
        signal: controller.signal,
        onProgress: (progress) => {
          if (progress.step >= 6) controller.abort(new Error("Interrupted by the test"));
        },
      }),
      (error: RunError) => {
        // The library names no command: the checkpoint is in the error, for resume() or the CLI.
        assert.equal(
          error.message,
          "Interrupted by the test\nThe newest checkpoint is after 4 steps",
        );
        assert.deepEqual(error.resumable, { step: 4, newest: true });
        assert.equal(error.folder, folder);
        return true;
      },
    );
    assert.deepEqual(await listCheckpoints(folder), [4]);
    // Interrupted through its signal: stopped, not failed.
    const stopped = JSON.parse(await Deno.readTextFile(join(folder, "summary.json")));
    assert.equal(stopped.status, "stopped");
    assert.equal(stopped.error, "Interrupted by the test");
    const resumed = await resume(folder, { transport: "memory" });
    assert.deepEqual(resumed.params, reference.params);
    assert.deepEqual(
      await deterministicLines(folder, false),
      await deterministicLines(join(parent, "reference"), false),
    );
    assert.equal(resumed.summary.status, "completed");
    // The resumed run kept checkpointing every 4 steps.
    assert.deepEqual(await listCheckpoints(folder), [4, 8, 12]);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("checkpoints are pruned to the newest, a finished run continues with more steps", async () => {
  const plan = leastSquaresPlans(12).adamLocalSgd!;
  const parent = await tempRunFolder();
  try {
    const folder = join(parent, "run");
    await run(plan, { transport: "memory", out: folder, checkpointEvery: 2, keepCheckpoints: 2 });
    assert.deepEqual(await listCheckpoints(folder), [10, 12]);
    await assert.rejects(resume(folder, { transport: "memory" }), /nothing is left to run/);
    const longer = await resume(folder, { transport: "memory", steps: 16 });
    assert.equal(longer.summary.steps, 16);
    const steps = (await readMetrics(folder)).filter((line) => line.type === "step");
    assert.equal(steps.length, 16 * plan.workers);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("a checkpoint of another plan is refused, naming both", async () => {
  const plan = leastSquaresPlans(12).allReduce!;
  const parent = await tempRunFolder();
  try {
    const folder = join(parent, "run");
    await run(plan, { transport: "memory", out: folder, checkpointEvery: 4 });
    const written = JSON.parse(await Deno.readTextFile(join(folder, "plan.json")));
    written.optimizer.lr = { kind: "constant", lr: 0.07 };
    await Deno.writeTextFile(join(folder, "plan.json"), JSON.stringify(written));
    await assert.rejects(
      resume(folder, { transport: "memory", from: 4 }),
      /step-00000004\.safetensors was written by another plan \(plan hash [0-9a-f]{12}…, this plan's is [0-9a-f]{12}…\)/,
    );
    await assert.rejects(
      resume(folder, { from: 5 }),
      /has no checkpoint after 5 steps \(it has 4, 8, 12\)/,
    );
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("a virtual-clock run resumes on the virtual clock in memory unless told otherwise", async () => {
  // A declared network with compute time: the simulated time is a function of the steps alone.
  const plan = leastSquaresPipeline(12).base(gossip(ring))
    .network(network({ bandwidth: "2Mbit", latency: "3ms", computeMs: 10 })).compile();
  const parent = await tempRunFolder();
  try {
    const options = { transport: "memory", clock: "virtual", checkpointEvery: 4 } as const;
    const full = await run(plan, { ...options, out: join(parent, "full") });
    const told: unknown[] = [];
    // No transport or clock given: the checkpoint's are kept.
    const resumed = await resume(join(parent, "full"), {
      from: 4,
      out: join(parent, "resumed"),
      onResuming: (resuming) => told.push(resuming),
    });
    assert.deepEqual(told, [{
      step: 4,
      clock: "virtual",
      transport: "memory",
      kept: { clock: true, transport: true },
    }]);
    assert.equal(resumed.summary.clock, "virtual");
    assert.equal(resumed.summary.transport, "memory");
    assert.deepEqual(resumed.params, full.params);
    assert.equal(resumed.summary.virtualTimeMs, full.summary.virtualTimeMs);
    // Asked for TCP, the virtual clock cannot follow: the rest runs in real time, and says so.
    told.length = 0;
    await assert.rejects(
      resume(join(parent, "full"), {
        from: 4,
        transport: "tcp",
        out: join(parent, "over-tcp"),
        onResuming: (resuming) => {
          told.push(resuming);
          throw new Error("stop here");
        },
      }),
      /stop here/,
    );
    assert.deepEqual(told, [{
      step: 4,
      clock: "real",
      transport: "tcp",
      kept: { clock: false, transport: false },
    }]);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("a run failed from outside through failSignal says failed, not stopped", async () => {
  const plan = leastSquaresPlans(12).allReduce!;
  const parent = await tempRunFolder();
  try {
    const folder = join(parent, "run");
    const failure = new AbortController();
    await assert.rejects(
      run(plan, {
        transport: "memory",
        out: folder,
        failSignal: failure.signal,
        onProgress: (progress) => {
          if (progress.step >= 4) failure.abort(new Error("rank 0's own worker failed"));
        },
      }),
      /rank 0's own worker failed/,
    );
    const summary = JSON.parse(await Deno.readTextFile(join(folder, "summary.json")));
    assert.equal(summary.status, "failed");
    assert.equal(summary.error, "rank 0's own worker failed");
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});
