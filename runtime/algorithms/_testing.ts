/**
 * Test support for the algorithm tests: a tiny heterogeneous least-squares problem with its
 * float64 gradient, plan construction, a driver that runs `n` workers concurrently in one thread
 * over memory communicators through the worker loop's own step driver, and float64 matrix
 * helpers for the independent references each test writes.
 *
 * Nothing here uses the runtime's models or data: the expectations stay independent of them.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { BaseNode, CompressorNode, OptimizerNode, OuterNode, Plan } from "../../dsl/plan.ts";
import { PLAN_VERSION } from "../../dsl/plan.ts";
import { createMemoryCommunicators } from "../comm/memory_transport.ts";
import type { Communicator } from "../comm/types.ts";
import type { StepMetrics } from "../metrics.ts";
import { createTrainingChain, type TrainingChain } from "./chain.ts";
import type { BaseAlgorithm, LocalOptimizer } from "./types.ts";

/** Worker i's data: `f_i(x) = (1/(2 m_i)) ‖A_i x − b_i‖²`. */
export interface Shard {
  readonly A: readonly (readonly number[])[];
  readonly b: readonly number[];
}

/** Five heterogeneous shards in two dimensions (2 or 3 rows each). */
export const SHARDS_2D: readonly Shard[] = [
  { A: [[1, 2], [0.5, -1]], b: [1, 0] },
  { A: [[2, 0], [1, 1], [0, 1]], b: [2, -1, 0.5] },
  { A: [[-1, 1], [3, 0.5]], b: [0, 1.5] },
  { A: [[0.5, 0.5], [1, -2], [2, 1]], b: [-1, 1, 2] },
  { A: [[1, 0], [0, 2]], b: [0.5, -0.5] },
];

/** Four heterogeneous shards in three dimensions. */
export const SHARDS_3D: readonly Shard[] = [
  { A: [[1, 0, 2], [0, 1, -1]], b: [1, 2] },
  { A: [[2, 1, 0], [0, 0, 1], [1, -1, 1]], b: [0, 1, -1] },
  { A: [[0.5, 0.5, 0.5], [1, 2, 0]], b: [2, 0] },
  { A: [[-1, 0, 1], [0, 1, 1]], b: [0.5, 1] },
];

/** Initial models used by the tests. */
export const X0_2D: readonly number[] = [0.5, -1];
/** Initial 3-d model. */
export const X0_3D: readonly number[] = [0.2, -0.4, 0.1];

/** Float64 vectors and matrices. */
export type Vec = number[];
/** Rows are workers. */
export type Mat = number[][];

/**
 * Loss and gradient of a shard at `x`, in float64: `∇ = A_iᵀ(A_i x − b_i)/m_i`.
 *
 * @param shard The shard.
 * @param x The parameters.
 * @returns Loss and gradient.
 */
export function lsGradient(shard: Shard, x: ArrayLike<number>): { loss: number; grad: Vec } {
  const m = shard.A.length;
  const d = shard.A[0]!.length;
  const grad = new Array<number>(d).fill(0);
  let loss = 0;
  for (let r = 0; r < m; r++) {
    const row = shard.A[r]!;
    let residual = -shard.b[r]!;
    for (let c = 0; c < d; c++) residual += row[c]! * x[c]!;
    loss += residual * residual / (2 * m);
    for (let c = 0; c < d; c++) grad[c]! += row[c]! * residual / m;
  }
  return { loss, grad };
}

/**
 * A plan around the given slots (model and data are placeholders the algorithms ignore).
 *
 * @param options Slots, workers and steps.
 * @returns The plan.
 */
export function makePlan(options: {
  readonly workers: number;
  readonly optimizer: OptimizerNode;
  readonly base: BaseNode;
  readonly outer?: OuterNode | null;
  readonly compress?: CompressorNode | null;
  readonly steps: number;
  readonly dim?: number;
}): Plan {
  return {
    version: PLAN_VERSION,
    model: { kind: "linear", dim: options.dim ?? 2, init: "zeros" },
    data: { kind: "leastSquares", file: "unused.json" },
    workers: options.workers,
    optimizer: options.optimizer,
    base: options.base,
    compress: options.compress ?? null,
    outer: options.outer ?? null,
    network: null,
    elastic: null,
    steps: options.steps,
    evalEvery: options.steps,
    seed: 0,
  };
}

