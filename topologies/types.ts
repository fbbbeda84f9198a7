/**
 * Topology plan nodes: plain, frozen, JSON-only values describing a communication graph.
 *
 * A topology is pure data. Everything else (neighbours, mixing matrices, spectral gaps) is a
 * pure function of `(topology, n, rank, step)`, so time-varying graphs never hold mutable state.
 *
 * @module
 */

/** Undirected ring: self and the two adjacent ranks, 1/3 each (n = 2: exact averaging). */
export interface RingTopology {
  readonly kind: "ring";
}

/**
 * 2-D torus: self and four wrapped neighbours, 1/5 each; coincident neighbours are merged by
 * adding their weights. `rows`/`cols` of `null` mean "the most square factorisation of n".
 */
export interface TorusTopology {
  readonly kind: "torus";
  readonly rows: number | null;
  readonly cols: number | null;
}

/** Static exponential graph: i receives from i − 2^e (mod n), e = 0..⌈log2 n⌉−1. */
export interface ExponentialTopology {
  readonly kind: "exponential";
}

/** Time-varying one-peer exponential graph: at step k, i averages with i − 2^(k mod ⌈log2 n⌉). */
export interface OnePeerExponentialTopology {
  readonly kind: "onePeerExponential";
}

/** Complete graph: exact averaging, W = 11ᵀ/n. */
export interface CompleteTopology {
  readonly kind: "complete";
}

/** Star around a hub rank (parameter-server shape), Metropolis–Hastings weights. */
export interface StarTopology {
  readonly kind: "star";
  readonly hub: number;
}

/**
 * A topology given by explicit mixing matrices (receiver convention: row i is what i takes from
 * j), usually loaded from a shareable preset file. One matrix is a static graph; several are
 * used in turn, matrix `step mod length` at step `step`.
 */
export interface CustomTopology {
  readonly kind: "custom";
  /** Human-readable name (the preset's `name`, else the file name). */
  readonly name: string;
  /** Where the weights came from (a file path), for messages only. */
  readonly source: string;
  /** Per-step mixing matrices, each n×n. */
  readonly weights: readonly (readonly (readonly number[])[])[];
}

/** Any topology node. */
export type TopologyNode =
  | RingTopology
  | TorusTopology
  | ExponentialTopology
  | OnePeerExponentialTopology
  | CompleteTopology
  | StarTopology
  | CustomTopology;

/** The `kind` strings of all topologies. */
export type TopologyKind = TopologyNode["kind"];

/**
 * What the DSL accepts wherever a topology is expected: a node (`ring()`) or a factory that can
 * be called without arguments (`ring`), so `gossip(ring)` and `gossip(ring())` both work.
 */
export type TopologyInput = TopologyNode | (() => TopologyNode);
