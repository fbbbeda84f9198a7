/**
 * Requests the WebGPU adapter `navigator.gpu` offers and describes it, for the backend probe
 * (`backend.ts`). It imports nothing, so `webgpu_probe_main.ts` can run it in a short-lived
 * child process that loads no other module.
 *
 * @module
 */

/** A WebGPU adapter, structurally (Deno's `GPUAdapter`). */
interface AdapterLike {
  readonly isFallbackAdapter?: boolean;
  readonly info?: {
    readonly vendor?: string;
    readonly architecture?: string;
    readonly device?: string;
    readonly description?: string;
    readonly isFallbackAdapter?: boolean;
  };
}

/** `navigator.gpu`, structurally. */
export interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}

/** What requesting an adapter gave: an adapter's description, none, or an error. */
export type AdapterReport =
  | { readonly kind: "adapter"; readonly description: string; readonly fallback: boolean }
  | { readonly kind: "none" }
  | { readonly kind: "error"; readonly message: string };

/**
 * `navigator.gpu` where this thread has it (Deno needs `--unstable-webgpu`), else `undefined`.
 *
 * @returns The WebGPU entry point, or `undefined`.
 */
export function navigatorGpu(): GpuLike | undefined {
  return (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
}

/**
 * Requests a high-performance adapter and describes it.
 *
 * @param gpu `navigator.gpu`.
 * @returns The adapter's description and whether it is a fallback adapter, `none`, or the
 *   request's error.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeAdapter } from "./webgpu_adapter.ts";
 *
 * const gpu = { requestAdapter: () => Promise.resolve({ info: { vendor: "acme", device: "x1" } }) };
 * assert.deepEqual(await describeAdapter(gpu), {
 *   kind: "adapter",
 *   description: "acme x1",
 *   fallback: false,
 * });
 * ```
 */
export async function describeAdapter(gpu: GpuLike): Promise<AdapterReport> {
  let adapter: AdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (error) {
    return { kind: "error", message: error instanceof Error ? error.message : String(error) };
  }
  if (adapter === null) return { kind: "none" };
  const info = adapter.info ?? {};
  const description = info.description ||
    [info.vendor, info.architecture, info.device].filter((s) => s).join(" ") || "unnamed adapter";
  const fallback = adapter.isFallbackAdapter === true || info.isFallbackAdapter === true;
  return { kind: "adapter", description, fallback };
}
