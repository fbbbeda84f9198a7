/**
 * Encode and decode costs of the compressor codecs, beside a plain copy of the same vector, for
 * models of 1M and 10M parameters. Divide the vector length by the time per iteration for
 * elements per second.
 *
 * Run: `deno task bench`
 *
 * @module
 */

import { qsgd, topK } from "../dsl/compressors/mod.ts";
import { CountSketch } from "../runtime/compressors/sketched_sgd.ts";
import { createCodec } from "../runtime/compressors/registry.ts";
import { randomStream } from "../runtime/random.ts";
import { selectKernels } from "../runtime/kernels/vector_kernels.ts";
import { selectTopK } from "../runtime/compressors/top_k.ts";

for (const d of [1_000_000, 10_000_000]) {
  const random = randomStream(0, "bench", d);
  const values = Float32Array.from({ length: d }, () => random.normal());
  const target = new Float64Array(d);
  const context = { step: 0, random: randomStream(0, "compress") };
  const group = `d = ${d.toLocaleString("en-US")}`;

  Deno.bench(`copy (baseline), ${group}`, { group, baseline: true }, () => {
    values.slice();
  });
  const copy = new Float32Array(d);
  Deno.bench(`copy loop, ${group}`, { group }, () => {
    for (let j = 0; j < d; j++) copy[j] = values[j]!;
  });

  for (const bits of [2, 4, 8]) {
    const q = createCodec(qsgd({ bits }), { d, steps: 1 });
    const qCode = q.encode(values, context);
    // The vector kernels against the JavaScript loops they replace (bench/kernels_bench.ts
    // compares them interleaved).
    for (const kernels of ["js", "wasm"] as const) {
      Deno.bench(`qsgd ${bits} bits encode (${kernels}), ${group}`, { group }, () => {
        selectKernels(kernels);
        q.encode(values, context);
      });
    }
    selectKernels("auto");
    Deno.bench(`qsgd ${bits} bits decode, ${group}`, { group }, () => {
      q.addDecoded(qCode, target, 1);
    });
  }

  const sketch = new CountSketch(5, 10_000, d, 0);
  const table = new Float32Array(5 * 10_000);
  Deno.bench(`count sketch update (5 × 10,000), ${group}`, { group }, () => {
    sketch.accumulate(values, table);
  });
  Deno.bench(`count sketch estimates (5 rows), ${group}`, { group }, () => {
    sketch.estimates(table);
  });

  const codec = createCodec(topK({ k: d / 100 }), { d, steps: 1 });
  const code = codec.encode(values, context);
  // The selection on magnitude bits against the reference quickselect (bench/top_k_bench.ts
  // compares them interleaved).
  for (const selection of ["reference", "fast"] as const) {
    Deno.bench(`topK 1% encode (${selection}), ${group}`, { group }, () => {
      selectTopK(selection);
      codec.encode(values, context);
    });
  }
  selectTopK("fast");
  Deno.bench(`topK 1% decode, ${group}`, { group }, () => {
    codec.addDecoded(code, target, 1);
  });
}
