import assert from "node:assert/strict";
import {
  allReduce,
  gossip,
  network,
  overlapLocalSgd,
  type Plan,
  ring,
  run,
  RunError,
  type RunOptions,
} from "../../mod.ts";
import { predictStepTime } from "../../runtime/coordinator/predict_time.ts";
import { leastSquaresPipeline, readStepLines, tempRunFolder } from "./_plans.ts";

/** A slow, jittery network with a random straggler, and a declared compute time. */
const SLOW = network({
  bandwidth: "2Mbit",
  latency: "3ms",
  jitter: "2ms",
  links: [{ between: [0, 1], bandwidth: "500kbit" }],
  stragglers: { probability: 0.2, slowdown: 2, delay: "4ms" },
  computeMs: 10,
});

/** Runs a plan into a fresh folder; returns the result and its step lines. */
async function runIn(plan: Plan, options: RunOptions) {
  const parent = await tempRunFolder();
  try {
    const result = await run(plan, { ...options, out: `${parent}/run` });
    return { result, steps: await readStepLines(`${parent}/run`) };
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
}

for (
  const [name, base] of [
    ["gossip on a ring", gossip(ring)],
    ["allReduce", allReduce()],
    ["overlapLocalSgd", overlapLocalSgd({ tau: 4 })],
  ] as const
) {
  Deno.test(`virtual clock: ${name} takes the predicted time, the same on every run`, async () => {
    const plan = leastSquaresPipeline(20).base(base).network(SLOW).compile();
    const prediction = await predictStepTime(plan, 3, { periods: 20 });
    assert.equal(prediction.steps, 20);
    const first = await runIn(plan, { transport: "memory", clock: "virtual" });
    const second = await runIn(plan, { transport: "memory", clock: "virtual" });
    const simulated = first.result.summary.virtualTimeMs!;
    assert.ok(
      Math.abs(simulated / 20 - prediction.msPerStep) < 1e-9 * simulated,
      `run ${simulated / 20} ms per step, predicted ${prediction.msPerStep}`,
    );
    // Compute alone is 20 × 10 ms; stragglers and the network add to it.
    assert.ok(simulated > 200, `${simulated} ms`);
    assert.equal(second.result.summary.virtualTimeMs, simulated);
    assert.deepEqual(
      second.steps.map((line) => line.virtualMs),
      first.steps.map((line) => line.virtualMs),
    );
    // The network changes time, not arithmetic: the same parameters as without it.
    const plain = await runIn(leastSquaresPipeline(20).base(base).compile(), {
      transport: "memory",
    });
    assert.deepEqual(first.result.params, plain.result.params);
    assert.equal(first.result.summary.clock, "virtual");
    assert.equal(plain.result.summary.virtualTimeMs, null);
  });
}

Deno.test("a declared network over TCP in real time: the same parameters and bytes", async () => {
  const net = network({ bandwidth: "50Mbit", latency: "1ms", jitter: "1ms" });
  const plan = leastSquaresPipeline(12).base(gossip(ring)).compile();
  const shaped = await runIn({ ...plan, network: net }, {});
  const plain = await runIn(plan, {});
  assert.deepEqual(shaped.result.params, plain.result.params);
  assert.deepEqual(shaped.result.summary.bytes, plain.result.summary.bytes);
  // Step k needs a neighbour's message of step k, sent after that neighbour had step k − 1's:
  // twelve steps form a chain of at least eleven 1 ms hops, which only shaping imposes.
  const elapsed = Math.max(...shaped.steps.map((line) => line.elapsedMs));
  assert.ok(elapsed >= 11, `training took ${elapsed} ms`);
});

Deno.test("the clock and the transport must fit the network", async () => {
  const plan = leastSquaresPipeline(4).evalEvery(4).base(allReduce()).network(SLOW).compile();
  await assert.rejects(
    runIn(plan, { transport: "tcp", clock: "virtual" }),
    (error: unknown) =>
      error instanceof RunError &&
      error.message ===
        "Cannot run the plan: the virtual clock runs every worker in one thread: use --transport memory",
  );
  await assert.rejects(
    runIn(plan, { transport: "memory" }),
    /the memory transport in real time cannot apply it/,
  );
});
