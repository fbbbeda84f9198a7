/**
 * Communication topologies for decentralized training: who exchanges models with whom, and with
 * which weights.
 *
 * A topology is a plain frozen node (`ring()`, `torus({ rows: 4, cols: 4 })`, `fromFile(path)`);
 * everything else is a pure function of `(topology, n, rank, step)`: {@linkcode mixingMatrix},
 * {@linkcode pushSumMatrix}, {@linkcode neighbors}, {@linkcode period}, spectral gaps, checks and
 * an SVG drawing. Matrices use the receiver convention: row `i` holds what rank `i` takes from
 * rank `j`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mixingMatrix, neighbors, ring, topologyProblems } from "./mod.ts";
 *
 * assert.deepEqual(topologyProblems(ring(), 8), []);
 * assert.deepEqual(neighbors(ring(), 8, 0).receiveFrom.map((p) => p.rank), [1, 7]);
 * assert.equal(mixingMatrix(ring(), 8)[0]![0], 1 / 3);
 * ```
 *
 * @module
 */

export type {
  CompleteTopology,
  CustomTopology,
  ExponentialTopology,
  OnePeerExponentialTopology,
  RingTopology,
  StarTopology,
  TopologyInput,
  TopologyKind,
  TopologyNode,
  TorusTopology,
} from "./types.ts";
export { ring, ringWeights } from "./ring.ts";
export { torus, type TorusOptions, torusShape, torusWeights } from "./torus.ts";
export { exponential, exponentialWeights } from "./exponential.ts";
export {
  onePeerExponential,
  onePeerExponentialPeriod,
  onePeerExponentialWeights,
} from "./one_peer_exponential.ts";
export { complete, completeWeights } from "./complete.ts";
export { star, type StarOptions, starWeights } from "./star.ts";
export {
  customTopology,
  type CustomTopologyOptions,
  fromFile,
  TopologyFileError,
} from "./custom.ts";
export { resolveTopology } from "./resolve_topology.ts";
export { topologyName } from "./topology_name.ts";
export {
  mixingMatrix,
  type Neighbors,
  neighbors,
  type Peer,
  period,
  pushSumMatrix,
  topologyGap,
} from "./mixing.ts";
export { spectralGap } from "./spectral_gap.ts";
export {
  isColumnStochastic,
  isDoublyStochastic,
  isRowStochastic,
  isStronglyConnected,
  type Matrix,
} from "./matrix.ts";
export { topologyProblems, type TopologyProblemsOptions } from "./topology_problems.ts";
export { describeTopology, type TopologyDescription } from "./describe_topology.ts";
export { topologySvg } from "./svg.ts";
