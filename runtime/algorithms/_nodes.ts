/**
 * Narrowing of the plan's slot nodes for the algorithm factories: each factory is registered
 * under one `kind`, and this checks that the plan it receives really holds that kind.
 *
 * @module
 */

import type { BaseKind, BaseNode, OuterKind, OuterNode, Plan } from "../../dsl/plan.ts";

/**
 * The plan's base node, narrowed to `kind`.
 *
 * @param plan The plan.
 * @param kind The kind the calling factory implements.
 * @returns The base node.
 * @throws {TypeError} When the plan's base is another kind.
 */
export function baseNodeOf<K extends BaseKind>(
  plan: Plan,
  kind: K,
): Extract<BaseNode, { kind: K }> {
  if (plan.base.kind !== kind) {
    throw new TypeError(
      `Cannot create base "${kind}": the plan's base is "${plan.base.kind}"`,
    );
  }
  return plan.base as Extract<BaseNode, { kind: K }>;
}

/**
 * The plan's outer node, narrowed to `kind`.
 *
 * @param plan The plan.
 * @param kind The kind the calling factory implements.
 * @returns The outer node.
 * @throws {TypeError} When the plan has no outer algorithm or another kind.
 */
export function outerNodeOf<K extends OuterKind>(
  plan: Plan,
  kind: K,
): Extract<OuterNode, { kind: K }> {
  const found = plan.outer?.kind ?? "none";
  if (found !== kind) {
    throw new TypeError(`Cannot create outer "${kind}": the plan's outer is "${found}"`);
  }
  return plan.outer as Extract<OuterNode, { kind: K }>;
}
