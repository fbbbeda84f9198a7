/**
 * The data slot: one file per kind, and the table that assembles them. Adding a data set is its
 * file, its `export *` line, a line in the union and a row in the table below (`deno check` fails
 * until both agree).
 *
 * @module
 */

import type { DataDefinition } from "../kind.ts";
import { leastSquaresKind, type LeastSquaresNode } from "./least_squares.ts";
import { mnistKind, type MnistNode } from "./mnist.ts";
import { syntheticKind, type SyntheticNode } from "./synthetic.ts";
import { tensorsKind, type TensorsNode } from "./tensors.ts";
import { textKind, type TextNode } from "./text.ts";

export * from "./least_squares.ts";
export * from "./mnist.ts";
export type { PartitionNode, PartitionOptions } from "./partition.ts";
export type { SampledDataOptions } from "./_sampled.ts";
export * from "./synthetic.ts";
export * from "./tensors.ts";
export * from "./text.ts";

/** Any data node. */
export type DataNode = MnistNode | SyntheticNode | LeastSquaresNode | TensorsNode | TextNode;

/** Data kinds. */
export type DataKind = DataNode["kind"];

/** The data node of kind `K`. */
export type DataNodeOf<K extends DataKind> = Extract<DataNode, { readonly kind: K }>;

/**
 * Every data kind's definition: schema, printed form, shape and checks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DATA_KINDS, synthetic } from "./mod.ts";
 * assert.equal(DATA_KINDS.synthetic.shape(synthetic({ features: 8 })).features, 8);
 * ```
 */
export const DATA_KINDS: { readonly [K in DataKind]: DataDefinition<DataNodeOf<K>> } = {
  mnist: mnistKind,
  synthetic: syntheticKind,
  leastSquares: leastSquaresKind,
  tensors: tensorsKind,
  text: textKind,
};
