/**
 * Web Worker entry point of a thread worker: receives its launch parameters in the first
 * message (the run's secret among them: `postMessage` keeps it inside this process), runs {@linkcode runWorker} (the same TCP code path as a process worker), reports how
 * it ended and closes itself.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { runWorker, type WorkerLaunch } from "./worker_main.ts";
import { messageOf } from "../errors.ts";

self.onmessage = async (event: MessageEvent<WorkerLaunch>) => {
  try {
    await runWorker(event.data);
    self.postMessage({ type: "finished" });
  } catch (error) {
    self.postMessage({
      type: "failed",
      message: messageOf(error),
    });
  }
  self.close();
};
