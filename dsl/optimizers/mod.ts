/**
 * The optimizer slot: one file per kind, and the table that assembles them. Adding an optimizer
 * is its file, its `export *` line, a line in the union and a row in the table below
 * (`deno check` fails until both agree).
 *
 * @module
 */

import type { OptimizerDefinition } from "../kind.ts";
import { adamKind, type AdamNode } from "./adam.ts";
import { adamwKind, type AdamwNode } from "./adamw.ts";
import { sgdKind, type SgdNode } from "./sgd.ts";

export * from "./adam.ts";
export * from "./adamw.ts";
export * from "./sgd.ts";

/** Any local optimizer. */
export type OptimizerNode = SgdNode | AdamNode | AdamwNode;

/** Optimizer kinds. */
export type OptimizerKind = OptimizerNode["kind"];

/**
 * The optimizers that always carry a momentum (Adam's and AdamW's moments), as a type the DSL's types read;
 * the table below holds it to each kind's `momentum`.
 */
export type MomentumOptimizerKind = "adam" | "adamw";

/** The optimizer node of kind `K`. */
export type OptimizerNodeOf<K extends OptimizerKind> = Extract<OptimizerNode, { readonly kind: K }>;

/**
 * Every optimizer kind's definition: schema, printed form, momentum and checks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OPTIMIZER_KINDS } from "./mod.ts";
 * assert.equal(OPTIMIZER_KINDS.adam.momentum, "always");
 * ```
 */
export const OPTIMIZER_KINDS: {
  readonly [K in OptimizerKind]: OptimizerDefinition<
    OptimizerNodeOf<K>,
    K extends MomentumOptimizerKind ? "always" : "field"
  >;
} = {
  sgd: sgdKind,
  adam: adamKind,
  adamw: adamwKind,
};
