import assert from "node:assert/strict";
import { allReduce } from "../../dsl/bases/mod.ts";
import { COMPRESSOR_KINDS, fetchSgd } from "../../dsl/compressors/mod.ts";
import { sgd } from "../../dsl/optimizers/mod.ts";
import { warmup } from "../../dsl/schedules.ts";
import {
  assertClose,
  assertRowsClose,
  bufferOf,
  lsGradient,
  makePlan,
  repeat,
  runWorkers,
  type Shard,
  SHARDS_3D,
  type Vec,
  X0_3D,
} from "../algorithms/_testing.ts";
import { createMemoryCommunicators } from "../comm/memory_transport.ts";
import { randomStream } from "../random.ts";
import { fetchSgdChannel } from "./fetch_sgd.ts";
import { CountSketch } from "./sketched_sgd.ts";

/** `γ_k` of `warmup({ steps: 3, then: 0.1 })`: `0.1 (k + 1)/3` for `k < 3`, then 0.1. */
const warmupLr = (k: number) => k < 3 ? 0.1 * (k + 1) / 3 : 0.1;

Deno.test("fetchSgd with a collision-free sketch and k = d is plain SGD on the mean gradient", async () => {
  // cols ≥ d: every row's buckets are a permutation, so the estimates are exact sums; k = d
  // applies every coordinate and zeroes every used bucket, so S_u never carries over: the update
  // is γ_k Σ_i g_i / n, SGD on the averaged gradient, whatever ρ.
  for (const cols of [3, 7]) {
    const steps = 5;
    const plan = makePlan({
      workers: 4,
      optimizer: sgd({ lr: warmup({ steps: 3, then: 0.1 }) }),
      base: allReduce(),
      compress: fetchSgd({ rows: 3, cols, k: 3, rho: 0.9 }),
      steps,
      dim: 3,
    });
    const { history, chains } = await runWorkers(plan, SHARDS_3D, X0_3D);
    let x: Vec = [...X0_3D];
    for (let k = 0; k < steps; k++) {
      const mean = [0, 0, 0];
      for (const shard of SHARDS_3D) {
        lsGradient(shard, x).grad.forEach((g, j) => mean[j]! += g / SHARDS_3D.length);
      }
      x = x.map((value, j) => value - warmupLr(k) * mean[j]!);
      assertRowsClose(history[k]!, repeat(4, x), 1e-6, `cols ${cols}, step ${k}`);
    }
    for (const chain of chains) {
      assert.ok(bufferOf(chain, "fetchSgd.momentum").every((value) => value === 0), "S_u");
      assert.ok(bufferOf(chain, "fetchSgd.error").every((value) => value === 0), "S_e");
    }
  }
});

/** Four workers' least-squares shards in 8 dimensions, from a seeded stream. */
function shards8(): Shard[] {
  const random = randomStream(7, "fetchSgd shards");
  return Array.from({ length: 4 }, () => ({
    A: Array.from({ length: 5 }, () => Array.from({ length: 8 }, () => random.normal())),
    b: Array.from({ length: 5 }, () => random.normal()),
  }));
}

/**
 * The runtime sketch's hashes, read through its public `accumulate` only: the unit vector `e_j`
 * lands in one bucket per row, with its sign.
 */
function probeHashes(rows: number, cols: number, d: number, seed: number) {
  const sketch = new CountSketch(rows, cols, d, seed);
  const bucket: number[][] = [];
  const sign: number[][] = [];
  for (let j = 0; j < d; j++) {
    const table = new Float32Array(rows * cols);
    sketch.accumulate(Float32Array.from({ length: d }, (_, i) => i === j ? 1 : 0), table);
    for (let r = 0; r < rows; r++) {
      const at = table.subarray(r * cols, (r + 1) * cols).findIndex((value) => value !== 0);
      (bucket[r] ??= [])[j] = at;
      (sign[r] ??= [])[j] = table[r * cols + at]!;
    }
  }
  return { bucket, sign };
}

/**
 * §3.5 in float64, written from the spec: sketch each gradient, sum; `S_u = ρ S_u + S`;
 * `S_e += γ_k S_u`; estimates = median over rows of `σ_r(j) S_e[r, h_r(j)]`; `Δ` = the k largest
 * in magnitude (ties: lower index); `x −= Δ/n`; zero Δ's buckets in S_u and S_e.
 */
