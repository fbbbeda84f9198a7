/**
 * `sparseLoco({ tau, k, chunk, bits, beta, lr })`: SparseLoCo's outer step, chunked top-k of an
 * error-feedback accumulator, quantized and all-gathered (docs/algorithms.md §2.5).
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { above, integer, momentum } from "../fields.ts";
import { buildNode, type NodeIssue, type OptionNames, type OuterDefinition } from "../kind.ts";
import { allGatherBytes, FLOAT_BYTES, indexBits } from "../wire_bytes.ts";

/** The widest quantized level, in bits; `32` (float32 values, unquantized) is also accepted. */
const MAX_LEVEL_BITS = 8;

/**
 * SparseLoCo: every `tau` steps each worker sends the `k` largest entries per chunk of its
 * error-feedback accumulator, quantized, and every worker restarts from the shared model.
 */
export interface SparseLocoNode {
  /** Node kind, named after the DSL factory `sparseLoco()`. */
  readonly kind: "sparseLoco";
  /** Inner steps between outer steps. */
  readonly tau: number;
  /** Values kept per chunk, 1 to `chunk`. */
  readonly k: number;
  /** Consecutive coordinates per chunk, at least 2; indices in a chunk take `⌈log2 chunk⌉` bits. */
  readonly chunk: number;
  /** Bits per kept value: 1 to 8 (quantized levels), or 32 (float32 values, unquantized). */
  readonly bits: number;
  /** Error-feedback decay `β`, in `[0, 1)`. */
  readonly beta: number;
  /** Outer learning rate (> 0) applied to the averaged sparse pseudo-gradient. */
  readonly lr: number;
}

/** Options of {@linkcode sparseLoco}. */
export interface SparseLocoOptions {
  /** Inner steps between outer steps. */
  readonly tau: number;
  /** Values kept per chunk. */
  readonly k: number;
  /** Coordinates per chunk (default 4096). */
  readonly chunk?: number;
  /** Bits per kept value, 1 to 8 or 32 (default 2). */
  readonly bits?: number;
  /** Error-feedback decay β (default 0.95). */
  readonly beta?: number;
  /** Outer learning rate (default 1). */
  readonly lr?: number;
}

const OPTIONS: OptionNames<SparseLocoOptions> = {
  tau: true,
  k: true,
  chunk: true,
  bits: true,
  beta: true,
  lr: true,
};

/**
 * SparseLoCo (Sarfi et al. 2025): every `tau` steps, worker i folds its pseudo-gradient into its
 * error feedback, `e_i = β e_i + (θ − x_i)`, keeps the `k` largest `|e_i|` in each chunk of
 * `chunk` coordinates, quantizes them to `bits` bits, and subtracts what it sent from `e_i`; the
 * codes are all-gathered, `θ −= lr · avg_i(sent_i)`, and every worker restarts from `θ`. The
 * error feedback stands in for DiLoCo's outer momentum.
 *
 * @param options Period, values kept per chunk, chunk size (default 4096), bits (default 2),
 *   error-feedback decay (default 0.95) and outer rate (default 1).
 * @returns A `sparseLoco` outer node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sparseLoco } from "./sparse_loco.ts";
 * const node = sparseLoco({ tau: 50, k: 64 });
 * assert.ok(node.chunk === 4096 && node.bits === 2 && node.beta === 0.95 && node.lr === 1);
 * ```
 */
export function sparseLoco(options: SparseLocoOptions): SparseLocoNode {
  return buildNode(
    {
      kind: "sparseLoco",
      tau: options.tau,
      k: options.k,
      chunk: options.chunk ?? 4096,
      bits: options.bits ?? 2,
      beta: options.beta ?? 0.95,
      lr: options.lr ?? 1,
    },
    options,
    OPTIONS,
  );
}

