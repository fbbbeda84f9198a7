/**
 * Plans as a shared plan.json holds them, for the attacks on plan loading: written out by hand
 * (not compiled from the DSL) because the attacks put in them what the DSL would never write.
 *
 * @module
 */

/** Every field of a small two-worker plan but its model and data. */
export const PLAN_REST = {
  workers: 2,
  optimizer: {
    kind: "sgd",
    lr: { kind: "constant", lr: 0.1 },
    momentum: 0,
    nesterov: false,
    weightDecay: 0,
  },
  base: { kind: "allReduce" },
  compress: null,
  outer: null,
  network: null,
  steps: 2,
  evalEvery: 1,
  seed: 0,
} as const;

/**
 * A small valid plan whose model is the custom module `module`, trained on synthetic data.
 *
 * @param module The model's module, as the plan writes it.
 * @returns The plan as JSON data.
 */
export function customModulePlan(module: string): Record<string, unknown> {
  return {
    version: 1,
    model: { kind: "custom", module, export: "default" },
    data: {
      kind: "synthetic",
      task: "classification",
      features: 4,
      classes: 2,
      trainSize: 64,
      testSize: 16,
      batchSize: 8,
      heterogeneity: 0,
      noise: 0.05,
      seed: null,
    },
    ...PLAN_REST,
  };
}
