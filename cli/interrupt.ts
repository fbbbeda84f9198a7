/**
 * Ctrl-C during a run: instead of dying mid-write, the run is aborted through its signal, so
 * the workers are stopped, the summary records the interruption, and everything written stays.
 *
 * @module
 */

/**
 * Runs `work` with an abort signal that fires on SIGINT (Ctrl-C), for as long as it runs.
 *
 * @param work The run, given the signal.
 * @returns What `work` returns.
 */
export async function withInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onInterrupt = () => controller.abort(new Error("Interrupted by Ctrl-C (SIGINT)"));
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    return await work(controller.signal);
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
}
