/**
 * What `gossamer plan` says about an elastic plan: how far it may shrink and grow, what becomes
 * of a lost worker's data, how its base reacts to a lost worker, and the membership over steps
 * that its declared failures give.
 *
 * @module
 */

import { topologyName } from "../topologies/mod.ts";
import type { BaseKind, BaseNode } from "./bases/mod.ts";
import {
  isLeave,
  membershipSchedule,
  type MembershipSpan,
  randomLeaves,
  type ScheduleFacts,
  scheduleFacts,
} from "./elastic.ts";
import type { Plan, RandomLeaveNode, TopologyNode } from "./plan.ts";

/** An elastic plan in words. */
export interface ElasticExplanation {
  /** Bounds, resharding and rejoining, in one sentence. */
  readonly summary: string;
  /** How the base (and the outer and the compressor, if any) reacts to a lost worker. */
  readonly reaction: string;
  /** One sentence per declared failure, in the order declared. */
  readonly failures: readonly string[];
  /** The membership over steps the failures give (fixed and random); empty without failures. */
  readonly membership: readonly MembershipSpan[];
}

/** Whether a topology has a hub whose loss ends the run, and which rank it is. */
function hubOf(topology: TopologyNode): number | null {
  return topology.kind === "star" ? topology.hub : null;
}

/** How the survivors of a topology-based base go on. */
function reformed(kind: string, topology: TopologyNode, pushSum: boolean): string {
  const hub = hubOf(topology);
  const weights = pushSum ? "column-stochastic" : "doubly stochastic";
  const tail = hub === null
    ? ""
    : `; losing the hub (worker ${hub}) ends the run, as a lost worker does today`;
  if (topology.kind === "custom") {
    return `${kind}: the survivors' sub-graph of the ${
      topologyName(topology)
    } topology is renormalised to stay ${weights}, or the run stops where it cannot be.`;
  }
  return `${kind}: the ${
    topologyName(topology)
  } topology is re-formed over the survivors, its weights ${weights} again${tail}.`;
}

/** How each base reacts to a lost worker. */
const REACTIONS: { readonly [K in BaseKind]: (base: Extract<BaseNode, { kind: K }>) => string } = {
  allReduce: () =>
    "allReduce: the all-reduce group shrinks to the survivors, which average over themselves.",
  localSgd: () =>
    "localSgd: each synchronisation averages over the survivors; a lost worker's local steps since the last one are lost with it.",
  overlapLocalSgd: () =>
    "overlapLocalSgd: each synchronisation averages over the survivors; a lost worker's local steps since the last one are lost with it.",
  gossip: (base) => reformed("gossip", base.topology, false),
  dmSgd: (base) => reformed("dmSgd", base.topology, false),
  decentLaM: (base) => reformed("decentLaM", base.topology, false),
  chocoGossip: (base) =>
    reformed("chocoGossip", base.topology, false).replace(
      /\.$/,
      "; the public copies restart from the members' exact models, sent once (after a join too).",
    ),
  sgp: (base) =>
    `${
      reformed("sgp", base.topology, true)
    } A joiner shares its donor's push-sum mass (each holds an equal part).`,
  cada: () =>
    "cada: losing a worker shrinks the server's group of uploads; losing the server (worker 0) ends the run, as a lost worker does today. A joiner starts with no uploads, in a slot the server clears.",
};

/**
 * How the compressor reacts to a change of members: its mean is over the live workers, and the
 * error feedback a worker accumulates stays its own (a joiner starts its own at zero). Empty
 * without a compressor, and for chocoGossip, whose codes go to its neighbours, not into a mean.
 */
function compressorReaction(plan: Plan): string {
  const node = plan.compress;
  if (node === null || plan.base.kind === "chocoGossip") return "";
  const own = node.kind === "sketchedSgd" || (node.kind === "topK" && node.errorFeedback);
  return ` ${node.kind}'s compressed mean is over the survivors${
    own ? "; each keeps its own error feedback, and a worker that joins starts its own at zero" : ""
  }.`;
}

/** A count of workers, `1 worker` or `n workers`. */
function workersText(n: number): string {
  return `${n} worker${n === 1 ? "" : "s"}`;
}

