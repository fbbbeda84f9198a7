/**
 * The causal transformer language model of `shared/MODELS.md` in TensorFlow.js, behind the
 * flat-vector {@linkcode TrainableModel} contract: GPT-2 as Hugging Face's `GPT2LMHeadModel`
 * computes it (pre-LayerNorm blocks, no dropout, `gelu_tanh`, LayerNorm eps `1e-5`, the output
 * head tied to the token embedding).
 *
 * The flat vector is the concatenation, row-major, of the tensors {@linkcode transformerTensors}
 * lists, in that order and with Hugging Face's names and layouts (`Conv1D` weights are
 * `[in, out]` and used as `a · W`), so writing it out tensor by tensor gives a `model.safetensors`
 * that `GPT2LMHeadModel` loads.
 *
 * A batch is `size` windows of `T ≤ context` tokens: `x` the input ids, `y` the next-token ids,
 * both `size × T`. The loss is the mean next-token cross-entropy, in nats, over every position of
 * every window; `evaluate` also gives next-token accuracy (arg-max ties pick the lowest id) and
 * works through the windows in chunks, so a large validation set never holds `N × T × V` logits.
 *
 * How the graph is built, and why (TensorFlow.js 4.22 has no attention layer, and its WASM
 * backend has no `UnsortedSegmentSum`, the gradient kernel of `gather`):
 * - embedding lookup as `oneHot(ids) · wte`, whose gradient is a matrix product that every
 *   backend has; the tied head `h · wteᵀ` adds its own gradient to `wte` through autodiff;
 * - attention as batched matrix products over `[B, H, T, D/H]` with an additive causal mask of
 *   `−1e9` above the diagonal (`exp` of it is exactly 0 in float32, so the softmax equals the
 *   masked one) and `q` scaled by `1/√(D/H)` before `q kᵀ`;
 * - LayerNorm, `gelu_tanh` and the cross-entropy each as one `tf.customGrad` with its closed-form
 *   gradient, instead of the long chains of elementwise kernels autodiff would record;
 * - the flat vector becomes one tensor per parameter (on WASM a view suffices: the backend copies
 *   into its heap when the tensor is made) and the gradients are read straight back (from the
 *   WASM heap, or one concatenation elsewhere), so everything a step creates is freed.
 *
 * Initialisation from the seed: tensor `i` of the list draws from
 * `randomStream(seed, "init", i)`: weights `N(0, 0.02)`, the attention and MLP `c_proj` weights
 * `N(0, 0.02/√(2L))`, biases 0, LayerNorm weights 1.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { randomStream } from "../random.ts";
import type { Batch } from "../data/types.ts";
import type { Evaluation, TrainableModel } from "./types.ts";

/** The sizes of a causal transformer (the DSL node's fields). */
export interface TransformerShape {
  /** Transformer blocks, `L`. */
  readonly layers: number;
  /** Width of the residual stream, `D`. */
  readonly dModel: number;
  /** Attention heads, `H`; `D` must be a multiple of `H`. */
  readonly heads: number;
  /** Longest window, `T`: the rows of the position embedding. */
  readonly context: number;
  /** MLP width over `D` (GPT-2: 4); `mlpRatio · D` must be a whole number. */
  readonly mlpRatio: number;
}

/** One parameter tensor: its Hugging Face GPT-2 name and shape. */
export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/** Options of {@linkcode createTransformerModel}. */
export interface TransformerOptions {
  /**
   * Windows per forward pass in `evaluate`; by default as many as keep the largest activation
   * (logits, attention scores or MLP hidden) of a chunk near 2²² floats (16 MiB).
   */
  readonly evaluationWindows?: number;
}

/** LayerNorm's epsilon (GPT-2). */
const EPS = 1e-5;
/** Standard deviation of the initial weights (GPT-2). */
const INIT_STD = 0.02;
/** Additive mask of future positions: `exp(−1e9 − max)` is exactly 0 in float32. */
const MASKED = -1e9;
/** Floats of the largest activation of one evaluation chunk (the default chunk size). */
const EVAL_FLOATS = 1 << 22;
/** `√(2/π)`, of `gelu_tanh`. */
const GELU_C = Math.sqrt(2 / Math.PI);

