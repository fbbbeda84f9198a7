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
 * live worker (`handOverState`), made for it by `algorithms/chain.ts`'s `joinerBuffers` after every
 * member ran `BaseAlgorithm.joining` (sgp's donor splits its push-sum mass, cada's server clears
 * the joiner's slot, chocoGossip resets its public copies over the new members).
 *
 * @param plan The plan.
 * @returns The reason, a phrase without a leading capital, or `null`.
 */
export function rejoinProblem(plan: Plan): string | null {
  if (plan.elastic?.rejoin !== true) return "the plan's .elastic({ rejoin: false })";
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
 * steps are launched again from the step that started them); compressors with both; both write
 * checkpoints and resume from them with the members they had ({@linkcode elasticResumeProblem}).
 * A worker joins again (`joinAt` on the memory transport, `gossamer worker --join` over TCP) with
 * a live worker's state ({@linkcode rejoinProblem}), except, on memory, with the overlapping bases
 * or where no worker stays live to give a state.
 *
 * @param plan The plan.
 * @param transport The run's transport.
 * @param localWorkers Workers per process (`--local-workers`; default 1).
 * @returns The reason, a sentence without a leading capital, or `null`.
 */
export function elasticRunProblem(
  plan: Plan,
  transport: "memory" | "tcp",
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

/**
 * Why an elastic run with declared rejoins (`joinAt`, memory transport) cannot write or resume
 * from checkpoints, or `null`: a checkpoint taken while a worker is away holds no state for it,
 * and a resumed run would not start the worker that is to come back.
 *
 * @param plan The plan.
 * @param checkpoints Whether the run writes or resumes from checkpoints.
 * @returns The reason, a sentence without a leading capital, or `null`.
 */
export function elasticCheckpointProblem(plan: Plan, checkpoints: boolean): string | null {
  if (!checkpoints || joinSteps(plan).length === 0) return null;
  return "elastic training (.elastic): a plan whose workers join again (joinAt) cannot write or resume from checkpoints yet";
}

/**
 * Why an elastic run cannot resume from its checkpoint as asked, or `null` when it can. A
 * checkpoint records the members it was taken with: on the memory transport they must be the
 * declared schedule's at that step (the rest of the schedule continues from there); workers a
 * TCP run lost have no state, so that checkpoint resumes over TCP only (they stay lost).
 *
 * @param plan The plan.
 * @param options The run's transport and the checkpoint it resumes from, if any.
 * @returns The reason, a sentence without a leading capital, or `null`.
 */
export function elasticResumeProblem(
  plan: Plan,
  options: {
    readonly transport?: "memory" | "tcp";
    readonly resume?: {
      readonly step: number;
      readonly members?: readonly number[];
      readonly lost?: readonly { readonly worker: number }[];
    };
  },
): string | null {
  const resume = options.resume;
  if (resume === undefined || resume.members === undefined) return null;
  const at = `the checkpoint after ${resume.step} steps`;
  const everyone = Array.from({ length: plan.workers }, (_, rank) => rank);
  if ((plan.elastic ?? null) === null && resume.members.join() !== everyone.join()) {
    return `${at} holds workers ${resume.members.join(", ")} only, but the plan is not elastic`;
  }
  if ((options.transport ?? "tcp") === "tcp") {
    // Every worker is a member or lost (it has no state), never both.
    const lost = (resume.lost ?? []).map((entry) => entry.worker);
    const unaccounted = everyone.filter((rank) =>
      resume.members!.includes(rank) === lost.includes(rank)
    );
    return unaccounted.length === 0
      ? null
      : `${at} says neither or both that worker ${unaccounted.join(", ")} is live and lost`;
  }
  if ((resume.lost ?? []).length > 0) {
    return `${at} was taken after an elastic TCP run lost workers (they have no state): resume it with --transport tcp`;
  }
  const live = liveWorkers(plan);
  const expected = live?.(Math.max(0, resume.step - 1)) ??
    Array.from({ length: plan.workers }, (_, rank) => rank);
  if (expected.join() !== resume.members.join()) {
    return `${at} holds workers ${
      resume.members.join(", ")
    }, but the plan's declared schedule has ${expected.join(", ")} then`;
  }
  return null;
}