function fetchSgdReference(options: {
  shards: readonly Shard[];
  x0: readonly number[];
  rows: number;
  cols: number;
  k: number;
  rho: number;
  wd: number;
  steps: number;
  lr: (k: number) => number;
  seed: number;
  /** The coordinates the runtime moved at a step, ascending. */
  taken: (step: number) => number[];
  /** Called when the runtime broke a near-tie the other way. */
  onTie: () => void;
}): { models: Vec[]; error: Vec } {
  const { shards, rows, cols, k, rho, wd } = options;
  const n = shards.length;
  const d = options.x0.length;
  const { bucket, sign } = probeHashes(rows, cols, d, options.seed);
  const momentum = new Array<number>(rows * cols).fill(0);
  const error = new Array<number>(rows * cols).fill(0);
  let x: Vec = [...options.x0];
  const models: Vec[] = [];
  for (let step = 0; step < options.steps; step++) {
    const S = new Array<number>(rows * cols).fill(0);
    for (const shard of shards) {
      const g = lsGradient(shard, x).grad.map((value, j) => value + wd * x[j]!);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < d; j++) S[r * cols + bucket[r]![j]!]! += sign[r]![j]! * g[j]!;
      }
    }
    for (let c = 0; c < rows * cols; c++) {
      momentum[c] = rho * momentum[c]! + S[c]!;
      error[c] = error[c]! + options.lr(step) * momentum[c]!;
    }
    const estimates = Array.from({ length: d }, (_, j) => {
      const column = Array.from(
        { length: rows },
        (_, r) => sign[r]![j]! * error[r * cols + bucket[r]![j]!]!,
      ).sort((a, b) => a - b);
      return rows % 2 === 1
        ? column[(rows - 1) / 2]!
        : (column[rows / 2 - 1]! + column[rows / 2]!) / 2;
    });
    const order = [...estimates.keys()].sort((a, b) =>
      Math.abs(estimates[b]!) - Math.abs(estimates[a]!) || a - b
    );
    let chosen = order.slice(0, k);
    // Coordinates sharing buckets can have estimates equal in exact arithmetic (here up to the
    // float32 rounding of the runtime's summed sketch): the spec then allows either, so the
    // runtime's choice is taken after checking that it is a top k of these estimates.
    const taken = options.taken(step);
    if (taken.join() !== [...chosen].sort((a, b) => a - b).join()) {
      const floor = Math.min(...taken.map((j) => Math.abs(estimates[j]!)));
      const ceiling = Math.max(
        ...estimates.map((value, j) => taken.includes(j) ? 0 : Math.abs(value)),
      );
      assert.equal(taken.length, k, `step ${step}: k coordinates taken`);
      assert.ok(floor >= ceiling - 1e-6 * (1 + ceiling), `step ${step}: ${taken} is not a top k`);
      chosen = taken;
      options.onTie();
    }
    x = x.map((value, j) => chosen.includes(j) ? value - estimates[j]! / n : value);
    for (const j of chosen) {
      for (let r = 0; r < rows; r++) {
        momentum[r * cols + bucket[r]![j]!] = error[r * cols + bucket[r]![j]!] = 0;
      }
    }
    models.push(x);
  }
  return { models, error };
}

for (const rows of [3, 4]) {
  Deno.test(`fetchSgd (${rows} rows, cols < d, k < d, momentum) against a float64 reference`, async () => {
    const shards = shards8();
    const x0 = [0.3, -0.2, 0.5, 0.1, -0.4, 0.2, 0, 0.6];
    const steps = 8;
    const settings = { rows, cols: 5, k: 3, rho: 0.9 };
    const plan = makePlan({
      workers: 4,
      optimizer: sgd({ lr: warmup({ steps: 3, then: 0.1 }), weightDecay: 0.05 }),
      base: allReduce(),
      compress: fetchSgd(settings),
      steps,
      dim: 8,
    });
    const { history, chains } = await runWorkers(plan, shards, x0);
    let ties = 0;
    const expected = fetchSgdReference({
      shards,
      x0,
      ...settings,
      wd: 0.05,
      steps,
      lr: warmupLr,
      seed: plan.seed,
      taken: (k) => {
        const before = k === 0 ? Float32Array.from(x0) : history[k - 1]![0]!;
        return [...history[k]![0]!.keys()].filter((j) => history[k]![0]![j] !== before[j]);
      },
      onTie: () => ties++,
    });
    for (let k = 0; k < steps; k++) {
      assertRowsClose(history[k]!, repeat(4, expected.models[k]!), 1e-5, `step ${k}`);
    }
    for (const chain of chains) {
      assertClose(bufferOf(chain, "fetchSgd.error"), expected.error, 1e-5, "S_e");
    }
    assert.ok(expected.error.some((value) => value !== 0), "error carries over");
    // Near-ties are the exception: most steps the reference's own top k is the runtime's.
    assert.ok(ties <= 2, `${ties} near-ties in ${steps} steps`);
  });
}

Deno.test("fetchSgd's channel: bytes of one float32 sketch all-reduce, its lr required", async () => {
  const n = 4;
  const d = 50;
  const node = fetchSgd({ rows: 3, cols: 8, k: 5 });
  const comms = createMemoryCommunicators(n);
  const channels = comms.map((comm) => fetchSgdChannel(node, { d, steps: 1, comm, seed: 2 }));
  const gradient = (rank: number) => {
    const random = randomStream(4, "g", rank);
    return Float32Array.from({ length: d }, () => random.normal());
  };
  await Promise.all(channels.map((channel, rank) => channel.mean(gradient(rank), 0, 0.1)));
  const sent = comms[0]!.stats().sent.compressed;
  // A ring all-reduce of 24 floats among 4: 2·3 rounds of a 6-float chunk, 12-byte headers.
  assert.equal(sent, 2 * 3 * (6 * 4 + 12));
  await assert.rejects(channels[0]!.mean(gradient(0), 1), /learning rate/);
  // The plan layer's trait (the validator refuses clipNorm by it) says what the channel does.
  assert.equal(channels[0]!.returnsUpdate, COMPRESSOR_KINDS.fetchSgd.returnsUpdate);
  assert.equal(COMPRESSOR_KINDS.fetchSgd.returnsUpdate, true);
});
