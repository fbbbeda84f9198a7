/**
 * Learning-rate schedules: their nodes, schema and printed forms, the factories, and the pure
 * function `learningRate(schedule, k, steps)` that every worker evaluates identically. Schedules
 * are values inside an optimizer's `lr`, not a slot of their own, so their few kinds share this
 * file.
 *
 * @module
 */

import { buildNode, type Form, type NodeIssue, type OptionNames } from "./kind.ts";

/** Constant learning rate. */
export interface ConstantSchedule {
  /** Node kind; built by `constantLr()` or from a bare number. */
  readonly kind: "constant";
  /** The learning rate of every step (≥ 0). */
  readonly lr: number;
}

/** `lr · factor^floor(k / every)`. */
export interface StepDecaySchedule {
  /** Node kind, named after the DSL factory `stepDecay()`. */
  readonly kind: "stepDecay";
  /** Learning rate of the first period. */
  readonly lr: number;
  /** Multiplier applied at the end of every period, in `[0, 1]`. */
  readonly factor: number;
  /** Period length, in steps. */
  readonly every: number;
}

/** Cosine from `lr` down to `minLr` over `steps` (`null`: the plan's steps), then `minLr`. */
export interface CosineSchedule {
  /** Node kind, named after the DSL factory `cosine()`. */
  readonly kind: "cosine";
  /** Learning rate at step 0. */
  readonly lr: number;
  /** Floor reached at the end of the decay and kept after it. */
  readonly minLr: number;
  /** Length of the decay, in steps; `null` means the plan's `steps`. */
  readonly steps: number | null;
}

/** Linear warm-up: `then(k) · (k + 1) / steps` for `k < steps`, then `then(k)`. */
export interface WarmupSchedule {
  /** Node kind, named after the DSL factory `warmup()`. */
  readonly kind: "warmup";
  /** Length of the warm-up, in steps. */
  readonly steps: number;
  /** The schedule ramped up to, and followed after the warm-up. */
  readonly then: ScheduleNode;
}

/** Any learning-rate schedule: a pure function of the step. */
export type ScheduleNode = ConstantSchedule | StepDecaySchedule | CosineSchedule | WarmupSchedule;

/** A learning rate: a number (constant) or a schedule node. */
export type LearningRate = number | ScheduleNode;

/**
 * Normalises a number to a constant schedule and leaves schedules as they are.
 *
 * @param lr A number or a schedule.
 * @returns A schedule node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toSchedule } from "./schedules.ts";
 * assert.ok(toSchedule(0.1).kind === "constant");
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
 * import assert from "node:assert/strict";
 * import { constantLr } from "./schedules.ts";
 * assert.ok(constantLr(0.1).lr === 0.1);
 * ```
 */
export function constantLr(lr: number): ConstantSchedule {
  return buildNode({ kind: "constant", lr }, undefined, {});
}

/** Options of {@linkcode stepDecay}. */
export interface StepDecayOptions {
  /** Learning rate of the first period. */
  readonly lr: number;
  /** Multiplier at the end of every period (default 0.1). */
  readonly factor?: number;
  /** Period length, in steps. */
  readonly every: number;
}

const STEP_DECAY_OPTIONS: OptionNames<StepDecayOptions> = { lr: true, factor: true, every: true };

/**
 * Step decay: `lr · factor^floor(k / every)`.
 *
 * @param options Base rate, decay factor (default 0.1) and period in steps.
 * @returns A `stepDecay` schedule node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { learningRate, stepDecay } from "./schedules.ts";
 * const s = stepDecay({ lr: 1, factor: 0.5, every: 10 });
 * assert.ok(learningRate(s, 25, 100) === 0.25);
 * ```
 */
export function stepDecay(options: StepDecayOptions): StepDecaySchedule {
  return buildNode(
    { kind: "stepDecay", lr: options.lr, factor: options.factor ?? 0.1, every: options.every },
    options,
    STEP_DECAY_OPTIONS,
  );
}

/** Options of {@linkcode cosine}. */
export interface CosineOptions {
  /** Learning rate at step 0. */
  readonly lr: number;
  /** Floor reached at the end (default 0). */
  readonly minLr?: number;
  /** Length of the decay (default: the plan's steps). */
  readonly steps?: number;
}

const COSINE_OPTIONS: OptionNames<CosineOptions> = { lr: true, minLr: true, steps: true };

/**
 * Cosine annealing from `lr` to `minLr` over `steps` (default: the plan's steps).
 *
 * @param options Peak rate, floor (default 0) and length.
 * @returns A `cosine` schedule node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cosine, learningRate } from "./schedules.ts";
 * assert.ok(learningRate(cosine({ lr: 1 }), 50, 100) === 0.5);
 * ```
 */
export function cosine(options: CosineOptions): CosineSchedule {
  return buildNode(
    { kind: "cosine", lr: options.lr, minLr: options.minLr ?? 0, steps: options.steps ?? null },
    options,
    COSINE_OPTIONS,
  );
}