/** Checks the shape and vocabulary, naming what is wrong. */
function checkShape(node: TransformerShape, vocabulary: number): void {
  const whole = (name: string, value: number) => {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(
        `Cannot build a transformer: ${name} must be a positive integer: ${value}`,
      );
    }
  };
  whole("layers", node.layers);
  whole("dModel", node.dModel);
  whole("heads", node.heads);
  whole("context", node.context);
  whole("vocabulary", vocabulary);
  if (node.dModel % node.heads !== 0) {
    throw new RangeError(
      `Cannot build a transformer: dModel ${node.dModel} is not a multiple of heads ${node.heads}`,
    );
  }
  const hidden = node.mlpRatio * node.dModel;
  if (!Number.isInteger(hidden) || hidden < 1) {
    throw new RangeError(
      `Cannot build a transformer: mlpRatio ${node.mlpRatio} × dModel ${node.dModel} is not a positive whole number`,
    );
  }
}

/**
 * The parameter tensors of a transformer, in the flat vector's order: Hugging Face GPT-2 names
 * and shapes (`shared/MODELS.md`). The flat vector is their concatenation, each row-major.
 *
 * @param node The transformer's sizes.
 * @param vocabulary The vocabulary size `V`.
 * @returns `wte`, `wpe`, each block's twelve tensors, then `ln_f`.
 * @throws {RangeError} When a size is not a positive integer, `dModel` is not a multiple of
 *   `heads`, or `mlpRatio · dModel` is not whole.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { transformerTensors } from "./transformer.ts";
 * const shape = { layers: 1, dModel: 8, heads: 2, context: 5, mlpRatio: 4 };
 * const tensors = transformerTensors(shape, 11);
 * assert.deepEqual(tensors[0], { name: "transformer.wte.weight", shape: [11, 8] });
 * assert.deepEqual(tensors[4], { name: "transformer.h.0.attn.c_attn.weight", shape: [8, 24] });
 * assert.equal(tensors.length, 2 + 12 + 2);
 * ```
 */
export function transformerTensors(node: TransformerShape, vocabulary: number): TensorSpec[] {
  checkShape(node, vocabulary);
  const d = node.dModel;
  const f = node.mlpRatio * d;
  const tensors: TensorSpec[] = [
    { name: "transformer.wte.weight", shape: [vocabulary, d] },
    { name: "transformer.wpe.weight", shape: [node.context, d] },
  ];
  for (let l = 0; l < node.layers; l++) {
    const block = `transformer.h.${l}`;
    tensors.push(
      { name: `${block}.ln_1.weight`, shape: [d] },
      { name: `${block}.ln_1.bias`, shape: [d] },
      { name: `${block}.attn.c_attn.weight`, shape: [d, 3 * d] },
      { name: `${block}.attn.c_attn.bias`, shape: [3 * d] },
      { name: `${block}.attn.c_proj.weight`, shape: [d, d] },
      { name: `${block}.attn.c_proj.bias`, shape: [d] },
      { name: `${block}.ln_2.weight`, shape: [d] },
      { name: `${block}.ln_2.bias`, shape: [d] },
      { name: `${block}.mlp.c_fc.weight`, shape: [d, f] },
      { name: `${block}.mlp.c_fc.bias`, shape: [f] },
      { name: `${block}.mlp.c_proj.weight`, shape: [f, d] },
      { name: `${block}.mlp.c_proj.bias`, shape: [d] },
    );
  }
  tensors.push(
    { name: "transformer.ln_f.weight", shape: [d] },
    { name: "transformer.ln_f.bias", shape: [d] },
  );
  return tensors;
}

/** The initial values of one tensor (see the module notes). */
function initialTensor(spec: TensorSpec, layers: number, seed: number, index: number) {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  if (/\.ln_(1|2|f)\.weight$/.test(spec.name)) return values.fill(1);
  if (spec.shape.length < 2) return values;
  const std = /\.c_proj\.weight$/.test(spec.name) ? INIT_STD / Math.sqrt(2 * layers) : INIT_STD;
  const random = randomStream(seed, "init", index);
  for (let i = 0; i < size; i++) values[i] = random.normal(0, std);
  return values;
}

