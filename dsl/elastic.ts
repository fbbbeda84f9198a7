/**
 * Elastic training, the declaration side: `.elastic({ minWorkers, … })` on the pipeline and the
 * churn `network({ failures })` declares. A plan says how many workers it may lose and still go
 * on, how many may join, what becomes of a lost worker's data, and which failures to simulate;
 * this module holds the nodes, their schemas, the rules that tie them to the plan, and the
 * membership over steps that the declared failures give.
 *
 * Steps are counted from 1 to `steps`. A worker that leaves at step `leaveAt` takes part in the
 * synchronisations of steps `1 … leaveAt − 1` only; with `joinAt` it takes part again from step
 * `joinAt` on. Random churn `{ probability, seed }` draws leaves from a seeded stream
 * ({@linkcode membershipSchedule}). `run()` runs declared leaves, rejoins and random churn on the
 * memory transport (`runtime/worker/membership.ts`) and refuses what it cannot run yet (a rejoin
 * with a base that cannot hand a joiner its state) with a message saying so.
 *
 * @module
 */

import * as v from "../deps/valibot.ts";
import { between, integer } from "./fields.ts";
import {
  buildNode,
  type NodeIssue,
  type NodeSchema,
  type OptionNames,
  type OptionProblem,
} from "./kind.ts";
import { unknownOptions, unknownWord } from "../strict_options.ts";
import { randomStream } from "./random.ts";

/** What becomes of a lost worker's shard of the training data. */
export type Reshard = "drop" | "spread";

/** The reshard policies, in the order messages list them. */
const RESHARDS: readonly Reshard[] = ["drop", "spread"];

/** An elastic plan: how far the membership may shrink and grow while the run goes on. */
export interface ElasticNode {
  /** The run stops (with a checkpoint) when fewer workers than this are live. */
  readonly minWorkers: number;
  /** The most workers that may be live at once; joiners beyond the starting count up to this. */
  readonly maxWorkers: number;
  /** Whether a restarted (or late) worker may join at the next synchronisation point. */
  readonly rejoin: boolean;
  /** A lost worker's shard: dropped, or spread over the survivors. */
  readonly reshard: Reshard;
}

/** Options of the pipeline's `.elastic(…)`. */
export interface ElasticOptions {
  /** The fewest live workers the run goes on with (at least 1, at most `workers`). */
  readonly minWorkers: number;
  /** The most live workers (default: `workers`, the starting count). */
  readonly maxWorkers?: number;
  /** Whether a restarted worker rejoins at the next synchronisation point (default true). */
  readonly rejoin?: boolean;
  /** A lost worker's shard: `"drop"` it (default) or `"spread"` it over the survivors. */
  readonly reshard?: Reshard;
}

const OPTIONS: OptionNames<ElasticOptions> = {
  minWorkers: true,
  maxWorkers: true,
  rejoin: true,
  reshard: true,
};

/** `.elastic(…)` as the builder keeps it: `maxWorkers` is `null` until the worker count is known. */
export type ElasticSpec = Omit<ElasticNode, "maxWorkers"> & { readonly maxWorkers: number | null };

/**
 * Reads `.elastic(…)`'s options, noting unknown keys and an unknown `reshard` on the result.
 *
 * @param options The options given to `.elastic(…)`.
 * @returns The spec; `compile()` fills `maxWorkers` with the worker count when it is `null`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { elasticSpec } from "./elastic.ts";
 * assert.deepEqual(elasticSpec({ minWorkers: 3 }), {
 *   minWorkers: 3, maxWorkers: null, rejoin: true, reshard: "drop",
 * });
 * ```
 */
