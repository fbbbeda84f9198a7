/**
 * Elastic training, declaration side: `.elastic(…)` and `network({ failures })` in the plan,
 * their validation messages, their explanation and their printout; a plan written before they
 * existed still loads, with the same hash.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import {
  allReduce,
  cada,
  chocoGossip,
  decentLaM,
  diloco,
  dmSgd,
  exponential,
  gossip,
  localSgd,
  logistic,
  network,
  parsePlan,
  type Plan,
  qsgd,
  ring,
  sgd,
  sgp,
  star,
  synthetic,
  topK,
  train,
} from "../mod.ts";
import { compileIssues } from "./_testing.ts";
import { customTopology } from "../topologies/mod.ts";
import { declaredMembership } from "./elastic.ts";
import { explainElastic } from "./elastic_explain.ts";
import { explainPlan } from "./explain.ts";
import { planExpression } from "./expression.ts";
import { renderExplanation } from "../cli/plan_command.ts";
import { loadPlan } from "../runtime/load_plan.ts";
import { planHash } from "../runtime/plan_hash.ts";

/** Four workers, 1000 steps, all-reduce: the pipeline most cases vary. */
const four = () =>
  train(logistic()).data(synthetic()).workers(4).optimizer(sgd({ lr: 0.1 })).base(allReduce())
    .steps(1000);

/** The issues' paths and messages. */
const said = (pipeline: { compile(): unknown }) =>
  compileIssues(pipeline).map((issue) => [issue.path, issue.message]);

Deno.test("elastic: absent is null; given, maxWorkers defaults to the worker count", () => {
  equal(four().compile().elastic, null);
  deepEqual(four().elastic({ minWorkers: 3 }).compile().elastic, {
    minWorkers: 3,
    maxWorkers: 4,
    rejoin: true,
    reshard: "drop",
  });
  // The default follows the count, whichever of the calls comes first.
  equal(four().elastic({ minWorkers: 3 }).workers(6).compile().elastic?.maxWorkers, 6);
  deepEqual(
    four().elastic({ minWorkers: 1, maxWorkers: 9, rejoin: false, reshard: "spread" }).compile()
      .elastic,
    { minWorkers: 1, maxWorkers: 9, rejoin: false, reshard: "spread" },
  );
});

Deno.test("elastic: 1 ≤ minWorkers ≤ workers ≤ maxWorkers, integers, each message names its field", () => {
  deepEqual(said(four().elastic({ minWorkers: 5, maxWorkers: 3 })), [
    ["elastic.minWorkers", "elastic minWorkers 5 is more than the 4 workers the plan starts with"],
    ["elastic.maxWorkers", "elastic maxWorkers 3 is fewer than the 4 workers the plan starts with"],
  ]);
  deepEqual(said(four().elastic({ minWorkers: 0 })), [
    ["elastic.minWorkers", "must be at least 1"],
  ]);
  deepEqual(said(four().elastic({ minWorkers: 2, maxWorkers: 4.5 })), [
    ["elastic.maxWorkers", "must be an integer"],
  ]);
  deepEqual(said(four().elastic({ minWorkers: 4, maxWorkers: 4 })), []);
});

Deno.test("elastic: called without options from plain JavaScript, minWorkers is required", () => {
  deepEqual(said((four().elastic as (options?: unknown) => ReturnType<typeof four>)()), [
    ["elastic.minWorkers", "is required"],
  ]);
});

Deno.test("elastic: a misspelt option or reshard is named, with what it probably meant", () => {
  deepEqual(
    said(four().elastic({ minWorkers: 2, reshard: "sprad" as "spread", rejoins: false } as never)),
    [
      ["elastic.rejoins", 'unknown option; did you mean "rejoin"?'],
      ["elastic.reshard", 'unknown reshard; did you mean "spread"?'],
    ],
  );
});

Deno.test("failures: they need .elastic(…), and the message says to add it", () => {
  deepEqual(said(four().network(network({ failures: [{ worker: 1, leaveAt: 10 }] }))), [
    [
      "network.failures",
      "declared failures need an elastic plan: add .elastic({ minWorkers }) to the pipeline",
    ],
  ]);
});

