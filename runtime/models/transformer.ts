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
 * - the embedding rows copied from the flat vector, with the gradient `oneHot(ids)ᵀ · dy`, a
 *   matrix product every backend has; the tied head `h · wteᵀ` adds its own gradient to `wte`;
 * - attention as batched matrix products over `[B, H, T, D/H]` with an additive causal mask of
 *   `−1e9` above the diagonal (`exp` of it is exactly 0 in float32, so the softmax equals the
 *   masked one) and `q` scaled by `1/√(D/H)` before `q kᵀ`;
 * - LayerNorm, `gelu_tanh` and the cross-entropy each as one `tf.customGrad` with its closed-form
 *   gradient, instead of the long chains of elementwise kernels autodiff would record;
 * - the flat vector becomes one tensor per parameter (on WASM a view suffices: the backend copies
 *   into its heap when the tensor is made) and the gradients are read straight back (from the
 *   WASM heap, or one concatenation elsewhere), so everything a step creates is freed.
 *
 * Speed on WASM, where workers usually train: its `BatchMatMul` uses XNNPACK only for a product
 * with no transposed side and no batch dimension, and runs a scalar loop about ten times slower
 * otherwise. Autodiff's gradients of `x · W` are `dy · Wᵀ` and `xᵀ · dy`, both transposed, so
 * the dense layers, the head and the embedding have their own gradients here that transpose
 * explicitly and multiply untransposed (see {@linkcode product}); transposes themselves go
 * through 16 × 16 blocks, and bias gradients are `1ᵀ · dy`, because WASM's 2-D transpose (and the
 * reduction over rows, which transposes) is slow on power-of-two sizes. `gelu_tanh` uses the
 * vectorised sigmoid instead of the scalar tanh. For the demo size (L 2, D 128, H 4, T 64, 16
 * windows, V 256) one step went from about 1.2 s to about 0.22 s on one core; what remains is
 * about half XNNPACK products and a third the batched attention products (`[B·H, T, D/H]`, which
 * have no XNNPACK path); copying the flat vector in and the gradient out take 0.5 ms each.
 *
 * Initialisation from the seed: tensor `i` of the list draws from
 * `randomStream(seed, "init", i)`: weights `N(0, 0.02)`, the attention and MLP `c_proj` weights
 * `N(0, 0.02/√(2L))`, biases 0, LayerNorm weights 1.
 *
 * @module
 */

import * as tf from "../../deps/tfjs.ts";
import { randomStream } from "../random.ts";
import type { Batch } from "../data/types.ts";
import { readFlat } from "./read_flat.ts";
import type { Evaluation, TensorLayout, TrainableModel } from "./types.ts";

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
/**
 * One tensor of the flat vector: its Hugging Face name (e.g. `transformer.h.0.attn.c_attn.weight`)
 * and its row-major shape (`Conv1D` weights `[in, out]`).
 */
export type TensorSpec = TensorLayout;

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
      return [dx, columnSums(tf.mul(dy, normed)), columnSums(dy as tf.Tensor2D)];
    },
  };
}) as (x: tf.Tensor2D, weight: tf.Tensor1D, bias: tf.Tensor1D) => tf.Tensor2D;

/**
 * `gelu_tanh(x) = ½x(1 + tanh u)`, `u = c(x + 0.044715x³)`, computed as the equal `x·σ(2u)`
 * (`½(1 + tanh u) = σ(2u)`): WASM's sigmoid is vectorised, its tanh is not. The closed-form
 * gradient is `s + x·s(1 − s)·2c(1 + 3·0.044715x²)` with `s = σ(2u)`.
 */
const geluTanh = tf.customGrad((x, save) => {
  const xs = x as tf.Tensor;
  const square = tf.square(xs);
  const s = tf.sigmoid(tf.mul(tf.mul(xs, tf.add(tf.mul(square, 0.044715), 1)), 2 * GELU_C));
  (save as tf.GradSaveFunc)([xs, square, s]);
  return {
    value: tf.mul(xs, s),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, square, s] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const slope = tf.mul(tf.add(tf.mul(square, 3 * 0.044715), 1), 2 * GELU_C);
      const inner = tf.mul(tf.mul(xs, tf.mul(s, tf.sub(1, s))), slope);
      return [tf.mul(dy, tf.add(s, inner))];
    },
  };
}) as (x: tf.Tensor) => tf.Tensor;

/** Whether the WASM backend runs (its products and transposes need the care below). */
const onWasm = () => tf.getBackend() === "wasm";

/**
 * `xᵀ`. WASM's 2-D transpose is slow on power-of-two sizes (a strided loop whose writes alias in
 * the cache: 4.5 ms for 1024 × 512); the same permutation over 16 × 16 blocks, as a 4-D
 * transpose, is 4–7 times faster there.
 */