/**
 * LayerNorm over the last axis of `x [N, D]` with its closed-form gradient:
 * `y = x̂ g + b`, `x̂ = (x − μ)/σ`, `σ = √(var + eps)`, and
 * `dx = (ĝ − mean(ĝ) − x̂ mean(ĝ x̂))/σ` with `ĝ = dy g`.
 */
const layerNorm = tf.customGrad((x, weight, bias, save) => {
  const xs = x as tf.Tensor2D;
  const mean = tf.mean(xs, 1, true);
  const centred = tf.sub(xs, mean);
  const inverse = tf.rsqrt(tf.add(tf.mean(tf.square(centred), 1, true), EPS));
  const normed = tf.mul(centred, inverse);
  (save as tf.GradSaveFunc)([normed, inverse, weight as tf.Tensor]);
  return {
    value: tf.add(tf.mul(normed, weight as tf.Tensor), bias as tf.Tensor),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [normed, inverse, weight] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
      const scaled = tf.mul(dy, weight);
      const dx = tf.mul(
        tf.sub(
          tf.sub(scaled, tf.mean(scaled, 1, true)),
          tf.mul(normed, tf.mean(tf.mul(scaled, normed), 1, true)),
        ),
        inverse,
      );
      return [dx, tf.sum(tf.mul(dy, normed), 0), tf.sum(dy, 0)];
    },
  };
}) as (x: tf.Tensor2D, weight: tf.Tensor1D, bias: tf.Tensor1D) => tf.Tensor2D;

/**
 * `gelu_tanh(x) = ½x(1 + tanh u)`, `u = c(x + 0.044715x³)`, with its closed-form gradient
 * `½(1 + tanh u) + ½x(1 − tanh² u)·c(1 + 3·0.044715x²)`.
 */
const geluTanh = tf.customGrad((x, save) => {
  const xs = x as tf.Tensor;
  const square = tf.square(xs);
  const t = tf.tanh(tf.mul(tf.mul(xs, tf.add(tf.mul(square, 0.044715), 1)), GELU_C));
  (save as tf.GradSaveFunc)([xs, square, t]);
  return {
    value: tf.mul(tf.mul(xs, 0.5), tf.add(t, 1)),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, square, t] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const slope = tf.mul(tf.add(tf.mul(square, 3 * 0.044715), 1), 0.5 * GELU_C);
      const inner = tf.mul(tf.mul(xs, tf.sub(1, tf.square(t))), slope);
      return [tf.mul(dy, tf.add(tf.mul(tf.add(t, 1), 0.5), inner))];
    },
  };
}) as (x: tf.Tensor) => tf.Tensor;

/**
 * The summed cross-entropy of logits `[N, V]` against one-hot targets, with the gradient
 * `softmax(logits) − oneHot` (times the incoming scalar).
 */
const crossEntropySum = tf.customGrad((logits, targets, save) => {
  const z = logits as tf.Tensor2D;
  const oneHot = targets as tf.Tensor2D;
  const lse = tf.logSumExp(z, 1, true);
  (save as tf.GradSaveFunc)([z, lse, oneHot]);
  return {
    value: tf.sub(tf.sum(lse), tf.sum(tf.mul(oneHot, z))),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [z, lse, oneHot] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
      return [tf.mul(tf.sub(tf.exp(tf.sub(z, lse)), oneHot), dy), tf.zerosLike(oneHot)];
    },
  };
}) as (logits: tf.Tensor2D, oneHot: tf.Tensor2D) => tf.Scalar;

