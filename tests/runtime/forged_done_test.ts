/**
 * A member that holds the secret and lies in its `done` (issue 20, item 8), end to end: the run
 * listens with `launch: "none"`, the test starts the four workers itself through the real worker
 * (`runWorker`: the real handshake with the secret, the real mesh, the real training), and one of
 * them changes what it reports just before it is sent: a final model holding NaN, a model of 7
 * values, or metrics that stop after 3 steps. The coordinator must fail the run naming that
 * worker, and nothing may say "completed".
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { run } from "../../mod.ts";
import type { MetricsLine } from "../../runtime/metrics.ts";
import { runWorker, type WorkerReports } from "../../runtime/worker/worker_main.ts";
import { TEST_SECRET } from "./_processes.ts";
import { leastSquaresPlans, tempRunFolder } from "./_plans.ts";

const STEPS = 12;
const plan = leastSquaresPlans(STEPS).allReduce!;

/**
 * Runs the plan with four workers started here, `forger` changing its reports with `reports`.
 *
 * @returns The run's failure message and its summary.
 */
async function runWithForger(
  forger: number,
  reports: WorkerReports,
): Promise<{ message: string; summary: Record<string, unknown>; params: boolean }> {
  const parent = await tempRunFolder();
  const folder = join(parent, "run");
  const workers: Promise<void>[] = [];
  try {
    let message: string | null = null;
    try {
      await run(plan, {
        transport: "tcp",
        launch: "none",
        secret: TEST_SECRET,
        out: folder,
        rendezvous: "127.0.0.1:0",
        silenceTimeoutMs: 60_000,
        onListening: (address) => {
          for (let rank = 0; rank < plan.workers; rank++) {
            workers.push(runWorker(
              {
                plan,
                rank,
                world: plan.workers,
                rendezvous: address,
                backend: "cpu",
                secret: TEST_SECRET,
              },
              rank === forger ? reports : {},
            ));
          }
        },
      });
    } catch (error) {
      message = (error as Error).message;
    }
    await Promise.allSettled(workers);
    assert.ok(message !== null, "the run with a forged done completed");
    const summary = JSON.parse(await Deno.readTextFile(join(folder, "summary.json")));
    const params = await Deno.stat(join(folder, "params.json")).then(() => true, () => false);
    return { message, summary, params };
  } finally {
    await Promise.allSettled(workers);
    await Deno.remove(parent, { recursive: true });
  }
}

/** The forged run failed with `expected` and wrote no result. */
function refused(
  outcome: { message: string; summary: Record<string, unknown>; params: boolean },
  expected: string,
): void {
  assert.equal(outcome.message, expected);
  assert.equal(outcome.summary.status, "failed");
  assert.equal(outcome.summary.error, expected);
  assert.equal(outcome.params, false);
}

Deno.test("a member's done with NaN parameters fails the run naming it", async () => {
  const outcome = await runWithForger(2, {
    final: (final) => final.map((value, index) => index === 1 ? NaN : value),
  });
  refused(outcome, "Worker 2 reported a final model holding NaN (parameter 1)");
});

Deno.test("a member's done with 7 values instead of the plan's 3 fails the run naming it", async () => {
  // linear({ dim: 3 }): one weight per feature, no bias.
  const outcome = await runWithForger(1, { final: () => new Float32Array(7).fill(0.5) });
  refused(
    outcome,
    "Worker 1 reported a final model of 7 values; the plan's model has 3 parameters",
  );
});

Deno.test("a member's done after 3 of its steps fails the run naming it", async () => {
  // It trains (its peers need it in every all-reduce) but reports only its first 3 steps.
  const outcome = await runWithForger(3, {
    metrics: (line: MetricsLine) => line.type === "step" && line.step >= 3 ? null : line,
  });
  refused(outcome, `Worker 3 reported a final model after 3 of ${STEPS} steps`);
});