export function elasticSpec(options: ElasticOptions): ElasticSpec {
  // Called from plain JavaScript without options, `minWorkers` is reported as required.
  const given: Partial<ElasticOptions> = options ?? {};
  const reshard = given.reshard ?? "drop";
  return buildNode(
    {
      minWorkers: given.minWorkers as number,
      maxWorkers: given.maxWorkers ?? null,
      rejoin: given.rejoin ?? true,
      reshard,
    },
    given,
    OPTIONS,
    [unknownWord("reshard", reshard, RESHARDS)],
  );
}

/** The elastic node's schema. */
export const elasticSchema: NodeSchema<ElasticNode> = v.strictObject({
  minWorkers: integer(1, 4096),
  maxWorkers: integer(1, 4096),
  rejoin: v.boolean(),
  reshard: v.picklist(RESHARDS, `must be one of ${RESHARDS.map((r) => `"${r}"`).join(", ")}`),
});

// ---------------------------------------------------------------------------------------------
// Declared failures

/** A declared failure of one worker: it leaves at a step and, maybe, comes back. */
export interface LeaveNode {
  /** The worker's rank. */
  readonly worker: number;
  /** The first step whose synchronisation it misses (1 … steps). */
  readonly leaveAt: number;
  /** The step from which it takes part again; `null`: it does not come back. */
  readonly joinAt: number | null;
}

/** Random churn: before every step each live worker leaves with a probability, seeded. */
export interface RandomLeaveNode {
  /** The probability, in `[0, 1)`, that a live worker leaves before a step. */
  readonly probability: number;
  /** Seed of the draws; `null`: derived from the plan's seed. */
  readonly seed: number | null;
}

/** One declared failure: a fixed leave (and rejoin), or random leaves. */
export type FailureNode = LeaveNode | RandomLeaveNode;

/** Options of a fixed failure in `network({ failures })`. */
export interface LeaveOptions {
  /** The worker's rank. */
  readonly worker: number;
  /** The first step whose synchronisation it misses. */
  readonly leaveAt: number;
  /** The step from which it takes part again (default: never). */
  readonly joinAt?: number;
}

/** Options of random churn in `network({ failures })`. */
export interface RandomLeaveOptions {
  /** The probability, in `[0, 1)`, that a live worker leaves before a step. */
  readonly probability: number;
  /** Seed of the draws (default: derived from the plan's seed). */
  readonly seed?: number;
}

/** Options of one entry of `network({ failures })`. */
export type FailureOptions = LeaveOptions | RandomLeaveOptions;

const LEAVE_OPTIONS: OptionNames<LeaveOptions> = { worker: true, leaveAt: true, joinAt: true };
const RANDOM_OPTIONS: OptionNames<RandomLeaveOptions> = { probability: true, seed: true };

/** Whether a failure is a fixed leave (as opposed to random churn). */
export function isLeave(failure: FailureNode): failure is LeaveNode {
  return "worker" in failure;
}

/** Marks an unknown key's problem as the account of what the schema finds in entry `i`. */
function explaining(i: number) {
  return (problem: OptionProblem): OptionProblem => ({ ...problem, field: `failures.${i}` });
}

/**
 * Reads one entry of `network({ failures })`: a fixed leave when it names a `worker`, random churn
 * otherwise; unknown keys are noted at `failures.<i>`.
 *
 * @param options The entry as written.
 * @param i Its index in `failures`.
 * @returns The node and the problems found.
 */
export function failureNode(
  options: FailureOptions,
  i: number,
): { node: FailureNode; problems: OptionProblem[] } {
  if ("worker" in options) {
    return {
      node: { worker: options.worker, leaveAt: options.leaveAt, joinAt: options.joinAt ?? null },
      problems: unknownOptions(options, LEAVE_OPTIONS, `failures.${i}`).map(explaining(i)),
    };
  }
  return {
    node: { probability: options.probability, seed: options.seed ?? null },
    problems: unknownOptions(options, RANDOM_OPTIONS, `failures.${i}`).map(explaining(i)),
  };
}

/** A fixed leave's schema. */
const leaveSchema = v.strictObject({
  worker: integer(0),
  leaveAt: integer(1),
  joinAt: v.nullable(integer(2)),
});

