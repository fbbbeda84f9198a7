import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import * as tf from "../../deps/tfjs.ts";
import { selectBackend } from "../backend.ts";
import { randomStream } from "../random.ts";
import type { Batch } from "../data/types.ts";
import {
  createTransformerModel,
  transformerLogits,
  type TransformerShape,
  transformerTensors,
} from "./transformer.ts";
import {
  referenceLogits,
  referenceLoss,
  type ReferenceParameters,
} from "./transformer_reference.ts";

/** The tiny model most tests use: L=2, D=8, H=2, T=5, V=11. */
const TINY: TransformerShape = { layers: 2, dModel: 8, heads: 2, context: 5, mlpRatio: 4 };
const V = 11;
const BACKENDS = ["wasm", "cpu"] as const;

/** The parameters by name, split by the list's shapes (checked against MODELS.md below). */
function byName(shape: TransformerShape, vocabulary: number, flat: ArrayLike<number>) {
  const params = new Map<string, Float64Array>();
  let offset = 0;
  for (const { name, shape: dims } of transformerTensors(shape, vocabulary)) {
    const size = dims.reduce((a, b) => a * b, 1);
    params.set(name, Float64Array.from({ length: size }, (_, i) => flat[offset + i]!));
    offset += size;
  }
  assert.equal(offset, flat.length);
  return params as ReferenceParameters;
}

/**
 * Parameters far from the initial ones, so that every part of the model matters: every entry
 * N(0, 0.3), LayerNorm weights 1 + N(0, 0.3), biases N(0, 0.3).
 */
function randomParameters(shape: TransformerShape, vocabulary: number, seed: number) {
  const random = randomStream(seed, "test-params");
  const parts = transformerTensors(shape, vocabulary).flatMap(({ name, shape: dims }) => {
    const size = dims.reduce((a, b) => a * b, 1);
    const base = /ln_(1|2|f)\.weight$/.test(name) ? 1 : 0;
    return Array.from({ length: size }, () => base + random.normal(0, 0.3));
  });
  return Float32Array.from(parts);
}

/** `size` windows of `t` random tokens and their (random) targets. */
function randomBatch(size: number, t: number, vocabulary: number, seed: number): Batch {
  const random = randomStream(seed, "test-batch");
  return {
    x: Float32Array.from({ length: size * t }, () => random.integer(vocabulary)),
    y: Float32Array.from({ length: size * t }, () => random.integer(vocabulary)),
    size,
  };
}

/** A batch's windows as arrays of ids, for the reference. */
function windows(values: Float32Array, size: number): number[][] {
  const t = values.length / size;
  return Array.from({ length: size }, (_, w) => [...values.subarray(w * t, (w + 1) * t)]);
}

/** The reference's mean loss and accuracy on a batch. */
function reference(shape: TransformerShape, params: ArrayLike<number>, batch: Batch) {
  return referenceLoss(
    shape,
    V,
    byName(shape, V, params),
    windows(batch.x, batch.size),
    windows(batch.y, batch.size),
  );
}

