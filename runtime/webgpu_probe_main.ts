/**
 * Child-process entry of the WebGPU probe (`backend.ts`): requests an adapter, prints its
 * {@linkcode AdapterReport} as one JSON line and exits. The adapter lives and dies with this
 * process: Deno's WebGPU on a software (llvmpipe) adapter corrupts the heap of a process now and
 * then when it exits after adapters were requested, and more often when several threads of it
 * requested one, which is what `deno test --parallel` and thread workers do.
 *
 * Run as `deno run --unstable-webgpu --no-config webgpu_probe_main.ts`; it needs no permission.
 *
 * @module
 */

import { type AdapterReport, describeAdapter, navigatorGpu } from "./webgpu_adapter.ts";

if (import.meta.main) {
  const gpu = navigatorGpu();
  const report: AdapterReport = gpu === undefined
    ? { kind: "error", message: "navigator.gpu is missing in the probe process" }
    : await describeAdapter(gpu);
  console.log(JSON.stringify(report));
}
