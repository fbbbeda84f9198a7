import assert from "node:assert/strict";
import { draw, sampleTokens } from "./sample_text.ts";
import { createTransformerModel, transformerLogits } from "./transformer.ts";
import { selectBackend } from "../backend.ts";

Deno.test("draw inverts softmax(logits / temperature) at u, and takes the argmax at temperature 0", () => {
  // logits 0 and ln 3: probabilities 1/4 and 3/4 at temperature 1.
  const logits = [0, Math.log(3)];
  assert.equal(draw(logits, 1, 0.2), 0);
  assert.equal(draw(logits, 1, 0.3), 1);
  // At temperature 1/2 the weights are 1 and 9: probabilities 1/10 and 9/10.
  assert.equal(draw(logits, 0.5, 0.05), 0);
  assert.equal(draw(logits, 0.5, 0.15), 1);
  // Greedy: the most likely token, the lowest id among ties.
  assert.equal(draw([1, 5, 5, 2], 0, 0.99), 1);
});

Deno.test("greedy sampling appends the argmax of the last position's logits, over the last context tokens", async () => {
  await selectBackend("cpu");
  const node = {
    kind: "transformer",
    layers: 1,
    dModel: 8,
    heads: 2,
    context: 4,
    mlpRatio: 4,
  } as const;
  const vocabulary = 6;
  const model = await createTransformerModel(node, vocabulary);
  const params = model.initialParameters(7);
  model.dispose();
  const prompt = [1, 4, 2, 5, 3];
  const sampled = await sampleTokens(node, vocabulary, params, prompt, {
    tokens: 3,
    temperature: 0,
  });
  // The same by hand: each step sees at most the last 4 tokens.
  const sequence = [...prompt];
  for (let i = 0; i < 3; i++) {
    const window = sequence.slice(-4);
    const logits = await transformerLogits(node, vocabulary, params, Float32Array.from(window), 1);
    const last = Array.from(logits.subarray(3 * vocabulary, 4 * vocabulary));
    sequence.push(last.indexOf(Math.max(...last)));
  }
  assert.deepEqual(sampled, sequence.slice(prompt.length));
  await assert.rejects(() => sampleTokens(node, vocabulary, params, []), /without a prompt/);
});
