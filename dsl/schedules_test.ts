import { deepEqual, equal, ok } from "node:assert/strict";
import {
  constantLr,
  cosine,
  firstNonPositiveStep,
  learningRate,
  stepDecay,
  toSchedule,
  warmup,
} from "./schedules.ts";

/** Asserts `actual` is within `1e-12` of `expected`. */
function near(actual: number, expected: number, tolerance = 1e-12): void {
  ok(
    Math.abs(actual - expected) <= tolerance,
    `expected ${expected}, got ${actual} (tolerance ${tolerance})`,
  );
}

// cos(π/4) = √2/2, cos(π/10) = √(10 + 2√5)/4 and cos(9π/10) = −cos(π/10), written out so the
// expectations below do not call the same Math.cos expression the implementation uses.
const COS_PI_4 = Math.SQRT2 / 2;
const COS_PI_10 = Math.sqrt(10 + 2 * Math.sqrt(5)) / 4;

Deno.test("schedule factories fill their documented defaults and freeze the node", () => {
  deepEqual(constantLr(0.1), { kind: "constant", lr: 0.1 });
  deepEqual(toSchedule(0.25), { kind: "constant", lr: 0.25 });
  deepEqual(stepDecay({ lr: 1, every: 10 }), { kind: "stepDecay", lr: 1, factor: 0.1, every: 10 });
  deepEqual(cosine({ lr: 0.5 }), { kind: "cosine", lr: 0.5, minLr: 0, steps: null });
  deepEqual(warmup({ steps: 4, then: 0.4 }), {
    kind: "warmup",
    steps: 4,
    then: { kind: "constant", lr: 0.4 },
  });
  const nested = warmup({ steps: 3, then: cosine({ lr: 1, steps: 20 }) });
  ok(Object.isFrozen(nested) && Object.isFrozen(nested.then));
  const node = cosine({ lr: 1 });
  equal(toSchedule(node), node, "a schedule node passes through toSchedule unchanged");
});

Deno.test("learningRate: constant ignores the step", () => {
  const s = constantLr(0.1);
  equal(learningRate(s, 0, 10), 0.1);
  equal(learningRate(s, 9, 10), 0.1);
  equal(learningRate(s, 1000, 10), 0.1);
});

Deno.test("learningRate: stepDecay multiplies by factor once per `every` steps", () => {
  const s = stepDecay({ lr: 1, factor: 0.5, every: 10 });
  equal(learningRate(s, 0, 100), 1);
  equal(learningRate(s, 9, 100), 1);
  equal(learningRate(s, 10, 100), 0.5);
  equal(learningRate(s, 19, 100), 0.5);
  equal(learningRate(s, 20, 100), 0.25);
  equal(learningRate(s, 35, 100), 0.125);
  // Default factor 0.1: 2 → 0.2 → 0.02.
  const tenth = stepDecay({ lr: 2, every: 5 });
  near(learningRate(tenth, 4, 100), 2);
  near(learningRate(tenth, 5, 100), 0.2);
  near(learningRate(tenth, 10, 100), 0.02);
  // Factor 0 reaches zero at the first decay and stays there.
  const cliff = stepDecay({ lr: 0.3, factor: 0, every: 30 });
  equal(learningRate(cliff, 29, 100), 0.3);
  equal(learningRate(cliff, 30, 100), 0);
  equal(learningRate(cliff, 99, 100), 0);
});

Deno.test("learningRate: cosine over the plan's steps (no explicit length)", () => {
  const s = cosine({ lr: 1 });
  equal(learningRate(s, 0, 100), 1);
  near(learningRate(s, 25, 100), (1 + COS_PI_4) / 2); // ≈ 0.853553
  near(learningRate(s, 50, 100), 0.5);
  near(learningRate(s, 75, 100), (1 - COS_PI_4) / 2); // ≈ 0.146447
  near(learningRate(s, 90, 100), (1 - COS_PI_10) / 2); // ≈ 0.0244717
  // Past the end: the floor.
  equal(learningRate(s, 100, 100), 0);
  equal(learningRate(s, 150, 100), 0);
  // The same schedule stretched over another run length.
  near(learningRate(s, 100, 200), 0.5);
});

Deno.test("learningRate: cosine with explicit steps and minLr ignores the plan's steps", () => {
  const s = cosine({ lr: 0.2, minLr: 0.02, steps: 20 });
  equal(learningRate(s, 0, 100), 0.2);
  near(learningRate(s, 5, 100), 0.02 + 0.18 * (1 + COS_PI_4) / 2);
  near(learningRate(s, 10, 100), 0.11);
  near(learningRate(s, 15, 100), 0.02 + 0.18 * (1 - COS_PI_4) / 2);
  // From step 20 on (past the end), minLr — even though the plan runs 100 steps.
  equal(learningRate(s, 20, 100), 0.02);
  equal(learningRate(s, 99, 100), 0.02);
});

