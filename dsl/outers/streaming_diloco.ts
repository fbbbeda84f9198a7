/**
 * `streamingDiloco({ tau, fragments, split, overlap, mix, bits, lr, momentum, nesterov })`: DiLoCo
 * with the model synchronised one fragment at a time, overlapped with computation, its
 * pseudo-gradients quantized on the wire (docs/algorithms.md §2.4).
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { above, integer, momentum, probability } from "../fields.ts";
import { buildNode, type NodeIssue, type OptionNames, type OuterDefinition } from "../kind.ts";
import { allGatherBytes, FLOAT_BYTES, ringAllReduceBytes } from "../wire_bytes.ts";

/** Values per quantization chunk: each chunk of a pseudo-gradient has its own float32 scale. */
export const STREAMING_CHUNK = 128;

/**
 * How the model's variables are dealt into fragments. `"strided"` (docs/algorithms.md §2.4, the
 * default): variable `j` in fragment `j mod P`. `"balanced"`: the largest variable first, each to
 * the fragment holding the fewest values so far (ties: the lower fragment), so that fragments are
 * about `d/P` values each, and a sync about `1/P` of DiLoCo's bytes, even where strides line up
 * with a model's layout (GPT-2's blocks of 12 tensors put every block's matrices in the same
 * fragments of 2, 3, 4 or 6).
 */
export type FragmentSplit = "strided" | "balanced";

/** Streaming DiLoCo: fragments of the model synced in turn, each every `tau` steps. */
export interface StreamingDilocoNode {
  /** Node kind, named after the DSL factory `streamingDiloco()`. */
  readonly kind: "streamingDiloco";
  /** Inner steps between two syncs of the same fragment; a multiple of `fragments`. */
  readonly tau: number;
  /** Fragments `P` of whole variables. */
  readonly fragments: number;
  /** How variables are dealt into fragments (see {@linkcode FragmentSplit}). */
  readonly split: FragmentSplit;
  /** Steps `τ` a sync's collective runs while training continues, before it is merged. */
  readonly overlap: number;
  /** Merge weight `α` of the local fragment when a sync arrives after an overlap. */
  readonly mix: number;
  /** Bits per pseudo-gradient value on the wire: 2 to 16, or 32 for the exact float32 average. */
  readonly bits: number;
  /** Outer learning rate (> 0). */
  readonly lr: number;
  /** Outer momentum `μ`, in `[0, 1)`. */
  readonly momentum: number;
  /** Nesterov momentum on the outer step instead of heavy ball. */
  readonly nesterov: boolean;
}

/** Options of {@linkcode streamingDiloco}. */
export interface StreamingDilocoOptions {
  /** Inner steps between two syncs of the same fragment; a multiple of `fragments`. */
  readonly tau: number;
  /** Fragments of whole variables. */
  readonly fragments: number;
  /**
   * How variables are dealt into fragments: `"strided"` (default, variable `j` in fragment
   * `j mod fragments`) or `"balanced"` (about equal values per fragment).
   */
  readonly split?: FragmentSplit;
  /** Steps a sync overlaps with computation before it is merged (default 0: applied at once). */
  readonly overlap?: number;
  /** Merge weight α of the local fragment after an overlap (default 0.5). */
  readonly mix?: number;
  /** Bits per pseudo-gradient value on the wire, 2–16 or 32 (default 32: no quantization). */
  readonly bits?: number;
  /** Outer learning rate (default 0.7). */
  readonly lr?: number;
  /** Outer momentum μ (default 0.9). */
  readonly momentum?: number;
  /** Nesterov outer momentum (default true). */
  readonly nesterov?: boolean;
}

const OPTIONS: OptionNames<StreamingDilocoOptions> = {
  tau: true,
  fragments: true,
  split: true,
  overlap: true,
  mix: true,
  bits: true,
  lr: true,
  momentum: true,
  nesterov: true,
};

