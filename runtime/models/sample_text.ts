/**
 * A short text sampled from a trained language model, so that a run's report shows what the
 * model learned in words, not only in bits per token.
 *
 * Sampling is seeded, not greedy: greedy decoding of a small byte-level model falls into a loop
 * ("the the the …") long before it shows anything, while sampling at a temperature below one
 * shows the model's spelling and words. The draws come from `randomStream(seed, "sample")`, so
 * the same model and seed give the same text on every machine and backend whose logits agree.
 * Each new token sees the last `context` tokens, the window the model was trained on.
 *
 * @module
 */

import type { TransformerNode } from "../../dsl/models/transformer.ts";
import { randomStream } from "../random.ts";
import { transformerLogits } from "./transformer.ts";

/** A sample of generated text, as `summary.json` keeps it. */
export interface TextSample {
  /** The prompt the model continued (decoded UTF-8). */
  readonly prompt: string;
  /** The continuation (decoded UTF-8; a byte sequence that is not UTF-8 shows as `�`). */
  readonly text: string;
  /** The softmax temperature of the draws. */
  readonly temperature: number;
  /** How many tokens were generated. */
  readonly tokens: number;
}

/** Options of {@linkcode sampleTokens}. */
export interface SampleOptions {
  /** Tokens to generate (default 200). */
  readonly tokens?: number;
  /** Softmax temperature; 0 picks the most likely token (default 0.8). */
  readonly temperature?: number;
  /** Seed of the draws (default 0). */
  readonly seed?: number;
}

/**
 * Continues a prompt with a transformer's parameters. Select the TensorFlow.js backend first.
 *
 * @param node The model's sizes.
 * @param vocabulary `V`.
 * @param params The flat parameters.
 * @param prompt The prompt's token ids (at least one).
 * @param options Length, temperature and seed.
 * @returns The generated token ids (without the prompt).
 * @throws {RangeError} When the prompt is empty, or the parameters do not fit the model.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sampleTokens } from "./sample_text.ts";
 * import { createTransformerModel } from "./transformer.ts";
 * import { selectBackend } from "../backend.ts";
 * await selectBackend("cpu");
 * const node = { kind: "transformer", layers: 1, dModel: 4, heads: 1, context: 3, mlpRatio: 4 } as const;
 * const params = (await createTransformerModel(node, 5)).initialParameters(1);
 * const out = await sampleTokens(node, 5, params, [1, 2], { tokens: 4, seed: 3 });
 * assert.ok(out.length === 4 && out.every((t) => t >= 0 && t < 5));
 * assert.deepEqual(await sampleTokens(node, 5, params, [1, 2], { tokens: 4, seed: 3 }), out);
 * ```
 */
export async function sampleTokens(
  node: TransformerNode,
  vocabulary: number,
  params: Float32Array,
  prompt: readonly number[],
  options: SampleOptions = {},
): Promise<number[]> {
  if (prompt.length === 0) throw new RangeError("Cannot sample without a prompt");
  const { tokens = 200, temperature = 0.8, seed = 0 } = options;
  const random = randomStream(seed, "sample");
  const sequence = [...prompt];
  for (let i = 0; i < tokens; i++) {
    const window = sequence.slice(-node.context);
    const logits = await transformerLogits(
      node,
      vocabulary,
      params,
      Float32Array.from(window),
      1,
    );
    const last = logits.subarray((window.length - 1) * vocabulary, window.length * vocabulary);
    sequence.push(draw(last, temperature, random.uniform()));
  }
  return sequence.slice(prompt.length);
}

/**
 * A token drawn from `softmax(logits / temperature)` by inverting its distribution at `u`, or
 * the most likely token (the lowest id among ties) when the temperature is 0.
 */
export function draw(logits: ArrayLike<number>, temperature: number, u: number): number {
  let best = 0;
  for (let v = 1; v < logits.length; v++) if (logits[v]! > logits[best]!) best = v;
  if (temperature <= 0) return best;
  const weights = Array.from(
    { length: logits.length },
    (_, v) => Math.exp((logits[v]! - logits[best]!) / temperature),
  );
  let remaining = u * weights.reduce((a, b) => a + b, 0);
  for (let v = 0; v < weights.length; v++) {
    remaining -= weights[v]!;
    if (remaining < 0) return v;
  }
  return best;
}