/** Random churn's schema. */
const randomLeaveSchema = v.strictObject({
  probability: v.pipe(
    between(0, 1),
    v.ltValue(1, "must be less than 1: a worker that always leaves never takes a step"),
  ),
  seed: v.nullable(integer(0, 2 ** 32 - 1)),
});

/**
 * One declared failure's schema: a fixed leave when the entry names a `worker`, random churn
 * otherwise, so a wrong field is reported against the shape the entry was meant to have.
 */
export const failureSchema: v.GenericSchema<unknown, FailureNode> = v.lazy((input) =>
  typeof input === "object" && input !== null && "worker" in input ? leaveSchema : randomLeaveSchema
);

/** A stretch of steps with a constant membership. */
export interface MembershipSpan {
  /** First step of the stretch. */
  readonly from: number;
  /** Last step of the stretch. */
  readonly to: number;
  /** Ranks live during it, ascending. */
  readonly live: readonly number[];
}

/**
 * The membership over the steps that the fixed failures give (random churn is not in it): the
 * stretches of steps with the same live workers, in order, covering `1 … steps`. It is
 * {@linkcode membershipSchedule} without the random entries.
 *
 * @param workers The starting worker count.
 * @param steps The plan's steps.
 * @param failures The declared failures.
 * @returns The stretches.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { declaredMembership } from "./elastic.ts";
 * const spans = declaredMembership(4, 1000, [{ worker: 2, leaveAt: 300, joinAt: 500 }]);
 * assert.deepEqual(spans.map((s) => [s.from, s.to, s.live.length]), [
 *   [1, 299, 4], [300, 499, 3], [500, 1000, 4],
 * ]);
 * ```
 */
export function declaredMembership(
  workers: number,
  steps: number,
  failures: readonly FailureNode[],
): MembershipSpan[] {
  return membershipSchedule({
    workers,
    steps,
    failures: failures.filter(isLeave),
    minWorkers: 1,
    seed: 0,
  });
}

/** What the membership of an elastic run depends on. */
export interface ScheduleFacts {
  /** The starting worker count. */
  readonly workers: number;
  /** The plan's steps. */
  readonly steps: number;
  /** The declared failures: fixed leaves (and rejoins) and at most one random churn entry. */
  readonly failures: readonly FailureNode[];
  /** Random churn never leaves fewer live workers than this (`elastic.minWorkers`). */
  readonly minWorkers: number;
  /** The plan's seed: the churn's seed when its entry gives none. */
  readonly seed: number;
  /** A worker random churn never takes (CADA's server, a star's hub); `null` or absent: none. */
  readonly server?: number | null;
}

/** Purpose of the churn's random streams (`runtime/random.ts`). */
const CHURN = "churn";

/**
 * The steps a worker waits, from step `after`, until its next random leave: geometric with
 * success probability `p` (what "leaves before each step with probability `p`" gives, by the
 * memorylessness of independent per-step draws), from the stream `(seed, "churn", worker, after)`.
 */
function nextLeave(seed: number, p: number, worker: number, after: number): number {
  if (p <= 0) return Infinity;
  const u = randomStream(seed, CHURN, worker, after).uniform();
  return after + Math.floor(Math.log1p(-u) / Math.log1p(-p)) + 1;
}

/** A min-heap of `[step, worker]`, by step then worker. */
class LeaveQueue {
  readonly #items: [number, number][] = [];
  static #before(a: [number, number], b: [number, number]): boolean {
    return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
  }
  /** Whether the queue is empty. */
  get empty(): boolean {
    return this.#items.length === 0;
  }
  /** Adds one. */
  push(item: [number, number]): void {
    const items = this.#items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!LeaveQueue.#before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }
  /** Takes the first. */
  pop(): [number, number] {
    const items = this.#items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && LeaveQueue.#before(items[l]!, items[m]!)) m = l;
        if (r < items.length && LeaveQueue.#before(items[r]!, items[m]!)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m]!, items[i]!];
        i = m;
      }
    }
    return top;
  }
}

