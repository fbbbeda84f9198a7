import assert from "node:assert/strict";
import { qsgd } from "../../dsl/compressors/mod.ts";
import { compressedBytes } from "../../dsl/explain.ts";
import { randomStream } from "../random.ts";
import { dequantizeInto, quantize, quantizedCodeBytes } from "./qsgd.ts";
import { createCodec } from "./registry.ts";
import { dequantizeIntoReference } from "./_qsgd_reference.ts";
import { selectKernels } from "../kernels/vector_kernels.ts";

/** A fixed test vector with values of both signs and different magnitudes. */
function vector(d: number, seed: number): Float32Array {
  const random = randomStream(seed, "vector");
  return Float32Array.from({ length: d }, () => random.normal() * (random.uniform() < 0.2 ? 5 : 1));
}

/** Decodes a code of `d` values into a fresh float64 vector. */
function decode(code: Uint8Array, d: number, levels: number, bucket: number): Float64Array {
  const out = new Float64Array(d);
  dequantizeInto(code, d, levels, bucket, out, 1);
  return out;
}

Deno.test("a QSGD code has exactly the bytes the traits table and the explainer predict", () => {
  for (const [d, levels, bucket] of [[1, 1, 512], [7, 3, 4], [1000, 15, 512], [1025, 255, 100]]) {
    const node = qsgd({ levels: levels!, bucket: bucket! });
    const codec = createCodec(node, { d: d!, steps: 1 });
    const code = codec.encode(vector(d!, 1), { step: 0, random: randomStream(0, "q") });
    assert.equal(code.length, quantizedCodeBytes(d!, levels!, bucket!));
    assert.equal(code.length, codec.wireBytes);
    assert.equal(code.length, compressedBytes(node, d!));
  }
});

Deno.test("QSGD decodes every value to a level of its bucket's norm, with its sign", () => {
  const values = Float32Array.of(3, -4, 0, 0.5, 0.5, -0.5);
  const code = quantize(values, 3, 2, randomStream(1, "q"));
  const decoded = decode(code, 6, 3, 2);
  // Buckets [3, −4] (norm 5), [0, 0.5] (norm 0.5), [0.5, −0.5] (norm √0.5).
  const norms = [5, 0.5, Math.fround(Math.SQRT1_2)];
  decoded.forEach((value, j) => {
    const unit = norms[Math.floor(j / 2)]! / 3;
    const level = Math.abs(value) / unit;
    assert.ok(Math.abs(level - Math.round(level)) < 1e-6, `value ${j} is on a level`);
    assert.ok(Math.round(level) <= 3);
    if (value !== 0) assert.equal(Math.sign(value), Math.sign(values[j]!), `sign of ${j}`);
  });
  // A value equal to its bucket's norm is exactly the top level; a zero stays zero.
  assert.equal(decoded[2], 0);
  assert.ok(
    Math.abs(decode(quantize(Float32Array.of(0, 7), 5, 2, randomStream(2, "q")), 2, 5, 2)[1]! - 7) <
      1e-6,
  );
});

Deno.test("§5.7: QSGD is unbiased and within its variance bound (Monte Carlo, fixed seeds)", () => {
  for (const [d, levels] of [[64, 1], [64, 4], [256, 15]]) {
    const v = vector(d!, d! + levels!);
    const bucket = d!;
    const draws = 3000;
    const mean = new Float64Array(d!);
    let squaredError = 0;
    for (let i = 0; i < draws; i++) {
      const q = decode(
        quantize(v, levels!, bucket, randomStream(7, "draw", d!, levels!, i)),
        d!,
        levels!,
        bucket,
      );
      for (let j = 0; j < d!; j++) {
        mean[j]! += q[j]! / draws;
        squaredError += (q[j]! - v[j]!) ** 2 / draws;
      }
    }
    const norm2 = v.reduce((s, x) => s + x * x, 0);
    const bound = Math.min(d! / levels! ** 2, Math.sqrt(d!) / levels!) * norm2;
    assert.ok(squaredError <= bound, `E‖Q(v) − v‖² = ${squaredError} exceeds ${bound}`);
    // Each coordinate rounds between two adjacent levels n/s apart: its variance is at most
    // (n/s)²/4, so the mean of the draws is within 5 standard errors of v_j.
    const tolerance = 5 * Math.sqrt(norm2) / levels! / 2 / Math.sqrt(draws);
    for (let j = 0; j < d!; j++) {
      assert.ok(Math.abs(mean[j]! - v[j]!) <= tolerance, `E[Q(v)]_${j} = ${mean[j]} vs ${v[j]}`);
    }
  }
});

