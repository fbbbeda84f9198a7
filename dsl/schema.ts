/**
 * The valibot schema of a plan: shapes, types and per-field ranges. Cross-slot rules (which
 * need the whole plan) live in `rules.ts`; `validate.ts` runs both.
 *
 * Objects are strict, so a misspelt key in a hand-written plan file is reported rather than
 * silently ignored.
 *
 * @module
 */

import * as v from "valibot";
import { PLAN_VERSION } from "./plan.ts";

/** An integer in `[min, max]`. */
function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return v.pipe(
    v.number(),
    v.integer(`must be an integer`),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  );
}

/** A finite number in `[min, max]`. */
function between(min: number, max: number) {
  return v.pipe(
    v.number(),
    v.finite("must be a finite number"),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  );
}

/** A finite number strictly greater than `min`. */
function above(min: number) {
  return v.pipe(
    v.number(),
    v.finite("must be a finite number"),
    v.gtValue(min, `must be greater than ${min}`),
  );
}

/** A momentum-like coefficient in `[0, 1)`. */
const momentum = v.pipe(
  v.number(),
  v.minValue(0, "must be at least 0"),
  v.ltValue(1, "must be less than 1"),
);
const nonNegative = between(0, Number.MAX_VALUE);
const probability = between(0, 1);
const buffers = v.picklist(["keep", "reset", "average"]);
const activation = v.picklist(["relu", "tanh", "sigmoid", "elu"]);

// Topologies -----------------------------------------------------------------------------------

const matrix = v.array(v.array(v.pipe(v.number(), v.finite("must be a finite number"))));
const topology = v.variant("kind", [
  v.strictObject({ kind: v.literal("ring") }),
  v.strictObject({
    kind: v.literal("torus"),
    rows: v.nullable(integer(1)),
    cols: v.nullable(integer(1)),
  }),
  v.strictObject({ kind: v.literal("exponential") }),
  v.strictObject({ kind: v.literal("onePeerExponential") }),
  v.strictObject({ kind: v.literal("complete") }),
  v.strictObject({ kind: v.literal("star"), hub: integer(0) }),
  v.strictObject({
    kind: v.literal("custom"),
    name: v.string(),
    source: v.string(),
    weights: v.pipe(v.array(matrix), v.minLength(1, "must hold at least one matrix")),
  }),
]);

// Models ---------------------------------------------------------------------------------------

const model = v.variant("kind", [
  v.strictObject({
    kind: v.literal("linear"),
    dim: integer(1),
    init: v.picklist(["zeros", "random"]),
  }),
  v.strictObject({
    kind: v.literal("logistic"),
    inputs: v.nullable(integer(1)),
    classes: v.nullable(integer(2)),
  }),
  v.strictObject({ kind: v.literal("mlp"), hidden: v.array(integer(1)), activation }),
  v.strictObject({
    kind: v.literal("cnn"),
    filters: v.tuple([integer(1), integer(1)]),
    kernel: integer(1),
    dense: v.array(integer(1)),
    activation,
  }),
  v.strictObject({
    kind: v.literal("custom"),
    module: v.pipe(v.string(), v.minLength(1, "must not be empty")),
    export: v.pipe(v.string(), v.minLength(1, "must not be empty")),
  }),
]);

// Data -----------------------------------------------------------------------------------------

const partition = v.variant("kind", [
  v.strictObject({ kind: v.literal("iid") }),
  v.strictObject({ kind: v.literal("dirichlet"), alpha: above(0) }),
  v.strictObject({ kind: v.literal("byLabel"), classesPerWorker: integer(1) }),
]);
const data = v.variant("kind", [
  v.strictObject({
    kind: v.literal("mnist"),
    partition,
    trainSize: integer(1, 10000),
    testSize: integer(1, 10000),
    batchSize: integer(1),
  }),
  v.strictObject({
    kind: v.literal("synthetic"),
    task: v.picklist(["classification", "regression"]),
    features: integer(1),
    classes: integer(1),
    trainSize: integer(1),
    testSize: integer(1),
    batchSize: integer(1),
    heterogeneity: probability,
    noise: nonNegative,
    seed: v.nullable(integer(0, 2 ** 32 - 1)),
  }),
  v.strictObject({
    kind: v.literal("leastSquares"),
    file: v.pipe(v.string(), v.minLength(1, "must not be empty")),
  }),
]);

// Optimizers -----------------------------------------------------------------------------------