/**
 * The leaves random churn draws ({@linkcode membershipSchedule} says how), in the order they
 * happen (by step, then rank): each a worker and the first step whose synchronisation it misses.
 * Empty without a random churn entry.
 *
 * @param facts The worker count, steps, failures, `minWorkers`, the plan's seed and the server.
 * @returns The random leaves.
 * @example Worker 4 of 8 leaves before step 2, worker 7 before step 8; then 6 are left, the floor
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomLeaves } from "./elastic.ts";
 * const failures = [{ probability: 0.01, seed: 7 }];
 * assert.deepEqual(randomLeaves({ workers: 8, steps: 100, minWorkers: 6, seed: 1, failures }), [
 *   { worker: 4, leaveAt: 2 }, { worker: 7, leaveAt: 8 },
 * ]);
 * ```
 */
export function randomLeaves(facts: ScheduleFacts): { worker: number; leaveAt: number }[] {
  const { workers, steps, failures, minWorkers } = facts;
  const leaves = failures.filter(isLeave);
  const away = (rank: number, step: number) =>
    leaves.some((f) => f.worker === rank && step >= f.leaveAt && (f.joinAt ?? Infinity) > step);
  // The steps where the fixed failures change the membership, and who is away from each on.
  const fixed = [
    ...new Set([1, ...leaves.flatMap((f) => [f.leaveAt, f.joinAt ?? 0])]),
  ].filter((step) => step >= 1 && step <= steps).sort((a, b) => a - b);
  const awayFrom = fixed.map((step) =>
    Array.from({ length: workers }, (_, rank) => rank).filter((r) => away(r, step))
  );
  const gone = new Map<number, number>();
  const churn = failures.find((f) => !isLeave(f)) as RandomLeaveNode | undefined;
  if (churn !== undefined && churn.probability > 0) {
    const seed = churn.seed ?? facts.seed;
    const p = churn.probability;
    const queue = new LeaveQueue();
    const wait = (rank: number, after: number) => {
      const step = nextLeave(seed, p, rank, after);
      if (step <= steps) queue.push([step, rank]);
    };
    for (let rank = 0; rank < workers; rank++) if (rank !== facts.server) wait(rank, 0);
    while (!queue.empty) {
      const [step, rank] = queue.pop();
      const fixedLeave = leaves.find((f) =>
        f.worker === rank && step >= f.leaveAt && (f.joinAt ?? Infinity) > step
      );
      if (fixedLeave !== undefined) {
        // Away by a fixed leave: drawn again from its return on.
        if (fixedLeave.joinAt !== null) wait(rank, fixedLeave.joinAt - 1);
        continue;
      }
      // The live count at this step and at each later fixed change, were `rank` to leave now.
      let lastTight = -1;
      const points = [step, ...fixed.filter((c) => c > step)];
      points.forEach((point, i) => {
        const j = fixed.findLastIndex((c) => c <= point);
        const awayHere = awayFrom[j]!;
        if (awayHere.includes(rank)) return;
        const live = workers - gone.size - awayHere.filter((r) => !gone.has(r)).length;
        if (live - 1 < minWorkers) lastTight = i;
      });
      if (lastTight < 0) {
        gone.set(rank, step);
        continue;
      }
      // Too few would be left: this leave is skipped, and the next one drawn from after the
      // last step where it would have left too few.
      const until = (points[lastTight + 1] ?? steps + 1) - 1;
      if (until < steps) wait(rank, until);
    }
  }
  return [...gone].map(([worker, leaveAt]) => ({ worker, leaveAt })).sort((a, b) =>
    a.leaveAt - b.leaveAt || a.worker - b.worker
  );
}

