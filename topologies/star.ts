/**
 * Star topology: every rank talks only to a hub rank (the parameter-server shape).
 *
 * Weights are Metropolis–Hastings, `W_ij = 1/(1 + max(deg_i, deg_j))` on each edge and the rest
 * on the diagonal, which makes `W` symmetric and doubly stochastic for any degrees. With hub
 * degree n − 1 that is `1/n` on every spoke: the hub averages exactly, leaves keep `1 − 1/n`, and
 * the spectral gap is only `1/n` (n ≥ 3). Stars suit parameter-server algorithms better than
 * gossip.
 *
 * @module
 */

import type { StarTopology } from "./types.ts";
import { isIntegerAtLeast } from "./_args.ts";
import { type OptionNames, unknownOptions, withProblems } from "../strict_options.ts";

/** Options of {@linkcode star}. */
export interface StarOptions {
  /** Rank of the hub (default 0). */
  readonly hub?: number;
}

const OPTIONS: OptionNames<StarOptions> = { hub: true };

/**
 * Creates a star topology node around `hub` (default rank 0). Whether the hub is one of the
 * workers is checked later, against `n`, by `topologyProblems` and `mixingMatrix`. An option it
 * does not know is reported when the plan compiles, with the one it probably meant.
 *
 * @param options The hub rank, default 0.
 * @returns A frozen `{ kind: "star", hub }` node.
 * @throws {RangeError} When `hub` is not a non-negative integer.
 *
 * @example Four ranks around hub 0
 * ```ts
 * import assert from "node:assert/strict";
 * import { mixingMatrix, star } from "./mod.ts";
 *
 * assert.deepEqual(star(), { kind: "star", hub: 0 });
 * const w = mixingMatrix(star({ hub: 0 }), 4);
 * assert.deepEqual(w[0], [0.25, 0.25, 0.25, 0.25]);
 * assert.deepEqual(w[1], [0.25, 0.75, 0, 0]);
 * ```
 */
export function star(options: StarOptions = {}): StarTopology {
  const hub = options.hub ?? 0;
  if (!isIntegerAtLeast(hub, 0)) {
    throw new RangeError(`Cannot create star: hub "${hub}" is not a non-negative integer`);
  }
  return Object.freeze(
    withProblems({ kind: "star", hub } as const, unknownOptions(options, OPTIONS)),
  );
}