/** The WASM backend's heap access (read-only use here). */
interface WasmHeap {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

/**
 * Reads float32 tensors into one flat array, `into` when it has the right length: on WASM
 * straight from the heap, elsewhere through one concatenation (one device read-back).
 */
async function readFlat(
  tensors: readonly tf.Tensor[],
  length: number,
  into?: Float32Array,
): Promise<Float32Array> {
  const flat = into?.length === length ? into : new Float32Array(length);
  if (tf.getBackend() === "wasm") {
    const heap = tf.backend() as unknown as WasmHeap;
    let offset = 0;
    for (const t of tensors) {
      flat.set(
        heap.typedArrayFromHeap({ dataId: t.dataId, shape: t.shape, dtype: "float32" }),
        offset,
      );
      offset += t.size;
    }
    return flat;
  }
  const joined = tf.tidy(() => tf.concat(tensors.map((t) => tf.reshape(t, [-1]))));
  try {
    flat.set((await joined.data()) as Float32Array);
    return flat;
  } finally {
    joined.dispose();
  }
}

/** What the graph needs to know of a model: its sizes and parameter layout. */
interface Layout {
  readonly node: TransformerShape;
  readonly vocabulary: number;
  readonly shapes: readonly number[][];
  readonly sizes: readonly number[];
}

/** The layout of a model, after checking its sizes. */
function layoutOf(node: TransformerShape, vocabulary: number): Layout {
  const shapes = transformerTensors(node, vocabulary).map((spec) => [...spec.shape]);
  const sizes = shapes.map((shape) => shape.reduce((a, b) => a * b, 1));
  return { node, vocabulary, shapes, sizes };
}

/**
 * One tensor per parameter (inside the caller's tidy). WASM copies a tensor's values into its
 * heap when the tensor is made, so a view of `params` is enough; the CPU and WebGPU backends
 * keep the array they are given, so they get a copy (the caller may change `params` later).
 */
function parameterTensors(layout: Layout, params: Float32Array): tf.Tensor[] {
  const copies = tf.getBackend() !== "wasm";
  let offset = 0;
  return layout.shapes.map((shape, i) => {
    const end = offset + layout.sizes[i]!;
    const values = copies ? params.slice(offset, end) : params.subarray(offset, end);
    offset = end;
    return tf.tensor(values, shape, "float32");
  });
}

/** The additive causal mask `[t, t]`: 0 where `j ≤ i`, {@linkcode MASKED} above. */
function causalMask(t: number): tf.Tensor2D {
  const mask = new Float32Array(t * t);
  for (let i = 0; i < t; i++) mask.fill(MASKED, i * t + i + 1, (i + 1) * t);
  return tf.tensor2d(mask, [t, t]);
}

/** Logits `[b·t, V]` of the `b` windows of `t` token ids in `x` (inside a tidy). */
function logits(
  layout: Layout,
  p: readonly tf.Tensor[],
  x: Float32Array,
  b: number,
  t: number,
): tf.Tensor2D {
  const { node: { layers, dModel: d, heads: h, context }, vocabulary } = layout;
  const dHead = d / h;
  const n = b * t;
  const ids = tf.tensor1d(Int32Array.from(x), "int32");
  const wte = p[0] as tf.Tensor2D;
  const wpe = (t === context ? p[1] : tf.slice(p[1]!, [0, 0], [t, d])) as tf.Tensor2D;
  const embedded = tf.matMul(tf.cast(tf.oneHot(ids, vocabulary), "float32"), wte);
  let residual = tf.reshape(tf.add(tf.reshape(embedded, [b, t, d]), wpe), [n, d]) as tf.Tensor2D;
  const mask = causalMask(t);
  const scale = 1 / Math.sqrt(dHead);
  for (let l = 0; l < layers; l++) {
    const [ln1w, ln1b, attnW, attnB, projW, projB, ln2w, ln2b, fcW, fcB, mlpW, mlpB] = p.slice(
      2 + 12 * l,
      14 + 12 * l,
    ) as tf.Tensor[];
    const a = layerNorm(residual, ln1w as tf.Tensor1D, ln1b as tf.Tensor1D);
    const qkv = tf.add(tf.matMul(a, attnW as tf.Tensor2D), attnB!);
    // [n, 3D] → [3, b, H, t, D/H]: q, k, v, each split into heads.
    const split = tf.transpose(tf.reshape(qkv, [b, t, 3, h, dHead]), [2, 0, 3, 1, 4]);
    const [q, k, v] = tf.unstack(split) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const scores = tf.add(tf.matMul(tf.mul(q, scale), k, false, true), mask);
    const attended = tf.matMul(tf.softmax(scores), v);
    const merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [n, d]) as tf.Tensor2D;
    residual = tf.add(residual, tf.add(tf.matMul(merged, projW as tf.Tensor2D), projB!));
    const m = layerNorm(residual, ln2w as tf.Tensor1D, ln2b as tf.Tensor1D);
    const f = geluTanh(tf.add(tf.matMul(m, fcW as tf.Tensor2D), fcB!)) as tf.Tensor2D;
    residual = tf.add(residual, tf.add(tf.matMul(f, mlpW as tf.Tensor2D), mlpB!));
  }
  const last = p.length - 2;
  const final = layerNorm(residual, p[last] as tf.Tensor1D, p[last + 1] as tf.Tensor1D);
  return tf.matMul(final, wte, false, true) as tf.Tensor2D;
}

