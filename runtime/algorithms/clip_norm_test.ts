/**
 * Gradient clipping (`clipNorm`, docs/algorithms.md §0.1) under the bases: `allReduce` clips the
 * mean gradient (after the all-reduce, or after the compressed mean is decoded), local bases clip
 * each worker's own gradient, and CADA's server clips its aggregated gradient, which keeps
 * `cada({ c: 0 })` equal to `allReduce` with Adam (§5.9).
 */

import assert from "node:assert/strict";
import { allReduce, cada, localSgd } from "../../dsl/bases/mod.ts";
import { topK } from "../../dsl/compressors/mod.ts";
import { adam, sgd } from "../../dsl/optimizers/mod.ts";
import {
  assertRowsClose,
  bufferOf,
  makePlan,
  repeat,
  runWorkers,
  type Shard,
  SHARDS_2D,
  X0_2D,
} from "./_testing.ts";

/**
 * Worker shards whose gradients at `x = 0` are the given vectors: `f_i = ‖x − b_i‖²/4` has the
 * gradient `(x − b_i)/2`, so `b_i = −2 g_i`.
 */
function withGradients(...gradients: number[][]): Shard[] {
  return gradients.map((g) => ({ A: [[1, 0], [0, 1]], b: g.map((value) => -2 * value) }));
}

// Norms 4 and √17 = 4.12, both above c = 1; their mean (0, 0.5) has norm 0.5, below it.
const LARGE_APART = withGradients([4, 0], [-4, 1]);
const ORIGIN = [0, 0];

Deno.test("allReduce clips the mean gradient, not each worker's", async () => {
  const run = (clipNorm?: number) =>
    runWorkers(
      makePlan({
        workers: 2,
        optimizer: sgd({ lr: 1, ...(clipNorm === undefined ? {} : { clipNorm }) }),
        base: allReduce(),
        steps: 1,
      }),
      LARGE_APART,
      ORIGIN,
    );
  // The mean (0, 0.5) is below c = 1: the step is the unclipped one, bit for bit.
  const loose = await run(1);
  assertRowsClose(loose.history[0]!, repeat(2, [0, -0.5]), 0);
  assert.deepEqual(loose.history[0], (await run()).history[0]);
  // (Clipping each worker's gradient first would have moved by the mean of (1, 0) and
  // (−4, 1)/√17, (0.0149, 0.1213), instead.)
  // c = 0.25: the mean of norm 0.5 is halved.
  assertRowsClose((await run(0.25)).history[0]!, repeat(2, [0, -0.25]), 0);
});

Deno.test("localSgd: each worker clips its own gradient", async () => {
  const plan = makePlan({
    workers: 2,
    optimizer: sgd({ lr: 1, clipNorm: 1 }),
    base: localSgd({ tau: 2 }),
    steps: 2,
  });
  const { history } = await runWorkers(plan, LARGE_APART, ORIGIN);
  // Step 0, before any average: x_i = −g_i / ‖g_i‖.
  const root17 = Math.sqrt(17);
  assertRowsClose(history[0]!, [[-1, 0], [4 / root17, -1 / root17]], 1e-7, "step 0");
  // Step 1: each gradient at its own model, (x_i − b_i)/2, clipped again, then the average.
  const step1 = [[-1, 0], [4 / root17, -1 / root17]].map((x, i) => {
    const g = x.map((value, c) => (value - LARGE_APART[i]!.b[c]!) / 2);
    const norm = Math.hypot(...g);
    return x.map((value, c) => value - g[c]! * Math.min(1, 1 / norm));
  });
  const mean = [0, 1].map((c) => (step1[0]![c]! + step1[1]![c]!) / 2);
  assertRowsClose(history[1]!, repeat(2, mean), 1e-6, "step 1");
});

Deno.test("allReduce + top-k: the decoded mean is clipped; the compressor sees bare gradients", async () => {
  // Gradients (4, 3) and (4, −3), norm 5 each: top-1 sends (4, 0) from both and keeps (0, ±3).
  // The decoded mean (4, 0) is clipped to (1, 0); clipping before the codec would have sent
  // (0.8, 0) from each.
  const plan = makePlan({
    workers: 2,
    optimizer: sgd({ lr: 0.5, clipNorm: 1 }),
    base: allReduce(),
    compress: topK({ k: 1 }),
    steps: 1,
  });
  const { history, chains } = await runWorkers(plan, withGradients([4, 3], [4, -3]), ORIGIN);
  assertRowsClose(history[0]!, repeat(2, [-0.5, 0]), 0);
  assert.deepEqual([...bufferOf(chains[0]!, "topK.residual")], [0, 3]);
  assert.deepEqual([...bufferOf(chains[1]!, "topK.residual")], [0, -3]);
});

for (const amsgrad of [true, false]) {
  Deno.test(`§5.9 with clipping: cada({ c: 0, amsgrad: ${amsgrad} }) + clipNorm equals allReduce + adam + clipNorm`, async () => {
    const [n, steps, lr, clipNorm] = [4, 8, 0.01, 0.3];
    const options = { lr, weightDecay: 0.01, clipNorm };
    const run = (clipped: boolean) =>
      runWorkers(
        makePlan({
          workers: n,
          optimizer: sgd(clipped ? options : { lr, weightDecay: 0.01 }),
          base: cada({ c: 0, amsgrad }),
          steps,
        }),
        SHARDS_2D,
        X0_2D,
      );
    const adaptive = await run(true);
    const reduce = await runWorkers(
      makePlan({
        workers: n,
        optimizer: adam({ ...options, biasCorrection: false, amsgrad }),
        base: allReduce(),
        steps,
      }),
      SHARDS_2D,
      X0_2D,
    );
    for (let k = 0; k < steps; k++) {
      const expected = reduce.history[k]!.map((x) => [...x]);
      assertRowsClose(adaptive.history[k]!, expected, 1e-5, `step ${k}`);
    }
    // The clipping binds: without it the iterates differ.
    const unclipped = await run(false);
    const gap = Math.abs(
      unclipped.history[steps - 1]![0]![0]! - adaptive.history[steps - 1]![0]![0]!,
    );
    assert.ok(gap > 1e-3, `clipping changed nothing (${gap})`);
    // The uploads are the workers' own gradients: the server's sum of them is not clipped.
    const norm = Math.hypot(...bufferOf(adaptive.chains[0]!, "cada.gradient"));
    assert.ok(norm > clipNorm, `the server's gradient has norm ${norm}`);
  });
}