Deno.test("tensor names and shapes are MODELS.md's list; the count is the closed form", () => {
  const d = 8, t = 5, f = 32;
  const block = (l: number) => [
    [`transformer.h.${l}.ln_1.weight`, [d]],
    [`transformer.h.${l}.ln_1.bias`, [d]],
    [`transformer.h.${l}.attn.c_attn.weight`, [d, 3 * d]],
    [`transformer.h.${l}.attn.c_attn.bias`, [3 * d]],
    [`transformer.h.${l}.attn.c_proj.weight`, [d, d]],
    [`transformer.h.${l}.attn.c_proj.bias`, [d]],
    [`transformer.h.${l}.ln_2.weight`, [d]],
    [`transformer.h.${l}.ln_2.bias`, [d]],
    [`transformer.h.${l}.mlp.c_fc.weight`, [d, f]],
    [`transformer.h.${l}.mlp.c_fc.bias`, [f]],
    [`transformer.h.${l}.mlp.c_proj.weight`, [f, d]],
    [`transformer.h.${l}.mlp.c_proj.bias`, [d]],
  ];
  const expected = [
    ["transformer.wte.weight", [V, d]],
    ["transformer.wpe.weight", [t, d]],
    ...block(0),
    ...block(1),
    ["transformer.ln_f.weight", [d]],
    ["transformer.ln_f.bias", [d]],
  ].map(([name, shape]) => ({ name, shape }));
  assert.deepEqual(transformerTensors(TINY, V), expected);
  // Closed form: V·D + T·D + L·(4D² + 2D·F + F + 9D) + 2D; here 88 + 40 + 2·872 + 16.
  const closed = (s: TransformerShape, v: number) => {
    const [dm, fm] = [s.dModel, s.mlpRatio * s.dModel];
    return v * dm + s.context * dm + s.layers * (4 * dm * dm + 2 * dm * fm + fm + 9 * dm) + 2 * dm;
  };
  assert.equal(closed(TINY, V), 1888);
  for (
    const [s, v] of [[TINY, V], [
      { layers: 3, dModel: 12, heads: 3, context: 7, mlpRatio: 2.5 },
      256,
    ]] as const
  ) {
    const sum = transformerTensors(s, v).reduce(
      (n, x) => n + x.shape.reduce((a, b) => a * b, 1),
      0,
    );
    assert.equal(sum, closed(s, v));
  }
  // GPT-2 small: 124,439,808 parameters (the tied head counted once).
  const gpt2 = { layers: 12, dModel: 768, heads: 12, context: 1024, mlpRatio: 4 };
  assert.equal(closed(gpt2, 50257), 124439808);
  const gpt2Sum = transformerTensors(gpt2, 50257)
    .reduce((n, x) => n + x.shape.reduce((a, b) => a * b, 1), 0);
  assert.equal(gpt2Sum, 124439808);
});

Deno.test("bad sizes are refused with a message naming them", () => {
  assert.throws(
    () => transformerTensors({ ...TINY, heads: 3 }, V),
    /dModel 8 is not a multiple of heads 3/,
  );
  assert.throws(
    () => transformerTensors({ ...TINY, layers: 0 }, V),
    /layers must be a positive integer: 0/,
  );
  assert.throws(() => transformerTensors(TINY, 0), /vocabulary must be a positive integer/);
  assert.throws(() => transformerTensors({ ...TINY, mlpRatio: 0.1 }, V), /mlpRatio 0.1 × dModel 8/);
});

