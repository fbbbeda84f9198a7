/**
 * Parameters of dense layers, shared by the models that end in them.
 *
 * @module
 */

/**
 * The variables of dense layers `widths[0] → widths[1] → …` in the model's order: each layer's
 * kernel, then its bias (TensorFlow.js's weight order).
 *
 * @param widths Layer widths, input first.
 * @returns The variables' sizes.
 */
export function denseVariables(widths: readonly number[]): number[] {
  const sizes: number[] = [];
  for (let i = 1; i < widths.length; i++) {
    sizes.push((widths[i - 1] ?? 0) * (widths[i] ?? 0), widths[i] ?? 0);
  }
  return sizes;
}

/**
 * Parameters of dense layers `widths[0] → widths[1] → …`, with biases.
 *
 * @param widths Layer widths, input first.
 * @returns Weights and biases in all.
 */
export function denseParameters(widths: readonly number[]): number {
  let total = 0;
  for (let i = 1; i < widths.length; i++) {
    total += (widths[i - 1] ?? 0) * (widths[i] ?? 0) + (widths[i] ?? 0);
  }
  return total;
}