/**
 * The logits of every position of every window, for inspection and sampling (training needs
 * only {@linkcode createTransformerModel}). Select the backend first.
 *
 * @param node The sizes.
 * @param vocabulary `V`.
 * @param params The flat parameters, in {@linkcode transformerTensors} order.
 * @param x `size` windows of `T ≤ context` token ids, row-major.
 * @param size The number of windows.
 * @returns `size × T × V` logits, row-major: entry `(w, j, v)` scores token `v` after position
 *   `j` of window `w`.
 * @throws {RangeError} When the sizes, parameters or windows do not fit.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createTransformerModel, transformerLogits } from "./transformer.ts";
 * import { selectBackend } from "../backend.ts";
 * await selectBackend("cpu");
 * const shape = { layers: 1, dModel: 4, heads: 1, context: 3, mlpRatio: 4 };
 * const model = await createTransformerModel(shape, 7);
 * const z = await transformerLogits(shape, 7, model.initialParameters(1), new Float32Array([1, 2]), 1);
 * assert.equal(z.length, 2 * 7);
 * ```
 */
export async function transformerLogits(
  node: TransformerShape,
  vocabulary: number,
  params: Float32Array,
  x: Float32Array,
  size: number,
): Promise<Float32Array> {
  const layout = layoutOf(node, vocabulary);
  const count = layout.sizes.reduce((a, b) => a + b, 0);
  if (params.length !== count) {
    throw new RangeError(`Expected ${count} parameters but got ${params.length}`);
  }
  const t = x.length / size;
  if (!(size >= 1) || !Number.isInteger(t) || t < 1 || t > node.context) {
    throw new RangeError(
      `Expected ${size} windows of at most ${node.context} tokens but got ${x.length} inputs`,
    );
  }
  const z = tf.tidy(() => logits(layout, parameterTensors(layout, params), x, size, t));
  try {
    return (await z.data()) as Float32Array;
  } finally {
    z.dispose();
  }
}

/**
 * Builds the causal transformer of `shared/MODELS.md` for a vocabulary of `vocabulary` tokens.
 * Select the TensorFlow.js backend first (`selectBackend`).
 *
 * @param node The sizes: layers, dModel, heads, context, mlpRatio.
 * @param vocabulary The vocabulary size `V` (256 under the byte tokenizer).
 * @param options The evaluation chunk size.
 * @returns The model over flat float32 parameters in {@linkcode transformerTensors} order.
 * @throws {RangeError} When the sizes are not valid (see {@linkcode transformerTensors}).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createTransformerModel } from "./transformer.ts";
 * import { selectBackend } from "../backend.ts";
 * await selectBackend("cpu");
 * const shape = { layers: 1, dModel: 8, heads: 2, context: 4, mlpRatio: 4 };
 * const model = await createTransformerModel(shape, 5);
 * const params = model.initialParameters(1);
 * // Two windows of four tokens; every target is the next token of its window.
 * const batch = { x: new Float32Array([0, 1, 2, 3, 4, 3, 2, 1]),
 *   y: new Float32Array([1, 2, 3, 4, 3, 2, 1, 0]), size: 2 };
 * const { loss, grad } = await model.gradient(params, batch);
 * assert.ok(Math.abs(loss - Math.log(5)) < 0.05 && grad.length === model.parameterCount);
 * model.dispose();
 * ```
 */
