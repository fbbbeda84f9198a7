/**
 * Issue 20, item 9: validation messages echoed whole offending values, so a plan holding a
 * megabyte string printed a megabyte. Every value a message echoes is cut
 * (`dsl/validate.ts` `clipEcho`); the message still names the field and says how long the value
 * was.
 *
 * @module
 */

import assert from "node:assert/strict";
import { gossamer, STACK_LINE } from "../_cli.ts";
import {
  allReduce,
  fromFile,
  mlp,
  mnist,
  PlanError,
  sgd,
  TopologyFileError,
  train,
} from "../../mod.ts";
import { loadPlan } from "../../runtime/load_plan.ts";

/** A plan as JSON, which the attacks change freely. */
// deno-lint-ignore no-explicit-any
type PlanJson = Record<string, any>;

const MEGABYTE = "A".repeat(1_000_000);
const PLAN = JSON.parse(
  await Deno.readTextFile(new URL("../../examples/synthetic_gossip_plan.json", import.meta.url)),
);

/** The message `loadPlan` gives for a plan file changed by `change`. */
async function messageFor(folder: string, change: (plan: PlanJson) => void) {
  const plan = structuredClone(PLAN);
  change(plan);
  const path = `${folder}/plan.json`;
  await Deno.writeTextFile(path, JSON.stringify(plan));
  try {
    await loadPlan(path);
  } catch (error) {
    assert.ok(error instanceof PlanError, String(error));
    return error.message;
  }
  throw new Error("the plan was accepted");
}

Deno.test("long values: `gossamer plan` on a plan with a 1 MB string prints a short message naming the field", async () => {
  const folder = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${folder}/plan.json`, JSON.stringify({ ...PLAN, steps: MEGABYTE }));
    const result = await gossamer("plan", `${folder}/plan.json`);
    assert.equal(result.code, 1);
    assert.ok(result.stderr.length < 500, `${result.stderr.length} characters`);
    assert.match(
      result.stderr,
      /^steps: wrong type \(expected number, received "A{39}…A{19}" \(1000002 characters\)\)$/m,
    );
    assert.doesNotMatch(result.stderr, STACK_LINE);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("long values: huge strings, keys, paths and arrays anywhere in a plan give short messages", async () => {
  const folder = await Deno.makeTempDir();
  try {
    const cases: [string, (plan: PlanJson) => void][] = [
      ["model.kind", (plan) => plan.model.kind = MEGABYTE],
      ["model.A", (plan) => plan.model[MEGABYTE] = 1],
      ["data.task", (plan) => plan.data.task = MEGABYTE],
      ["base.topology.kind", (plan) => plan.base.topology.kind = MEGABYTE],
      ["workers", (plan) => plan.workers = Array.from({ length: 200_000 }, (_, i) => i)],
      ["optimizer.lr", (plan) => plan.optimizer.lr = Array(200_000).fill(MEGABYTE.slice(0, 5))],
      // A file the plan names: a message about a missing file quotes its path.
      ["data.file", (plan) => {
        plan.data = { kind: "leastSquares", file: `${MEGABYTE}.json` };
        plan.model = { kind: "linear", dim: 3, init: "zeros" };
      }],
    ];
    for (const [field, change] of cases) {
      const message = await messageFor(folder, change);
      assert.ok(message.length < 1000, `${field}: ${message.length} characters`);
      assert.ok(message.includes(`\n${field}`), `${field}: ${message}`);
    }
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("long values: a pipeline given a huge array as an option gets a short message naming it", () => {
  const huge = Array.from({ length: 100_000 }, (_, i) => i);
  assert.throws(
    () =>
      train(mlp({ hidden: [4] }))
        .data(
          mnist({ partition: huge as never }),
        )
        .workers(2)
        .optimizer(sgd({ lr: 0.1 }))
        .base(allReduce())
        .steps(10)
        .evalEvery(5)
        .compile(),
    (error: Error) => {
      assert.ok(error instanceof PlanError);
      assert.ok(error.message.length < 500, `${error.message.length} characters`);
      assert.match(error.message, /^data\.partition: .*\(588891 characters\)\)$/m);
      return true;
    },
  );
});

Deno.test("long values: a topology file with huge values gets a short message naming the field", async () => {
  const folder = await Deno.makeTempDir();
  try {
    const huge = Array.from({ length: 100_000 }, (_, i) => i);
    for (
      const [preset, field] of [
        [{ name: huge, weights: [[[1]]] }, "name must be a string"],
        [{ weights: [[[MEGABYTE]]] }, "weights"],
      ] as const
    ) {
      const path = `${folder}/topology.json`;
      await Deno.writeTextFile(path, JSON.stringify(preset));
      assert.throws(() => fromFile(path), (error: Error) => {
        assert.ok(error instanceof TopologyFileError, String(error));
        assert.ok(error.message.length < 500, `${error.message.length} characters`);
        assert.ok(error.message.includes(field), error.message);
        return true;
      });
    }
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});