Deno.test("failures: workers in range, 1 ≤ leaveAt < joinAt ≤ steps, probability in [0, 1)", () => {
  const elastic = (failures: Parameters<typeof network>[0]) =>
    said(four().elastic({ minWorkers: 1 }).network(network(failures)));
  deepEqual(
    elastic({
      failures: [
        { worker: 4, leaveAt: 1001 },
        { worker: 1, leaveAt: 500, joinAt: 500 },
        { worker: 2, leaveAt: 10, joinAt: 1001 },
      ],
    }),
    [
      ["network.failures.0.worker", "worker 4 does not exist with 4 workers"],
      ["network.failures.0.leaveAt", "leaveAt 1001 is after the last step 1000"],
      ["network.failures.1.joinAt", "joinAt 500 must come after leaveAt 500"],
      ["network.failures.2.joinAt", "joinAt 1001 is after the last step 1000"],
    ],
  );
  deepEqual(elastic({ failures: [{ worker: 0, leaveAt: 0 }, { probability: 1 }] }), [
    ["network.failures.0.leaveAt", "must be at least 1"],
    [
      "network.failures.1.probability",
      "must be less than 1: a worker that always leaves never takes a step",
    ],
  ]);
  deepEqual(elastic({ failures: [{ probability: -0.1 }] }), [
    ["network.failures.0.probability", "must be at least 0"],
  ]);
  deepEqual(elastic({ failures: [{ probability: 0 }, { probability: 0.5, seed: 3 }] }), [
    [
      "network.failures.1",
      "only one random failure entry is allowed: put the whole probability in one",
    ],
  ]);
  deepEqual(
    elastic({
      failures: [{ worker: 1, leaveAt: 10, joinat: 20 } as never, { probabilty: 0.1 } as never],
    }),
    [
      ["network.failures.0.joinat", 'unknown option; did you mean "joinAt"?'],
      ["network.failures.1.probabilty", 'unknown option; did you mean "probability"?'],
    ],
  );
  // The edges themselves are fine: leaving before step 1, coming back at the last step.
  deepEqual(elastic({ failures: [{ worker: 3, leaveAt: 1, joinAt: 1000 }] }), []);
});

Deno.test("failures: one worker's leaves must not overlap, and a rejoin needs rejoin: true", () => {
  deepEqual(
    said(
      four().elastic({ minWorkers: 1, rejoin: false }).network(network({
        failures: [{ worker: 1, leaveAt: 300, joinAt: 500 }, { worker: 1, leaveAt: 400 }],
      })),
    ),
    [
      [
        "network.failures.0.joinAt",
        "worker 1 rejoins at step 500, but the plan's elastic rejoin is false: remove joinAt or set rejoin: true",
      ],
      [
        "network.failures.1.leaveAt",
        "worker 1 is already away at step 400 (it leaves before step 300 until step 500)",
      ],
    ],
  );
  // Leaving again after coming back is two separate absences.
  deepEqual(
    said(
      four().elastic({ minWorkers: 3 }).network(network({
        failures: [{ worker: 1, leaveAt: 300, joinAt: 500 }, { worker: 1, leaveAt: 500 }],
      })),
    ),
    [],
  );
});

Deno.test("failures: the fixed ones never take the live count below minWorkers, the step is named", () => {
  // Worker 1 leaves before 300 for good, worker 2 for steps 400–499: 2 live from step 400.
  deepEqual(
    said(
      four().elastic({ minWorkers: 3 }).network(network({
        failures: [{ worker: 1, leaveAt: 300 }, { worker: 2, leaveAt: 400, joinAt: 500 }],
      })),
    ),
    [[
      "network.failures.1",
      "at step 400 only 2 of 4 workers would be live, fewer than elastic minWorkers 3",
    ]],
  );
  // Random churn is not counted: it is drawn at run time.
  deepEqual(
    said(four().elastic({ minWorkers: 4 }).network(network({ failures: [{ probability: 0.5 }] }))),
    [],
  );
});

