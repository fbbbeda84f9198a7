/**
 * Stopping a run from outside: Ctrl-C (SIGINT), and the SIGTERM and SIGHUP that schedulers,
 * `timeout`, `docker stop` and a dropped ssh session send. Instead of dying mid-write, the run
 * is aborted through its signal, so the workers are stopped, the summary records the
 * interruption, the newest checkpoint stays usable, and everything written stays. (SIGKILL
 * cannot be caught: after one, the metrics already written and the last checkpoint remain,
 * since both are written as they go and checkpoints atomically.)
 *
 * @module
 */

/** The signals that stop a run cleanly, with what each usually means. */
const SIGNALS = [
  ["SIGINT", "Ctrl-C"],
  ["SIGTERM", "a request to terminate"],
  ["SIGHUP", "the terminal closed"],
] as const satisfies readonly (readonly [Deno.Signal, string])[];

/** The signal that stopped the last interrupted run, for its exit code; `null` if none. */
export let interruptedBy: Deno.Signal | null = null;

/** The conventional exit code of a process stopped by a signal: 128 + its number. */
export function signalExitCode(signal: Deno.Signal): number {
  return 128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as Record<string, number>)[signal]!;
}

/**
 * Runs `work` with an abort signal that fires on SIGINT, SIGTERM or SIGHUP, for as long as it
 * runs.
 *
 * @param work The run, given the signal.
 * @returns What `work` returns.
 */
export async function withInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const listeners = SIGNALS.map(([signal, meaning]) => {
    const listener = () => {
      interruptedBy ??= signal;
      controller.abort(new Error(`Interrupted by ${meaning} (${signal})`));
    };
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  try {
    return await work(controller.signal);
  } finally {
    for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
  }
}
