/**
 * The coordinator's check of what the workers hand back: a member that reports a final model is
 * not trusted to have trained. Each final model must have the plan's number of parameters, hold
 * only finite values, and come from a worker whose metrics reached the plan's last step, so a
 * forged or broken `done` (NaN parameters, a vector of the wrong length, a model after 3 of 400
 * steps) fails the run naming the worker instead of ending it "completed".
 *
 * @module
 */

import type { Plan } from "../../dsl/plan.ts";
import { parameterCount } from "../../dsl/shapes.ts";

/**
 * Why the workers' final models cannot be the run's result, or `null` when they can.
 *
 * @param plan The plan that ran.
 * @param models Each worker's final model, by rank.
 * @param stepsDone The steps a worker's metrics say it did.
 * @param stepsExpected The steps a worker should have done: the plan's, fewer for a worker
 *   that left an elastic run, or `null` for one an elastic TCP run lost, which has no final
 *   model (default: the plan's steps for every worker).
 * @returns The first problem, naming the worker, or `null`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resultProblem } from "./check_results.ts";
 * import { allReduce, leastSquares, linear, sgd, train } from "../../mod.ts";
 *
 * const plan = train(linear({ dim: 2 })).data(leastSquares({ file: "unused.json" })).workers(2)
 *   .optimizer(sgd({ lr: 0.1 })).base(allReduce()).steps(5).compile();
 * const good = [Float32Array.of(1, 2), Float32Array.of(1, 2)];
 * assert.equal(resultProblem(plan, good, () => 5), null);
 * assert.match(resultProblem(plan, good, (rank) => rank === 1 ? 3 : 5)!, /Worker 1 .* after 3 of 5 steps/);
 * ```
 */
export function resultProblem(
  plan: Plan,
  models: readonly Float32Array[],
  stepsDone: (rank: number) => number,
  stepsExpected: (rank: number) => number | null = () => plan.steps,
): string | null {
  if (models.length !== plan.workers) {
    return `The run ended with ${models.length} final models for ${plan.workers} workers`;
  }
  const ranks = models.map((_, rank) => rank).filter((rank) => stepsExpected(rank) !== null);
  // A custom model's size is known only from its module: every worker must agree with the first.
  const expected = parameterCount(plan.model, plan.data) ?? models[ranks[0]!]?.length;
  for (const rank of ranks) {
    const model = models[rank];
    if (model === undefined) return `Worker ${rank} reported no final model`;
    if (model.length !== expected) {
      return `Worker ${rank} reported a final model of ${model.length} values; the plan's model has ${expected} parameters`;
    }
    const bad = model.findIndex((value) => !Number.isFinite(value));
    if (bad >= 0) {
      return `Worker ${rank} reported a final model holding ${model[bad]} (parameter ${bad})`;
    }
    const steps = stepsDone(rank);
    if (steps !== stepsExpected(rank)) {
      return `Worker ${rank} reported a final model after ${steps} of ${stepsExpected(rank)} steps`;
    }
  }
  return null;
}