Deno.test("learningRate: warmup ramps a number linearly with (k + 1) / steps", () => {
  const s = warmup({ steps: 4, then: 0.4 });
  near(learningRate(s, 0, 100), 0.1);
  near(learningRate(s, 1, 100), 0.2);
  near(learningRate(s, 2, 100), 0.3);
  near(learningRate(s, 3, 100), 0.4);
  equal(learningRate(s, 4, 100), 0.4);
  equal(learningRate(s, 99, 100), 0.4);
});

Deno.test("learningRate: warmup wrapping cosine scales the cosine value of the same step", () => {
  const s = warmup({ steps: 10, then: cosine({ lr: 1 }) });
  // k = 0: cosine gives 1, warm-up factor 1/10.
  near(learningRate(s, 0, 100), 0.1);
  // k = 4: cosine(4) = (1 + cos(4π/100))/2, factor 5/10.
  near(learningRate(s, 4, 100), ((1 + Math.cos(0.04 * Math.PI)) / 2) * 0.5);
  // k = 9: last warm-up step, factor 10/10.
  near(learningRate(s, 9, 100), (1 + Math.cos(0.09 * Math.PI)) / 2);
  // k = 10: warm-up over, plain cosine (1 + cos(π/10))/2 ≈ 0.975528.
  near(learningRate(s, 10, 100), (1 + COS_PI_10) / 2);
  near(learningRate(s, 50, 100), 0.5);
  equal(learningRate(s, 100, 100), 0);
});

Deno.test("learningRate: nested warm-ups multiply their ramps", () => {
  const s = warmup({ steps: 2, then: warmup({ steps: 4, then: 0.8 }) });
  // k = 0: inner 0.8 · 1/4 = 0.2, outer · 1/2 = 0.1.
  near(learningRate(s, 0, 10), 0.1);
  // k = 1: inner 0.8 · 2/4 = 0.4, outer · 2/2.
  near(learningRate(s, 1, 10), 0.4);
  near(learningRate(s, 2, 10), 0.6);
  near(learningRate(s, 4, 10), 0.8);
});

Deno.test("firstNonPositiveStep: positive schedules have none", () => {
  equal(firstNonPositiveStep(constantLr(0.1), 10), null);
  equal(firstNonPositiveStep(warmup({ steps: 4, then: 0.4 }), 10), null);
  equal(firstNonPositiveStep(stepDecay({ lr: 0.5, factor: 1, every: 2 }), 10), null);
  // A cosine over the run ends at (1 + cos(9π/10))/2 > 0 on its last step.
  equal(firstNonPositiveStep(cosine({ lr: 1 }), 10), null);
  equal(firstNonPositiveStep(cosine({ lr: 1, minLr: 0.25, steps: 4 }), 8), null);
});

Deno.test("firstNonPositiveStep: names the first step at 0", () => {
  equal(firstNonPositiveStep(constantLr(0), 100), 0);
  // factor 0: lr · 0^1 = 0 from the first decay at step 30.
  equal(firstNonPositiveStep(stepDecay({ lr: 1, factor: 0, every: 30 }), 100), 30);
  // ...but not when the run ends before it.
  equal(firstNonPositiveStep(stepDecay({ lr: 1, factor: 0, every: 30 }), 30), null);
  // A cosine of 50 steps reaches minLr 0 at step 50.
  equal(firstNonPositiveStep(cosine({ lr: 1, steps: 50 }), 100), 50);
  equal(firstNonPositiveStep(cosine({ lr: 0 }), 100), 0);
  equal(firstNonPositiveStep(warmup({ steps: 5, then: cosine({ lr: 1, steps: 20 }) }), 40), 20);
  // 0.5^1100 underflows to 0: the first such decay is found without walking every step.
  equal(firstNonPositiveStep(stepDecay({ lr: 1, factor: 0.5, every: 1 }), 1e9), 1075);
});

Deno.test("firstNonPositiveStep: a decaying step schedule stays positive over a short run", () => {
  // 1, 0.5, 0.25, 0.125 over steps 0–9, 10–19, 20–29, 30–39: all positive.
  equal(firstNonPositiveStep(stepDecay({ lr: 1, factor: 0.5, every: 10 }), 40), null);
});
