/**
 * Costs of the topology functions the runtime calls every step (neighbours) and the CLI calls
 * once (mixing matrix and spectral gap, an O(n³) eigenvalue computation).
 *
 * Run: `deno task bench`
 *
 * @module
 */

import {
  exponential,
  mixingMatrix,
  neighbors,
  ring,
  spectralGap,
  torus,
} from "../topologies/mod.ts";

for (const n of [16, 64]) {
  Deno.bench(`neighbors of one rank, exponential, n = ${n}`, () => {
    neighbors(exponential(), n, 3, 7);
  });
  Deno.bench(`spectral gap of the ring, n = ${n}`, { group: `gap ${n}` }, () => {
    spectralGap(mixingMatrix(ring(), n));
  });
  Deno.bench(`spectral gap of the torus, n = ${n}`, { group: `gap ${n}` }, () => {
    spectralGap(mixingMatrix(torus(), n));
  });
}
