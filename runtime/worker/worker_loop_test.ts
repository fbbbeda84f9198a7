import assert from "node:assert/strict";
import {
  allReduce,
  gossip,
  mlp,
  ring,
  sgd,
  synthetic,
  text,
  train,
  transformer,
} from "../../mod.ts";
import type { Plan } from "../../dsl/plan.ts";
import { createMemoryCommunicators } from "../comm/memory_transport.ts";
import { loadWorkerData } from "../data/worker_data.ts";
import type { EvalLine, MetricsLine } from "../metrics.ts";
import type { TrainableModel } from "../models/types.ts";
import { donorState, runWorkerLoop } from "./worker_loop.ts";

/** A model of one parameter whose test loss is `testLoss` nats per token, whatever it holds. */
function fixedLossModel(testLoss: number): TrainableModel {
  return {
    parameterCount: 1,
    tensors: [{ name: "w", shape: [1] }],
    initialParameters: () => new Float32Array([0]),
    gradient: (_params, _batch, into) => {
      const grad = into ?? new Float32Array(1);
      grad[0] = 0;
      return Promise.resolve({ loss: testLoss, grad });
    },
    evaluate: () => Promise.resolve({ loss: testLoss, accuracy: 0.25 }),
    dispose: () => {},
  };
}

/** The evaluation lines every worker of the plan emits. */
async function evaluations(plan: Plan, testLoss: number): Promise<EvalLine[]> {
  const lines: MetricsLine[] = [];
  const comms = createMemoryCommunicators(plan.workers);
  await Promise.all(comms.map(async (comm) =>
    runWorkerLoop({
      plan,
      comm,
      model: fixedLossModel(testLoss),
      data: await loadWorkerData(plan, comm.rank),
      emit: (line) => lines.push(line),
    })
  ));
  return lines.filter((line): line is EvalLine => line.type === "eval");
}

Deno.test("evaluations of language data carry bits per token and perplexity, of the average and of each worker", async () => {
  const plan = train(transformer({ layers: 1, dModel: 8, heads: 2, context: 8 }))
    .data(text({ batchSize: 2 })).workers(2).optimizer(sgd({ lr: 0.1 })).base(gossip(ring))
    .steps(2).evalEvery(1).compile();
  const lines = await evaluations(plan, Math.log(16));
  assert.ok(lines.some((line) => line.model === "average"));
  assert.ok(lines.some((line) => line.model === "worker"));
  for (const line of lines) {
    assert.ok(Math.abs(line.bitsPerToken! - 4) < 1e-12, JSON.stringify(line)); // ln 16 / ln 2
    assert.ok(Math.abs(line.perplexity! - 16) < 1e-12, JSON.stringify(line));
    assert.equal(line.testAccuracy, 0.25);
  }
});

Deno.test("evaluations of other data have neither", async () => {
  const plan = train(mlp({ hidden: [4] })).data(synthetic({ features: 4, trainSize: 16 }))
    .workers(1).optimizer(sgd({ lr: 0.1 })).base(allReduce()).steps(1).evalEvery(1).compile();
  const lines = await evaluations(plan, 0.5);
  assert.ok(lines.length > 0);
  for (const line of lines) assert.ok(!("bitsPerToken" in line) && !("perplexity" in line));
});

Deno.test("donorState: a joiner gets the donor's buffers, but zeros for its per-worker accumulations", () => {
  const model = Float32Array.of(1, 2);
  const residual = Float32Array.of(0.5, -0.5);
  const history = Float64Array.of(3, 4);
  const state = donorState([
    { name: "model", data: model, momentum: false },
    { name: "topK.residual", data: residual, momentum: false, perWorker: true },
    { name: "dqSgd.state", data: history, momentum: false },
  ]);
  assert.equal(state.virtualMs, null);
  assert.deepEqual(state.buffers.map((buffer) => buffer.name), [
    "model",
    "topK.residual",
    "dqSgd.state",
  ]);
  assert.deepEqual(state.buffers[0]!.data, Float32Array.of(1, 2));
  assert.deepEqual(state.buffers[1]!.data, new Float32Array(2));
  assert.deepEqual(state.buffers[2]!.data, Float64Array.of(3, 4));
  // The donor's own residual is left as it was.
  assert.deepEqual(residual, Float32Array.of(0.5, -0.5));
});