/**
 * The membership of an elastic run over its steps, fixed failures and random churn together: the
 * stretches of steps with the same live workers, in order, covering `1 … steps`. The runtime
 * (`runtime/worker/membership.ts`), `gossamer plan`'s explanation and the plan's rules all use
 * it, so every worker computes the same schedule and a run is reproducible.
 *
 * Random churn `{ probability: p, seed }`: before each step, each live worker leaves for good
 * with probability `p`. The draws are a pure function of `(seed, worker, step)`: a worker's wait
 * until its next leave is geometric, drawn from the stream `(seed, "churn", worker, step the wait
 * starts from)` (seed: the entry's, else the plan's). A leave is skipped (the worker stays and
 * waits for its next one) when it would leave fewer than `minWorkers` live at that step or at any
 * later step of the fixed failures, so random churn never goes below `minWorkers` nor keeps a
 * declared leave from happening; a worker away by a fixed leave is not drawn until it is back;
 * leaves before the same step are taken in rank order; the `server` never leaves at random; a
 * worker lost to churn does not come back (a fixed `joinAt` of it is void).
 *
 * Work: a few draws per worker and leave, whatever the step count (256 workers: instant).
 *
 * @param facts The worker count, steps, failures, `minWorkers`, the plan's seed and the server.
 * @returns The stretches.
 * @example Probability 0 leaves everyone; a seeded churn the same schedule on every call
 * ```ts
 * import assert from "node:assert/strict";
 * import { membershipSchedule } from "./elastic.ts";
 * const facts = { workers: 8, steps: 100, minWorkers: 6, seed: 1 };
 * assert.deepEqual(
 *   membershipSchedule({ ...facts, failures: [{ probability: 0, seed: null }] }),
 *   [{ from: 1, to: 100, live: [0, 1, 2, 3, 4, 5, 6, 7] }],
 * );
 * const churn = { ...facts, failures: [{ probability: 0.01, seed: 7 }] };
 * assert.deepEqual(membershipSchedule(churn), membershipSchedule(churn));
 * assert.ok(membershipSchedule(churn).every((span) => span.live.length >= 6));
 * ```
 */
export function membershipSchedule(facts: ScheduleFacts): MembershipSpan[] {
  const { workers, steps } = facts;
  const leaves = facts.failures.filter(isLeave);
  const away = (rank: number, step: number) =>
    leaves.some((f) => f.worker === rank && step >= f.leaveAt && (f.joinAt ?? Infinity) > step);
  const gone = new Map(randomLeaves(facts).map((leave) => [leave.worker, leave.leaveAt]));
  const changes = [
    ...new Set([1, ...leaves.flatMap((f) => [f.leaveAt, f.joinAt ?? 0]), ...gone.values()]),
  ].filter((step) => step >= 1 && step <= steps).sort((a, b) => a - b);
  const spans: MembershipSpan[] = [];
  changes.forEach((from, i) => {
    const live = Array.from({ length: workers }, (_, rank) => rank).filter((r) =>
      !away(r, from) && (gone.get(r) ?? Infinity) > from
    );
    const to = (changes[i + 1] ?? steps + 1) - 1;
    const last = spans.at(-1);
    if (last !== undefined && last.live.join() === live.join()) {
      spans[spans.length - 1] = { ...last, to };
    } else spans.push({ from, to, live });
  });
  return spans;
}

/**
 * The parts of a plan its membership depends on (a `Plan` has them; naming them here keeps this
 * module below `plan.ts`, which imports it).
 */
export interface MembershipPlan {
  readonly workers: number;
  readonly steps: number;
  readonly seed: number;
  readonly elastic?: ElasticNode | null;
  readonly network: { readonly failures: readonly FailureNode[] } | null;
  readonly base: {
    readonly kind: string;
    readonly topology?: { readonly kind: string; readonly hub?: number };
  };
}

