/**
 * Random churn's schedule (`membershipSchedule`, `randomLeaves` in `dsl/elastic.ts`): probability
 * 0 leaves everyone, a fixed seed gives a list checked against the draws written out by hand,
 * the same seed the same schedule, never fewer than `minWorkers` live, fixed leaves kept, the
 * server never drawn, and the share that leaves over many workers as `1 − (1 − p)^steps`.
 */

import { deepEqual, equal, notDeepEqual, ok } from "node:assert/strict";
import {
  declaredMembership,
  type FailureNode,
  membershipSchedule,
  randomLeaves,
  type ScheduleFacts,
} from "./elastic.ts";
import { randomStream } from "../runtime/random.ts";

const churn = (probability: number, seed: number | null = 7): FailureNode => ({
  probability,
  seed,
});

Deno.test("probability 0: nobody leaves at random, the fixed leaves alone", () => {
  const fixed: FailureNode[] = [{ worker: 1, leaveAt: 30, joinAt: null }];
  const facts = { workers: 6, steps: 100, minWorkers: 1, seed: 3 };
  deepEqual(randomLeaves({ ...facts, failures: [churn(0)] }), []);
  deepEqual(
    membershipSchedule({ ...facts, failures: [...fixed, churn(0)] }),
    declaredMembership(6, 100, fixed),
  );
  deepEqual(membershipSchedule({ ...facts, failures: [] }), [
    { from: 1, to: 100, live: [0, 1, 2, 3, 4, 5] },
  ]);
});

Deno.test("a fixed seed: the leaves the draws give, written out by hand", () => {
  // Worker r's first leave is before step 1 + ⌊ln(1 − u) / ln(1 − p)⌋ with
  // u = randomStream(7, "churn", r, 0).uniform(); for p = 0.01 the draws are
  // u = 0.2078, 0.4464, 0.9256, 0.6771, 0.0100, 0.8708, 0.3867, 0.0689 (workers 0 … 7), so
  // leaves before steps 24, 59, 259, 113, 2, 204, 49, 8: within 100 steps, in step order,
  // workers 4, 7, 0, 6, 1.
  const u = [0, 1, 2, 3, 4, 5, 6, 7].map((r) => randomStream(7, "churn", r, 0).uniform());
  deepEqual(u.map((x) => x.toFixed(4)), [
    "0.2078",
    "0.4464",
    "0.9256",
    "0.6771",
    "0.0100",
    "0.8708",
    "0.3867",
    "0.0689",
  ]);
  const facts = { workers: 8, steps: 100, seed: 0, failures: [churn(0.01)] };
  deepEqual(randomLeaves({ ...facts, minWorkers: 1 }), [
    { worker: 4, leaveAt: 2 },
    { worker: 7, leaveAt: 8 },
    { worker: 0, leaveAt: 24 },
    { worker: 6, leaveAt: 49 },
    { worker: 1, leaveAt: 59 },
  ]);
  deepEqual(membershipSchedule({ ...facts, minWorkers: 1 }), [
    { from: 1, to: 1, live: [0, 1, 2, 3, 4, 5, 6, 7] },
    { from: 2, to: 7, live: [0, 1, 2, 3, 5, 6, 7] },
    { from: 8, to: 23, live: [0, 1, 2, 3, 5, 6] },
    { from: 24, to: 48, live: [1, 2, 3, 5, 6] },
    { from: 49, to: 58, live: [1, 2, 3, 5] },
    { from: 59, to: 100, live: [2, 3, 5] },
  ]);
  // A floor of 6: the two first leaves happen, the later draws are skipped.
  deepEqual(randomLeaves({ ...facts, minWorkers: 6 }), [
    { worker: 4, leaveAt: 2 },
    { worker: 7, leaveAt: 8 },
  ]);
  // Without its own seed the churn takes the plan's.
  deepEqual(
    randomLeaves({ ...facts, failures: [churn(0.01, null)], seed: 7, minWorkers: 1 }),
    randomLeaves({ ...facts, minWorkers: 1 }),
  );
});

Deno.test("the same seed gives the same schedule; another seed another one", () => {
  const facts = (seed: number): ScheduleFacts => ({
    workers: 64,
    steps: 200,
    minWorkers: 40,
    seed: 1,
    failures: [churn(0.002, seed)],
  });
  deepEqual(membershipSchedule(facts(5)), membershipSchedule(facts(5)));
  notDeepEqual(randomLeaves(facts(5)), randomLeaves(facts(6)));
});

/** Whether a rank is live at a step of the schedule. */
function liveAt(spans: ReturnType<typeof membershipSchedule>, step: number): readonly number[] {
  return spans.find((span) => span.from <= step && step <= span.to)!.live;
}

