/**
 * `transformer()`: a GPT-2 style causal language model over the data's token vocabulary, defined
 * exactly in `shared/MODELS.md` (pre-LayerNorm blocks, tied output head, no dropout).
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { integer } from "../fields.ts";
import {
  buildNode,
  type DataShape,
  type ModelDefinition,
  type NodeIssue,
  type OptionNames,
} from "../kind.ts";

/** A GPT-2 style causal transformer: `layers` blocks of width `dModel` over `context` tokens. */
export interface TransformerNode {
  /** Node kind, named after the DSL factory `transformer()`. */
  readonly kind: "transformer";
  /** Transformer blocks `L`. */
  readonly layers: number;
  /** Width of the residual stream `D` (the embedding size). */
  readonly dModel: number;
  /** Attention heads `H`; each head has `dModel / heads` dimensions. */
  readonly heads: number;
  /** Context length `T`: tokens per window, and positions in the position embedding. */
  readonly context: number;
  /** Width of each block's MLP as a multiple of `dModel` (GPT-2: 4). */
  readonly mlpRatio: number;
}

/** Options of {@linkcode transformer}. */
export interface TransformerOptions {
  /** Transformer blocks `L`. */
  readonly layers: number;
  /** Width of the residual stream `D`; a multiple of `heads`. */
  readonly dModel: number;
  /** Attention heads `H`. */
  readonly heads: number;
  /** Context length `T` in tokens. */
  readonly context: number;
  /** MLP width as a multiple of `dModel` (default 4). */
  readonly mlpRatio?: number;
}

const OPTIONS: OptionNames<TransformerOptions> = {
  layers: true,
  dModel: true,
  heads: true,
  context: true,
  mlpRatio: true,
};

/** The largest sizes accepted: far beyond what one worker trains, small enough to catch typos. */
const LIMITS = { layers: 1024, dModel: 65536, heads: 4096, context: 1 << 20, mlpRatio: 64 };

/**
 * A GPT-2 style causal transformer language model (`shared/MODELS.md`): token and position
 * embeddings, `layers` pre-LayerNorm blocks of causal self-attention and a GELU MLP, a final
 * LayerNorm and an output head tied to the token embedding. It trains on language data such as
 * `text()`.
 *
 * @param options Blocks, width, heads, context length and MLP ratio.
 * @returns A `transformer` model node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { transformer } from "./transformer.ts";
 * const model = transformer({ layers: 2, dModel: 64, heads: 4, context: 128 });
 * assert.ok(model.mlpRatio === 4);
 * ```
 */
export function transformer(options: TransformerOptions): TransformerNode {
  return buildNode(
    {
      kind: "transformer",
      layers: options.layers,
      dModel: options.dModel,
      heads: options.heads,
      context: options.context,
      mlpRatio: options.mlpRatio ?? 4,
    },
    options,
    OPTIONS,
  );
}

/**
 * The parameters of a transformer over a vocabulary of `V` tokens, as `shared/MODELS.md` stores
 * them: `wte` `V·D`, `wpe` `T·D`, per block `ln_1` `2D`, `c_attn` `3D² + 3D`, attention
 * `c_proj` `D² + D`, `ln_2` `2D`, `c_fc` `D·mD + mD`, MLP `c_proj` `mD·D + D` with
 * `mD = mlpRatio·D`, then `ln_f` `2D`. The output head is `wte` itself, so it is not counted
 * twice.
 *
 * @param node The model.
 * @param vocabulary The vocabulary size `V`.
 * @returns The parameter count `d`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { transformer, transformerParameters } from "./transformer.ts";
 * // GPT-2 small: 124,439,808 parameters.
 * const gpt2 = transformer({ layers: 12, dModel: 768, heads: 12, context: 1024 });
 * assert.equal(transformerParameters(gpt2, 50257), 124439808);
 * ```
 */
export function transformerParameters(node: TransformerNode, vocabulary: number): number {
  const D = node.dModel;
  const mD = node.mlpRatio * D;
  const block = 2 * D + (3 * D * D + 3 * D) + (D * D + D) + 2 * D + (D * mD + mD) + (mD * D + D);
  return vocabulary * D + node.context * D + node.layers * block + 2 * D;
}

/**
 * The sizes of a transformer's variables in the flat vector's order (`shared/MODELS.md`):
 * `wte`, `wpe`, each block's twelve tensors (`ln_1` weight and bias, `c_attn` weight and bias,
 * attention `c_proj` weight and bias, `ln_2` weight and bias, `c_fc` weight and bias, MLP
 * `c_proj` weight and bias), then `ln_f`'s weight and bias.
 *
 * @param node The model.
 * @param vocabulary The vocabulary size `V`.
 * @returns `2 + 12 · layers + 2` sizes summing to {@linkcode transformerParameters}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { transformer, transformerParameters, transformerVariables } from "./transformer.ts";
 * const node = transformer({ layers: 1, dModel: 8, heads: 2, context: 8 });
 * const sizes = transformerVariables(node, 256);
 * assert.equal(sizes.length, 16);
 * assert.equal(sizes.reduce((a, b) => a + b), transformerParameters(node, 256));
 * ```
 */
export function transformerVariables(node: TransformerNode, vocabulary: number): number[] {
  const D = node.dModel;
  const mD = node.mlpRatio * D;
  const block = [D, D, 3 * D * D, 3 * D, D * D, D, D, D, D * mD, mD, mD * D, D];
  return [
    vocabulary * D,
    node.context * D,
    ...Array.from({ length: node.layers }, () => block).flat(),
    D,
    D,
  ];
}

/** Everything the plan layer knows about `transformer`. */
export const transformerKind: ModelDefinition<TransformerNode> = {
  schema: v.strictObject({
    kind: v.literal("transformer"),
    layers: integer(1, LIMITS.layers),
    dModel: integer(1, LIMITS.dModel),
    heads: integer(1, LIMITS.heads),
    context: integer(1, LIMITS.context),
    mlpRatio: integer(1, LIMITS.mlpRatio),
  }),
  form: { make: transformer, required: ["layers", "dModel", "heads", "context"] },
  task: "language",
  context: (node) => node.context,
  parameters: (node, data: DataShape) =>
    data.task === "language" && data.classes !== null
      ? transformerParameters(node, data.classes)
      : null,
  variables: (node, data: DataShape) =>
    data.task === "language" && data.classes !== null
      ? transformerVariables(node, data.classes)
      : null,
  check: (node): NodeIssue[] =>
    node.dModel % node.heads === 0 ? [] : [{
      path: "heads",
      message: `transformer dModel ${node.dModel} is not a multiple of heads ${node.heads}: ` +
        `every head must get dModel / heads dimensions`,
      expected: `a divisor of ${node.dModel}`,
      received: node.heads,
    }],
};
