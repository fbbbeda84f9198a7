/**
 * Test harness for `backend_test.ts`: counts this process's threads (those of tokio's pool
 * aside, which come and go with child processes) before and after {@linkcode probeWebGpu}, then
 * after requesting an adapter in this process, and prints the counts and the probe as one JSON
 * line. A WebGPU adapter starts threads of its driver (Mesa's `llvmpipe-N` and disk-cache
 * threads on a software adapter); the probe should leave none behind. Linux only (`/proc`).
 *
 * @module
 */

import { probeWebGpu } from "./backend.ts";
import { describeAdapter, navigatorGpu } from "./webgpu_adapter.ts";

/**
 * This process's named threads: tokio's pool aside, and threads that carry the process's own name
 * (`deno`), which Deno starts and stops around child processes (a probe's child among them) at
 * times of its own. A driver names its threads (Mesa: `llvmpipe-0`, `llvmpipe-1`, …).
 */
function threads(): number {
  return [...Deno.readDirSync("/proc/self/task")]
    .map((task) => Deno.readTextFileSync(`/proc/self/task/${task.name}/comm`).trim())
    .filter((name) => !name.startsWith("tokio-runtime") && name !== "deno").length;
}

if (import.meta.main) {
  const before = threads();
  const probe = await probeWebGpu();
  const afterProbe = threads();
  const gpu = navigatorGpu();
  if (gpu !== undefined) await describeAdapter(gpu);
  const afterRequest = threads();
  console.log(JSON.stringify({ probe, before, afterProbe, afterRequest }));
}