// deno-lint-ignore require-await
export async function createTransformerModel(
  node: TransformerShape,
  vocabulary: number,
  options: TransformerOptions = {},
): Promise<TrainableModel> {
  const specs = transformerTensors(node, vocabulary);
  const layout = layoutOf(node, vocabulary);
  const sizes = layout.sizes;
  const parameterCount = sizes.reduce((a, b) => a + b, 0);
  const { layers, dModel: d, heads: h, context } = node;
  const hidden = node.mlpRatio * d;
  const widest = Math.max(vocabulary, h * context, hidden, 3 * d);
  const evaluationWindows = options.evaluationWindows ??
    Math.max(1, Math.floor(EVAL_FLOATS / (context * widest)));
  if (!Number.isInteger(evaluationWindows) || evaluationWindows < 1) {
    throw new RangeError(
      `Cannot build a transformer: evaluationWindows must be a positive integer: ${evaluationWindows}`,
    );
  }
  let disposed = false;

  /** Checks the parameters and batch; returns the window length `T`. */
  const check = (params: Float32Array, batch: Batch): number => {
    if (disposed) throw new Error("The model has been disposed");
    if (params.length !== parameterCount) {
      throw new RangeError(`Expected ${parameterCount} parameters but got ${params.length}`);
    }
    const t = batch.x.length / batch.size;
    if (
      !(batch.size >= 1) || !Number.isInteger(t) || t < 1 || t > context ||
      batch.y.length !== batch.x.length
    ) {
      throw new RangeError(
        `Expected ${batch.size} windows of at most ${context} tokens in x and y but got ${batch.x.length} inputs and ${batch.y.length} targets`,
      );
    }
    return t;
  };

  /** The targets of a batch's windows `[start, end)` as int32 ids. */
  const targets = (batch: Batch, t: number, start: number, end: number) =>
    tf.tensor1d(Int32Array.from(batch.y.subarray(start * t, end * t)), "int32");

  return {
    parameterCount,
    initialParameters(seed: number): Float32Array {
      const flat = new Float32Array(parameterCount);
      let offset = 0;
      specs.forEach((spec, i) => {
        flat.set(initialTensor(spec, layers, seed, i), offset);
        offset += sizes[i]!;
      });
      return flat;
    },
    async gradient(params: Float32Array, batch: Batch, into?: Float32Array) {
      const t = check(params, batch);
      const { value, grads } = tf.tidy(() => {
        const p = parameterTensors(layout, params);
        const oneHot = tf.cast(tf.oneHot(targets(batch, t, 0, batch.size), vocabulary), "float32");
        const scale = 1 / (batch.size * t);
        return tf.valueAndGrads((...q: tf.Tensor[]) =>
          tf.mul(
            crossEntropySum(logits(layout, q, batch.x, batch.size, t), oneHot as tf.Tensor2D),
            scale,
          )
        )(p);
      });
      try {
        const grad = await readFlat(grads, parameterCount, into);
        const loss = (await value.data())[0]!;
        return { loss, grad };
      } finally {
        tf.dispose([value, ...grads]);
      }
    },
    async evaluate(params: Float32Array, batch: Batch): Promise<Evaluation> {
      const t = check(params, batch);
      const p = tf.tidy(() => parameterTensors(layout, params));
      let lossSum = 0;
      let correct = 0;
      try {
        for (let start = 0; start < batch.size; start += evaluationWindows) {
          const end = Math.min(batch.size, start + evaluationWindows);
          const sums = tf.tidy(() => {
            const z = logits(layout, p, batch.x.subarray(start * t, end * t), end - start, t);
            const ids = targets(batch, t, start, end);
            const oneHot = tf.cast(tf.oneHot(ids, vocabulary), "float32") as tf.Tensor2D;
            const hits = tf.sum(tf.cast(tf.equal(tf.argMax(z, 1), ids), "float32"));
            return tf.stack([crossEntropySum(z, oneHot), hits]);
          });
          try {
            const [loss, hits] = await sums.data();
            lossSum += loss!;
            correct += hits!;
          } finally {
            sums.dispose();
          }
        }
      } finally {
        tf.dispose(p);
      }
      const positions = batch.size * t;
      return { loss: lossSum / positions, accuracy: correct / positions };
    },
    dispose(): void {
      disposed = true;
    },
  };
}
