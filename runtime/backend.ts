/**
 * Chooses and starts the TensorFlow.js backend, and says which one runs and why.
 *
 * `auto` uses WebGPU only when `navigator.gpu` offers a hardware adapter: a fallback adapter or
 * a software rasteriser (llvmpipe, lavapipe, SwiftShader, WARP) is slower than WASM, so `auto`
 * then picks WASM, and CPU only when WASM cannot start. An explicit request is honoured or
 * fails with a clear error; nothing falls back silently. Backends are imported lazily, so the
 * WASM path never loads the WebGPU backend, and everything here also works inside a Web Worker
 * (each worker selects its own backend).
 *
 * Selecting WASM also registers the kernels its 4.22.0 build lacks (`Conv2DBackpropFilter`, see
 * `wasm_kernels.ts`), so convolutional models train there.
 *
 * Importing the WebGPU backend makes it TensorFlow.js's highest-priority backend, which is why
 * every entry point must call {@linkcode selectBackend} (which sets the backend and awaits
 * `tf.ready()`) before its first tensor operation.
 *
 * @module
 */

import { fileURLToPath as fromFileUrl } from "node:url";
import { messageOf } from "./errors.ts";
import { type AdapterReport, describeAdapter, navigatorGpu } from "./webgpu_adapter.ts";

/** Which TensorFlow.js backend to run: `auto` picks the fastest usable one. */
export type BackendRequest = "auto" | "webgpu" | "wasm" | "cpu";

/** The backend that runs, and why, in words. */
export interface BackendSelection {
  /** The TensorFlow.js backend name: `webgpu`, `wasm` or `cpu`. */
  readonly backend: string;
  /** Why, e.g. `webgpu adapter is software (llvmpipe (LLVM 15.0.6, 256 bits)); using wasm`. */
  readonly reason: string;
}

/** What `navigator.gpu` offers. */
export interface WebGpuProbe {
  /** Whether an adapter was found at all. */
  readonly available: boolean;
  /** Whether the adapter is real hardware (not a fallback or software adapter). */
  readonly hardware: boolean;
  /** The adapter's description (or vendor and architecture), `""` without an adapter. */
  readonly description: string;
  /** Why it is or is not usable, in words. */
  readonly detail: string;
}

/** A requested backend cannot run. */
export class BackendError extends Error {
  /**
   * An error naming the backend and what prevents it.
   *
   * @param request The backend that was asked for.
   * @param detail Why it cannot run.
   */
  constructor(readonly request: BackendRequest, readonly detail: string) {
    super(`Cannot use the ${request} backend: ${detail}`);
    this.name = "BackendError";
  }
}

/** Adapter descriptions that mean a software implementation. */
const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|software|microsoft basic render|warp/i;

/** The current process's selection, set by {@linkcode selectBackend}. */
let current: BackendSelection | null = null;

/** The probe, done once per process or worker. */
let probe: Promise<WebGpuProbe> | null = null;

/**
 * Looks at the WebGPU adapter `navigator.gpu` offers, without starting the WebGPU backend. The
 * adapter is requested in a short-lived child process where this thread may start one, so this
 * process never holds a software adapter it does not train on (see `webgpu_probe_main.ts`). The
 * answer is cached for the process (or Web Worker).
 *
 * @returns Whether an adapter exists, whether it is hardware, and why.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { probeWebGpu } from "./backend.ts";
 * const gpu = await probeWebGpu();
 * assert.ok(gpu.available || !gpu.hardware);
 * ```
 */
export function probeWebGpu(): Promise<WebGpuProbe> {
  probe ??= doProbe();
  return probe;
}

/**
 * Takes another thread's probe as this thread's answer, so this thread never requests an adapter.
 * Workers use the answer of the thread that launched them: a worker may not start the child
 * process that probes (its permissions exclude `run`), and an adapter requested in a process
 * can corrupt its heap (see `webgpu_probe_main.ts`).
 *
 * @param answer The probe the launching thread made.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adoptWebGpuProbe, probeWebGpu } from "./backend.ts";
 * adoptWebGpuProbe({ available: false, hardware: false, description: "", detail: "told" });
 * assert.equal((await probeWebGpu()).detail, "told");
 * ```
 */
export function adoptWebGpuProbe(answer: WebGpuProbe): void {
  probe = Promise.resolve(answer);
}

