/**
 * Field types and ranges that several kinds share: integers in a range, momentum-like
 * coefficients, the optimizer-buffer policy, activations and topologies. Each kind's file builds
 * its schema from these, so a range is written once.
 *
 * Objects are strict, so a misspelt key in a hand-written plan file is reported rather than
 * silently ignored.
 *
 * @module
 */

import * as v from "../deps/valibot.ts";
import type { TopologyNode } from "../topologies/types.ts";

/** Activation functions available to built-in models. */
export type Activation = "relu" | "tanh" | "sigmoid" | "elu";

/** What happens to optimizer buffers when models are averaged. */
export type BufferPolicy = "keep" | "reset" | "average";

/**
 * An integer in `[min, max]`.
 *
 * @param min The least value accepted.
 * @param max The greatest value accepted.
 * @returns The schema.
 */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): v.GenericSchema<number> {
  return v.pipe(
    v.number(),
    v.integer(`must be an integer`),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  );
}

/**
 * A finite number in `[min, max]`.
 *
 * @param min The least value accepted.
 * @param max The greatest value accepted.
 * @returns The schema.
 */
export function between(min: number, max: number): v.GenericSchema<number> {
  return v.pipe(
    v.number(),
    v.finite("must be a finite number"),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  );
}

/**
 * A finite number strictly greater than `min`.
 *
 * @param min The bound, excluded.
 * @returns The schema.
 */
export function above(min: number): v.GenericSchema<number> {
  return v.pipe(
    v.number(),
    v.finite("must be a finite number"),
    v.gtValue(min, `must be greater than ${min}`),
  );
}

/** A momentum-like coefficient in `[0, 1)`. */
export const momentum: v.GenericSchema<number> = v.pipe(
  v.number(),
  v.minValue(0, "must be at least 0"),
  v.ltValue(1, "must be less than 1"),
);
/**
 * An optimizer's gradient clipping threshold `c` (docs/algorithms.md §0.1): a finite number
 * greater than 0. The key is left out for no clipping, so plans written before clipping existed
 * load, and hash, as they did.
 */
export const clipNorm = v.exactOptional(above(0));
/** A finite number ≥ 0. */
export const nonNegative: v.GenericSchema<number> = between(0, Number.MAX_VALUE);
/** A probability in `[0, 1]`. */
export const probability: v.GenericSchema<number> = between(0, 1);
/** A non-empty text. */
export const nonEmpty: v.GenericSchema<string> = v.pipe(
  v.string(),
  v.minLength(1, "must not be empty"),
);
/** {@linkcode BufferPolicy}. */
export const buffers: v.GenericSchema<BufferPolicy> = v.picklist(["keep", "reset", "average"]);
/** {@linkcode Activation}. */
export const activation: v.GenericSchema<Activation> = v.picklist([
  "relu",
  "tanh",
  "sigmoid",
  "elu",
]);

const matrix = v.array(v.array(v.pipe(v.number(), v.finite("must be a finite number"))));

/** Any topology node (`topologies/types.ts`). */
export const topology: v.GenericSchema<unknown, TopologyNode> = v.variant("kind", [
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