Deno.test("failures: losing CADA's server or a star's hub ends the run, so it is refused", () => {
  const failing = { failures: [{ worker: 0, leaveAt: 5 }] };
  const start = () =>
    train(logistic()).data(synthetic()).workers(4).optimizer(sgd({ lr: 0.1 })).steps(100)
      .elastic({ minWorkers: 2 }).network(network(failing));
  deepEqual(said(start().base(cada({ c: 0.5 }))), [[
    "network.failures.0.worker",
    "worker 0 is cada's server: losing it ends the run even in an elastic plan",
  ]]);
  deepEqual(said(start().base(gossip(star))), [[
    "network.failures.0.worker",
    "worker 0 is the hub of gossip's star: losing it ends the run even in an elastic plan",
  ]]);
  deepEqual(said(start().base(gossip(star({ hub: 2 })))), []);
});

Deno.test("declaredMembership: stretches of equal membership, by hand", () => {
  deepEqual(
    declaredMembership(4, 1000, [
      { worker: 2, leaveAt: 300, joinAt: 500 },
      { worker: 1, leaveAt: 400, joinAt: null },
      { probability: 0.2, seed: null },
    ]),
    [
      { from: 1, to: 299, live: [0, 1, 2, 3] },
      { from: 300, to: 399, live: [0, 1, 3] },
      { from: 400, to: 499, live: [0, 3] },
      { from: 500, to: 1000, live: [0, 2, 3] },
    ],
  );
  // A worker that comes back at the step another leaves: the count stays, the ranks change.
  deepEqual(
    declaredMembership(3, 10, [
      { worker: 0, leaveAt: 2, joinAt: 5 },
      { worker: 1, leaveAt: 5, joinAt: 10 },
    ]),
    [
      { from: 1, to: 1, live: [0, 1, 2] },
      { from: 2, to: 4, live: [1, 2] },
      { from: 5, to: 9, live: [0, 2] },
      { from: 10, to: 10, live: [0, 1, 2] },
    ],
  );
  deepEqual(declaredMembership(2, 5, []), [{ from: 1, to: 5, live: [0, 1] }]);
});

Deno.test("explain: the bounds, the shard and the rejoin in one sentence", () => {
  const summary = (options: Parameters<ReturnType<typeof four>["elastic"]>[0]) =>
    explainElastic(four().elastic(options).compile())?.summary;
  equal(
    summary({ minWorkers: 3, maxWorkers: 6 }),
    "Elastic: goes on while at least 3 of 4 workers live (up to 6 may join); a lost worker's " +
      "shard is dropped; a restarted worker rejoins at the next synchronisation point.",
  );
  equal(
    summary({ minWorkers: 1, reshard: "spread", rejoin: false }),
    "Elastic: goes on while at least 1 of 4 workers live; a lost worker's shard is spread over " +
      "the survivors; a lost worker does not come back.",
  );
  equal(explainElastic(four().compile()), null);
  equal(explainPlan(four().compile()).elastic, undefined);
});

Deno.test("explain: each base family's reaction to a lost worker", () => {
  const reaction = (pipeline: ReturnType<typeof four>) =>
    explainElastic(pipeline.elastic({ minWorkers: 2 }).compile())!.reaction;
  equal(
    reaction(four()),
    "allReduce: the all-reduce group shrinks to the survivors, which average over themselves.",
  );
  equal(
    reaction(four().base(localSgd({ tau: 10 })).outer(diloco({ tau: 10 }))),
    "localSgd: each synchronisation averages over the survivors; a lost worker's local steps " +
      "since the last one are lost with it. diloco's outer step averages over the survivors.",
  );
  equal(
    reaction(four().base(gossip(ring))),
    "gossip: the ring topology is re-formed over the survivors, its weights doubly stochastic again.",
  );
  equal(
    reaction(four().base(sgp(ring))),
    "sgp: the ring topology is re-formed over the survivors, its weights column-stochastic again. " +
      "A joiner shares its donor's push-sum mass (each holds an equal part).",
  );
  equal(
    reaction(four().base(dmSgd(star({ hub: 1 })))),
    "dmSgd: the star hub 1 topology is re-formed over the survivors, its weights doubly " +
      "stochastic again; losing the hub (worker 1) ends the run, as a lost worker does today.",
  );
  ok(reaction(four().base(decentLaM(ring))).startsWith("decentLaM: the ring topology"));
  const path = [[0.5, 0.5, 0, 0], [0.5, 0, 0.5, 0], [0, 0.5, 0, 0.5], [0, 0, 0.5, 0.5]];
  equal(
    reaction(four().base(gossip(customTopology(path, { name: "path" })))),
    "gossip: the survivors' sub-graph of the custom path topology is renormalised to stay " +
      "doubly stochastic, or the run stops where it cannot be.",
  );
  equal(
    reaction(four().base(cada({ c: 0.5 }))),
    "cada: losing a worker shrinks the server's group of uploads; losing the server (worker 0) " +
      "ends the run, as a lost worker does today. A joiner starts with no uploads, in a slot the " +
      "server clears.",
  );
});

