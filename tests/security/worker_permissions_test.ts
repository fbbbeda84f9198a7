/**
 * Attacks by a custom model module on the workers that import it (issue 20, item 2): a module
 * the user allowed still runs with the workers' permissions only, so one that spawns a process,
 * writes a file outside the run folder, reads the environment or reaches another host fails the
 * run with Deno's "Requires … access" message, over thread workers and process workers alike,
 * and leaves no trace. Each attack writes (or would make a process write) a marker file.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { gossamer, STACK_LINE } from "../_cli.ts";
import { customModulePlan } from "./_plan_json.ts";

/** A small plan whose model is the custom module `./model.js` next to it. */
const PLAN = customModulePlan("./model.js");

/** A module that runs `attack` when asked for its model, then builds a working one. */
function model(attack: string): string {
  return "export default async ({ inputShape, classes, tf }) => {\n" +
    `  ${attack}\n` +
    "  return tf.sequential({ layers: [tf.layers.dense({ inputShape, units: classes })] });\n" +
    "};\n";
}

/** What each attack tries, given the marker's path, and the refusal expected. */
const ATTACKS: { name: string; code: (marker: string) => string; refusal: RegExp }[] = [
  {
    name: "spawns a process",
    code: (marker) =>
      `new Deno.Command("sh", { args: ["-c", ${
        JSON.stringify(`echo ran > '${marker}'`)
      }] }).outputSync();`,
    refusal: /Requires run access/,
  },
  {
    name: "writes a file outside the run folder",
    code: (marker) => `Deno.writeTextFileSync(${JSON.stringify(marker)}, "ran");`,
    refusal: /Requires write access/,
  },
  {
    name: "reads the environment",
    code: (marker) =>
      `const home = Deno.env.get("HOME"); Deno.writeTextFileSync(${
        JSON.stringify(marker)
      }, String(home));`,
    refusal: /Requires env access/,
  },
  {
    // Asked, not dialled: the test needs no network, and the answer is what a dial would meet.
    name: "may reach a host outside the run",
    code: (marker) =>
      `if (Deno.permissions.querySync({ name: "net", host: "192.0.2.1:443" }).state === "granted") {
    try { Deno.writeTextFileSync(${
        JSON.stringify(marker)
      }, "net"); } finally { throw new Error("Requires net access was not required"); }
  }
  await Deno.connect({ hostname: "192.0.2.1", port: 443 });`,
    refusal: /Requires net access to "192\.0\.2\.1:443"/,
  },
];

for (const launch of ["processes", "threads"] as const) {
  for (const attack of ATTACKS) {
    Deno.test(`a custom model module that ${attack.name} fails a run of ${launch}`, async () => {
      const dir = await Deno.makeTempDir({ prefix: "gossamer_worker_permissions_" });
      const marker = join(dir, "pwned");
      try {
        await Deno.writeTextFile(join(dir, "plan.json"), JSON.stringify(PLAN));
        await Deno.writeTextFile(join(dir, "model.js"), model(attack.code(marker)));
        const result = await gossamer(
          "run",
          join(dir, "plan.json"),
          "--launch",
          launch,
          "--backend",
          "cpu",
          "--quiet",
          "--out",
          join(dir, "run"),
        );
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, attack.refusal);
        assert.match(result.stderr, /custom model/);
        assert.match(result.stderr, /workers run with limited permissions/);
        assert.doesNotMatch(result.stderr, STACK_LINE);
        let traces = true;
        try {
          await Deno.stat(marker);
        } catch {
          traces = false;
        }
        assert.equal(traces, false, `the module ${attack.name}`);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
}
