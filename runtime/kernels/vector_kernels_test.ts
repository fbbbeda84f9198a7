import assert from "node:assert/strict";
import { Random, randomStream } from "../random.ts";
import {
  addInto,
  addIntoJs,
  arenaKernels,
  createKernelMemory,
  kernelSelection,
  qsgdLevels,
  qsgdLevelsJs,
  selectKernels,
} from "./vector_kernels.ts";

/** Bit patterns that float32 sums treat specially. */
const SPECIAL_BITS = [
  0x00000000, // +0
  0x80000000, // −0
  0x00000001, // the smallest subnormal
  0x807fffff, // the largest negative subnormal
  0x00800000, // the smallest normal
  0x7f7fffff, // the largest finite (sums overflow to ∞)
  0xff7fffff,
  0x7f800000, // +∞
  0xff800000, // −∞
  0x7fc00000, // the canonical NaN
];

/**
 * `d` values: mostly normal numbers of mixed magnitudes (so that sums round), one in eight a
 * special value (zeros of both signs, subnormals, overflow, infinities, NaN).
 */
function values(d: number, seed: number): Float32Array {
  const random = randomStream(seed, "vector-kernels");
  const out = new Float32Array(d);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < d; i++) {
    if (random.uniform() < 0.125) {
      bits[i] = SPECIAL_BITS[Math.floor(random.uniform() * SPECIAL_BITS.length)]!;
    } else {
      out[i] = random.normal() * 10 ** Math.floor(random.uniform() * 8 - 4);
    }
  }
  return out;
}

/** The float32 bits of `v`, for byte-exact comparison (NaN ≠ NaN in `deepEqual` of floats). */
function bitsOf(v: Float32Array): Uint32Array {
  return new Uint32Array(v.slice().buffer);
}

/** `v` copied to `offset` floats into a larger buffer, so the kernels see unaligned addresses. */
function placed(v: Float32Array, offset: number): Float32Array {
  const out = new Float32Array(new ArrayBuffer((v.length + offset + 3) * 4), offset * 4, v.length);
  out.set(v);
  return out;
}

const LENGTHS = [0, 1, 3, 63, 64, 65, 67, 100, 1023, 16384, 16385, 40_001];

Deno.test("the WebAssembly SIMD kernels are chosen here, with their reason", () => {
  assert.deepEqual(selectKernels("auto"), {
    kernels: "wasm-simd",
    reason: "WebAssembly SIMD available; using wasm-simd",
  });
  assert.equal(kernelSelection().kernels, "wasm-simd");
  assert.deepEqual(selectKernels("js"), { kernels: "js", reason: "js requested" });
  assert.equal(createKernelMemory(100), null); // the JavaScript loops need no kernel memory
  assert.throws(
    () => selectKernels("fast" as "auto"),
    /Unknown kernels "fast": expected auto, wasm or js/,
  );
  assert.deepEqual(selectKernels("wasm"), { kernels: "wasm-simd", reason: "wasm requested" });
});

Deno.test("addInto gives the JavaScript loop's bytes, and the float32 sum of each pair", () => {
  selectKernels("wasm");
  for (const d of LENGTHS) {
    for (const offset of [0, 1, 2, 3]) {
      const target = values(d, 2 * d + offset);
      const source = values(d, 2 * d + offset + 1);
      // Independent expectation: each element rounded to float32 on its own.
      const expected = Float32Array.from({ length: d }, (_, i) => source[i]! + target[i]!);
      const reference = target.slice();
      addIntoJs(reference, source);
      const got = placed(target, offset);
      addInto(got, placed(source, (offset + 1) % 4));
      assert.deepEqual(bitsOf(got), bitsOf(reference), `d ${d}, offset ${offset}`);
      assert.deepEqual(bitsOf(got), bitsOf(expected), `d ${d}, offset ${offset}`);
    }
  }
});

Deno.test("addInto carries a NaN's payload as the JavaScript loop does", () => {
  selectKernels("wasm");
  // Quiet and signalling NaNs with payloads, against numbers and against each other.
  const nans = [0x7fc00001, 0xffc12345, 0x7f800abc, 0xff812345];
  const d = 256;
  const target = new Float32Array(d);
  const source = new Float32Array(d);
  const t = new Uint32Array(target.buffer);
  const s = new Uint32Array(source.buffer);
  for (let i = 0; i < d; i++) {
    t[i] = i % 3 === 0 ? nans[i % 4]! : 0x3f800000;
    s[i] = i % 2 === 0 ? nans[(i >> 1) % 4]! : 0x40000000;
  }
  const reference = target.slice();
  addIntoJs(reference, source);
  addInto(target, source);
  const got = bitsOf(target);
  const expected = bitsOf(reference);
  for (let i = 0; i < d; i++) {
    if (i % 6 === 0) {
      // Both operands NaN: which payload wins is the engine's choice (IEEE leaves it open), and
      // may differ between JavaScript tiers; the sum is a NaN either way.
      assert.ok(Number.isNaN(target[i]) && Number.isNaN(reference[i]), `${i}`);
    } else {
      // One NaN: its payload, quieted; else the float32 sum.
      assert.equal(got[i], expected[i], `${i}`);
      if (i % 2 === 0 || i % 3 === 0) assert.equal(got[i]! & 0x7fc00000, 0x7fc00000, `${i}`);
    }
  }
});