/** How long the probe's child process may take to answer (a software adapter takes ~0.1 s). */
const PROBE_TIMEOUT_MS = 30_000;

/** The probe's child-process entry (`webgpu_probe_main.ts`). */
const PROBE_ENTRY = new URL("./webgpu_probe_main.ts", import.meta.url);

/**
 * Requests an adapter and classifies it. The request runs in a child process where this thread
 * may start one (see `webgpu_probe_main.ts` for why), and in this thread otherwise: a thread
 * without `run` permission, or gossamer loaded from a remote URL.
 */
async function doProbe(): Promise<WebGpuProbe> {
  const gpu = navigatorGpu();
  if (gpu === undefined) {
    return {
      available: false,
      hardware: false,
      description: "",
      detail: "webgpu is not available (navigator.gpu is missing; Deno needs --unstable-webgpu)",
    };
  }
  return classify(canProbeInChild() ? await describeAdapterInChild() : await describeAdapter(gpu));
}

/** Whether this thread may run the probe's entry as a child process. */
function canProbeInChild(): boolean {
  if (PROBE_ENTRY.protocol !== "file:") return false;
  try {
    return Deno.permissions.querySync({ name: "run", command: Deno.execPath() }).state ===
      "granted";
  } catch {
    return false; // Deno.execPath needs read permission.
  }
}

/** Runs `webgpu_probe_main.ts` in a child process and reads its report. */
async function describeAdapterInChild(): Promise<AdapterReport> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--unstable-webgpu", "--no-config", "--quiet", fromFileUrl(PROBE_ENTRY)],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    }).output();
  } catch (error) {
    return { kind: "error", message: `the probe process failed (${messageOf(error)})` };
  }
  // The report is printed before the process exits, so it stands even if the exit crashed.
  const line = new TextDecoder().decode(output.stdout).trim().split("\n").at(-1) ?? "";
  try {
    const report = JSON.parse(line) as AdapterReport;
    if (["adapter", "none", "error"].includes(report?.kind)) return report;
  } catch { /* reported below */ }
  const said = new TextDecoder().decode(output.stderr).trim().split("\n").at(-1) ?? "";
  return {
    kind: "error",
    message: output.signal === "SIGTERM"
      ? `the probe process did not answer within ${PROBE_TIMEOUT_MS / 1000} s`
      : `the probe process exited with code ${output.code} without a report${
        said ? `: ${said}` : ""
      }`,
  };
}

/**
 * What an adapter report means for the backend choice.
 *
 * @param report What requesting an adapter gave.
 * @returns The probe's answer.
 */
export function classify(report: AdapterReport): WebGpuProbe {
  if (report.kind === "error") {
    return {
      available: false,
      hardware: false,
      description: "",
      detail: `requesting a webgpu adapter failed (${report.message})`,
    };
  }
  if (report.kind === "none") {
    return {
      available: false,
      hardware: false,
      description: "",
      detail: "no webgpu adapter found",
    };
  }
  const { description } = report;
  if (SOFTWARE_ADAPTER.test(description)) {
    return {
      available: true,
      hardware: false,
      description,
      detail: `webgpu adapter is software (${description})`,
    };
  }
  if (report.fallback) {
    return {
      available: true,
      hardware: false,
      description,
      detail: `webgpu adapter is a fallback adapter (${description})`,
    };
  }
  return {
    available: true,
    hardware: true,
    description,
    detail: `webgpu adapter is hardware (${description})`,
  };
}

/** The TensorFlow.js module, imported on first use. */
type Tf = typeof import("../deps/tfjs.ts");

/** Imports TensorFlow.js and the backend module `name` needs, then sets and readies it. */
async function start(name: "webgpu" | "wasm" | "cpu"): Promise<Tf> {
  const tf = await import("../deps/tfjs.ts");
  if (name === "wasm") {
    await import("../deps/tfjs_backend_wasm.ts");
    (await import("./wasm_kernels.ts")).registerWasmKernels();
  }
  if (name === "webgpu") await import("../deps/tfjs_backend_webgpu.ts");
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch (error) {
    throw new BackendError(name, `initialisation failed (${messageOf(error)})`);
  }
  if (!ok || tf.getBackend() !== name) {
    throw new BackendError(name, "TensorFlow.js could not initialise it");
  }
  return tf;
}

