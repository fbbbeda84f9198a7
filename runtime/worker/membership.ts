/**
 * The membership of an elastic run over its steps, as the runtime uses it: which workers are
 * live at each step (from the declared `network({ failures })`: fixed leaves, rejoins and random
 * churn, `membershipSchedule` in `dsl/elastic.ts`), where workers join again, who has left by the
 * end, and what this version refuses to run. Every worker computes the same schedule from the plan, so
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
 * The step indices (from 0) at which declared workers join an elastic run again (`joinAt − 1`),
 * ascending: where the schedule's live workers include one that was not live at the step
 * before. Empty for plans without rejoins (and for plans that are not elastic).
 *
 * @param plan The plan.
 * @returns The step indices.
 * @example Worker 1 leaves at step 5 and is back at step 10 (index 9)
 * ```ts
 * import assert from "node:assert/strict";
 * import { allReduce, leastSquares, linear, network, sgd, train } from "../../mod.ts";
 * import { joinSteps } from "./membership.ts";
 *
 * const plan = train(linear({ dim: 3 })).data(leastSquares({ file: "unused.json" })).workers(4)
 *   .optimizer(sgd({ lr: 0.1 })).base(allReduce()).steps(20).elastic({ minWorkers: 3 })
 *   .network(network({ failures: [{ worker: 1, leaveAt: 5, joinAt: 10 }] })).compile();
 * assert.deepEqual(joinSteps(plan), [9]);
 * ```
 */
export function joinSteps(plan: Plan): number[] {
  const spans = planMembership(plan) ?? [];
  return spans.slice(1).filter((span, i) =>
    span.live.some((rank) => !spans[i]!.live.includes(rank))
  ).map((span) => span.from - 1);
}

/**
 * Why a worker may not join this elastic plan's run again (over TCP a restarted worker, on the
 * memory transport a declared `joinAt`), or `null` when it may. A joiner takes the state of a
 * live worker (`handOverState`), which some bases cannot share yet.
 *
 * @param plan The plan.
 * @returns The reason, a phrase without a leading capital, or `null`.
 */
export function rejoinProblem(plan: Plan): string | null {
  if (plan.elastic?.rejoin !== true) return "the plan's .elastic({ rejoin: false })";
  // Push-sum mass would have to be split with the joiner; a copied weight would double it.
  if (plan.base.kind === "sgp") return "sgp's push-sum weights cannot be shared with a joiner yet";
  // The server's sum holds each worker's uploads; the donor's own state is the server's.
  if (plan.base.kind === "cada") {
    return "cada's per-worker upload state cannot be handed to a joiner yet";
  }
  // Its public copies would restart from a copied neighbour's: not yet checked.
  if (plan.base.kind === "chocoGossip") {
    return "chocoGossip's public copies are not yet re-formed for a joiner";
  }
  return null;
}

/** The base or outer algorithm whose collectives stay in flight across steps, or `null`. */
function overlappingPart(plan: Plan): string | null {
  return plan.base.kind === "overlapLocalSgd"
    ? "overlapLocalSgd"
    : plan.outer?.kind === "streamingDiloco"
    ? "streamingDiloco"
    : null;
}

/**
 * Why this version cannot run an elastic plan as asked, or `null` when it can (and for plans
 * that are not elastic). On the memory transport, declared leaves and random churn run (with
 * either reshard); on TCP, real losses do (a worker that dies or is cut off), with
 * either reshard, overlapLocalSgd and streamingDiloco included (their collectives in flight across
 * steps are launched again from the step that started them); compressors with both. A worker
 * joins again (`joinAt` on the memory transport, `gossamer worker --join` over TCP) with a live
 * worker's state, except for sgp, cada and chocoGossip ({@linkcode rejoinProblem}) and, on memory,
 * the overlapping bases or a join that no worker stays live to give a state to; checkpoints are
 * not yet run.
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
  if (checkpoints) return `${elastic} runs cannot write or resume from checkpoints yet`;
  const overlapping = overlappingPart(plan);
  const joins = joinSteps(plan);
  if (joins.length > 0) {
    const rejoin = rejoinProblem(plan);
    if (rejoin !== null) return `${elastic}: a worker cannot join again (joinAt): ${rejoin}`;
    if (overlapping !== null) {
      return `${elastic}: a worker cannot join again (joinAt) with ${overlapping} yet (its collectives stay in flight across steps, which the joiner did not start)`;
    }
    const live = liveWorkers(plan)!;
    const orphan = joins.find((k) => !live(k).some((rank) => live(k - 1).includes(rank)));
    if (orphan !== undefined) {
      return `${elastic}: at step ${
        orphan + 1
      } workers join again but none of the workers live at step ${orphan} stays to hand them the state`;
    }
  }
  return null;
}