/**
 * Streaming DiLoCo (Douillard et al., "Streaming DiLoCo with overlapping communication", 2025):
 * the model's variables are dealt into `fragments` strided fragments; fragment `p` syncs after
 * step `k` when `k + 1 ≥ tau` and `(k + 1 − p·tau/P) mod tau == 0`, so one fragment syncs every
 * `tau/P` steps and the peak traffic of a sync is about `1/P` of DiLoCo's. A sync is DiLoCo's
 * outer step restricted to the fragment, with its own `θ_p` and `m_p`. With `overlap` the
 * collective runs while the next `overlap` steps compute, and the arriving `θ_p` is mixed into
 * the local fragment (`α x + (1 − α) θ_p`); with `bits < 32` each worker's pseudo-gradient
 * crosses the wire quantized per chunk of 128 values.
 *
 * @param options Period, fragments, overlap (default 0), mix (default 0.5), bits (default 32),
 *   outer rate (default 0.7), outer momentum (default 0.9) and Nesterov (default true).
 * @returns A `streamingDiloco` outer node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { streamingDiloco } from "./streaming_diloco.ts";
 * const node = streamingDiloco({ tau: 20, fragments: 4, overlap: 1, bits: 4 });
 * assert.ok(node.mix === 0.5 && node.lr === 0.7 && node.nesterov);
 * ```
 */
export function streamingDiloco(options: StreamingDilocoOptions): StreamingDilocoNode {
  return buildNode(
    {
      kind: "streamingDiloco",
      tau: options.tau,
      fragments: options.fragments,
      split: options.split ?? "strided",
      overlap: options.overlap ?? 0,
      mix: options.mix ?? 0.5,
      bits: options.bits ?? 32,
      lr: options.lr ?? 0.7,
      momentum: options.momentum ?? 0.9,
      nesterov: options.nesterov ?? true,
    },
    options,
    OPTIONS,
  );
}

/**
 * The fragment of each variable: strided, `j mod P`, or balanced, the largest variable first
 * (ties: the lower index) to the fragment holding the fewest values so far (ties: the lower
 * fragment). Both give every fragment at least one variable when there are at least `P`.
 *
 * @param variables The model's variable sizes, in order.
 * @param fragments `P`.
 * @param split How to deal them.
 * @returns The fragment of variable `j`, for every `j`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fragmentOfVariables } from "./streaming_diloco.ts";
 * assert.deepEqual(fragmentOfVariables([6, 2, 4, 1, 3], 2, "strided"), [0, 1, 0, 1, 0]);
 * // Sizes 6 → 0; 4 → 1; 3 → 1 (4 < 6); 2 → 0 (6 < 7); 1 → 1 (7 < 8): 8 values each.
 * assert.deepEqual(fragmentOfVariables([6, 2, 4, 1, 3], 2, "balanced"), [0, 0, 1, 1, 1]);
 * ```
 */
export function fragmentOfVariables(
  variables: readonly number[],
  fragments: number,
  split: FragmentSplit,
): number[] {
  if (split === "strided") return variables.map((_, j) => j % fragments);
  const owner = new Array<number>(variables.length).fill(0);
  const held = new Array<number>(fragments).fill(0);
  const order = variables.map((_, j) => j).sort((a, b) => variables[b]! - variables[a]! || a - b);
  for (const j of order) {
    const p = held.indexOf(Math.min(...held));
    owner[j] = p;
    held[p]! += variables[j]!;
  }
  return owner;
}

/**
 * The sizes of the fragments, as {@linkcode fragmentOfVariables} deals the variables.
 *
 * @param variables The model's variable sizes, in order.
 * @param fragments `P`.
 * @param split How to deal them (default `"strided"`).
 * @returns The number of values in each fragment.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fragmentSizes } from "./streaming_diloco.ts";
 * assert.deepEqual(fragmentSizes([6, 2, 4, 1, 3], 2), [13, 3]);
 * assert.deepEqual(fragmentSizes([6, 2, 4, 1, 3], 2, "balanced"), [8, 8]);
 * ```
 */
export function fragmentSizes(
  variables: readonly number[],
  fragments: number,
  split: FragmentSplit = "strided",
): number[] {
  const sizes = new Array<number>(fragments).fill(0);
  fragmentOfVariables(variables, fragments, split).forEach((p, j) => sizes[p]! += variables[j]!);
  return sizes;
}

/**
 * Bytes of one quantized pseudo-gradient of `count` values: one float32 scale per chunk of 128
 * values, then every value's `bits`-bit code, packed.
 *
 * @param count Values.
 * @param bits Bits per value.
 * @returns `4 · ⌈count/128⌉ + ⌈count · bits / 8⌉`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { streamingCodeBytes } from "./streaming_diloco.ts";
 * assert.equal(streamingCodeBytes(300, 4), 3 * 4 + 150);
 * ```
 */