/** What `runWorkers` returns. */
export interface RunResult {
  /** Each worker's reported model after every step (after the outer algorithm), by step. */
  readonly history: Float32Array[][];
  /** Each worker's final model. */
  readonly models: Float32Array[];
  /** Each worker's losses, by step. */
  readonly losses: number[][];
  /** Each worker's step metrics, by step. */
  readonly metrics: StepMetrics[][];
  /** Each worker's step driver. */
  readonly chains: TrainingChain[];
  readonly bases: BaseAlgorithm[];
  readonly optimizers: LocalOptimizer[];
  readonly comms: Communicator[];
}

/**
 * One worker's step driver on a least-squares shard, as the worker loop builds it.
 *
 * @param plan The plan.
 * @param comm The worker's communicator.
 * @param shard Its shard.
 * @param x0 The common initial model.
 * @param variables The model's variable sizes in order (default one variable of all of `x0`).
 * @returns The chain.
 */
export function leastSquaresChain(
  plan: Plan,
  comm: Communicator,
  shard: Shard,
  x0: readonly number[],
  variables?: readonly number[],
): TrainingChain {
  return createTrainingChain({
    plan,
    comm,
    x0: Float32Array.from(x0),
    ...(variables === undefined ? {} : { variables }),
    gradient: (params) => {
      const { loss, grad } = lsGradient(shard, params);
      return Promise.resolve({ loss, grad: Float32Array.from(grad) });
    },
  });
}

/**
 * Runs a plan on `plan.workers` workers concurrently in this thread, each with its own memory
 * communicator and shard, through the same step driver as the worker loop
 * (`createTrainingChain`).
 *
 * @param plan The plan.
 * @param shards One shard per worker.
 * @param x0 The common initial model.
 * @param options `variables`: the model's variable sizes in order (default one variable of all
 *   of `x0`), for algorithms that work per variable (Streaming DiLoCo's fragments).
 * @returns Models, per-step history and the algorithm objects.
 */
export async function runWorkers(
  plan: Plan,
  shards: readonly Shard[],
  x0: readonly number[],
  options: { readonly variables?: readonly number[] } = {},
): Promise<RunResult> {
  const n = plan.workers;
  const comms = createMemoryCommunicators(n);
  const history: Float32Array[][] = Array.from({ length: plan.steps }, () => []);
  const losses: number[][] = Array.from({ length: n }, () => []);
  const metrics: StepMetrics[][] = Array.from({ length: n }, () => []);
  const chains: TrainingChain[] = [];
  const models = await Promise.all(comms.map(async (comm, rank) => {
    const chain = leastSquaresChain(plan, comm, shards[rank]!, x0, options.variables);
    chains[rank] = chain;
    for (let k = 0; k < plan.steps; k++) {
      const step = await chain.step(k);
      losses[rank]!.push(step.loss);
      metrics[rank]!.push(step.metrics);
      history[k]![rank] = chain.model();
    }
    await chain.finish();
    return chain.model();
  }));
  return {
    history,
    models,
    losses,
    metrics,
    chains,
    bases: chains.map((chain) => chain.parts.base),
    optimizers: chains.map((chain) => chain.parts.optimizer),
    comms,
  };
}

/**
 * The data of the buffer named `name` of a worker's step, for assertions.
 *
 * @param chain The worker's step driver.
 * @param name The buffer's name, e.g. `"sgd.velocity"`.
 * @returns The live buffer data.
 */
export function bufferOf(chain: TrainingChain, name: string): Float32Array | Float64Array {
  const found = chain.buffers().find((buffer) => buffer.name === name);
  assert.ok(found !== undefined, `no buffer "${name}"`);
  return found.data;
}

/**
 * Float64 gradients of every worker at its own row of `X`.
 *
 * @param shards The shards.
 * @param X One model per worker.
 * @returns One gradient per worker.
 */
export function gradients(shards: readonly Shard[], X: Mat): Mat {
  return X.map((x, i) => lsGradient(shards[i]!, x).grad);
}

/**
 * `W X` for an n×n `W`.
 *
 * @param W The mixing matrix.
 * @param X The stacked models.
 * @returns The product.
 */
export function matmul(W: Mat, X: Mat): Mat {
  return W.map((row) => X[0]!.map((_, c) => row.reduce((s, w, j) => s + w * X[j]![c]!, 0)));
}

/**
 * The mean of the rows.
 *
 * @param X The stacked models.
 * @returns `avg_i X_i`.
 */
export function meanRow(X: Mat): Vec {
  return X[0]!.map((_, c) => X.reduce((s, row) => s + row[c]!, 0) / X.length);
}

/**
 * `a + s · b`.
 *
 * @param a A vector.
 * @param s A scalar.
 * @param b A vector.
 * @returns The combination.
 */
export function axpy(a: Vec, s: number, b: Vec): Vec {
  return a.map((value, c) => value + s * b[c]!);
}

