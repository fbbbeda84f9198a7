/**
 * End-to-end runs of the transformer on text data: every algorithm on both transports, learning
 * on the embedded corpus, the `model.safetensors` it writes, and that file read back by an
 * independent PyTorch implementation of `shared/MODELS.md`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  adamw,
  allReduce,
  cosine,
  type Plan,
  run,
  text,
  train,
  transformer,
  warmup,
} from "../../mod.ts";
import { selectBackend } from "../../runtime/backend.ts";
import { embeddedText } from "../../runtime/data/text.ts";
import { createModel } from "../../runtime/models/create_model.ts";
import { decodeSafetensors } from "../../runtime/safetensors.ts";
import { tempRunFolder, transformerPlans, unigramEntropyBits, writeTinyText } from "./_plans.ts";

/** Runs a plan into a fresh folder and hands the result and folder to `use`; removes it after. */
async function runIn<T>(
  plan: Plan,
  options: Parameters<typeof run>[1],
  use: (result: Awaited<ReturnType<typeof run>>, folder: string) => Promise<T> | T,
): Promise<T> {
  const parent = await tempRunFolder();
  try {
    const result = await run(plan, { ...options, out: `${parent}/run` });
    return await use(result, `${parent}/run`);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
}

/** The model a plan starts from (rank 0's, which it broadcasts), as numbers. */
async function initialParameters(plan: Plan): Promise<number[]> {
  const model = await createModel(plan, selectBackend("cpu"));
  try {
    return [...model.initialParameters(plan.seed)];
  } finally {
    model.dispose();
  }
}

/** Runs `body` with the tiny text file of {@linkcode writeTinyText} in a temporary folder. */
async function withTinyText(body: (file: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gossamer_text_" });
  try {
    const file = join(dir, "tiny.txt");
    await writeTinyText(file);
    await body(file);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("every base, outer and compressor runs the transformer on both transports with identical parameters (§5.10)", async (t) => {
  await withTinyText(async (file) => {
    for (const [name, plan] of Object.entries(transformerPlans(file))) {
      await t.step(name, async () => {
        const memory = await runIn(plan, { transport: "memory" }, (r) => r);
        const tcp = await runIn(plan, { transport: "tcp" }, (r) => r);
        assert.equal(memory.summary.status, "completed");
        assert.equal(memory.params.average.length, 3000);
        assert.deepEqual(tcp.params, memory.params);
        // The same frames are counted by both transports.
        assert.deepEqual(tcp.summary.bytes, memory.summary.bytes);
        assert.ok(
          memory.summary.bytes.every((bytes) => bytes.sent.base + bytes.sent.compressed > 0),
        );
        // Training moved the model away from the plan's initialisation.
        assert.notDeepEqual(memory.params.average, await initialParameters(plan));
        // The final evaluation is a next-byte loss, below the 8 bits of a uniform guess.
        const final = memory.summary.final!;
        assert.ok(final.bitsPerToken! > 0 && final.bitsPerToken! < 8, `${final.bitsPerToken}`);
      });
    }
  });
});