/** Schedules nest (`warmup` wraps another), hence the lazy self-reference. */
const schedule: v.GenericSchema = v.variant("kind", [
  v.strictObject({ kind: v.literal("constant"), lr: nonNegative }),
  v.strictObject({
    kind: v.literal("stepDecay"),
    lr: nonNegative,
    factor: between(0, 1),
    every: integer(1),
  }),
  v.strictObject({
    kind: v.literal("cosine"),
    lr: nonNegative,
    minLr: nonNegative,
    steps: v.nullable(integer(1)),
  }),
  v.strictObject({
    kind: v.literal("warmup"),
    steps: integer(1),
    then: v.lazy(() => schedule),
  }),
]);
const optimizer = v.variant("kind", [
  v.strictObject({
    kind: v.literal("sgd"),
    lr: schedule,
    momentum,
    nesterov: v.boolean(),
    weightDecay: nonNegative,
  }),
  v.strictObject({
    kind: v.literal("adam"),
    lr: schedule,
    beta1: momentum,
    beta2: momentum,
    eps: above(0),
    biasCorrection: v.boolean(),
    amsgrad: v.boolean(),
    weightDecay: nonNegative,
  }),
]);

// Bases ----------------------------------------------------------------------------------------

const base = v.variant("kind", [
  v.strictObject({ kind: v.literal("allReduce") }),
  v.strictObject({ kind: v.literal("localSgd"), tau: integer(1), buffers }),
  v.strictObject({ kind: v.literal("gossip"), topology }),
  v.strictObject({ kind: v.literal("sgp"), topology }),
  v.strictObject({ kind: v.literal("dmSgd"), topology, beta: momentum }),
  v.strictObject({ kind: v.literal("decentLaM"), topology, beta: momentum }),
  v.strictObject({
    kind: v.literal("overlapLocalSgd"),
    tau: integer(1),
    alpha: between(0, 1),
    beta: momentum,
  }),
  v.strictObject({
    kind: v.literal("cada"),
    variant: v.picklist([1, 2]),
    c: nonNegative,
    dMax: integer(1),
    maxDelay: integer(1),
    beta1: momentum,
    beta2: momentum,
    eps: above(0),
    amsgrad: v.boolean(),
  }),
]);

// Compressors ----------------------------------------------------------------------------------

const compressor = v.variant("kind", [
  v.strictObject({ kind: v.literal("qsgd"), levels: integer(1, 2 ** 16 - 1), bucket: integer(1) }),
  v.strictObject({
    kind: v.literal("dqSgd"),
    minBits: integer(1, 16),
    maxBits: integer(1, 16),
    budgetBits: between(1, 16),
    bucket: integer(1),
  }),
  v.strictObject({
    kind: v.literal("sketchedSgd"),
    rows: integer(1),
    cols: integer(1),
    k: integer(1),
    p2: nonNegative,
    rho: momentum,
  }),
  v.strictObject({ kind: v.literal("topK"), k: integer(1), errorFeedback: v.boolean() }),
]);

// Outer and network ----------------------------------------------------------------------------

const outer = v.variant("kind", [
  v.strictObject({
    kind: v.literal("slowMo"),
    tau: integer(1),
    beta: momentum,
    alpha: above(0),
    buffers,
  }),
  v.strictObject({
    kind: v.literal("bmuf"),
    tau: integer(1),
    blockLr: above(0),
    blockMomentum: v.nullable(momentum),
    nesterov: v.boolean(),
  }),
]);
const networkNode = v.strictObject({
  kind: v.literal("network"),
  bandwidthBitsPerSecond: v.nullable(above(0)),
  latencyMs: nonNegative,
  jitterMs: nonNegative,
  links: v.array(v.strictObject({
    between: v.tuple([integer(0), integer(0)]),
    bandwidthBitsPerSecond: v.nullable(above(0)),
    latencyMs: v.nullable(nonNegative),
    jitterMs: v.nullable(nonNegative),
  })),
  stragglers: v.nullable(v.strictObject({
    ranks: v.array(integer(0)),
    probability,
    slowdown: between(1, Number.MAX_VALUE),
    delayMs: nonNegative,
  })),
  computeMs: v.nullable(nonNegative),
});

/** The whole plan. */
export const planSchema = v.strictObject({
  version: v.literal(PLAN_VERSION, `must be ${PLAN_VERSION}, the plan version this gossamer runs`),
  model,
  data,
  workers: integer(1, 4096),
  optimizer,
  base,
  compress: v.nullable(compressor),
  outer: v.nullable(outer),
  network: v.nullable(networkNode),
  steps: integer(1),
  evalEvery: integer(1),
  seed: integer(0, 2 ** 32 - 1),
});
