import assert from "node:assert/strict";
import { allReduce, cada } from "../../dsl/bases/mod.ts";
import { adam, sgd } from "../../dsl/optimizers/mod.ts";
import { FRAME_HEADER_BYTES } from "../comm/wire.ts";
import {
  AdamReference,
  assertClose,
  assertRowsClose,
  axpy,
  bufferOf,
  lsGradient,
  makePlan,
  meanRow,
  repeat,
  runWorkers,
  SHARDS_2D,
  type Vec,
  X0_2D,
} from "./_testing.ts";

const LR = 0.01;

/** `‖a − b‖²`. */
function squaredDistance(a: Vec, b: Vec): number {
  return a.reduce((sum, value, c) => sum + (value - b[c]!) ** 2, 0);
}

/**
 * Float64 CADA (docs/algorithms.md §4.1) on full-batch least-squares shards, so a worker's
 * "same mini-batch" is its whole shard: the iterates and which worker uploaded at each step.
 */
function cadaReference(
  options: { variant: 1 | 2; c: number; dMax: number; maxDelay: number; amsgrad: boolean },
  n: number,
  steps: number,
) {
  const { variant, c, dMax, maxDelay, amsgrad } = options;
  const shards = SHARDS_2D.slice(0, n);
  const server = new AdamReference(1, 2, {
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    biasCorrection: false,
    amsgrad,
  });
  let theta: Vec = [...X0_2D];
  const changes: number[] = [];
  const last = new Array<number>(n).fill(-1);
  // CADA2: each worker's last upload's iterate. CADA1: the snapshot, and each worker's change
  // from it at its last upload.
  const references = repeat(n, X0_2D);
  let snapshot: Vec = [...X0_2D];
  const lastChange = repeat(n, [0, 0]);
  const latest = repeat(n, [0, 0]);
  const thetas: Vec[] = [];
  const uploads: boolean[][] = [];
  for (let k = 0; k < steps; k++) {
    const threshold = c / dMax * changes.slice(0, dMax).reduce((sum, value) => sum + value, 0);
    const refresh = variant === 1 && k > 0 && k % maxDelay === 0;
    if (refresh) snapshot = [...theta];
    uploads.push(shards.map((shard, m) => {
      const fresh = lsGradient(shard, theta).grad;
      const forced = last[m]! < 0 || k - last[m]! >= maxDelay;
      let upload: boolean;
      if (variant === 2) {
        upload = forced ||
          squaredDistance(fresh, lsGradient(shard, references[m]!).grad) > threshold;
      } else {
        const change = axpy(fresh, -1, lsGradient(shard, snapshot).grad);
        upload = refresh || forced || squaredDistance(change, lastChange[m]!) > threshold;
        if (upload) lastChange[m] = refresh ? [0, 0] : change;
      }
      if (upload) {
        latest[m] = fresh;
        last[m] = k;
        references[m] = [...theta];
      }
      return upload;
    }));
    const next = axpy(theta, -LR, server.direction(0, meanRow(latest)));
    changes.unshift(squaredDistance(next, theta));
    theta = next;
    thetas.push(theta);
  }
  return { thetas, uploads };
}

for (const amsgrad of [true, false]) {
  Deno.test(`§5.9: cada({ c: 0, amsgrad: ${amsgrad} }) equals allReduce + adam without bias correction`, async () => {
    const [n, steps] = [4, 8];
    const adaptive = await runWorkers(
      makePlan({
        workers: n,
        optimizer: sgd({ lr: LR, weightDecay: 0.01 }),
        base: cada({ c: 0, amsgrad }),
        steps,
      }),
      SHARDS_2D,
      X0_2D,
    );
    const reduce = await runWorkers(
      makePlan({
        workers: n,
        optimizer: adam({ lr: LR, biasCorrection: false, amsgrad, weightDecay: 0.01 }),
        base: allReduce(),
        steps,
      }),
      SHARDS_2D,
      X0_2D,
    );
    for (let k = 0; k < steps; k++) {
      const expected = reduce.history[k]!.map((x) => [...x]);
      assertRowsClose(adaptive.history[k]!, expected, 1e-5, `step ${k}`);
      for (const metrics of adaptive.metrics) assert.equal(metrics[k]!.uploaded, true);
    }
  });
}

for (const variant of [1, 2] as const) {
  Deno.test(`cada variant ${variant} follows the float64 reference, uploads included`, async () => {
    const options = { variant, c: 2, dMax: 3, maxDelay: 4, amsgrad: true };
    const [n, steps] = [4, 16];
    const plan = makePlan({ workers: n, optimizer: sgd({ lr: LR }), base: cada(options), steps });
    const { history, metrics, chains } = await runWorkers(plan, SHARDS_2D, X0_2D);
    const expected = cadaReference(options, n, steps);
    for (let k = 0; k < steps; k++) {
      assertRowsClose(history[k]!, repeat(n, expected.thetas[k]!), 1e-5, `step ${k}`);
      assert.deepEqual(
        metrics.map((worker) => worker[k]!.uploaded),
        expected.uploads[k],
        `uploads at step ${k}`,
      );
    }
    const all = expected.uploads.flat();
    assert.ok(all.includes(false) && all.filter(Boolean).length > n, "some uploads are skipped");
    // The server's float64 sum is the mean of what the workers really sent.
    const sent = chains.map((chain) => [...bufferOf(chain, "cada.uploaded")]);
    assertClose(bufferOf(chains[0]!, "cada.gradient"), meanRow(sent), 1e-12, "server sum");
  });
}

for (const variant of [1, 2] as const) {
  Deno.test(`cada${variant} with a huge threshold skips every upload until maxDelay; skips send no gradient bytes`, async () => {
    const [n, steps, maxDelay, d] = [3, 10, 4, 2];
    const plan = makePlan({
      workers: n,
      optimizer: sgd({ lr: LR }),
      base: cada({ variant, c: 1e12, maxDelay }),
      steps,
    });
    const { metrics, comms } = await runWorkers(plan, SHARDS_2D, X0_2D);
    const uploadSteps = [0, 4, 8];
    for (const worker of metrics) {
      assert.deepEqual(worker.flatMap((line, k) => line.uploaded ? [k] : []), uploadSteps);
      assert.deepEqual(worker.map((line) => line.staleness), [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]);
    }
    // A worker sends one frame per step to the server: the gradient only at its uploads.
    for (const comm of comms.slice(1)) {
      const expected = steps * FRAME_HEADER_BYTES + uploadSteps.length * 4 * d;
      assert.equal(comm.stats().sent.base, expected);
    }
    // The server broadcasts θ (d floats) to the n − 1 others every step.
    assert.equal(comms[0]!.stats().sent.base, steps * (n - 1) * (FRAME_HEADER_BYTES + 4 * d));
  });
}