Deno.test("explain: a compressor's mean is over the survivors, and its error feedback stays each worker's", () => {
  const reaction = (pipeline: ReturnType<typeof four>) =>
    explainElastic(pipeline.elastic({ minWorkers: 2 }).compile())!.reaction;
  equal(
    reaction(four().compress(topK({ k: 1 }))),
    "allReduce: the all-reduce group shrinks to the survivors, which average over themselves. " +
      "topK's compressed mean is over the survivors; each keeps its own error feedback, and a " +
      "worker that joins starts its own at zero.",
  );
  ok(
    reaction(four().compress(qsgd({ levels: 4 }))).endsWith(
      " qsgd's compressed mean is over the survivors.",
    ),
  );
  // chocoGossip's codes go to its neighbours: no mean to speak of.
  ok(
    !reaction(four().base(chocoGossip(ring, { gamma: 0.5 })).compress(qsgd({ levels: 4 })))
      .includes("compressed mean"),
  );
});

Deno.test("explain: declared failures, and the membership over steps", () => {
  const plan = four().elastic({ minWorkers: 2 }).network(network({
    failures: [
      { worker: 2, leaveAt: 300, joinAt: 500 },
      { worker: 1, leaveAt: 701 },
      { probability: 0.001, seed: 4 },
    ],
  })).compile();
  const explained = explainPlan(plan).elastic!;
  // Seed 4 draws worker 1 before step 18 (so its declared leave at 701 finds it gone) and worker
  // 3 before step 578; a leave during worker 2's absence would leave 1 and is skipped.
  // 4 · 0.999^1000 = 1.4705…: about 1.5 workers left by chance alone, without the floor.
  deepEqual(explained.failures, [
    "worker 2 leaves before step 300, rejoins at step 500: 2 workers for 200 steps",
    "worker 1 leaves before step 701 for good",
    "each live worker leaves with probability 0.001 before each step (seed 4), a leave that " +
    "would leave fewer than 2 skipped: 2 workers of 4 leave at random in 1000 steps, the first " +
    "before step 18; 2 live at the end (without the floor about 1.5 would be left on average)",
  ]);
  const text = renderExplanation("p.ts", plan, explainPlan(plan));
  ok(text.includes("\nElastic: goes on while at least 2 of 4 workers live;"), text);
  ok(text.includes("  Declared failure: worker 2 leaves before step 300, rejoins at step 500"));
  ok(
    text.includes(
      "  Live workers: steps 1–17: 4 (0, 1, 2, 3); steps 18–299: 3 (0, 2, 3); " +
        "steps 300–499: 2 (0, 3); steps 500–577: 3 (0, 2, 3); steps 578–1000: 2 (0, 2)",
    ),
    text,
  );
  // Worker 2's return has workers 0 and 3 to take a state from: the memory transport runs it.
  ok(
    text.includes(
      "  Runs with --transport memory (either clock), its declared failures as scheduled; without checkpoints (workers that join again cannot be checkpointed yet).",
    ),
    text,
  );
  // The network's own line counts the failures rather than spelling them out.
  const chain = explainPlan(plan).chain.find((entry) => entry.slot === "network")!;
  ok(chain.label.endsWith("computeMs=null), 3 declared failures"), chain.label);
});

