/**
 * The vector kernels change no bit of a run: the same plan, with the WebAssembly SIMD kernels and
 * with the JavaScript loops they replace, ends with identical parameters (issue 23); so does the
 * top-k selection on magnitude bits against the reference quickselect.
 */
import assert from "node:assert/strict";
import { allReduce, mlp, mnist, qsgd, run, sgd, topK, train } from "../../mod.ts";
import { selectTopK } from "../../runtime/compressors/top_k.ts";
import { selectKernels } from "../../runtime/kernels/vector_kernels.ts";
import { tempRunFolder } from "./_plans.ts";

Deno.test("a QSGD all-reduce run ends with the same parameters with either kernels", async () => {
  // 12,730 parameters: QSGD's encode and decode and the ring's sum run through the kernels.
  const plan = train(mlp({ hidden: [16] }))
    .data(mnist({ trainSize: 300, testSize: 100, batchSize: 16 }))
    .workers(3)
    .optimizer(sgd({ lr: 0.1 }))
    .base(allReduce())
    .compress(qsgd({ bits: 4 }))
    .steps(12)
    .evalEvery(12)
    .compile();
  const parent = await tempRunFolder();
  try {
    const params: number[][] = [];
    for (const kernels of ["js", "wasm"] as const) {
      selectKernels(kernels);
      const result = await run(plan, { out: `${parent}/${kernels}`, transport: "memory" });
      params.push(result.params.average);
    }
    assert.equal(params[0]!.length, 12_730);
    assert.deepEqual(params[1], params[0]);
  } finally {
    selectKernels("auto");
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("a top-k all-reduce run ends with the same parameters with either top-k selection", async () => {
  // 12,730 parameters, 1% kept with error feedback: long enough for the fast selection (the
  // memory transport runs the workers in this thread, so selectTopK reaches them).
  const plan = train(mlp({ hidden: [16] }))
    .data(mnist({ trainSize: 300, testSize: 100, batchSize: 16 }))
    .workers(3)
    .optimizer(sgd({ lr: 0.1 }))
    .base(allReduce())
    .compress(topK({ k: 127 }))
    .steps(12)
    .evalEvery(12)
    .compile();
  const parent = await tempRunFolder();
  try {
    const params: number[][] = [];
    for (const selection of ["reference", "fast"] as const) {
      selectTopK(selection);
      const result = await run(plan, { out: `${parent}/${selection}`, transport: "memory" });
      params.push(result.params.average);
    }
    assert.equal(params[0]!.length, 12_730);
    assert.deepEqual(params[1], params[0]);
  } finally {
    selectTopK("fast");
    await Deno.remove(parent, { recursive: true });
  }
});