function transpose(x: tf.Tensor2D): tf.Tensor2D {
  const [m, n] = x.shape;
  if (!onWasm() || m % 16 !== 0 || n % 16 !== 0) return tf.transpose(x);
  const blocks = tf.transpose(tf.reshape(x, [m / 16, 16, n / 16, 16]), [2, 3, 0, 1]);
  return tf.reshape(blocks, [n, m]);
}

/**
 * `a · b`, or `a · bᵀ`. TensorFlow.js's WASM backend sends a product to XNNPACK only when
 * neither side is transposed and there is no batch dimension; every other product runs a scalar
 * loop many times slower. So on WASM a transposed side is transposed first (a copy far cheaper
 * than the slow loop); other backends take the flag.
 */
function product(a: tf.Tensor2D, b: tf.Tensor2D, transposeB = false): tf.Tensor2D {
  if (!onWasm()) return tf.matMul(a, b, false, transposeB);
  return tf.matMul(a, transposeB ? transpose(b) : b);
}

/**
 * `aᵀ · b` for `a [n, p]`, `b [n, q]` (a weight gradient). On WASM it transposes whichever is
 * cheaper: `a` (`n·p` values), or `b` and the `[q, p]` result (`n·q + p·q`), for `(bᵀ · a)ᵀ`.
 */
function productT(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (!onWasm()) return tf.matMul(a, b, true, false);
  const [n, p] = a.shape;
  const q = b.shape[1];
  return n * p <= n * q + p * q
    ? tf.matMul(transpose(a), b)
    : transpose(tf.matMul(transpose(b), a));
}

/**
 * Column sums of `y [n, q]` (a bias gradient): on WASM as the product `1ᵀ · y`, since its
 * reduction over the first axis transposes `y` first (slowly, see {@linkcode transpose}).
 */
function columnSums(y: tf.Tensor2D): tf.Tensor1D {
  if (!onWasm()) return tf.sum(y, 0);
  return tf.reshape(tf.matMul(tf.ones([1, y.shape[0]]), y), [y.shape[1]]);
}

/**
 * `x · W + bias` (a `Conv1D`) with every product of its gradient (`dy · Wᵀ`, `xᵀ · dy`, `1ᵀ·dy`)
 * an XNNPACK one on WASM; the bias is fused into the forward product.
 */
const dense = tf.customGrad((x, weight, bias, save) => {
  (save as tf.GradSaveFunc)([x as tf.Tensor, weight as tf.Tensor]);
  return {
    value: tf.fused.matMul({
      a: x as tf.Tensor2D,
      b: weight as tf.Tensor2D,
      bias: bias as tf.Tensor,
    }),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [x, weight] = saved as [tf.Tensor2D, tf.Tensor2D];
      const dy2 = dy as tf.Tensor2D;
      return [product(dy2, weight, true), productT(x, dy2), columnSums(dy2)];
    },
  };
}) as (x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D) => tf.Tensor2D;

/** The tied head `h · wteᵀ`, its gradient's products XNNPACK ones on WASM. */
const head = tf.customGrad((final, wte, save) => {
  (save as tf.GradSaveFunc)([final as tf.Tensor, wte as tf.Tensor]);
  return {
    value: product(final as tf.Tensor2D, wte as tf.Tensor2D, true),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [final, wte] = saved as [tf.Tensor2D, tf.Tensor2D];
      const dy2 = dy as tf.Tensor2D;
      return [product(dy2, wte), productT(dy2, final)];
    },
  };
}) as (final: tf.Tensor2D, wte: tf.Tensor2D) => tf.Tensor2D;

/**
 * The token embedding `wte[ids]`. Forward, the rows are copied from the flat parameters in
 * JavaScript (`wte` comes first in them): WASM's gather kernel takes several milliseconds for
 * what is a thousand row copies. Backward, `oneHot(ids)ᵀ · dy` (WASM has no
 * `UnsortedSegmentSum`, the kernel of gather's own gradient).
 */
function embed(
  wte: tf.Tensor2D,
  params: Float32Array,
  x: Float32Array,
  vocabulary: number,
): tf.Tensor2D {
  const d = wte.shape[1];
  const rows = new Float32Array(x.length * d);
  for (let i = 0; i < x.length; i++) rows.set(params.subarray(x[i]! * d, (x[i]! + 1) * d), i * d);
  const ids = tf.tensor1d(Int32Array.from(x), "int32");
  // The ids are saved: a tensor the gradient only closes over is gone when it runs.
  const lookup = tf.customGrad((_table, save) => {
    (save as tf.GradSaveFunc)([ids]);
    return {
      value: tf.tensor2d(rows, [x.length, d]),
      gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => {
        // oneHot(ids)ᵀ: row v marks the positions holding token v.
        const oneHot = tf.cast(tf.oneHot(saved as tf.Tensor1D, vocabulary), "float32");
        return [product(transpose(oneHot as tf.Tensor2D), dy as tf.Tensor2D)];
      },
    };
  }) as (table: tf.Tensor2D) => tf.Tensor2D;
  return lookup(wte);
}

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

