/**
 * Communication topologies for decentralized training: who exchanges models with whom, and with
 * which weights.
 *
 * A topology is a plain frozen node: `ring()`, `torus({ rows: 4, cols: 4 })`, `exponential()`,
 * `onePeerExponential()`, `complete()`, `star({ hub })`, or a custom one from a preset
 * (`fromFile(path)`, `await fetchPreset(url)`; `topologyPreset` writes any topology as one).
 * Factories also work bare (`gossip(ring)`), see `resolveTopology`. Everything else is a pure
 * function of `(topology, n, rank, step)`: `mixingMatrix`, `pushSumMatrix`, `neighbors`,
 * `period`, spectral gaps, `topologyProblems`, `describeTopology` and `topologySvg`;
 * `topologyOver` re-forms a topology over the workers that remain in an elastic run. Matrices use
 * the receiver convention: row `i` holds what rank `i` takes from rank `j`, so `W[i][j] > 0` means
 * `j` sends to `i`. The weights follow docs/algorithms.md §1.8.
 *
 * Every public file exports a single function or class (types live in `types.ts` and
 * `result_types.ts`): `deno test --doc` imports all of a file's exports into each of its examples,
 * and with `noUnusedLocals` on, a second export would be an unused import there.
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
export type {
  Matrix,
  Neighbors,
  Peer,
  TopologyDescription,
  TopologyPreset,
} from "./result_types.ts";
export { ring } from "./ring.ts";
export { torus, type TorusOptions } from "./torus.ts";
export { torusShape } from "./torus_shape.ts";
export { exponential } from "./exponential.ts";
export { onePeerExponential } from "./one_peer_exponential.ts";
export { complete } from "./complete.ts";
export { star, type StarOptions } from "./star.ts";
export { customTopology } from "./custom_topology.ts";
export { fromFile } from "./from_file.ts";
export { fetchPreset } from "./fetch_preset.ts";
export { topologyPreset } from "./topology_preset.ts";
export { TopologyFileError } from "./topology_file_error.ts";
export { resolveTopology } from "./resolve_topology.ts";
export { topologyName } from "./topology_name.ts";
export { mixingMatrix } from "./mixing_matrix.ts";
export { pushSumMatrix } from "./push_sum_matrix.ts";
export { neighbors } from "./neighbors.ts";
export { period } from "./period.ts";
export { spectralGap } from "./spectral_gap.ts";
export { topologyGap } from "./topology_gap.ts";
export { isColumnStochastic, isDoublyStochastic, isRowStochastic } from "./stochastic.ts";
export { isStronglyConnected } from "./is_strongly_connected.ts";
export { topologyProblems } from "./topology_problems.ts";
export { describeTopology, topologyNotes } from "./describe_topology.ts";
export { topologySvg } from "./topology_svg.ts";
export { topologyOver } from "./topology_over.ts";
