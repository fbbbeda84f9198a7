/**
 * The text sample a language-model run ends with: the final averaged model continues the
 * opening words of the validation text (text it never trained on), and `summary.json` and the
 * report show prompt and continuation.
 *
 * @module
 */

import { textSplit } from "../../dsl/data/text.ts";
import type { Plan } from "../../dsl/plan.ts";
import { dataShape } from "../../dsl/shapes.ts";
import { type BackendRequest, selectBackend } from "../backend.ts";
import { decodeTokens, textTokens } from "../data/text.ts";
import { sampleTokens, type TextSample } from "../models/sample_text.ts";

/** Prompt length in tokens (at most the model's context). */
const PROMPT_TOKENS = 48;
/** Tokens generated. */
const SAMPLE_TOKENS = 200;
/** Softmax temperature of the draws. */
const TEMPERATURE = 0.8;
/** Byte tokens of an ASCII space and newline, where a prompt may start. */
const SPACE = 0x20;
const NEWLINE = 0x0a;

/**
 * Samples text from a language-model run's final averaged model, seeded by the plan's seed.
 *
 * @param plan The plan that ran.
 * @param average The final averaged parameters, as float32.
 * @param backend The backend the workers used (`null`: WASM).
 * @returns The sample, or `null` when the plan is not a transformer on text.
 */
export async function languageSample(
  plan: Plan,
  average: Float32Array,
  backend: string | null,
): Promise<TextSample | null> {
  if (plan.model.kind !== "transformer" || plan.data.kind !== "text") return null;
  const tokens = await textTokens(plan.data);
  const prompt = promptTokens(tokens, textSplit(tokens.length, plan.data.validation).train, {
    length: Math.min(PROMPT_TOKENS, plan.model.context),
  });
  const request: BackendRequest = backend === "webgpu" || backend === "cpu" ? backend : "wasm";
  await selectBackend(request);
  const vocabulary = dataShape(plan.data).classes ?? 256;
  const generated = await sampleTokens(plan.model, vocabulary, average, prompt, {
    tokens: SAMPLE_TOKENS,
    temperature: TEMPERATURE,
    seed: plan.seed,
  });
  return {
    prompt: decodeTokens(prompt),
    text: decodeTokens(generated),
    temperature: TEMPERATURE,
    tokens: SAMPLE_TOKENS,
  };
}

/**
 * A prompt from the validation text: `length` tokens from the first word start at or after
 * `from` (after a space or newline, within the next 64 tokens), so it opens on a whole word.
 *
 * @param tokens The whole token stream.
 * @param from Where the validation tokens begin.
 * @param options The prompt's length.
 * @returns The prompt's token ids.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { promptTokens } from "./text_sample.ts";
 * const bytes = new TextEncoder().encode("call me Ishmael. Some years ago");
 * const prompt = promptTokens(bytes, 2, { length: 8 });
 * assert.equal(new TextDecoder().decode(Uint8Array.from(prompt)), "me Ishma");
 * ```
 */
export function promptTokens(
  tokens: ArrayLike<number>,
  from: number,
  options: { readonly length: number },
): number[] {
  let start = from;
  const limit = Math.min(tokens.length - options.length, from + 64);
  while (start < limit && start > 0 && !isBreak(tokens[start - 1]!)) start++;
  if (start >= limit || (start > 0 && !isBreak(tokens[start - 1]!))) start = from;
  return Array.from(
    { length: Math.min(options.length, tokens.length - start) },
    (_, i) => tokens[start + i]!,
  );
}

function isBreak(token: number): boolean {
  return token === SPACE || token === NEWLINE;
}
