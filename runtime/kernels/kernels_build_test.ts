import assert from "node:assert/strict";
import { generatedModule, loadWabt, SOURCE, TARGET } from "../../scripts/build_kernels.ts";

const wabt = await loadWabt();
if (typeof wabt === "string") {
  console.log(`Skipping the kernels' build check: ${wabt}`);
}

Deno.test({
  name: "the committed kernel module is the build of vector_kernels.wat",
  ignore: typeof wabt === "string",
  fn: async () => {
    if (typeof wabt === "string") return;
    const built = generatedModule(wabt, await Deno.readTextFile(SOURCE));
    assert.equal(
      await Deno.readTextFile(TARGET),
      built,
      "runtime/kernels/_vector_kernels_wasm.ts is stale: run deno run -A scripts/build_kernels.ts",
    );
  },
});

Deno.test({
  name: "a change to the source changes the build",
  ignore: typeof wabt === "string",
  fn: async () => {
    if (typeof wabt === "string") return;
    const text = await Deno.readTextFile(SOURCE);
    const changed = text.replace(
      "(f32x4.add (v128.load (local.get $a))",
      "(f32x4.sub (v128.load (local.get $a))",
    );
    assert.notEqual(changed, text);
    assert.notEqual(generatedModule(wabt, changed), await Deno.readTextFile(TARGET));
    assert.throws(() => generatedModule(wabt, text.replace(" shared)", ")")), /lacks/);
  },
});