/** Options of {@linkcode warmup}. */
export interface WarmupOptions {
  /** Length of the warm-up, in steps. */
  readonly steps: number;
  /** The schedule (or constant) ramped up to and followed after. */
  readonly then: LearningRate;
}

const WARMUP_OPTIONS: OptionNames<WarmupOptions> = { steps: true, then: true };

/**
 * Linear warm-up over `steps`: `then(k) · (k + 1) / steps` while `k < steps`, then `then(k)`.
 * The `k + 1` keeps step 0 positive, which algorithms that divide by the rate need.
 *
 * @param options Warm-up length and the schedule (or constant) it ramps up to.
 * @returns A `warmup` schedule node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { learningRate, warmup } from "./schedules.ts";
 * const s = warmup({ steps: 4, then: 0.4 });
 * assert.ok(learningRate(s, 0, 100) === 0.1);
 * ```
 */
export function warmup(options: WarmupOptions): WarmupSchedule {
  return buildNode(
    { kind: "warmup", steps: options.steps, then: toSchedule(options.then) },
    options,
    WARMUP_OPTIONS,
  );
}

/**
 * How each schedule is printed as DSL (a constant is printed as its number, so it has no form).
 */
export const SCHEDULE_FORMS: { readonly [K in Exclude<ScheduleNode["kind"], "constant">]: Form } = {
  stepDecay: { make: stepDecay, required: ["lr", "every"] },
  cosine: { make: cosine, required: ["lr"] },
  warmup: { make: warmup, required: ["steps", "then"] },
};

/**
 * A schedule's own problems: a cosine whose floor is above its peak, however deep in warm-ups.
 *
 * @param schedule The schedule.
 * @returns Issues, their paths relative to the schedule (`"then.minLr"`).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cosine, scheduleIssues, warmup } from "./schedules.ts";
 * assert.equal(scheduleIssues(warmup({ steps: 2, then: cosine({ lr: 1, minLr: 2 }) }))[0]?.path, "then.minLr");
 * ```
 */
export function scheduleIssues(schedule: ScheduleNode): NodeIssue[] {
  let inner = schedule;
  let path = "";
  while (inner.kind === "warmup") {
    inner = inner.then;
    path += "then.";
  }
  if (inner.kind !== "cosine" || inner.minLr <= inner.lr) return [];
  return [{
    path: `${path}minLr`,
    message: `cosine minLr ${inner.minLr} is larger than lr ${inner.lr}`,
    expected: `at most ${inner.lr}`,
    received: inner.minLr,
  }];
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
 * import assert from "node:assert/strict";
 * import { constantLr, learningRate } from "./schedules.ts";
 * assert.ok(learningRate(constantLr(0.1), 7, 10) === 0.1);
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
 * The first step in `0..totalSteps−1` whose learning rate is not positive, or `null` when every
 * step's rate is positive; the validator uses it for algorithms that divide by the rate. Closed
 * form per schedule (all are non-increasing after warm-up), so it costs O(1) however long the
 * run.
 *
 * @param schedule The schedule.
 * @param totalSteps The plan's steps.
 * @returns The first step with `γ_k ≤ 0`, or `null`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cosine, firstNonPositiveStep } from "./schedules.ts";
 * assert.ok(firstNonPositiveStep(cosine({ lr: 1 }), 10) === null);
 * assert.ok(firstNonPositiveStep(cosine({ lr: 1, steps: 5 }), 10) === 5);
 * ```
 */
export function firstNonPositiveStep(schedule: ScheduleNode, totalSteps: number): number | null {
  const positive = (k: number) => learningRate(schedule, k, totalSteps) > 0;
  switch (schedule.kind) {
    case "constant":
      return schedule.lr > 0 ? null : 0;
    case "stepDecay": {
      // γ = lr·factor^m on [m·every, (m+1)·every): find the first m where it is (or underflows
      // to) zero; a positive factor underflows within ~1100 decays, so the loop is bounded.
      for (let m = 0; m * schedule.every < totalSteps && m <= 2000; m++) {
        if (!positive(m * schedule.every)) return m * schedule.every;
      }
      return null;
    }
    case "cosine": {
      // Decreasing to minLr at `length`, then flat: check step 0, `length` and the last step.
      const length = schedule.steps ?? totalSteps;
      const candidates = [0, Math.min(length, totalSteps - 1), totalSteps - 1];
      for (const k of candidates) if (!positive(k)) return k <= length ? firstCosineZero(k) : k;
      return null;
    }
    case "warmup":
      // The ramp factor (k + 1)/steps is positive, so only the wrapped schedule matters.
      return firstNonPositiveStep(schedule.then, totalSteps);
  }

  /** A cosine is decreasing before its length, so its first non-positive step is found by bisection below `k`. */
  function firstCosineZero(k: number): number {
    let low = 0;
    let high = k;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if (positive(middle)) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
