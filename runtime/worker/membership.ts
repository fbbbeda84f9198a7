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
 * either reshard; both write checkpoints and resume from them with the members they had
 * ({@linkcode elasticResumeProblem}). `joinAt` on the memory transport, rejoins of sgp, cada
 * and chocoGossip workers over TCP, compressors and, over TCP, the overlapping bases are not
 * yet.
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
  if (failures.some((failure) => "joinAt" in failure && failure.joinAt !== null)) {
    return `${elastic}: a worker joining again (joinAt) is not yet run; declare leaves without joinAt`;
  }
  if (plan.compress !== null) {
    return `${elastic} runs cannot use a compressor yet (its mean is over every worker)`;
  }
  const overlapping = plan.base.kind === "overlapLocalSgd"
    ? "overlapLocalSgd"
    : plan.outer?.kind === "streamingDiloco"
    ? "streamingDiloco"
    : null;
  if (transport === "tcp" && overlapping !== null) {
    return `${elastic} over TCP cannot use ${overlapping} yet (its collectives stay in flight across steps, which a lost worker leaves half done)`;
  }
  return null;
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
