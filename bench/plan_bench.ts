/**
 * Costs of the plan layer, which runs before every job and on every worker that receives a
 * plan: compiling a pipeline, validating a plan from JSON, and explaining it (which walks the
 * topology over one period).
 *
 * Run: `deno task bench`
 *
 * @module
 */

import { explainPlan, validatePlan } from "../mod.ts";
import quickstart from "../examples/quickstart.ts";
import decentlam from "../examples/decentlam_one_peer.ts";

const plan = quickstart.compile();
const json = JSON.stringify(plan);

Deno.bench("compile the quickstart pipeline (8 workers, gossip ring + slowMo)", () => {
  quickstart.compile();
});

Deno.bench("validate a plan parsed from JSON", () => {
  validatePlan(JSON.parse(json));
});

Deno.bench("explain a one-peer exponential plan (walks one topology period)", () => {
  explainPlan(decentlam.compile());
});