/**
 * Selects, starts and readies a TensorFlow.js backend, and explains the choice.
 *
 * - `auto`: WebGPU when `navigator.gpu` gives a hardware adapter; else WASM; else CPU.
 * - `webgpu`: WebGPU on any adapter (a software one is noted in the reason), or an error.
 * - `wasm`, `cpu`: that backend, or an error.
 *
 * @param request The backend to use, or `auto`.
 * @returns The backend name and the reason in words.
 * @throws {BackendError} When an explicitly requested backend cannot run (`webgpu` without an
 *   adapter, or a backend that fails to initialise), or when `auto` finds none that starts.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectBackend } from "./backend.ts";
 * const { backend, reason } = await selectBackend("cpu");
 * assert.ok(backend === "cpu" && reason === "cpu requested");
 * ```
 */
export async function selectBackend(request: BackendRequest): Promise<BackendSelection> {
  let selection: BackendSelection;
  switch (request) {
    case "cpu":
    case "wasm":
      await start(request);
      selection = { backend: request, reason: `${request} requested` };
      break;
    case "webgpu": {
      const gpu = await probeWebGpu();
      if (!gpu.available) throw new BackendError("webgpu", gpu.detail);
      await start("webgpu");
      selection = {
        backend: "webgpu",
        reason: gpu.hardware
          ? `webgpu requested; ${gpu.detail}`
          : `webgpu requested; ${gpu.detail}, usually slower than wasm`,
      };
      break;
    }
    case "auto": {
      const gpu = await probeWebGpu();
      if (gpu.hardware) {
        try {
          await start("webgpu");
          selection = { backend: "webgpu", reason: `${gpu.detail}; using webgpu` };
          break;
        } catch (error) {
          const detail = error instanceof BackendError ? error.detail : String(error);
          selection = await autoWithoutGpu(`${gpu.detail} but webgpu failed: ${detail}`);
          break;
        }
      }
      selection = await autoWithoutGpu(gpu.detail);
      break;
    }
    default:
      throw new BackendError(
        request,
        `unknown backend "${request as string}": expected auto, webgpu, wasm or cpu`,
      );
  }
  current = selection;
  return selection;
}

/**
 * Turns `auto` into a concrete request without starting any backend, so that a coordinator can
 * probe WebGPU once, in its own thread, and hand its workers a decided backend (Web Workers then
 * never open a WebGPU adapter of their own). Explicit requests are returned as they are.
 *
 * @param request The backend asked for.
 * @returns The concrete request and, for `auto`, why it was chosen.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decideBackend } from "./backend.ts";
 * const decided = await decideBackend("wasm");
 * assert.ok(decided.request === "wasm" && decided.reason === "wasm requested");
 * ```
 */
export async function decideBackend(
  request: BackendRequest,
): Promise<{ readonly request: Exclude<BackendRequest, "auto">; readonly reason: string }> {
  if (request !== "auto") return { request, reason: `${request} requested` };
  const gpu = await probeWebGpu();
  return gpu.hardware
    ? { request: "webgpu", reason: `${gpu.detail}; using webgpu` }
    : { request: "wasm", reason: `${gpu.detail}; using wasm` };
}

/** `auto` without WebGPU: WASM, else CPU. */
async function autoWithoutGpu(why: string): Promise<BackendSelection> {
  try {
    await start("wasm");
    return { backend: "wasm", reason: `${why}; using wasm` };
  } catch (error) {
    const detail = error instanceof BackendError ? error.detail : String(error);
    try {
      await start("cpu");
    } catch (cpuError) {
      throw new BackendError(
        "auto",
        `${why}; wasm failed (${detail}); cpu failed (${(cpuError as Error).message})`,
      );
    }
    return { backend: "cpu", reason: `${why}; wasm failed (${detail}); using cpu` };
  }
}

/**
 * The backend the last {@linkcode selectBackend} call in this process (or worker) chose.
 *
 * @returns The selection, or `null` before any selection.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectBackend, selectedBackend } from "./backend.ts";
 * await selectBackend("cpu");
 * assert.ok(selectedBackend()?.backend === "cpu");
 * ```
 */
export function selectedBackend(): BackendSelection | null {
  return current;
}
