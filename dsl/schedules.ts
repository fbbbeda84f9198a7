/**
 * Learning-rate schedules: factories and the pure function `learningRate(schedule, k, steps)`
 * that every worker evaluates identically.
 *
 * @module
 */

import { deepFreeze } from "./_freeze.ts";
import type {
  ConstantSchedule,
  CosineSchedule,
  ScheduleNode,
  StepDecaySchedule,
  WarmupSchedule,
} from "./plan.ts";

/** A learning rate: a number (constant) or a schedule node. */
export type LearningRate = number | ScheduleNode;

/**
 * Normalises a number to a constant schedule and leaves schedules as they are.
 *
 * @param lr A number or a schedule.
 * @returns A schedule node.
 * @example
 * ```ts
 * import { toSchedule } from "./schedules.ts";
 * console.assert(toSchedule(0.1).kind === "constant");
 * ```
 */
export function toSchedule(lr: LearningRate): ScheduleNode {
  return typeof lr === "number" ? constantLr(lr) : lr;
}

/**
 * A constant learning rate.
 *
 * @param lr The learning rate.
 * @returns A `constant` schedule node.
 * @example
 * ```ts
 * import { constantLr } from "./schedules.ts";
 * console.assert(constantLr(0.1).lr === 0.1);
 * ```
 */
export function constantLr(lr: number): ConstantSchedule {
  return deepFreeze({ kind: "constant", lr });
}

/**
 * Step decay: `lr · factor^floor(k / every)`.
 *
 * @param options Base rate, decay factor (default 0.1) and period in steps.
 * @returns A `stepDecay` schedule node.
 * @example
 * ```ts
 * import { learningRate, stepDecay } from "./schedules.ts";
 * const s = stepDecay({ lr: 1, factor: 0.5, every: 10 });
 * console.assert(learningRate(s, 25, 100) === 0.25);
 * ```
 */
export function stepDecay(
  options: { readonly lr: number; readonly factor?: number; readonly every: number },
): StepDecaySchedule {
  return deepFreeze({
    kind: "stepDecay",
    lr: options.lr,
    factor: options.factor ?? 0.1,
    every: options.every,
  });
}

/**
 * Cosine annealing from `lr` to `minLr` over `steps` (default: the plan's steps).
 *
 * @param options Peak rate, floor (default 0) and length.
 * @returns A `cosine` schedule node.
 * @example
 * ```ts
 * import { cosine, learningRate } from "./schedules.ts";
 * console.assert(learningRate(cosine({ lr: 1 }), 50, 100) === 0.5);
 * ```
 */
export function cosine(
  options: { readonly lr: number; readonly minLr?: number; readonly steps?: number },
): CosineSchedule {
  return deepFreeze({
    kind: "cosine",
    lr: options.lr,
    minLr: options.minLr ?? 0,
    steps: options.steps ?? null,
  });
}

/**
 * Linear warm-up over `steps`: `then(k) · (k + 1) / steps` while `k < steps`, then `then(k)`.
 * The `k + 1` keeps step 0 positive, which algorithms that divide by the rate need.
 *
 * @param options Warm-up length and the schedule (or constant) it ramps up to.
 * @returns A `warmup` schedule node.
 * @example
 * ```ts
 * import { learningRate, warmup } from "./schedules.ts";
 * const s = warmup({ steps: 4, then: 0.4 });
 * console.assert(learningRate(s, 0, 100) === 0.1);
 * ```
 */
export function warmup(
  options: { readonly steps: number; readonly then: LearningRate },
): WarmupSchedule {
  return deepFreeze({ kind: "warmup", steps: options.steps, then: toSchedule(options.then) });
}

/**
 * The learning rate `γ_k` of step `k`.
 *
 * @param schedule The schedule.
 * @param k The step, from 0.
 * @param totalSteps The plan's steps (the default length of a cosine schedule).
 * @returns The learning rate.
 * @example
 * ```ts
 * import { constantLr, learningRate } from "./schedules.ts";
 * console.assert(learningRate(constantLr(0.1), 7, 10) === 0.1);
 * ```
 */
export function learningRate(schedule: ScheduleNode, k: number, totalSteps: number): number {
  switch (schedule.kind) {
    case "constant":
      return schedule.lr;
    case "stepDecay":
      return schedule.lr * schedule.factor ** Math.floor(k / schedule.every);
    case "cosine": {
      const length = schedule.steps ?? totalSteps;
      if (k >= length) return schedule.minLr;
      return schedule.minLr +
        (schedule.lr - schedule.minLr) * (1 + Math.cos(Math.PI * k / length)) / 2;
    }
    case "warmup": {
      const target = learningRate(schedule.then, k, totalSteps);
      return k < schedule.steps ? target * (k + 1) / schedule.steps : target;
    }
  }
}

/**
 * The smallest learning rate over steps `0..totalSteps−1`, with the first step that reaches it;
 * the validator uses it for algorithms that divide by the rate.
 *
 * @param schedule The schedule.
 * @param totalSteps The plan's steps.
 * @returns The minimum and its step.
 * @example
 * ```ts
 * import { cosine, minimumLearningRate } from "./schedules.ts";
 * console.assert(minimumLearningRate(cosine({ lr: 1 }), 10).step === 9);
 * ```
 */
export function minimumLearningRate(
  schedule: ScheduleNode,
  totalSteps: number,
): { readonly lr: number; readonly step: number } {
  let min = { lr: Infinity, step: 0 };
  for (let k = 0; k < totalSteps; k++) {
    const lr = learningRate(schedule, k, totalSteps);
    if (lr < min.lr) min = { lr, step: k };
  }
  return min;
}
