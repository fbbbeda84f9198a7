/**
 * Kernels that the TensorFlow.js WASM backend (4.22.0) lacks and that our models need.
 *
 * `Conv2DBackpropFilter`, the gradient of a convolution with respect to its filter, has no WASM
 * kernel, so training any convolutional model on WASM fails with "Kernel 'Conv2DBackpropFilter'
 * not registered for backend 'wasm'". This module supplies it in plain JavaScript: it reads `x`
 * and `dy` straight from the WASM heap, accumulates
 * `dW[r, c, i, o] = Σ_{b, y, x} X[b, y·s + r − pad, x·s + c − pad, i] · dY[b, y, x, o]` in float64
 * with the output channel innermost (contiguous), skips zero inputs (ReLU activations and MNIST
 * backgrounds are mostly zeros), and writes the float32 result as a new heap tensor. Both data
 * formats (`NHWC`, `NCHW`) and any stride and padding are supported.
 *
 * @module
 */

import * as tf from "../deps/tfjs.ts";

/** The few methods of the WASM backend used here. */
interface WasmBackendLike {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  makeOutput(
    shape: number[],
    dtype: tf.DataType,
    memoryOffset?: number,
    values?: Float32Array,
  ): tf.TensorInfo;
}

/** Attributes of `Conv2DBackpropFilter`. */
interface BackpropFilterAttrs {
  readonly strides: [number, number] | number;
  readonly pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  readonly dataFormat: "NHWC" | "NCHW";
  readonly dimRoundingMode?: "floor" | "round" | "ceil";
  readonly filterShape: [number, number, number, number];
}

/**
 * The filter gradient of a 2-D convolution, computed in JavaScript over heap views.
 *
 * @param args The kernel's inputs (`x`, `dy`), backend and attributes.
 * @returns The filter gradient, `[filterHeight, filterWidth, inChannels, outChannels]`.
 */
function conv2DBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const x = args.inputs.x!;
  const dy = args.inputs.dy!;
  const attrs = args.attrs as unknown as BackpropFilterAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels,
    outHeight,
    outWidth,
    outChannels,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
  } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const last = info.dataFormat === "channelsLast";
  // Strides of (batch, row, column, channel) in x and dy for either layout.
  const xs = last
    ? [inHeight * inWidth * inChannels, inWidth * inChannels, inChannels, 1]
    : [inChannels * inHeight * inWidth, inWidth, 1, inHeight * inWidth];
  const ys = last
    ? [outHeight * outWidth * outChannels, outWidth * outChannels, outChannels, 1]
    : [outChannels * outHeight * outWidth, outWidth, 1, outHeight * outWidth];
  const xv = backend.typedArrayFromHeap(x);
  const dyv = backend.typedArrayFromHeap(dy);
  const acc = new Float64Array(filterHeight * filterWidth * inChannels * outChannels);
  const dyRow = new Float64Array(outChannels);
  for (let b = 0; b < batchSize; b++) {
    for (let yr = 0; yr < outHeight; yr++) {
      for (let yc = 0; yc < outWidth; yc++) {
        const dyBase = b * ys[0]! + yr * ys[1]! + yc * ys[2]!;
        let any = false;
        for (let o = 0; o < outChannels; o++) {
          const g = dyv[dyBase + o * ys[3]!]!;
          dyRow[o] = g;
          if (g !== 0) any = true;
        }
        if (!any) continue;
        for (let r = 0; r < filterHeight; r++) {
          const xr = yr * strideHeight + r - top;
          if (xr < 0 || xr >= inHeight) continue;
          for (let c = 0; c < filterWidth; c++) {
            const xc = yc * strideWidth + c - left;
            if (xc < 0 || xc >= inWidth) continue;
            const xBase = b * xs[0]! + xr * xs[1]! + xc * xs[2]!;
            const wBase = (r * filterWidth + c) * inChannels;
            for (let i = 0; i < inChannels; i++) {
              const value = xv[xBase + i * xs[3]!]!;
              if (value === 0) continue;
              const out = (wBase + i) * outChannels;
              for (let o = 0; o < outChannels; o++) {
                acc[out + o] = acc[out + o]! + value * dyRow[o]!;
              }
            }
          }
        }
      }
    }
  }
  return backend.makeOutput([...attrs.filterShape], "float32", undefined, Float32Array.from(acc));
}

/**
 * Registers the kernels the WASM backend lacks (`Conv2DBackpropFilter`), once per process or
 * Web Worker; kernels the backend already has are left alone.
 *
 * @returns The names of the kernels registered by this call.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { registerWasmKernels } from "./wasm_kernels.ts";
 * registerWasmKernels();
 * assert.ok(registerWasmKernels().length === 0); // the second call has nothing to add
 * ```
 */
export function registerWasmKernels(): string[] {
  const added: string[] = [];
  if (tf.getKernel("Conv2DBackpropFilter", "wasm") === undefined) {
    tf.registerKernel({
      kernelName: "Conv2DBackpropFilter",
      backendName: "wasm",
      kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
    });
    added.push("Conv2DBackpropFilter");
  }
  return added;
}
