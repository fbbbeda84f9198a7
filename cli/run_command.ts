/**
 * `gossamer run <pipeline.ts|plan.json>`: runs a plan. The runtime refuses, with the nodes
 * named, any plan holding a node it cannot execute yet, rather than running something else.
 *
 * @module
 */

import { loadPlan } from "../runtime/load_plan.ts";
import { unsupportedNodes } from "../runtime/support.ts";
import { CliInputError } from "./errors.ts";

/**
 * Runs `gossamer run`.
 *
 * @param input A pipeline module or plan JSON file.
 * @throws {CliInputError} When the plan holds nodes this runtime cannot execute.
 */
export async function runCommand(input: string): Promise<void> {
  const plan = await loadPlan(input);
  const unsupported = unsupportedNodes(plan);
  if (unsupported.length > 0) {
    throw new CliInputError(
      `Cannot run "${input}": this runtime cannot execute ${
        unsupported.length === 1 ? "this node" : "these nodes"
      }\n${unsupported.map((line) => `  ${line}`).join("\n")}`,
    );
  }
  throw new CliInputError(`Cannot run "${input}": no training loop in this version`);
}
