/**
 * What losing a worker mid-run costs, per base family: the MNIST MLP on 4 worker processes over
 * TCP, once undisturbed and once with worker 2 killed (SIGKILL) at the middle of the run, which
 * goes on with 3 (`.elastic({ minWorkers: 3 })`). Prints the final test accuracy of the averaged
 * model, the step the survivors rewound to and the wall time of both, as a Markdown table, with
 * the machine's load. Not a `deno bench` (each row is two whole runs):
 *
 *     deno run -A bench/elastic_loss.ts [--steps 300] [--only <family name part>]
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  allReduce,
  cada,
  chocoGossip,
  diloco,
  dmSgd,
  gossip,
  localSgd,
  mlp,
  mnist,
  onePeerExponential,
  overlapLocalSgd,
  ring,
  sgd,
  sgp,
  slowMo,
  streamingDiloco,
  train,
} from "../mod.ts";
import { table } from "../report/format.ts";
import { externalRun, reap, waitForMetrics } from "../tests/runtime/_processes.ts";

const { values } = parseArgs({
  options: { steps: { type: "string", default: "300" }, only: { type: "string" } },
});
const STEPS = Number(values.steps);

/** The pipeline of every family, before its base. */
const start = () =>
  train(mlp({ hidden: [64] })).data(mnist({ trainSize: 8000, testSize: 2000, batchSize: 32 }))
    .workers(4).optimizer(sgd({ lr: 0.1 })).steps(STEPS).evalEvery(50).seed(5)
    .elastic({ minWorkers: 3 });

const FAMILIES = {
  "allReduce": () => start().base(allReduce()),
  "localSgd + slowMo": () =>
    start().base(localSgd({ tau: 4 })).outer(slowMo({ beta: 0.5, tau: 4 })),
  "diloco": () =>
    start().base(localSgd({ tau: 2 })).outer(diloco({ tau: 4, lr: 0.7, momentum: 0.9 })),
  "gossip (ring)": () => start().base(gossip(ring)),
  "sgp (one-peer exponential)": () => start().base(sgp(onePeerExponential)),
  "dmSgd (ring)": () => start().base(dmSgd(ring, { beta: 0.8 })),
  "chocoGossip (ring)": () => start().base(chocoGossip(ring, { gamma: 0.5 })),
  "overlapLocalSgd": () => start().base(overlapLocalSgd({ tau: 4 })),
  "localSgd + streamingDiloco": () =>
    start().base(localSgd({ tau: 4 })).outer(
      streamingDiloco({ tau: 4, fragments: 2, overlap: 1, bits: 4 }),
    ),
  // As in examples/cada_adaptive.ts: the server's adaptive step takes a small learning rate.
  "cada": () =>
    start().optimizer(sgd({ lr: 0.005 })).base(
      cada({ variant: 2, c: 0.6, dMax: 10, maxDelay: 50 }),
    ),
};

/** One run of `planFile` by 4 worker processes; kills worker 2 after `killAt` metrics lines. */
async function oneRun(planFile: string, folder: string, killAt: number | null) {
  const { coordinator, workers } = externalRun(planFile, folder);
  try {
    if (killAt !== null) {
      await waitForMetrics(folder, killAt);
      workers[2]!.child.kill("SIGKILL");
    }
    const result = await coordinator.output;
    if (result.code !== 0) throw new Error(`run failed: ${result.stderr}`);
  } finally {
    await Promise.all([coordinator, ...workers].map(reap));
  }
  const summary = JSON.parse(await Deno.readTextFile(`${folder}/summary.json`));
  return {
    accuracy: summary.final.testAccuracy as number,
    rewindTo: summary.membership?.[0]?.step as number | undefined,
    seconds: summary.wallTimeMs / 1000,
  };
}

const rows: string[][] = [];
const parent = await Deno.makeTempDir({ prefix: "gossamer_elastic_" });
try {
  for (const [name, pipeline] of Object.entries(FAMILIES)) {
    if (values.only !== undefined && !name.includes(values.only)) continue;
    const planFile = `${parent}/${rows.length}.json`;
    await Deno.writeTextFile(planFile, JSON.stringify(pipeline().compile()));
    const whole = await oneRun(planFile, `${parent}/${rows.length}-whole`, null);
    // Four step lines a step (and a few evaluation lines): about the middle of the run.
    const lost = await oneRun(planFile, `${parent}/${rows.length}-lost`, 4 * (STEPS / 2));
    rows.push([
      name,
      `${(100 * whole.accuracy).toFixed(2)}%`,
      `${(100 * lost.accuracy).toFixed(2)}%`,
      `${(100 * (lost.accuracy - whole.accuracy)).toFixed(2)}`,
      lost.rewindTo === undefined ? "none" : String(lost.rewindTo + 1),
      `${whole.seconds.toFixed(1)} / ${lost.seconds.toFixed(1)}`,
    ]);
    console.error(`${name} done`);
  }
} finally {
  await Deno.remove(parent, { recursive: true });
}
console.log(
  `MNIST MLP [64], 4 worker processes over TCP, ${STEPS} steps; worker 2 SIGKILLed at step ~${
    STEPS / 2
  }; load ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}\n`,
);
console.log(table(
  [
    "family",
    "accuracy, 4 throughout",
    "accuracy, 1 lost",
    "difference (points)",
    "survivors went on from step",
    "wall s (whole / lost)",
  ],
  rows,
));
