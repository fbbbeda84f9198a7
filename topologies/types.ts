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
  /** Node kind, named after the factory `ring()`. */
  readonly kind: "ring";
}

/**
 * 2-D torus: self and four wrapped neighbours, 1/5 each; coincident neighbours are merged by
 * adding their weights. `rows`/`cols` of `null` mean "the most square factorisation of n".
 */
export interface TorusTopology {
  /** Node kind, named after the factory `torus()`. */
  readonly kind: "torus";
  /** Rows of the grid; `null` means `n / cols`, or the most square grid when both are `null`. */
  readonly rows: number | null;
  /** Columns of the grid; `null` means `n / rows`, or the most square grid when both are `null`. */
  readonly cols: number | null;
}

/** Static exponential graph: i receives from i − 2^e (mod n), e = 0..⌈log2 n⌉−1. */
export interface ExponentialTopology {
  /** Node kind, named after the factory `exponential()`. */
  readonly kind: "exponential";
}

/** Time-varying one-peer exponential graph: at step k, i averages with i − 2^(k mod ⌈log2 n⌉). */
export interface OnePeerExponentialTopology {
  /** Node kind, named after the factory `onePeerExponential()`. */
  readonly kind: "onePeerExponential";
}

/** Complete graph: exact averaging, W = 11ᵀ/n. */
export interface CompleteTopology {
  /** Node kind, named after the factory `complete()`. */
  readonly kind: "complete";
}

/** Star around a hub rank (parameter-server shape), Metropolis–Hastings weights. */
export interface StarTopology {
  /** Node kind, named after the factory `star()`. */
  readonly kind: "star";
  /** Rank of the hub; must be one of the workers. */
  readonly hub: number;
}

/**
 * A topology given by explicit mixing matrices (receiver convention: row i is what i takes from
 * j), usually loaded from a shareable preset file. One matrix is a static graph; several are
 * used in turn, matrix `step mod length` at step `step`.
 */
export interface CustomTopology {
  /** Node kind; built by `customTopology()` or `fromFile()`. */
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
