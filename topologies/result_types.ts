/**
 * Shapes that the topology functions take and return (the plan nodes themselves are in
 * `types.ts`).
 *
 * They live apart from the functions on purpose: `deno test --doc` imports every export of a file
 * into each of that file's examples, and with `noUnusedLocals` on, an interface exported next to a
 * function would be an unused import in the function's example.
 *
 * @module
 */

/**
 * A read-only square matrix of weights, `matrix[i][j]` being row `i`, column `j`. Mixing matrices
 * use the receiver convention: row `i` is what rank `i` takes from rank `j`, so `W[i][j] > 0`
 * means `j` sends to `i`.
 */
export type Matrix = readonly (readonly number[])[];

/** A peer rank and the mixing weight applied to what travels between it and the asking rank. */
export interface Peer {
  /** The other rank. */
  readonly rank: number;
  /** The mixing weight, always the one the receiver applies. */
  readonly weight: number;
}

/** What one rank exchanges at one step, as returned by `neighbors`. */
export interface Neighbors {
  /** `W[rank][rank]`: the share of its own model a rank keeps. */
  readonly selfWeight: number;
  /** Ranks `j ≠ rank` with `W[rank][j] > 0`, weight `W[rank][j]`, sorted by rank. */
  readonly receiveFrom: readonly Peer[];
  /** Ranks `j ≠ rank` with `W[j][rank] > 0`, weight `W[j][rank]`, sorted by rank. */
  readonly sendTo: readonly Peer[];
}

/** A summary of a topology on `n` workers at one step, as returned by `describeTopology`. */
export interface TopologyDescription {
  /** Short label, see `topologyName`. */
  readonly name: string;
  /** Number of workers. */
  readonly n: number;
  /** The step the matrix belongs to. */
  readonly step: number;
  /** Steps before the matrices repeat. */
  readonly period: number;
  /**
   * Whether `W` is not symmetric: some rank receives from a rank it does not send to, or with
   * another weight.
   */
  readonly directed: boolean;
  /** Smallest and largest in-degree, not counting self. */
  readonly degree: { readonly min: number; readonly max: number };
  /** `1 − ‖W − 11ᵀ/n‖₂`. */
  readonly spectralGap: number;
  /** The mixing matrix at `step`. */
  readonly matrix: number[][];
  /** What a user should know about this shape, e.g. a torus that degenerates into a ring. */
  readonly notes: readonly string[];
}

/**
 * A topology preset, the JSON file `fromFile` and `fetchPreset` load and `topologyPreset`
 * writes (schema: docs/topology_preset.schema.json).
 */
export interface TopologyPreset {
  /** The JSON Schema the file follows, for editors; not read. */
  readonly $schema?: string;
  /** The custom topology's name (default: the file name). */
  readonly name?: string;
  /** For people reading the file; not kept. */
  readonly description?: string;
  /**
   * One n×n matrix (a static graph), or a list of them used in turn, matrix `step mod length`
   * at step `step`. Receiver convention: row `i` is what rank `i` takes from rank `j`.
   */
  readonly weights: Matrix | readonly Matrix[];
}