Deno.test("expression: .elastic(…) and failures print back, defaults left out", () => {
  const plan = four().elastic({ minWorkers: 3, maxWorkers: 4, reshard: "spread" })
    .network(
      network({ failures: [{ worker: 2, leaveAt: 300, joinAt: 500 }, { probability: 0.1 }] }),
    )
    .compile();
  equal(
    planExpression(plan),
    [
      "train(logistic())",
      "  .data(synthetic())",
      "  .workers(4)",
      "  .optimizer(sgd({ lr: 0.1 }))",
      "  .base(allReduce())",
      "  .network(network({ failures: [{ worker: 2, leaveAt: 300, joinAt: 500 }, { probability: 0.1 }] }))",
      '  .elastic({ minWorkers: 3, reshard: "spread" })',
      "  .steps(1000)",
    ].join("\n"),
  );
  equal(planExpression(four().compile()).includes("elastic"), false);
});

Deno.test("plan JSON: an elastic plan with failures survives JSON and parsePlan unchanged", () => {
  const plan = four().elastic({ minWorkers: 2, maxWorkers: 5, rejoin: true, reshard: "spread" })
    .network(network({ failures: [{ worker: 3, leaveAt: 10, joinAt: 20 }, { probability: 0.2 }] }))
    .compile();
  const text = JSON.stringify(plan);
  ok(text.includes('"elastic":{"minWorkers":2,"maxWorkers":5,"rejoin":true,"reshard":"spread"}'));
  ok(
    text.includes(
      '"failures":[{"worker":3,"leaveAt":10,"joinAt":20},{"probability":0.2,"seed":null}]',
    ),
  );
  deepEqual(parsePlan(JSON.parse(text)), plan);
  deepEqual(parsePlan(JSON.parse(JSON.stringify(four().compile()))), four().compile());
});

/** SHA-256 hex of JSON with sorted keys: the hash format, written out independently. */
async function sortedJsonSha256(value: unknown): Promise<string> {
  const sorted = (item: unknown): unknown =>
    Array.isArray(item)
      ? item.map(sorted)
      : typeof item === "object" && item !== null
      ? Object.fromEntries(
        Object.keys(item).sort().map((
          key,
        ) => [key, sorted((item as Record<string, unknown>)[key])]),
      )
      : item;
  const bytes = new TextEncoder().encode(JSON.stringify(sorted(value)));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

Deno.test("an old plan.json without elastic or failures loads, reads as null and [], keeps its hash", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gossamer_elastic_" });
  try {
    // A plan file as gossamer wrote it before elastic training: no `elastic`, no `failures`.
    const old = JSON.parse(
      await Deno.readTextFile(new URL("../examples/synthetic_gossip_plan.json", import.meta.url)),
    );
    old.network = {
      kind: "network",
      bandwidthBitsPerSecond: 1e8,
      latencyMs: 5,
      jitterMs: 0,
      links: [],
      stragglers: null,
      computeMs: null,
    };
    ok(!("elastic" in old));
    const path = `${dir}/plan.json`;
    await Deno.writeTextFile(path, JSON.stringify(old));
    const loaded: Plan = await loadPlan(path);
    equal(loaded.elastic, null);
    deepEqual(loaded.network?.failures, []);
    // The hash is the one the file had before these fields existed, and the compiled plan's too.
    const before = await sortedJsonSha256(old);
    equal(await planHash(loaded), before);
    equal(await planHash(parsePlan(old)), before);
    const compiled = train(logistic()).data(synthetic({ features: 32, heterogeneity: 0.5 }))
      .workers(8).optimizer(sgd({ lr: 0.1 })).base(gossip(exponential))
      .network(network({ bandwidth: "100Mbit", latency: "5ms" })).steps(200).evalEvery(20).seed(7)
      .compile();
    equal(await planHash(compiled), before);
    // Elastic plans hash differently, with the declaration in.
    const declared = {
      ...old,
      elastic: { minWorkers: 7, maxWorkers: 8, rejoin: true, reshard: "drop" },
    };
    const elastic = parsePlan(declared);
    equal(await planHash(elastic), await sortedJsonSha256(declared));
    ok(await planHash(elastic) !== before);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("explain: chocoGossip losing a worker re-forms its graph and restarts the public copies", () => {
  equal(
    explainElastic(
      four().base(chocoGossip(ring, { gamma: 0.5 })).elastic({ minWorkers: 3 }).compile(),
    )!
      .reaction,
    "chocoGossip: the ring topology is re-formed over the survivors, its weights doubly " +
      "stochastic again; the public copies restart from the members' exact models, sent once " +
      "(after a join too).",
  );
});