/**
 * Bytes of one worker's SparseLoCo code for a model of `d` parameters, exactly as the codec
 * writes it. The model is cut into `⌈d / chunk⌉` chunks; a chunk keeps `min(k, its length)`
 * values (only the last chunk may be shorter). The code is: with `bits < 32`, one float32 scale
 * `M` per chunk, then every kept index (its position in its chunk) packed at `⌈log2 chunk⌉` bits,
 * then every kept level packed at `bits` bits; with `bits: 32`, every kept value as float32 (no
 * scale), then the packed indices. Packed runs are least significant bit first and padded to a
 * whole byte once, at their end.
 *
 * @param node The `sparseLoco` node (`chunk`, `k`, `bits`).
 * @param d Model parameters.
 * @returns Bytes of the code.
 * @example 10 values in chunks of 4 keeping 3: 3 + 3 + 2 kept, 2-bit indices and levels
 * ```ts
 * import assert from "node:assert/strict";
 * import { sparseLoco, sparseLocoCodeBytes } from "./sparse_loco.ts";
 * const node = sparseLoco({ tau: 4, k: 3, chunk: 4 });
 * assert.equal(sparseLocoCodeBytes(node, 10), 3 * 4 + 2 + 2);
 * assert.equal(sparseLocoCodeBytes({ ...node, bits: 32 }, 10), 8 * 4 + 2);
 * ```
 */
export function sparseLocoCodeBytes(
  node: Pick<SparseLocoNode, "chunk" | "k" | "bits">,
  d: number,
): number {
  const kept = sparseLocoKept(node, d);
  const indices = Math.ceil(kept * indexBits(node.chunk) / 8);
  if (node.bits === 32) return kept * FLOAT_BYTES + indices;
  return Math.ceil(d / node.chunk) * FLOAT_BYTES + indices + Math.ceil(kept * node.bits / 8);
}

/**
 * Values a SparseLoCo code keeps for `d` parameters: `k` per whole chunk, and
 * `min(k, d mod chunk)` in a shorter last chunk.
 *
 * @param node The `sparseLoco` node (`chunk`, `k`).
 * @param d Model parameters.
 * @returns The count.
 */
export function sparseLocoKept(node: Pick<SparseLocoNode, "chunk" | "k">, d: number): number {
  return Math.floor(d / node.chunk) * node.k + Math.min(node.k, d % node.chunk);
}

/** Everything the plan layer knows about `sparseLoco`. */
export const sparseLocoKind: OuterDefinition<SparseLocoNode> = {
  schema: v.strictObject({
    kind: v.literal("sparseLoco"),
    tau: integer(1),
    k: integer(1),
    chunk: integer(2),
    bits: v.pipe(
      v.number(),
      v.check(
        (bits) => (Number.isInteger(bits) && bits >= 1 && bits <= MAX_LEVEL_BITS) || bits === 32,
        `must be an integer from 1 to ${MAX_LEVEL_BITS}, or 32 for unquantized float32 values`,
      ),
    ),
    beta: momentum,
    lr: above(0),
  }),
  form: { make: sparseLoco, required: ["tau", "k"] },
  // The outer step uses its own rate, never the inner γ_k.
  dividesByLr: () => null,
  synchronisation: (node) =>
    `every ${node.tau} steps every worker restarts from the same global model, moved by the ` +
    `average of the workers' top ${node.k} of every ${node.chunk} error-feedback values at ` +
    `${node.bits === 32 ? "float32" : `${node.bits} bits`} (not an exact average)`,
  // One all-gather of each worker's code per period.
  traffic: (node, d, n) => allGatherBytes(sparseLocoCodeBytes(node, d), n) / node.tau,
  check: (node): NodeIssue[] =>
    node.k > node.chunk
      ? [{
        path: "k",
        message:
          `sparseLoco keeps k ${node.k} values per chunk of ${node.chunk}: k must be at most chunk`,
        expected: `at most ${node.chunk}`,
        received: node.k,
      }]
      : [],
};
