/**
 * `chocoGossip(topology, { gamma })`: CHOCO-SGD, compressed gossip (docs/algorithms.md §1.9).
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { period } from "../../topologies/mod.ts";
import { resolveTopology } from "../../topologies/resolve_topology.ts";
import type { TopologyInput, TopologyNode } from "../../topologies/types.ts";
import { topology } from "../fields.ts";
import {
  type BaseDefinition,
  buildNode,
  type NodeIssue,
  onTopology,
  type OptionNames,
  type PlanFacts,
} from "../kind.ts";
import { FLOAT_BYTES } from "../wire_bytes.ts";
import { meanOutDegree } from "./_neighbours.ts";

/** CHOCO-SGD: gossip of compressed differences to public copies of the models. */
export interface ChocoGossipNode {
  /** Node kind, named after the DSL factory `chocoGossip()`. */
  readonly kind: "chocoGossip";
  /** Mixing graph; doubly stochastic, connected and the same at every step. */
  readonly topology: TopologyNode;
  /** Consensus step size `gamma` in `(0, 1]`. */
  readonly gamma: number;
}

/** Options of {@linkcode chocoGossip}. */
export interface ChocoGossipOptions {
  /**
   * Consensus step size `gamma` in `(0, 1]`, required: the paper tunes it per compressor and
   * graph (the stable range shrinks with the compression), so no default fits every plan.
   * `1` with no compressor is adapt-then-combine gossip.
   */
  readonly gamma: number;
}

const OPTIONS: OptionNames<ChocoGossipOptions> = { gamma: true };

/**
 * CHOCO-SGD (Koloskova, Stich, Jaggi, "Decentralized stochastic optimization and gossip
 * algorithms with compressed communication", ICML 2019): every worker keeps public copies `x̂_j`
 * of itself and its in-neighbours. Per step `x_i ← x_i − γ_k dir_i`; `q_i = C(x_i − x̂_i)`, the
 * plan's compressor (codec only: the public copy is the memory, no error feedback), sent to every
 * out-neighbour; `x̂_j += q_j`; `x_i ← x_i + gamma Σ_j W_ij (x̂_j − x̂_i)`. Without a compressor
 * `q_i` is sent as float32, and with `gamma: 1` this is adapt-then-combine gossip.
 *
 * @param topology A fixed topology node or bare factory: `chocoGossip(ring, { gamma: 0.5 })`.
 * @param options The consensus step size `gamma` (required).
 * @returns A `chocoGossip` base node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chocoGossip } from "./choco_gossip.ts";
 * import { ring } from "../../topologies/mod.ts";
 * assert.ok(chocoGossip(ring, { gamma: 0.5 }).gamma === 0.5);
 * ```
 */
export function chocoGossip(
  topology: TopologyInput,
  options: ChocoGossipOptions,
): ChocoGossipNode {
  return buildNode(
    { kind: "chocoGossip", topology: resolveTopology(topology), gamma: options.gamma },
    options,
    OPTIONS,
  );
}

/**
 * A worker keeps public copies of its in-neighbours, updated only by what they send it: a graph
 * whose neighbours change from step to step (period > 1) would leave copies stale, so it is
 * refused rather than silently mixing out-of-date models.
 */
function fixedTopology(node: ChocoGossipNode, plan: PlanFacts): NodeIssue[] {
  let steps: number;
  try {
    steps = period(node.topology, plan.workers);
  } catch {
    return []; // a topology that does not fit the workers is reported by the topology rules
  }
  if (steps === 1) return [];
  return [{
    path: "topology",
    message: `chocoGossip keeps public copies of its in-neighbours' models, so its neighbours ` +
      `must be the same at every step, but ${node.topology.kind} changes them (period ${steps} ` +
      `on ${plan.workers} workers); use a fixed graph such as ring, torus or exponential`,
    expected: "a topology whose matrix is the same at every step",
    received: node.topology.kind,
  }];
}

/** Everything the plan layer knows about `chocoGossip`. */
export const chocoGossipKind: BaseDefinition<ChocoGossipNode, false> = {
  schema: v.strictObject({
    kind: v.literal("chocoGossip"),
    topology,
    gamma: v.pipe(
      v.number(),
      v.finite("must be a finite number"),
      v.gtValue(0, "must be greater than 0"),
      v.maxValue(1, "must be at most 1"),
    ),
  }),
  form: { ...onTopology(chocoGossip), required: ["topology", "gamma"] },
  topology: "doublyStochastic",
  decentralized: true,
  ownsMomentum: false,
  plainSgd: null,
  acceptsOuter: true,
  compresses: "publicDifference",
  dividesByLr: () => null,
  // Even on a complete graph workers agree only up to their compressed differences.
  syncPeriod: () => null,
  // One code per out-neighbour: float32 values without a compressor, else the codec's bytes.
  traffic: (node, { d, n, compressedCode }) => {
    const degree = meanOutDegree(node.topology, n);
    return compressedCode === null
      ? { base: degree * d * FLOAT_BYTES, compressed: 0 }
      : { base: 0, compressed: degree * compressedCode };
  },
  check: fixedTopology,
};
