/**
 * `gossamer plan <pipeline.ts|plan.json> [--json]`: validates a plan, prints it and explains it.
 *
 * @module
 */

import { explainPlan, type PlanExplanation } from "../dsl/explain.ts";
import type { Plan } from "../dsl/plan.ts";
import { loadPlan } from "../runtime/load_plan.ts";
import { remoteModules } from "./run_command.ts";
import { predictStepTime, type StepTimePrediction } from "../runtime/coordinator/predict_time.ts";
import { PHASES, totalBytes } from "../dsl/traffic.ts";
import { formatBytes, table } from "../report/format.ts";
import { planExpression } from "../dsl/expression.ts";
import { estimateMemory } from "../runtime/memory_estimate.ts";
import { relativeFileRefs } from "../runtime/coordinator/run_folder.ts";
import { elasticCheckpointProblem, elasticRunProblem } from "../runtime/worker/membership.ts";
import { messageOf } from "../runtime/errors.ts";

/**
 * Renders the human-readable explanation of a plan.
 *
 * @param source Where the plan came from.
 * @param plan The plan.
 * @param explanation Its explanation.
 * @returns Text for the terminal.
 */
export function renderExplanation(
  source: string,
  plan: Plan,
  explanation: PlanExplanation,
  prediction: StepTimePrediction | null = null,
): string {
  const lines = [`Plan ${source} is valid (plan version ${plan.version})`, "", "Pipeline"];
  const slotWidth = Math.max(...explanation.chain.map((entry) => entry.slot.length));
  for (const entry of explanation.chain) {
    lines.push(`  ${entry.slot.padEnd(slotWidth)}  ${entry.label}`);
  }
  lines.push(
    `  steps ${plan.steps}, evaluation every ${plan.evalEvery} steps, seed ${plan.seed}`,
    "",
  );
  const d = explanation.parameters;
  lines.push(
    d === null
      ? MODEL_UNKNOWN
      : `Model: ${d.toLocaleString("en-US")} parameters (${formatBytes(4 * d)} as float32)`,
  );
  lines.push(`Synchronisation: ${explanation.synchronisation}`);
  const elastic = explanation.elastic;
  if (elastic !== undefined) {
    lines.push(
      elastic.summary,
      `  ${elastic.reaction}`,
    );
    // What `gossamer run --transport memory` would do with it (declared failures run there only).
    const problem = elasticRunProblem(plan, "memory");
    const checkpoints = elasticCheckpointProblem(plan, true) === null
      ? "its checkpoints record the live workers, and a resumed run continues the schedule"
      : "without checkpoints (workers that join again cannot be checkpointed yet)";
    lines.push(
      problem === null
        ? `  Runs with --transport memory (either clock), its declared failures as scheduled; ${checkpoints}.`
        : `  Not run yet: ${problem}.`,
    );
    // Over TCP, failures are real: what the plan does with them, its declared ones aside.
    const real = plan.network === null
      ? plan
      : { ...plan, network: { ...plan.network, failures: [] } };
    const overTcp = elasticRunProblem(real, "tcp");
    // A collective in flight across steps is redone from the step that started it.
    const inFlight = plan.base.kind === "overlapLocalSgd"
      ? "the step that launched the overlapLocalSgd all-reduce still in flight"
      : plan.outer?.kind === "streamingDiloco"
      ? "the step that started the streamingDiloco sync still in flight"
      : null;
    const redo = inFlight === null
      ? "the survivors redo the step in flight without it"
      : `the survivors go back to ${inFlight} and redo from there without it`;
    lines.push(
      overTcp === null
        ? `  Over TCP: a worker that dies or is cut off leaves, ${redo}, and a restarted one joins again; checkpoints record the members, and a resumed run goes on without the workers lost before its checkpoint.`
        : `  Over TCP, not run yet: ${overTcp}.`,
    );
    for (const failure of elastic.failures) lines.push(`  Declared failure: ${failure}`);
    const spans = elastic.membership;
    if (spans.length > 1 && spans.length <= 8 && plan.workers <= 16) {
      const text = spans.map((span) =>
        `steps ${span.from}–${span.to}: ${span.live.length} (${span.live.join(", ")})`
      );
      lines.push(`  Live workers: ${text.join("; ")}`);
    } else if (spans.length > 1) {
      // Many workers or many changes: the counts, not the ranks.
      lines.push(
        `  Live workers: ${spans[0]!.live.length} from step 1, ${spans[1]!.live.length} from step ${
          spans[1]!.from
        }, ${spans.at(-1)!.live.length} at the end ` +
          `(${spans.length - 1} changes of membership)`,
      );
    }
  }
  const bytes = explanation.bytesPerStep;
  if (bytes !== null) {
    const total = totalBytes(bytes);
    const rows = PHASES.map((phase) => [
      phase,
      formatBytes(bytes[phase]),
      formatBytes(bytes[phase] * plan.steps),
    ]);
    rows.push(["total", formatBytes(total), formatBytes(total * plan.steps)]);
    lines.push(
      "",
      "Estimated bytes sent per worker (payload of the collectives, without framing)",
      table(["phase", "per step", `over ${plan.steps} steps`], rows).replace(/^/gm, "  "),
    );
    if (explanation.peakSyncBytes !== undefined) {
      lines.push(`  peak of a single outer sync: ${formatBytes(explanation.peakSyncBytes)}`);
    }
    const reference = explanation.allReduceBytesPerStep ?? 0;
    if (reference > 0) {
      lines.push(
        `  ${(total / reference).toFixed(3)}× the traffic of all-reduce SGD (${
          formatBytes(reference)
        } per step)`,
      );
    }
  }
  if (prediction !== null) {
    const compute = prediction.computeMs > 0
      ? `${prediction.computeMs} ms of it compute, as declared`
      : "communication only: declare computeMs in network() to add compute";
    lines.push(
      "",
      `Predicted on the declared network (the virtual clock's model, ${prediction.steps} steps simulated)`,
      `  ${prediction.msPerStep.toFixed(2)} ms per step (${compute}), ${
        (prediction.msPerStep * plan.steps / 1000).toFixed(2)
      } s for ${plan.steps} steps; ${
        formatBytes(prediction.bytesPerStep)
      } sent per worker per step`,
    );
    if ((plan.network?.failures ?? []).length > 0) {
      lines.push("  (the prediction does not simulate the declared failures yet)");
    }
  }
  for (const note of explanation.notes) lines.push(`Note: ${note}`);
  return lines.join("\n");
}

