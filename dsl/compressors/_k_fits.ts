/**
 * The check the sparsifying compressors share: they keep `k` coordinates, so `k` must not exceed
 * the model's parameters.
 *
 * @module
 */

import type { NodeIssue, PlanFacts } from "../kind.ts";

/**
 * `k` against the model's parameters, when they are known.
 *
 * @param node A compressor node with a `k`.
 * @param plan The plan's facts.
 * @returns An issue at `k`, or none.
 */
export function kFitsModel(
  node: { readonly kind: string; readonly k: number },
  { parameters }: PlanFacts,
): NodeIssue[] {
  return parameters === null || node.k <= parameters ? [] : [{
    path: "k",
    message: `${node.kind} k ${node.k} is larger than the model's ${parameters} parameters`,
    expected: `at most ${parameters}`,
    received: node.k,
  }];
}