/**
 * `n` copies of `x`.
 *
 * @param n How many.
 * @param x The row.
 * @returns The stacked copies.
 */
export function repeat(n: number, x: readonly number[]): Mat {
  return Array.from({ length: n }, () => [...x]);
}

/**
 * Asserts two vectors agree within `tol` (absolute, plus relative to the expected magnitude).
 *
 * @param actual The computed vector.
 * @param expected The reference.
 * @param tol The tolerance.
 * @param message What is compared.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol = 1e-5,
  message = "",
): void {
  assert.equal(actual.length, expected.length, `${message}: length`);
  for (let c = 0; c < expected.length; c++) {
    const a = actual[c]!;
    const e = expected[c]!;
    assert.ok(
      Math.abs(a - e) <= tol * (1 + Math.abs(e)),
      `${message}[${c}]: ${a} is not within ${tol} of ${e}\n  actual:   ${
        Array.from(actual).join(", ")
      }\n  expected: ${Array.from(expected).join(", ")}`,
    );
  }
}

/**
 * Asserts every worker's model matches the reference rows.
 *
 * @param models The workers' models.
 * @param X The reference rows.
 * @param tol The tolerance.
 * @param message What is compared.
 */
export function assertRowsClose(
  models: readonly ArrayLike<number>[],
  X: Mat,
  tol = 1e-5,
  message = "",
): void {
  assert.equal(models.length, X.length, `${message}: workers`);
  models.forEach((model, i) => assertClose(model, X[i]!, tol, `${message} worker ${i}`));
}

/** The ring's mixing matrix for 4 workers, written out by hand (docs/algorithms.md §1.8). */
export const RING_4: Mat = [
  [1 / 3, 1 / 3, 0, 1 / 3],
  [1 / 3, 1 / 3, 1 / 3, 0],
  [0, 1 / 3, 1 / 3, 1 / 3],
  [1 / 3, 0, 1 / 3, 1 / 3],
];

/** Adam's hyper-parameters, as the float64 reference takes them. */
export interface AdamReferenceSettings {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly biasCorrection: boolean;
  readonly amsgrad: boolean;
}

/**
 * Float64 Adam for `n` workers, written from docs/algorithms.md §0.1 and independent of the
 * runtime's optimizer: each worker's moments and its own count of directions, which a reset
 * restarts.
 */
export class AdamReference {
  M: Mat;
  V: Mat;
  VMax: Mat;
  counts: number[];

  /**
   * @param n Workers.
   * @param d Parameters.
   * @param settings `β1`, `β2`, `eps`, bias correction and AMSGrad.
   */
  constructor(readonly n: number, readonly d: number, readonly settings: AdamReferenceSettings) {
    this.M = repeat(n, new Array(d).fill(0));
    this.V = repeat(n, new Array(d).fill(0));
    this.VMax = repeat(n, new Array(d).fill(0));
    this.counts = new Array(n).fill(0);
  }

  /** Worker `i`'s direction for gradient `g`; updates its moments and count. */
  direction(i: number, g: Vec): Vec {
    const { beta1, beta2, eps, biasCorrection, amsgrad } = this.settings;
    const t = ++this.counts[i]!;
    const c1 = biasCorrection ? 1 - beta1 ** t : 1;
    const c2 = biasCorrection ? 1 - beta2 ** t : 1;
    return g.map((gc, c) => {
      const m = this.M[i]![c] = beta1 * this.M[i]![c]! + (1 - beta1) * gc;
      const v = this.V[i]![c] = beta2 * this.V[i]![c]! + (1 - beta2) * gc * gc;
      const vHat = amsgrad ? (this.VMax[i]![c] = Math.max(this.VMax[i]![c]!, v)) : v;
      return (m / c1) / (Math.sqrt(vHat / c2) + eps);
    });
  }

  /** Every worker's directions, one gradient each. */
  directions(G: Mat): Mat {
    return G.map((g, i) => this.direction(i, g));
  }

  /** The `"reset"` buffer policy: zero moments, counts restart. */
  reset(): void {
    const fresh = new AdamReference(this.n, this.d, this.settings);
    [this.M, this.V, this.VMax, this.counts] = [fresh.M, fresh.V, fresh.VMax, fresh.counts];
  }

  /** The `"average"` buffer policy: every moment replaced by its mean over workers. */
  average(): void {
    this.M = repeat(this.n, meanRow(this.M));
    this.V = repeat(this.n, meanRow(this.V));
    this.VMax = repeat(this.n, meanRow(this.VMax));
  }
}
