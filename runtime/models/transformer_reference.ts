/**
 * A float64 plain-JavaScript causal transformer, written from `shared/MODELS.md` (GPT-2 as
 * Hugging Face's `GPT2LMHeadModel` computes it) one position and one head at a time, with no
 * TensorFlow.js: the independent expectation that `transformer_test.ts` holds the TensorFlow.js
 * model to (logits, loss, and through finite differences, gradients). Used by tests only.
 *
 * Parameters are looked up by their Hugging Face names, each a row-major `Float64Array`, so the
 * reference shares nothing with the model but the names.
 *
 * @module
 */

/** Sizes of the reference model (the same fields as the DSL node). */
export interface ReferenceShape {
  readonly layers: number;
  readonly dModel: number;
  readonly heads: number;
  readonly context: number;
  readonly mlpRatio: number;
}

/** Parameters by Hugging Face GPT-2 name, row-major. */
export type ReferenceParameters = ReadonlyMap<string, Float64Array>;

/** A named tensor, or an error naming it. */
function get(params: ReferenceParameters, name: string): Float64Array {
  const value = params.get(name);
  if (value === undefined) throw new Error(`Missing parameter ${name}`);
  return value;
}

/** LayerNorm of one vector: `(x − mean)/√(var + 1e-5) · weight + bias`, biased variance. */
function layerNorm(x: Float64Array, weight: Float64Array, bias: Float64Array): Float64Array {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i]!;
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (x[i]! - mean) ** 2;
  variance /= n;
  const sd = Math.sqrt(variance + 1e-5);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = ((x[i]! - mean) / sd) * weight[i]! + bias[i]!;
  return out;
}

/** `x · W + b` for a `Conv1D` weight `W [in, out]` stored row-major. */
function conv1d(x: Float64Array, weight: Float64Array, bias: Float64Array): Float64Array {
  const inputs = x.length;
  const outputs = bias.length;
  const out = Float64Array.from(bias);
  for (let i = 0; i < inputs; i++) {
    const xi = x[i]!;
    for (let o = 0; o < outputs; o++) out[o] = out[o]! + xi * weight[i * outputs + o]!;
  }
  return out;
}

/** `gelu_tanh(x) = 0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))`. */
function gelu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

/**
 * The logits of one window: row `j` is the model's prediction of the token after `tokens[j]`,
 * seeing `tokens[0..j]` only.
 *
 * @param shape The sizes.
 * @param vocabulary `V`.
 * @param params The parameters by name.
 * @param tokens The window's token ids (at most `context`).
 * @returns One `Float64Array` of `V` logits per position.
 */
export function referenceLogits(
  shape: ReferenceShape,
  vocabulary: number,
  params: ReferenceParameters,
  tokens: readonly number[],
): Float64Array[] {
  const d = shape.dModel;
  const dh = d / shape.heads;
  const wte = get(params, "transformer.wte.weight");
  const wpe = get(params, "transformer.wpe.weight");
  let h = tokens.map((token, j) => {
    const row = new Float64Array(d);
    for (let c = 0; c < d; c++) row[c] = wte[token * d + c]! + wpe[j * d + c]!;
    return row;
  });
  for (let l = 0; l < shape.layers; l++) {
    const p = (name: string) => get(params, `transformer.h.${l}.${name}`);
    const qkv = h.map((row) =>
      conv1d(
        layerNorm(row, p("ln_1.weight"), p("ln_1.bias")),
        p("attn.c_attn.weight"),
        p("attn.c_attn.bias"),
      )
    );
    const merged = h.map((_, j) => {
      const out = new Float64Array(d);
      for (let head = 0; head < shape.heads; head++) {
        const q = (c: number) => qkv[j]![head * dh + c]!;
        const k = (i: number, c: number) => qkv[i]![d + head * dh + c]!;
        const v = (i: number, c: number) => qkv[i]![2 * d + head * dh + c]!;
        const scores: number[] = [];
        for (let i = 0; i <= j; i++) {
          let s = 0;
          for (let c = 0; c < dh; c++) s += q(c) * k(i, c);
          scores.push(s / Math.sqrt(dh));
        }
        const top = Math.max(...scores);
        const weights = scores.map((s) => Math.exp(s - top));
        const total = weights.reduce((a, b) => a + b, 0);
        for (let i = 0; i <= j; i++) {
          for (let c = 0; c < dh; c++) {
            out[head * dh + c] = out[head * dh + c]! + (weights[i]! / total) * v(i, c);
          }
        }
      }
      return out;
    });
    h = h.map((row, j) => {
      const attn = conv1d(merged[j]!, p("attn.c_proj.weight"), p("attn.c_proj.bias"));
      const after = row.map((x, c) => x + attn[c]!);
      const m = layerNorm(after, p("ln_2.weight"), p("ln_2.bias"));
      const hidden = conv1d(m, p("mlp.c_fc.weight"), p("mlp.c_fc.bias")).map(gelu);
      const mlp = conv1d(hidden, p("mlp.c_proj.weight"), p("mlp.c_proj.bias"));
      return after.map((x, c) => x + mlp[c]!);
    });
  }
  return h.map((row) => {
    const final = layerNorm(
      row,
      get(params, "transformer.ln_f.weight"),
      get(params, "transformer.ln_f.bias"),
    );
    const out = new Float64Array(vocabulary);
    for (let v = 0; v < vocabulary; v++) {
      let z = 0;
      for (let c = 0; c < d; c++) z += final[c]! * wte[v * d + c]!;
      out[v] = z;
    }
    return out;
  });
}

/**
 * The mean next-token cross-entropy, in nats, over every position of every window, and the
 * fraction of positions whose largest logit (lowest id on ties) is the target.
 *
 * @param shape The sizes.
 * @param vocabulary `V`.
 * @param params The parameters by name.
 * @param inputs Each window's input ids.
 * @param targets Each window's next-token ids.
 * @returns The loss and accuracy.
 */
export function referenceLoss(
  shape: ReferenceShape,
  vocabulary: number,
  params: ReferenceParameters,
  inputs: readonly (readonly number[])[],
  targets: readonly (readonly number[])[],
): { loss: number; accuracy: number } {
  let total = 0;
  let correct = 0;
  let count = 0;
  inputs.forEach((window, w) => {
    referenceLogits(shape, vocabulary, params, window).forEach((z, j) => {
      const target = targets[w]![j]!;
      const top = Math.max(...z);
      const lse = top + Math.log(z.reduce((s, v) => s + Math.exp(v - top), 0));
      total += lse - z[target]!;
      if (z.indexOf(top) === target) correct++;
      count++;
    });
  });
  return { loss: total / count, accuracy: correct / count };
}
