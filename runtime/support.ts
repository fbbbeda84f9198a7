/**
 * What this runtime can execute. Every node kind of every slot has an entry, enforced by the
 * compiler through mapped types over the plan unions, so a new node cannot be added to the DSL
 * without deciding here whether it runs. The runtime refuses a plan with any unsupported node,
 * with a message naming it, rather than ignoring the node.
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

/** `true` when the runtime implements a node kind, else the reason it does not yet. */
type SupportTable<K extends string> = Record<K, true | string>;

const NOT_YET = "not implemented by this runtime yet";

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
  model: { linear: NOT_YET, logistic: NOT_YET, mlp: NOT_YET, cnn: NOT_YET, custom: NOT_YET },
  data: { mnist: NOT_YET, synthetic: NOT_YET, leastSquares: NOT_YET },
  optimizer: { sgd: NOT_YET, adam: NOT_YET },
  base: {
    allReduce: NOT_YET,
    localSgd: NOT_YET,
    gossip: NOT_YET,
    sgp: NOT_YET,
    dmSgd: NOT_YET,
    decentLaM: NOT_YET,
    overlapLocalSgd: NOT_YET,
    cada: NOT_YET,
  },
  compress: { qsgd: NOT_YET, dqSgd: NOT_YET, sketchedSgd: NOT_YET, topK: NOT_YET },
  outer: { slowMo: NOT_YET, bmuf: NOT_YET },
  network: { network: NOT_YET },
};

/**
 * Lists the nodes of a plan that this runtime cannot execute.
 *
 * @param plan A valid plan.
 * @returns One line per unsupported node: `slot kind: reason`.
 * @example
 * ```ts
 * import { unsupportedNodes } from "./support.ts";
 * import { allReduce, linear, sgd, synthetic, train } from "../mod.ts";
 * const plan = train(linear({ dim: 4 })).data(synthetic({ task: "regression", features: 4 }))
 *   .optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile();
 * console.assert(Array.isArray(unsupportedNodes(plan)));
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