/**
 * Checks that every id of `ids` is a token of the vocabulary (an out-of-range id would read
 * outside `wte`).
 */
function checkTokens(ids: Float32Array, vocabulary: number, what: string): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!(Number.isInteger(id) && id >= 0 && id < vocabulary)) {
      throw new RangeError(
        `Token ${id} at position ${i} of ${what} is not an id of the vocabulary of ${vocabulary}`,
      );
    }
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

/**
 * Logits `[b·t, V]` of the `b` windows of `t` token ids in `x` (inside a tidy), from the
 * parameters both as tensors `p` and as the flat vector `params` they were made from.
 */
function logits(
  layout: Layout,
  p: readonly tf.Tensor[],
  params: Float32Array,
  x: Float32Array,
  b: number,
  t: number,
): tf.Tensor2D {
  const { node: { layers, dModel: d, heads: h, context }, vocabulary } = layout;
  const dHead = d / h;
  const n = b * t;
  const wte = p[0] as tf.Tensor2D;
  const wpe = (t === context ? p[1] : tf.slice(p[1]!, [0, 0], [t, d])) as tf.Tensor2D;
  const embedded = embed(wte, params, x, vocabulary);
  let residual = tf.reshape(tf.add(tf.reshape(embedded, [b, t, d]), wpe), [n, d]) as tf.Tensor2D;
  const mask = causalMask(t);
  const scale = 1 / Math.sqrt(dHead);
  /** `[n, D]` → `[b·H, t, D/H]`: the heads of each window side by side. */
  const toHeads = (y: tf.Tensor) =>
    tf.reshape(tf.transpose(tf.reshape(y, [b, t, h, dHead]), [0, 2, 1, 3]), [b * h, t, dHead]);
  for (let l = 0; l < layers; l++) {
    const [ln1w, ln1b, attnW, attnB, projW, projB, ln2w, ln2b, fcW, fcB, mlpW, mlpB] = p.slice(
      2 + 12 * l,
      14 + 12 * l,
    ) as [...tf.Tensor2D[]];
    const vector = (y: tf.Tensor) => y as tf.Tensor1D;
    const a = layerNorm(residual, vector(ln1w!), vector(ln1b!));
    // c_attn's columns are q, k, v: three products of [D, D] column blocks, so that the heads
    // need only 4-D transposes (WASM's 5-D transpose is slow).
    const weights = tf.split(attnW!, 3, 1) as tf.Tensor2D[];
    const biases = tf.split(vector(attnB!), 3) as tf.Tensor1D[];
    const [q, k, v] = [0, 1, 2].map((i) => toHeads(dense(a, weights[i]!, biases[i]!)));
    const scores = tf.add(tf.matMul(tf.mul(q!, scale), k!, false, true), mask);
    const attended = tf.reshape(tf.matMul(tf.softmax(scores), v!), [b, h, t, dHead]);
    const merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [n, d]) as tf.Tensor2D;
    residual = tf.add(residual, dense(merged, projW!, vector(projB!)));
    const m = layerNorm(residual, vector(ln2w!), vector(ln2b!));
    const f = geluTanh(dense(m, fcW!, vector(fcB!))) as tf.Tensor2D;
    residual = tf.add(residual, dense(f, mlpW!, vector(mlpB!)));
  }
  const last = p.length - 2;
  const final = layerNorm(residual, p[last] as tf.Tensor1D, p[last + 1] as tf.Tensor1D);
  return head(final, wte);
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
  checkTokens(x, vocabulary, "x");
  const z = tf.tidy(() => logits(layout, parameterTensors(layout, params), params, x, size, t));
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
// Async as the contract has it (a factory of create_model.ts awaits it); nothing waits yet.
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
    checkTokens(batch.x, vocabulary, "x");
    checkTokens(batch.y, vocabulary, "y");
    return t;
  };

  /** The targets of a batch's windows `[start, end)` as int32 ids. */
  const targets = (batch: Batch, t: number, start: number, end: number) =>
    tf.tensor1d(Int32Array.from(batch.y.subarray(start * t, end * t)), "int32");

  return {
    parameterCount,
    tensors: specs,
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
            crossEntropySum(
              logits(layout, q, params, batch.x, batch.size, t),
              oneHot as tf.Tensor2D,
            ),
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
            const z = logits(
              layout,
              p,
              params,
              batch.x.subarray(start * t, end * t),
              end - start,
              t,
            );
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
