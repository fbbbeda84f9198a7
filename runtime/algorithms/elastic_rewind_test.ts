/**
 * Going back to an earlier step with a collective in flight across steps (overlapLocalSgd's
 * average, streamingDiloco's sync), as an elastic TCP worker does after losing a peer:
 * `inFlightSince()` names the step that started the collective, and a `snapshot()` taken at a
 * step's start, restored after the workers trained on past it, settles the collective that was
 * then in flight, so training again from there ends bit for bit where training straight through
 * ends. Every step of the run is tried as the step to go back to.
 */

import assert from "node:assert/strict";
import { localSgd, overlapLocalSgd } from "../../dsl/bases/mod.ts";
import { sgd } from "../../dsl/optimizers/mod.ts";
import { streamingDiloco } from "../../dsl/outers/mod.ts";
import type { Plan } from "../../dsl/plan.ts";
import { createMemoryCommunicators } from "../comm/memory_transport.ts";
import { leastSquaresChain, makePlan, runWorkers, SHARDS_3D, X0_3D } from "./_testing.ts";

const STEPS = 16;
/** How many steps the workers train past the step they go back to. */
const AHEAD = 5;
const VARIABLES = [1, 1, 1];

/** What a run that goes back to `back` after training to `back + AHEAD` gave. */
interface Rewound {
  /** Each worker's final model. */
  readonly models: Float32Array[];
  /** Each worker's `inFlightSince()` after each step of the first pass. */
  readonly since: (number | null)[][];
  /** Each worker's `inFlightSince()` right after going back. */
  readonly afterRestore: (number | null)[];
}

/** Four workers train to `back + AHEAD`, all go back to the start of `back`, and train to the end. */
async function rewound(plan: Plan, back: number): Promise<Rewound> {
  const comms = createMemoryCommunicators(plan.workers);
  const since: (number | null)[][] = [];
  const afterRestore: (number | null)[] = [];
  const models = await Promise.all(comms.map(async (comm, rank) => {
    const chain = leastSquaresChain(plan, comm, SHARDS_3D[rank]!, X0_3D, VARIABLES);
    since[rank] = [];
    let snapshot: ReturnType<typeof chain.snapshot> | null = null;
    for (let k = 0; k < back + AHEAD; k++) {
      if (k === back) snapshot = chain.snapshot();
      await chain.step(k);
      since[rank]!.push(chain.inFlightSince());
    }
    chain.restore(await snapshot!());
    afterRestore[rank] = chain.inFlightSince();
    for (let k = back; k < plan.steps; k++) await chain.step(k);
    await chain.finish();
    return chain.model();
  }));
  return { models, since, afterRestore };
}

const CASES: [string, Plan, (k: number) => number | null][] = [
  [
    "overlapLocalSgd (tau 3)",
    makePlan({
      workers: 4,
      optimizer: sgd({ lr: 0.1, momentum: 0.5 }),
      base: overlapLocalSgd({ tau: 3, alpha: 0.5, beta: 0.3 }),
      steps: STEPS,
      dim: 3,
    }),
    // Launched after steps 2, 5, 8, …, each awaited three steps later.
    (k) => k < 2 ? null : k - ((k + 1) % 3),
  ],
  ...[4, 32].map((bits): [string, Plan, (k: number) => number | null] => [
    `localSgd + streamingDiloco (two fragments, overlap 1, ${bits} bits)`,
    makePlan({
      workers: 4,
      optimizer: sgd({ lr: 0.1, momentum: 0.5 }),
      base: localSgd({ tau: 4 }),
      outer: streamingDiloco({ tau: 4, fragments: 2, overlap: 1, bits }),
      steps: STEPS,
      dim: 3,
    }),
    // Started after steps 3, 5, 7, …, each applied one step later.
    (k) => k >= 3 && (k + 1) % 2 === 0 ? k : null,
  ]),
];

for (const [name, plan, startedBy] of CASES) {
  Deno.test(`${name}: inFlightSince names the step that started the collective in flight, and going back to any step's snapshot ends where training straight through ends`, async () => {
    const straight = await runWorkers(plan, SHARDS_3D, X0_3D, { variables: VARIABLES });
    for (let back = 0; back + AHEAD <= STEPS; back++) {
      const again = await rewound(plan, back);
      for (const [rank, since] of again.since.entries()) {
        assert.deepEqual(
          since,
          since.map((_, k) => startedBy(k)),
          `worker ${rank}, back to ${back}`,
        );
      }
      // What was in flight at the snapshot comes back already computed: nothing to lose.
      assert.deepEqual(again.afterRestore, [null, null, null, null]);
      assert.deepEqual(again.models, straight.models, `back to step ${back}`);
    }
  });
}