/** The line `renderExplanation` prints when the plan alone cannot size the model. */
const MODEL_UNKNOWN = "Model: size known once the data file or model module is loaded";

/**
 * The sizes of the model's variables, found by loading the data and building the model as a
 * worker would (on the WASM backend, the CPU one prints a banner), or why it could not be built.
 */
async function loadedVariables(
  plan: Plan,
): Promise<{ readonly variables: number[] } | { readonly problem: string }> {
  // Explaining a plan never reaches the network: a remote module is imported by runs only.
  if (plan.model.kind === "custom" && /^https?:/i.test(plan.model.module)) {
    return { problem: "gossamer plan does not fetch a remote model module" };
  }
  try {
    const { createModel } = await import("../runtime/models/create_model.ts");
    const { selectBackend } = await import("../runtime/backend.ts");
    const model = await createModel(plan, selectBackend("wasm"));
    try {
      return { variables: model.tensors.map(({ shape }) => shape.reduce((a, b) => a * b, 1)) };
    } finally {
      model.dispose();
    }
  } catch (error) {
    return { problem: messageOf(error) };
  }
}

/**
 * Runs `gossamer plan`.
 *
 * @param input A pipeline module or plan JSON file.
 * @param options `json`: print `{ plan, explanation }` as JSON instead of text;
 *   `allowRemoteModules`: accept an `http:`/`https:` custom model module.
 */
export async function planCommand(
  input: string,
  options: { json?: boolean; allowRemoteModules?: boolean },
): Promise<void> {
  const plan = await loadPlan(input, remoteModules(options));
  const planned = explainPlan(plan);
  // A custom model or data of unknown width: build the model once to know its size.
  // A custom model or data of unknown width: build the model once to know its size.
  const loaded = planned.parameters === null ? await loadedVariables(plan) : null;
  const explanation = loaded === null || "problem" in loaded ? planned : explainPlan(plan, loaded);
  // With a declared network, the time per step is predicted by simulating the plan on it.
  const prediction = plan.network === null || explanation.parameters === null
    ? null
    : await predictStepTime(plan, explanation.parameters);
  // Printed plans name their files as a plan file in the working directory would, where a saved
  // copy (`--json | jq .plan > plan.json`) usually goes: relative when in its project.
  const portable = relativeFileRefs(plan, Deno.cwd());
  if (options.json) {
    console.log(JSON.stringify({ plan: portable, explanation, prediction }, null, 2));
    return;
  }
  const text = renderExplanation(input, plan, explanation, prediction);
  console.log(
    loaded !== null && "problem" in loaded
      ? text.replace(
        MODEL_UNKNOWN,
        `Model: size unknown, the model could not be built: ${loaded.problem}`,
      )
      : text,
  );
  const memory = estimateMemory(plan);
  console.log(
    `\nMemory with every worker on one machine: about ${
      formatBytes(memory.totalBytes)
    } (${plan.workers} × ${
      formatBytes(memory.perWorkerBytes)
    } per worker thread or process, estimated)`,
  );
  console.log(`\nAs a DSL expression\n${planExpression(portable)}`);
  console.log(`\nPlan JSON\n${JSON.stringify(portable, null, 2)}`);
}
