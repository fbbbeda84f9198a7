import assert from "node:assert/strict";
import { topK } from "../../dsl/compressors/mod.ts";
import { compressedBytes } from "../../dsl/explain.ts";
import { createCodec } from "./registry.ts";
import { topKIndices } from "./top_k.ts";
import { randomStream } from "../random.ts";

/** The reference selection: sort every index by (|v| descending, index ascending). */
function sortedTopK(values: Float32Array, k: number): number[] {
  return [...values.keys()]
    .sort((a, b) => Math.abs(values[b]!) - Math.abs(values[a]!) || a - b)
    .slice(0, k)
    .sort((a, b) => a - b);
}

const context = (step = 0) => ({ step, random: randomStream(0, "compress", 0, step) });

Deno.test("topKIndices agrees with a full sort, ties going to the lower index", () => {
  const random = randomStream(7, "test");
  for (const d of [1, 2, 5, 64, 1000]) {
    for (const k of [1, 2, Math.ceil(d / 3), d]) {
      if (k > d) continue;
      // Rounded values make ties and repeated zeros common.
      const values = Float32Array.from({ length: d }, () => Math.round(random.normal() * 3) / 2);
      assert.deepEqual([...topKIndices(values, k)], sortedTopK(values, k), `d ${d}, k ${k}`);
    }
  }
});

Deno.test("topKIndices keeps the lower index among equal magnitudes of either sign", () => {
  assert.deepEqual([...topKIndices(Float32Array.of(-2, 2, 2, -2), 3)], [0, 1, 2]);
  assert.deepEqual([...topKIndices(new Float32Array(4), 2)], [0, 1]);
});

Deno.test("a top-k code has exactly the bytes the traits table and the explainer predict", () => {
  const random = randomStream(3, "test");
  for (const [d, k] of [[1, 1], [2, 1], [1000, 10], [1024, 3], [1025, 7], [5000, 5000]]) {
    const node = topK({ k: k! });
    const codec = createCodec(node, { d: d!, steps: 1 });
    const values = Float32Array.from({ length: d! }, () => random.normal());
    const code = codec.encode(values, context());
    assert.equal(code.length, codec.wireBytes, `d ${d}, k ${k}`);
    assert.equal(code.length, compressedBytes(node, d!), `d ${d}, k ${k}`);
  }
});

Deno.test("decoding a top-k code restores the kept values and nothing else", () => {
  const values = Float32Array.of(0.25, -4, 1.5, 0, 3, -0.5, 2);
  const codec = createCodec(topK({ k: 3 }), { d: values.length, steps: 1 });
  const code = codec.encode(values, context());
  const decoded = new Float64Array(values.length).fill(1);
  codec.addDecoded(code, decoded, -2);
  // 1 − 2·v on the kept indices 1, 4, 6; untouched elsewhere.
  assert.deepEqual([...decoded], [1, 9, 1, 1, -5, 1, -3]);
});

Deno.test("a malformed top-k code is refused", () => {
  const codec = createCodec(topK({ k: 2 }), { d: 4, steps: 1 });
  assert.throws(
    () => codec.addDecoded(new Uint8Array(3), new Float32Array(4), 1),
    /the code has 3 bytes, expected 9/,
  );
  // Indices of 2 bits can name 0..3 only; d = 3 leaves index 3 out of range.
  const small = createCodec(topK({ k: 1 }), { d: 3, steps: 1 });
  const code = small.encode(Float32Array.of(0, 0, 1), context());
  code[4] = 0b11;
  assert.throws(() => small.addDecoded(code, new Float32Array(3), 1), /index 3 is outside 0..2/);
});
