/**
 * Small pure helpers over flat float32 vectors shared by the algorithms. Arithmetic runs in
 * float64 (JavaScript numbers) and is rounded to float32 once, when stored.
 *
 * @module
 */

/**
 * `x − lr · dir`, a fresh vector.
 *
 * @param x The model.
 * @param lr The learning rate `γ_k`.
 * @param dir The direction.
 * @returns The moved model.
 */
export function moved(x: Float32Array, lr: number, dir: Float32Array): Float32Array {
  checkSameLength(x, dir, "direction");
  const out = new Float32Array(x.length);
  for (let t = 0; t < x.length; t++) out[t] = x[t]! - lr * dir[t]!;
  return out;
}

/**
 * `x −= lr · dir`, in place: for bases whose model vector is private to them.
 *
 * @param x The model, updated.
 * @param lr The learning rate `γ_k`.
 * @param dir The direction.
 */
export function moveInPlace(x: Float32Array, lr: number, dir: Float32Array): void {
  checkSameLength(x, dir, "direction");
  for (let t = 0; t < x.length; t++) x[t] = x[t]! - lr * dir[t]!;
}

/**
 * Throws unless two vectors have the same length.
 *
 * @param a The reference vector.
 * @param b The vector checked against it.
 * @param what What `b` is, for the message.
 * @throws {RangeError} When the lengths differ.
 */
export function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) {
    throw new RangeError(
      `Length mismatch: ${what} has ${b.length} values but the model has ${a.length}`,
    );
  }
}

/**
 * Whether step `k` ends a period of `tau` steps: `(k + 1) mod tau == 0`.
 *
 * @param k The step, from 0.
 * @param tau The period.
 * @returns True after steps `tau − 1`, `2 tau − 1`, ….
 */
export function endsPeriod(k: number, tau: number): boolean {
  return (k + 1) % tau === 0;
}