Deno.test("never fewer than minWorkers, fixed leaves kept, the server never drawn", () => {
  for (let seed = 0; seed < 40; seed++) {
    // 5 workers, a floor of 3, worker 3 away for steps 10 … 19: a random leave that would leave
    // 2 during that absence is skipped.
    const facts: ScheduleFacts = {
      workers: 5,
      steps: 60,
      minWorkers: 3,
      seed,
      server: 0,
      failures: [{ worker: 3, leaveAt: 10, joinAt: 20 }, churn(0.05, null)],
    };
    const spans = membershipSchedule(facts);
    equal(spans[0]!.from, 1);
    equal(spans.at(-1)!.to, 60);
    for (const [i, span] of spans.entries()) {
      ok(span.live.length >= 3, `seed ${seed}: ${JSON.stringify(span)}`);
      if (i > 0) equal(span.from, spans[i - 1]!.to + 1);
    }
    for (let step = 10; step < 20; step++) ok(!liveAt(spans, step).includes(3));
    const drawn = randomLeaves(facts);
    ok(drawn.every((leave) => leave.worker !== 0), `seed ${seed}: the server left`);
    // Nobody is drawn while away: worker 3 does not leave at random during its absence.
    ok(drawn.every((leave) => leave.worker !== 3 || leave.leaveAt < 10 || leave.leaveAt >= 20));
    // Lost at random is lost for good: the live set only shrinks outside the fixed absence.
    for (const { worker, leaveAt } of drawn) {
      for (let step = leaveAt; step <= 60; step++) ok(!liveAt(spans, step).includes(worker));
    }
  }
  // A fixed leave for good at the last step with a floor of 3 of 4: only that worker may leave
  // at random (earlier than declared), since any other leave would leave 2 at step 50.
  const early = [];
  for (let seed = 0; seed < 20; seed++) {
    const drawn = randomLeaves({
      workers: 4,
      steps: 50,
      minWorkers: 3,
      seed,
      failures: [{ worker: 1, leaveAt: 50, joinAt: null }, churn(0.05, null)],
    });
    ok(drawn.every((leave) => leave.worker === 1), JSON.stringify(drawn));
    early.push(...drawn);
  }
  ok(early.length > 0, "the test must see worker 1 leave early for some seed");
});

Deno.test("over 4096 workers, the share that leaves is 1 − (1 − p)^steps", () => {
  const p = 0.01;
  const steps = 50;
  const workers = 4096;
  const leaves = randomLeaves({ workers, steps, minWorkers: 1, seed: 11, failures: [churn(p)] });
  const share = 1 - (1 - p) ** steps; // 0.395
  const sd = Math.sqrt(workers * share * (1 - share)); // 31.3
  ok(Math.abs(leaves.length - workers * share) < 5 * sd, `${leaves.length} left`);
  // Before step 1 each leaves with probability p: about 41 of them.
  const first = leaves.filter((leave) => leave.leaveAt === 1).length;
  ok(Math.abs(first - workers * p) < 5 * Math.sqrt(workers * p * (1 - p)), `${first} at step 1`);
});

Deno.test("gossamer plan: 256 workers under churn, in counts (the ranks would fill a screen)", async () => {
  const { allReduce, logistic, network, sgd, synthetic, train } = await import("../mod.ts");
  const { explainPlan } = await import("./explain.ts");
  const { renderExplanation } = await import("../cli/plan_command.ts");
  const plan = train(logistic()).data(synthetic()).workers(256).optimizer(sgd({ lr: 0.1 }))
    .base(allReduce()).steps(100_000).elastic({ minWorkers: 200 })
    .network(network({ failures: [{ probability: 0.0001 }] })).compile();
  const leaves = randomLeaves({
    workers: 256,
    steps: 100_000,
    minWorkers: 200,
    seed: plan.seed,
    failures: [churn(0.0001, null)],
  });
  // 256 · (1 − 0.9999^100000) ≈ 256 would go: the floor stops churn at 200 live.
  equal(leaves.length, 56);
  const first = leaves[0]!.leaveAt;
  const text = renderExplanation("p.ts", plan, explainPlan(plan));
  ok(
    text.includes(
      `56 workers of 256 leave at random in 100000 steps, the first before step ${first}; ` +
        "200 live at the end",
    ),
    text,
  );
  ok(text.includes("  Runs with --transport memory (either clock), its declared failures"), text);
  ok(
    text.includes(
      `  Live workers: 256 from step 1, 255 from step ${first}, 200 at the end (56 changes of membership)`,
    ),
    text,
  );
});
