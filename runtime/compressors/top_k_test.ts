import assert from "node:assert/strict";
import { topK } from "../../dsl/compressors/mod.ts";
import { compressedBytes } from "../../dsl/explain.ts";
import { createCodec } from "./registry.ts";
import { topKIndices, topKIndicesJs } from "./top_k.ts";
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

/** Float32 values from their bit patterns (NaN payloads and signed zeros kept). */
function fromBits(...bits: number[]): Float32Array {
  return new Float32Array(Uint32Array.from(bits).buffer);
}

/**
 * Vectors of length `d` that drive every path of the fast selection: spread values (the sampled
 * bound), heavy ties and all-equal or mostly-zero vectors (the sample's bound keeps far too many:
 * the radix select), values large only where the sample does not look or only where it
 * does (the bound keeps far too many, or fewer than k), and special values.
 */
function shapes(d: number, random: ReturnType<typeof randomStream>): [string, Float32Array][] {
  // The sample's places in top_k.ts: 256 runs of 16 neighbours spread evenly (d < 2^20).
  const sampled = new Set(
    Array.from({ length: 4096 }, (_, i) => Math.floor(Math.floor(i / 16) * d / 256) + i % 16),
  );
  const special = fromBits(
    0x00000000, // +0
    0x80000000, // −0
    0x00000001, // smallest subnormal
    0x807fffff, // largest subnormal, negative
    0x00800000, // smallest normal
    0x7f7fffff, // largest finite
    0xff7fffff, // its negative
    0x7f800000, // +∞
    0xff800000, // −∞
    0x3f800000, // 1
    0xbf800000, // −1
  );
  return [
    ["normal", Float32Array.from({ length: d }, () => random.normal())],
    ["rounded", Float32Array.from({ length: d }, () => Math.round(random.normal() * 3) / 2)],
    ["all equal", new Float32Array(d).fill(-0.75)],
    ["signed zeros", Float32Array.from({ length: d }, (_, j) => (j % 3 === 0 ? -0 : 0))],
    [
      "mostly zero",
      Float32Array.from({ length: d }, () => (random.uniform() < 0.005 ? random.normal() : 0)),
    ],
    [
      "large off the sample",
      Float32Array.from({ length: d }, (_, j) => (sampled.has(j) ? 1e-3 : 1) * random.normal()),
    ],
    [
      "large on the sample",
      Float32Array.from({ length: d }, (_, j) => (sampled.has(j) ? 1 : 1e-3) * random.normal()),
    ],
    [
      "special values",
      Float32Array.from({ length: d }, () => special[random.integer(special.length)]!),
    ],
    [
      "subnormal and tiny",
      Float32Array.from(
        { length: d },
        () => random.normal() * 2 ** (random.integer(2) ? -140 : -126),
      ),
    ],
  ];
}

Deno.test("topKIndices equals the reference quickselect and a full sort on float32 vectors", () => {
  const random = randomStream(11, "test");
  for (const d of [4095, 4096, 4097, 10_007, 65_537]) {
    for (const [shape, values] of shapes(d, random)) {
      for (const k of new Set([0, 1, 2, 7, Math.floor(d / 100), Math.floor(d / 5), d - 1, d])) {
        const label = `${shape}, d ${d}, k ${k}`;
        const chosen = [...topKIndices(values, k)];
        assert.deepEqual(chosen, [...topKIndicesJs(values, k)], label);
        if (d <= 10_007) assert.deepEqual(chosen, sortedTopK(values, k), label);
      }
    }
  }
});

Deno.test("topKIndices reads a float32 view at an offset into its buffer", () => {
  const random = randomStream(12, "test");
  const whole = Float32Array.from({ length: 20_003 }, () => random.normal());
  for (const [start, end] of [[1, 20_003], [3, 9_000], [5_000, 15_001]]) {
    const values = whole.subarray(start, end);
    for (const k of [1, Math.floor(values.length / 100), values.length - 1]) {
      assert.deepEqual([...topKIndices(values, k)], sortedTopK(values, k), `${start}..${end}`);
    }
  }
});

Deno.test("with a NaN in the vector topKIndices returns what the reference returns", () => {
  const random = randomStream(13, "test");
  const d = 10_000;
  // 0 is a sampled position and 1 is not; quiet and signalling NaNs, of either sign.
  for (const [at, bits] of [[0, 0x7fc00000], [1, 0xffc00001], [5_001, 0x7f800001]]) {
    for (const background of ["normal", "zero"]) {
      const values = Float32Array.from(
        { length: d },
        () => (background === "zero" ? 0 : random.normal()),
      );
      new Uint32Array(values.buffer)[at!] = bits!;
      for (const k of [1, 100, d - 1]) {
        const label = `NaN at ${at}, ${background}, k ${k}`;
        assert.deepEqual([...topKIndices(values, k)], [...topKIndicesJs(values, k)], label);
      }
    }
  }
  // Every tenth value a NaN of a different payload: the sample itself is full of them.
  const values = Float32Array.from({ length: d }, () => random.normal());
  const bits = new Uint32Array(values.buffer);
  for (let j = 0; j < d; j += 10) bits[j] = 0x7f800001 + random.integer(0x7fffff);
  for (const k of [1, 100, d - 1]) {
    assert.deepEqual(
      [...topKIndices(values, k)],
      [...topKIndicesJs(values, k)],
      `many NaN, k ${k}`,
    );
  }
});

Deno.test("topKIndices on float64 vectors compares at full precision", () => {
  // 1 + 2^−40 and 1 round to the same float32; at float64 the first is larger.
  const values = new Float64Array(5000).fill(1);
  values[4000] = 1 + 2 ** -40;
  values[10] = -(1 + 2 ** -40);
  assert.deepEqual([...topKIndices(values, 3)], [0, 10, 4000]);
  assert.deepEqual([...topKIndices(values, 3)], [...topKIndicesJs(values, 3)]);
});

Deno.test("topKIndices equals the reference on float64 vectors, down to their low bits", () => {
  const random = randomStream(14, "test");
  for (const d of [4095, 4096, 10_007, 65_537]) {
    // The float32 shapes widened, and values that share their high 32 bits (the coarse keys the
    // float64 path samples) and differ only below them, alone or under a few larger ones.
    const shared = () => 1 + random.integer(1 << 20) * 2 ** -52;
    const cases: [string, Float64Array][] = [
      ...shapes(d, random).map(([shape, values]) =>
        [shape, Float64Array.from(values)] as [string, Float64Array]
      ),
      [
        "same high bits",
        Float64Array.from({ length: d }, () => (random.integer(2) ? -1 : 1) * shared()),
      ],
      [
        "same high bits under larger ones",
        Float64Array.from({ length: d }, (_, j) => (j % 97 === 3 ? 2 : shared())),
      ],
      ["beyond float32", Float64Array.from({ length: d }, () => random.normal() * 1e300)],
    ];
    for (const [shape, values] of cases) {
      for (const k of new Set([1, 7, Math.floor(d / 100), Math.floor(d / 5), d - 1])) {
        const label = `${shape}, d ${d}, k ${k}`;
        assert.deepEqual([...topKIndices(values, k)], [...topKIndicesJs(values, k)], label);
      }
    }
    const values = Float64Array.from({ length: d }, () => random.normal());
    values[d >> 1] = NaN;
    for (const k of [1, 100]) {
      assert.deepEqual([...topKIndices(values, k)], [...topKIndicesJs(values, k)], `NaN, k ${k}`);
    }
  }
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
