/**
 * The same expectations as `cada_logistic`, on the MLP: communication-adaptive Adam reaches the
 * same training loss as distributed Adam with fewer uploads, skipping a large share of them
 * (Chen et al. 2021).
 *
 * @module
 */
export { default } from "../cada_logistic/expect.ts";
