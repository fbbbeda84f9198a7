/**
 * A real run whose rendezvous strangers hammer from the moment it listens until it ends still
 * finishes, with parameters and byte counts bit-identical to an undisturbed run: strangers
 * neither fail nor disturb a run.
 */

import assert from "node:assert/strict";
import { hammer, type StrangerOutcome } from "./_hostile.ts";
import { run } from "../../mod.ts";
import { leastSquaresPlans, tempRunFolder } from "../runtime/_plans.ts";

Deno.test("a run hammered by strangers during training equals an undisturbed run", async () => {
  const plans = leastSquaresPlans(150);
  const parent = await tempRunFolder();
  try {
    for (const name of ["gossipRing", "overlapLocalSgd"] as const) {
      const plan = plans[name]!;
      const quiet = await run(plan, { transport: "tcp", out: `${parent}/${name}-quiet` });
      let done = false;
      let attack: Promise<StrangerOutcome[]> = Promise.resolve([]);
      const hammered = await run(plan, {
        transport: "tcp",
        out: `${parent}/${name}-hammered`,
        onListening: (address) => {
          attack = hammer(address, 400, {
            concurrency: 32,
            patienceMs: 8000,
            seed: 3,
            until: () => done,
          });
        },
      }).finally(() => done = true);
      const outcomes = await attack;
      assert.ok(outcomes.length >= 40, `only ${outcomes.length} strangers came`);
      assert.equal(hammered.summary.status, "completed");
      assert.deepEqual(hammered.params, quiet.params);
      assert.deepEqual(hammered.summary.bytes, quiet.summary.bytes);
    }
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});