for (const backend of BACKENDS) {
  Deno.test(`${backend}: logits and loss equal the float64 reference within 1e-5 relative`, async () => {
    await selectBackend(backend);
    const model = await createTransformerModel(TINY, V);
    try {
      const params = randomParameters(TINY, V, 1);
      // Full windows and shorter ones (T' < context uses the first T' position rows).
      for (const t of [5, 3]) {
        const batch = randomBatch(3, t, V, 2 + t);
        const z = await transformerLogits(TINY, V, params, batch.x, batch.size);
        const named = byName(TINY, V, params);
        let largest = 0;
        let worst = 0;
        windows(batch.x, batch.size).forEach((window, w) => {
          referenceLogits(TINY, V, named, window).forEach((row, j) => {
            row.forEach((expected, v) => {
              largest = Math.max(largest, Math.abs(expected));
              worst = Math.max(worst, Math.abs(z[(w * t + j) * V + v]! - expected));
            });
          });
        });
        assert.ok(largest > 1, `logits should be of order 1, largest ${largest}`);
        assert.ok(worst <= 1e-5 * largest, `logit error ${worst} (largest ${largest})`);
        const expected = reference(TINY, params, batch);
        const { loss, accuracy } = await model.evaluate(params, batch);
        assert.ok(
          Math.abs(loss - expected.loss) <= 1e-5 * expected.loss,
          `${loss} vs ${expected.loss}`,
        );
        assert.equal(accuracy, expected.accuracy);
        const fromGradient = (await model.gradient(params, batch)).loss;
        assert.ok(Math.abs(fromGradient - expected.loss) <= 1e-5 * expected.loss);
      }
    } finally {
      model.dispose();
    }
  });

  Deno.test(`${backend}: gradients agree with central differences of the float64 reference loss`, async () => {
    await selectBackend(backend);
    const model = await createTransformerModel(TINY, V);
    try {
      const params = randomParameters(TINY, V, 3);
      const batch = randomBatch(3, 5, V, 4);
      // Token 10 is a target but never an input: its wte row gets the head's gradient only; an
      // input-only token's row gets the embedding's plus the head's (every row is in the softmax).
      const x = batch.x.map((v) => v === 10 ? 9 : v);
      const y = batch.y.slice();
      y[0] = 10;
      const data = { x, y, size: batch.size };
      const { grad } = await model.gradient(params, data);
      const offsets = new Map<string, number>();
      let offset = 0;
      for (const { name, shape } of transformerTensors(TINY, V)) {
        offsets.set(name, offset);
        offset += shape.reduce((a, b) => a * b, 1);
      }
      const picks: [string, number][] = [
        ["transformer.wte.weight", 10 * 8 + 3], // head only
        ["transformer.wte.weight", x[0]! * 8 + 1], // embedding and head
        ["transformer.wte.weight", x[7]! * 8 + 6],
        ["transformer.wpe.weight", 0 * 8 + 2],
        ["transformer.wpe.weight", 4 * 8 + 7],
        ["transformer.h.0.ln_1.weight", 5],
        ["transformer.h.0.ln_1.bias", 2],
        ["transformer.h.0.attn.c_attn.weight", 3 * 24 + 1], // q
        ["transformer.h.0.attn.c_attn.weight", 5 * 24 + 8 + 6], // k
        ["transformer.h.1.attn.c_attn.weight", 2 * 24 + 16 + 3], // v
        ["transformer.h.1.attn.c_attn.bias", 17],
        ["transformer.h.0.attn.c_proj.weight", 6 * 8 + 1],
        ["transformer.h.1.attn.c_proj.bias", 4],
        ["transformer.h.1.ln_2.weight", 0],
        ["transformer.h.0.mlp.c_fc.weight", 7 * 32 + 30],
        ["transformer.h.1.mlp.c_fc.bias", 12],
        ["transformer.h.1.mlp.c_proj.weight", 20 * 8 + 5],
        ["transformer.h.0.mlp.c_proj.bias", 3],
        ["transformer.ln_f.weight", 4],
        ["transformer.ln_f.bias", 6],
      ];
      const base = Float64Array.from(params);
      const step = 1e-5;
      for (const [name, within] of picks) {
        const j = offsets.get(name)! + within;
        const plus = base.slice();
        const minus = base.slice();
        plus[j] = plus[j]! + step;
        minus[j] = minus[j]! - step;
        const fd = (reference(TINY, plus, data).loss - reference(TINY, minus, data).loss) /
          (2 * step);
        assert.ok(
          Math.abs(fd) > 1e-4,
          `${name}[${within}]: a gradient this small tests nothing (${fd})`,
        );
        assert.ok(
          Math.abs(grad[j]! - fd) <= 1e-5 + 1e-3 * Math.abs(fd),
          `${name}[${within}]: gradient ${grad[j]}, central difference ${fd}`,
        );
      }
    } finally {
      model.dispose();
    }
  });

  Deno.test(`${backend}: changing a later token never changes an earlier position's logits`, async () => {
    await selectBackend(backend);
    const params = randomParameters(TINY, V, 5);
    const x = new Float32Array([3, 1, 4, 1, 5]);
    const before = await transformerLogits(TINY, V, params, x, 1);
    for (const changed of [4, 2, 0]) {
      const other = x.slice();
      other[changed] = (other[changed]! + 3) % V;
      const after = await transformerLogits(TINY, V, params, other, 1);
      assert.deepEqual(after.subarray(0, changed * V), before.subarray(0, changed * V));
      const moved = after.subarray(changed * V).some((z, i) =>
        Math.abs(z - before[changed * V + i]!) > 1e-3
      );
      assert.ok(moved, `changing token ${changed} should change its own position's logits`);
    }
  });

  Deno.test(`${backend}: no tensor leaks across gradient and evaluate; chunked evaluate equals unchunked`, async () => {
    await selectBackend(backend);
    const whole = await createTransformerModel(TINY, V, { evaluationWindows: 100 });
    const ones = await createTransformerModel(TINY, V, { evaluationWindows: 1 });
    const pairs = await createTransformerModel(TINY, V, { evaluationWindows: 2 });
    try {
      const params = randomParameters(TINY, V, 6);
      const batch = randomBatch(5, 5, V, 7);
      await whole.gradient(params, batch);
      await whole.evaluate(params, batch);
      const count = tf.memory().numTensors;
      const bytes = tf.memory().numBytes;
      for (let i = 0; i < 3; i++) {
        await whole.gradient(params, batch);
        await whole.gradient(params, batch, new Float32Array(whole.parameterCount));
        await pairs.evaluate(params, batch);
      }
      assert.equal(tf.memory().numTensors, count);
      assert.equal(tf.memory().numBytes, bytes);
      const a = await whole.evaluate(params, batch);
      const b = await ones.evaluate(params, batch);
      const c = await pairs.evaluate(params, batch);
      const expected = reference(TINY, params, batch);
      for (const result of [a, b, c]) {
        assert.ok(Math.abs(result.loss - a.loss) <= 1e-6 * a.loss, `${result.loss} vs ${a.loss}`);
        assert.equal(result.accuracy, expected.accuracy);
      }
      assert.equal(tf.memory().numTensors, count);
    } finally {
      whole.dispose();
      ones.dispose();
      pairs.dispose();
    }
  });
}

