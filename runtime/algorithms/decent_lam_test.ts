import assert from "node:assert/strict";
import { decentLaM, dmSgd } from "../../dsl/bases/mod.ts";
import { sgd } from "../../dsl/optimizers/mod.ts";
import { bmuf } from "../../dsl/outers/mod.ts";
import { ring } from "../../topologies/mod.ts";
import { impliedGradient } from "./decent_lam.ts";
import {
  assertRowsClose,
  axpy,
  gradients,
  makePlan,
  type Mat,
  matmul,
  meanRow,
  repeat,
  RING_4,
  runWorkers,
  SHARDS_2D,
  type Vec,
  X0_2D,
} from "./_testing.ts";

/** Float64 DecentLaM: `Y = X − γG`; `Ĝ = (X − WY)/γ`; `M = βM + Ĝ`; `X −= γM`. */
function reference(steps: number, lr: number, beta: number): Mat[] {
  const n = 4;
  let X = repeat(n, X0_2D);
  let M = repeat(n, [0, 0]);
  const out: Mat[] = [];
  for (let k = 0; k < steps; k++) {
    const G = gradients(SHARDS_2D.slice(0, n), X);
    const R = matmul(RING_4, X.map((x, i) => axpy(x, -lr, G[i]!)));
    const implied = X.map((x, i) => x.map((value, j) => (value - R[i]![j]!) / lr));
    M = M.map((m, i) => axpy(implied[i]!, beta, m));
    X = X.map((x, i) => axpy(x, -lr, M[i]!));
    out.push(X);
  }
  return out;
}

Deno.test("decentLaM on a ring follows the float64 reference step by step", async () => {
  const plan = makePlan({
    workers: 4,
    optimizer: sgd({ lr: 0.1 }),
    base: decentLaM(ring, { beta: 0.9 }),
    steps: 5,
  });
  const { history, comms } = await runWorkers(plan, SHARDS_2D, X0_2D);
  const expected = reference(5, 0.1, 0.9);
  history.forEach((models, k) => assertRowsClose(models, expected[k]!, 1e-5, `step ${k}`));
  // The same traffic as gossip: the half step to each of the 2 ring neighbours, every step.
  for (const comm of comms) assert.equal(comm.stats().sent.base, 5 * 2 * (12 + 2 * 4));
});

Deno.test("decentLaM's implied gradient keeps its own term exact at a tiny learning rate", () => {
  const x = Float32Array.of(1, -3);
  const g = Float32Array.of(0.3, 0.7);
  const lr = 1e-6;
  const half = Float32Array.from(x, (value, t) => value - lr * g[t]!);
  // Dividing a float32 half step by γ is far off: (x − fround(x − γ g)) / γ ≠ g.
  const naive = Array.from(x, (value, t) => (value - half[t]!) / lr);
  for (let t = 0; t < 2; t++) assert.ok(Math.abs(naive[t]! - g[t]!) > 1e-3, `naive ĝ[${t}]`);
  // Alone, the implied gradient is g exactly.
  assert.deepEqual([...impliedGradient(x, g, 1, [], lr)], [...g]);
  // With a neighbour of weight ½ holding the same model and gradient, only its float32 half step
  // carries rounding: exactly half the error of forming r_i from float32 half steps.
  const implied = impliedGradient(x, g, 0.5, [{ weight: 0.5, data: half }], lr);
  for (let t = 0; t < 2; t++) {
    const error = implied[t]! - g[t]!;
    assert.ok(Math.abs(error - (naive[t]! - g[t]!) / 2) < 1e-9, `ĝ[${t}] error ${error}`);
  }
  assert.throws(() => impliedGradient(x, g, 1, [], 0), /divides by the learning rate/);
});

Deno.test("decentLaM refuses a zero learning rate at run time on every rank", async () => {
  const plan = {
    ...makePlan({ workers: 2, optimizer: sgd({ lr: 0 }), base: decentLaM(ring), steps: 1 }),
  };
  await assert.rejects(
    runWorkers(plan, SHARDS_2D, X0_2D),
    /at step 0: it divides by the learning rate/,
  );
});

/** The average model after `steps` steps of a plan on the 4 heterogeneous shards. */
async function settled(base: Parameters<typeof makePlan>[0]["base"], steps: number): Promise<Vec> {
  const plan = makePlan({ workers: 4, optimizer: sgd({ lr: 0.05 }), base, steps });
  const { models } = await runWorkers(plan, SHARDS_2D, X0_2D);
  return meanRow(models.map((model) => [...model]));
}

Deno.test("§5.6: decentLaM settles where momentum-free gossip does; dmSgd farther away", async () => {
  // The minimiser of the average loss, from the normal equations of all four shards.
  const optimum = solveAverage();
  const steps = 3000;
  // Momentum-free adapt-then-combine gossip: x ← W (x − γ g), in float64.
  let X = repeat(4, X0_2D);
  for (let k = 0; k < steps; k++) {
    const G = gradients(SHARDS_2D.slice(0, 4), X);
    X = matmul(RING_4, X.map((x, i) => axpy(x, -0.05, G[i]!)));
  }
  const atc = meanRow(X);
  const lam = await settled(decentLaM(ring, { beta: 0.9 }), steps);
  const dm = await settled(dmSgd(ring, { beta: 0.9 }), steps);
  const distance = (a: Vec, b: Vec) => Math.hypot(...a.map((value, j) => value - b[j]!));
  assert.ok(distance(lam, atc) < 1e-4, `decentLaM ${lam} vs gossip ${atc}`);
  // DmSGD behaves like gossip with the step γ/(1 − β) = 10γ: its heterogeneity bias is larger.
  assert.ok(
    distance(dm, optimum) > 5 * distance(lam, optimum),
    `dmSgd ${distance(dm, optimum)} vs decentLaM ${distance(lam, optimum)} from the optimum`,
  );
});

/** The minimiser of `(1/4) Σ_i f_i`, by solving `Σ_i A_iᵀA_i/m_i x = Σ_i A_iᵀb_i/m_i`. */
function solveAverage(): Vec {
  const H = [[0, 0], [0, 0]];
  const c = [0, 0];
  for (const shard of SHARDS_2D.slice(0, 4)) {
    const m = shard.A.length;
    shard.A.forEach((row, r) => {
      for (let i = 0; i < 2; i++) {
        c[i]! += row[i]! * shard.b[r]! / m;
        for (let j = 0; j < 2; j++) H[i]![j]! += row[i]! * row[j]! / m;
      }
    });
  }
  const det = H[0]![0]! * H[1]![1]! - H[0]![1]! * H[1]![0]!;
  return [
    (H[1]![1]! * c[0]! - H[0]![1]! * c[1]!) / det,
    (H[0]![0]! * c[1]! - H[1]![0]! * c[0]!) / det,
  ];
}

Deno.test("decentLaM under bmuf: an exact average every tau steps", async () => {
  const plan = makePlan({
    workers: 4,
    optimizer: sgd({ lr: 0.1 }),
    base: decentLaM(ring, { beta: 0.5 }),
    outer: bmuf({ tau: 2, blockMomentum: 0 }),
    steps: 4,
  });
  const { history } = await runWorkers(plan, SHARDS_2D, X0_2D);
  for (const k of [1, 3]) {
    for (const model of history[k]!) assert.deepEqual(model, history[k]![0], `agree at ${k}`);
  }
  assert.notDeepEqual(history[0]![0], history[0]![1]);
});
