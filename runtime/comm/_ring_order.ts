/**
 * For tests: the ring all-reduce's summation order written out independently of `_ring.ts`, the
 * expectation the collectives' sums are checked against bit for bit.
 *
 * @module
 */

/**
 * The element-wise sum of `inputs` in the ring's order: chunk `c` of `n`, spanning
 * `[⌊c·d/n⌋, ⌊(c+1)·d/n⌋)`, is summed from input `c` on, `((v_c + v_{c+1}) + …) + v_{c−1}`, each
 * addition rounded to float32.
 *
 * @param inputs One vector per rank, all of one length.
 * @returns The sums.
 */
export function ringOrderSum(inputs: readonly Float32Array[]): Float32Array {
  const n = inputs.length;
  const d = inputs[0]!.length;
  const out = new Float32Array(d);
  for (let c = 0; c < n; c++) {
    for (let i = Math.floor(c * d / n); i < Math.floor((c + 1) * d / n); i++) {
      let sum = inputs[c]![i]!;
      for (let k = 1; k < n; k++) sum = Math.fround(sum + inputs[(c + k) % n]![i]!);
      out[i] = sum;
    }
  }
  return out;
}