Deno.test("init: biases 0, LayerNorm weights 1, weights N(0, 0.02), c_proj N(0, 0.02/√(2L)), seeded", async () => {
  await selectBackend("wasm");
  const shape = { layers: 3, dModel: 64, heads: 4, context: 32, mlpRatio: 4 };
  const model = await createTransformerModel(shape, 100);
  try {
    const a = model.initialParameters(7);
    assert.deepEqual(a, model.initialParameters(7));
    assert.notDeepEqual(a, model.initialParameters(8));
    let offset = 0;
    const firsts: number[] = [];
    for (const { name, shape: dims } of transformerTensors(shape, 100)) {
      const size = dims.reduce((m, n) => m * n, 1);
      const values = a.subarray(offset, offset + size);
      offset += size;
      if (/ln_(1|2|f)\.weight$/.test(name)) {
        assert.ok(values.every((v) => v === 1), name);
      } else if (dims.length === 1) {
        assert.ok(values.every((v) => v === 0), name);
      } else {
        const std = /c_proj\.weight$/.test(name) ? 0.02 / Math.sqrt(6) : 0.02;
        const mean = values.reduce((s, v) => s + v, 0) / size;
        const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / size);
        // The sample sd of n normal draws has relative standard error 1/√(2n) and the sample mean
        // standard error std/√n; five standard errors (the smallest tensor, 64×64, gives 5.5%
        // relative) fail by chance about once in two million.
        assert.ok(
          Math.abs(sd / std - 1) < 5 / Math.sqrt(2 * size),
          `${name}: sd ${sd}, expected ${std}`,
        );
        assert.ok(Math.abs(mean) < 5 * std / Math.sqrt(size), `${name}: mean ${mean}`);
        firsts.push(values[0]!);
      }
    }
    assert.equal(offset, model.parameterCount);
    // Every weight has its own stream: no two start with the same draw.
    assert.equal(new Set(firsts).size, firsts.length);
  } finally {
    model.dispose();
  }
});

