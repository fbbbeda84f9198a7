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
  text,
  train,
  transformer,
  warmup,
} from "../../mod.ts";
import { selectBackend } from "../../runtime/backend.ts";
import { embeddedText } from "../../runtime/data/text.ts";
import { createModel } from "../../runtime/models/create_model.ts";
import { decodeSafetensors, readSafetensorsHeader } from "../../runtime/safetensors.ts";
import { runIn, transformerPlans, unigramEntropyBits, writeTinyText } from "./_plans.ts";
import { torchPython } from "../../bench/_torch_python.ts";

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
        assert.deepEqual([memory.summary.transport, tcp.summary.transport], ["memory", "tcp"]);
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

Deno.test("a few hundred steps on the embedded corpus bring validation bits per byte well below its unigram entropy", async () => {
  // The embedded Moby-Dick's byte frequencies carry 4.526 bits per byte: what a model that
  // ignores context can reach at best. One block of dModel 64 with 16 bytes of context, 800
  // AdamW steps of 32 windows on one worker (warm-up into a cosine) reached 3.32 bits per byte
  // on the validation windows (0.73 of the entropy, about 25 s on two shared cores); 0.8 of the
  // entropy is 3.62. Even the whole text's own bigram statistics (the entropy of a byte given
  // the one before, measured in-sample) carry 3.52 bits per byte: the model uses more context.
  const entropy = unigramEntropyBits(await embeddedText());
  assert.ok(Math.abs(entropy - 4.526) < 5e-4, `unigram entropy ${entropy}`);
  const steps = 800;
  const plan = train(transformer({ layers: 1, dModel: 64, heads: 4, context: 16 }))
    .data(text({ batchSize: 32 }))
    .workers(1)
    .optimizer(adamw({ lr: warmup({ steps: 30, then: cosine({ lr: 0.02 }) }), clipNorm: 1 }))
    .base(allReduce())
    .steps(steps)
    .evalEvery(steps)
    .seed(1)
    .compile();
  await runIn(plan, { transport: "memory" }, (result) => {
    const final = result.summary.final!;
    assert.equal(final.step, steps - 1);
    assert.ok(Math.abs(final.bitsPerToken! - final.testLoss / Math.LN2) < 1e-12);
    assert.ok(
      final.bitsPerToken! < 0.8 * entropy,
      `${final.bitsPerToken} bits per byte against ${entropy} of unigram entropy`,
    );
  });
});

/** The Hugging Face GPT-2 tensors of `shared/MODELS.md` for `layers` blocks, in order. */
function gpt2Tensors(
  layers: number,
  d: number,
  context: number,
  vocabulary: number,
): [string, number[]][] {
  const blocks = Array.from({ length: layers }, (_, l): [string, number[]][] => [
    [`transformer.h.${l}.ln_1.weight`, [d]],
    [`transformer.h.${l}.ln_1.bias`, [d]],
    [`transformer.h.${l}.attn.c_attn.weight`, [d, 3 * d]],
    [`transformer.h.${l}.attn.c_attn.bias`, [3 * d]],
    [`transformer.h.${l}.attn.c_proj.weight`, [d, d]],
    [`transformer.h.${l}.attn.c_proj.bias`, [d]],
    [`transformer.h.${l}.ln_2.weight`, [d]],
    [`transformer.h.${l}.ln_2.bias`, [d]],
    [`transformer.h.${l}.mlp.c_fc.weight`, [d, 4 * d]],
    [`transformer.h.${l}.mlp.c_fc.bias`, [4 * d]],
    [`transformer.h.${l}.mlp.c_proj.weight`, [4 * d, d]],
    [`transformer.h.${l}.mlp.c_proj.bias`, [d]],
  ]);
  return [
    ["transformer.wte.weight", [vocabulary, d]],
    ["transformer.wpe.weight", [context, d]],
    ...blocks.flat(),
    ["transformer.ln_f.weight", [d]],
    ["transformer.ln_f.bias", [d]],
  ];
}

/** A two-block transformer trained on the tiny text by 2 workers. */
function twoBlocks(file: string, steps: number, lr: number): Plan {
  return train(transformer({ layers: 2, dModel: 16, heads: 2, context: 16 }))
    .data(text({ file, batchSize: 8 }))
    .workers(2)
    .optimizer(adamw({ lr, clipNorm: 1 }))
    .base(allReduce())
    .steps(steps)
    .evalEvery(steps)
    .seed(3)
    .compile();
}

Deno.test("model.safetensors of a transformer run holds the MODELS.md tensors, which are the averaged model", async () => {
  await withTinyText(async (file) => {
    await runIn(twoBlocks(file, 30, 0.01), { transport: "memory" }, async (result, folder) => {
      const bytes = await Deno.readFile(`${folder}/model.safetensors`);
      const stored = decodeSafetensors(bytes);
      const { header } = readSafetensorsHeader(bytes) as {
        header: Record<string, { shape: number[]; dtype: string }>;
      };
      const expected = gpt2Tensors(2, 16, 16, 256);
      assert.deepEqual([...stored.tensors.keys()], expected.map(([name]) => name));
      for (const [name, shape] of expected) {
        assert.deepEqual(header[name]?.shape, shape, name);
        assert.equal(header[name]?.dtype, "F32", name);
      }
      // 256·16 + 16·16 + 2·(12·16² + 13·16) + 2·16 parameters, the tied head stored once.
      assert.equal(
        result.params.average.length,
        256 * 16 + 16 * 16 + 2 * (12 * 256 + 13 * 16) + 32,
      );
      const flat = [...stored.tensors.values()].flatMap((tensor) => [...tensor]);
      assert.deepEqual(flat, [...Float32Array.from(result.params.average)]);
      assert.equal(stored.metadata.model, "transformer");
    });
  });
});

const python = await torchPython();

Deno.test({
  name: "PyTorch reads model.safetensors by its Hugging Face names and gets the run's test loss",
  ignore: python === null,
  async fn() {
    const script = fileURLToPath(new URL("../fixtures/gpt2_eval.py", import.meta.url));
    await withTinyText(async (file) => {
      const plan = twoBlocks(file, 200, 0.03);
      await runIn(plan, { transport: "memory" }, async (result, folder) => {
        const output = await new Deno.Command(python!, {
          args: [
            script,
            `${folder}/model.safetensors`,
            file,
            "--heads",
            "2",
            "--validation",
            "0.1",
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const stderr = new TextDecoder().decode(output.stderr);
        assert.ok(output.success, stderr);
        const torch = JSON.parse(
          new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!,
        );
        const testLoss = result.summary.final!.testLoss;
        // Trained long enough that attention matters: 2.437 nats, far from a uniform guess
        // (ln 256 = 5.545). PyTorch agrees to 7e-7 relative; reading the same file with 4
        // heads instead of 2 is 2.5e-3 off, with 1 head 3.6e-2.
        assert.ok(testLoss < 2.8, `test loss ${testLoss}`);
        assert.ok(
          Math.abs(torch.testLoss - testLoss) <= 1e-4 * testLoss,
          `PyTorch ${torch.testLoss} vs gossamer ${testLoss}`,
        );
      });
    });
  },
});