Deno.test("QSGD draws come from the step's stream: the same stream gives the same code", () => {
  const v = vector(300, 3);
  const a = quantize(v, 7, 128, randomStream(5, "compress", 1, 9));
  const b = quantize(v, 7, 128, randomStream(5, "compress", 1, 9));
  const c = quantize(v, 7, 128, randomStream(5, "compress", 1, 10));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

Deno.test("a QSGD code of the wrong length is refused", () => {
  assert.throws(
    () => dequantizeInto(new Uint8Array(3), 8, 3, 8, new Float32Array(8), 1),
    /it has 3 bytes, expected 7/,
  );
});

Deno.test("QSGD levels round-trip at every width from 1 to 16 bits and odd lengths", () => {
  for (let width = 1; width <= 16; width++) {
    const levels = 2 ** width - 1;
    for (const d of [1, 3, 7, 9, 31, 100]) {
      // A bucket per value: each value is its bucket's norm, so it is the top level (powers of
      // two keep |v| · s / ‖v‖ exactly s).
      const v = Float32Array.from(
        { length: d },
        (_, j) => (j % 3 === 0 ? -1 : 1) * 2 ** (j % 9 - 4),
      );
      const out = decode(quantize(v, levels, 1, randomStream(width, "w", d)), d, levels, 1);
      assert.deepEqual([...out], [...v], `${width} bits, d ${d}`);
    }
  }
});

Deno.test("QSGD encodes and decodes to the same bytes with the vector kernels as with the JavaScript loops", () => {
  const run = (kernels: "js" | "wasm", v: Float32Array, levels: number, bucket: number) => {
    selectKernels(kernels);
    const random = randomStream(v.length + levels, "kernels");
    const code = quantize(v, levels, bucket, random);
    const next = random.nextUint32();
    const d = v.length;
    // Targets that already hold values (the decode adds), float64 and float32, two scales.
    const wide = Float64Array.from({ length: d }, (_, j) => Math.sin(j) * 1e-3);
    const narrow = Float32Array.from(wide);
    dequantizeInto(code, d, levels, bucket, wide, 0.25);
    dequantizeInto(code, d, levels, bucket, narrow, -3);
    return { code, next, wide: new Uint8Array(wide.buffer), narrow: new Uint8Array(narrow.buffer) };
  };
  try {
    for (const d of [0, 1, 9, 100, 1001]) {
      for (const levels of [1, 2, 3, 7, 15, 31, 100, 255, 1000, 65535]) {
        for (const bucket of [3, 64, 512]) {
          const v = vector(d, d + levels + bucket);
          if (d > 200) v.fill(0, 64, 192); // whole buckets of zeros (no draws, nothing decoded)
          if (d > 5) v[5] = -0; // a sign bit set on a zero
          if (d > 8 && levels === 255) v[8] = NaN; // its bucket's norm is NaN, its levels 0
          const js = run("js", v, levels, bucket);
          const wasm = run("wasm", v, levels, bucket);
          assert.deepEqual(wasm, js, `d ${d}, levels ${levels}, bucket ${bucket}`);
        }
      }
    }
  } finally {
    selectKernels("auto");
  }
});

Deno.test("QSGD decodes every width, bucket and offset as the bit-by-bit reference does", () => {
  for (let width = 1; width <= 16; width++) {
    const levels = 2 ** width - 1;
    for (const bucket of [1, 3, 8, 13, 64, 512]) {
      for (const d of [1, 7, 8, 9, 100, 1001]) {
        // Any levels and signs: random bytes after real norms (some buckets' norms zero).
        const random = randomStream(width * 7919 + bucket * 31 + d, "decode");
        const code = new Uint8Array(quantizedCodeBytes(d, levels, bucket));
        for (let i = 0; i < code.length; i++) code[i] = random.nextUint32() & 255;
        const buckets = Math.ceil(d / bucket);
        const norms = new Float32Array(code.buffer, 0, buckets);
        for (let b = 0; b < buckets; b++) norms[b] = b % 5 === 4 ? 0 : random.uniform() * 3;
        const start = Array.from({ length: d }, (_, j) => Math.cos(j) * 1e-2);
        // Both selections: above 8 bits the kernel, or else the JavaScript bit reader, decodes.
        for (const kernels of ["wasm", "js"] as const) {
          selectKernels(kernels);
          for (const Target of [Float64Array, Float32Array]) {
            const [got, want] = [Target.from(start), Target.from(start)];
            dequantizeInto(code, d, levels, bucket, got, 0.75);
            dequantizeIntoReference(code, d, levels, bucket, want, 0.75);
            assert.deepEqual(
              new Uint8Array(got.buffer),
              new Uint8Array(want.buffer),
              `${width} bits, bucket ${bucket}, d ${d}, ${Target.name}, ${kernels}`,
            );
          }
        }
        selectKernels("auto");
      }
    }
  }
});

Deno.test("QSGD's mean of codes is the float64 sum of their decodes, divided once", () => {
  for (const width of [1, 2, 3, 4, 5, 6, 7, 8, 9, 16]) {
    const levels = 2 ** width - 1;
    for (const bucket of [3, 64, 512]) {
      for (const d of [1, 5, 100, 1001]) {
        const codec = createCodec(qsgd({ levels, bucket }), { d, steps: 1 });
        const random = randomStream(width * 131 + bucket + d, "mean");
        // Any signs and levels after real norms (every fifth bucket's zero), as in a gather.
        const codes = [0, 1, 2].map(() => {
          const code = new Uint8Array(quantizedCodeBytes(d, levels, bucket));
          for (let i = 0; i < code.length; i++) code[i] = random.nextUint32() & 255;
          const norms = new Float32Array(code.buffer, 0, Math.ceil(d / bucket));
          norms.forEach((_, b) => norms[b] = b % 5 === 4 ? 0 : random.uniform() * 3);
          return code;
        });
        for (const n of [1, 3]) {
          const sum = new Float64Array(d);
          for (const code of codes.slice(0, n)) {
            dequantizeIntoReference(code, d, levels, bucket, sum, 1);
          }
          const expected = Float32Array.from(sum, (value) => value / n);
          selectKernels("wasm");
          const mean = codec.meanOf!(codes.slice(0, n), n);
          assert.deepEqual(mean, expected, `${width} bits, bucket ${bucket}, d ${d}, n ${n}`);
          selectKernels("js");
          assert.equal(codec.meanOf!(codes.slice(0, n), n), undefined, "js: the caller decodes");
          selectKernels("auto");
        }
      }
    }
  }
  const codec = createCodec(qsgd({ bits: 2 }), { d: 10, steps: 1 });
  assert.throws(() => codec.meanOf!([new Uint8Array(3)], 1), /has 3 bytes, expected/);
});
