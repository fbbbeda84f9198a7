/**
 * The compressor slot: one file per kind, and the table that assembles them. Adding a compressor
 * is its file, its `export *` line, a line in the union and a row in the table below (`deno check`
 * fails until both agree), then its runtime file and a line in `runtime/compressors/registry.ts`.
 *
 * @module
 */

import type { CompressorDefinition } from "../kind.ts";
import { dqSgdKind, type DqSgdNode } from "./dq_sgd.ts";
import { fetchSgdKind, type FetchSgdNode } from "./fetch_sgd.ts";
import { qsgdKind, type QsgdNode } from "./qsgd.ts";
import { sketchedSgdKind, type SketchedSgdNode } from "./sketched_sgd.ts";
import { topKKind, type TopKNode } from "./top_k.ts";

export * from "./dq_sgd.ts";
export * from "./fetch_sgd.ts";
export * from "./qsgd.ts";
export * from "./sketched_sgd.ts";
export * from "./top_k.ts";

/** Any compressor. */
export type CompressorNode = QsgdNode | DqSgdNode | SketchedSgdNode | FetchSgdNode | TopKNode;

/** Compressor kinds. */
export type CompressorKind = CompressorNode["kind"];

/** The compressor node of kind `K`. */
export type CompressorNodeOf<K extends CompressorKind> = Extract<
  CompressorNode,
  { readonly kind: K }
>;

/**
 * Every compressor kind's definition: schema, printed form, traits (what it encodes, its algebra,
 * its bytes) and checks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { COMPRESSOR_KINDS, topK } from "./mod.ts";
 * // 10 float32 values and 10 indices of ⌈log2 1000⌉ = 10 bits.
 * assert.ok(COMPRESSOR_KINDS.topK.wireBytes(topK({ k: 10 }), 1000) === 40 + 13);
 * ```
 */
export const COMPRESSOR_KINDS: {
  readonly [K in CompressorKind]: CompressorDefinition<CompressorNodeOf<K>>;
} = {
  qsgd: qsgdKind,
  dqSgd: dqSgdKind,
  sketchedSgd: sketchedSgdKind,
  fetchSgd: fetchSgdKind,
  topK: topKKind,
};
