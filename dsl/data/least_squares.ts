/**
 * `leastSquares()`: the deterministic test problem, read from a shard file.
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { toPath } from "../_paths.ts";
import { nonEmpty } from "../fields.ts";
import { buildNode, type DataDefinition, type OptionNames } from "../kind.ts";

/**
 * The deterministic test problem: worker i holds `A_i`, `b_i` from a JSON file
 * `{"shards":[{"A":[[…]],"b":[…]}, …]}` and minimises `(1/(2 m_i)) ‖A_i x − b_i‖²` with
 * full-batch gradients.
 */
export interface LeastSquaresNode {
  /** Node kind, named after the DSL factory `leastSquares()`. */
  readonly kind: "leastSquares";
  /**
   * Path of the JSON shard file, one shard per worker; a relative path is resolved against the
   * working directory when the plan runs.
   */
  readonly file: string;
}

/** Options of {@linkcode leastSquares}. */
export interface LeastSquaresOptions {
  /**
   * JSON file `{"shards":[{"A":[[…]],"b":[…]}, …]}` with one shard per worker: a path relative to
   * the pipeline file (or plan file) it is written in, or a `file:` URL.
   */
  readonly file: string | URL;
}

const OPTIONS: OptionNames<LeastSquaresOptions> = { file: true };

/**
 * The deterministic test problem: worker i minimises `f_i(x) = (1/(2 m_i)) ‖A_i x − b_i‖²` over
 * its `m_i` rows with full-batch gradients `A_iᵀ(A_i x − b_i)/m_i`.
 *
 * @param options The shard file.
 * @returns A `leastSquares` data node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { leastSquares } from "./least_squares.ts";
 * assert.ok(leastSquares({ file: "shards.json" }).file === "shards.json");
 * ```
 */
export function leastSquares(options: LeastSquaresOptions): LeastSquaresNode {
  return buildNode({ kind: "leastSquares", file: toPath(options.file) }, options, OPTIONS);
}

/** Everything the plan layer knows about `leastSquares`. */
export const leastSquaresKind: DataDefinition<LeastSquaresNode> = {
  schema: v.strictObject({ kind: v.literal("leastSquares"), file: nonEmpty }),
  form: { make: leastSquares, required: ["file"] },
  // The file holds one shard per worker; its columns are known once it is read.
  shape: () => ({ task: "regression", features: null, classes: 1, image: null }),
};