/** The worker whose loss ends even an elastic run: CADA's server, a star topology's hub. */
export function elasticServer(plan: MembershipPlan): { rank: number; role: string } | null {
  if (plan.base.kind === "cada") return { rank: 0, role: "cada's server" };
  const topology = plan.base.topology;
  if (topology?.kind === "star") {
    return { rank: topology.hub ?? 0, role: `the hub of ${plan.base.kind}'s star` };
  }
  return null;
}

/**
 * What a plan's membership depends on, for {@linkcode membershipSchedule} and
 * {@linkcode randomLeaves}, or `null` for a plan that is not elastic.
 *
 * @param plan The plan.
 * @returns Its workers, steps, failures, `minWorkers`, seed and server, or `null`.
 */
export function scheduleFacts(plan: MembershipPlan): ScheduleFacts | null {
  const elastic = plan.elastic ?? null;
  if (elastic === null) return null;
  return {
    workers: plan.workers,
    steps: plan.steps,
    failures: plan.network?.failures ?? [],
    minWorkers: elastic.minWorkers,
    seed: plan.seed,
    server: elasticServer(plan)?.rank ?? null,
  };
}

/**
 * A plan's membership over its steps ({@linkcode membershipSchedule} of its
 * {@linkcode scheduleFacts}), or `null` for a plan that is not elastic.
 *
 * @param plan The plan.
 * @returns The stretches of steps with the same live workers, or `null`.
 */
export function planMembership(plan: MembershipPlan): MembershipSpan[] | null {
  const facts = scheduleFacts(plan);
  return facts === null ? null : membershipSchedule(facts);
}

/** What the elastic rules need of the plan. */
export interface ElasticFacts {
  /** The starting worker count. */
  readonly workers: number;
  /** The plan's steps. */
  readonly steps: number;
  /** `.elastic(…)`, or `null` when the plan is not elastic. */
  readonly elastic: ElasticNode | null;
  /** The declared failures (empty without a network). */
  readonly failures: readonly FailureNode[];
  /** The plan's seed, the random churn's when its entry gives none (default 0). */
  readonly seed?: number;
  /**
   * The worker whose loss ends the run even in an elastic plan (CADA's server, a star's hub) and
   * what it is, in words; `null` when every worker may be lost.
   */
  readonly server?: { readonly rank: number; readonly role: string } | null;
}

/**
 * The elastic declaration against the rest of the plan: `1 ≤ minWorkers ≤ workers ≤ maxWorkers`;
 * failures only in an elastic plan, naming existing workers at steps inside the run, one leave of
 * a worker at a time, at most one random churn entry, a rejoin only where rejoining is on, and
 * never fewer live workers than `minWorkers` from the fixed failures (random churn skips the
 * leaves that would go below it: {@linkcode membershipSchedule}).
 *
 * @param facts The worker count, steps, elastic node and failures.
 * @returns Issues, their paths from the plan's root.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { elasticIssues } from "./elastic.ts";
 * const [issue] = elasticIssues({
 *   workers: 4, steps: 100, elastic: { minWorkers: 5, maxWorkers: 4, rejoin: true, reshard: "drop" },
 *   failures: [],
 * });
 * assert.equal(issue?.path, "elastic.minWorkers");
 * ```
 */