/**
 * Random churn in words: its rule, and what it does with this seed (the schedule the run
 * follows): how many workers it takes, before which step the first, and the live count at the
 * end, next to what the probability alone would leave on average.
 */
function churnText(
  failure: RandomLeaveNode,
  plan: Plan,
  facts: ScheduleFacts,
  membership: readonly MembershipSpan[],
): string {
  const seed = failure.seed === null ? `the plan's seed ${plan.seed}` : `seed ${failure.seed}`;
  const rule = `each live worker leaves with probability ${failure.probability} before each ` +
    `step (${seed}), a leave that would leave fewer than ${facts.minWorkers} skipped`;
  const drawn = randomLeaves(facts);
  const expected = plan.workers * (1 - failure.probability) ** plan.steps;
  const atEnd = membership.at(-1)!.live.length;
  const effect = drawn.length === 0
    ? `no worker leaves at random in ${plan.steps} steps`
    : `${workersText(drawn.length)} of ${plan.workers} leave at random in ${plan.steps} steps, ` +
      `the first before step ${drawn[0]!.leaveAt}`;
  return `${rule}: ${effect}; ${atEnd} live at the end (without the floor about ${
    expected.toFixed(1)
  } would be left on average)`;
}

/**
 * Explains a plan's elastic declaration, or `null` when the plan is not elastic.
 *
 * @param plan A valid plan.
 * @returns The explanation.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allReduce, logistic, network, sgd, synthetic, train } from "../mod.ts";
 * import { explainElastic } from "./elastic_explain.ts";
 * const plan = train(logistic()).data(synthetic()).workers(4).optimizer(sgd({ lr: 0.1 }))
 *   .base(allReduce()).steps(1000).elastic({ minWorkers: 3, maxWorkers: 6 })
 *   .network(network({ failures: [{ worker: 2, leaveAt: 300, joinAt: 500 }] })).compile();
 * const explained = explainElastic(plan)!;
 * assert.equal(
 *   explained.summary,
 *   "Elastic: goes on while at least 3 of 4 workers live (up to 6 may join); a lost worker's " +
 *     "shard is dropped; a restarted worker rejoins at the next synchronisation point.",
 * );
 * assert.deepEqual(explained.failures, [
 *   "worker 2 leaves before step 300, rejoins at step 500: 3 workers for 200 steps",
 * ]);
 * ```
 */
export function explainElastic(plan: Plan): ElasticExplanation | null {
  const elastic = plan.elastic ?? null;
  if (elastic === null) return null;
  const grow = elastic.maxWorkers > plan.workers ? ` (up to ${elastic.maxWorkers} may join)` : "";
  const shard = elastic.reshard === "drop"
    ? "a lost worker's shard is dropped"
    : "a lost worker's shard is spread over the survivors";
  const rejoin = elastic.rejoin
    ? "a restarted worker rejoins at the next synchronisation point"
    : "a lost worker does not come back";
  const summary = `Elastic: goes on while at least ${elastic.minWorkers} of ${
    workersText(plan.workers)
  } live${grow}; ${shard}; ${rejoin}.`;
  const react = REACTIONS[plan.base.kind] as (base: BaseNode) => string;
  const outer = plan.outer === null
    ? ""
    : ` ${plan.outer.kind}'s outer step averages over the survivors.`;
  const failures = plan.network?.failures ?? [];
  const facts = scheduleFacts(plan)!;
  const membership = failures.length > 0 ? membershipSchedule(facts) : [];
  return {
    summary,
    reaction: `${react(plan.base)}${outer}${compressorReaction(plan)}`,
    failures: failures.map((failure) => {
      if (!isLeave(failure)) return churnText(failure, plan, facts, membership);
      const span = membership.find((s) => s.from === failure.leaveAt);
      const back = failure.joinAt === null ? " for good" : `, rejoins at step ${failure.joinAt}`;
      const count = span === undefined
        ? ""
        : `: ${workersText(span.live.length)} for ${span.to - span.from + 1} step${
          span.to === span.from ? "" : "s"
        }`;
      return `worker ${failure.worker} leaves before step ${failure.leaveAt}${back}${count}`;
    }),
    membership,
  };
}
