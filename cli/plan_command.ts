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
import { elasticRunProblem } from "../runtime/worker/membership.ts";

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
      ? "Model: size known once the data file or model module is loaded"
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
    lines.push(
      problem === null
        ? "  Runs with --transport memory (either clock), its declared failures as scheduled; its checkpoints record the live workers, and a resumed run continues the schedule."
        : `  Not run yet: ${problem}.`,
    );
    // Over TCP, failures are real: what the plan does with them, its declared ones aside.
    const real = plan.network === null
      ? plan
      : { ...plan, network: { ...plan.network, failures: [] } };
    const overTcp = elasticRunProblem(real, "tcp");
    lines.push(
      overTcp === null
        ? "  Over TCP: a worker that dies or is cut off leaves, the survivors redo the step in flight without it, and a restarted one joins again; checkpoints record the members, and a resumed run goes on without the workers lost before its checkpoint."
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
  const explanation = explainPlan(plan);
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
  console.log(renderExplanation(input, plan, explanation, prediction));
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