export function elasticIssues(facts: ElasticFacts): NodeIssue[] {
  const { workers, steps, elastic, failures } = facts;
  const issues: NodeIssue[] = [];
  const add = (path: string, message: string, expected: string, received: unknown) =>
    issues.push({ path, message, expected, received });
  if (elastic !== null) {
    if (elastic.minWorkers > workers) {
      add(
        "elastic.minWorkers",
        `elastic minWorkers ${elastic.minWorkers} is more than the ${workers} workers the plan starts with`,
        `an integer from 1 to ${workers}`,
        elastic.minWorkers,
      );
    }
    if (elastic.maxWorkers < workers) {
      add(
        "elastic.maxWorkers",
        `elastic maxWorkers ${elastic.maxWorkers} is fewer than the ${workers} workers the plan starts with`,
        `an integer from ${workers} to 4096`,
        elastic.maxWorkers,
      );
    }
  }
  if (failures.length === 0) return issues;
  if (elastic === null) {
    add(
      "network.failures",
      "declared failures need an elastic plan: add .elastic({ minWorkers }) to the pipeline",
      "no failures, or .elastic(…)",
      failures.length,
    );
    return issues;
  }
  const last = workers - 1;
  let randomSeen = false;
  failures.forEach((failure, i) => {
    const at = `network.failures.${i}`;
    if (!isLeave(failure)) {
      if (randomSeen) {
        add(
          at,
          "only one random failure entry is allowed: put the whole probability in one",
          "one { probability } entry",
          failure,
        );
      }
      randomSeen = true;
      return;
    }
    const { worker, leaveAt, joinAt } = failure;
    if (worker > last) {
      add(
        `${at}.worker`,
        `worker ${worker} does not exist with ${workers} workers`,
        `a rank in 0..${last}`,
        worker,
      );
    }
    if (leaveAt > steps) {
      add(
        `${at}.leaveAt`,
        `leaveAt ${leaveAt} is after the last step ${steps}`,
        `a step from 1 to ${steps}`,
        leaveAt,
      );
    }
    if (joinAt !== null && joinAt <= leaveAt) {
      add(
        `${at}.joinAt`,
        `joinAt ${joinAt} must come after leaveAt ${leaveAt}`,
        `a step from ${leaveAt + 1} to ${steps}`,
        joinAt,
      );
    } else if (joinAt !== null && joinAt > steps) {
      add(
        `${at}.joinAt`,
        `joinAt ${joinAt} is after the last step ${steps}`,
        `a step from ${leaveAt + 1} to ${steps}`,
        joinAt,
      );
    }
    if (facts.server != null && worker === facts.server.rank) {
      add(
        `${at}.worker`,
        `worker ${worker} is ${facts.server.role}: losing it ends the run even in an elastic plan`,
        `a worker other than ${worker}`,
        worker,
      );
    }
    if (joinAt !== null && !elastic.rejoin) {
      add(
        `${at}.joinAt`,
        `worker ${worker} rejoins at step ${joinAt}, but the plan's elastic rejoin is false: ` +
          "remove joinAt or set rejoin: true",
        "no joinAt",
        joinAt,
      );
    }
    const earlier = failures.slice(0, i).find((other) =>
      isLeave(other) && other.worker === worker && leaveAt < (other.joinAt ?? Infinity) &&
      other.leaveAt < (joinAt ?? Infinity)
    ) as LeaveNode | undefined;
    if (earlier !== undefined) {
      add(
        `${at}.leaveAt`,
        `worker ${worker} is already away at step ${
          Math.max(leaveAt, earlier.leaveAt)
        } (it leaves before step ${earlier.leaveAt}${
          earlier.joinAt === null ? "" : ` until step ${earlier.joinAt}`
        })`,
        "leaves of one worker that do not overlap",
        leaveAt,
      );
    }
  });
  if (issues.length > 0) return issues;
  const short = membershipSchedule({
    workers,
    steps,
    failures,
    minWorkers: elastic.minWorkers,
    seed: facts.seed ?? 0,
    server: facts.server?.rank ?? null,
  }).find((span) => span.live.length < elastic.minWorkers);
  if (short !== undefined) {
    const cause = failures.findIndex((f) => isLeave(f) && f.leaveAt === short.from);
    add(
      cause < 0 ? "network.failures" : `network.failures.${cause}`,
      `at step ${short.from} only ${short.live.length} of ${workers} workers would be live, ` +
        `fewer than elastic minWorkers ${elastic.minWorkers}`,
      `at least ${elastic.minWorkers} live workers at every step`,
      short.live.length,
    );
  }
  return issues;
}
