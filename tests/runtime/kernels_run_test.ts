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

/** An all-reduce of an MLP with 12,730 parameters on 3 workers, through `compressor`. */
const compressedPlan = (compressor: ReturnType<typeof qsgd> | ReturnType<typeof topK>) =>
  train(mlp({ hidden: [16] }))
    .data(mnist({ trainSize: 300, testSize: 100, batchSize: 16 }))
    .workers(3)
    .optimizer(sgd({ lr: 0.1 }))
    .base(allReduce())
    .compress(compressor)
    .steps(12)
    .evalEvery(12)
    .compile();

/**
 * The plan's average parameters with each choice made by `select` (the memory transport runs the
 * workers in this thread, so a process-wide choice reaches them); `reset` restores the default.
 */
async function averageWith<C extends string>(
  plan: ReturnType<typeof compressedPlan>,
  choices: readonly C[],
  select: (choice: C) => void,
  reset: () => void,
): Promise<number[][]> {
  const parent = await tempRunFolder();
  try {
    const params: number[][] = [];
    for (const choice of choices) {
      select(choice);
      const result = await run(plan, { out: `${parent}/${choice}`, transport: "memory" });
      params.push(result.params.average);
    }
    return params;
  } finally {
    reset();
    await Deno.remove(parent, { recursive: true });
  }
}

Deno.test("a QSGD all-reduce run ends with the same parameters with either kernels", async () => {
  // QSGD's encode and decode and the ring's sum run through the kernels.
  const params = await averageWith(
    compressedPlan(qsgd({ bits: 4 })),
    ["js", "wasm"],
    selectKernels,
    () => selectKernels("auto"),
  );
  assert.equal(params[0]!.length, 12_730);
  assert.deepEqual(params[1], params[0]);
});

Deno.test("a top-k all-reduce run ends with the same parameters with either top-k selection", async () => {
  // 1% kept with error feedback: long enough for the fast selection.
  const params = await averageWith(
    compressedPlan(topK({ k: 127 })),
    ["reference", "fast"],
    selectTopK,
    () => selectTopK("fast"),
  );
  assert.equal(params[0]!.length, 12_730);
  assert.deepEqual(params[1], params[0]);
});