Deno.test("a gradient written into a caller's buffer equals a fresh one; bad batches are refused", async () => {
  await selectBackend("wasm");
  const model = await createTransformerModel(TINY, V);
  try {
    const params = randomParameters(TINY, V, 8);
    const batch = randomBatch(2, 5, V, 9);
    const fresh = await model.gradient(params, batch);
    const into = new Float32Array(model.parameterCount).fill(Number.NaN);
    const reused = await model.gradient(params, batch, into);
    assert.equal(reused.grad, into);
    assert.deepEqual([...into], [...fresh.grad]);
    assert.notEqual((await model.gradient(params, batch, new Float32Array(3))).grad.length, 3);
    await assert.rejects(
      () => model.gradient(params, { x: new Float32Array(12), y: new Float32Array(12), size: 2 }),
      /at most 5 tokens/,
    );
    await assert.rejects(
      () => model.evaluate(params.subarray(1), batch),
      /Expected 1888 parameters/,
    );
    const outside = { ...batch, y: batch.y.map((v, i) => i === 3 ? V : v) };
    await assert.rejects(() => model.gradient(params, outside), /Token 11 at position 3 of y/);
    const fraction = { ...batch, x: batch.x.map((v, i) => i === 0 ? 0.5 : v) };
    await assert.rejects(() => model.evaluate(params, fraction), /Token 0.5 at position 0 of x/);
  } finally {
    model.dispose();
  }
  await assert.rejects(
    () => model.evaluate(new Float32Array(1888), randomBatch(1, 5, V, 1)),
    /disposed/,
  );
});

Deno.test("SGD on a repeating sequence drives the loss far below log V", async () => {
  await selectBackend("wasm");
  const model = await createTransformerModel(TINY, V);
  try {
    // Windows of the cycle 0, 1, …, 10: each next token follows from the current one.
    const x = Float32Array.from({ length: 4 * 5 }, (_, i) => (i * 3 + Math.floor(i / 5)) % V);
    const batch = { x, y: x.map((v) => (v + 1) % V), size: 4 };
    const params = model.initialParameters(1);
    const before = (await model.evaluate(params, batch)).loss;
    // Small initial weights: every token about equally likely.
    assert.ok(Math.abs(before - Math.log(V)) < 0.1, `initial loss ${before}`);
    for (let step = 0; step < 60; step++) {
      const { grad } = await model.gradient(params, batch);
      for (let i = 0; i < params.length; i++) params[i] = params[i]! - 0.5 * grad[i]!;
    }
    const after = await model.evaluate(params, batch);
    assert.ok(after.loss < 0.5, `loss ${before} → ${after.loss}`);
    assert.equal(after.accuracy, 1);
  } finally {
    model.dispose();
  }
});

