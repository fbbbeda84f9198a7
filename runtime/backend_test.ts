import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { BackendError, classify, probeWebGpu, selectBackend, selectedBackend } from "./backend.ts";

Deno.test("auto picks wasm on a software webgpu adapter and says why", async () => {
  const gpu = await probeWebGpu();
  const selection = await selectBackend("auto");
  if (!gpu.available) {
    assert.equal(selection.backend, "wasm");
    assert.match(selection.reason, /using wasm$/);
    return;
  }
  if (gpu.hardware) {
    assert.equal(selection.backend, "webgpu");
    return;
  }
  assert.equal(selection.backend, "wasm");
  assert.match(
    selection.reason,
    /^webgpu adapter is (software|a fallback adapter) \(.+\); using wasm$/,
  );
  assert.ok(selection.reason.includes(gpu.description));
  assert.deepEqual(selectedBackend(), selection);
});

Deno.test("cpu and wasm requests run a tensor op", async () => {
  const tf = await import("../deps/tfjs.ts");
  for (const request of ["cpu", "wasm"] as const) {
    const selection = await selectBackend(request);
    assert.deepEqual(selection, { backend: request, reason: `${request} requested` });
    assert.equal(tf.getBackend(), request);
    const sum = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync());
    assert.deepEqual([...sum], [4, 6]);
  }
});

Deno.test("an unknown request fails clearly", async () => {
  await assert.rejects(
    () => selectBackend("tpu" as "cpu"),
    (error: unknown) =>
      error instanceof BackendError && /unknown backend "tpu"/.test(error.message),
  );
});

/** Runs `code` in a child Deno with the project's config; returns its last stdout line as JSON. */
async function evalInChild(code: string) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--config", fileURLToPath(new URL("../deno.json", import.meta.url)), code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  const text = new TextDecoder().decode(output.stdout);
  return JSON.parse(text.trim().split("\n").at(-1)!);
}

Deno.test("an explicit webgpu request without navigator.gpu fails clearly", async () => {
  // A child process that hides navigator.gpu before anything asks for an adapter.
  const backend = new URL("./backend.ts", import.meta.url).href;
  const code = `Object.defineProperty(navigator, "gpu", { value: undefined, configurable: true });
    const { selectBackend } = await import(${JSON.stringify(backend)});
    const auto = await selectBackend("auto");
    let error = "";
    try { await selectBackend("webgpu"); } catch (e) { error = e.name + ": " + e.message; }
    console.log(JSON.stringify({ auto, error }));`;
  const result = await evalInChild(code);
  assert.equal(result.auto.backend, "wasm");
  assert.match(result.auto.reason, /navigator\.gpu is missing.*; using wasm$/);
  assert.match(
    result.error,
    /^BackendError: Cannot use the webgpu backend: webgpu is not available/,
  );
});

Deno.test("selection works inside a web worker", async () => {
  const source = `import { selectBackend } from ${
    JSON.stringify(new URL("./backend.ts", import.meta.url).href)
  };
    const tf = await import(${JSON.stringify(new URL("../deps/tfjs.ts", import.meta.url).href)});
    const selection = await selectBackend("wasm");
    const value = tf.tidy(() => tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0]);
    self.postMessage({ selection, value });`;
  const url = `data:application/typescript,${encodeURIComponent(source)}`;
  const worker = new Worker(url, { type: "module" });
  try {
    const message = await new Promise<MessageEvent>((resolve, reject) => {
      worker.onmessage = resolve;
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(event.message));
      };
    });
    assert.equal(message.data.value, 6);
    // A thread worker gets a decided backend from its coordinator; it never opens a WebGPU
    // adapter itself (see runtime/run_tcp.ts).
    assert.equal(message.data.selection.backend, "wasm");
  } finally {
    worker.terminate();
  }
});

Deno.test("an explicit webgpu request on a software adapter runs and says so", async () => {
  const gpu = await probeWebGpu();
  if (!gpu.available) return; // nothing to check without an adapter
  // In a child process: a WebGPU device is not something the test process should keep.
  const backend = new URL("./backend.ts", import.meta.url).href;
  const tfjs = new URL("../deps/tfjs.ts", import.meta.url).href;
  const code = `const { selectBackend } = await import(${JSON.stringify(backend)});
    const tf = await import(${JSON.stringify(tfjs)});
    const selection = await selectBackend("webgpu");
    const y = tf.add(tf.tensor1d([1, 2]), tf.tensor1d([1, 2]));
    console.log(JSON.stringify({ selection, values: [...await y.data()] }));`;
  const result = await evalInChild(code);
  assert.equal(result.selection.backend, "webgpu");
  assert.ok(result.selection.reason.startsWith("webgpu requested; "));
  if (!gpu.hardware) assert.match(result.selection.reason, /usually slower than wasm$/);
  assert.deepEqual(result.values, [2, 4]);
});

Deno.test("the probe leaves no WebGPU driver thread in this process; an adapter requested here does", async () => {
  if (Deno.build.os !== "linux") return; // threads are counted in /proc
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-webgpu",
      fileURLToPath(new URL("./_probe_threads.ts", import.meta.url)),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  // The harness keeps its own adapter at exit, which can crash that exit: read what it printed.
  const line = new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!;
  assert.ok(line.startsWith("{"), new TextDecoder().decode(output.stderr));
  const { probe, before, afterProbe, afterRequest } = JSON.parse(line);
  if (!probe.available) return; // no adapter, no driver threads to leave behind
  // Mesa's software adapter starts five threads (llvmpipe-0 and llvmpipe-1 among them; the
  // counts leave out those named after the process); before the probe ran in a child process
  // they stayed until this process exited.
  assert.ok(afterRequest > before, `an adapter starts threads: ${before} -> ${afterRequest}`);
  assert.equal(afterProbe, before);
});

Deno.test("adapter reports classify as hardware, software, fallback, none or failed", () => {
  const adapter = (description: string, fallback = false) =>
    classify({ kind: "adapter", description, fallback });
  assert.deepEqual(adapter("NVIDIA H200"), {
    available: true,
    hardware: true,
    description: "NVIDIA H200",
    detail: "webgpu adapter is hardware (NVIDIA H200)",
  });
  for (const software of ["llvmpipe (LLVM 15.0.6, 256 bits)", "SwiftShader Device", "lavapipe"]) {
    assert.equal(adapter(software).hardware, false, software);
    assert.equal(adapter(software).detail, `webgpu adapter is software (${software})`);
  }
  assert.equal(adapter("Some GPU", true).detail, "webgpu adapter is a fallback adapter (Some GPU)");
  assert.deepEqual(classify({ kind: "none" }), {
    available: false,
    hardware: false,
    description: "",
    detail: "no webgpu adapter found",
  });
  assert.equal(
    classify({ kind: "error", message: "the probe process exited with code 134" }).detail,
    "requesting a webgpu adapter failed (the probe process exited with code 134)",
  );
});
