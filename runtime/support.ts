/**
 * What this runtime can execute. Every node kind of every slot has an entry, enforced by the
 * compiler through mapped types over the plan unions, so a new node cannot be added to the DSL
 * without deciding here whether it runs. Bases, compressors and outer algorithms come from the
 * algorithm and compressor registries, so this table cannot drift from what is implemented. The
 * runtime refuses a plan with any unsupported node, with a message naming it, rather than
 * ignoring the node.
 *
 * @module
 */

import type {
  BaseKind,
  CompressorKind,
  DataKind,
  ModelKind,
  OptimizerKind,
  OuterKind,
  Plan,
} from "../dsl/plan.ts";
import { BASES, OUTERS } from "./algorithms/registry.ts";
import { CHANNELS } from "./compressors/registry.ts";

/** `true` when the runtime implements a node kind, else the reason it does not yet. */
type SupportTable<K extends string> = Readonly<Record<K, true | string>>;

/**
 * Support derived from a registry: every kind it has a factory for runs (a registry's type
 * requires one for every kind of its slot).
 *
 * @param registry Factories by kind.
 * @returns `true` by kind.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRegistry } from "./support.ts";
 *
 * assert.deepEqual(fromRegistry({ ready: () => 1, also: () => 2 }), { ready: true, also: true });
 * ```
 */
export function fromRegistry<K extends string>(
  registry: Readonly<Record<K, unknown>>,
): SupportTable<K> {
  const kinds = Object.keys(registry);
  return Object.fromEntries(kinds.map((kind) => [kind, true])) as Record<K, true>;
}

/** Support of each slot's kinds. */
export const SUPPORT: {
  readonly model: SupportTable<ModelKind>;
  readonly data: SupportTable<DataKind>;
  readonly optimizer: SupportTable<OptimizerKind>;
  readonly base: SupportTable<BaseKind>;
  readonly compress: SupportTable<CompressorKind>;
  readonly outer: SupportTable<OuterKind>;
  readonly network: SupportTable<"network">;
} = {
  model: { linear: true, logistic: true, mlp: true, cnn: true, transformer: true, custom: true },
  data: { mnist: true, synthetic: true, leastSquares: true, tensors: true, text: true },
  optimizer: { sgd: true, adam: true, adamw: true },
  base: fromRegistry(BASES),
  compress: fromRegistry(CHANNELS),
  outer: fromRegistry(OUTERS),
  network: { network: true },
};

/**
 * Lists the nodes of a plan that this runtime cannot execute.
 *
 * @param plan A valid plan.
 * @returns One line per unsupported node: `slot kind: reason`.
 * @example Every node of this plan runs
 * ```ts
 * import assert from "node:assert/strict";
 * import { unsupportedNodes } from "./support.ts";
 * import { allReduce, linear, qsgd, sgd, synthetic, train } from "../mod.ts";
 * const plan = train(linear({ dim: 4 })).data(synthetic({ task: "regression", features: 4 }))
 *   .optimizer(sgd({ lr: 0.1 })).base(allReduce()).compress(qsgd()).compile();
 * assert.deepEqual(unsupportedNodes(plan), []);
 * ```
 */
export function unsupportedNodes(plan: Plan): string[] {
  const nodes: [keyof typeof SUPPORT, string, true | string][] = [
    ["model", plan.model.kind, SUPPORT.model[plan.model.kind]],
    ["data", plan.data.kind, SUPPORT.data[plan.data.kind]],
    ["optimizer", plan.optimizer.kind, SUPPORT.optimizer[plan.optimizer.kind]],
    ["base", plan.base.kind, SUPPORT.base[plan.base.kind]],
  ];
  if (plan.compress !== null) {
    nodes.push(["compress", plan.compress.kind, SUPPORT.compress[plan.compress.kind]]);
  }
  if (plan.outer !== null) nodes.push(["outer", plan.outer.kind, SUPPORT.outer[plan.outer.kind]]);
  if (plan.network !== null) nodes.push(["network", "network", SUPPORT.network.network]);
  return nodes.flatMap(([slot, kind, support]) =>
    support === true ? [] : [`${slot} ${kind}: ${support}`]
  );
}