Deno.test("webgpu (when an adapter exists): logits match the reference, gradients match wasm", async () => {
  const { probeWebGpu } = await import("../backend.ts");
  if (!(await probeWebGpu()).available) return; // nothing to check without an adapter
  const params = randomParameters(TINY, V, 10);
  const batch = randomBatch(2, 5, V, 11);
  // In a child process, as in backend_test.ts: a WebGPU device is not for the test process.
  const here = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
  const code = `const { selectBackend } = await import(${here("../backend.ts")});
    const { createTransformerModel, transformerLogits } = await import(${here("./transformer.ts")});
    const tf = await import(${here("../../deps/tfjs.ts")});
    await selectBackend("webgpu");
    const shape = ${JSON.stringify(TINY)};
    const params = new Float32Array(${JSON.stringify([...params])});
    const batch = { x: new Float32Array(${JSON.stringify([...batch.x])}),
      y: new Float32Array(${JSON.stringify([...batch.y])}), size: ${batch.size} };
    const model = await createTransformerModel(shape, ${V});
    await model.gradient(params, batch);
    const count = tf.memory().numTensors;
    const logits = await transformerLogits(shape, ${V}, params, batch.x, batch.size);
    const { loss, grad } = await model.gradient(params, batch);
    const evaluation = await model.evaluate(params, batch);
    const leaked = tf.memory().numTensors - count;
    console.log(JSON.stringify({ logits: [...logits], loss, grad: [...grad], evaluation, leaked }));`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--config", fileURLToPath(new URL("../../deno.json", import.meta.url)), code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
  const gpu = JSON.parse(lines.at(-1)!);
  assert.equal(gpu.leaked, 0);
  const named = byName(TINY, V, params);
  const expected = windows(batch.x, batch.size)
    .flatMap((window) => referenceLogits(TINY, V, named, window).flatMap((row) => [...row]));
  const largest = Math.max(...expected.map(Math.abs));
  const worst = Math.max(...expected.map((z, i) => Math.abs(gpu.logits[i] - z)));
  assert.ok(worst <= 1e-5 * largest, `logit error ${worst} (largest ${largest})`);
  const reference_ = reference(TINY, params, batch);
  assert.ok(Math.abs(gpu.loss - reference_.loss) <= 1e-5 * reference_.loss);
  assert.equal(gpu.evaluation.accuracy, reference_.accuracy);
  await selectBackend("wasm");
  const model = await createTransformerModel(TINY, V);
  try {
    const { grad } = await model.gradient(params, batch);
    const scale = Math.max(...grad.map(Math.abs));
    const gap = Math.max(...grad.map((g, i) => Math.abs(g - gpu.grad[i])));
    assert.ok(gap <= 1e-5 * scale, `gradient gap ${gap} (largest ${scale})`);
  } finally {
    model.dispose();
  }
});

Deno.test("wasm's rewritten products (blocked transposes, 1ᵀ·dy) equal cpu's plain ones", async () => {
  // Every size a multiple of 16, so that WASM takes its blocked transposes (the tiny model's
  // sizes never do): 2 windows of 16 tokens, D 32, V 48; the MLP's c_proj (128 → 32) takes the
  // other branch of productT.
  const shape = { layers: 1, dModel: 32, heads: 2, context: 16, mlpRatio: 4 };
  const vocabulary = 48;
  const params = randomParameters(shape, vocabulary, 12);
  const random = randomStream(13, "test-batch");
  const ids = () => Float32Array.from({ length: 32 }, () => random.integer(vocabulary));
  const batch = { x: ids(), y: ids(), size: 2 };
  const results = [];
  for (const backend of BACKENDS) {
    await selectBackend(backend);
    const model = await createTransformerModel(shape, vocabulary);
    try {
      const logits = await transformerLogits(shape, vocabulary, params, batch.x, batch.size);
      results.push({ logits, ...await model.gradient(params, batch) });
    } finally {
      model.dispose();
    }
  }
  const [wasm, cpu] = results as [(typeof results)[0], (typeof results)[0]];
  const named = byName(shape, vocabulary, params);
  const expected = windows(batch.x, batch.size)
    .flatMap((window) => referenceLogits(shape, vocabulary, named, window).flatMap((r) => [...r]));
  const largest = Math.max(...expected.map(Math.abs));
  for (const { logits } of [wasm, cpu]) {
    const worst = Math.max(...expected.map((z, i) => Math.abs(logits[i]! - z)));
    assert.ok(worst <= 1e-5 * largest, `logit error ${worst} (largest ${largest})`);
  }
  assert.ok(Math.abs(wasm.loss - cpu.loss) <= 1e-6 * cpu.loss);
  const scale = Math.max(...cpu.grad.map(Math.abs));
  const gap = Math.max(...cpu.grad.map((g, i) => Math.abs(g - wasm.grad[i]!)));
  assert.ok(gap <= 1e-5 * scale, `gradient gap ${gap} (largest ${scale})`);
});
