/**
 * What random churn should do to 64 workers of an easy, i.i.d. problem: losing about a tenth of
 * them (7, seeded) costs little accuracy, whichever way they synchronise, since the survivors'
 * shards come from the same distribution; the bytes a worker sends per step fall with the
 * members, by exactly the share of worker-steps the schedule keeps; all-reduce's ring, bound by
 * its 2(m − 1) latencies per step, gets faster as it shrinks, while the exponential graph keeps
 * its ⌈log2 m⌉ = 6 peers per worker and its time.
 *
 * @module
 */
import { check, type Expectations, percent, row } from "../../../report/expectations.ts";
import { planMembership } from "../../../dsl/elastic.ts";
import churned from "./all_reduce_churn.ts";

/** The share of the 64 × 200 worker-steps the churn schedule keeps live. */
function liveShare(): number {
  const plan = churned.compile();
  const spans = planMembership(plan)!;
  const live = spans.reduce((sum, span) => sum + span.live.length * (span.to - span.from + 1), 0);
  return live / (plan.workers * plan.steps);
}

const expectations: Expectations = (rows) => {
  const share = liveShare();
  return ["all_reduce", "gossip"].flatMap((name) => {
    const still = row(rows, name);
    const churn = row(rows, `${name}_churn`);
    const cost = still.finalAccuracy! - churn.finalAccuracy!;
    const bytes = churn.trainingBytesPerStep / still.trainingBytesPerStep;
    return [
      check(
        `churn costs ${name} at most 1 point of final accuracy`,
        cost <= 0.01,
        `${percent(churn.finalAccuracy)} with churn vs ${percent(still.finalAccuracy)} without`,
      ),
      check(
        `${name}'s bytes per worker per step fall with the members: the churn row's share of ` +
          "the baseline's is the schedule's share of live worker-steps (within 1%)",
        Math.abs(bytes / share - 1) <= 0.01,
        `${(100 * bytes).toFixed(2)}% of the bytes, ${(100 * share).toFixed(2)}% of the ` +
          "worker-steps live",
      ),
    ];
  }).concat([
    check(
      "all-reduce's simulated time falls as its ring shrinks",
      row(rows, "all_reduce_churn").timeMs < row(rows, "all_reduce").timeMs,
      `${(row(rows, "all_reduce_churn").timeMs / 1000).toFixed(2)} s vs ${
        (row(rows, "all_reduce").timeMs / 1000).toFixed(2)
      } s`,
    ),
    check(
      "gossip under churn takes at most a tenth of all-reduce's simulated time",
      row(rows, "gossip_churn").timeMs <= 0.1 * row(rows, "all_reduce_churn").timeMs,
      `${(row(rows, "gossip_churn").timeMs / 1000).toFixed(2)} s vs ${
        (row(rows, "all_reduce_churn").timeMs / 1000).toFixed(2)
      } s`,
    ),
  ]);
};
export default expectations;
