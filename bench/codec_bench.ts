/**
 * Encode and decode costs of the compressor codecs, beside a plain copy of the same vector, for
 * models of 1M and 10M parameters. Divide the vector length by the time per iteration for
 * elements per second.
 *
 * Run: `deno task bench`
 *
 * @module
 */

import { topK } from "../dsl/compress.ts";
import { createCodec } from "../runtime/compressors/registry.ts";
import { randomStream } from "../runtime/random.ts";

for (const d of [1_000_000, 10_000_000]) {
  const random = randomStream(0, "bench", d);
  const values = Float32Array.from({ length: d }, () => random.normal());
  const target = new Float64Array(d);
  const context = { step: 0, random: randomStream(0, "compress") };
  const group = `d = ${d.toLocaleString("en-US")}`;

  Deno.bench(`copy (baseline), ${group}`, { group, baseline: true }, () => {
    values.slice();
  });

  const codec = createCodec(topK({ k: d / 100 }), d);
  const code = codec.encode(values, context);
  Deno.bench(`topK 1% encode, ${group}`, { group }, () => {
    codec.encode(values, context);
  });
  Deno.bench(`topK 1% decode, ${group}`, { group }, () => {
    codec.addDecoded(code, target, 1);
  });
}