export function streamingCodeBytes(count: number, bits: number): number {
  return Math.ceil(count / STREAMING_CHUNK) * FLOAT_BYTES + Math.ceil(count * bits / 8);
}

/**
 * Bytes a worker sends in one sync of a fragment of `count` values: a ring all-reduce of the
 * float32 values at 32 bits, else an all-gather of its quantized code.
 *
 * @param node The `streamingDiloco` node.
 * @param count The fragment's values.
 * @param n Workers.
 * @returns Payload bytes (no frame headers).
 */
export function streamingSyncBytes(node: StreamingDilocoNode, count: number, n: number): number {
  return node.bits === 32
    ? ringAllReduceBytes(count, n)
    : allGatherBytes(streamingCodeBytes(count, node.bits), n);
}

/** Whether `bits` is a width the codec writes: 2 to 16, or 32 (no quantization). */
function supportedBits(bits: number): boolean {
  return (bits >= 2 && bits <= 16) || bits === 32;
}

/** Everything the plan layer knows about `streamingDiloco`. */
export const streamingDilocoKind: OuterDefinition<StreamingDilocoNode> = {
  schema: v.strictObject({
    kind: v.literal("streamingDiloco"),
    tau: integer(1),
    fragments: integer(1),
    split: v.picklist(["strided", "balanced"]),
    overlap: integer(0),
    mix: probability,
    bits: integer(2, 32),
    lr: above(0),
    momentum,
    nesterov: v.boolean(),
  }),
  form: { make: streamingDiloco, required: ["tau", "fragments"] },
  // The outer step uses its own rate, never the inner γ_k.
  dividesByLr: () => null,
  synchronisation: (node) =>
    `each of ${node.fragments} fragment${node.fragments === 1 ? "" : "s"} every ${node.tau} ` +
    `steps, one every ${node.tau / node.fragments} (${
      node.bits === 32 ? "exact average" : `${node.bits}-bit pseudo-gradients`
    }${
      node.overlap === 0
        ? ""
        : `, overlapped with ${node.overlap} step${node.overlap === 1 ? "" : "s"}`
    })`,
  // Every fragment syncs once per period: the fragments' sync bytes, spread over tau steps.
  traffic: (node, _d, n, variables) =>
    fragmentSizes(variables, node.fragments, node.split)
      .reduce((sum, count) => sum + streamingSyncBytes(node, count, n), 0) / node.tau,
  peakSyncBytes: (node, n, variables) =>
    Math.max(
      ...fragmentSizes(variables, node.fragments, node.split).map((count) =>
        streamingSyncBytes(node, count, n)
      ),
    ),
  replacesBaseSync:
    "the fragment syncs replace every average of the base, so the base must not average between them",
  check: (node, { variables }): NodeIssue[] => {
    const issues: NodeIssue[] = [];
    const { tau, fragments, overlap, bits } = node;
    if (tau % fragments !== 0) {
      issues.push({
        path: "tau",
        message:
          `streamingDiloco tau ${tau} is not a multiple of fragments ${fragments}: fragments take turns every tau/fragments steps`,
        expected: `a multiple of ${fragments}`,
        received: tau,
      });
    } else if (overlap >= tau / fragments) {
      issues.push({
        path: "overlap",
        message: `streamingDiloco overlap ${overlap} must be less than tau/fragments = ${
          tau / fragments
        }: one sync is in flight at a time`,
        expected: `less than ${tau / fragments}`,
        received: overlap,
      });
    }
    if (!supportedBits(bits)) {
      issues.push({
        path: "bits",
        message:
          `streamingDiloco bits ${bits} is not supported: 2 to 16, or 32 for no quantization`,
        expected: "2 to 16, or 32",
        received: bits,
      });
    }
    if (variables !== null && fragments > variables.length) {
      issues.push({
        path: "fragments",
        message:
          `streamingDiloco fragments ${fragments} is more than the model's ${variables.length} variable${
            variables.length === 1 ? "" : "s"
          }: a fragment is made of whole variables`,
        expected: `at most ${variables.length}`,
        received: fragments,
      });
    }
    return issues;
  },
};
