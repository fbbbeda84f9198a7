/**
 * The membership of an elastic run over its steps, as the runtime uses it: which workers are
 * live at each step (from the declared `network({ failures })`: fixed leaves and random churn,
 * `membershipSchedule` in `dsl/elastic.ts`), who has left by the end, and
 * what this version refuses to run. Every worker computes the same schedule from the plan, so
 * the survivors switch their collectives to the new members between the same two steps without
 * any message.
 *
 * @module
 */

import { planMembership } from "../../dsl/elastic.ts";
import type { Plan } from "../../dsl/plan.ts";

/**
 * The live workers at each step index `k` (from 0; plan step `k + 1`), or `null` for a plan
 * that is not elastic (every worker live throughout).
 *
 * @param plan The plan.
 * @returns A function of the step index, or `null`.
 * @example Worker 2 of 4 leaves at step 3: it takes part in steps 1 and 2 (indices 0 and 1)
 * ```ts
 * import assert from "node:assert/strict";
 * import { allReduce, leastSquares, linear, network, sgd, train } from "../../mod.ts";
 * import { liveWorkers } from "./membership.ts";
 *
 * const plan = train(linear({ dim: 3 })).data(leastSquares({ file: "unused.json" })).workers(4)
 *   .optimizer(sgd({ lr: 0.1 })).base(allReduce()).steps(5).elastic({ minWorkers: 3 })
 *   .network(network({ failures: [{ worker: 2, leaveAt: 3 }] })).compile();
 * const live = liveWorkers(plan)!;
 * assert.deepEqual(live(1), [0, 1, 2, 3]);
 * assert.deepEqual(live(2), [0, 1, 3]);
 * ```
 */
export function liveWorkers(plan: Plan): ((k: number) => readonly number[]) | null {
  const spans = planMembership(plan);
  if (spans === null) return null;
  return (k) => {
    // The last stretch that starts at or before step k + 1, by bisection (many with churn).
    let lo = 0;
    let hi = spans.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (spans[mid]!.from <= k + 1) lo = mid;
      else hi = mid - 1;
    }
    return spans[lo]!.live;
  };
}

/**
 * The workers that left an elastic run and did not come back, each with the steps it did
 * (`leaveAt − 1`), in rank order; empty for other plans.
 *
 * @param plan The plan.
 * @returns The lost workers.
 */
export function lostWorkers(plan: Plan): { worker: number; steps: number }[] {
  const live = liveWorkers(plan);
  if (live === null) return [];
  const atEnd = live(plan.steps - 1);
  const lost: { worker: number; steps: number }[] = [];
  for (let rank = 0; rank < plan.workers; rank++) {
    if (atEnd.includes(rank)) continue;
    let steps = 0;
    while (steps < plan.steps && live(steps).includes(rank)) steps++;
    lost.push({ worker: rank, steps });
  }
  return lost;
}

/**
 * Why this version cannot run an elastic plan as asked, or `null` when it can (and for plans
 * that are not elastic). On the memory transport, declared leaves and random churn run (with
 * either reshard); on TCP, real losses do (a worker that dies or is cut off), with
 * either reshard, overlapLocalSgd and streamingDiloco included (their collectives in flight across
 * steps are launched again from the step that started them). `joinAt` on the memory transport,
 * rejoins of sgp, cada and chocoGossip workers over TCP, checkpoints and compressors are not yet.
 *
 * @param plan The plan.
 * @param transport The run's transport.
 * @param checkpoints Whether the run writes or resumes from checkpoints.
 * @param localWorkers Workers per process (`--local-workers`; default 1).
 * @returns The reason, a sentence without a leading capital, or `null`.
 */
export function elasticRunProblem(
  plan: Plan,
  transport: "memory" | "tcp",
  checkpoints: boolean,
  localWorkers = 1,
): string | null {
  if ((plan.elastic ?? null) === null) return null;
  const elastic = "elastic training (.elastic)";
  const failures = plan.network?.failures ?? [];
  if (transport === "tcp" && failures.length > 0) {
    return `${elastic}: network({ failures }) declares leaves for --transport memory (either clock); over TCP a worker leaves by dying or being cut off`;
  }
  if (transport === "tcp" && localWorkers > 1) {
    return `${elastic}: --local-workers is not yet supported (a lost process loses every worker of its shared-memory group)`;
  }
  if (failures.some((failure) => "joinAt" in failure && failure.joinAt !== null)) {
    return `${elastic}: a worker joining again (joinAt) is not yet run; declare leaves without joinAt`;
  }
  if (checkpoints) return `${elastic} runs cannot write or resume from checkpoints yet`;
  if (plan.compress !== null) {
    return `${elastic} runs cannot use a compressor yet (its mean is over every worker)`;
  }
  return null;
}
