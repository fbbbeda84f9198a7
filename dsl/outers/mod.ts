/**
 * The outer slot: one file per kind, and the table that assembles them. Adding an outer algorithm
 * is its file, its `export *` line, a line in the union and a row in the table below (`deno check`
 * fails until both agree), then its runtime file and a line in `runtime/algorithms/registry.ts`.
 *
 * @module
 */

import type { OuterDefinition } from "../kind.ts";
import { bmufKind, type BmufNode } from "./bmuf.ts";
import { dilocoKind, type DilocoNode } from "./diloco.ts";
import { slowMoKind, type SlowMoNode } from "./slow_mo.ts";
import { sparseLocoKind, type SparseLocoNode } from "./sparse_loco.ts";
import { streamingDilocoKind, type StreamingDilocoNode } from "./streaming_diloco.ts";

export * from "./bmuf.ts";
export * from "./diloco.ts";
export * from "./slow_mo.ts";
export * from "./sparse_loco.ts";
export * from "./streaming_diloco.ts";

/** Any outer algorithm. */
export type OuterNode =
  | SlowMoNode
  | BmufNode
  | DilocoNode
  | StreamingDilocoNode
  | SparseLocoNode;

/** Outer kinds. */
export type OuterKind = OuterNode["kind"];

/** The outer node of kind `K`. */
export type OuterNodeOf<K extends OuterKind> = Extract<OuterNode, { readonly kind: K }>;

/**
 * Every outer kind's definition: schema, printed form, traits and traffic.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OUTER_KINDS, slowMo } from "./mod.ts";
 * // One ring all-reduce of 1000 floats among 4 workers (6000 bytes) every 4 steps.
 * assert.equal(OUTER_KINDS.slowMo.traffic(slowMo({ tau: 4 }), 1000, 4, [1000]), 1500);
 * ```
 */
export const OUTER_KINDS: { readonly [K in OuterKind]: OuterDefinition<OuterNodeOf<K>> } = {
  slowMo: slowMoKind,
  bmuf: bmufKind,
  diloco: dilocoKind,
  sparseLoco: sparseLocoKind,
  streamingDiloco: streamingDilocoKind,
};