Deno.test("the arena's ring sum adds the rows in the ring's order from any first row", () => {
  selectKernels("wasm");
  for (const ranks of [2, 3, 4, 5]) {
    for (const d of [1, 5, 64, 1001]) {
      const stride = (d + 3) * 4; // rows that do not start on 16 bytes
      const memory = createKernelMemory((ranks + 1) * stride + 8)!;
      const kernels = arenaKernels(memory)!;
      const rows = Array.from({ length: ranks }, (_, r) => values(d, 100 * ranks + 10 * r + d));
      rows.forEach((row, r) => new Float32Array(memory.buffer, 4 + r * stride, d).set(row));
      for (let first = 0; first < ranks; first++) {
        const out = ranks * stride + 8;
        kernels.ringSum(out, 4, stride, ranks, first, d);
        const expected = Float32Array.from({ length: d }, (_, i) => {
          let sum = rows[first]![i]!;
          for (let k = 1; k < ranks; k++) sum = Math.fround(sum + rows[(first + k) % ranks]![i]!);
          return sum;
        });
        assert.deepEqual(
          bitsOf(new Float32Array(memory.buffer, out, d)),
          bitsOf(expected),
          `ranks ${ranks}, d ${d}, first ${first}`,
        );
      }
    }
  }
});

Deno.test("with the JavaScript loops, addInto is the reference and arenas are plain", () => {
  selectKernels("js");
  try {
    assert.equal(
      arenaKernels(new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true })),
      null,
    );
    const target = values(1000, 7);
    const source = values(1000, 8);
    const reference = target.slice();
    addIntoJs(reference, source);
    addInto(target, source);
    assert.deepEqual(bitsOf(target), bitsOf(reference));
  } finally {
    selectKernels("auto");
  }
});

Deno.test("QSGD's norms and levels match the JavaScript loop's, and the stream goes on alike", () => {
  selectKernels("wasm");
  for (const d of [1, 7, 511, 512, 513, 3000]) {
    for (const bucket of [1, 5, 512]) {
      for (const levels of [1, 3, 15, 255, 65535]) {
        // Special values (a NaN or ∞ makes its bucket's norm NaN or ∞, and its levels 0) in
        // odd-levelled cases, finite values only in the others.
        const v = values(d, d + bucket + levels).map((x) =>
          levels % 2 === 1 && levels > 3 ? x : (Number.isFinite(x) ? x : 0.25)
        );
        if (d > 600) v.fill(0, 512, 600); // a bucket of zeros: no draws for it
        const buckets = Math.ceil(d / bucket);
        const [normsJs, normsKernel] = [new Float32Array(buckets), new Float32Array(buckets)];
        const [randomJs, randomKernel] = [randomStream(d, "q"), randomStream(d, "q")];
        const reference = qsgdLevelsJs(v, levels, bucket, randomJs, normsJs);
        const got = qsgdLevels(v, levels, bucket, randomKernel, normsKernel);
        const what = `d ${d}, bucket ${bucket}, levels ${levels}`;
        assert.deepEqual(bitsOf(normsKernel), bitsOf(normsJs), what);
        assert.deepEqual([...got], [...reference], what);
        assert.equal(randomKernel.nextUint32(), randomJs.nextUint32(), what);
      }
    }
  }
  // Independent expectation: xoshiro128** from the state [1, 2, 3, 4] first draws 11520 (the
  // reference implementation), so a bucket [1] at one level, scale 1, rounds 1 + 11520·2⁻³² to 1.
  const norms = new Float32Array(1);
  assert.deepEqual(
    [...qsgdLevels(Float32Array.of(1), 1, 1, Random.fromState([1, 2, 3, 4]), norms)],
    [1],
  );
  // And a value of about half its bucket's norm, at one level, goes up when the draw passes
  // what is left to 1.
  const half = Float32Array.of(0.5, Math.sqrt(0.75));
  const norm = Math.fround(Math.sqrt(half[0]! ** 2 + half[1]! ** 2));
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const draw = randomStream(seed, "h").nextUint32();
    const level = qsgdLevels(half, 1, 2, randomStream(seed, "h"), new Float32Array(1))[0];
    assert.equal(level, Math.min(1, Math.floor(0.5 * (1 / norm) + draw * 2 ** -32)), `${seed}`);
  }
});
