/**
 * The bases under compression (docs/algorithms.md §3): all-reduce SGD on compressed gradients
 * and local SGD on compressed model differences, with top-k and error feedback, against
 * references written here step by step. The references store every vector in float32
 * (`Math.fround`) where the runtime does, so they follow the same top-k choices.
 */

import assert from "node:assert/strict";
import { allReduce, localSgd } from "../../dsl/bases/mod.ts";
import { topK } from "../../dsl/compressors/mod.ts";
import { sgd } from "../../dsl/optimizers/mod.ts";
import { slowMo } from "../../dsl/outers/mod.ts";
import {
  assertRowsClose,
  bufferOf,
  gradients,
  makePlan,
  type Mat,
  repeat,
  runWorkers,
  SHARDS_3D,
  type Vec,
  X0_3D,
} from "./_testing.ts";

/** The `k` indices of largest |v|, lower index first among ties, by a full sort. */
function topIndices(v: Vec, k: number): number[] {
  return [...v.keys()].sort((a, b) => Math.abs(v[b]!) - Math.abs(v[a]!) || a - b).slice(0, k);
}

/**
 * One exchange with top-k and error feedback for every worker: `e_i += p_i` (float32), send the
 * top-k of `e_i`, zero them in `e_i`; returns the float32 mean of what was sent.
 */
function exchange(residuals: Mat, payloads: Mat, k: number): Vec {
  const n = residuals.length;
  const sum = payloads[0]!.map(() => 0);
  residuals.forEach((e, i) => {
    e.forEach((value, j) => e[j] = Math.fround(value + Math.fround(payloads[i]![j]!)));
    for (const j of topIndices(e, k)) {
      sum[j]! += e[j]!;
      e[j] = 0;
    }
  });
  return sum.map((value) => Math.fround(value / n));
}

Deno.test("allReduce with top-k and error feedback follows the reference", async () => {
  const n = 4;
  const lr = 0.1;
  const steps = 6;
  const plan = makePlan({
    workers: n,
    optimizer: sgd({ lr }),
    base: allReduce(),
    compress: topK({ k: 1 }),
    steps,
    dim: 3,
  });
  const { history, chains, comms, metrics } = await runWorkers(plan, SHARDS_3D, X0_3D);
  let x: Vec = [...X0_3D];
  const residuals = repeat(n, [0, 0, 0]);
  for (let k = 0; k < steps; k++) {
    const mean = exchange(residuals, gradients(SHARDS_3D, repeat(n, x)), 1);
    x = x.map((value, j) => Math.fround(value - lr * mean[j]!));
    assertRowsClose(history[k]!, repeat(n, x), 1e-6, `step ${k}`);
    for (const model of history[k]!) assert.deepEqual(model, history[k]![0], "bit-identical");
  }
  // Every worker's residual holds what it has not sent yet, and its norm is in the metrics.
  chains.forEach((chain, i) => {
    assertRowsClose([bufferOf(chain, "topK.residual")], [residuals[i]!], 1e-6, "residual");
    assert.ok(
      Math.abs((metrics[i]!.at(-1)!.residualNorm as number) - Math.hypot(...residuals[i]!)) < 1e-6,
    );
  });
  // One packed code per step to each of the 3 others: 4 bytes of value, 1 byte for a 2-bit
  // index, a 12-byte frame header; nothing uncompressed.
  for (const comm of comms) {
    assert.equal(comm.stats().sent.compressed, steps * 3 * (4 + 1 + 12));
    assert.equal(comm.stats().sent.base, 0);
  }
});

Deno.test("localSgd with top-k compresses the model differences since the last average", async () => {
  const n = 4;
  const lr = 0.1;
  const tau = 2;
  const steps = 6;
  const plan = makePlan({
    workers: n,
    optimizer: sgd({ lr }),
    base: localSgd({ tau }),
    compress: topK({ k: 2 }),
    steps,
    dim: 3,
  });
  const { history, comms } = await runWorkers(plan, SHARDS_3D, X0_3D);
  let X = repeat(n, X0_3D);
  let synced: Vec = [...X0_3D];
  const residuals = repeat(n, [0, 0, 0]);
  for (let k = 0; k < steps; k++) {
    const G = gradients(SHARDS_3D, X);
    X = X.map((x, i) => x.map((value, j) => Math.fround(value - lr * Math.fround(G[i]![j]!))));
    if ((k + 1) % tau === 0) {
      const differences = X.map((x) => x.map((value, j) => Math.fround(value - synced[j]!)));
      const mean = exchange(residuals, differences, 2);
      synced = synced.map((value, j) => Math.fround(value + mean[j]!));
      X = repeat(n, synced);
      for (const model of history[k]!) assert.deepEqual(model, history[k]![0], "agree after");
    }
    assertRowsClose(history[k]!, X, 1e-6, `step ${k}`);
  }
  assert.notDeepEqual(history[0]![0], history[0]![1], "workers differ between averages");
  // Three exchanges of 2 values and two 2-bit indices (9 bytes + a 12-byte header) to 3 peers.
  for (const comm of comms) assert.equal(comm.stats().sent.compressed, 3 * 3 * (8 + 1 + 12));
});

Deno.test("localSgd with a compressor skips its exchange where the outer step averages", async () => {
  const plan = makePlan({
    workers: 4,
    optimizer: sgd({ lr: 0.1 }),
    base: localSgd({ tau: 2 }),
    compress: topK({ k: 1 }),
    outer: slowMo({ tau: 4, beta: 0 }),
    steps: 8,
    dim: 3,
  });
  const { comms, history } = await runWorkers(plan, SHARDS_3D, X0_3D);
  // Local exchanges after steps 1 and 5 only; exact outer averages after steps 3 and 7.
  for (const comm of comms) {
    assert.equal(comm.stats().sent.compressed, 2 * 3 * (4 + 1 + 12));
    assert.ok(comm.stats().sent.outer > 0);
  }
  for (const k of [1, 3, 5, 7]) {
    for (const model of history[k]!) assert.deepEqual(model, history[k]![0], `agree at ${k}`);
  }
});
